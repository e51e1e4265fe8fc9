//! Silences and inhibition through the engine and `semaphore rules test`: deterministic on event time,
//! suppressed firings reported with their reason and counted, engine actions of a suppressed firing
//! still applied, the resolve of a muted firing muted too, and a bad `inhibit` block reported at
//! FILE:LINE:COL with a caret.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use semaphore::engine::Engine;
use semaphore::event::Event;
use semaphore::suppress::SuppressReason;

const BOOK: &str = "rulebooks/uplink-inhibit.yml";
const EVENTS: &str = "examples/uplink-inhibit.events.jsonl";
const SILENCES: &str = "examples/maintenance.silences.yml";

/// stdout lines as JSON and the summary line of `rules test`.
fn rules_test(extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(["rules", "test", BOOK, "--events", EVENTS])
        .args(extra)
        .env(
            "SEMAPHORE_CHAT_WEBHOOK_URL",
            "https://chat.example.invalid/hook",
        )
        .env_remove("SEMAPHORE_SILENCES")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let lines = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    (lines, stderr)
}

/// (rule, line, reason or "fired") per line.
fn outcome(lines: &[serde_json::Value]) -> Vec<(String, u64, String)> {
    lines
        .iter()
        .map(|l| {
            let reason = l["suppressed"]["reason"].as_str().unwrap_or("fired");
            (
                l["rule"].as_str().expect("rule").to_owned(),
                l["line"].as_u64().expect("index"),
                reason.to_owned(),
            )
        })
        .collect()
}

fn row(rule: &str, index: u64, what: &str) -> (String, u64, String) {
    (rule.to_owned(), index, what.to_owned())
}

#[test]
fn uplink_down_inhibits_loss_and_latency_of_the_same_network_for_fifteen_minutes() {
    let (lines, summary) = rules_test(&[]);
    assert_eq!(
        outcome(&lines),
        vec![
            row("High loss", 1, "fired"),
            row("Uplink down", 2, "fired"),
            row("High loss", 2, "inhibited"),
            row("High latency", 3, "inhibited"),
            row("High latency", 4, "fired"),
            row("High loss", 5, "fired"),
            row("High loss", 6, "fired"),
            row("High loss", 7, "fired"),
            row("High loss", 8, "fired"),
        ]
    );
    assert_eq!(lines[2]["suppressed"]["by_rule"], "Uplink down");
    assert!(summary.contains("firings: 7 "), "{summary}");
    assert!(
        summary.contains("suppressed: 2 (inhibited: 2)"),
        "{summary}"
    );
}

#[test]
fn the_saturday_night_maintenance_window_silences_one_network() {
    let (lines, summary) = rules_test(&["--silences", SILENCES]);
    let silenced: Vec<_> = outcome(&lines)
        .into_iter()
        .filter(|(_, _, what)| what == "silenced")
        .collect();
    // 21:30 UTC is 22:30 in Zurich (inside); line 7 is another network; line 8 is 02:30 (after).
    assert_eq!(silenced, vec![row("High loss", 6, "silenced")]);
    assert_eq!(
        lines.iter().filter(|l| l["suppressed"].is_null()).count(),
        6
    );
    assert!(
        summary.contains("suppressed: 3 (inhibited: 2, silenced: 1)"),
        "{summary}"
    );
    // Deterministic: the same input gives the same output.
    assert_eq!(rules_test(&["--silences", SILENCES]).0, lines);
}

#[test]
fn an_invalid_silences_file_stops_rules_test_with_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.yml");
    std::fs::write(
        &path,
        "- id: a\n  matcher: \"event.x ==\"\n  ends_at: 2026-01-01T00:00:00Z\n",
    )
    .expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(["rules", "test", BOOK, "--events", EVENTS, "--silences"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:2:", path.display())) && stderr.contains("invalid JMESPath"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_suppressed_firing_still_applies_its_engine_actions() {
    let book = semaphore::rulebook::compile(
        "book.yml",
        r#"
- name: rs
  match_multiple_rules: true
  inhibit:
    - {source: down, targets: [loss], equal: [event.net]}
  rules:
    - name: down
      condition: event.down
      action: {debug: {}}
    - name: loss
      condition: event.loss
      actions:
        - set_fact: {fact: {muted_loss_seen: true}}
        - debug: {}
    - name: fact seen
      condition: facts.muted_loss_seen
      action: {debug: {}}
"#,
    )
    .expect("valid");
    let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
    let event = |json: serde_json::Value| Event::from_json(json, serde_json::json!({}));
    let first = engine.process(
        event(serde_json::json!({"down": true, "net": "N_1"})),
        1_000,
    );
    assert_eq!(first.firings.len(), 1);
    let second = engine.process(
        event(serde_json::json!({"loss": true, "net": "N_1"})),
        2_000,
    );
    assert_eq!(
        second
            .suppressed
            .iter()
            .map(|s| &s.reason)
            .collect::<Vec<_>>(),
        vec![&SuppressReason::Inhibited {
            by_rule: "down".into()
        }]
    );
    // The fact set by the muted firing is matched by the rules right away, like an event (as in
    // ansible-rulebook), and is there for the next event.
    let fired: Vec<&str> = second.firings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(fired, vec!["fact seen"]);
    let third = engine.process(event(serde_json::json!({"other": 1})), 3_000);
    let fired: Vec<&str> = third.firings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(fired, vec!["fact seen"]);
    // `for` defaults to 5 minutes: a loss firing after that is sent.
    let later = engine.process(
        event(serde_json::json!({"loss": true, "net": "N_1"})),
        301_000,
    );
    assert!(later.suppressed.is_empty());
    assert!(later.firings.iter().any(|f| f.rule == "loss"));
}

#[test]
fn the_resolve_of_a_muted_firing_is_muted_too() {
    let book = semaphore::rulebook::compile(
        "book.yml",
        r#"
- name: rs
  match_multiple_rules: true
  inhibit:
    - {source: down, targets: [loss], equal: [event.net], for: 1 minute}
  rules:
    - name: down
      condition: event.down
      action: {debug: {}}
    - name: loss
      condition: event.loss != `null`
      window:
        group_by: [event.net]
        size: 1 minute
        value: event.loss
        fire_when: window.max > `5`
      resolve_when: window.max <= `5`
      action: {debug: {}}
"#,
    )
    .expect("valid");
    let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
    let mut send = |json: serde_json::Value, at_ms: i64| {
        let outcome = engine.process(Event::from_json(json, serde_json::json!({})), at_ms);
        let sent: Vec<(String, &str)> = outcome
            .firings
            .iter()
            .map(|f| (f.rule.clone(), f.status.name()))
            .collect();
        let muted: Vec<SuppressReason> = outcome.suppressed.into_iter().map(|s| s.reason).collect();
        (sent, muted)
    };
    let net = |loss: i64| serde_json::json!({"net": "N_1", "loss": loss});
    send(serde_json::json!({"down": true, "net": "N_1"}), 0);
    let (sent, muted) = send(net(40), 1_000);
    assert!(sent.is_empty());
    assert_eq!(
        muted,
        vec![SuppressReason::Inhibited {
            by_rule: "down".into()
        }]
    );
    // Recovered after the inhibition ended: nobody heard of the firing, so no resolve either.
    let (sent, muted) = send(net(0), 120_000);
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(muted, vec![SuppressReason::FiringNotSent]);
    // The next incident of the same network is notified, and so is its end.
    let (sent, _) = send(net(40), 130_000);
    assert_eq!(sent, vec![("loss".to_owned(), "firing")]);
    let (sent, muted) = send(net(0), 250_000);
    assert_eq!(sent, vec![("loss".to_owned(), "resolved")]);
    assert!(muted.is_empty());
}

#[test]
fn a_bad_inhibit_block_is_reported_at_file_line_col_with_a_caret() {
    let source = "- name: rs\n  inhibit:\n    - source: Uplink dwn\n      targets: [High loss, High loss]\n      equal: [meta.topic]\n      for: soon\n  rules:\n    - name: Uplink down\n      condition: event.down\n      action: {debug: {}}\n    - name: High loss\n      condition: event.loss\n      action: {debug: {}}\n";
    let text = semaphore::rulebook::compile("book.yml", source)
        .expect_err("rejected")
        .to_string();
    assert!(
        text.contains("book.yml:3:15: no rule named `Uplink dwn` in this ruleset, did you mean `Uplink down`?\n  |\n3 |     - source: Uplink dwn\n  |               ^^^^^^^^^^\n"),
        "{text}"
    );
    assert!(
        text.contains("book.yml:5:15: `meta` is not part of the document (ruleset, rule, event, events, vars, status)"),
        "{text}"
    );
    assert!(
        text.contains("book.yml:6:12: invalid duration `soon`"),
        "{text}"
    );
    let unknown_key = "- name: rs\n  inhibit:\n    - source: a\n      targets: [b]\n      sorce: x\n  rules:\n    - name: a\n      condition: event.x\n      action: {debug: {}}\n";
    let text = semaphore::rulebook::compile("book.yml", unknown_key)
        .expect_err("rejected")
        .to_string();
    assert_eq!(
        text,
        "book.yml:5:7: unknown key `sorce`, did you mean `source`?\n  |\n5 |       sorce: x\n  |       ^^^^^\n"
    );
}

#[test]
fn a_rule_cannot_inhibit_itself() {
    let source = "- name: rs\n  inhibit:\n    - {source: a, targets: [a]}\n  rules:\n    - name: a\n      condition: event.x\n      action: {debug: {}}\n";
    let text = semaphore::rulebook::compile("book.yml", source)
        .expect_err("rejected")
        .to_string();
    assert!(
        text.starts_with("book.yml:3:29: rule `a` cannot inhibit itself"),
        "{text}"
    );
}

#[test]
fn rules_run_refuses_an_invalid_silences_file_before_connecting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.yml");
    std::fs::write(&path, "- id: a\n  matcher: \"`true`\"\n  every: {days: [caturday], from: \"22:00\", to: \"02:00\"}\n")
        .expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args([
            "rules",
            "run",
            BOOK,
            "--bootstrap-servers",
            "127.0.0.1:9",
            "--silences",
        ])
        .arg(&path)
        .env("SEMAPHORE_CHAT_WEBHOOK_URL", "http://127.0.0.1:9/")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3:17: unknown day `caturday`", path.display())),
        "{stderr}"
    );
}
