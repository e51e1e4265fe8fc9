//! `semaphore publish` as a drop-in for the original scripts, through the binary with stdout as the
//! sink (no broker needed): the original's environment (MERAKI_TIMESPAN, MERAKI_PERPAGE,
//! RECORD_KEY, PUBLISHER_PROGRAM) with flags winning over it, numbers published with the type the
//! API gave them, points without data kept unless opted out, and the filter file's extra keys
//! warned about rather than refused.

#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::Duration;

use serde_json::Value;
use support::{KEY, RunningSim, config, output, semaphore, start};

const LIMIT: Duration = Duration::from_secs(120);

/// Runs `semaphore publish ARGS --base-url SIM --sink stdout` with `env`; the records and stderr.
async fn publish(sim: &RunningSim, args: &[&str], env: &[(&str, &str)]) -> (Vec<Value>, String) {
    let mut command = semaphore(args);
    command
        .args(["--base-url", sim.base_url.as_str(), "--sink", "stdout"])
        .env("MERAKI_DASHBOARD_API_KEY", KEY)
        .envs(env.iter().copied());
    let result = output(command, LIMIT).await;
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert_eq!(result.status.code(), Some(0), "{args:?} {env:?}: {stderr}");
    let lines = String::from_utf8_lossy(&result.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    (lines, stderr)
}

/// The client ids published, sorted: networks are read concurrently, so their order varies.
fn client_ids(lines: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = lines
        .iter()
        .flat_map(|line| {
            line["event"]["payload"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|client| client["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

fn client_calls(sim: &RunningSim) -> usize {
    let requests = sim.sim.requests();
    requests
        .iter()
        .filter(|r| r.path.ends_with("/clients"))
        .count()
}

fn clients_in(lines: &[Value]) -> usize {
    lines
        .iter()
        .map(|line| line["event"]["payload"].as_array().map_or(0, Vec::len))
        .sum()
}

#[tokio::test]
async fn the_originals_clients_settings_are_read_and_flags_win() {
    let running = start(config(1, 3, 2, 40)).await;
    let (day, _) = publish(&running, &["publish", "clients"], &[]).await;
    let calls_at_5000 = client_calls(&running);
    let env = [("MERAKI_PERPAGE", "3"), ("MERAKI_TIMESPAN", "86400")];
    let (paged, _) = publish(&running, &["publish", "clients"], &env).await;
    let calls_at_3 = client_calls(&running) - calls_at_5000;
    assert_eq!(
        client_ids(&paged),
        client_ids(&day),
        "same clients, smaller pages"
    );
    assert!(
        calls_at_3 > 2 * calls_at_5000,
        "MERAKI_PERPAGE=3 pages: {calls_at_3} calls against {calls_at_5000}"
    );

    let short = [("MERAKI_TIMESPAN", "119")];
    let (recent, _) = publish(&running, &["publish", "clients"], &short).await;
    let (flagged, _) = publish(&running, &["publish", "clients", "--timespan", "119s"], &[]).await;
    assert_eq!(
        client_ids(&recent),
        client_ids(&flagged),
        "MERAKI_TIMESPAN=119 is --timespan 119s"
    );
    assert!(
        clients_in(&recent) < clients_in(&day),
        "a 119 s window holds fewer clients"
    );
    let args = ["publish", "clients", "--timespan", "24h"];
    let (wins, _) = publish(&running, &args, &short).await;
    assert_eq!(
        client_ids(&wins),
        client_ids(&day),
        "the flag wins over MERAKI_TIMESPAN"
    );

    let program = [("PUBLISHER_PROGRAM", "./publish_clients.py")];
    let (run, _) = publish(&running, &["publish", "program"], &program).await;
    assert_eq!(
        client_ids(&run),
        client_ids(&day),
        "PUBLISHER_PROGRAM picks clients"
    );
}

#[tokio::test]
async fn loss_latency_keeps_types_and_empty_points_and_takes_record_key() {
    let running = start(config(1, 4, 6, 0)).await;
    let args = [
        "publish",
        "loss-latency",
        "--per-device",
        "--no-ddns",
        "--timespan",
        "1h",
    ];
    let (records, _) = publish(&running, &args, &[("RECORD_KEY", "site-a")]).await;
    assert!(records.len() > 100, "{} records", records.len());
    assert!(
        records.iter().all(|r| r["meta"]["key"] == "site-a"),
        "RECORD_KEY keys every record"
    );
    let goodputs: Vec<&Value> = records.iter().map(|r| &r["event"]["goodput"]).collect();
    assert!(
        goodputs.iter().any(|g| g.is_u64()),
        "integer goodput is published as an integer"
    );
    assert!(
        goodputs.iter().all(|g| g.is_u64() || g.is_null()),
        "{goodputs:?}"
    );
    let empty = |records: &[Value]| {
        records
            .iter()
            .filter(|r| {
                ["lossPercent", "latencyMs", "goodput", "jitter"]
                    .iter()
                    .all(|m| r["event"][m].is_null())
            })
            .count()
    };
    assert!(
        empty(&records) > 0,
        "points without data are published by default"
    );

    let mut skipping = args.to_vec();
    skipping.push("--skip-empty-points");
    let (kept, _) = publish(&running, &skipping, &[]).await;
    assert_eq!(empty(&kept), 0);
    assert_eq!(kept.len(), records.len() - empty(&records));
    assert!(
        kept.iter()
            .all(|r| r["meta"]["key"] == r["event"]["serial"]),
        "keyed by serial"
    );
}

#[tokio::test]
async fn filter_keys_the_original_ignores_are_a_warning() {
    let running = start(config(1, 2, 1, 30)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("filter.json");
    let filter = r#"{"match": "any", "comment": "lab",
        "conditions": [{"key": "status", "value": "Online", "note": "x"}],
        "fuzzy": {"key": "description", "value": "printer"}}"#;
    std::fs::write(&path, filter).expect("written");
    let file = path.to_str().expect("UTF-8 path");
    let (lines, stderr) = publish(&running, &["publish", "clients", "-f", file], &[]).await;
    assert!(
        stderr.contains(&format!("warning: {file}: `comment` is not a filter key")),
        "{stderr}"
    );
    assert!(stderr.contains("`conditions[0].note`"), "{stderr}");
    let (all, _) = publish(&running, &["publish", "clients"], &[]).await;
    assert_eq!(
        client_ids(&lines),
        client_ids(&all),
        "fuzzy keeps every client"
    );
    for client in lines.iter().flat_map(|l| {
        l["event"]["payload"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }) {
        assert_eq!(client["filter_config"]["comment"], "lab");
        let online = client["status"] == "Online";
        assert_eq!(client["conditional_match"], Value::Bool(online), "{client}");
        assert!(client["fuzzy"]["partial"].is_u64(), "{client}");
    }
}
