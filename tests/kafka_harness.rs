//! The Kafka harness against the real test broker, through the project's own `config` and `kafka`
//! modules: keyed produce and exactly-once group reads of 10,000 records, committed offsets across
//! a restart, two group members splitting the partitions, the SASL_SSL/PLAIN login, and the
//! pre-flight check's errors.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::kafka::{
    BROKER_TIMEOUT, Delivered, PARTITIONS, bootstrap, fresh_topic, keyed_records,
    plaintext_connection, produce, sasl_ssl,
};
use common::unique_name;
use semaphore::config::{KafkaConnection, KafkaConnectionConfig, OffsetReset, Secret};
use semaphore::kafka::{Consumer, KafkaError, Record, check_topic, create_topic};

/// How long "no more records" is waited for after the expected ones arrived.
const QUIET: Duration = Duration::from_secs(2);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

fn subscribe(connection: &KafkaConnection, group: &str, topic: &str) -> Consumer {
    Consumer::subscribe(connection, group, OffsetReset::Earliest, &[topic]).expect("subscribed")
}

/// Receives exactly `count` records, marking each handled, and fails if they do not arrive in time.
async fn receive(consumer: &Consumer, count: usize) -> Vec<Record> {
    let deadline = Instant::now() + BROKER_TIMEOUT;
    let mut records = Vec::with_capacity(count);
    while records.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} records arrived",
            records.len()
        );
        if let Some(record) = consumer.recv(Duration::from_secs(1)).await.expect("recv") {
            consumer.mark_handled(&record).expect("offset stored");
            records.push(record);
        }
    }
    records
}

async fn assert_no_more(consumer: &Consumer) {
    let extra = consumer.recv(QUIET).await.expect("recv");
    assert_eq!(extra, None, "no record beyond the produced ones");
}

/// Key → where the record was read, failing on a key read twice.
fn by_key(records: &[Record]) -> HashMap<Vec<u8>, (Delivered, Vec<u8>)> {
    let mut seen = HashMap::new();
    for record in records {
        let key = record.key.clone().expect("keyed");
        let at = Delivered {
            partition: record.partition,
            offset: record.offset,
        };
        let previous = seen.insert(key.clone(), (at, record.value.clone().expect("value")));
        assert!(
            previous.is_none(),
            "key {} read twice",
            String::from_utf8_lossy(&key)
        );
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_reads_every_keyed_record_exactly_once() {
    let topic = fresh_topic("exactly-once").await;
    let produced = keyed_records(10_000);
    let delivered = produce(&topic, &produced).await;
    let partitions: BTreeSet<i32> = delivered.iter().map(|at| at.partition).collect();
    assert_eq!(
        partitions.len(),
        PARTITIONS,
        "keys spread over every partition"
    );

    let consumer = subscribe(&plaintext_connection(), &unique_name("group"), &topic);
    let records = receive(&consumer, produced.len()).await;
    assert_no_more(&consumer).await;
    consumer.close(CLOSE_TIMEOUT).await.expect("closed");

    let seen = by_key(&records);
    assert_eq!(seen.len(), produced.len());
    for (record, at) in produced.iter().zip(&delivered) {
        let key = record.key.as_ref().expect("keyed");
        let (read_at, value) = &seen[key];
        assert_eq!(read_at, at, "read where it was produced");
        assert_eq!(Some(value), record.value.as_ref());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_offsets_survive_a_consumer_restart() {
    let topic = fresh_topic("restart").await;
    let produced = keyed_records(1_000);
    produce(&topic, &produced).await;
    let (connection, group) = (plaintext_connection(), unique_name("group"));

    let first = subscribe(&connection, &group, &topic);
    let before = receive(&first, 400).await;
    first
        .close(CLOSE_TIMEOUT)
        .await
        .expect("first consumer committed and closed");
    let second = subscribe(&connection, &group, &topic);
    let after = receive(&second, 600).await;
    assert_no_more(&second).await;
    second
        .close(CLOSE_TIMEOUT)
        .await
        .expect("second consumer closed");

    let all: Vec<Record> = before.iter().chain(&after).cloned().collect();
    assert_eq!(
        by_key(&all).len(),
        produced.len(),
        "none repeated, none missing"
    );
    for partition in 0..i32::try_from(PARTITIONS).expect("small") {
        let last_before = before
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .max();
        let first_after = after
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .min();
        if let (Some(last), Some(next)) = (last_before, first_after) {
            assert_eq!(
                next,
                last + 1,
                "partition {partition} continues after the committed offset"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consumers_in_one_group_split_the_partitions() {
    let topic = fresh_topic("split").await;
    let (connection, group) = (plaintext_connection(), unique_name("group"));
    let members = [
        subscribe(&connection, &group, &topic),
        subscribe(&connection, &group, &topic),
    ];
    let assignments = settled_assignments(&members).await;

    let produced = keyed_records(600);
    produce(&topic, &produced).await;
    let read = Arc::new(AtomicUsize::new(0));
    let tasks =
        members.map(|member| tokio::spawn(read_share(member, Arc::clone(&read), produced.len())));
    let mut shares = Vec::new();
    for task in tasks {
        let (member, records) = task.await.expect("reader task");
        member.close(CLOSE_TIMEOUT).await.expect("closed");
        shares.push(records);
    }

    let all: Vec<Record> = shares.concat();
    assert_eq!(
        by_key(&all).len(),
        produced.len(),
        "every record read once across the group"
    );
    for (records, assigned) in shares.iter().zip(&assignments) {
        let read_from: BTreeSet<i32> = records.iter().map(|r| r.partition).collect();
        assert!(!read_from.is_empty(), "each member reads something");
        assert_eq!(
            &read_from, assigned,
            "a member reads exactly its own partitions"
        );
    }
}

/// Polls both members until each holds a non-empty share and the shares are disjoint and cover the
/// topic.
async fn settled_assignments(members: &[Consumer; 2]) -> [BTreeSet<i32>; 2] {
    let deadline = Instant::now() + BROKER_TIMEOUT;
    loop {
        // Rebalances are served while a member polls; nothing was produced yet, so nothing is
        // consumed.
        let (a, b) = tokio::join!(members[0].recv(QUIET / 4), members[1].recv(QUIET / 4));
        assert_eq!((a.expect("recv"), b.expect("recv")), (None, None));
        let shares = [partitions_of(&members[0]), partitions_of(&members[1])];
        let union: BTreeSet<i32> = shares[0].union(&shares[1]).copied().collect();
        if !shares[0].is_empty()
            && !shares[1].is_empty()
            && shares[0].is_disjoint(&shares[1])
            && union.len() == PARTITIONS
        {
            return shares;
        }
        assert!(
            Instant::now() < deadline,
            "the group did not settle: {shares:?}"
        );
    }
}

fn partitions_of(member: &Consumer) -> BTreeSet<i32> {
    member
        .assigned_partitions()
        .expect("assignment")
        .into_iter()
        .map(|(_, partition)| partition)
        .collect()
}

/// Reads until the whole group has read `total` records.
async fn read_share(
    member: Consumer,
    read: Arc<AtomicUsize>,
    total: usize,
) -> (Consumer, Vec<Record>) {
    let deadline = Instant::now() + BROKER_TIMEOUT;
    let mut records = Vec::new();
    while read.load(Ordering::SeqCst) < total {
        assert!(
            Instant::now() < deadline,
            "the group read only {} of {total}",
            read.load(Ordering::SeqCst)
        );
        if let Some(record) = member.recv(Duration::from_millis(200)).await.expect("recv") {
            member.mark_handled(&record).expect("offset stored");
            records.push(record);
            read.fetch_add(1, Ordering::SeqCst);
        }
    }
    (member, records)
}

/// The SASL_SSL/PLAIN listener with the test user, trusting the test CA, through the project's
/// settings.
fn sasl_ssl_connection(password: &str) -> KafkaConnection {
    let sasl = sasl_ssl();
    let flags = KafkaConnectionConfig {
        bootstrap_servers: Some(sasl.bootstrap),
        api_key: Some(sasl.username),
        api_secret: Some(Secret::new(password)),
        ssl_ca_location: Some(sasl.ca_location.into()),
        ..Default::default()
    };
    flags
        .resolve_with(|_| None)
        .expect("SASL_SSL test settings are valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_plain_login_reads_a_topic() {
    let topic = fresh_topic("sasl").await;
    let produced = keyed_records(3);
    produce(&topic, &produced).await;
    let connection = sasl_ssl_connection(&sasl_ssl().password);

    let info = check_topic(&connection, &topic, BROKER_TIMEOUT)
        .await
        .expect("login accepted");
    assert_eq!(info.partitions, PARTITIONS);
    let consumer = subscribe(&connection, &unique_name("group"), &topic);
    let records = receive(&consumer, produced.len()).await;
    consumer.close(CLOSE_TIMEOUT).await.expect("closed");
    assert_eq!(by_key(&records).len(), produced.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_wrong_password_is_a_clear_authentication_error() {
    let wrong = "not-the-password";
    let started = Instant::now();
    let err = check_topic(&sasl_ssl_connection(wrong), "any-topic", BROKER_TIMEOUT)
        .await
        .expect_err("rejected");
    assert!(matches!(err, KafkaError::Authentication { .. }), "{err:?}");
    assert!(
        started.elapsed() < BROKER_TIMEOUT / 2,
        "reported when rejected, not at the timeout"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("authentication failed at Kafka "),
        "{text}"
    );
    assert!(text.contains(&sasl_ssl().bootstrap), "{text}");
    assert!(!text.contains(wrong), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_topic_is_reported_by_name() {
    let topic = unique_name("never-created");
    let err = check_topic(&plaintext_connection(), &topic, BROKER_TIMEOUT)
        .await
        .expect_err("missing");
    assert_eq!(
        err.to_string(),
        format!("topic {topic:?} does not exist on Kafka at {}", bootstrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_reported_within_the_timeout() {
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let address = format!("127.0.0.1:{closed_port}");
    let flags = KafkaConnectionConfig {
        bootstrap_servers: Some(address.clone()),
        ..Default::default()
    };
    let connection = flags.resolve_with(|_| None).expect("valid");
    let started = Instant::now();
    let err = check_topic(&connection, "any-topic", Duration::from_secs(2))
        .await
        .expect_err("unreachable");
    let elapsed = started.elapsed();
    assert_eq!(
        err.to_string(),
        format!("cannot reach Kafka at {address} within 2s")
    );
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_topic_makes_a_missing_topic_and_leaves_an_existing_one() {
    let connection = plaintext_connection();
    let topic = unique_name("created");
    let missing = check_topic(&connection, &topic, Duration::from_secs(5)).await;
    assert!(
        matches!(missing, Err(KafkaError::TopicNotFound { .. })),
        "{missing:?}"
    );
    create_topic(&connection, &topic, 6, Duration::from_secs(30))
        .await
        .expect("created");
    create_topic(&connection, &topic, 6, Duration::from_secs(30))
        .await
        .expect("an existing topic is fine");
    let deadline = Instant::now() + Duration::from_secs(30);
    let info = loop {
        match check_topic(&connection, &topic, Duration::from_secs(5)).await {
            Ok(info) => break info,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("{err}"),
        }
    };
    assert_eq!(info.partitions, 6);
}
