//! The changelog topic itself: making sure it exists (compacted, with enough partitions), writing
//! entries until the broker acknowledges them, and reading back the live entries of one source
//! partition. Reading runs on a blocking thread under a deadline; it uses its own short-lived
//! client outside the consumer group, so it never disturbs the group's offsets.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::message::Message as _;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use super::{Entry, StateError};
use crate::config::KafkaConnection;
use crate::kafka::{KafkaError, TracingContext, check_topic, create_topic_with};
use crate::shutdown::ShutdownSignal;

const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const POLL_STEP: Duration = Duration::from_millis(200);

/// A writer to, and reader of, one changelog topic.
#[derive(Clone)]
pub struct Changelog {
    producer: FutureProducer,
    connection: KafkaConnection,
    topic: String,
}

impl Changelog {
    /// Checks the changelog topic, creating it compacted with `partitions` partitions when it does
    /// not exist. An existing topic with fewer partitions is refused: its layout could not hold
    /// every source partition's state.
    pub async fn open(
        connection: &KafkaConnection,
        topic: &str,
        partitions: usize,
        timeout: Duration,
    ) -> Result<Changelog, StateError> {
        match check_topic(connection, topic, timeout).await {
            Ok(info) if info.partitions < partitions => {
                return Err(StateError::TooFewPartitions {
                    topic: topic.to_owned(),
                    has: info.partitions,
                    needs: partitions,
                });
            }
            Ok(_) => {}
            Err(KafkaError::TopicNotFound { .. }) => {
                let count = i32::try_from(partitions).unwrap_or(i32::MAX);
                let compacted = [("cleanup.policy", "compact")];
                create_topic_with(connection, topic, count, &compacted, timeout).await?;
            }
            Err(err) => return Err(err.into()),
        }
        let producer = crate::kafka::producer(connection)?;
        Ok(Changelog {
            producer,
            connection: connection.clone(),
            topic: topic.to_owned(),
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Queues the entries at once, in call order, so that a later state of a key lands after an
    /// earlier one; the returned [`PendingWrite`] resolves when all are acknowledged.
    pub fn send(&self, entries: Vec<Entry>) -> PendingWrite {
        let queued = entries
            .into_iter()
            .map(|entry| {
                let (key, value) = (entry.record_key(), entry.record_value());
                let delivery = self
                    .producer
                    .send_result(record(&self.topic, &entry, &key, &value));
                (entry, delivery.ok())
            })
            .collect();
        PendingWrite {
            changelog: self.clone(),
            queued,
        }
    }

    /// Writes one entry, retrying with backoff until acknowledged; `false` when shutdown came first.
    async fn write_one(&self, entry: &Entry, mut shutdown: ShutdownSignal) -> bool {
        let (key, value) = (entry.record_key(), entry.record_value());
        let mut backoff = Duration::from_millis(200);
        loop {
            let sent = self
                .producer
                .send(record(&self.topic, entry, &key, &value), SEND_TIMEOUT)
                .await;
            match sent {
                Ok(_) => return true,
                Err((err, _)) => {
                    tracing::error!(topic = self.topic, %err, "cannot write engine state; retrying")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.requested() => return false,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// The live entries of source partition `topic/partition`, oldest write first.
    pub async fn restore(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Result<Vec<Entry>, StateError> {
        let config = self.connection.reader_config()?;
        let changelog = self.topic.clone();
        let source = (topic.to_owned(), partition);
        let task = tokio::task::spawn_blocking(move || {
            let reader: BaseConsumer<TracingContext> = config
                .create_with_context(TracingContext)
                .map_err(|err| StateError::Client {
                what: "creating the reader",
                topic: changelog.clone(),
                source: err,
            })?;
            read_partition(&reader, &changelog, &source, Instant::now() + timeout).map_err(|err| {
                match err {
                    Read::Late => StateError::RestoreTimeout {
                        changelog: changelog.clone(),
                        topic: source.0.clone(),
                        partition: source.1,
                        timeout,
                    },
                    Read::Kafka(what, err) => StateError::Client {
                        what,
                        topic: changelog.clone(),
                        source: err,
                    },
                }
            })
        });
        task.await.map_err(|source| StateError::Task {
            topic: topic.to_owned(),
            partition,
            source,
        })?
    }
}

/// Entries queued by [`Changelog::send`], not yet known to be acknowledged.
pub struct PendingWrite {
    changelog: Changelog,
    queued: Vec<(Entry, Option<DeliveryFuture>)>,
}

impl PendingWrite {
    /// `true` once every entry is acknowledged; entries that failed (or could not be queued) are
    /// written again until they are. `false` when shutdown came first: the state is not saved.
    pub async fn acknowledged(self, shutdown: ShutdownSignal) -> bool {
        for (entry, delivery) in self.queued {
            let delivered = match delivery {
                Some(delivery) => matches!(delivery.await, Ok(Ok(_))),
                None => false,
            };
            if !delivered && !self.changelog.write_one(&entry, shutdown.clone()).await {
                return false;
            }
        }
        true
    }
}

/// The changelog record of `entry`: in the partition of its source.
fn record<'a>(
    topic: &'a str,
    entry: &Entry,
    key: &'a [u8],
    value: &'a Option<Vec<u8>>,
) -> FutureRecord<'a, [u8], [u8]> {
    let record = FutureRecord::to(topic).partition(entry.partition).key(key);
    match value {
        Some(value) => record.payload(value.as_slice()),
        None => record,
    }
}

enum Read {
    Late,
    Kafka(&'static str, RdKafkaError),
}

/// Reads changelog partition `source.1` up to its end as of the start, keeping the last write per
/// key of `source` and dropping keys whose last write is a tombstone.
fn read_partition(
    reader: &BaseConsumer<TracingContext>,
    changelog: &str,
    source: &(String, i32),
    deadline: Instant,
) -> Result<Vec<Entry>, Read> {
    let remaining = || deadline.saturating_duration_since(Instant::now());
    let (low, high) = reader
        .fetch_watermarks(changelog, source.1, remaining())
        .map_err(|err| Read::Kafka("reading the offsets", err))?;
    if high <= low {
        return Ok(Vec::new());
    }
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(changelog, source.1, Offset::Beginning)
        .and_then(|()| reader.assign(&assignment))
        .map_err(|err| Read::Kafka("assigning the partition", err))?;
    let mut live: HashMap<Vec<u8>, (i64, Entry)> = HashMap::new();
    loop {
        if Instant::now() >= deadline {
            return Err(Read::Late);
        }
        let offset = match reader.poll(remaining().min(POLL_STEP)) {
            None => continue,
            Some(Err(RdKafkaError::PartitionEOF(_))) => break,
            Some(Err(err)) => {
                tracing::debug!(changelog, %err, "reading the state topic; retrying");
                continue;
            }
            Some(Ok(message)) => {
                let key = message.key().unwrap_or_default();
                match Entry::from_record(key, message.payload()) {
                    Some(entry) if (&entry.topic, entry.partition) == (&source.0, source.1) => {
                        if entry.state.is_some() {
                            live.insert(key.to_vec(), (message.offset(), entry));
                        } else {
                            live.remove(key);
                        }
                    }
                    _ => {}
                }
                message.offset()
            }
        };
        // Compaction leaves gaps, so the last offset may be gone: the end-of-partition event covers it.
        if offset >= high - 1 {
            break;
        }
    }
    let mut entries: Vec<(i64, Entry)> = live.into_values().collect();
    entries.sort_by_key(|(offset, _)| *offset);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}
