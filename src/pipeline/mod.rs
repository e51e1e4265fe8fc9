//! The event path of `rules run`: consume → decode → engine → dispatch → commit. A record's offset is
//! stored for commit only when every firing it caused has finished or was dead-lettered, and every
//! earlier record of its partition too ([`offsets`]). Decoding and evaluating run on engine shards,
//! OS threads that each own a share of the partitions and their state ([`shards`]); the records of a
//! partition are evaluated in order by one shard. Their actions run concurrently up to a bound, past
//! which intake pauses. On shutdown intake stops, in-flight work
//! drains up to a deadline, and finished offsets are committed. Sending actions is the dispatcher's
//! job, reached through [`Dispatch`]. Throttle and window state goes to a compacted changelog and
//! comes back when a partition is assigned ([`durable`]).

mod assignment;
mod dead_letter;
mod drain;
mod durable;
mod observe;
pub mod offsets;
mod order;
pub mod placement;
mod record;
mod reload;
mod shard;
pub mod shards;
mod source;
mod state_sync;
mod work;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinSet;

use crate::config::{ConfigError, FetchMemory, KafkaConnection, OffsetReset};
use crate::engine::Firing;
use crate::rulebook::Rulebook;
use crate::shutdown::ShutdownSignal;
use crate::suppress::SilenceSet;
use crate::telemetry::readiness::Readiness;
pub use dead_letter::{DeadLetters, Reason, TimerFiring};
use observe::Observer;
pub use observe::{BROKER, PARTITIONS};
use offsets::{OffsetTracker, Partition};
use order::FiringOrder;
pub use reload::Reload;
use shard::At;
use shards::{ShardError, Shards};
pub use source::{Source, SourceRecord};

/// An action of a firing that failed after its retries.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionFailure {
    pub action: String,
    pub reason: String,
}

pub type DispatchFuture = Pin<Box<dyn Future<Output = Result<(), ActionFailure>> + Send>>;

/// What the pipeline needs from the action dispatcher: run one firing's actions to the end.
pub trait Dispatch: Send + Sync + 'static {
    fn dispatch(&self, firing: Firing) -> DispatchFuture;
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Preflight(#[from] crate::kafka::KafkaError),
    #[error("Kafka failed while {what}: {source}")]
    Kafka {
        what: &'static str,
        source: rdkafka::error::KafkaError,
    },
    #[error("{what} did not finish in time")]
    Timeout { what: &'static str },
    /// Boxed: the state errors carry names and a timeout, and would make every result large.
    #[error(transparent)]
    State(#[from] Box<crate::state::StateError>),
    #[error("the rulebook names no Kafka topic: add a `kafka` source or pass --topic")]
    NoTopics,
    #[error(transparent)]
    DeadLetterDir(#[from] dead_letter::SpoolError),
    #[error(transparent)]
    Shard(#[from] ShardError),
}

/// How `rules run` consumes and how much it keeps in flight.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub group_id: String,
    pub topics: Vec<String>,
    pub offset: OffsetReset,
    /// One dead-letter topic for everything, or `None` for `<topic>.dlq`.
    pub dead_letter_topic: Option<String>,
    /// Where dead letters the broker refuses for good are kept (created when missing).
    pub dead_letter_dir: std::path::PathBuf,
    /// Firings in flight before intake pauses.
    pub max_in_flight: usize,
    pub drain_timeout: Duration,
    /// How long the broker and topics may take to answer at start.
    pub connect_timeout: Duration,
    /// Render and log actions instead of sending them.
    pub dry_run: bool,
    /// Write each decoded event to stderr before it is evaluated (ansible-rulebook's
    /// `--print-events`).
    pub print_events: bool,
    /// Where the consumer reports [`BROKER`] and [`PARTITIONS`] for `/readyz`.
    pub readiness: Readiness,
    /// The compacted topic that keeps throttle, window and correlation state across restarts and
    /// rebalances; `None` keeps state in memory only.
    pub state_topic: Option<String>,
    /// Engine shards for the rulesets that need no view across partitions.
    pub workers: usize,
    /// Memory for records the consumer fetches ahead.
    pub fetch_memory: FetchMemory,
}

/// Counters reported when the run ends.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunSummary {
    pub records: u64,
    pub undecodable: u64,
    /// Records whose value is JSON but not an object (dead-lettered).
    pub not_objects: u64,
    pub tombstones: u64,
    pub firings: u64,
    pub failed_firings: u64,
    pub evaluation_errors: u64,
    pub throttled: u64,
    /// Firings muted by a silence or an inhibition.
    pub suppressed: u64,
    /// Firings still running when the drain deadline passed; their records will be read again.
    pub abandoned: u64,
}

/// A finished piece of work: the records it belongs to (none for timer firings), and whether an
/// action failed (and the record was dead-lettered).
struct Completion {
    /// Usually one record; a state flush finishes every record whose changes it carried.
    positions: Vec<At>,
    failed: bool,
}

const POLL: Duration = Duration::from_millis(100);
/// Records handled per turn of the intake loop when librdkafka has them ready: the turn's own work
/// (handing batches to the shards, storing offsets) is then paid per batch, not per record.
const BATCH: usize = 64;
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How soon intake looks again at shards that had no room for its last records.
const STALL_RETRY: Duration = Duration::from_millis(1);

/// Checks, within the connect timeout, that the broker answers, the login works and every topic
/// exists: a clear error at start instead of a consumer waiting forever. Call before [`run`].
pub async fn preflight(
    connection: &KafkaConnection,
    settings: &RunSettings,
) -> Result<(), PipelineError> {
    if settings.topics.is_empty() {
        return Err(PipelineError::NoTopics);
    }
    for topic in &settings.topics {
        crate::kafka::check_topic(connection, topic, settings.connect_timeout).await?;
    }
    // It answered just now; librdkafka's statistics keep this current from here on.
    settings.readiness.pass(BROKER);
    Ok(())
}

/// New silence sets (from a reloaded silences file); the first is applied before any record.
pub type SilenceUpdates = tokio::sync::mpsc::Receiver<Arc<SilenceSet>>;

/// What may change while the pipeline runs, each arriving on its own bounded channel.
#[derive(Default)]
pub struct Controls {
    /// Checked rulebooks that replace the running one between two records.
    pub reloads: Option<tokio::sync::mpsc::Receiver<Reload>>,
    pub silences: Option<SilenceUpdates>,
}

/// Runs until shutdown is requested (or a fatal Kafka error); [`preflight`] first.
pub async fn run(
    book: Arc<Rulebook>,
    env: BTreeMap<String, String>,
    connection: &KafkaConnection,
    settings: &RunSettings,
    dispatch: Arc<dyn Dispatch>,
    shutdown: ShutdownSignal,
    controls: Controls,
) -> Result<RunSummary, PipelineError> {
    let durable = durable::open(connection, settings).await?;
    // Before subscribing: the topics are there before the first record could need one.
    let dead_letters = DeadLetters::open(connection, settings).await?;
    let source = Source::subscribe(
        connection,
        &settings.group_id,
        settings.offset,
        &settings.topics,
        durable.is_some(),
        (settings.fetch_memory, settings.readiness.clone()),
    )?;
    tracing::info!(group = settings.group_id, topics = ?settings.topics, dry_run = settings.dry_run, "rules run started");
    let Controls {
        reloads,
        mut silences,
    } = controls;
    let observer = Observer::new(&settings.topics);
    let first_silences = silences
        .as_mut()
        .and_then(|updates| updates.try_recv().ok());
    let shards = Shards::start(
        &book,
        &env,
        settings.workers,
        durable.is_some(),
        first_silences,
    )?;
    shards.placement().log(shards.workers());
    let mut run = Run {
        durable,
        write_order: state_sync::WriteOrder::default(),
        silences,
        observer,
        order: FiringOrder::default(),
        inhibit_evicted: vec![0; shards.workers() + 1],
        shards,
        book,
        source,
        dead_letters,
        dispatch,
        tracker: OffsetTracker::default(),
        generations: HashMap::new(),
        revocations: 0,
        tasks: JoinSet::new(),
        summary: RunSummary::default(),
        paused: false,
        settings: settings.clone(),
        shutdown,
        reloads,
    };
    let loop_result = run.intake().await;
    settings.readiness.fail(PARTITIONS, "shutting down");
    run.drain().await;
    let Run {
        source, summary, ..
    } = run;
    let closed = source.close(CLOSE_TIMEOUT).await;
    loop_result?;
    closed?;
    Ok(summary)
}

struct Run {
    durable: Option<durable::Durable>,
    write_order: state_sync::WriteOrder,
    silences: Option<SilenceUpdates>,
    observer: Observer,
    order: FiringOrder,
    shards: Shards,
    /// Per shard, the inhibition keys it evicted, for their total.
    inhibit_evicted: Vec<u64>,
    /// The rulebook running now (the shards switch to a reload in stream order).
    book: Arc<Rulebook>,
    source: Source,
    dead_letters: DeadLetters,
    dispatch: Arc<dyn Dispatch>,
    tracker: OffsetTracker,
    /// Per partition, its current assignment ([`At::generation`]): bumped when it is revoked.
    generations: HashMap<Partition, u64>,
    revocations: u64,
    tasks: JoinSet<Completion>,
    summary: RunSummary,
    paused: bool,
    settings: RunSettings,
    shutdown: ShutdownSignal,
    reloads: Option<tokio::sync::mpsc::Receiver<Reload>>,
}

impl Run {
    async fn intake(&mut self) -> Result<(), PipelineError> {
        let mut stop = self.shutdown.clone();
        loop {
            self.forget_revoked();
            if !self.restore_assigned().await {
                return Ok(());
            }
            self.flow_control()?;
            self.shards.send()?;
            let stalled = self.shards.stalled();
            tokio::select! {
                biased;
                _ = stop.requested() => return Ok(()),
                reload = reload::next(&mut self.reloads) => self.apply_reload(reload),
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => self.finished(done),
                update = next_silences(&mut self.silences) => match update {
                    Some(set) => self.shards.silences(set),
                    None => self.silences = None,
                },
                Some(report) = self.shards.next() => self.handle_report(report),
                // A shard had no room: its reports (handled above) make room.
                _ = tokio::time::sleep(STALL_RETRY), if stalled => {}
                record = self.source.recv(POLL), if !stalled => {
                    // A rebalance runs inside the poll: what it revoked is forgotten before a record
                    // of a partition assigned again is begun.
                    self.forget_revoked();
                    if let Some(record) = record? {
                        self.handle_record(record);
                        self.handle_ready_records()?;
                    }
                }
            }
            self.shards.send()?;
            self.source.store(&self.tracker.take_committable());
        }
    }

    /// Hands out records already fetched, up to a batch and while the in-flight bound allows.
    fn handle_ready_records(&mut self) -> Result<(), PipelineError> {
        for _ in 1..BATCH {
            if self.tasks.len() >= self.settings.max_in_flight {
                break;
            }
            let record = self.source.try_recv()?;
            self.forget_revoked();
            match record {
                Some(record) => self.handle_record(record),
                None => break,
            }
        }
        Ok(())
    }

    /// Pauses fetching while too much is in flight; resumes at half. Polling continues throughout,
    /// so a slow action never gets this member evicted from its group.
    fn flow_control(&mut self) -> Result<(), PipelineError> {
        let in_flight = self.tasks.len();
        if !self.paused && in_flight >= self.settings.max_in_flight {
            self.source.set_paused(true)?;
            self.paused = true;
            tracing::debug!(in_flight, "intake paused");
        } else if self.paused && in_flight <= self.settings.max_in_flight / 2 {
            self.source.set_paused(false)?;
            self.paused = false;
            tracing::debug!(in_flight, "intake resumed");
        }
        Ok(())
    }

    fn finished(&mut self, done: Result<Completion, tokio::task::JoinError>) {
        match done {
            Ok(completion) => {
                self.summary.failed_firings += u64::from(completion.failed);
                for at in completion.positions {
                    if self.is_current(&at) {
                        self.tracker.complete(&at.partition, at.offset);
                    }
                }
            }
            // A panicking or aborted task leaves its record pending: it is read again after a restart.
            Err(err) => tracing::error!(%err, "an action task ended abnormally"),
        }
    }
}

/// The next silence set, or `None` once the watcher is gone; pending forever without a silences file.
async fn next_silences(updates: &mut Option<SilenceUpdates>) -> Option<Arc<SilenceSet>> {
    match updates {
        Some(updates) => updates.recv().await,
        None => std::future::pending().await,
    }
}

pub(crate) fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
