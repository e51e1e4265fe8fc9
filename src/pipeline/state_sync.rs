//! When durable state is saved and restored during a run. Each engine shard remembers which keys
//! changed; every [`FLUSH_EVERY`] or [`FLUSH_RECORDS`] records, whichever comes first, it takes their
//! current state ([`StateBuffer`] decides when) and hands it to the intake loop, which writes it to the
//! changelog (a key updated by many records in between is serialized and written once). The records
//! whose changes a write carries count as done only when the broker has acknowledged it, so a
//! committed offset never runs ahead of the saved state. A write waits for the actions of timer
//! firings started before it (their state says "sent", and no record would bring them back if a
//! crash cut them short) and for the previous write to be queued, so that writes of one key land in
//! order. A newly assigned partition's state is read back and handed to its shards before any of its
//! records; a revoked partition's unsaved changes are dropped with its keys (the new owner replays
//! those records).

use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::offsets::Partition;
use super::shard::At;
use super::{Completion, Run};
use crate::state::Entry;

/// The longest a change waits before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Records whose changes are written together at most.
const FLUSH_RECORDS: usize = 512;

/// Records whose state changes are not written yet.
#[derive(Default)]
pub(super) struct StateBuffer {
    records: Vec<At>,
    since: Option<Instant>,
}

impl StateBuffer {
    pub(super) fn add(&mut self, record: Option<At>) {
        self.since.get_or_insert_with(Instant::now);
        self.records.extend(record);
    }

    /// Time left before the buffer must be written; `None` when it is empty.
    pub(super) fn due_in(&self) -> Option<Duration> {
        self.since
            .map(|since| FLUSH_EVERY.saturating_sub(since.elapsed()))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.since.is_none()
    }

    pub(super) fn into_records(self) -> Vec<At> {
        self.records
    }

    pub(super) fn is_due(&self) -> bool {
        self.records.len() >= FLUSH_RECORDS || self.due_in() == Some(Duration::ZERO)
    }

    /// The engine dropped the partition's keys, changed or not; its records are replayed elsewhere.
    pub(super) fn forget(&mut self, partition: &Partition) {
        self.records.retain(|at| &at.partition != partition);
    }
}

/// What the next state write waits for.
#[derive(Default)]
pub(super) struct WriteOrder {
    /// Dropped once the previous write was handed to the producer.
    previous: Option<oneshot::Receiver<()>>,
    /// One per timer firing since the last write: sent when its actions ran to their end.
    timer_firings: Vec<oneshot::Receiver<()>>,
}

impl WriteOrder {
    /// Registers a timer firing; its task sends on the returned channel when its actions ended.
    pub(super) fn timer_firing(&mut self) -> oneshot::Sender<()> {
        let (done, wait) = oneshot::channel();
        self.timer_firings.push(wait);
        done
    }

    /// What a write must wait for, and the sender that lets the write after it go.
    fn next(&mut self) -> (Waits, oneshot::Sender<()>) {
        let (queued, wait) = oneshot::channel();
        let waits = Waits {
            previous: self.previous.replace(wait),
            timer_firings: std::mem::take(&mut self.timer_firings),
        };
        (waits, queued)
    }
}

struct Waits {
    previous: Option<oneshot::Receiver<()>>,
    timer_firings: Vec<oneshot::Receiver<()>>,
}

impl Waits {
    /// `false` if a timer firing ended without finishing its actions (its task was aborted): its
    /// state must not be saved as sent.
    async fn all_done(self) -> bool {
        if let Some(previous) = self.previous {
            // Dropped rather than sent: either way the previous write is queued or abandoned.
            let _ = previous.await;
        }
        let mut finished = true;
        for firing in self.timer_firings {
            finished &= firing.await.is_ok();
        }
        finished
    }
}

impl Run {
    /// Restores every partition assigned (and held) since the last look in its shards, then lets it
    /// be fetched. `false` when shutdown came first.
    pub(super) async fn restore_assigned(&mut self) -> bool {
        let Some(durable) = &self.durable else {
            return true;
        };
        let assigned = self.source.take_assigned();
        if assigned.is_empty() {
            return true;
        }
        for partition in &assigned {
            let restored = durable
                .restore(&self.book, partition, self.shutdown.clone())
                .await;
            let Some(changes) = restored else {
                return false;
            };
            self.shards.restore(partition, changes);
        }
        // While intake is paused for backpressure, resuming happens with everything else.
        if !self.paused
            && let Err(err) = self.source.release(&assigned)
        {
            tracing::error!(%err, "cannot resume the restored partitions");
        }
        true
    }

    /// Writes a shard's batch of changes; its records are done once the broker acknowledged it.
    pub(super) fn write_state(&mut self, records: Vec<At>, entries: Vec<Entry>) {
        let Some(durable) = &self.durable else {
            return;
        };
        let changelog = durable.changelog().clone();
        let (waits, queued) = self.write_order.next();
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            let finished = waits.all_done().await;
            let pending = (finished && !entries.is_empty()).then(|| changelog.send(entries));
            drop(queued);
            let saved = finished
                && match pending {
                    Some(pending) => pending.acknowledged(shutdown).await,
                    None => true,
                };
            Completion {
                positions: if saved { records } else { Vec::new() },
                failed: false,
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(partition: i32, offset: i64) -> Option<At> {
        Some(At {
            partition: ("t".into(), partition),
            offset,
            generation: 0,
        })
    }

    #[test]
    fn a_revoked_partition_leaves_no_waiting_record_behind() {
        let mut buffer = StateBuffer::default();
        buffer.add(at(0, 10));
        buffer.add(at(1, 4));
        buffer.forget(&("t".into(), 0));
        assert_eq!(buffer.records, vec![at(1, 4).unwrap()]);
    }

    #[test]
    fn many_records_make_a_flush_due_before_its_time() {
        let mut buffer = StateBuffer::default();
        assert_eq!(buffer.due_in(), None);
        for offset in 0..FLUSH_RECORDS as i64 - 1 {
            buffer.add(at(0, offset));
        }
        assert!(!buffer.is_due());
        buffer.add(at(0, 600));
        assert!(buffer.is_due());
    }
}
