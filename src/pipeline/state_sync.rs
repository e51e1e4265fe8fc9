//! When durable state is saved and restored during a run. The engine remembers which keys changed;
//! every [`FLUSH_EVERY`] or [`FLUSH_RECORDS`] records, whichever comes first, their current state is
//! taken and written to the changelog (a key updated by many records in between is serialized and
//! written once). The records whose changes a flush carries count as done only when the broker has
//! acknowledged it, so a committed offset never runs ahead of the saved state. A write waits for the
//! actions of timer firings started before it (their state says "sent", and no record would bring
//! them back if a crash cut them short) and for the previous write to be queued, so that writes of
//! one key land in order. A newly assigned
//! partition's state is read back before any of its records; a revoked partition's unsaved changes
//! are dropped with its keys (the new owner replays those records).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::durable::Durable;
use super::offsets::Partition;
use super::{Completion, Run};

/// The longest a change waits before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Records whose changes are written together at most.
const FLUSH_RECORDS: usize = 512;

/// Records whose state changes are not written yet.
#[derive(Default)]
pub(super) struct StateBuffer {
    records: Vec<(Partition, i64)>,
    since: Option<Instant>,
}

impl StateBuffer {
    fn add(&mut self, record: Option<(Partition, i64)>) {
        self.since.get_or_insert_with(Instant::now);
        self.records.extend(record);
    }

    /// Time left before the buffer must be written; `None` when it is empty.
    pub(super) fn due_in(&self) -> Option<Duration> {
        self.since
            .map(|since| FLUSH_EVERY.saturating_sub(since.elapsed()))
    }

    fn is_due(&self) -> bool {
        self.records.len() >= FLUSH_RECORDS || self.due_in() == Some(Duration::ZERO)
    }

    /// The engine dropped the partition's keys, changed or not; its records are replayed elsewhere.
    fn forget(&mut self, (topic, partition): &Partition) {
        self.records
            .retain(|((t, p), _)| (t, p) != (topic, partition));
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
    /// Restores every partition assigned (and held) since the last look, then lets it be fetched.
    /// `false` when shutdown came first.
    pub(super) async fn restore_assigned(&mut self) -> bool {
        let Some(durable) = &self.durable else {
            return true;
        };
        let assigned = self.source.take_assigned();
        if assigned.is_empty() {
            return true;
        }
        let book = Arc::clone(self.engine.rulebook());
        for partition in &assigned {
            let restored = durable
                .restore(&book, partition, self.shutdown.clone())
                .await;
            let Some(changes) = restored else {
                return false;
            };
            self.engine.restore(changes);
        }
        // While intake is paused for backpressure, resuming happens with everything else.
        if !self.paused
            && let Err(err) = self.source.release(&assigned)
        {
            tracing::error!(%err, "cannot resume the restored partitions");
        }
        true
    }

    /// Notes that the last evaluation changed state. `true` when the record at `position` now waits
    /// for a flush (its offset waits for the acknowledgement).
    pub(super) fn save_state(&mut self, position: Option<(Partition, i64)>) -> bool {
        if self.durable.is_none() || !self.engine.has_changes() {
            return false;
        }
        let for_record = position.is_some();
        self.unsaved.add(position);
        for_record
    }

    /// Writes the collected changes when they are due, or now when `force`d (before draining).
    pub(super) fn flush_state(&mut self, force: bool) {
        let Some(durable) = &self.durable else {
            return;
        };
        if self.unsaved.since.is_none() || !(force || self.unsaved.is_due()) {
            return;
        }
        let records = std::mem::take(&mut self.unsaved).records;
        let changes = self.engine.take_changes();
        let entries = Durable::entries(self.engine.rulebook(), changes);
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

    /// Drops what a revoked partition had not saved yet: its new owner replays those records.
    pub(super) fn forget_unsaved(&mut self, partition: &Partition) {
        self.unsaved.forget(partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(partition: i32, offset: i64) -> Option<(Partition, i64)> {
        Some((("t".into(), partition), offset))
    }

    #[test]
    fn a_revoked_partition_leaves_no_waiting_record_behind() {
        let mut buffer = StateBuffer::default();
        buffer.add(at(0, 10));
        buffer.add(at(1, 4));
        buffer.forget(&("t".into(), 0));
        assert_eq!(buffer.records, vec![(("t".into(), 1), 4)]);
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
