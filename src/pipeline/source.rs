//! The consumer of `rules run`: a group member that hands out records with their timestamp and
//! headers, stores exactly the offsets the caller says are committable, pauses intake when too much
//! work is in flight (while still being polled, so the group never evicts it), and on a revocation
//! commits the finished work and reports which partitions to forget. Newly assigned partitions can
//! be held (paused inside the rebalance, before anything is fetched) until the caller restored their
//! state and releases them. Decoding and deciding what is finished are not its business.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::statistics::Statistics;
use rdkafka::{Offset, TopicPartitionList};

use super::PipelineError;
use super::observe::{self, BROKER, PARTITIONS};
use super::offsets::Partition;
use crate::config::{FetchMemory, KafkaConnection, OffsetReset};
use crate::kafka::TracingContext;
use crate::telemetry::readiness::Readiness;

/// One record, copied out of librdkafka's buffers.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Milliseconds since the epoch (create or log-append time).
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Logs like every other client and, on revocation, commits what is finished and remembers the
/// partitions so the pipeline can drop their in-flight bookkeeping. It also keeps readiness (broker
/// up, partitions assigned) and turns librdkafka's statistics into lag and offset gauges.
struct RebalanceContext {
    revoked: Arc<Mutex<Vec<Partition>>>,
    assigned: Arc<Mutex<Vec<Partition>>>,
    hold_assigned: bool,
    readiness: Readiness,
}

impl RebalanceContext {
    /// Pauses newly assigned partitions inside the rebalance, before anything of them is fetched,
    /// and reports them, so that their state is restored before their first record.
    fn hold(&self, consumer: &BaseConsumer<Self>, partitions: &TopicPartitionList) {
        if !self.hold_assigned {
            return;
        }
        if let Err(err) = consumer.pause(partitions) {
            tracing::error!(%err, "cannot hold the assigned partitions for their state restore");
        }
        let gained: Vec<Partition> = partitions
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        if let Ok(mut assigned) = self.assigned.lock() {
            assigned.extend(gained);
        }
    }
}

impl ClientContext for RebalanceContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        TracingContext.log(level, facility, message);
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.readiness.fail(BROKER, "all brokers are down");
        }
        TracingContext.error(error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        observe::record_statistics(&statistics, &self.readiness);
    }
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(partitions) = rebalance else {
            return;
        };
        // Offsets of finished work are stored already; commit them before the partitions move.
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(RdKafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(err) => {
                tracing::warn!(%err, "commit on revocation failed; the new owner replays from the last commit")
            }
        }
        let lost: Vec<Partition> = partitions
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        tracing::info!(partitions = ?lost, "partitions revoked");
        self.readiness
            .fail(PARTITIONS, "partitions revoked, rebalancing");
        if let Ok(mut revoked) = self.revoked.lock() {
            revoked.extend(lost);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            tracing::info!(count = partitions.count(), "partitions assigned");
            self.hold(consumer, partitions);
        }
        // The whole assignment, not this step of it: cooperative rebalances assign in increments.
        let none = match rebalance {
            Rebalance::Revoke(_) => "partitions revoked, rebalancing",
            _ => "no partitions assigned",
        };
        match consumer.assignment().map(|list| list.count()) {
            Ok(0) => self.readiness.fail(PARTITIONS, none),
            Ok(_) => self.readiness.pass(PARTITIONS),
            Err(err) => self
                .readiness
                .fail(PARTITIONS, format!("cannot read the assignment: {err}")),
        }
    }
}

pub struct Source {
    consumer: Arc<StreamConsumer<RebalanceContext>>,
    revoked: Arc<Mutex<Vec<Partition>>>,
    assigned: Arc<Mutex<Vec<Partition>>>,
    group: String,
}

impl Source {
    /// With `hold_assigned`, every newly assigned partition stays paused until [`Self::release`].
    pub fn subscribe(
        connection: &KafkaConnection,
        group: &str,
        offset_reset: OffsetReset,
        topics: &[String],
        hold_assigned: bool,
        settings: (FetchMemory, Readiness),
    ) -> Result<Source, PipelineError> {
        let (memory, readiness) = settings;
        let revoked = Arc::new(Mutex::new(Vec::new()));
        let assigned = Arc::new(Mutex::new(Vec::new()));
        let context = RebalanceContext {
            revoked: Arc::clone(&revoked),
            assigned: Arc::clone(&assigned),
            hold_assigned,
            readiness,
        };
        let consumer: StreamConsumer<RebalanceContext> = connection
            .monitored_consumer_config(group, offset_reset, memory)?
            .create_with_context(context)
            .map_err(|source| PipelineError::Kafka {
                what: "creating the consumer",
                source,
            })?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|source| PipelineError::Kafka {
                what: "subscribing",
                source,
            })?;
        Ok(Source {
            consumer: Arc::new(consumer),
            revoked,
            assigned,
            group: group.to_owned(),
        })
    }

    /// The next record, or `None` after `timeout`. Transient errors are logged: librdkafka
    /// reconnects by itself, and a broker that comes back resumes the stream.
    pub async fn recv(&self, timeout: Duration) -> Result<Option<SourceRecord>, PipelineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Err(_elapsed) => return Ok(None),
                Ok(Ok(message)) => return Ok(Some(copy(&message))),
                Ok(Err(err)) if is_fatal(&err) => {
                    return Err(PipelineError::Kafka {
                        what: "consuming",
                        source: err,
                    });
                }
                Ok(Err(err)) => {
                    tracing::warn!(group = self.group, %err, "Kafka consumer error; retrying")
                }
            }
        }
    }

    /// The next record if librdkafka already fetched it, without waiting and without a timer: the
    /// caller drains what is ready in one turn of its loop.
    pub fn try_recv(&self) -> Result<Option<SourceRecord>, PipelineError> {
        let mut next = std::pin::pin!(self.consumer.recv());
        let mut context = Context::from_waker(Waker::noop());
        match next.as_mut().poll(&mut context) {
            Poll::Pending => Ok(None),
            Poll::Ready(Ok(message)) => Ok(Some(copy(&message))),
            Poll::Ready(Err(err)) if is_fatal(&err) => Err(PipelineError::Kafka {
                what: "consuming",
                source: err,
            }),
            Poll::Ready(Err(err)) => {
                tracing::warn!(group = self.group, %err, "Kafka consumer error; retrying");
                Ok(None)
            }
        }
    }

    /// Stores "next offset to read" per partition, committed in the background and on close. A
    /// partition revoked meanwhile is skipped: its new owner replays from the last commit.
    pub fn store(&self, offsets: &[(Partition, i64)]) {
        for ((topic, partition), next) in offsets {
            let mut list = TopicPartitionList::new();
            if list
                .add_partition_offset(topic, *partition, Offset::Offset(*next))
                .is_err()
            {
                continue;
            }
            if let Err(err) = self.consumer.store_offsets(&list) {
                tracing::debug!(topic, partition, %err, "offset not stored (partition moved?)");
            }
        }
    }

    /// Partitions revoked since the last call.
    pub fn take_revoked(&self) -> Vec<Partition> {
        self.revoked
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// Partitions assigned and held since the last call, and still assigned (two rebalances may
    /// have passed since).
    pub fn take_assigned(&self) -> Vec<Partition> {
        let mut gained = self
            .assigned
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default();
        // Asking librdkafka for the assignment is a round trip to its main thread: only when needed.
        if gained.is_empty() {
            return gained;
        }
        if let Ok(now) = self.consumer.assignment() {
            gained.retain(|(topic, partition)| now.find_partition(topic, *partition).is_some());
        }
        // Assigned twice since the last look (two rebalances): restored once.
        gained.sort();
        gained.dedup();
        gained
    }

    /// Starts fetching held partitions.
    pub fn release(&self, partitions: &[Partition]) -> Result<(), PipelineError> {
        let mut list = TopicPartitionList::new();
        for (topic, partition) in partitions {
            list.add_partition(topic, *partition);
        }
        self.consumer
            .resume(&list)
            .map_err(|source| PipelineError::Kafka {
                what: "resuming restored partitions",
                source,
            })
    }

    /// Stops (`true`) or restarts fetching on every assigned partition; polling goes on either way.
    pub fn set_paused(&self, paused: bool) -> Result<(), PipelineError> {
        let assignment = self
            .consumer
            .assignment()
            .map_err(|source| PipelineError::Kafka {
                what: "reading the assignment",
                source,
            })?;
        let result = if paused {
            self.consumer.pause(&assignment)
        } else {
            self.consumer.resume(&assignment)
        };
        result.map_err(|source| PipelineError::Kafka {
            what: if paused { "pausing" } else { "resuming" },
            source,
        })
    }

    /// Commits the stored offsets and leaves the group, each step bounded by `timeout`.
    pub async fn close(self, timeout: Duration) -> Result<(), PipelineError> {
        let consumer = self.consumer;
        let commit = tokio::task::spawn_blocking({
            let consumer = Arc::clone(&consumer);
            move || consumer.commit_consumer_state(CommitMode::Sync)
        });
        let committed = match tokio::time::timeout(timeout, commit).await {
            Ok(Ok(Ok(()) | Err(RdKafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)))) => {
                Ok(())
            }
            Ok(Ok(Err(err))) if lost_membership(&err) => {
                // Nothing is lost: the partitions' next owner replays from the last commit.
                tracing::warn!(%err, "the final commit was refused because this member had left the group (e.g. its session expired while the broker was away); the next owner replays from the last commit");
                Ok(())
            }
            Ok(Ok(Err(source))) => Err(PipelineError::Kafka {
                what: "committing offsets",
                source,
            }),
            Ok(Err(_)) | Err(_) => Err(PipelineError::Timeout {
                what: "committing offsets",
            }),
        };
        // Dropping the last handle leaves the group (blocking), so do it off the runtime threads.
        let leave = tokio::task::spawn_blocking(move || drop(consumer));
        if tokio::time::timeout(timeout, leave).await.is_err() {
            tracing::warn!("leaving the consumer group took longer than {timeout:?}");
        }
        committed
    }
}

/// The group no longer counts this consumer as the owner of its partitions.
fn lost_membership(err: &RdKafkaError) -> bool {
    matches!(
        err.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::UnknownMemberId
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::RebalanceInProgress
                | RDKafkaErrorCode::AssignmentLost
        )
    )
}

fn is_fatal(err: &RdKafkaError) -> bool {
    matches!(err, RdKafkaError::MessageConsumptionFatal(_))
        || matches!(
            err.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::Authentication
                    | RDKafkaErrorCode::SaslAuthenticationFailed
                    | RDKafkaErrorCode::TopicAuthorizationFailed
                    | RDKafkaErrorCode::GroupAuthorizationFailed
            )
        )
}

fn copy(message: &BorrowedMessage<'_>) -> SourceRecord {
    let headers = crate::kafka::headers_of(message);
    SourceRecord {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        timestamp: message.timestamp().to_millis(),
        headers,
    }
}
