//! Durable engine state against the real broker: throttle, window and correlation state written to the
//! compacted changelog survives a `kill -9` (an alert already sent is not sent again within its
//! throttle window, a window in progress goes on counting, an `all` match half made is completed),
//! moves with its partitions to another instance, and does not swallow an alert (caused by a record
//! or by the clock) whose action a crash cut short.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::kafka::{bootstrap, fresh_topic};
use common::run::{RulesRun, lag, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;

const WAIT: Duration = Duration::from_secs(120);

fn stateful_rulebook(topic: &str, group: &str) -> String {
    format!(
        r#"
- name: state
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  execution_strategy: parallel
  match_multiple_rules: true
  rules:
    # A throttled rule consumes the events it matches (as in ansible-rulebook), so it comes last.
    - name: five samples
      condition: event.kind == 'sample'
      window:
        group_by: [event.device]
        size: 1 hour
        fire_when: window.count >= `5`
      action:
        webhook: &send
          url: "{{{{ env.RECEIVER_URL }}}}"
          body:
            rule: "{{{{ rule }}}}"
            device: "{{{{ event.device }}}}"
            instance: "{{{{ env.INSTANCE }}}}"
          timeout: 5 s
    - name: down then recovered
      condition:
        all:
          - event.kind == 'down'
          - event.kind == 'recovered' && event.device == events.m_0.device
        timeout: 1 hour
      action:
        webhook: *send
    - name: down once per device
      condition: event.kind == 'down'
      throttle:
        once_within: 1 hour
        group_by: [event.device]
      action:
        webhook: *send
"#
    )
}

/// Per device: one `down` and `samples` samples, keyed by device.
fn records(devices: usize, samples: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for device in 0..devices {
        let key = format!("device-{device:03}");
        let down = serde_json::json!({"kind": "down", "device": key});
        out.push((key.clone(), down.to_string().into_bytes()));
        for _ in 0..samples {
            let sample = serde_json::json!({"kind": "sample", "device": key});
            out.push((key.clone(), sample.to_string().into_bytes()));
        }
    }
    out
}

/// The second phase: each device recovers (completing the `all` match its first `down` started,
/// which only a restored engine still holds), then sends another `down` and `samples` samples.
fn second_phase(devices: usize, samples: usize) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = (0..devices)
        .map(|device| {
            let key = format!("device-{device:03}");
            let recovered = serde_json::json!({"kind": "recovered", "device": key});
            (key, recovered.to_string().into_bytes())
        })
        .collect();
    out.extend(records(devices, samples));
    out
}

/// Deliveries per (rule, device).
fn per_rule_and_device(receiver: &Receiver) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for delivery in receiver.deliveries() {
        let field = |name: &str| delivery.body[name].as_str().unwrap_or_default().to_owned();
        *counts.entry((field("rule"), field("device"))).or_default() += 1;
    }
    counts
}

fn count_rule(receiver: &Receiver, rule: &str) -> usize {
    per_rule_and_device(receiver)
        .iter()
        .filter(|((r, _), _)| r == rule)
        .map(|(_, n)| n)
        .sum()
}

/// Waits until the group committed everything: every record's actions and state writes are done.
async fn caught_up(group: &str, topic: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while lag(&bootstrap(), group, topic) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "lag never reached 0"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn assert_each_device_once(receiver: &Receiver, devices: usize) {
    let counts = per_rule_and_device(receiver);
    for rule in [
        "down once per device",
        "five samples",
        "down then recovered",
    ] {
        for device in 0..devices {
            let key = (rule.to_owned(), format!("device-{device:03}"));
            assert_eq!(counts.get(&key), Some(&1), "{key:?} in {counts:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_a_kill_9_in_the_middle_of_a_window() {
    let topic = fresh_topic("state-kill").await;
    let group = unique_name("state-kill");
    let receiver = Receiver::start().await;
    let book = rulebook(&stateful_rulebook(&topic, &group));
    let env = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "a")];
    const DEVICES: usize = 20;

    produce_json(&bootstrap(), &topic, &records(DEVICES, 3)).await;
    let first = RulesRun::start(book.path(), &bootstrap(), &[], &env);
    receiver
        .wait_for("one down alert per device", WAIT, |_| {
            count_rule(&receiver, "down once per device") == DEVICES
        })
        .await;
    caught_up(&group, &topic).await;
    first.kill_hard();

    // After the restart: a second `down` inside the hour must stay quiet, two more samples
    // complete each device's window of five, and a recovery completes the `down` seen before.
    produce_json(&bootstrap(), &topic, &second_phase(DEVICES, 2)).await;
    let second = RulesRun::start(book.path(), &bootstrap(), &[], &env);
    receiver
        .wait_for("every window and correlation firing", WAIT, |_| {
            count_rule(&receiver, "five samples") == DEVICES
                && count_rule(&receiver, "down then recovered") == DEVICES
        })
        .await;
    caught_up(&group, &topic).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, log) = second.stop();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("state restored"), "{log}");
    assert_each_device_once(&receiver, DEVICES);
}

#[tokio::test(flavor = "multi_thread")]
async fn state_moves_with_its_partitions_to_another_instance() {
    let topic = fresh_topic("state-move").await;
    let group = unique_name("state-move");
    let receiver = Receiver::start().await;
    let book = rulebook(&stateful_rulebook(&topic, &group));
    const DEVICES: usize = 60;

    produce_json(&bootstrap(), &topic, &records(DEVICES, 3)).await;
    let env_a = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "a")];
    let first = RulesRun::start(book.path(), &bootstrap(), &[], &env_a);
    receiver
        .wait_for("one down alert per device", WAIT, |_| {
            count_rule(&receiver, "down once per device") == DEVICES
        })
        .await;
    caught_up(&group, &topic).await;

    let env_b = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "b")];
    let second = RulesRun::start(book.path(), &bootstrap(), &[], &env_b);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !second.log().contains("state restored") {
        assert!(tokio::time::Instant::now() < deadline, "{}", second.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    produce_json(&bootstrap(), &topic, &second_phase(DEVICES, 2)).await;
    receiver
        .wait_for("every window and correlation firing", WAIT, |_| {
            count_rule(&receiver, "five samples") == DEVICES
                && count_rule(&receiver, "down then recovered") == DEVICES
        })
        .await;
    caught_up(&group, &topic).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status_b, log_b) = second.stop();
    let (status_a, log_a) = first.stop();
    assert!(status_a.success() && status_b.success(), "{log_a}\n{log_b}");
    assert_each_device_once(&receiver, DEVICES);
    let by_b = receiver
        .deliveries()
        .iter()
        .filter(|d| d.body["instance"] == "b" && d.body["rule"] == "five samples")
        .count();
    assert!(
        by_b > 0,
        "instance b completed no window: the partitions did not move"
    );
}

/// Runs instance "a" against the hanging `receiver` until its first alert arrives, kills it hard a
/// second later (its state written, the action unfinished), then runs instance "b" against a receiver
/// that answers, until "b" has sent an alert of its own.
async fn crash_while_sending(receiver: &Receiver, book: &std::path::Path) -> RulesRun {
    let env_a = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "a")];
    let first = RulesRun::start(book, &bootstrap(), &[], &env_a);
    receiver
        .wait_for("the first attempt", WAIT, |deliveries| {
            !deliveries.is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.kill_hard();

    receiver.fail_with(0);
    let env_b = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "b")];
    let second = RulesRun::start(book, &bootstrap(), &[], &env_b);
    receiver
        .wait_for("the alert sent again", WAIT, |deliveries| {
            deliveries.iter().any(|d| d.body["instance"] == "b")
        })
        .await;
    second
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_whose_action_was_cut_short_by_a_crash_is_sent_after_the_restart() {
    let topic = fresh_topic("state-cut").await;
    let group = unique_name("state-cut");
    let receiver = Receiver::start().await;
    receiver.hang();
    let book = rulebook(&stateful_rulebook(&topic, &group));
    produce_json(&bootstrap(), &topic, &records(1, 0)).await;

    // The webhook hangs: the throttle state saying "sent" is in the changelog within 50 ms, but
    // the action never finishes, so the record's offset is not committed when the process dies.
    let second = crash_while_sending(&receiver, book.path()).await;
    caught_up(&group, &topic).await;
    let (status, log) = second.stop();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("state restored"), "{log}");
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert_eq!(
        deliveries[0].key, deliveries[1].key,
        "the same idempotency key, so a receiver can drop the duplicate"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timer_alert_cut_short_by_a_crash_fires_again_after_the_restart() {
    let topic = fresh_topic("state-timer").await;
    let group = unique_name("state-timer");
    let receiver = Receiver::start().await;
    receiver.hang();
    let book = rulebook(&format!(
        r#"
- name: quiet
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: silent device
      condition: event.device != `null`
      window:
        group_by: [event.device]
        absent_for: 2 seconds
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{device: "{{{{ event.device }}}}", instance: "{{{{ env.INSTANCE }}}}"}}
          timeout: 30 s
"#
    ));
    produce_json(&bootstrap(), &topic, &records(1, 0)).await;

    // The device goes quiet; the absence fires on the clock and its webhook hangs. No record
    // caused it, so only the state write waiting for it keeps it from being saved as sent.
    let second = crash_while_sending(&receiver, book.path()).await;
    let (status, log) = second.stop();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("state restored"), "{log}");
}
