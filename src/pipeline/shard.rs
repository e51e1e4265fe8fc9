//! One engine shard of `rules run`: an OS thread that owns an engine (restricted to its rulesets)
//! and the state of the partitions routed to it. It decodes and evaluates their records in the order
//! they come, moves its clock (`once_after`, `not_all`, absences) by itself, collects the state its
//! records changed and hands it out for the changelog in batches, and reports everything back over a
//! bounded channel: outcomes, state to write, per-rule counts. Dispatching firings, offsets and
//! writing the changelog stay with the intake loop; routing is [`super::shards`]'.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use metrics::Histogram;
use tokio::sync::mpsc::Sender;

use super::durable::Durable;
use super::offsets::Partition;
use super::source::SourceRecord;
use super::state_sync::StateBuffer;
use crate::engine::{Engine, Outcome, RuleCounts, StateChange};
use crate::event::{DecodeError, Event, Meta};
use crate::rulebook::Rulebook;
use crate::state::Entry;
use crate::suppress::SilenceSet;

/// Where a record was read: its partition, offset, and which assignment of the partition it came
/// in (a partition revoked and assigned again starts a new one, and work of the old is not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub partition: Partition,
    pub offset: i64,
    pub generation: u64,
}

/// A record on its way to a shard. `primary`: this shard reports its decoding failure (a record
/// evaluated by two engines is dead-lettered once).
pub struct Routed {
    pub record: Arc<SourceRecord>,
    pub generation: u64,
    pub primary: bool,
}

/// What the intake loop asks of a shard, in the order it must happen.
pub enum Command {
    Records(Vec<Routed>),
    /// Saved state of a partition just assigned, before any of its records.
    Restore(Arc<Vec<StateChange>>),
    /// A revoked partition: drop its keys and its unsaved changes.
    Forget(Partition),
    /// A checked rulebook, from the next record on; `keep` are this shard's rulesets in it.
    Reload {
        book: Arc<Rulebook>,
        keep: Arc<[String]>,
    },
    Silences(Arc<SilenceSet>),
}

/// One record's evaluation.
pub struct Evaluated {
    /// The record, when the intake loop needs it (a dead letter, firings, errors or suppressions to
    /// log in its span); otherwise it is freed here, off the intake thread.
    pub record: Option<Arc<SourceRecord>>,
    pub at: At,
    pub primary: bool,
    pub result: Result<Outcome, DecodeError>,
    /// The record's changes wait in a state batch: its offset waits for the write.
    pub saving: bool,
}

/// What a shard reports, in the order it happened.
pub enum Report {
    Evaluated(Vec<Evaluated>),
    /// Firings of the clock.
    Clock(Outcome),
    /// Changed state to write, and the records it finishes once written.
    State {
        records: Vec<At>,
        entries: Vec<Entry>,
    },
    /// Per-rule counts since the last report (by name: a reload moves rules), and the inhibition
    /// keys this shard evicted since it started.
    Counts {
        shard: usize,
        rules: Vec<(String, String, RuleCounts)>,
        inhibit_evicted: u64,
    },
}

/// How often per-rule counts are reported.
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// The longest a shard sleeps without looking at its clock.
const IDLE: Duration = Duration::from_secs(1);

/// What a shard starts with.
pub struct Setup {
    pub index: usize,
    pub book: Arc<Rulebook>,
    pub env: BTreeMap<String, String>,
    pub keep: Arc<[String]>,
    /// Collect state changes for the changelog.
    pub tracking: bool,
    pub silences: Option<Arc<SilenceSet>>,
}

pub(super) struct Worker {
    index: usize,
    engine: Engine,
    keep: Arc<[String]>,
    tracking: bool,
    commands: Receiver<Command>,
    reports: Sender<Report>,
    stopping: Arc<AtomicBool>,
    unsaved: StateBuffer,
    /// Counts already reported, by ruleset and rule.
    counted: Vec<Vec<RuleCounts>>,
    counted_at: Instant,
    evaluation: Histogram,
}

impl Worker {
    pub(super) fn new(
        setup: Setup,
        commands: Receiver<Command>,
        reports: Sender<Report>,
        stopping: Arc<AtomicBool>,
    ) -> Worker {
        let mut engine = Engine::new(Arc::clone(&setup.book), setup.env);
        engine.keep_only(&setup.keep);
        engine.set_change_tracking(setup.tracking);
        if let Some(set) = setup.silences {
            engine.suppressor_mut().set_silences(set);
        }
        Worker {
            index: setup.index,
            counted: zero_counts(&setup.book),
            engine,
            keep: setup.keep,
            tracking: setup.tracking,
            commands,
            reports,
            stopping,
            unsaved: StateBuffer::default(),
            counted_at: Instant::now(),
            evaluation: metrics::histogram!(crate::telemetry::metrics::EVALUATION_SECONDS),
        }
    }

    /// Until the intake loop drops its sender (then the last state and counts go out) or stops
    /// listening.
    pub(super) fn run(mut self) {
        loop {
            let alive = match self.commands.recv_timeout(self.wait()) {
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => true,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if !(alive && self.tick(false)) {
                return;
            }
        }
        self.tick(true);
    }

    /// `false` once nobody listens to the reports.
    fn handle(&mut self, command: Command) -> bool {
        match command {
            Command::Records(batch) => {
                let evaluated = self.evaluate(batch);
                return evaluated.is_empty() || self.report(Report::Evaluated(evaluated));
            }
            Command::Restore(changes) => {
                let mine = changes.iter().filter(|c| self.keep.contains(&c.ruleset));
                self.engine.restore(mine.cloned());
            }
            Command::Forget(partition) => {
                self.engine.forget_partition(&partition.0, partition.1);
                self.unsaved.forget(&partition);
            }
            Command::Reload { book, keep } => return self.reload(book, keep),
            Command::Silences(set) => self.engine.suppressor_mut().set_silences(set),
        }
        true
    }

    /// Evaluates a batch; once shutdown began, the rest is left unread (its offsets were not
    /// committed, so it is read again).
    fn evaluate(&mut self, batch: Vec<Routed>) -> Vec<Evaluated> {
        let now_ms = super::wall_clock_ms();
        let mut evaluated = Vec::with_capacity(batch.len());
        for routed in batch {
            if self.stopping.load(Ordering::Relaxed) {
                break;
            }
            evaluated.push(self.evaluate_one(routed, now_ms));
        }
        evaluated
    }

    fn evaluate_one(&mut self, routed: Routed, now_ms: i64) -> Evaluated {
        let record = routed.record;
        let at = At {
            partition: (record.topic.clone(), record.partition),
            offset: record.offset,
            generation: routed.generation,
        };
        let value = record.value.as_deref().unwrap_or_default();
        let reads = &self.engine.rulebook().reads;
        let result = Event::decode_reading(value, meta_of(&record), reads).map(|event| {
            let started = Instant::now();
            let outcome = self.engine.process(event, now_ms);
            self.evaluation.record(started.elapsed().as_secs_f64());
            outcome
        });
        let saving = result.is_ok() && self.note_changes(Some(at.clone()));
        let needed = result.as_ref().map_or(true, |outcome| {
            !(outcome.firings.is_empty()
                && outcome.errors.is_empty()
                && outcome.suppressed.is_empty())
        });
        Evaluated {
            record: needed.then_some(record),
            at,
            primary: routed.primary,
            result,
            saving,
        }
    }

    /// Notes that the last evaluation changed state. `true` when the record at `position` now waits
    /// for a state write.
    fn note_changes(&mut self, position: Option<At>) -> bool {
        if !self.tracking || !self.engine.has_changes() {
            return false;
        }
        let for_record = position.is_some();
        self.unsaved.add(position);
        for_record
    }

    fn reload(&mut self, book: Arc<Rulebook>, keep: Arc<[String]>) -> bool {
        // What the old rules counted and changed goes out under the old rulebook.
        if !(self.report_counts(true) && self.flush(true)) {
            return false;
        }
        let report = self.engine.reload(Arc::clone(&book));
        self.engine.keep_only(&keep);
        // New and changed rules start with fresh state, which must be tracked like the rest.
        self.engine.set_change_tracking(self.tracking);
        self.keep = keep;
        self.counted = zero_counts(&book);
        // Every shard reloads the same rulebook; one report is enough.
        if self.index == 0 {
            tracing::info!("rulebook reloaded: {report}");
        }
        true
    }

    /// The clock, the state batch and the counts, each when due (all when `last`). `false` once
    /// nobody listens.
    fn tick(&mut self, last: bool) -> bool {
        let now_ms = super::wall_clock_ms();
        if self
            .engine
            .next_deadline_ms()
            .is_some_and(|due| due <= now_ms)
        {
            let outcome = self.engine.advance(now_ms);
            self.note_changes(None);
            let fired = !(outcome.firings.is_empty() && outcome.suppressed.is_empty());
            if fired && !self.report(Report::Clock(outcome)) {
                return false;
            }
        }
        self.flush(last) && self.report_counts(last)
    }

    /// Hands out the collected changes when due, or now when `force`d.
    fn flush(&mut self, force: bool) -> bool {
        if self.unsaved.is_empty() || !(force || self.unsaved.is_due()) {
            return true;
        }
        let records = std::mem::take(&mut self.unsaved).into_records();
        let changes = self.engine.take_changes();
        let entries = Durable::entries(self.engine.rulebook(), changes);
        self.report(Report::State { records, entries })
    }

    fn report_counts(&mut self, force: bool) -> bool {
        if !force && self.counted_at.elapsed() < COUNT_EVERY {
            return true;
        }
        self.counted_at = Instant::now();
        let book = Arc::clone(self.engine.rulebook());
        let stats = self.engine.stats();
        let mut rules = Vec::new();
        for (r, ruleset) in book.rulesets.iter().enumerate() {
            for (i, rule) in ruleset.rules.iter().enumerate() {
                let now = stats.get(r, i);
                let before = std::mem::replace(&mut self.counted[r][i], now);
                if now != before {
                    rules.push((ruleset.name.clone(), rule.name.clone(), since(now, before)));
                }
            }
        }
        let inhibit_evicted = self.engine.suppressor().evicted();
        self.report(Report::Counts {
            shard: self.index,
            rules,
            inhibit_evicted,
        })
    }

    /// How long to wait for a command: until the clock, the state batch or the counts are due.
    fn wait(&self) -> Duration {
        let clock = self.engine.next_deadline_ms().map_or(IDLE, |due| {
            let ms = (due - super::wall_clock_ms()).clamp(0, 1_000);
            Duration::from_millis(ms.unsigned_abs())
        });
        let counts = COUNT_EVERY.saturating_sub(self.counted_at.elapsed());
        let state = self.unsaved.due_in().unwrap_or(IDLE);
        clock.min(counts).min(state)
    }

    fn report(&self, report: Report) -> bool {
        self.reports.blocking_send(report).is_ok()
    }
}

fn zero_counts(book: &Rulebook) -> Vec<Vec<RuleCounts>> {
    book.rulesets
        .iter()
        .map(|ruleset| vec![RuleCounts::default(); ruleset.rules.len()])
        .collect()
}

fn since(now: RuleCounts, before: RuleCounts) -> RuleCounts {
    RuleCounts {
        evaluations: now.evaluations.saturating_sub(before.evaluations),
        matches: now.matches.saturating_sub(before.matches),
        throttled: now.throttled.saturating_sub(before.throttled),
        firings: now.firings.saturating_sub(before.firings),
    }
}

fn meta_of(record: &SourceRecord) -> Meta {
    Meta {
        topic: record.topic.clone(),
        partition: record.partition,
        offset: record.offset,
        key: record
            .key
            .as_ref()
            .map(|k| String::from_utf8_lossy(k).into_owned()),
        timestamp: record.timestamp,
        headers: record
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect(),
    }
}
