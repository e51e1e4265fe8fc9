//! `semaphore rules run` when things go wrong, against the real broker: malformed records go to the
//! dead-letter topic while good ones are processed in order; an action that keeps failing
//! dead-letters its record and the offset still advances; a broker restart is waited out; an
//! unreachable broker or a missing topic is a clear error at start.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::kafka::{bootstrap, fresh_topic};
use common::run::{RulesRun, dead_letters, lag, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;

const WAIT: Duration = Duration::from_secs(120);

fn webhook_rulebook(topic: &str, group: &str, webhook_extra: &str) -> String {
    format!(
        r#"
- name: failures
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: every event
      condition: event.seq != `null`
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{seq: "{{{{ event.seq }}}}", key: "{{{{ meta.key }}}}"}}
{webhook_extra}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_records_are_dead_lettered_and_good_ones_processed_in_order() {
    let topic = fresh_topic("run-malformed").await;
    let group = unique_name("run-malformed");
    let receiver = Receiver::start().await;
    let mut records = Vec::new();
    for seq in 0..1_200 {
        let key = format!("key-{}", seq % 10);
        let value = match seq % 12 {
            5 => b"{\"seq\": oops".to_vec(),
            11 => vec![0xff, 0xfe, b'{'],
            _ => serde_json::json!({"seq": seq}).to_string().into_bytes(),
        };
        records.push((key, value));
    }
    produce_json(&bootstrap(), &topic, &records).await;
    let good = 1_000;
    let book = rulebook(&webhook_rulebook(&topic, &group, "          timeout: 5 s"));
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[],
        &[("RECEIVER_URL", &receiver.url)],
    );
    receiver
        .wait_for("every good record", WAIT, |d| d.len() >= good)
        .await;

    let letters = dead_letters(&format!("{topic}.dlq"), 200);
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");

    // In order per key (that is, per partition), each good record once.
    let mut last: HashMap<String, i64> = HashMap::new();
    for delivery in receiver.deliveries() {
        let key = delivery.body["key"].as_str().expect("key").to_owned();
        let seq = delivery.body["seq"].as_i64().expect("seq");
        let previous = last.insert(key.clone(), seq);
        assert!(
            previous.is_none_or(|p| p < seq),
            "{key}: {seq} after {previous:?}"
        );
    }
    assert_eq!(receiver.counts().len(), good);

    assert_eq!(letters.len(), 200);
    for letter in &letters {
        assert_eq!(letter.headers["semaphore.error.kind"], "decode");
        assert_eq!(letter.headers["semaphore.source.topic"], topic);
        assert!(
            letter.headers["semaphore.error"].starts_with("payload is not valid"),
            "{:?}",
            letter.headers
        );
        assert!(
            letter.headers["semaphore.source.offset"]
                .parse::<i64>()
                .is_ok()
        );
    }
    let original: Vec<&[u8]> = letters.iter().map(|l| l.value.as_slice()).collect();
    assert!(
        original.contains(&&b"{\"seq\": oops"[..]) && original.contains(&&[0xff, 0xfe, b'{'][..])
    );
    assert_eq!(lag(&bootstrap(), &group, &topic), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_that_is_not_an_object_is_dead_lettered_as_its_own_kind() {
    let topic = fresh_topic("run-not-object").await;
    let group = unique_name("run-not-object");
    let receiver = Receiver::start().await;
    let not_objects = ["42", "\"text\"", "[1, 2]", "null"];
    let mut records: Vec<(String, Vec<u8>)> = not_objects
        .iter()
        .map(|value| ("k".to_owned(), value.as_bytes().to_vec()))
        .collect();
    records.push(("k".to_owned(), br#"{"seq": 7}"#.to_vec()));
    produce_json(&bootstrap(), &topic, &records).await;
    let book = rulebook(&webhook_rulebook(&topic, &group, "          timeout: 5 s"));
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[],
        &[("RECEIVER_URL", &receiver.url)],
    );
    receiver
        .wait_for("the object record", WAIT, |d| !d.is_empty())
        .await;
    let letters = dead_letters(&format!("{topic}.dlq"), not_objects.len());
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("not objects: 4"), "{log}");
    assert_eq!(receiver.counts().len(), 1);
    let mut values: Vec<String> = letters
        .iter()
        .map(|l| String::from_utf8_lossy(&l.value).into_owned())
        .collect();
    values.sort();
    let mut expected: Vec<String> = not_objects.iter().map(|v| (*v).to_owned()).collect();
    expected.sort();
    assert_eq!(values, expected);
    for letter in &letters {
        assert_eq!(letter.headers["semaphore.error.kind"], "not_an_object");
        assert!(
            letter.headers["semaphore.error"].starts_with("payload is JSON but not an object"),
            "{:?}",
            letter.headers
        );
    }
    assert_eq!(lag(&bootstrap(), &group, &topic), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_action_that_keeps_failing_is_dead_lettered_and_the_offset_advances() {
    let topic = fresh_topic("run-failing").await;
    let group = unique_name("run-failing");
    let receiver = Receiver::start().await;
    receiver.fail_with(500);
    let records: Vec<_> = (0..10)
        .map(|seq| {
            (
                format!("k{seq}"),
                serde_json::json!({"seq": seq}).to_string().into_bytes(),
            )
        })
        .collect();
    produce_json(&bootstrap(), &topic, &records).await;
    let extra = "          timeout: 1 s\n          retry: {attempts: 3, backoff: 50 ms, max_backoff: 200 ms}";
    let book = rulebook(&webhook_rulebook(&topic, &group, extra));
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[],
        &[("RECEIVER_URL", &receiver.url)],
    );

    // 500s for the first five records' attempts, then no answer at all: timeouts, also retried.
    receiver
        .wait_for("the first failures", WAIT, |d| d.len() >= 15)
        .await;
    receiver.hang();
    let letters = dead_letters(&format!("{topic}.dlq"), 10);
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");

    for letter in &letters {
        assert_eq!(letter.headers["semaphore.error.kind"], "action");
        assert_eq!(letter.headers["semaphore.rule"], "failures/every event");
        assert_eq!(letter.headers["semaphore.action"], "webhook");
    }
    let counts = receiver.counts();
    assert_eq!(counts.len(), 10, "every record's action was tried");
    assert!(
        counts.values().all(|n| *n == 3),
        "three attempts each: {counts:?}"
    );
    assert_eq!(
        lag(&bootstrap(), &group, &topic),
        0,
        "dead-lettered records count as done"
    );
}

/// `{"seq": N}` records keyed over 30 keys.
fn numbered(seqs: std::ops::Range<u32>) -> Vec<(String, Vec<u8>)> {
    seqs.map(|seq| {
        (
            format!("k{}", seq % 30),
            serde_json::json!({"seq": seq}).to_string().into_bytes(),
        )
    })
    .collect()
}

/// Runs the project's broker script for a private broker in `state`.
fn broker(command: &str, state: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kafka-test-broker.sh");
    let output = Command::new(script)
        .arg(command)
        .env("KAFKA_HOME_DIR", state)
        .env_remove("KAFKA_SASL_SSL")
        .output()
        .expect("broker script runs");
    assert!(
        output.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("export KAFKA_BOOTSTRAP="))
        .unwrap_or_default()
        .to_owned()
}

/// Stops the private broker even when the test fails.
struct PrivateBroker(tempfile::TempDir);

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        broker("stop", self.0.path());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_restart_during_a_run_loses_nothing() {
    // A broker of its own: restarting the shared one would disturb the other tests.
    let state = PrivateBroker(tempfile::tempdir().expect("temp dir"));
    let address = broker("start", state.0.path());
    let topic = unique_name("run-restart");
    let group = unique_name("run-restart");
    let receiver = Receiver::start().await;
    let first = numbered(0..3_000);
    produce_json(&address, &topic, &first).await;
    let book = rulebook(&webhook_rulebook(&topic, &group, "          timeout: 5 s"));
    let run = RulesRun::start(
        book.path(),
        &address,
        &[],
        &[("RECEIVER_URL", &receiver.url)],
    );
    receiver
        .wait_for("some deliveries", WAIT, |d| !d.is_empty())
        .await;

    broker("restart", state.0.path());
    let second = numbered(3_000..4_000);
    produce_json(&address, &topic, &second).await;
    receiver
        .wait_for("every record after the restart", WAIT, |_| {
            receiver.counts().len() == 4_000
        })
        .await;
    // Commits resume once the group coordinator is back (it may take a session timeout).
    let deadline = std::time::Instant::now() + WAIT;
    while lag(&address, &group, &topic) != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "offsets were not committed after the restart: {}",
            run.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
}

#[test]
fn an_unreachable_broker_is_a_clear_error_within_the_timeout() {
    let book = rulebook(&webhook_rulebook("t", "g", ""));
    let started = std::time::Instant::now();
    let run = RulesRun::start(
        book.path(),
        "127.0.0.1:1",
        &["--connect-timeout", "3"],
        &[("RECEIVER_URL", "http://127.0.0.1:9/")],
    );
    let (status, log) = run.wait(Duration::from_secs(30));
    assert!(!status.success());
    assert!(
        log.contains("cannot reach Kafka at 127.0.0.1:1 within 3s"),
        "{log}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_missing_topic_is_a_clear_error() {
    let topic = unique_name("never-created");
    let book = rulebook(&webhook_rulebook(&topic, "g", ""));
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[],
        &[("RECEIVER_URL", "http://127.0.0.1:9/")],
    );
    let (status, log) = run.wait(Duration::from_secs(30));
    assert!(!status.success());
    assert!(
        log.contains(&format!("topic \"{topic}\" does not exist")),
        "{log}"
    );
}
