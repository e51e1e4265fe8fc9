//! `semaphore rules run` dead letters that do not fit, against the real broker: a 2 MB record the
//! dead-letter topic refuses is spooled to the dead-letter directory and a small dead letter names
//! it, so its partition advances; a dead-letter topic semaphore creates takes the record whole; a
//! clock firing whose webhook keeps failing is dead-lettered as its firing document.

mod common;

use std::time::Duration;

use common::kafka::{BROKER_TIMEOUT, PARTITIONS, bootstrap, plaintext_connection};
use common::run::{RulesRun, dead_letters, lag, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;
use rdkafka::producer::FutureRecord;
use semaphore::kafka::{check_topic, create_topic_with, dead_letter_producer};
use sha2::{Digest as _, Sha256};

const WAIT: Duration = Duration::from_secs(120);
const BIG: usize = 2 * 1024 * 1024;

/// A topic of [`PARTITIONS`] partitions with `max.message.bytes`, visible before it is returned.
async fn sized_topic(prefix: &str, max_message_bytes: &str) -> String {
    let topic = unique_name(prefix);
    let connection = plaintext_connection();
    let settings = [("max.message.bytes", max_message_bytes)];
    create_topic_with(
        &connection,
        &topic,
        PARTITIONS as i32,
        &settings,
        BROKER_TIMEOUT,
    )
    .await
    .expect("topic created");
    wait_until_visible(&topic).await;
    topic
}

/// Asks until the broker's metadata has `topic` (created here or by the `rules run` under test).
async fn wait_until_visible(topic: &str) {
    let connection = plaintext_connection();
    let deadline = tokio::time::Instant::now() + BROKER_TIMEOUT;
    while check_topic(&connection, topic, Duration::from_secs(5))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{topic} not visible"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 2 MB that are not JSON (they start with 0xff) and that zstd cannot shrink (xorshift noise), so
/// that compression cannot bring the record under a topic's limit.
fn incompressible() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise = (0..BIG - 1).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state.to_le_bytes()[0]
    });
    std::iter::once(0xff).chain(noise).collect()
}

/// The 2 MB value, then three JSON records, all on one key.
async fn produce_big_then_small(topic: &str) -> Vec<u8> {
    let big = incompressible();
    let producer = dead_letter_producer(&plaintext_connection()).expect("producer");
    producer
        .send(
            FutureRecord::to(topic).key("k").payload(big.as_slice()),
            BROKER_TIMEOUT,
        )
        .await
        .map_err(|(err, _)| err)
        .expect("the 2 MB record is produced");
    let later: Vec<_> = (1..=3)
        .map(|seq| ("k".to_owned(), format!(r#"{{"seq": {seq}}}"#).into_bytes()))
        .collect();
    produce_json(&bootstrap(), topic, &later).await;
    big
}

fn webhook_rulebook(topic: &str, group: &str) -> String {
    format!(
        r#"
- name: big
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: every event
      condition: event.seq != `null`
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          body: {{seq: "{{{{ event.seq }}}}"}}
          timeout: 5 s
"#
    )
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_the_dead_letter_topic_refuses_is_spooled_and_its_partition_advances() {
    let topic = sized_topic("big-source", "8388608").await;
    let dlq = sized_topic("small-dlq", "100000").await;
    let group = unique_name("big-spool");
    let spool = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start().await;
    let big = produce_big_then_small(&topic).await;
    let book = rulebook(&webhook_rulebook(&topic, &group));
    let dir = spool.path().to_str().expect("UTF-8 path");
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--dead-letter-topic", &dlq, "--dead-letter-dir", dir],
        &[("RECEIVER_URL", &receiver.url)],
    );
    receiver
        .wait_for("the records after the big one", WAIT, |d| d.len() >= 3)
        .await;
    let letters = dead_letters(&dlq, 1);
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");

    let letter = &letters[0];
    assert_eq!(letter.headers["semaphore.error.kind"], "decode");
    assert_eq!(letter.headers["semaphore.spooled.sha256"], hex_sha256(&big));
    assert_eq!(letter.headers["semaphore.spooled.size"], BIG.to_string());
    let file = &letter.headers["semaphore.spooled.file"];
    let kept = std::fs::read(spool.path().join(file)).expect("the spool file exists");
    assert!(kept == big, "the spool file holds the exact bytes");
    let note: serde_json::Value = serde_json::from_slice(&letter.value).expect("JSON note");
    assert_eq!(note["spooled"]["file"], file.as_str());
    assert!(log.contains("kept in the dead-letter directory"), "{log}");
    assert_eq!(lag(&bootstrap(), &group, &topic), 0, "offset committed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_topic_semaphore_creates_takes_the_big_record_whole() {
    let topic = sized_topic("big-whole", "8388608").await;
    let group = unique_name("big-whole");
    let spool = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start().await;
    let big = produce_big_then_small(&topic).await;
    let book = rulebook(&webhook_rulebook(&topic, &group));
    let dir = spool.path().to_str().expect("UTF-8 path");
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--dead-letter-dir", dir],
        &[("RECEIVER_URL", &receiver.url)],
    );
    receiver
        .wait_for("the records after the big one", WAIT, |d| d.len() >= 3)
        .await;
    let letters = dead_letters(&format!("{topic}.dlq"), 1);
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");

    assert!(
        letters[0].value == big,
        "the dead letter is the whole record"
    );
    assert!(!letters[0].headers.contains_key("semaphore.spooled.file"));
    let spooled = std::fs::read_dir(spool.path()).expect("listable").count();
    assert_eq!(spooled, 0, "nothing spooled");
    assert_eq!(lag(&bootstrap(), &group, &topic), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_firing_whose_webhook_keeps_failing_is_dead_lettered_as_its_document() {
    let topic = common::kafka::fresh_topic("timer-dlq").await;
    let group = unique_name("timer-dlq");
    let spool = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start().await;
    receiver.fail_with(500);
    let book = rulebook(&format!(
        r#"
- name: silence
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: gone
      condition: event.serial != `null`
      window: {{group_by: [event.serial], absent_for: 2 seconds}}
      action:
        webhook:
          url: "{{{{ env.RECEIVER_URL }}}}"
          timeout: 1 s
          retry: {{attempts: 2, backoff: 50 ms, max_backoff: 100 ms}}
"#
    ));
    produce_json(
        &bootstrap(),
        &topic,
        &[("d".to_owned(), br#"{"serial": "Q2-1"}"#.to_vec())],
    )
    .await;
    let dir = spool.path().to_str().expect("UTF-8 path");
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--dead-letter-dir", dir],
        &[("RECEIVER_URL", &receiver.url)],
    );
    // semaphore creates the dead-letter topic at start; the reader must not subscribe before.
    wait_until_visible(&format!("{topic}.dlq")).await;
    let letters = dead_letters(&format!("{topic}.dlq"), 1);
    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");

    let letter = &letters[0];
    assert_eq!(letter.headers["semaphore.error.kind"], "timer_action");
    assert_eq!(letter.headers["semaphore.ruleset"], "silence");
    assert_eq!(letter.headers["semaphore.rule"], "silence/gone");
    assert_eq!(letter.headers["semaphore.action"], "webhook");
    assert!(
        letter.headers["semaphore.error"].contains("500"),
        "{:?}",
        letter.headers
    );
    assert!(letter.headers.contains_key("semaphore.group_key"));
    assert!(letter.headers.contains_key("semaphore.due"));
    let document: serde_json::Value = serde_json::from_slice(&letter.value).expect("JSON");
    assert_eq!(document["rule"], "gone");
    assert_eq!(document["ruleset"], "silence");
    assert!(receiver.deliveries().len() >= 2, "the webhook was tried");
}
