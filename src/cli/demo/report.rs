//! What `semaphore demo` writes on stdout: the start-up banner, alerts and progress lines as they
//! come, and the summary at the end. The parts it describes are started by `demo.rs`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Local;
use tokio::sync::mpsc;

use super::workers::Finished;
use super::{ALERTS_TOPIC, Broker, CLIENTS_TOPIC, DemoArgs, ESTATE, LOSS_LATENCY_TOPIC};
use crate::demo::{Alert, IncidentCounts, Incidents};

/// How often waiting firings are checked for being due.
const TICK: Duration = Duration::from_millis(200);

/// Writes incidents and progress lines as they come; after the stop, what is still queued.
#[allow(clippy::print_stdout)] // the demo's output
pub(super) async fn print(
    mut alerts: mpsc::Receiver<Alert>,
    mut lines: mpsc::Receiver<String>,
    mut incidents: Incidents,
    stop: impl Future<Output = ()>,
) -> IncidentCounts {
    let show_line = |line: String| println!("{}       {line}", Local::now().format("%H:%M:%S"));
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            Some(alert) = alerts.recv() => incidents.add(alert, Instant::now()),
            Some(line) = lines.recv() => show_line(line),
            _ = tick.tick() => {}
            () = &mut stop => break,
        }
        for line in incidents.due(Instant::now(), false) {
            println!("{line}");
        }
    }
    while let Ok(alert) = alerts.try_recv() {
        incidents.add(alert, Instant::now());
    }
    for line in incidents.due(Instant::now(), true) {
        println!("{line}");
    }
    while let Ok(line) = lines.try_recv() {
        show_line(line);
    }
    incidents.counts()
}

pub(super) fn banner(
    args: &DemoArgs,
    broker: &Broker,
    sim_url: &str,
    receiver_url: &str,
    books: &[&str],
) -> anyhow::Result<()> {
    let (kafka, watch) = match broker {
        Broker::Mock(bootstrap) => (
            format!(
                "librdkafka's in-memory mock cluster at {bootstrap}: for trying semaphore only; \
                 nothing is stored, and it is gone when the demo stops"
            ),
            format!("--bootstrap-servers {bootstrap} (from another terminal, while the demo runs)"),
        ),
        Broker::Real(connection) => (
            format!("the broker at {}", connection.bootstrap_servers()),
            format!(
                "--bootstrap-servers {} (and the same connection flags as here)",
                connection.bootstrap_servers()
            ),
        ),
    };
    let stop = match args.duration {
        Some(duration) => format!("stops after {}s or on Ctrl-C", duration.as_secs_f64()),
        None => "stop it with Ctrl-C".to_owned(),
    };
    let text = format!(
        "semaphore demo: everything below runs in this one process; {stop}.
  Kafka       {kafka}
  topics      {LOSS_LATENCY_TOPIC}, {CLIENTS_TOPIC} (publisher) -> {ALERTS_TOPIC} (rules); *.dlq for dead letters
  Meraki API  simulator at {sim_url} (seed {seed}: {orgs} organizations, {networks} networks, {devices} appliances, {clients} clients, with incidents)
              its clock runs {speed}x as fast as yours, so that incidents begin and end while you watch
  publisher   loss-latency and clients (one record per client), every {interval}s
  rules run   {books} (the shipped rulebooks, built into this binary; consumer groups semaphore-demo.*)
  receiver    {receiver_url} (the rulebooks' webhooks post here)
  watch       semaphore consume --topic {ALERTS_TOPIC} --group my-watch {watch}
Alerts appear below as they fire: one line per incident (time, rule, details, where it was sent).
",
        seed = args.seed,
        speed = super::sim_speed(args.interval),
        orgs = ESTATE.orgs,
        networks = ESTATE.networks,
        devices = ESTATE.devices,
        clients = ESTATE.clients,
        interval = args.interval.as_secs_f64(),
        books = books.join(", "),
    );
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

#[allow(clippy::print_stdout)] // the demo's last words
pub(super) fn summary(elapsed: Duration, finished: &[Finished], counts: IncidentCounts) {
    println!(
        "demo stopped after {:.1}s: {} incidents shown ({} more firings of incidents already shown); \
         {} alerts by webhook, {} on {ALERTS_TOPIC}",
        elapsed.as_secs_f64(),
        counts.shown,
        counts.repeats,
        counts.webhook,
        counts.topic
    );
    for report in finished {
        if let Finished::Pipeline { rulebook, summary } = report {
            println!(
                "  {rulebook}: {} records, {} firings ({} failed), offsets committed",
                summary.records, summary.firings, summary.failed_firings
            );
        }
    }
}
