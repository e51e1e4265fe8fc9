//! `semaphore publish loss-latency|clients`: poll the Meraki Dashboard API and publish records to
//! Kafka, syslog or stdout, once or every `--interval` (the replacement for the original
//! `latency_loss_logging.py`, `publish_clients.py` and `start_publishing.sh`). This file owns the
//! command flags, the summary line per cycle, the progress line on a terminal and the exit code;
//! polling, sinks and scheduling are `meraki`'s.

pub(super) mod args;
mod program;
mod progress;
mod summary;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand, ValueEnum as _};

use super::duration;
use crate::meraki::clients::{ClientsOptions, ClientsPoller, DEFAULT_TIMESPAN_S, MAX_PER_PAGE};
use crate::meraki::filter::ClientFilter;
use crate::meraki::loss_latency::{
    DEFAULT_RESOLUTION_S, LossLatencyOptions, LossLatencyPoller, ORG_WIDE_TIMESPAN_S,
};
use crate::meraki::schedule::{OrgPoller, Publisher};
use crate::meraki::sinks::{Sink, SinkSettings};
use crate::meraki::{Client, CycleSummary, Progress};
use crate::shutdown::Shutdown;
use crate::telemetry::metrics as names;
use crate::telemetry::readiness::Readiness;
use args::{CLIENTS_ENV, CommonArgs, LOSS_LATENCY_ENV};
use summary::{Counted, summary_line};

/// Readiness check: the last cycle delivered its records.
const DELIVERY: &str = "delivery";

/// Blocking Kafka calls that outlived their own timeout must not keep the process alive past this.
const RUNTIME_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Subcommand)]
pub enum PublishCommand {
    /// Uplink loss and latency of every appliance (MX, Z), one record per device, uplink,
    /// destination and minute, keyed by serial.
    LossLatency(LossLatencyArgs),
    /// The clients of every network, one record per network ({"payload": [...], "network",
    /// "networkName"}, keyed by network id) or per client (keyed by MAC).
    Clients(ClientsArgs),
    /// Run `clients` or `loss-latency`, chosen by the name of the original script it stands in for
    /// (--program or PUBLISHER_PROGRAM: publish_clients.py or latency_loss_logging.py), so that a
    /// launcher written for those scripts keeps working; further arguments are that command's flags.
    Program(program::ProgramArgs),
}

#[derive(Debug, Args)]
#[command(after_help = LOSS_LATENCY_ENV)]
pub struct LossLatencyArgs {
    /// Read each appliance's lossAndLatencyHistory (one call per appliance, like the original)
    /// instead of one org-wide uplinksLossAndLatency call per organization.
    #[arg(long, env = "SEMAPHORE_PER_DEVICE")]
    per_device: bool,
    /// Probe destination: per device, the one measured [default: 8.8.8.8]; org-wide, only this one
    /// [default: every destination].
    #[arg(long, env = "SEMAPHORE_MERAKI_IP", value_name = "IP")]
    ip: Option<String>,
    /// Uplink: per device, the one measured [default: wan1]; org-wide, only this one [default: all].
    #[arg(long, env = "SEMAPHORE_MERAKI_UPLINK", value_parser = ["wan1", "wan2", "wan3", "wan4", "cellular"])]
    uplink: Option<String>,
    /// How far back each poll reads (90, 119s, 5m) [default: 300s org-wide, its maximum; 119s per
    /// device, as the original]. MERAKI_TIMESPAN (seconds) is read too.
    #[arg(long, env = "SEMAPHORE_MERAKI_TIMESPAN", value_name = "DURATION", value_parser = duration::seconds)]
    timespan: Option<f64>,
    /// Per device: seconds per data point.
    #[arg(long, env = "SEMAPHORE_MERAKI_RESOLUTION", default_value_t = DEFAULT_RESOLUTION_S,
          value_parser = PossibleValuesParser::new(["60", "600", "3600", "86400"]).map(|s| s.parse::<u32>().unwrap_or(60)))]
    resolution: u32,
    /// Do not fetch the appliances' dynamic DNS hostnames (saves one call per appliance per hour).
    #[arg(long, env = "SEMAPHORE_NO_DDNS")]
    no_ddns: bool,
    /// Leave out points whose values are all null (the device reported nothing that minute). By
    /// default they are published, as the original did, so that a rule can see the silence.
    #[arg(long, env = "SEMAPHORE_SKIP_EMPTY_POINTS")]
    skip_empty_points: bool,
    /// Give every record this Kafka key instead of the device's serial. RECORD_KEY is read too.
    #[arg(long, env = "SEMAPHORE_RECORD_KEY", value_name = "KEY")]
    record_key: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
#[command(after_help = CLIENTS_ENV)]
pub struct ClientsArgs {
    /// Clients seen in the last DURATION (90, 119s, 5m, 24h; at most 31 days) [default: 24h].
    /// MERAKI_TIMESPAN (seconds) is read too.
    #[arg(long, env = "SEMAPHORE_MERAKI_TIMESPAN", value_name = "DURATION", value_parser = duration::seconds)]
    timespan: Option<f64>,
    /// Clients per API page (3 to 5000; fewer pages, fewer calls) [default: 5000]. MERAKI_PERPAGE
    /// is read too.
    #[arg(long, env = "SEMAPHORE_MERAKI_PER_PAGE", value_name = "N", value_parser = clap::value_parser!(u32).range(3..=MAX_PER_PAGE as i64))]
    per_page: Option<u32>,
    /// One record per client, keyed by MAC, instead of one per network.
    #[arg(long, env = "SEMAPHORE_PER_CLIENT")]
    per_client: bool,
    /// Publish only the clients whose fields match a filter file's conditions, or with `fuzzy`
    /// every client with its match scores (JSON, or YAML for .yml/.yaml; the original publisher's
    /// format): {"match": "any"|"all", "conditions": [{"key", "value"}], "fuzzy": {"key", "value"}}.
    #[arg(
        short = 'f',
        long,
        env = "SEMAPHORE_CLIENT_FILTER",
        value_name = "FILE"
    )]
    filter: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

impl PublishCommand {
    pub fn log_verbosity(&self) -> u8 {
        match self {
            PublishCommand::LossLatency(args) => args.common.verbose,
            PublishCommand::Clients(args) => args.common.verbose,
            // A bad command line is reported by `run`.
            PublishCommand::Program(args) => args.resolve().map_or(0, |c| c.log_verbosity()),
        }
    }
}

pub fn run(command: PublishCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        // A usage error of the command it stands for is shown and exits 2, as clap shows it.
        PublishCommand::Program(args) => args.resolve().unwrap_or_else(|err| err.exit()),
        command => command,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        match command {
            PublishCommand::LossLatency(args) => loss_latency(args).await,
            PublishCommand::Clients(args) => clients(args).await,
            PublishCommand::Program(_) => anyhow::bail!("`publish program` cannot run itself"),
        }
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN_GRACE);
    outcome
}

async fn loss_latency(args: LossLatencyArgs) -> anyhow::Result<ExitCode> {
    let default = if args.per_device {
        119.0
    } else {
        ORG_WIDE_TIMESPAN_S
    };
    let timespan =
        args::or_seed_env(args.timespan, "MERAKI_TIMESPAN", duration::seconds)?.unwrap_or(default);
    if !args.per_device && (timespan <= 0.0 || timespan > ORG_WIDE_TIMESPAN_S || timespan.is_nan())
    {
        anyhow::bail!(
            "--timespan (or MERAKI_TIMESPAN) must be between 0 and 300 seconds for the org-wide call (use --per-device for longer)"
        );
    }
    let options = LossLatencyOptions {
        per_device: args.per_device,
        timespan,
        ip: args.ip,
        uplink: args.uplink,
        resolution: args.resolution,
        ddns: !args.no_ddns,
        concurrency: usize::from(args.common.meraki.concurrency),
        skip_empty_points: args.skip_empty_points,
        record_key: args.record_key.or_else(|| args::seed_env("RECORD_KEY")),
    };
    let poller = LossLatencyPoller::new(options);
    publish(
        &args.common,
        poller,
        "meraki.uplinks.loss-latency",
        "loss-latency",
    )
    .await
}

async fn clients(args: ClientsArgs) -> anyhow::Result<ExitCode> {
    let timespan = args::or_seed_env(args.timespan, "MERAKI_TIMESPAN", duration::seconds)?
        .unwrap_or(DEFAULT_TIMESPAN_S);
    if !(timespan > 0.0 && timespan <= 2_678_400.0) {
        anyhow::bail!(
            "--timespan (or MERAKI_TIMESPAN) must be between 0 and 2678400 seconds (31 days)"
        );
    }
    let per_page =
        args::or_seed_env(args.per_page, "MERAKI_PERPAGE", args::per_page)?.unwrap_or(MAX_PER_PAGE);
    let filter = args.filter.as_deref().map(ClientFilter::load).transpose()?;
    if let (Some(filter), Some(path)) = (&filter, &args.filter) {
        warn_ignored(filter, path);
    }
    let options = ClientsOptions {
        timespan,
        per_page,
        per_client: args.per_client,
        filter,
        concurrency: usize::from(args.common.meraki.concurrency),
    };
    publish(
        &args.common,
        ClientsPoller::new(options),
        "meraki.clients",
        "clients",
    )
    .await
}

/// Keys of the filter file that the original ignored are ignored here too, but named, since a typo
/// there silently changes what is published.
fn warn_ignored(filter: &ClientFilter, path: &std::path::Path) {
    for key in filter.ignored() {
        let _ = writeln!(
            io::stderr().lock(),
            "warning: {}: `{key}` is not a filter key (match, conditions, fuzzy; key, value) and is ignored",
            path.display()
        );
    }
}

/// Opens the client and the sink, then runs the cycles.
async fn publish<P: OrgPoller>(
    common: &CommonArgs,
    poller: P,
    default_topic: &str,
    msgid: &'static str,
) -> anyhow::Result<ExitCode> {
    let shutdown = Shutdown::listen()?;
    let readiness = Readiness::new(&[DELIVERY]);
    let server = common.metrics.start(&readiness).await?;
    let client = Client::new(common.meraki.client_config())?;
    let schedule = common.output.schedule()?;
    let kind = common.output.sink;
    let kafka = if kind.uses_kafka() {
        Some(common.kafka.resolve()?)
    } else {
        None
    };
    let output: Option<Box<dyn Write + Send>> = Some(Box::new(BufWriter::new(io::stdout())));
    let settings = SinkSettings {
        kind,
        topic: common.output.topic(default_topic),
        create_topic: common.output.create_topic,
        kafka,
        syslog: common.output.syslog()?,
        msgid,
        output,
    };
    let sink = Sink::open(settings).await?;
    let progress = Arc::new(Progress::default());
    let publisher = Publisher {
        client: client.clone(),
        poller: Arc::new(poller),
        orgs: common.meraki.orgs.clone(),
        org_concurrency: usize::from(common.meraki.org_concurrency),
        progress: Arc::clone(&progress),
    };
    let terminal = io::stderr().is_terminal();
    let counted = if msgid == "clients" {
        Counted::Clients
    } else {
        Counted::Devices
    };
    let ticker = tokio::spawn(progress::show(
        Arc::clone(&progress),
        client,
        counted,
        terminal,
    ));
    let sink_name = kind
        .to_possible_value()
        .map_or_else(String::new, |value| value.get_name().to_owned());
    let outcome = publisher
        .run(sink, schedule, shutdown.signal(), |summary| {
            report(summary, counted, terminal);
            observe(summary, &sink_name, &readiness);
        })
        .await;
    ticker.abort();
    if let Some(server) = server {
        server.stop().await;
    }
    let all_ok = outcome?;
    // A repeating publisher stopped by a signal has done its job; a single run reports failures.
    Ok(if all_ok || schedule.interval.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The summary line of one cycle, on stderr (stdout may carry records); on a terminal it replaces
/// the progress line.
fn report(summary: &CycleSummary, counted: Counted, terminal: bool) {
    let clear = if terminal { "\r\x1b[2K" } else { "" };
    // A lost summary line is no reason to stop publishing.
    let _ = writeln!(
        io::stderr().lock(),
        "{clear}{}",
        summary_line(summary, counted)
    );
}

/// The cycle's metrics, and readiness: ready while the last cycle's records reached the sink.
fn observe(summary: &CycleSummary, sink: &str, readiness: &Readiness) {
    let delivered = summary.records.saturating_sub(summary.failed_deliveries);
    metrics::counter!(names::RECORDS_PUBLISHED, "sink" => sink.to_owned()).increment(delivered);
    metrics::counter!(names::PUBLISH_FAILURES, "sink" => sink.to_owned())
        .increment(summary.failed_deliveries);
    metrics::histogram!(names::CYCLE_SECONDS).record(summary.duration.as_secs_f64());
    let outcome = if summary.succeeded() { "ok" } else { "failed" };
    metrics::counter!(names::CYCLES, "outcome" => outcome).increment(1);
    if summary.failed_deliveries > 0 {
        readiness.fail(
            DELIVERY,
            format!(
                "the last cycle failed {} deliveries",
                summary.failed_deliveries
            ),
        );
    } else if summary.interrupted {
        readiness.fail(DELIVERY, "stopping");
    } else {
        readiness.pass(DELIVERY);
    }
}
