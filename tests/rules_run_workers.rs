//! `semaphore rules run --workers 2` against the real broker, with a webhook receiver on 127.0.0.1:
//! the records of each partition fire in their order although two engine shards evaluate them; a
//! rulebook that mixes sharded rulesets (throttle, window) with one that needs one view (`all:`)
//! says so at start, keeps its state across a second member joining (state restored from the
//! changelog, partitions moving between members and shards); an `all:` whose events come from
//! different partitions still matches; and a reload reaches every shard at one point.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::kafka::{TestRecord, bootstrap, fresh_topic, produce};
use common::run::{RulesRun, lag, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;

const WAIT: Duration = Duration::from_secs(120);
const TWO: [&str; 2] = ["--workers", "2"];

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

async fn wait_for_log(run: &RulesRun, needle: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !run.log().contains(needle) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {needle:?} in {}",
            run.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_partitions_records_fire_in_order_with_two_workers() {
    let topic = fresh_topic("workers-order").await;
    let group = unique_name("workers-order");
    let receiver = Receiver::start().await;
    let book = rulebook(&format!(
        r#"
- name: ordered
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  execution_strategy: sequential
  rules:
    - name: every record
      condition: event.seq >= `0`
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{partition: "{{{{ meta.partition }}}}", offset: "{{{{ meta.offset }}}}"}}
"#
    ));
    let records: Vec<(String, Vec<u8>)> = (0..600)
        .map(|seq| {
            let value = serde_json::json!({ "seq": seq });
            (format!("key-{}", seq % 60), value.to_string().into_bytes())
        })
        .collect();
    let delivered = produce_json(&bootstrap(), &topic, &records).await;
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &TWO,
        &[("RECEIVER_URL", &receiver.url)],
    );
    receiver
        .wait_for("every record", WAIT, |d| d.len() >= records.len())
        .await;
    caught_up(&group, &topic).await;
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("workers=2"), "{log}");

    let mut per_partition: HashMap<u64, Vec<u64>> = HashMap::new();
    for delivery in receiver.deliveries() {
        let field = |name: &str| delivery.body[name].as_u64().expect("a number");
        per_partition
            .entry(field("partition"))
            .or_default()
            .push(field("offset"));
    }
    let partitions: HashSet<i32> = delivered.iter().map(|(p, _)| *p).collect();
    assert_eq!(per_partition.len(), partitions.len(), "{per_partition:?}");
    for (partition, offsets) in &per_partition {
        let mut sorted = offsets.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            offsets, &sorted,
            "partition {partition} out of order or twice"
        );
    }
    assert_eq!(
        per_partition.values().map(Vec::len).sum::<usize>(),
        records.len()
    );
}

/// A sharded ruleset (throttle and window per device) and one that needs one view (`all:`).
fn mixed_rulebook(topic: &str, group: &str) -> String {
    format!(
        r#"
- name: per device
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  execution_strategy: parallel
  match_multiple_rules: true
  rules:
    - name: down once per device
      condition: event.kind == 'down'
      throttle: {{once_within: 1 hour, group_by: [event.device]}}
      action:
        webhook: &send
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{rule: "{{{{ rule }}}}", device: "{{{{ event.device }}}}", instance: "{{{{ env.INSTANCE }}}}"}}
          timeout: 5 s
    - name: five samples
      condition: event.kind == 'sample'
      window: {{group_by: [event.device], size: 1 hour, fire_when: window.count >= `5`}}
      action:
        webhook: *send
- name: correlated
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  execution_strategy: parallel
  rules:
    - name: down then recovered
      condition:
        all:
          - event.kind == 'down'
          - event.kind == 'recovered' && event.device == events.m_0.device
        timeout: 1 hour
      action:
        webhook: *send
"#
    )
}

/// Per device, keyed by device: optionally a recovery first, then a `down` and `samples` samples.
fn device_records(devices: usize, samples: usize, recover: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for device in 0..devices {
        let key = format!("device-{device:03}");
        let mut kinds = Vec::new();
        if recover {
            kinds.push("recovered");
        }
        kinds.push("down");
        kinds.extend(std::iter::repeat_n("sample", samples));
        for kind in kinds {
            let value = serde_json::json!({"kind": kind, "device": key});
            out.push((key.clone(), value.to_string().into_bytes()));
        }
    }
    out
}

fn count(receiver: &Receiver, rule: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for delivery in receiver.deliveries() {
        if delivery.body["rule"] == rule {
            let device = delivery.body["device"].as_str().unwrap_or_default();
            *counts.entry(device.to_owned()).or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn sharded_and_one_view_state_moves_to_a_second_member_with_two_workers_each() {
    let topic = fresh_topic("workers-move").await;
    let group = unique_name("workers-move");
    let receiver = Receiver::start().await;
    let book = rulebook(&mixed_rulebook(&topic, &group));
    const DEVICES: usize = 60;

    produce_json(&bootstrap(), &topic, &device_records(DEVICES, 3, false)).await;
    let env_a = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "a")];
    let first = RulesRun::start(book.path(), &bootstrap(), &TWO, &env_a);
    receiver
        .wait_for("one down alert per device", WAIT, |_| {
            count(&receiver, "down once per device").len() == DEVICES
        })
        .await;
    caught_up(&group, &topic).await;
    let log = first.log();
    assert!(
        log.contains("rulesets evaluated in parallel") && log.contains("per device"),
        "{log}"
    );
    assert!(
        log.contains("ruleset evaluated on one worker") && log.contains("correlated"),
        "{log}"
    );

    let env_b = [("RECEIVER_URL", receiver.url.as_str()), ("INSTANCE", "b")];
    let second = RulesRun::start(book.path(), &bootstrap(), &TWO, &env_b);
    wait_for_log(&second, "state restored").await;
    // A recovery completes each device's `all:` started before; the second `down` stays throttled;
    // two more samples make each device's window of five.
    produce_json(&bootstrap(), &topic, &device_records(DEVICES, 2, true)).await;
    receiver
        .wait_for("every window and correlation firing", WAIT, |_| {
            count(&receiver, "five samples").len() == DEVICES
                && count(&receiver, "down then recovered").len() == DEVICES
        })
        .await;
    caught_up(&group, &topic).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status_b, log_b) = second.stop();
    let (status_a, log_a) = first.stop();
    assert!(status_a.success() && status_b.success(), "{log_a}\n{log_b}");
    for rule in [
        "down once per device",
        "five samples",
        "down then recovered",
    ] {
        let counts = count(&receiver, rule);
        assert!(counts.values().all(|n| *n == 1), "{rule}: {counts:?}");
        assert_eq!(counts.len(), DEVICES, "{rule}");
    }
    let by_b = receiver
        .deliveries()
        .iter()
        .filter(|d| d.body["instance"] == "b" && d.body["rule"] == "five samples")
        .count();
    assert!(
        by_b > 0,
        "b completed no window: the partitions did not move"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_all_whose_events_come_from_different_partitions_matches_with_two_workers() {
    let topic = fresh_topic("workers-all").await;
    let group = unique_name("workers-all");
    let receiver = Receiver::start().await;
    let book = rulebook(&format!(
        r#"
- name: pairs
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: pair
      condition:
        all:
          - event.kind == 'a'
          - event.kind == 'b' && event.id == events.m_0.id
        timeout: 1 hour
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{id: "{{{{ events.m_1.id }}}}"}}
"#
    ));
    // Pair n: `a` in partition n % 6, `b` in the next one, so pairs span the shards' partitions.
    const PAIRS: usize = 24;
    let record = |kind: &str, id: usize, partition: usize| TestRecord {
        key: None,
        value: Some(
            serde_json::json!({"kind": kind, "id": id})
                .to_string()
                .into_bytes(),
        ),
        partition: Some(i32::try_from(partition % 6).expect("small")),
    };
    let a: Vec<TestRecord> = (0..PAIRS).map(|n| record("a", n, n)).collect();
    let b: Vec<TestRecord> = (0..PAIRS).map(|n| record("b", n, n + 1)).collect();
    produce(&topic, &a).await;
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &TWO,
        &[("RECEIVER_URL", &receiver.url)],
    );
    wait_for_log(&run, "first record received").await;
    produce(&topic, &b).await;
    receiver
        .wait_for("every pair", WAIT, |d| d.len() >= PAIRS)
        .await;
    caught_up(&group, &topic).await;
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    let ids: HashSet<u64> = receiver
        .deliveries()
        .iter()
        .filter_map(|d| d.body["id"].as_u64())
        .collect();
    assert_eq!(ids.len(), PAIRS, "{ids:?}");
    assert_eq!(receiver.deliveries().len(), PAIRS);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_reaches_every_shard_before_the_next_records_with_two_workers() {
    let topic = fresh_topic("workers-reload").await;
    let group = unique_name("workers-reload");
    let receiver = Receiver::start().await;
    let book = |version: u32| {
        format!(
            r#"- name: reload
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: alert
      condition: event.seq >= `0`
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{version: {version}, seq: "{{{{ event.seq }}}}"}}
"#
        )
    };
    let file = rulebook(&book(1));
    let batch = |from: u64| -> Vec<(String, Vec<u8>)> {
        (from..from + 60)
            .map(|seq| {
                let value = serde_json::json!({ "seq": seq });
                (format!("key-{seq}"), value.to_string().into_bytes())
            })
            .collect()
    };
    let run = RulesRun::start(
        file.path(),
        &bootstrap(),
        &["--workers", "2", "--watch"],
        &[("RECEIVER_URL", &receiver.url)],
    );
    produce_json(&bootstrap(), &topic, &batch(0)).await;
    receiver
        .wait_for("the first batch", WAIT, |d| d.len() >= 60)
        .await;
    std::fs::write(file.path(), book(2)).expect("rulebook rewritten");
    wait_for_log(&run, "rulebook reloaded").await;
    produce_json(&bootstrap(), &topic, &batch(1_000)).await;
    receiver
        .wait_for("the second batch", WAIT, |d| d.len() >= 120)
        .await;
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    for delivery in receiver.deliveries() {
        let seq = delivery.body["seq"].as_u64().expect("seq");
        let expected = if seq < 1_000 { 1 } else { 2 };
        assert_eq!(delivery.body["version"], expected, "record {seq}");
    }
}
