//! `semaphore demo`: the whole tool in one process with nothing else installed. It starts the
//! Meraki simulator, librdkafka's in-memory mock Kafka cluster (or uses `--bootstrap-servers`),
//! the publishers, `rules run` on the shipped rulebooks and a local webhook receiver, prints every
//! alert as one line, and stops on Ctrl-C/SIGTERM or after `--duration`, draining and committing.
//! This file owns the flags and the order of start and stop; the workers are in `demo/workers.rs`,
//! what is printed in `demo/report.rs`, the receiver and mock cluster in `crate::demo`.

mod report;
mod workers;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::duration;
use crate::config::{KafkaConnection, KafkaConnectionConfig, Secret};
use crate::demo::{Incidents, MockKafka, Receiver, rulebooks};
use crate::kafka::KafkaError;
use crate::meraki::sim::{self, EstateSize, Faults, SimConfig, Simulator};
use crate::shutdown::Shutdown;
use report::{banner, print, summary};
use workers::{Api, Finished, PipelineContext, Reports};

const LOSS_LATENCY_TOPIC: &str = "meraki.uplinks.loss-latency";
const CLIENTS_TOPIC: &str = "meraki.clients";
const ALERTS_TOPIC: &str = "meraki.alerts";
/// The topics the demo creates: the publishers', the alerts, and the rulebooks' dead letters.
const TOPICS: [&str; 5] = [
    LOSS_LATENCY_TOPIC,
    CLIENTS_TOPIC,
    ALERTS_TOPIC,
    "meraki.uplinks.loss-latency.dlq",
    "meraki.clients.dlq",
];
/// Partitions of each topic: few in memory, like `--create-topic` on a real broker.
const MOCK_PARTITIONS: i32 = 3;
const BROKER_PARTITIONS: i32 = 6;
/// Creating or checking one topic on a real broker.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);
/// Enough appliances that some uplink is in a loss incident in nearly every ten-minute window.
const ESTATE: EstateSize = EstateSize {
    orgs: 2,
    networks: 20,
    devices: 100,
    clients: 300,
};
/// The key the local simulator accepts; it guards nothing real.
const SIM_API_KEY: &str = "semaphore-demo-key";
/// Alerts and lines waiting for the printer before senders wait.
const CHANNEL_CAPACITY: usize = 256;
/// How long a firing's first delivery waits for its others (webhook and record) to be shown as one.
const MERGE_WAIT: Duration = Duration::from_millis(1500);
/// The fastest the simulator's clock runs.
const MAX_SPEED: u32 = 30;
/// How long stopping may take before the rest is abandoned (drain + commit + leave the group).
const STOP_TIMEOUT: Duration = Duration::from_secs(40);

#[derive(Debug, Args)]
#[command(after_help = "\
With no --bootstrap-servers it runs librdkafka's in-memory mock Kafka cluster: for trying semaphore
only, nothing is stored. With --bootstrap-servers it creates the topics there if missing.
Examples:
  semaphore demo
  semaphore demo --duration 30s
  semaphore demo --bootstrap-servers localhost:9092")]
pub struct DemoArgs {
    /// Stop after DURATION (e.g. 30s, 5m) [default: run until Ctrl-C].
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    duration: Option<Duration>,
    /// How often the publishers poll the simulator.
    #[arg(long, default_value = "10s", value_parser = duration::parse, value_name = "DURATION")]
    interval: Duration,
    /// Seed of the simulated estate (its devices, clients and incidents).
    #[arg(long, default_value_t = 1, value_name = "N")]
    seed: u64,
    /// Also show what the rulebooks' `print_event` and `debug` actions write, one line each.
    #[arg(long)]
    show_actions: bool,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    verbose: u8,
    /// A real broker instead of the mock cluster (with the connection flags below).
    #[command(flatten)]
    kafka: Box<KafkaConnectionConfig>,
}

/// Where the demo's Kafka is.
enum Broker {
    Mock(String),
    Real(KafkaConnection),
}

impl DemoArgs {
    /// How many `-v` flags raise the log level.
    pub fn log_verbosity(&self) -> u8 {
        self.verbose
    }
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.interval.is_zero() {
        anyhow::bail!("--interval must be longer than zero");
    }
    // The mock cluster is not Send: it lives on this thread, outside the runtime, until the end.
    let mock = match args.kafka.bootstrap_servers {
        Some(_) => None,
        None => Some(start_mock()?),
    };
    let broker = match &mock {
        Some(mock) => Broker::Mock(mock.bootstrap_servers()),
        None => Broker::Real(args.kafka.resolve()?),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(demo(&args, broker));
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(mock);
    outcome.map(|()| ExitCode::SUCCESS)
}

fn start_mock() -> anyhow::Result<MockKafka> {
    let mock = MockKafka::start()?;
    for topic in TOPICS {
        mock.create_topic(topic, MOCK_PARTITIONS)?;
    }
    Ok(mock)
}

async fn demo(args: &DemoArgs, broker: Broker) -> anyhow::Result<()> {
    let started = Instant::now();
    let connection = connect(&broker).await?;
    let shutdown = Arc::new(Shutdown::listen()?);
    let (stop_services, services_stopped) = watch::channel(false);
    let until_stopped = move || {
        let mut stopped = services_stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let mut services = JoinSet::new();
    let speed = sim_speed(args.interval);
    let simulator = Simulator::with_speed(sim_config(args.seed), speed)?;
    let listener = sim::bind("127.0.0.1:0").await?;
    let sim_url = format!(
        "http://{}/api/v1",
        listener.local_addr().context("simulator address")?
    );
    let stopped = until_stopped();
    services.spawn(async move { anyhow::Ok(simulator.serve(listener, stopped).await?) });
    let (alerts, alert_queue) = mpsc::channel(CHANNEL_CAPACITY);
    let (lines, line_queue) = mpsc::channel(CHANNEL_CAPACITY);
    let reports = Reports { alerts, lines };
    let receiver = Receiver::bind(reports.alerts.clone()).await?;
    let receiver_url = receiver.url();
    let stopped = until_stopped();
    services.spawn(async move { anyhow::Ok(receiver.serve(stopped).await?) });
    // An incident of the simulator lasts ten of its minutes; firings closer than that are one.
    let repeat_gap = Duration::from_secs(600 / u64::from(speed));
    let incidents = Incidents::new(MERGE_WAIT, repeat_gap);
    let printer = tokio::spawn(print(alert_queue, line_queue, incidents, until_stopped()));

    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    env.insert(rulebooks::WEBHOOK_URL_ENV.to_owned(), receiver_url.clone());
    let context = PipelineContext {
        connection: connection.clone(),
        env,
        shutdown: Arc::clone(&shutdown),
        reports: reports.clone(),
        show_output: args.show_actions,
    };
    let mut tasks = JoinSet::new();
    let mut books = Vec::new();
    for book in workers::shipped_books()? {
        books.push(book.file);
        tasks.spawn(workers::start_pipeline(book, &context).await?);
    }
    banner(args, &broker, &sim_url, &receiver_url, &books)?;
    let api = Api {
        base_url: sim_url,
        key: Secret::new(SIM_API_KEY),
    };
    tasks.spawn(workers::publish_loss_latency(
        api.clone(),
        connection.clone(),
        LOSS_LATENCY_TOPIC.to_owned(),
        args.interval,
        reports.clone(),
        shutdown.signal(),
    ));
    tasks.spawn(workers::publish_clients(
        api,
        connection.clone(),
        CLIENTS_TOPIC.to_owned(),
        args.interval,
        reports.clone(),
        shutdown.signal(),
    ));
    tasks.spawn(workers::watch_alerts(
        connection,
        ALERTS_TOPIC.to_owned(),
        reports.alerts.clone(),
        shutdown.signal(),
    ));
    drop(reports);

    let early = wait_for_stop(args.duration, &shutdown, &mut tasks).await;
    let (finished, failure) = stop_workers(early, tasks).await;
    let _ = stop_services.send(true);
    let services_failure = join_services(services).await;
    let counts = printer.await.unwrap_or_default();
    summary(started.elapsed(), &finished, counts);
    match failure.or(services_failure) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The connection to the mock or real broker; on a real broker the topics are created if missing.
async fn connect(broker: &Broker) -> anyhow::Result<KafkaConnection> {
    match broker {
        Broker::Mock(bootstrap) => {
            let flags = KafkaConnectionConfig {
                bootstrap_servers: Some(bootstrap.clone()),
                ..KafkaConnectionConfig::default()
            };
            // The mock needs no login; the environment's Kafka settings are for real brokers.
            Ok(flags.resolve_with(|_| None)?)
        }
        Broker::Real(connection) => {
            for topic in TOPICS {
                // An existing topic is used as it is; creating needs a right that checking does not.
                match crate::kafka::check_topic(connection, topic, BROKER_TIMEOUT).await {
                    Ok(_) => {}
                    Err(KafkaError::TopicNotFound { .. }) => {
                        crate::kafka::create_topic(
                            connection,
                            topic,
                            BROKER_PARTITIONS,
                            BROKER_TIMEOUT,
                        )
                        .await?;
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            Ok(connection.clone())
        }
    }
}

/// How many times as fast as real time the simulator's clock runs: one simulated minute (the
/// telemetry's resolution) per poll, so that every poll brings new points and a ten-minute
/// incident unfolds over a few polls; real time for polls a minute or more apart.
pub(super) fn sim_speed(interval: Duration) -> u32 {
    let per_minute = 60.0 / interval.as_secs_f64().max(1.0);
    (per_minute.round() as u32).clamp(1, MAX_SPEED)
}

fn sim_config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        size: ESTATE,
        api_key: Secret::new(SIM_API_KEY),
        rate_limit: 10,
        burst: 20,
        faults: Faults::default(),
        absolute_links: false,
        redirect_host: None,
        clock: None,
    }
}

type WorkerResult = Result<anyhow::Result<Finished>, tokio::task::JoinError>;

/// Waits for the signal, the duration, or a worker ending early (an error: workers run until
/// stopped), then asks everything to stop. Returns the early worker's result.
async fn wait_for_stop(
    duration: Option<Duration>,
    shutdown: &Shutdown,
    workers: &mut JoinSet<anyhow::Result<Finished>>,
) -> Option<WorkerResult> {
    let mut signal = shutdown.signal();
    let deadline = async {
        match duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending().await,
        }
    };
    let early = tokio::select! {
        () = deadline => None,
        _ = signal.requested() => None,
        Some(done) = workers.join_next() => Some(done),
    };
    shutdown.request();
    early
}

/// Lets every worker drain and commit, up to [`STOP_TIMEOUT`]; returns what they report and the
/// first failure.
async fn stop_workers(
    early: Option<WorkerResult>,
    mut workers: JoinSet<anyhow::Result<Finished>>,
) -> (Vec<Finished>, Option<anyhow::Error>) {
    let mut finished = Vec::new();
    let mut failure = None;
    let mut take = |done: WorkerResult| match done {
        Ok(Ok(report)) => finished.push(report),
        Ok(Err(err)) => {
            failure.get_or_insert(err);
        }
        Err(err) => {
            failure.get_or_insert(anyhow::anyhow!("a demo task ended abnormally: {err}"));
        }
    };
    if let Some(done) = early {
        take(done);
    }
    let deadline = tokio::time::Instant::now() + STOP_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, workers.join_next()).await {
            Ok(Some(done)) => take(done),
            Ok(None) => break,
            Err(_) => {
                workers.abort_all();
                failure.get_or_insert(anyhow::anyhow!(
                    "stopping took longer than {}s; the rest was abandoned",
                    STOP_TIMEOUT.as_secs()
                ));
                break;
            }
        }
    }
    (finished, failure)
}

async fn join_services(mut services: JoinSet<anyhow::Result<()>>) -> Option<anyhow::Error> {
    let mut failure = None;
    while let Ok(Some(done)) = tokio::time::timeout(STOP_TIMEOUT, services.join_next()).await {
        if let Ok(Err(err)) = done {
            failure.get_or_insert(err);
        }
    }
    services.abort_all();
    failure
}
