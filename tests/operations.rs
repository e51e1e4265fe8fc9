//! Operating `semaphore rules run`, against the real broker and real processes: `/metrics` scraped
//! during a run moves exactly as the records say (per topic, per rule, actions ok and failed against
//! a failing webhook on 127.0.0.1, dead letters, lag and committed offsets), and JSON logs carry the
//! record span; `/readyz` turns 200 once partitions are assigned and is 503 for a member left
//! without partitions; a metrics port in use is a clear error.

mod common;
#[path = "fixtures/operations.rs"]
mod ops;

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde_json::Value;

use common::kafka::{bootstrap, fresh_topic, plaintext_connection};
use common::run::{RulesRun, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;
use ops::{WAIT, free_addr, get, readyz, sample, scrape_until, sum};

fn counting_rulebook(topic: &str, group: &str) -> String {
    format!(
        r#"
- name: ops
  match_multiple_rules: true
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: small
      condition: event.seq < `5`
      action:
        webhook:
          url: "{{{{ env.OK_URL }}}}"
          body: {{seq: "{{{{ event.seq }}}}"}}
    - name: large
      condition: event.seq >= `5`
      action:
        webhook:
          url: "{{{{ env.FAIL_URL }}}}"
          body: {{seq: "{{{{ event.seq }}}}"}}
          timeout: 5 s
          retry: {{attempts: 2, backoff: 10 ms}}
    - name: never
      condition: event.seq == `-1`
      action:
        debug: {{}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_records_rules_actions_dead_letters_and_lag() {
    let topic = fresh_topic("ops-metrics").await;
    let group = unique_name("ops-metrics");
    let ok = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.fail_with(500);
    let mut records: Vec<(String, Vec<u8>)> = (0..10)
        .map(|seq| {
            let value = serde_json::json!({"seq": seq}).to_string();
            (format!("k{seq}"), value.into_bytes())
        })
        .collect();
    records.push(("bad1".into(), b"{\"seq\": oops".to_vec()));
    records.push(("bad2".into(), vec![0xff, 0xfe]));
    produce_json(&bootstrap(), &topic, &records).await;

    let book = rulebook(&counting_rulebook(&topic, &group));
    let addr = free_addr();
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[
            "--metrics-addr",
            &addr,
            "--log-format",
            "json",
            "-X",
            "statistics.interval.ms=500",
        ],
        &[("OK_URL", &ok.url), ("FAIL_URL", &failing.url)],
    );
    let rule = |name: &'static str| [("ruleset", "ops"), ("rule", name)];
    let text = scrape_until(&addr, "every dead letter and a lag of 0", |text| {
        let (partitions, lag) = sum(text, "semaphore_consumer_lag", &[("topic", &topic)]);
        let (_, committed) = sum(text, "semaphore_committed_offset", &[("topic", &topic)]);
        sample(
            text,
            "semaphore_dead_letters_total",
            &[("reason", "action")],
        ) == Some(5.0)
            && sample(
                text,
                "semaphore_dead_letters_total",
                &[("reason", "decode")],
            ) == Some(2.0)
            && sample(text, "semaphore_rule_evaluations_total", &rule("never")) == Some(10.0)
            && partitions >= 1
            && lag == 0.0
            && committed == 12.0
    })
    .await;

    let topic_label = [("topic", topic.as_str())];
    assert_eq!(
        sample(&text, "semaphore_records_consumed_total", &topic_label),
        Some(12.0)
    );
    assert_eq!(
        sample(&text, "semaphore_decode_errors_total", &topic_label),
        Some(2.0)
    );
    for (name, matches) in [("small", 5.0), ("large", 5.0), ("never", 0.0)] {
        assert_eq!(
            sample(&text, "semaphore_rule_evaluations_total", &rule(name)),
            Some(10.0),
            "{name}"
        );
        assert_eq!(
            sample(&text, "semaphore_rule_matches_total", &rule(name)),
            Some(matches),
            "{name}"
        );
        assert_eq!(
            sample(&text, "semaphore_rule_firings_total", &rule(name)),
            Some(matches),
            "{name}"
        );
    }
    let action = |outcome| [("action", "webhook"), ("outcome", outcome)];
    assert_eq!(
        sample(&text, "semaphore_actions_total", &action("ok")),
        Some(5.0)
    );
    assert_eq!(
        sample(&text, "semaphore_actions_total", &action("failed")),
        Some(5.0)
    );
    assert_eq!(
        sample(
            &text,
            "semaphore_action_retries_total",
            &[("action", "webhook")]
        ),
        Some(5.0),
        "two attempts each: one retry per failed firing"
    );
    assert_eq!(
        sample(&text, "semaphore_evaluation_duration_seconds_count", &[]),
        Some(10.0),
        "one evaluation per decodable record"
    );
    assert!(text.contains("# HELP semaphore_consumer_lag"), "{text}");
    assert!(!text.contains("k1\""), "no record keys in labels");

    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    // JSON logs: the dead-letter line carries the record's span, the failure its rule.
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let dead = lines
        .iter()
        .find(|line| line["fields"]["message"] == "record dead-lettered")
        .unwrap_or_else(|| panic!("no dead-letter line in {log}"));
    assert_eq!(dead["span"]["name"], "record", "{dead}");
    assert_eq!(dead["span"]["topic"], topic.as_str(), "{dead}");
    assert!(dead["span"]["offset"].is_u64(), "{dead}");
    assert!(dead["span"]["partition"].is_u64(), "{dead}");
    let failed = lines
        .iter()
        .find(|line| line["fields"]["message"] == "action failed")
        .unwrap_or_else(|| panic!("no action failure line in {log}"));
    assert_eq!(failed["span"]["rule"], "large", "{failed}");
    assert_eq!(failed["spans"][0]["name"], "record", "{failed}");
}

/// The webhook URLs the counting rulebook reads, for runs that send nothing: `rules run` refuses to
/// start when a template reads an unset variable.
const UNUSED_URLS: &[(&str, &str)] = &[
    ("OK_URL", "http://127.0.0.1:9/"),
    ("FAIL_URL", "http://127.0.0.1:9/"),
];

/// A topic with a single partition: two members of a group cannot both own one.
async fn one_partition_topic(prefix: &str) -> String {
    let name = unique_name(prefix);
    let admin: AdminClient<DefaultClientContext> = plaintext_connection()
        .client_config()
        .expect("valid settings")
        .create()
        .expect("admin client");
    let options = AdminOptions::new().operation_timeout(Some(WAIT));
    let topic = NewTopic::new(&name, 1, TopicReplication::Fixed(1));
    for result in admin
        .create_topics([&topic], &options)
        .await
        .expect("create_topics")
    {
        result.unwrap_or_else(|(topic, code)| panic!("creating {topic}: {code}"));
    }
    name
}

/// Polls `/readyz` until `done` holds; returns every answer seen.
async fn readyz_until(addr: &str, done: impl Fn(u16, &Value) -> bool) -> Vec<(u16, Value)> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        if let Some((status, body)) = readyz(addr).await {
            let finished = done(status, &body);
            seen.push((status, body));
            if finished {
                return seen;
            }
        }
        assert!(
            Instant::now() < deadline,
            "readiness never settled: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls both members until one is ready and the other idle (503, no partitions); returns the
/// index of the idle one.
async fn one_ready_one_idle(addrs: [&str; 2]) -> usize {
    let deadline = Instant::now() + WAIT;
    loop {
        let a = readyz(addrs[0]).await;
        let b = readyz(addrs[1]).await;
        if let (Some((a_status, a_body)), Some((b_status, b_body))) = (&a, &b) {
            let answers = [(*a_status, a_body), (*b_status, b_body)];
            let idle = answers.iter().position(|(status, body)| {
                *status == 503 && body["checks"]["partitions"] == "no partitions assigned"
            });
            if let Some(idle) = idle
                && answers[1 - idle].0 == 200
            {
                assert_eq!(answers[idle].1["checks"]["broker"], "ok");
                assert_eq!(answers[idle].1["ready"], false);
                return idle;
            }
        }
        assert!(
            Instant::now() < deadline,
            "never one ready and one idle member: {a:?} {b:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// The first member may be assigned before its first answer (the test broker has no initial
// rebalance delay), so the 503 → 200 flip is shown on a member that starts idle and takes the
// partition over when the busy one stops.
#[tokio::test(flavor = "multi_thread")]
async fn readiness_needs_assigned_partitions() {
    let topic = one_partition_topic("ops-ready").await;
    let group = unique_name("ops-ready");
    let book = rulebook(&counting_rulebook(&topic, &group));
    let addrs = [free_addr(), free_addr()];
    let first = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--metrics-addr", &addrs[0]],
        UNUSED_URLS,
    );
    let seen = readyz_until(&addrs[0], |status, _| status == 200).await;
    let (_, ready) = seen.last().expect("at least one answer");
    assert_eq!(ready["ready"], true);
    for check in ["rulebook", "partitions", "broker"] {
        assert_eq!(ready["checks"][check], "ok", "{ready}");
    }
    let health = get(&format!("http://{}/healthz", addrs[0])).await;
    assert_eq!(health.map(|(status, _)| status), Some(200));

    // A second member gets nothing of a one-partition topic: it serves, but is not ready.
    let second = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--metrics-addr", &addrs[1]],
        UNUSED_URLS,
    );
    let mut members = [Some(first), Some(second)];
    let idle = one_ready_one_idle([&addrs[0], &addrs[1]]).await;
    let busy = 1 - idle;
    let health = get(&format!("http://{}/healthz", addrs[idle])).await;
    assert_eq!(
        health.map(|(status, _)| status),
        Some(200),
        "an idle member is alive"
    );

    // The busy member leaves: the idle one is assigned the partition and turns ready.
    let (status, log) = members[busy].take().expect("running").stop();
    assert!(status.success(), "exit {status}: {log}");
    let seen = readyz_until(&addrs[idle], |status, _| status == 200).await;
    let (_, ready) = seen.last().expect("at least one answer");
    assert_eq!(ready["checks"]["partitions"], "ok", "{ready}");
    let (status, log) = members[idle].take().expect("running").stop();
    assert!(status.success(), "exit {status}: {log}");
}

#[test]
fn a_metrics_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("bound").to_string();
    let book = rulebook(&counting_rulebook("ops-unused", "ops-unused"));
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--metrics-addr", &addr],
        UNUSED_URLS,
    );
    let (status, log) = run.wait(Duration::from_secs(30));
    assert!(!status.success(), "{log}");
    assert!(log.contains(&format!("cannot listen on {addr}:")), "{log}");
}
