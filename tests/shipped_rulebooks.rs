//! Every shipped rulebook passes `rules check`, and `rules test` on its example events fires exactly
//! the expected rules on the expected events.

use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_semaphore")
}

/// (rule, line) of each firing, in output order.
fn firings(rulebook: &str, events: &str) -> Vec<(String, u64)> {
    firings_with_status(rulebook, events, &[])
        .into_iter()
        .map(|(rule, index, _)| (rule, index.expect("an event index")))
        .collect()
}

/// (rule, line, status) of each firing; `extra` are more `rules test` arguments.
fn firings_with_status(
    rulebook: &str,
    events: &str,
    extra: &[&str],
) -> Vec<(String, Option<u64>, String)> {
    let output = Command::new(bin())
        .args(["rules", "test", rulebook, "--events", events])
        .args(extra)
        .env(
            "SEMAPHORE_CHAT_WEBHOOK_URL",
            "https://chat.example.invalid/hook/secret-token",
        )
        .env("SEMAPHORE_PAGERDUTY_ROUTING_KEY", "routing-key-secret")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| {
            let firing: serde_json::Value =
                serde_json::from_str(line).expect("one JSON object per line");
            (
                firing["rule"].as_str().expect("a rule name").to_owned(),
                firing["line"].as_u64(),
                firing["status"].as_str().expect("a status").to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_shipped_rulebook_checks_clean() {
    let books: Vec<_> = std::fs::read_dir("rulebooks")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(books.len() >= 3);
    // --strict: no warnings either.
    let output = Command::new(bin())
        .args(["rules", "check", "--strict"])
        .args(&books)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn high_loss_fires_once_per_uplink_per_ten_minutes() {
    let expected = [
        ("High loss on an uplink", 2),
        ("High loss on an uplink", 4),
        ("High loss on an uplink", 6),
    ];
    let got = firings("rulebooks/high-loss.yml", "examples/high-loss.events.jsonl");
    assert_eq!(got, expected.map(|(r, i)| (r.to_owned(), i)));
}

#[test]
fn latency_detects_both_uplinks_slow_and_sustained_latency() {
    let expected = [
        ("Both uplinks slow", 2),
        ("Sustained latency on an uplink", 5),
    ];
    let got = firings("rulebooks/latency.yml", "examples/latency.events.jsonl");
    assert_eq!(got, expected.map(|(r, i)| (r.to_owned(), i)));
}

#[test]
fn new_client_matches_the_filter_once_per_client() {
    let expected = [
        ("New printer-like client", 1),
        ("New printer-like client", 5),
    ];
    let got = firings(
        "rulebooks/new-client.yml",
        "examples/new-client.events.jsonl",
    );
    assert_eq!(got, expected.map(|(r, i)| (r.to_owned(), i)));
}

fn expect(list: &[(&str, Option<u64>, &str)]) -> Vec<(String, Option<u64>, String)> {
    list.iter()
        .map(|(rule, index, status)| ((*rule).to_owned(), *index, (*status).to_owned()))
        .collect()
}

#[test]
fn uplink_health_detects_sustained_loss_flapping_and_silence_and_their_recovery() {
    let expected = expect(&[
        ("Sustained loss", Some(12), "firing"),
        ("Sustained loss", Some(13), "firing"),
        ("Flapping uplink", Some(18), "firing"),
        ("Sustained loss", Some(23), "resolved"),
        ("Silent device", Some(25), "firing"),
        ("Sustained loss", Some(36), "resolved"),
        ("Silent device", Some(37), "resolved"),
    ]);
    let got = firings_with_status(
        "rulebooks/uplink-health.yml",
        "examples/uplink-health.events.jsonl",
        &[],
    );
    assert_eq!(got, expected);
}

#[test]
fn until_fires_the_absence_timers_pending_at_the_end_of_input() {
    let got = firings_with_status(
        "rulebooks/uplink-health.yml",
        "examples/uplink-health.events.jsonl",
        &["--until", "2026-01-15T11:00:00Z"],
    );
    assert_eq!(got.len(), 10);
    assert_eq!(
        got[7..],
        expect(&[
            ("Silent device", None, "firing"),
            ("Silent device", None, "firing"),
            ("Silent device", None, "firing"),
        ])
    );
}

#[test]
fn client_drop_fires_on_halved_client_counts_and_resolves() {
    let expected = expect(&[
        ("Client count drop", Some(49), "firing"),
        ("Client count drop", Some(60), "resolved"),
    ]);
    let got = firings_with_status(
        "rulebooks/client-drop.yml",
        "examples/client-drop.events.jsonl",
        &[],
    );
    assert_eq!(got, expected);
}

#[test]
fn rendered_actions_mask_secrets_from_the_environment() {
    let output = Command::new(bin())
        .args([
            "rules",
            "test",
            "rulebooks/high-loss.yml",
            "--events",
            "examples/high-loss.events.jsonl",
        ])
        .env(
            "SEMAPHORE_CHAT_WEBHOOK_URL",
            "https://chat.example.invalid/hook/secret-token",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("secret-token"), "{stdout}");
    assert!(stdout.contains(r#""url":"********""#), "{stdout}");
}

#[test]
fn unreadable_event_lines_are_reported_and_the_rest_still_run() {
    let path = std::env::temp_dir().join(format!("semaphore-events-{}.jsonl", std::process::id()));
    std::fs::write(&path, "{\"lossPercent\": 50, \"serial\": \"A\", \"uplink\": \"wan1\"}\nnot json\n[1]\n{\"lossPercent\": 60, \"serial\": \"B\", \"uplink\": \"wan1\"}\n").unwrap();
    let output = Command::new(bin())
        .args(["rules", "test", "rulebooks/high-loss.yml", "--events"])
        .arg(&path)
        .env("SEMAPHORE_CHAT_WEBHOOK_URL", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    // 3: every line was read, some had errors (1 is for a rulebook that does not load).
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(":2: not valid JSON"), "{stderr}");
    assert!(
        stderr.contains(":3: an event must be a JSON object"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
}

#[test]
fn a_line_that_is_not_utf8_or_has_a_bad_timestamp_is_its_own_error() {
    let path = std::env::temp_dir().join(format!("semaphore-utf8-{}.jsonl", std::process::id()));
    let mut events = b"{\"lossPercent\": 50, \"serial\": \"A\", \"uplink\": \"wan1\"}\n".to_vec();
    events.extend_from_slice(b"{\"serial\": \"\xff\"}\n");
    events.extend_from_slice(
        b"{\"event\": {\"lossPercent\": 70, \"serial\": \"C\", \"uplink\": \"wan1\"}, \"meta\": {\"timestamp\": \"yesterday\"}}\n",
    );
    events.extend_from_slice(b"{\"lossPercent\": 60, \"serial\": \"B\", \"uplink\": \"wan1\"}\r\n");
    std::fs::write(&path, events).unwrap();
    let output = Command::new(bin())
        .args(["rules", "test", "rulebooks/high-loss.yml", "--events"])
        .arg(&path)
        .env("SEMAPHORE_CHAT_WEBHOOK_URL", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(":2: not valid UTF-8 (byte 13)"), "{stderr}");
    assert!(
        stderr.contains(
            ":3: `meta.timestamp` \"yesterday\" is neither epoch milliseconds nor an RFC 3339 time"
        ),
        "{stderr}"
    );
    // The lines before and after still run; firings count lines as the errors do.
    let lines: Vec<u64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(lines, [1, 4]);
}

#[test]
fn explain_says_why_a_rule_did_not_match() {
    let path = std::env::temp_dir().join(format!("semaphore-explain-{}.jsonl", std::process::id()));
    std::fs::write(
        &path,
        "{\"lossPercent\": 2.5, \"serial\": \"A\", \"uplink\": \"wan1\"}\n{\"serial\": \"A\"}\n",
    )
    .unwrap();
    let output = Command::new(bin())
        .args([
            "rules",
            "test",
            "rulebooks/high-loss.yml",
            "--explain",
            "--events",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["matched"], false);
    assert_eq!(
        lines[0]["reason"],
        "false: event.lossPercent (2.5) > vars.loss_pct (5)"
    );
    assert_eq!(
        lines[1]["reason"],
        "false: event.lossPercent is missing (null) > vars.loss_pct (5)"
    );
}

#[test]
fn an_action_that_cannot_render_names_the_variable_is_counted_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.yml");
    std::fs::write(
        &book,
        "- name: rs\n  rules:\n    - name: r\n      condition: event.lossPercent > `5`\n      action:\n        debug:\n          msg: \"loss {{ event.lossPercnt }} on {{ event.serial }}\"\n",
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, "{\"lossPercent\": 9, \"serial\": \"Q2\"}\n").unwrap();
    let output = Command::new(bin())
        .args(["rules", "test"])
        .arg(&book)
        .arg("--events")
        .arg(&events)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("`event.lossPercnt` is undefined"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("actions not rendered: 1"), "{stderr}");
}

#[test]
fn the_readme_rules_test_example_runs_clean_as_written() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let line = readme
        .lines()
        .find(|line| line.contains("semaphore rules test"))
        .expect("the README shows rules test");
    let mut words = line.split_whitespace().peekable();
    let mut command = Command::new(bin());
    while let Some((name, value)) = words.peek().and_then(|word| word.split_once('=')) {
        command.env(name, value);
        words.next();
    }
    assert_eq!(words.next(), Some("semaphore"));
    let output = command.args(words).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{line}: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("\"error\""), "{stdout}");
    assert!(stdout.lines().count() > 3, "{stdout}");
}
