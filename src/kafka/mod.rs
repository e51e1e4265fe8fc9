//! Kafka plumbing on top of rdkafka: a pre-flight check that the broker is reachable, the login
//! works and the topic exists ([`check_topic`]), topic creation, the one producer builder every
//! producer of the process comes from ([`producer`]), and, for `consume`, a group [`Consumer`] that
//! hands out owned [`Record`]s, stores an offset only when the caller
//! says the record was handled, and commits on shutdown. Every blocking librdkafka call runs on a
//! blocking thread under a timeout. Settings come from `config` (the only place librdkafka keys are
//! set); this module prints nothing and decides no product logic.

mod admin;
mod consumer;
mod context;
mod probe;
mod producer;

use std::time::Duration;

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};

pub use admin::{create_topic, create_topic_with};
pub use consumer::{Consumer, Record, headers_of};
pub use context::TracingContext;
pub use probe::{TopicInfo, check_topic};
pub use producer::{Delivery, dead_letter_producer, producer};

use crate::config::ConfigError;

/// Why talking to Kafka failed. Messages name the bootstrap servers, topic or group involved, and
/// never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create a Kafka client for {bootstrap}: {source}")]
    ClientCreation {
        bootstrap: String,
        source: RdKafkaError,
    },
    #[error("cannot reach Kafka at {bootstrap} within {}s", timeout.as_secs_f64())]
    Unreachable {
        bootstrap: String,
        timeout: Duration,
    },
    #[error(
        "authentication failed at Kafka {bootstrap}: the broker rejected the SASL login (check the API key, the API secret and the SASL mechanism)"
    )]
    Authentication { bootstrap: String },
    #[error(
        "TLS handshake with Kafka at {bootstrap} failed: the broker's certificate is not trusted or does not match its host name (a private CA needs its CA file)"
    )]
    Tls { bootstrap: String },
    #[error("cannot create topic {topic:?} on Kafka at {bootstrap}: {reason}")]
    CreateTopic {
        topic: String,
        bootstrap: String,
        reason: String,
    },
    #[error("topic {topic:?} does not exist on Kafka at {bootstrap}")]
    TopicNotFound { topic: String, bootstrap: String },
    #[error("cannot read topic {topic:?} on Kafka at {bootstrap}: {code}")]
    TopicMetadata {
        topic: String,
        bootstrap: String,
        code: RDKafkaErrorCode,
    },
    #[error("cannot subscribe to {topics:?}: {source}")]
    Subscribe {
        topics: Vec<String>,
        source: RdKafkaError,
    },
    #[error("consuming for group {group:?} failed: {source}")]
    Consume { group: String, source: RdKafkaError },
    #[error("cannot store the offset of {topic}/{partition}@{offset}: {source}")]
    StoreOffset {
        topic: String,
        partition: i32,
        offset: i64,
        source: RdKafkaError,
    },
    #[error("cannot read the partition assignment of group {group:?}: {source}")]
    Assignment { group: String, source: RdKafkaError },
    #[error("committing the offsets of group {group:?} failed: {source}")]
    Commit { group: String, source: RdKafkaError },
    #[error("{operation} for group {group:?} did not finish within {}s", timeout.as_secs_f64())]
    Timeout {
        operation: &'static str,
        group: String,
        timeout: Duration,
    },
    #[error("{operation} stopped unexpectedly: {source}")]
    Task {
        operation: &'static str,
        source: tokio::task::JoinError,
    },
}

/// Failures of the connection itself, which retrying with the same settings will not fix.
fn connection_failure(code: RDKafkaErrorCode, bootstrap: &str) -> Option<KafkaError> {
    let bootstrap = bootstrap.to_owned();
    match code {
        RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed => {
            Some(KafkaError::Authentication { bootstrap })
        }
        RDKafkaErrorCode::SSL => Some(KafkaError::Tls { bootstrap }),
        _ => None,
    }
}
