//! The `publish` action against the real test broker (`scripts/test` starts it): the record
//! arrives with its key, value and headers, the default value describes the firing, the key
//! partitions like any producer's, the SASL_SSL listener works, and an unreachable broker fails
//! the firing after the timeout.

mod common;
#[path = "fixtures/actions/jobs.rs"]
mod jobs;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::kafka::{
    BROKER_TIMEOUT, fresh_topic, keyed_records, plaintext_connection, produce, sasl_ssl,
};
use common::unique_name;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Headers as _, Message as _};
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};
use semaphore::actions::context::Sinks;
use semaphore::actions::dispatch::{Dispatcher, FiringOutcome};
use semaphore::config::{KafkaConnection, KafkaConnectionConfig, OffsetReset, Secret};
use semaphore::rulebook::action::ActionKind;
use serde_json::{Value, json};

/// A record as read back from the topic.
#[derive(Debug)]
struct Read {
    partition: i32,
    key: Option<String>,
    value: String,
    headers: BTreeMap<String, String>,
}

fn producer(connection: &KafkaConnection) -> FutureProducer {
    connection
        .producer_config()
        .expect("valid producer settings")
        .create()
        .expect("producer")
}

async fn publish(producer: Option<FutureProducer>, args: Value) -> FiringOutcome {
    let sinks = Sinks {
        producer,
        ..Sinks::default()
    };
    let dispatcher = Dispatcher::new(jobs::settings(&[]), sinks);
    let job = jobs::job(vec![(ActionKind::Publish, args)]);
    tokio::time::timeout(BROKER_TIMEOUT, dispatcher.run(job))
        .await
        .expect("the firing ends")
}

/// Reads `count` records of `topic` from the beginning of every partition.
async fn read(topic: &str, count: usize) -> Vec<Read> {
    let consumer: StreamConsumer = plaintext_connection()
        .consumer_config(&unique_name("actions-publish"), OffsetReset::Earliest)
        .expect("valid consumer settings")
        .create()
        .expect("consumer");
    let mut partitions = TopicPartitionList::new();
    for partition in 0..i32::try_from(common::kafka::PARTITIONS).expect("small") {
        partitions
            .add_partition_offset(topic, partition, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&partitions).expect("assign");
    let mut records = Vec::new();
    while records.len() < count {
        let message = tokio::time::timeout(BROKER_TIMEOUT, consumer.recv())
            .await
            .expect("a record in time")
            .expect("a record");
        let text = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), text(h.value).unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        records.push(Read {
            partition: message.partition(),
            key: text(message.key()),
            value: text(message.payload()).unwrap_or_default(),
            headers,
        });
    }
    records
}

#[tokio::test]
async fn the_record_arrives_with_key_value_and_headers() {
    let topic = fresh_topic("actions-publish").await;
    let args = json!({
        "topic": topic,
        "key": "Q2XX-1",
        "value": {"serial": "Q2XX-1", "state": "degraded"},
        "headers": {"source": "semaphore", "severity": 2},
    });
    let outcome = publish(Some(producer(&plaintext_connection())), args).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let records = read(&topic, 1).await;
    assert_eq!(records[0].key.as_deref(), Some("Q2XX-1"));
    let value: Value = serde_json::from_str(&records[0].value).expect("JSON value");
    assert_eq!(value, json!({"serial": "Q2XX-1", "state": "degraded"}));
    let expected = BTreeMap::from([
        ("source".to_owned(), "semaphore".to_owned()),
        ("severity".to_owned(), "2".to_owned()),
        ("Idempotency-Key".to_owned(), "alerts/0/42/r".to_owned()),
    ]);
    assert_eq!(records[0].headers, expected);
}

#[tokio::test]
async fn the_default_value_is_the_event_with_the_firing() {
    let topic = fresh_topic("actions-publish").await;
    let outcome = publish(
        Some(producer(&plaintext_connection())),
        json!({"topic": topic}),
    )
    .await;
    assert_eq!(outcome, FiringOutcome::Done);
    let records = read(&topic, 1).await;
    assert_eq!(records[0].key, None);
    let value: Value = serde_json::from_str(&records[0].value).expect("JSON value");
    assert_eq!(
        value,
        json!({"event": jobs::event(), "rule": "r", "ruleset": "rs", "idempotency_key": "alerts/0/42/r"})
    );
}

#[tokio::test]
async fn the_key_partitions_like_any_other_producer() {
    let topic = fresh_topic("actions-publish").await;
    let existing = keyed_records(1);
    let delivered = produce(&topic, &existing).await;
    let key = String::from_utf8(existing[0].key.clone().expect("keyed")).expect("UTF-8");
    let args = json!({"topic": topic, "key": key, "value": "text value"});
    let outcome = publish(Some(producer(&plaintext_connection())), args).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let records = read(&topic, 2).await;
    let published = records
        .iter()
        .find(|r| r.value == "text value")
        .expect("the published record");
    assert_eq!(published.partition, delivered[0].partition);
}

#[tokio::test]
async fn publishing_through_the_sasl_ssl_listener_is_acknowledged() {
    let topic = fresh_topic("actions-publish").await;
    let login = sasl_ssl();
    let flags = KafkaConnectionConfig {
        bootstrap_servers: Some(login.bootstrap),
        api_key: Some(login.username),
        api_secret: Some(Secret::new(login.password)),
        ssl_ca_location: Some(login.ca_location.into()),
        ..Default::default()
    };
    let connection = flags.resolve_with(|_| None).expect("SASL_SSL settings");
    let outcome = publish(
        Some(producer(&connection)),
        json!({"topic": topic, "value": "over TLS"}),
    )
    .await;
    assert_eq!(outcome, FiringOutcome::Done);
    assert_eq!(read(&topic, 1).await[0].value, "over TLS");
}

#[tokio::test]
async fn an_unreachable_broker_fails_the_firing_after_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let flags = KafkaConnectionConfig {
        bootstrap_servers: Some(format!("127.0.0.1:{port}")),
        ..Default::default()
    };
    let connection = flags.resolve_with(|_| None).expect("settings");
    let args = json!({"topic": "nowhere", "timeout": "1 s", "retry": {"attempts": 1}});
    let started = Instant::now();
    let outcome = publish(Some(producer(&connection)), args).await;
    let elapsed = started.elapsed();
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 0,
            action: "publish",
            reason: "the broker did not acknowledge the record for topic nowhere within 1s".into(),
        }
    );
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn without_a_producer_publish_fails() {
    let outcome = publish(None, json!({"topic": "t"})).await;
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 0,
            action: "publish",
            reason: "no Kafka producer is configured for `publish`".into(),
        }
    );
}
