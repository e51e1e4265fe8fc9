//! The long-running parts of `semaphore demo`, each a task that stops on the shutdown signal: the
//! two publishers (the library code behind `semaphore publish ... --interval`), one `rules run`
//! pipeline per shipped rulebook (the code behind `semaphore rules run`), and a watcher of the
//! alerts topic. They report through bounded channels; the printer in `demo.rs` writes.

use crate::telemetry::readiness::Readiness;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::actions::context::Output;
use crate::actions::webhook::IDEMPOTENCY_HEADER;
use crate::config::{ActionConfig, FetchMemory, KafkaConnection, OffsetReset, Secret};
use crate::demo::output::LineOutput;
use crate::demo::{Alert, rulebooks};
use crate::kafka::Consumer;
use crate::meraki::client::{MAX_REQUESTS_PER_SECOND, RetryPolicy};
use crate::meraki::clients::{ClientsOptions, ClientsPoller};
use crate::meraki::loss_latency::{LossLatencyOptions, LossLatencyPoller};
use crate::meraki::schedule::{OrgPoller, Publisher, Schedule};
use crate::meraki::sinks::{Sink, SinkKind, SinkSettings};
use crate::meraki::{Client, ClientConfig, CycleSummary};
use crate::pipeline::{self, RunSettings, RunSummary};
use crate::rulebook::{self, Rulebook};
use crate::shutdown::{Shutdown, ShutdownSignal};

/// Consumer groups of the demo start with this, so a demo never moves a real deployment's offsets.
const GROUP_PREFIX: &str = "semaphore-demo.";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(200);

/// What a finished worker hands back for the final summary.
pub enum Finished {
    Publisher,
    Pipeline {
        rulebook: String,
        summary: RunSummary,
    },
    Watcher,
}

/// Where the workers report: alerts, and lines about what is happening.
#[derive(Clone)]
pub struct Reports {
    pub alerts: mpsc::Sender<Alert>,
    pub lines: mpsc::Sender<String>,
}

/// The simulator the publishers read.
#[derive(Clone)]
pub struct Api {
    pub base_url: String,
    pub key: Secret,
}

/// Polls the simulator every `interval` and publishes to `topic`, like
/// `semaphore publish loss-latency --interval ...`.
pub async fn publish_loss_latency(
    api: Api,
    connection: KafkaConnection,
    topic: String,
    interval: Duration,
    reports: Reports,
    stop: ShutdownSignal,
) -> anyhow::Result<Finished> {
    let options = LossLatencyOptions {
        // One call per appliance: slow at the start and nothing the rulebooks look at.
        ddns: false,
        ..LossLatencyOptions::default()
    };
    let poller = LossLatencyPoller::new(options);
    publish(
        poller,
        "loss-latency",
        (api, connection, topic, interval),
        reports,
        stop,
    )
    .await
}

/// Like `semaphore publish clients --per-client --interval ...`: the `new-client` rulebook wants
/// one client per record.
pub async fn publish_clients(
    api: Api,
    connection: KafkaConnection,
    topic: String,
    interval: Duration,
    reports: Reports,
    stop: ShutdownSignal,
) -> anyhow::Result<Finished> {
    let options = ClientsOptions {
        per_client: true,
        ..ClientsOptions::default()
    };
    let poller = ClientsPoller::new(options);
    publish(
        poller,
        "clients",
        (api, connection, topic, interval),
        reports,
        stop,
    )
    .await
}

async fn publish<P: OrgPoller>(
    poller: P,
    msgid: &'static str,
    (api, connection, topic, interval): (Api, KafkaConnection, String, Duration),
    reports: Reports,
    stop: ShutdownSignal,
) -> anyhow::Result<Finished> {
    let client = Client::new(ClientConfig {
        base_url: api.base_url,
        api_key: Some(api.key),
        requests_per_second: std::num::NonZeroU32::new(MAX_REQUESTS_PER_SECOND)
            .expect("the maximum rate is not zero"),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy::default(),
        extra_hosts: Vec::new(),
    })?;
    let sink = Sink::open(SinkSettings {
        kind: SinkKind::Kafka,
        topic: topic.clone(),
        create_topic: false,
        kafka: Some(connection),
        syslog: None,
        msgid,
        output: None,
    })
    .await?;
    let publisher = Publisher {
        client,
        poller: Arc::new(poller),
        orgs: Vec::new(),
        org_concurrency: 10,
        progress: Arc::default(),
    };
    let schedule = Schedule {
        interval: Some(interval),
        jitter: interval / 10,
    };
    publisher
        .run(sink, schedule, stop, |summary| {
            // A full channel only loses a progress line.
            let _ = reports.lines.try_send(cycle_line(msgid, &topic, summary));
        })
        .await?;
    Ok(Finished::Publisher)
}

fn cycle_line(what: &str, topic: &str, s: &CycleSummary) -> String {
    let mut line = format!(
        "publish {what}: cycle {}, {} records to {topic}, {} API calls, {:.1}s",
        s.cycle,
        s.records,
        s.api_calls,
        s.duration.as_secs_f64()
    );
    if let Some(failure) = &s.first_failure {
        line.push_str(&format!("; failed: {failure}"));
    }
    line
}

/// One shipped rulebook, compiled and ready to run.
pub struct Book {
    pub file: &'static str,
    pub rulebook: Arc<Rulebook>,
    pub settings: RunSettings,
}

/// Compiles the embedded rulebooks; each runs in its own demo consumer group, from the start of
/// its topics (they are new in the mock cluster; on a real broker the first run reads what is there).
pub fn shipped_books() -> anyhow::Result<Vec<Book>> {
    rulebooks::SHIPPED
        .iter()
        .map(|(file, text)| {
            let book = rulebook::compile(file, text).map_err(|d| anyhow::anyhow!("{d}"))?;
            let settings = run_settings(file, &book);
            Ok(Book {
                file,
                rulebook: Arc::new(book),
                settings,
            })
        })
        .collect()
}

fn run_settings(file: &str, book: &Rulebook) -> RunSettings {
    let sources: Vec<_> = book.rulesets.iter().flat_map(|r| &r.sources).collect();
    let mut topics: Vec<String> = Vec::new();
    for topic in sources.iter().flat_map(|s| &s.topics) {
        if !topics.contains(topic) {
            topics.push(topic.clone());
        }
    }
    let group = sources
        .iter()
        .find_map(|s| s.group_id.clone())
        .unwrap_or_else(|| file.trim_end_matches(".yml").to_owned());
    RunSettings {
        group_id: format!("{GROUP_PREFIX}{group}"),
        topics,
        offset: OffsetReset::Earliest,
        dead_letter_topic: None,
        // Like the mock cluster, what the demo spools is of no use once it ends.
        dead_letter_dir: std::env::temp_dir().join("semaphore-demo-dead-letters"),
        max_in_flight: 1024,
        drain_timeout: DRAIN_TIMEOUT,
        connect_timeout: CONNECT_TIMEOUT,
        dry_run: false,
        print_events: false,
        readiness: Readiness::new(&[pipeline::PARTITIONS, pipeline::BROKER]),
        // The mock cluster forgets everything when the demo ends; there is nothing to keep.
        state_topic: None,
        // Several pipelines share the demo's process, each with light traffic.
        workers: 1,
        fetch_memory: FetchMemory::default(),
    }
}

/// Everything a pipeline shares with the others.
#[derive(Clone)]
pub struct PipelineContext {
    pub connection: KafkaConnection,
    pub env: BTreeMap<String, String>,
    pub shutdown: Arc<Shutdown>,
    pub reports: Reports,
    /// Send `print_event`/`debug` output to the printer; else it is discarded.
    pub show_output: bool,
}

/// `rules run` on one book; [`pipeline::preflight`] first, so that a missing topic is an error
/// at start.
pub async fn start_pipeline(
    book: Book,
    context: &PipelineContext,
) -> anyhow::Result<impl Future<Output = anyhow::Result<Finished>> + Send + 'static> {
    pipeline::preflight(&context.connection, &book.settings).await?;
    let actions = ActionConfig {
        max_concurrent_actions: 25,
        ..ActionConfig::default()
    };
    let output: Output = if context.show_output {
        Arc::new(Mutex::new(LineOutput::new(context.reports.lines.clone())))
    } else {
        Arc::new(Mutex::new(std::io::sink()))
    };
    let dispatch = super::super::rules::dispatch::Dispatchers::writing_to(
        &context.connection,
        &actions,
        &context.shutdown,
        output,
    )?
    .for_rulebook(&book.rulebook)?;
    let (connection, env, stop) = (
        context.connection.clone(),
        context.env.clone(),
        context.shutdown.signal(),
    );
    Ok(async move {
        let summary = pipeline::run(
            book.rulebook,
            env,
            &connection,
            &book.settings,
            dispatch,
            stop,
            pipeline::Controls::default(),
        )
        .await?;
        Ok(Finished::Pipeline {
            rulebook: book.file.to_owned(),
            summary,
        })
    })
}

/// Shows every record of the alerts topic as an alert, committing as it goes.
pub async fn watch_alerts(
    connection: KafkaConnection,
    topic: String,
    alerts: mpsc::Sender<Alert>,
    mut stop: ShutdownSignal,
) -> anyhow::Result<Finished> {
    let group = format!("{GROUP_PREFIX}alerts-watch");
    let consumer = Consumer::subscribe(&connection, &group, OffsetReset::Earliest, &[&topic])?;
    loop {
        let record = tokio::select! {
            _ = stop.requested() => break,
            record = consumer.recv(POLL) => record?,
        };
        let Some(record) = record else { continue };
        if let Some(value) = &record.value {
            let key = record
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(IDEMPOTENCY_HEADER))
                .and_then(|(_, value)| std::str::from_utf8(value).ok());
            alerts
                .send(Alert::from_record(&record.topic, key, value))
                .await
                .map_err(|_| anyhow::anyhow!("the alert printer stopped early"))?;
        }
        consumer.mark_handled(&record)?;
    }
    consumer.close(CONNECT_TIMEOUT).await?;
    Ok(Finished::Watcher)
}
