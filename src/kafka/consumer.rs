//! A consumer-group member: subscribes, hands out owned [`Record`]s, stores a record's offset only
//! when the caller marks it handled (so a crash replays rather than loses it), and commits and
//! leaves the group on [`Consumer::close`]. Blocking librdkafka calls (commit, close) run on
//! blocking threads under a timeout. It does not decode payloads or decide what "handled" means.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};

use super::context::TracingContext;
use super::{KafkaError, connection_failure};
use crate::config::{KafkaConnection, OffsetReset};

/// One record, copied out of librdkafka's buffers so that it can outlive the next poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// `None` when the record has no key (not the same as an empty key).
    pub key: Option<Vec<u8>>,
    /// `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// In the record's order; a header without a value has an empty one.
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A member of one consumer group. Call [`close`](Self::close) when done: dropping it instead
/// blocks the current thread while librdkafka leaves the group.
pub struct Consumer {
    inner: Arc<StreamConsumer<TracingContext>>,
    group: String,
    bootstrap: String,
}

impl Consumer {
    /// Joins `group` and subscribes to `topics`. Partitions are assigned while [`recv`](Self::recv)
    /// runs.
    pub fn subscribe(
        connection: &KafkaConnection,
        group: &str,
        offset_reset: OffsetReset,
        topics: &[&str],
    ) -> Result<Self, KafkaError> {
        let bootstrap = connection.bootstrap_servers().to_owned();
        let inner: StreamConsumer<TracingContext> = connection
            .consumer_config(group, offset_reset)?
            .create_with_context(TracingContext)
            .map_err(|source| KafkaError::ClientCreation {
                bootstrap: bootstrap.clone(),
                source,
            })?;
        inner
            .subscribe(topics)
            .map_err(|source| KafkaError::Subscribe {
                topics: topics.iter().map(|topic| (*topic).to_owned()).collect(),
                source,
            })?;
        Ok(Self {
            inner: Arc::new(inner),
            group: group.to_owned(),
            bootstrap,
        })
    }

    /// The next record, or `None` if none arrived within `timeout`. Transient errors (a broker
    /// restarting) are logged and waited out, since librdkafka reconnects by itself; lost logins,
    /// missing topics and fatal errors are returned.
    pub async fn recv(&self, timeout: Duration) -> Result<Option<Record>, KafkaError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // `recv` is cancellation-safe, so giving up at the deadline loses no record.
            match tokio::time::timeout_at(deadline, self.inner.recv()).await {
                Err(_elapsed) => return Ok(None),
                Ok(Ok(message)) => return Ok(Some(Record::copy_of(&message))),
                Ok(Err(err)) => self.check_consume_error(err)?,
            }
        }
    }

    /// Stores the offset after `record`, to be committed in the background and on close. A
    /// partition that was revoked in between is not an error: its new owner will read the record
    /// again.
    pub fn mark_handled(&self, record: &Record) -> Result<(), KafkaError> {
        // rd_kafka_offset_store stores offset + 1, the next record to read.
        match self
            .inner
            .store_offset(&record.topic, record.partition, record.offset)
        {
            Ok(()) => Ok(()),
            Err(RdKafkaError::StoreOffset(RDKafkaErrorCode::State)) => {
                tracing::debug!(
                    topic = record.topic,
                    partition = record.partition,
                    "partition revoked before store"
                );
                Ok(())
            }
            Err(source) => Err(KafkaError::StoreOffset {
                topic: record.topic.clone(),
                partition: record.partition,
                offset: record.offset,
                source,
            }),
        }
    }

    /// The partitions currently assigned to this member, sorted.
    pub fn assigned_partitions(&self) -> Result<Vec<(String, i32)>, KafkaError> {
        let assignment = self
            .inner
            .assignment()
            .map_err(|source| KafkaError::Assignment {
                group: self.group.clone(),
                source,
            })?;
        let mut partitions: Vec<(String, i32)> = assignment
            .elements()
            .iter()
            .map(|element| (element.topic().to_owned(), element.partition()))
            .collect();
        partitions.sort();
        Ok(partitions)
    }

    /// Commits the stored offsets and waits for the broker's answer, at most `timeout`.
    pub async fn commit(&self, timeout: Duration) -> Result<(), KafkaError> {
        let inner = Arc::clone(&self.inner);
        let task =
            tokio::task::spawn_blocking(move || inner.commit_consumer_state(CommitMode::Sync));
        match join_within(task, timeout, "committing offsets", &self.group).await? {
            // Nothing was handled since the last commit.
            Ok(()) | Err(RdKafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(source) => Err(KafkaError::Commit {
                group: self.group.clone(),
                source,
            }),
        }
    }

    /// Commits, then leaves the group so that its partitions move to the other members at once
    /// instead of after the session timeout. Each step waits at most `timeout`.
    pub async fn close(self, timeout: Duration) -> Result<(), KafkaError> {
        let committed = self.commit(timeout).await;
        let Self { inner, group, .. } = self;
        // Dropping the last handle runs librdkafka's blocking close (leave group, final commit).
        let task = tokio::task::spawn_blocking(move || drop(inner));
        join_within(task, timeout, "leaving the consumer group", &group).await?;
        committed
    }

    fn check_consume_error(&self, err: RdKafkaError) -> Result<(), KafkaError> {
        let code = err.rdkafka_error_code();
        if let Some(failure) = code.and_then(|code| connection_failure(code, &self.bootstrap)) {
            return Err(failure);
        }
        let fatal = matches!(err, RdKafkaError::MessageConsumptionFatal(_))
            || matches!(
                code,
                Some(
                    RDKafkaErrorCode::UnknownTopicOrPartition
                        | RDKafkaErrorCode::UnknownTopic
                        | RDKafkaErrorCode::TopicAuthorizationFailed
                        | RDKafkaErrorCode::GroupAuthorizationFailed
                )
            );
        if fatal {
            return Err(KafkaError::Consume {
                group: self.group.clone(),
                source: err,
            });
        }
        tracing::warn!(group = self.group, %err, "Kafka consumer error; librdkafka retries");
        Ok(())
    }
}

/// Awaits a blocking task for at most `timeout`. On timeout the task runs on; the runtime's
/// shutdown timeout bounds it.
async fn join_within<T>(
    task: tokio::task::JoinHandle<T>,
    timeout: Duration,
    operation: &'static str,
    group: &str,
) -> Result<T, KafkaError> {
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(KafkaError::Task { operation, source }),
        Err(_elapsed) => Err(KafkaError::Timeout {
            operation,
            group: group.to_owned(),
            timeout,
        }),
    }
}

impl Record {
    fn copy_of(message: &BorrowedMessage<'_>) -> Self {
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers: headers_of(message),
        }
    }
}

/// A record's headers as owned (name, value) pairs; a header without a value has an empty one.
pub fn headers_of(message: &BorrowedMessage<'_>) -> Vec<(String, Vec<u8>)> {
    message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    (
                        h.key.to_owned(),
                        h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
