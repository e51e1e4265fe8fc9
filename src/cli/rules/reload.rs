//! Hot reload for `rules run`: SIGHUP, and with `--watch` a change of the rulebook file (its content
//! hash, read once a second: editors replace files, so inode events are not enough), loads the
//! rulebook again and checks it fully, as `rules check` does. A valid rulebook goes to the pipeline
//! over a bounded channel and replaces the old one between two records; an invalid one is logged with
//! its located errors and counted, and the old one keeps running. A rulebook that would change what
//! the process consumes (topics, group, offset), or that adds the first stateful rule to a run started
//! without a changelog, is refused: that takes a restart. Applying a reload
//! and carrying over rule state are the pipeline's and the engine's job.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::dispatch::{self, Dispatchers};
use super::run::{RunArgs, settings};
use crate::config::OffsetReset;
use crate::pipeline::{Reload, RunSettings};
use crate::rulebook::{Diagnostics, Rulebook};
use crate::shutdown::ShutdownSignal;

/// How often `--watch` reads the file.
const POLL: Duration = Duration::from_secs(1);
const RELOADS: &str = "semaphore_rulebook_reloads_total";
const SUCCESS: &str = "semaphore_rulebook_reload_success";

/// Why a new rulebook was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}{count} error{s}", count = .0.items.len(), s = if .0.items.len() == 1 { "" } else { "s" })]
    Invalid(Diagnostics),
    #[error(
        "sources changed: restart to consume different topics (running: {running}; the new rulebook: {wanted})"
    )]
    SourcesChanged { running: Consumed, wanted: Consumed },
    #[error(
        "the new rulebook keeps state (a throttle, window, all or not_all) and this run started without a state topic: restart to keep that state in {topic}, or run with --no-state-topic to keep it in memory"
    )]
    StateTopicNeeded { topic: String },
    #[error("{0:#}")]
    Settings(anyhow::Error),
    #[error("cannot build the action dispatcher for the new rulebook: {0:#}")]
    Dispatch(anyhow::Error),
    #[error("{}", .0.join("; "))]
    UnsetEnv(Vec<String>),
}

/// Everything a reload needs, owned by the reload task.
pub struct Reloader {
    path: PathBuf,
    watch: bool,
    /// The rulebook running now.
    current: Arc<Rulebook>,
    /// The flags, which decide with the rulebook what is consumed.
    args: RunArgs,
    consumed: Consumed,
    /// Whether the run has a changelog for rule state.
    durable: bool,
    dispatchers: Dispatchers,
    sender: mpsc::Sender<Reload>,
    debounce: Debounce,
}

/// The running reload task; [`ReloadTask::stop`] ends it.
pub struct ReloadTask(JoinHandle<()>);

impl Reloader {
    /// `book` is the rulebook the process started with, loaded from `args.rulebook`, and `running` the
    /// settings made of both.
    pub async fn new(
        args: &RunArgs,
        running: &RunSettings,
        book: &Arc<Rulebook>,
        dispatchers: Dispatchers,
        sender: mpsc::Sender<Reload>,
    ) -> Reloader {
        let started = fingerprint(&tokio::fs::read_to_string(&args.rulebook).await);
        Reloader {
            path: args.rulebook.clone(),
            watch: args.watch,
            current: Arc::clone(book),
            args: args.clone(),
            consumed: Consumed::of(running),
            durable: running.state_topic.is_some(),
            dispatchers,
            sender,
            debounce: Debounce::new(started),
        }
    }

    /// Spawns the task; it ends on shutdown.
    pub fn spawn(self, hangup: Signal, shutdown: ShutdownSignal) -> ReloadTask {
        metrics::counter!(RELOADS, "outcome" => "ok").increment(0);
        metrics::counter!(RELOADS, "outcome" => "error").increment(0);
        metrics::gauge!(SUCCESS).set(1.0);
        ReloadTask(tokio::spawn(self.run(hangup, shutdown)))
    }

    async fn run(mut self, mut hangup: Signal, mut shutdown: ShutdownSignal) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let (content, report) = tokio::select! {
                _ = shutdown.requested() => return,
                Some(()) = hangup.recv() => {
                    tracing::info!(path = %self.path.display(), "SIGHUP: reloading the rulebook");
                    let content = self.read().await;
                    self.debounce.settle(fingerprint(&content));
                    (content, true)
                }
                _ = tick.tick(), if self.watch => {
                    let content = self.read().await;
                    match self.debounce.observe(fingerprint(&content)) {
                        Attempt::Skip => continue,
                        Attempt::Quiet => (content, false),
                        Attempt::Report => (content, true),
                    }
                }
            };
            let hash = fingerprint(&content);
            match self.check(content) {
                Ok(reload) => {
                    self.debounce.settle(hash);
                    tokio::select! {
                        _ = shutdown.requested() => return,
                        sent = self.sender.send(reload) => if sent.is_err() { return },
                    }
                    count(true);
                }
                Err(err) if report => {
                    tracing::error!(
                        "rulebook reload failed; the old rulebook keeps running:\n{err}"
                    );
                    count(false);
                }
                Err(err) => {
                    tracing::debug!(%err, "the rulebook changed but is not valid (yet); trying again in a second")
                }
            }
        }
    }

    async fn read(&self) -> Result<String, ReloadError> {
        tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|source| ReloadError::Read {
                path: self.path.display().to_string(),
                source,
            })
    }

    /// The same load and compile as `rules check`, then what only a running process can check.
    fn check(&mut self, content: Result<String, ReloadError>) -> Result<Reload, ReloadError> {
        let source = content?;
        let book = super::input::compile(&self.path, &source, &self.args.input)
            .map_err(|err| match err {
                crate::cli::files::LoadError::Invalid(diagnostics) => {
                    ReloadError::Invalid(diagnostics)
                }
                other => ReloadError::Settings(other.into()),
            })?
            .book;
        let unset = super::run::unset_env(&book, &self.path);
        if !unset.is_empty() {
            return Err(ReloadError::UnsetEnv(unset));
        }
        let wanted = settings(&self.args, &book).map_err(ReloadError::Settings)?;
        if let Some(topic) = wanted.state_topic.as_ref().filter(|_| !self.durable) {
            return Err(ReloadError::StateTopicNeeded {
                topic: topic.clone(),
            });
        }
        let wanted = Consumed::of(&wanted);
        if wanted != self.consumed {
            return Err(ReloadError::SourcesChanged {
                running: self.consumed.clone(),
                wanted,
            });
        }
        let dispatch = if dispatch::differs(&self.current, &book) {
            Some(
                self.dispatchers
                    .for_rulebook(&book)
                    .map_err(ReloadError::Dispatch)?,
            )
        } else {
            None
        };
        // As at start: the new rulebook's warnings, one line each.
        for warning in book.warnings.lines() {
            tracing::warn!("{warning}");
        }
        let book = Arc::new(book);
        self.current = Arc::clone(&book);
        Ok(Reload {
            rulebook: book,
            dispatch,
        })
    }
}

/// Counts one reload, like Prometheus' own `config_last_reload_successful`.
fn count(ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(RELOADS, "outcome" => outcome).increment(1);
    metrics::gauge!(SUCCESS).set(if ok { 1.0 } else { 0.0 });
}

/// Starts listening for SIGHUP: from then on it no longer ends the process, and one that arrives before
/// the reload task runs is kept for it.
pub fn listen_for_hangup() -> anyhow::Result<Signal> {
    signal(SignalKind::hangup()).map_err(|err| anyhow::anyhow!("cannot listen for SIGHUP: {err}"))
}

impl ReloadTask {
    /// Ends the task (it ends by itself on shutdown; this also covers a pipeline that failed).
    pub async fn stop(self) {
        self.0.abort();
        if let Err(err) = self.0.await
            && !err.is_cancelled()
        {
            tracing::error!(%err, "the rulebook reload task ended abnormally");
        }
    }
}

/// What one process consumes: fixed for its life, so a reload may not change it.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumed {
    group_id: String,
    /// Sorted: the order does not matter to the consumer.
    topics: Vec<String>,
    offset: OffsetReset,
}

impl std::fmt::Display for Consumed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "topics {}, group {}, offset {:?}",
            self.topics.join(", "),
            self.group_id,
            self.offset
        )
    }
}

impl Consumed {
    fn of(settings: &RunSettings) -> Consumed {
        let mut topics = settings.topics.clone();
        topics.sort();
        Consumed {
            group_id: settings.group_id.clone(),
            topics,
            offset: settings.offset,
        }
    }
}

/// A hash of what a read returned: the text, or the error (so an unreadable file is reported once).
fn fingerprint(content: &Result<String, impl std::fmt::Display>) -> u64 {
    let mut hasher = DefaultHasher::new();
    match content {
        Ok(text) => (0u8, text).hash(&mut hasher),
        Err(err) => (1u8, err.to_string()).hash(&mut hasher),
    }
    hasher.finish()
}

/// What to do with the content read on one tick.
#[derive(Debug, PartialEq)]
enum Attempt {
    /// Nothing new.
    Skip,
    /// New content: load it, but an error may be a half-written file, so keep quiet and look again.
    Quiet,
    /// The same content as on the last tick: load it and report an error.
    Report,
}

/// The watcher's memory: the content last settled (loaded, or reported as broken) and the content
/// seen on the last tick, so each version of the file is reported at most once.
#[derive(Debug)]
struct Debounce {
    settled: u64,
    pending: Option<u64>,
}

impl Debounce {
    fn new(settled: u64) -> Debounce {
        Debounce {
            settled,
            pending: None,
        }
    }

    fn observe(&mut self, hash: u64) -> Attempt {
        if hash == self.settled {
            self.pending = None;
            Attempt::Skip
        } else if self.pending == Some(hash) {
            self.settle(hash);
            Attempt::Report
        } else {
            self.pending = Some(hash);
            Attempt::Quiet
        }
    }

    /// This content was loaded or reported: leave it alone until the file changes again.
    fn settle(&mut self, hash: u64) {
        self.settled = hash;
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reloads_are_counted_by_outcome_and_the_gauge_shows_the_last_one() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            count(false);
            count(true);
            count(false);
        });
        let text = handle.render();
        let value = |series: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(series)?.trim().parse::<f64>().ok())
        };
        assert_eq!(
            value("semaphore_rulebook_reloads_total{outcome=\"error\"}"),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            value("semaphore_rulebook_reloads_total{outcome=\"ok\"}"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value("semaphore_rulebook_reload_success"),
            Some(0.0),
            "{text}"
        );
    }

    #[test]
    fn a_change_is_tried_at_once_and_reported_only_when_it_stayed_the_same() {
        let mut debounce = Debounce::new(1);
        assert_eq!(debounce.observe(1), Attempt::Skip);
        assert_eq!(debounce.observe(2), Attempt::Quiet, "half written, maybe");
        assert_eq!(debounce.observe(3), Attempt::Quiet, "still being written");
        assert_eq!(debounce.observe(3), Attempt::Report, "stable: report it");
        assert_eq!(debounce.observe(3), Attempt::Skip, "reported once only");
    }

    #[test]
    fn loaded_content_is_not_loaded_again() {
        let mut debounce = Debounce::new(1);
        assert_eq!(debounce.observe(2), Attempt::Quiet);
        debounce.settle(2);
        assert_eq!(debounce.observe(2), Attempt::Skip);
        assert_eq!(debounce.observe(1), Attempt::Quiet, "changed back");
    }
}
