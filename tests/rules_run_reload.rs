//! Hot reload of `semaphore rules run` against the real broker, with a webhook receiver on 127.0.0.1:
//! with `--watch` an overwritten file is picked up; a broken rulebook is reported at FILE:LINE:COL and
//! the old rules keep firing; a valid one with a changed rule takes over while an unchanged throttled
//! rule stays quiet inside its window; SIGHUP reloads without `--watch` (logging the new rulebook's
//! warnings), and a rulebook that would consume other topics, or that adds the first stateful rule
//! to a run without a changelog, is refused.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::kafka::{bootstrap, fresh_topic};
use common::run::{RulesRun, produce_json, rulebook};
use common::unique_name;
use common::webhook::{Delivery, Receiver};

const WAIT: Duration = Duration::from_secs(90);

/// Two rules: `alert` reports its `version`; `flap` is throttled to once per 10 minutes per device.
fn book(topic: &str, group: &str, version: &str) -> String {
    format!(
        r#"- name: reload
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: alert
      condition: event.kind == 'alert'
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{rule: alert, version: {version}, seq: "{{{{ event.seq }}}}"}}
    - name: flap
      condition: event.kind == 'flap'
      throttle: {{once_within: 10 min, group_by: [event.device]}}
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{rule: flap, seq: "{{{{ event.seq }}}}"}}
"#
    )
}

/// Produces one record per `(seq, kind)`, all with one key, so they are read in this order.
async fn produce(topic: &str, records: &[(u64, &str)]) {
    let records: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|(seq, kind)| {
            let value = serde_json::json!({"seq": seq, "kind": kind, "device": "sw1"});
            ("sw1".to_owned(), value.to_string().into_bytes())
        })
        .collect();
    produce_json(&bootstrap(), topic, &records).await;
}

/// The delivery of record `seq` by `rule`, if it arrived.
fn delivered<'a>(deliveries: &'a [Delivery], rule: &str, seq: u64) -> Option<&'a Delivery> {
    deliveries
        .iter()
        .find(|d| d.body["rule"] == rule && d.body["seq"] == seq)
}

async fn wait_for_delivery(receiver: &Receiver, rule: &str, seq: u64) -> Delivery {
    receiver
        .wait_for(&format!("{rule} for record {seq}"), WAIT, |d| {
            delivered(d, rule, seq).is_some()
        })
        .await;
    delivered(&receiver.deliveries(), rule, seq)
        .expect("just arrived")
        .clone()
}

/// Waits until the process's stderr contains `text` `times` times; returns the log.
async fn wait_for_log(run: &RulesRun, text: &str, times: usize) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = run.log();
        if log.matches(text).count() >= times {
            return log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {times}x {text:?} in the log:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Replaces the file the way editors do: write a new file next to it, then rename it over.
fn replace(path: &Path, text: &str) {
    let next = path.with_extension("yml.new");
    std::fs::write(&next, text).expect("write the new rulebook");
    std::fs::rename(&next, path).expect("rename it over the old one");
}

fn hangup(run: &RulesRun) {
    let sent = Command::new("kill")
        .args(["-HUP", &run.pid().to_string()])
        .status();
    assert!(sent.is_ok_and(|s| s.success()), "SIGHUP delivered");
}

/// `(line, col)` (1-based) of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).expect("the needle is in the text");
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, col)
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_keeps_the_old_rules_on_a_broken_file_and_takes_a_valid_one() {
    let topic = fresh_topic("reload-watch").await;
    let group = unique_name("reload-watch");
    let receiver = Receiver::start().await;
    let v1 = book(&topic, &group, "1");
    let file = rulebook(&v1);
    let path = file.path().display().to_string();
    let env = [("RECEIVER_URL", receiver.url.as_str())];
    let run = RulesRun::start(file.path(), &bootstrap(), &["--watch"], &env);

    produce(&topic, &[(0, "alert"), (1, "flap")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 0).await.body["version"],
        1
    );
    wait_for_delivery(&receiver, "flap", 1).await;

    // Overwritten in place with a condition that does not compile.
    let broken = v1.replace("event.kind == 'alert'", "event.kind == 'alert' &&");
    std::fs::write(file.path(), &broken).expect("overwrite");
    let failure = "rulebook reload failed; the old rulebook keeps running";
    let log = wait_for_log(&run, failure, 1).await;
    let (line, _) = position(&broken, "event.kind == 'alert' &&");
    assert!(
        log.contains(&format!("{path}:{line}:")),
        "the error names the place:\n{log}"
    );
    assert!(
        log.contains(" | "),
        "with the source line and a caret:\n{log}"
    );
    produce(&topic, &[(2, "alert")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 2).await.body["version"],
        1,
        "the old rulebook keeps firing"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        run.log().matches(failure).count(),
        1,
        "one broken version is reported once, not on every tick"
    );

    // Replaced with a valid rulebook: `alert` changed, `flap` only moved down by a comment line.
    let v2 = book(&topic, &group, "2").replace(
        "    - name: flap\n",
        "    # unchanged, so its throttle window carries over\n    - name: flap\n",
    );
    replace(file.path(), &v2);
    let log = wait_for_log(&run, "rulebook reloaded", 1).await;
    assert!(
        log.contains("1 kept, 1 reset (reload/alert), 0 added, 0 removed"),
        "the report names what changed:\n{log}"
    );
    produce(&topic, &[(3, "flap"), (4, "alert")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 4).await.body["version"],
        2,
        "the changed rule's new action"
    );
    // Record 3 was evaluated before record 4 (same partition, one ruleset sending in order).
    assert!(
        delivered(&receiver.deliveries(), "flap", 3).is_none(),
        "the unchanged throttled rule stays quiet inside its window after the reload"
    );

    // Written in two steps, as a slow editor might: the half-written file is never reported.
    let v3 = book(&topic, &group, "3");
    let half = &v3[..v3.find("version: 3").expect("in the text")];
    assert!(
        semaphore::rulebook::compile("half.yml", half).is_err(),
        "the first half alone is not a valid rulebook"
    );
    std::fs::write(file.path(), half).expect("write the first half");
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(file.path(), &v3).expect("write all of it");
    wait_for_log(&run, "rulebook reloaded", 2).await;
    produce(&topic, &[(5, "alert")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 5).await.body["version"],
        3
    );
    assert_eq!(
        run.log().matches(failure).count(),
        1,
        "the half-written file was not reported"
    );

    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_without_watch_and_refuses_other_topics() {
    let topic = fresh_topic("reload-hup").await;
    let group = unique_name("reload-hup");
    let receiver = Receiver::start().await;
    let v1 = book(&topic, &group, "1");
    let file = rulebook(&v1);
    let path = file.path().display().to_string();
    let env = [("RECEIVER_URL", receiver.url.as_str())];
    let run = RulesRun::start(file.path(), &bootstrap(), &[], &env);

    produce(&topic, &[(0, "alert")]).await;
    wait_for_delivery(&receiver, "alert", 0).await;

    // Without --watch a change alone does nothing; SIGHUP loads it and reports the unknown key.
    let broken = v1.replace(
        "      condition: event.kind == 'flap'",
        "      condtion: event.kind == 'flap'",
    );
    std::fs::write(file.path(), &broken).expect("overwrite");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !run.log().contains("rulebook reload"),
        "no reload without --watch or SIGHUP"
    );
    hangup(&run);
    let (line, col) = position(&broken, "condtion");
    let log = wait_for_log(&run, "rulebook reload failed", 1).await;
    assert!(
        log.contains(&format!("{path}:{line}:{col}: unknown key `condtion`")),
        "the error names the place:\n{log}"
    );
    produce(&topic, &[(1, "alert")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 1).await.body["version"],
        1,
        "the old rulebook keeps firing"
    );

    // Version 2 has a var that looks like a template: valid, and its warning is logged on one line.
    let v2 = book(&topic, &group, "2").replace(
        "- name: reload\n",
        "- name: reload\n  vars: {site: \"{{ env.SITE }}\"}\n",
    );
    std::fs::write(file.path(), &v2).expect("overwrite");
    hangup(&run);
    let log = wait_for_log(&run, "rulebook reloaded", 1).await;
    let (line, col) = position(&v2, "\"{{ env.SITE }}\"");
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains(&format!(
                "{path}:{line}:{col}: warning: `vars.site` looks like a template"
            ))),
        "the warning is logged with its place:\n{log}"
    );
    produce(&topic, &[(2, "alert")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 2).await.body["version"],
        2,
        "the new rulebook fires"
    );

    let elsewhere = book(&format!("{topic}-other"), &group, "3");
    std::fs::write(file.path(), elsewhere).expect("overwrite");
    hangup(&run);
    wait_for_log(
        &run,
        "sources changed: restart to consume different topics",
        1,
    )
    .await;
    produce(&topic, &[(3, "alert")]).await;
    assert_eq!(
        wait_for_delivery(&receiver, "alert", 3).await.body["version"],
        2,
        "a rulebook for other topics is refused; the running one goes on"
    );

    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_stateful_rule_needs_a_restart_to_be_durable() {
    let topic = fresh_topic("reload-state").await;
    let group = unique_name("reload-state");
    let receiver = Receiver::start().await;
    let stateful = book(&topic, &group, "1");
    let flap_at = stateful
        .find("    - name: flap")
        .expect("the book has a flap rule");
    let stateless = stateful[..flap_at].to_owned();
    let file = rulebook(&stateless);
    let env = [("RECEIVER_URL", receiver.url.as_str())];
    let run = RulesRun::start(file.path(), &bootstrap(), &[], &env);
    produce(&topic, &[(0, "alert")]).await;
    wait_for_delivery(&receiver, "alert", 0).await;

    std::fs::write(file.path(), &stateful).expect("overwrite");
    hangup(&run);
    let log = wait_for_log(&run, "rulebook reload failed", 1).await;
    assert!(
        log.contains(&format!("restart to keep that state in {group}.state")),
        "{log}"
    );
    produce(&topic, &[(1, "flap")]).await;
    produce(&topic, &[(2, "alert")]).await;
    wait_for_delivery(&receiver, "alert", 2).await;
    assert!(
        delivered(&receiver.deliveries(), "flap", 1).is_none(),
        "the refused rule does not run"
    );
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
}
