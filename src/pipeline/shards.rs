//! The engine shards of `rules run` as one set: `workers` shards for the sharded rulesets, each
//! owning an even share of every topic's partitions, and one more for the rulesets that need one view of every
//! partition ([`super::placement`]). A record goes, in order, to its partition's shard and, when some
//! ruleset needs it, to the one-view shard. Commands to a shard go over a bounded channel; what does
//! not fit waits in a backlog, and while any backlog is not empty the caller takes no new records,
//! so the backlog stays as small as one turn of intake. Reports of every shard come back over one
//! bounded channel. Public so that `benches/pipeline.rs` can drive the shards without a broker.

use std::collections::{BTreeMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use super::offsets::Partition;
use super::placement::Placement;
pub use super::shard::{At, Evaluated, Report};
use super::shard::{Command, Routed, Setup, Worker};
use super::source::SourceRecord;
use crate::rulebook::Rulebook;
use crate::suppress::SilenceSet;

/// Batches queued per shard before its sender must wait.
const COMMANDS: usize = 4;
/// Reports queued per shard before the shard must wait.
const REPORTS_PER_SHARD: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("cannot start an engine shard thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("engine shard {0} stopped unexpectedly")]
    Gone(usize),
}

pub struct Shards {
    senders: Vec<SyncSender<Command>>,
    backlog: Vec<VecDeque<Command>>,
    batches: Vec<Vec<Routed>>,
    reports: mpsc::Receiver<Report>,
    threads: Vec<JoinHandle<()>>,
    stopping: Arc<AtomicBool>,
    /// How many shards serve the sharded rulesets; the one-view shard comes after them.
    workers: usize,
    placement: Placement,
}

impl Shards {
    /// Starts `workers` shards (at least one) and the one-view shard. `tracking`: collect state
    /// changes for the changelog.
    pub fn start(
        book: &Arc<Rulebook>,
        env: &BTreeMap<String, String>,
        workers: usize,
        tracking: bool,
        silences: Option<Arc<SilenceSet>>,
    ) -> Result<Shards, ShardError> {
        let workers = workers.max(1);
        let placement = Placement::of(book);
        let (report_to, reports) = mpsc::channel(REPORTS_PER_SHARD * (workers + 1));
        let stopping = Arc::new(AtomicBool::new(false));
        let mut shards = Shards {
            senders: Vec::new(),
            backlog: Vec::new(),
            batches: Vec::new(),
            reports,
            threads: Vec::new(),
            stopping: Arc::clone(&stopping),
            workers,
            placement,
        };
        for index in 0..=workers {
            let setup = Setup {
                index,
                book: Arc::clone(book),
                env: env.clone(),
                keep: shards.keep(index),
                tracking,
                silences: silences.clone(),
            };
            let (sender, commands) = sync_channel(COMMANDS);
            let worker = Worker::new(setup, commands, report_to.clone(), Arc::clone(&stopping));
            let thread = std::thread::Builder::new()
                .name(format!("engine-shard-{index}"))
                .spawn(move || worker.run())
                .map_err(ShardError::Spawn)?;
            shards.senders.push(sender);
            shards.backlog.push(VecDeque::new());
            shards.batches.push(Vec::new());
            shards.threads.push(thread);
        }
        Ok(shards)
    }

    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The rulesets shard `index` evaluates.
    fn keep(&self, index: usize) -> Arc<[String]> {
        if index < self.workers {
            self.placement.sharded.clone().into()
        } else {
            self.placement.one_view_names().into()
        }
    }

    /// The shards that evaluate records of `partition`, the one that reports decoding failures
    /// first.
    fn owners(&self, partition: &Partition) -> Vec<usize> {
        // Consecutive partitions of a topic go to consecutive shards, so that a topic's partitions
        // spread evenly (hashing the pair put 4 of 6 partitions on one of 2 shards); the topic's
        // hash only picks where its first partition goes.
        let mut hasher = DefaultHasher::new();
        partition.0.hash(&mut hasher);
        let first = hasher.finish() % self.workers as u64;
        let shard =
            ((first + u64::from(partition.1.unsigned_abs())) % self.workers as u64) as usize;
        let one_view = !self.placement.one_view.is_empty();
        match (self.placement.sharded.is_empty(), one_view) {
            (false, true) => vec![shard, self.workers],
            (true, true) => vec![self.workers],
            _ => vec![shard],
        }
    }

    /// Queues a record for its shards (sent by [`Self::send`]); returns how many will report it.
    pub fn route(&mut self, record: SourceRecord, generation: u64) -> usize {
        let owners = self.owners(&(record.topic.clone(), record.partition));
        let record = Arc::new(record);
        for (n, shard) in owners.iter().enumerate() {
            self.batches[*shard].push(Routed {
                record: Arc::clone(&record),
                generation,
                primary: n == 0,
            });
        }
        owners.len()
    }

    /// Restores a newly assigned partition's saved state in the shards that will see its records.
    pub fn restore(&mut self, partition: &Partition, changes: Vec<crate::engine::StateChange>) {
        let changes = Arc::new(changes);
        for shard in self.owners(partition) {
            self.command(shard, Command::Restore(Arc::clone(&changes)));
        }
    }

    /// A revoked partition: its keys go, in every shard that may hold some.
    pub fn forget(&mut self, partition: &Partition) {
        for shard in self.owners(partition) {
            self.command(shard, Command::Forget(partition.clone()));
        }
    }

    /// Every shard switches to `book` between the same two records of the stream. A ruleset whose
    /// placement changed starts with fresh state in its new shard.
    pub fn reload(&mut self, book: Arc<Rulebook>) {
        self.placement = Placement::of(&book);
        for shard in 0..self.senders.len() {
            let keep = self.keep(shard);
            let book = Arc::clone(&book);
            self.command(shard, Command::Reload { book, keep });
        }
    }

    pub fn silences(&mut self, set: Arc<SilenceSet>) {
        for shard in 0..self.senders.len() {
            self.command(shard, Command::Silences(Arc::clone(&set)));
        }
    }

    /// After the records queued so far, in order.
    fn command(&mut self, shard: usize, command: Command) {
        self.seal(shard);
        self.backlog[shard].push_back(command);
    }

    fn seal(&mut self, shard: usize) {
        if !self.batches[shard].is_empty() {
            let batch = std::mem::take(&mut self.batches[shard]);
            self.backlog[shard].push_back(Command::Records(batch));
        }
    }

    /// Hands queued records and commands to the shards, as far as their channels take them.
    pub fn send(&mut self) -> Result<(), ShardError> {
        for shard in 0..self.senders.len() {
            self.seal(shard);
            while let Some(command) = self.backlog[shard].pop_front() {
                match self.senders[shard].try_send(command) {
                    Ok(()) => {}
                    Err(TrySendError::Full(command)) => {
                        self.backlog[shard].push_front(command);
                        break;
                    }
                    Err(TrySendError::Disconnected(_)) => return Err(ShardError::Gone(shard)),
                }
            }
        }
        Ok(())
    }

    /// Some shard has commands waiting for room: take no new records until [`Self::send`] moved
    /// them.
    pub fn stalled(&self) -> bool {
        self.backlog.iter().any(|b| !b.is_empty())
    }

    /// The next report; `None` once every shard ended (after [`Self::stop`]).
    pub async fn next(&mut self) -> Option<Report> {
        self.reports.recv().await
    }

    /// A report if one is waiting.
    pub fn try_next(&mut self) -> Option<Report> {
        self.reports.try_recv().ok()
    }

    /// Shutdown: shards leave queued records unevaluated, hand out their last state and counts and
    /// end; [`Self::next`] returns `None` after their last report.
    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.backlog.clear();
        self.batches.clear();
        self.senders.clear();
    }

    /// Waits (off the runtime) up to `timeout` for the shard threads to end after [`Self::stop`].
    pub async fn join(&mut self, timeout: Duration) {
        let threads = std::mem::take(&mut self.threads);
        let joined = tokio::task::spawn_blocking(move || {
            for thread in threads {
                if thread.join().is_err() {
                    tracing::error!("an engine shard panicked");
                }
            }
        });
        if tokio::time::timeout(timeout, joined).await.is_err() {
            tracing::warn!("engine shards did not end within {timeout:?}");
        }
    }
}

/// The default number of shards: the cores this process may use.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, offset: i64) -> SourceRecord {
        SourceRecord {
            topic: "t".into(),
            partition,
            offset,
            key: None,
            value: Some(format!("{{\"n\": {offset}, \"p\": {partition}}}").into_bytes()),
            timestamp: Some(1_000),
            headers: Vec::new(),
        }
    }

    async fn evaluate_all(source: &str, workers: usize, partitions: i32) -> Vec<Evaluated> {
        let book = Arc::new(crate::rulebook::compile("b.yml", source).unwrap());
        let mut shards = Shards::start(&book, &BTreeMap::new(), workers, false, None).unwrap();
        let (mut routed, mut evaluated) = (0, Vec::new());
        let collect = |report: Option<Report>, into: &mut Vec<Evaluated>| {
            if let Some(Report::Evaluated(batch)) = report {
                into.extend(batch);
            }
        };
        for offset in 0..100 {
            for partition in 0..partitions {
                routed += shards.route(record(partition, offset), 0);
            }
            // Small batches, so that the channels fill and the backlog is exercised; the shards
            // make room once their reports are taken.
            shards.send().unwrap();
            while shards.stalled() {
                collect(shards.next().await, &mut evaluated);
                shards.send().unwrap();
            }
        }
        while evaluated.len() < routed {
            collect(shards.next().await, &mut evaluated);
        }
        shards.stop();
        while shards.next().await.is_some() {}
        evaluated
    }

    #[test]
    fn a_topics_partitions_spread_evenly_over_the_shards() {
        let book = Arc::new(crate::rulebook::compile("b.yml", STATELESS).unwrap());
        let shards = Shards::start(&book, &BTreeMap::new(), 2, false, None).unwrap();
        let mut per_shard = [0; 2];
        for partition in 0..6 {
            per_shard[shards.owners(&("t".into(), partition))[0]] += 1;
        }
        assert_eq!(per_shard, [3, 3]);
    }

    const STATELESS: &str = "- name: s\n  rules:\n    - name: r\n      condition: event.n >= `0`\n      action: {debug: {}}\n";

    #[tokio::test]
    async fn every_record_is_evaluated_once_and_each_partition_in_order() {
        let evaluated = evaluate_all(STATELESS, 2, 6).await;
        assert_eq!(evaluated.len(), 600);
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for e in &evaluated {
            let previous = last.insert(e.at.partition.1, e.at.offset);
            assert_eq!(previous.map_or(0, |p| p + 1), e.at.offset, "{:?}", e.at);
            assert_eq!(e.result.as_ref().unwrap().firings.len(), 1);
        }
    }

    #[tokio::test]
    async fn a_one_view_ruleset_sees_every_partition_beside_the_sharded_one() {
        let source = format!(
            "{STATELESS}- name: corr\n  rules:\n    - name: r\n      condition:\n        all: [event.p == `0`, event.p == `1`]\n      action: {{debug: {{}}}}\n"
        );
        let evaluated = evaluate_all(&source, 2, 3).await;
        // Each record twice: by its partition's shard and by the one-view shard.
        assert_eq!(evaluated.len(), 600);
        assert_eq!(evaluated.iter().filter(|e| e.primary).count(), 300);
        let corr = |primary: bool| -> usize {
            evaluated
                .iter()
                .filter(|e| e.primary == primary)
                .flat_map(|e| &e.result.as_ref().unwrap().firings)
                .filter(|f| f.ruleset == "corr")
                .count()
        };
        // Every match pairs a record of partition 0 with one of partition 1: only a shard that
        // sees both partitions can make it, and it is the one-view shard, not a primary one.
        assert_eq!((corr(false), corr(true)), (100, 0));
    }
}
