//! `semaphore publish` as an operator meets it, with stdout as the sink (no broker needed): a bad
//! or missing API key, `--interval` cycles stopped by SIGTERM, progress lines during a long cycle
//! when stderr is not a terminal, the clients summary counting clients, and `--help` keeping the
//! key hidden.

#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::Duration;

use support::{KEY, config, output, semaphore, start};
use tokio::io::AsyncBufReadExt;

#[tokio::test]
async fn a_bad_or_missing_key_exits_non_zero_with_a_clear_message() {
    let running = start(config(1, 1, 1, 1)).await;
    let args = [
        "publish",
        "clients",
        "--base-url",
        running.base_url.as_str(),
        "--sink",
        "stdout",
    ];
    let mut wrong = semaphore(&args);
    wrong.env("MERAKI_DASHBOARD_API_KEY", "not-the-key-0000");
    let result = output(wrong, Duration::from_secs(60)).await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: the Meraki API rejected the API key (401 on /api/v1/organizations: Invalid API key); check MERAKI_DASHBOARD_API_KEY"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("not-the-key-0000"),
        "the key is never shown"
    );
    let missing = output(semaphore(&args), Duration::from_secs(60)).await;
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            r#"please create and specify the API key, e.g. "export MERAKI_DASHBOARD_API_KEY=12345""#
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_interval_repeats_cycles_without_repeating_points_and_sigterm_stops_cleanly() {
    let running = start(config(1, 2, 2, 0)).await;
    let args = [
        "publish",
        "loss-latency",
        "--base-url",
        running.base_url.as_str(),
        "--sink",
        "stdout",
        "--interval",
        "300ms",
        "--jitter",
        "0s",
    ];
    let mut command = semaphore(&args);
    command
        .env("MERAKI_DASHBOARD_API_KEY", KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("starts");
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut summaries = Vec::new();
    while summaries.len() < 3 {
        let line = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
            .await
            .expect("a summary in time")
            .expect("readable")
            .expect("still running");
        if line.starts_with("cycle ") {
            summaries.push(line);
        }
    }
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let result = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("stops in time")
        .expect("waited");
    assert_eq!(result.status.code(), Some(0), "a clean stop");
    assert!(
        summaries[0].starts_with("cycle 1: 1 orgs, 2 networks, 2 devices, "),
        "{}",
        summaries[0]
    );
    assert!(!summaries[0].contains(" 0 records"), "{}", summaries[0]);
    assert!(
        summaries[1].starts_with("cycle 2: ") && summaries[1].contains(" 0 records"),
        "the clock stands still, so nothing is new: {}",
        summaries[1]
    );
    let lines = String::from_utf8_lossy(&result.stdout).lines().count();
    let first: usize = summaries[0]
        .split(" devices, ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert_eq!(lines, first, "every record once, on stdout");
}

#[tokio::test]
async fn help_never_shows_the_api_key() {
    let mut command = semaphore(&["publish", "clients", "--help"]);
    command.env("MERAKI_DASHBOARD_API_KEY", "s3cr3t-key-in-env");
    let result = output(command, Duration::from_secs(30)).await;
    let help = String::from_utf8_lossy(&result.stdout);
    assert!(help.contains("MERAKI_DASHBOARD_API_KEY"), "{help}");
    assert!(!help.contains("s3cr3t-key-in-env"), "{help}");
    assert!(
        help.contains("-a, --sink <SINK>"),
        "the original -a flag: {help}"
    );
}

#[tokio::test]
async fn a_long_cycle_shows_progress_lines_off_a_terminal_and_the_clients_summary_counts_clients() {
    // 20 networks at 3 requests a second: a cycle of ten seconds or more, with 429s.
    let mut slow = config(1, 20, 1, 5);
    slow.rate_limit = 3;
    slow.burst = 1;
    let running = start(slow).await;
    let args = [
        "publish",
        "clients",
        "--per-client",
        "--base-url",
        running.base_url.as_str(),
        "--sink",
        "stdout",
    ];
    let mut command = semaphore(&args);
    command.env("MERAKI_DASHBOARD_API_KEY", KEY);
    let result = output(command, Duration::from_secs(120)).await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(!progress.is_empty(), "no progress line:\n{stderr}");
    for line in &progress {
        assert!(
            !line.contains('\x1b') && !line.contains('\r'),
            "plain lines only: {line:?}"
        );
        assert!(line.starts_with("progress: cycle 1 so far: "), "{line}");
        for part in [
            " networks, ",
            " clients, ",
            " records, ",
            " API calls (",
            " rate-limited)",
        ] {
            assert!(line.contains(part), "{part:?} missing: {line}");
        }
    }
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("cycle 1: "))
        .expect("a summary line");
    let records = String::from_utf8_lossy(&result.stdout).lines().count();
    assert!(records > 0, "{stderr}");
    assert!(
        summary.starts_with("cycle 1: 1 orgs, ")
            && summary.contains(&format!(
                " networks, {records} clients, {records} records, "
            )),
        "{summary}"
    );
    assert!(!summary.contains("devices"), "{summary}");
}
