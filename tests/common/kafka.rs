//! The test broker: addresses from the environment that `scripts/kafka-test-broker.sh start`
//! prints, connections built through the project's own `config` module, fresh 6-partition topics
//! and a producer of keyed records that reports where each record landed.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use semaphore::config::{KafkaConnection, KafkaConnectionConfig};
use semaphore::kafka::{KafkaError, check_topic};

use super::unique_name;

/// Every test topic has this many partitions.
pub const PARTITIONS: usize = 6;
/// Upper bound for any single broker operation in a test (create, produce, a whole consume).
pub const BROKER_TIMEOUT: Duration = Duration::from_secs(60);

/// The SASL_SSL/PLAIN listener (Confluent Cloud shape) of the test broker.
pub struct SaslSsl {
    pub bootstrap: String,
    pub username: String,
    pub password: String,
    pub ca_location: String,
}

/// One record to produce; `partition: None` lets the key decide.
#[derive(Clone, Debug)]
pub struct TestRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub partition: Option<i32>,
}

/// Where the broker stored a produced record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Delivered {
    pub partition: i32,
    pub offset: i64,
}

fn required(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set. The integration tests need the project's test broker: run `scripts/test`, \
             or `eval \"$(KAFKA_SASL_SSL=1 scripts/kafka-test-broker.sh start)\"` before `cargo test`"
        ),
    }
}

/// The PLAINTEXT listener, `127.0.0.1:PORT`.
pub fn bootstrap() -> String {
    required("KAFKA_BOOTSTRAP")
}

/// The SASL_SSL listener and its test login.
pub fn sasl_ssl() -> SaslSsl {
    SaslSsl {
        bootstrap: required("KAFKA_SASL_SSL_BOOTSTRAP"),
        username: required("KAFKA_SASL_USERNAME"),
        password: required("KAFKA_SASL_PASSWORD"),
        ca_location: required("KAFKA_SSL_CA_LOCATION"),
    }
}

/// A PLAINTEXT connection; the process environment is ignored so that a developer's settings cannot
/// leak in.
pub fn plaintext_connection() -> KafkaConnection {
    let flags = KafkaConnectionConfig {
        bootstrap_servers: Some(bootstrap()),
        ..Default::default()
    };
    flags
        .resolve_with(|_| None)
        .expect("plaintext test settings are valid")
}

/// Creates a topic with [`PARTITIONS`] partitions and waits until its partitions have leaders.
pub async fn fresh_topic(prefix: &str) -> String {
    let name = unique_name(prefix);
    let admin: AdminClient<DefaultClientContext> = plaintext_connection()
        .client_config()
        .expect("valid settings")
        .create()
        .expect("admin client");
    let options = AdminOptions::new()
        .operation_timeout(Some(BROKER_TIMEOUT))
        .request_timeout(Some(BROKER_TIMEOUT));
    let partitions = i32::try_from(PARTITIONS).expect("small");
    let topic = NewTopic::new(&name, partitions, TopicReplication::Fixed(1));
    let results = tokio::time::timeout(BROKER_TIMEOUT, admin.create_topics([&topic], &options))
        .await
        .expect("create_topics answered in time")
        .expect("create_topics request");
    for result in results {
        result.unwrap_or_else(|(topic, code)| panic!("creating {topic}: {code}"));
    }
    wait_until_visible(&name).await;
    name
}

/// The broker applies a new topic to its metadata cache asynchronously; ask until it is there.
async fn wait_until_visible(topic: &str) {
    let connection = plaintext_connection();
    let deadline = tokio::time::Instant::now() + BROKER_TIMEOUT;
    loop {
        match check_topic(&connection, topic, Duration::from_secs(5)).await {
            Ok(info) => {
                assert_eq!(info.partitions, PARTITIONS, "partitions of {topic}");
                return;
            }
            Err(KafkaError::TopicNotFound { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("topic {topic} did not become visible: {err}"),
        }
    }
}

/// `count` records with unique keys `key-00000…` and values `value-00000…`, partitioned by key.
pub fn keyed_records(count: usize) -> Vec<TestRecord> {
    (0..count)
        .map(|i| TestRecord {
            key: Some(format!("key-{i:05}").into_bytes()),
            value: Some(format!("value-{i:05}").into_bytes()),
            partition: None,
        })
        .collect()
}

/// Produces all records (all in flight at once) and returns where each one landed, in input order.
pub async fn produce(topic: &str, records: &[TestRecord]) -> Vec<Delivered> {
    let producer: FutureProducer = plaintext_connection()
        .client_config()
        .expect("valid settings")
        .create()
        .expect("producer");
    let in_flight: Vec<_> = records
        .iter()
        .map(|record| {
            let mut future_record = FutureRecord::<[u8], [u8]>::to(topic);
            if let Some(key) = &record.key {
                future_record = future_record.key(key.as_slice());
            }
            if let Some(value) = &record.value {
                future_record = future_record.payload(value.as_slice());
            }
            if let Some(partition) = record.partition {
                future_record = future_record.partition(partition);
            }
            producer
                .send_result(future_record)
                .map_err(|(err, _)| err)
                .expect("queued for delivery")
        })
        .collect();
    let mut delivered = Vec::with_capacity(in_flight.len());
    for delivery in in_flight {
        let outcome = tokio::time::timeout(BROKER_TIMEOUT, delivery)
            .await
            .expect("delivered in time");
        let delivery = outcome
            .expect("producer alive")
            .map_err(|(err, _)| err)
            .expect("delivered");
        delivered.push(Delivered {
            partition: delivery.partition,
            offset: delivery.offset,
        });
    }
    delivered
}
