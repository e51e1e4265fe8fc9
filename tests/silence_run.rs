//! `semaphore rules run --silences FILE` against the real broker with a webhook receiver on 127.0.0.1:
//! a silenced rule never reaches the receiver while an unsilenced one does, and a silence added with
//! `semaphore silence add` while the process runs takes effect without a restart; a file that then
//! becomes invalid (also by a matcher past the expression limit) is logged and the silences in force
//! stay.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::kafka::{bootstrap, fresh_topic};
use common::run::{RulesRun, produce_json, rulebook};
use common::unique_name;
use common::webhook::{Delivery, Receiver};

const WAIT: Duration = Duration::from_secs(120);

fn book(topic: &str, group: &str) -> String {
    let rule = |name: &str| {
        format!(
            "    - name: {name}\n      condition: event.phase\n      action:\n        webhook:\n          url: \"{{{{ env.RECEIVER_URL }}}}\"\n          body: {{rule: {name}, phase: \"{{{{ event.phase }}}}\", seq: \"{{{{ event.seq }}}}\"}}\n          timeout: 5 s\n"
        )
    };
    format!(
        "- name: silences\n  sources:\n    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}\n  match_multiple_rules: true\n  rules:\n{}{}{}",
        rule("quiet"),
        rule("loud"),
        rule("marker")
    )
}

fn add_silence(file: &Path, matcher: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args([
            "silence", "add", "--match", matcher, "--for", "1h", "--file",
        ])
        .arg(file)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn records(phase: u32, count: u32) -> Vec<(String, Vec<u8>)> {
    (0..count)
        .map(|seq| {
            let value = serde_json::json!({"phase": phase, "seq": seq});
            (format!("k{seq}"), value.to_string().into_bytes())
        })
        .collect()
}

fn of(deliveries: &[Delivery], rule: &str, phase: &str) -> usize {
    deliveries
        .iter()
        .filter(|d| {
            d.body["rule"] == rule && d.body["phase"].to_string().trim_matches('"') == phase
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn silenced_rules_do_not_reach_the_receiver_and_new_silences_apply_while_running() {
    let topic = fresh_topic("silences").await;
    let group = unique_name("silences");
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let silences = dir.path().join("silences.yml");
    add_silence(&silences, "rule == 'quiet'");
    let book = rulebook(&book(&topic, &group));
    let silences_arg = silences.display().to_string();
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--silences", &silences_arg],
        &[("RECEIVER_URL", receiver.url.as_str())],
    );

    produce_json(&bootstrap(), &topic, &records(1, 20)).await;
    receiver
        .wait_for("phase 1 loud and marker", WAIT, |d| {
            of(d, "loud", "1") == 20 && of(d, "marker", "1") == 20
        })
        .await;

    add_silence(&silences, "rule == 'loud'");
    // The file is polled about once a second; wait until the process says it has the new set.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !run.log().contains("silences reloaded") {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload: {}",
            run.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    produce_json(&bootstrap(), &topic, &records(2, 20)).await;
    receiver
        .wait_for("phase 2 markers", WAIT, |d| of(d, "marker", "2") == 20)
        .await;
    // Firings of one ruleset are dispatched in order: a loud firing would have arrived before its marker.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A broken file is logged and the silences in force stay: phase 3 is still muted. One entry
    // does not parse; the other is a 4,000-term matcher, past the expression limit, that once
    // overflowed the worker's stack while the process ran.
    let valid = std::fs::read_to_string(&silences).expect("read");
    let huge = vec!["rule == 'x'"; 4_000].join(" || ");
    std::fs::write(
        &silences,
        format!("{valid}- id: broken\n  matcher: \"rule ==\"\n- id: huge\n  matcher: \"{huge}\"\n  ends_at: 2099-01-01T00:00:00Z\n"),
    )
    .expect("write");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !run.log().contains("the silences file is invalid") {
        assert!(
            std::time::Instant::now() < deadline,
            "no error logged: {}",
            run.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        run.log().contains("more than 128 operators"),
        "the limit is named: {}",
        run.log()
    );
    produce_json(&bootstrap(), &topic, &records(3, 20)).await;
    receiver
        .wait_for("phase 3 markers", WAIT, |d| of(d, "marker", "3") == 20)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    let deliveries = receiver.deliveries();
    assert_eq!(
        of(&deliveries, "quiet", "1") + of(&deliveries, "quiet", "2"),
        0
    );
    assert_eq!(of(&deliveries, "loud", "1"), 20);
    assert_eq!(
        of(&deliveries, "loud", "2"),
        0,
        "the silence added while running applied"
    );
    assert_eq!(
        of(&deliveries, "loud", "3"),
        0,
        "an invalid file kept the silences"
    );
    assert!(log.contains("suppressed: 100"), "{log}");
}
