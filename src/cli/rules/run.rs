//! `semaphore rules run RULEBOOK`: consume the rulebook's Kafka topics, evaluate every event and send
//! the actions, committing offsets only after the actions finished. This file owns the flags and the
//! wiring (runtime, signals, dispatcher); the event path itself is `pipeline`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::dispatch::Dispatchers;
use super::reload::{self, Reloader};
use crate::cli::files::SilenceFileError;
use crate::config::{
    ActionConfig, DEFAULT_FETCH_MEMORY_MIB, FetchMemory, KafkaConnectionConfig, OffsetReset,
};
use crate::pipeline::{self, RunSettings};
use crate::rulebook::Rulebook;
use crate::rulebook::model::Offset;
use crate::shutdown::Shutdown;
use crate::telemetry::http::MetricsArgs;
use crate::telemetry::readiness::Readiness;

/// Readiness check: the rulebook compiled.
const RULEBOOK: &str = "rulebook";

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The rulebook to run.
    pub rulebook: PathBuf,
    /// Consumer group; overrides the rulebook's `group_id`. Run more processes in one group to scale out.
    #[arg(
        short = 'g',
        long = "group",
        visible_alias = "group-id",
        env = "SEMAPHORE_GROUP_ID",
        value_name = "GROUP"
    )]
    pub group_id: Option<String>,
    /// Topic to consume, repeatable; overrides the rulebook's sources.
    #[arg(
        long = "topic",
        env = "SEMAPHORE_TOPICS",
        value_delimiter = ',',
        value_name = "TOPIC"
    )]
    pub topics: Vec<String>,
    /// Where a new consumer group starts; overrides the rulebook's `offset`.
    #[arg(short = 'o', long, value_enum, env = "SEMAPHORE_OFFSET")]
    pub offset: Option<OffsetReset>,
    /// Topic for records that cannot be decoded or whose actions failed [default: <topic>.dlq].
    #[arg(long, env = "SEMAPHORE_DEAD_LETTER_TOPIC", value_name = "TOPIC")]
    pub dead_letter_topic: Option<String>,
    /// Directory for dead letters the broker refuses for good (too large, invalid, not allowed):
    /// their value is kept here and a small dead letter names the file [default:
    /// $STATE_DIRECTORY/dead-letters, else $XDG_STATE_HOME/semaphore/dead-letters, else
    /// ~/.local/state/semaphore/dead-letters].
    #[arg(long, env = "SEMAPHORE_DEAD_LETTER_DIR", value_name = "DIR")]
    pub dead_letter_dir: Option<PathBuf>,
    /// Render and log the actions without sending them.
    #[arg(long)]
    pub dry_run: bool,
    /// Write each event to stderr (`event TOPIC/PARTITION@OFFSET: JSON`) before it is evaluated.
    #[arg(long)]
    pub print_events: bool,
    /// Firings in flight before intake pauses (backpressure).
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// How long in-flight actions may take to finish after SIGINT/SIGTERM (90, 30s, 5m).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = crate::cli::duration::seconds)]
    pub drain_timeout: f64,
    /// How long the broker and topics may take to answer at start (90, 30s, 5m).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = crate::cli::duration::seconds)]
    pub connect_timeout: f64,
    /// Reload the rulebook when its file changes (checked once a second). SIGHUP always reloads it.
    #[arg(long)]
    pub watch: bool,
    /// Silences file (docs/silences.md), re-read when it changes; matching firings are not sent.
    #[arg(long, env = "SEMAPHORE_SILENCES", value_name = "FILE")]
    pub silences: Option<PathBuf>,
    /// Compacted topic that keeps throttle, window and correlation (all, not_all) state across
    /// restarts and rebalances, created when missing [default: <group id>.state]. Only used when a
    /// rule keeps such state.
    #[arg(long, env = "SEMAPHORE_STATE_TOPIC", value_name = "TOPIC")]
    pub state_topic: Option<String>,
    /// Keep throttle, window and correlation state in memory only: a restart forgets it.
    #[arg(long, conflicts_with = "state_topic")]
    pub no_state_topic: bool,
    /// Engine shards evaluating in parallel, each owning a share of the partitions; rulesets that
    /// need one view of every partition (all/not_all, facts, post_event, inhibition) run on one
    /// more [default: the cores available].
    #[arg(long, env = "SEMAPHORE_WORKERS", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub workers: Option<u32>,
    /// MiB the consumer may hold in records fetched ahead of evaluation; sizes librdkafka's queues
    /// (queued.max.messages.kbytes, fetch.max.bytes, max.partition.fetch.bytes, queued.min.messages;
    /// -X still wins). At least 4.
    #[arg(long, env = "SEMAPHORE_FETCH_MEMORY", value_name = "MIB", default_value_t = DEFAULT_FETCH_MEMORY_MIB)]
    pub fetch_memory: u32,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
    #[command(flatten)]
    pub input: super::input::InputArgs,
    #[command(flatten)]
    pub kafka: Box<KafkaConnectionConfig>,
    #[command(flatten)]
    pub actions: Box<ActionConfig>,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

#[allow(clippy::print_stderr)] // the final summary line
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let Some(book) = super::load_or_report(&args.rulebook, &args.input)? else {
        return Ok(ExitCode::FAILURE);
    };
    let unset = unset_env(&book, &args.rulebook);
    if !unset.is_empty() {
        unset.iter().for_each(|line| eprintln!("{line}"));
        return Ok(ExitCode::FAILURE);
    }
    // A broken silences file is reported before anything connects; the watcher reads it again.
    if let Some(path) = &args.silences
        && crate::cli::silence::load_or_report(path)?.is_none()
    {
        return Ok(ExitCode::FAILURE);
    }
    let connection = args.kafka.resolve()?;
    let settings = settings(args, &book)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = runtime.block_on(async {
        let shutdown = Arc::new(Shutdown::listen()?);
        let hangup = reload::listen_for_hangup()?;
        settings.readiness.pass(RULEBOOK);
        let server = args.metrics.start(&settings.readiness).await?;
        // Before any producer exists, so that a bad address or topic is the only message.
        pipeline::preflight(&connection, &settings).await?;
        let watch = match &args.silences {
            Some(path) => match crate::cli::silence::watch::start(path, shutdown.signal()) {
                Ok(watch) => Some(watch),
                Err(SilenceFileError::Invalid(diagnostics)) => {
                    eprint!("{diagnostics}");
                    return anyhow::Ok(None);
                }
                Err(err) => return Err(err.into()),
            },
            None => None,
        };
        let (updates, watcher) = match watch {
            Some(watch) => (Some(watch.updates), Some(watch.task)),
            None => (None, None),
        };
        let dispatchers = Dispatchers::new(&connection, &args.actions, &shutdown)?;
        let dispatch = dispatchers.for_rulebook(&book)?;
        let (reloads, reload_receiver) = tokio::sync::mpsc::channel(1);
        let reloader = Reloader::new(args, &settings, &book, dispatchers, reloads)
            .await
            .spawn(hangup, shutdown.signal());
        let env = std::env::vars().collect();
        let summary = pipeline::run(
            book,
            env,
            &connection,
            &settings,
            dispatch,
            shutdown.signal(),
            pipeline::Controls {
                reloads: Some(reload_receiver),
                silences: updates,
            },
        )
        .await;
        reloader.stop().await;
        // The watcher ends with the pipeline (its channel closes) or at shutdown.
        if let Some(mut watcher) = watcher
            && tokio::time::timeout(Duration::from_secs(2), &mut watcher)
                .await
                .is_err()
        {
            watcher.abort();
            tracing::warn!("the silences watcher did not stop in time; stopped it");
        }
        if let Some(server) = server {
            server.stop().await;
        }
        anyhow::Ok(Some(summary?))
    })?;
    let Some(summary) = summary else {
        return Ok(ExitCode::FAILURE);
    };
    runtime.shutdown_timeout(Duration::from_secs(2));
    eprintln!(
        "records: {}, firings: {} ({} failed, dead-lettered), undecodable: {}, not objects: {}, evaluation errors: {}, throttled: {}, suppressed: {}, abandoned at shutdown: {}",
        summary.records,
        summary.firings,
        summary.failed_firings,
        summary.undecodable,
        summary.not_objects,
        summary.evaluation_errors,
        summary.throttled,
        summary.suppressed,
        summary.abandoned
    );
    Ok(ExitCode::SUCCESS)
}

/// Flags win over the rulebook; the rulebook's first source decides what flags leave open.
pub(super) fn settings(args: &RunArgs, book: &Rulebook) -> anyhow::Result<RunSettings> {
    let sources: Vec<_> = book.rulesets.iter().flat_map(|r| &r.sources).collect();
    let mut topics = args.topics.clone();
    if topics.is_empty() {
        for topic in sources.iter().flat_map(|s| &s.topics) {
            if !topics.contains(topic) {
                topics.push(topic.clone());
            }
        }
    }
    let groups: Vec<&String> = sources.iter().filter_map(|s| s.group_id.as_ref()).collect();
    if groups.windows(2).any(|pair| pair[0] != pair[1]) && args.group_id.is_none() {
        tracing::warn!(
            ?groups,
            "the rulesets name different group_ids; one process uses one group, the first"
        );
    }
    let group_id = args
        .group_id
        .clone()
        .or_else(|| groups.first().map(|g| (*g).clone()))
        .unwrap_or_else(|| "semaphore".to_owned());
    let offset = args
        .offset
        .unwrap_or(match sources.first().map(|s| s.offset) {
            Some(Offset::Latest) => OffsetReset::Latest,
            Some(Offset::Earliest) | None => OffsetReset::Earliest,
        });
    Ok(RunSettings {
        topics,
        offset,
        dead_letter_topic: args.dead_letter_topic.clone(),
        dead_letter_dir: match &args.dead_letter_dir {
            Some(dir) => dir.clone(),
            None => crate::config::default_dead_letter_dir(|name| std::env::var(name).ok())?,
        },
        max_in_flight: args.max_in_flight as usize,
        drain_timeout: seconds(args.drain_timeout, "--drain-timeout")?,
        connect_timeout: seconds(args.connect_timeout, "--connect-timeout")?,
        dry_run: args.dry_run,
        print_events: args.print_events,
        readiness: Readiness::new(&[RULEBOOK, pipeline::PARTITIONS, pipeline::BROKER]),
        state_topic: state_topic(args, book, &group_id),
        group_id,
        workers: args
            .workers
            .map_or_else(pipeline::shards::default_workers, |n| n as usize),
        fetch_memory: FetchMemory::mib(args.fetch_memory)?,
    })
}

fn state_topic(args: &RunArgs, book: &Rulebook, group_id: &str) -> Option<String> {
    let keyed = book
        .rulesets
        .iter()
        .flat_map(|ruleset| &ruleset.rules)
        .any(|rule| rule.keeps_state());
    if args.no_state_topic || !keyed {
        return None;
    }
    Some(
        args.state_topic
            .clone()
            .unwrap_or_else(|| format!("{group_id}.state")),
    )
}

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag} must be a non-negative number of seconds"))
}

/// A template reading an environment variable that is not set fails on every firing: refused before
/// anything connects (and on reload), one line per variable, at the first string that reads it.
pub(super) fn unset_env(book: &Rulebook, file: &Path) -> Vec<String> {
    book.templates
        .env_reads()
        .iter()
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .map(|(name, pos)| {
            format!(
                "{}:{}:{}: environment variable `{name}` is not set; a template reads it",
                file.display(),
                pos.line,
                pos.col
            )
        })
        .collect()
}
