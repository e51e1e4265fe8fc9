//! The dead-letter topic: a record that could not be decoded, or whose action failed after its
//! retries, is published with its original key and bytes and headers that say what went wrong and
//! where it came from. Publishing is retried until the broker acknowledges or shutdown is asked for,
//! because until then the record's offset must not be committed.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::PipelineError;
use super::source::SourceRecord;
use crate::config::KafkaConnection;
use crate::shutdown::ShutdownSignal;

/// Why a record is dead-lettered.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The value is not UTF-8 JSON.
    Undecodable(String),
    /// The value is JSON, but not an object: no rule could read a field of it.
    NotAnObject(String),
    /// An action of a rule failed after its retries.
    ActionFailed {
        rule: String,
        action: String,
        error: String,
    },
}

impl Reason {
    fn kind(&self) -> &'static str {
        match self {
            Reason::Undecodable(_) => "decode",
            Reason::NotAnObject(_) => "not_an_object",
            Reason::ActionFailed { .. } => "action",
        }
    }

    fn error(&self) -> &str {
        match self {
            Reason::Undecodable(error)
            | Reason::NotAnObject(error)
            | Reason::ActionFailed { error, .. } => error,
        }
    }
}

#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    /// The one topic for all dead letters, or `None` for `<source topic>.dlq`.
    topic: Option<String>,
}

const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl DeadLetters {
    pub fn new(
        connection: &KafkaConnection,
        topic: Option<String>,
    ) -> Result<DeadLetters, PipelineError> {
        let producer = crate::kafka::producer(connection)?;
        Ok(DeadLetters { producer, topic })
    }

    pub fn topic_for(&self, source_topic: &str) -> String {
        self.topic
            .clone()
            .unwrap_or_else(|| format!("{source_topic}.dlq"))
    }

    /// Publishes until acknowledged. `false` when shutdown came first: the record stays uncommitted
    /// and will be read again.
    pub async fn send(
        &self,
        record: &SourceRecord,
        reason: &Reason,
        mut shutdown: ShutdownSignal,
    ) -> bool {
        let topic = self.topic_for(&record.topic);
        let mut backoff = Duration::from_millis(200);
        loop {
            let mut message: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(&topic).headers(headers(record, reason));
            if let Some(key) = &record.key {
                message = message.key(key.as_slice());
            }
            if let Some(value) = &record.value {
                message = message.payload(value.as_slice());
            }
            match self.producer.send(message, SEND_TIMEOUT).await {
                Ok(_) => {
                    tracing::warn!(
                        topic,
                        source = record.topic,
                        partition = record.partition,
                        offset = record.offset,
                        kind = reason.kind(),
                        error = reason.error(),
                        "record dead-lettered"
                    );
                    metrics::counter!(crate::telemetry::metrics::DEAD_LETTERS, "reason" => reason.kind())
                        .increment(1);
                    return true;
                }
                Err((err, _)) => {
                    tracing::error!(topic, %err, "cannot publish a dead letter; retrying")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.requested() => return false,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// The original headers, then semaphore's: error, kind, source position and, for actions, the rule.
fn headers(record: &SourceRecord, reason: &Reason) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new();
    for (key, value) in &record.headers {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_slice()),
        });
    }
    let mut ours: Vec<(&str, String)> = vec![
        ("semaphore.error", reason.error().to_owned()),
        ("semaphore.error.kind", reason.kind().to_owned()),
        ("semaphore.source.topic", record.topic.clone()),
        ("semaphore.source.partition", record.partition.to_string()),
        ("semaphore.source.offset", record.offset.to_string()),
    ];
    if let Reason::ActionFailed { rule, action, .. } = reason {
        ours.push(("semaphore.rule", rule.clone()));
        ours.push(("semaphore.action", action.clone()));
    }
    for (key, value) in &ours {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_bytes()),
        });
    }
    headers
}
