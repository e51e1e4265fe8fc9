//! `semaphore rules run` against the real broker, with a webhook receiver counting idempotency keys:
//! a `kill -9` in the middle loses nothing, and two processes in one group share the partitions and
//! take over from each other.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::kafka::{bootstrap, fresh_topic};
use common::run::{RulesRun, lag, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;

const WAIT: Duration = Duration::from_secs(180);

fn webhook_rulebook(topic: &str, group: &str) -> String {
    format!(
        r#"
- name: delivery
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  execution_strategy: parallel
  rules:
    - name: matching
      condition: event.match
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body:
            seq: "{{{{ event.seq }}}}"
            instance: "{{{{ env.INSTANCE }}}}"
            partition: "{{{{ meta.partition }}}}"
          timeout: 5 s
"#
    )
}

/// `count` records keyed over 60 keys; every `every`-th one matches.
fn records(start: usize, count: usize, every: usize) -> Vec<(String, Vec<u8>)> {
    (start..start + count)
        .map(|seq| {
            let value = serde_json::json!({"seq": seq, "match": seq % every == 0});
            (format!("key-{}", seq % 60), value.to_string().into_bytes())
        })
        .collect()
}

/// The idempotency keys the matching records must produce.
fn expected_keys(
    topic: &str,
    records: &[(String, Vec<u8>)],
    delivered: &[(i32, i64)],
    every: usize,
) -> HashSet<String> {
    records
        .iter()
        .zip(delivered)
        .filter(|((_, value), _)| {
            let seq = serde_json::from_slice::<serde_json::Value>(value).expect("json")["seq"]
                .as_u64()
                .expect("seq");
            (seq as usize).is_multiple_of(every)
        })
        .map(|(_, (partition, offset))| format!("{topic}/{partition}/{offset}/delivery/matching"))
        .collect()
}

/// Every expected idempotency key has arrived at least once.
fn all_arrived(receiver: &Receiver, expected: &HashSet<String>) -> bool {
    receiver
        .counts()
        .keys()
        .filter(|k| expected.contains(*k))
        .count()
        == expected.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_9_in_the_middle_loses_no_matching_record() {
    let topic = fresh_topic("run-kill").await;
    let group = unique_name("run-kill");
    let receiver = Receiver::start().await;
    let records = records(0, 50_000, 5);
    let delivered = produce_json(&bootstrap(), &topic, &records).await;
    let expected = expected_keys(&topic, &records, &delivered, 5);
    assert_eq!(expected.len(), 10_000);
    let book = rulebook(&webhook_rulebook(&topic, &group));
    let env = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "a")];

    let first = RulesRun::start(book.path(), &bootstrap(), &[], &env);
    receiver
        .wait_for("a first part of the deliveries", WAIT, |d| d.len() >= 2_000)
        .await;
    first.kill_hard();
    let before_restart = receiver.counts().len();
    assert!(
        before_restart < expected.len(),
        "the kill came too late to test anything"
    );

    let second = RulesRun::start(book.path(), &bootstrap(), &[], &env);
    receiver
        .wait_for("every matching record", WAIT, |_| {
            all_arrived(&receiver, &expected)
        })
        .await;
    let (status, log) = second.stop();
    assert!(status.success(), "exit {status}: {log}");

    let counts = receiver.counts();
    let received: HashSet<String> = counts.keys().cloned().collect();
    assert_eq!(
        received, expected,
        "exactly the matching records, each at least once"
    );
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!(
        "kill -9 after {before_restart} distinct deliveries; duplicates after restart: {duplicates}"
    );
    assert_eq!(
        lag(&bootstrap(), &group, &topic),
        0,
        "everything committed after the graceful stop"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_share_the_partitions_and_one_takes_over_from_the_other() {
    let topic = fresh_topic("run-group").await;
    let group = unique_name("run-group");
    let receiver = Receiver::start().await;
    let book = rulebook(&webhook_rulebook(&topic, &group));
    let url = receiver.url.clone();
    let a = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[],
        &[("RECEIVER_URL", &url), ("INSTANCE", "a")],
    );
    let b = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[],
        &[("RECEIVER_URL", &url), ("INSTANCE", "b")],
    );
    // Both members must have joined before the records exist, so that each gets partitions.
    tokio::time::sleep(Duration::from_secs(8)).await;

    let first = records(0, 6_000, 2);
    let first_delivered = produce_json(&bootstrap(), &topic, &first).await;
    let mut expected = expected_keys(&topic, &first, &first_delivered, 2);
    receiver
        .wait_for("the first batch", WAIT, |_| {
            receiver.counts().len() >= expected.len()
        })
        .await;
    let instances = |name: &str| -> HashSet<u64> {
        receiver
            .deliveries()
            .iter()
            .filter(|d| d.body["instance"] == name)
            .filter_map(|d| d.body["partition"].as_u64())
            .collect()
    };
    let (of_a, of_b) = (instances("a"), instances("b"));
    assert!(
        !of_a.is_empty() && !of_b.is_empty(),
        "both members worked: a {of_a:?}, b {of_b:?}"
    );
    assert!(
        of_a.is_disjoint(&of_b),
        "no partition served by both: a {of_a:?}, b {of_b:?}"
    );

    a.kill_hard();
    let second = records(6_000, 6_000, 2);
    let second_delivered = produce_json(&bootstrap(), &topic, &second).await;
    expected.extend(expected_keys(&topic, &second, &second_delivered, 2));
    receiver
        .wait_for("every record after the takeover", WAIT, |_| {
            all_arrived(&receiver, &expected)
        })
        .await;
    assert_eq!(
        instances("b").len(),
        6,
        "b serves all six partitions after a died"
    );
    let (status, log) = b.stop();
    assert!(status.success(), "exit {status}: {log}");
    assert_eq!(lag(&bootstrap(), &group, &topic), 0);
}
