//! What `semaphore demo` writes on stdout: the start-up banner, alerts and progress lines as they
//! come, and the summary at the end. The parts it describes are started by `demo.rs`.

use std::io::{self, Write};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Local;
use tokio::sync::mpsc;

use super::workers::Finished;
use super::{ALERTS_TOPIC, Broker, CLIENTS_TOPIC, DemoArgs, ESTATE, LOSS_LATENCY_TOPIC};
use crate::demo::{Alert, Channel};

/// Alerts shown, by channel.
#[derive(Default, Clone, Copy)]
pub(super) struct Counts {
    webhook: u64,
    topic: u64,
}

/// Writes alerts and progress lines as they come; after the stop, what is still queued.
#[allow(clippy::print_stdout)] // the demo's output
pub(super) async fn print(
    mut alerts: mpsc::Receiver<Alert>,
    mut lines: mpsc::Receiver<String>,
    stop: impl Future<Output = ()>,
) -> Counts {
    let mut counts = Counts::default();
    let show_alert = |alert: Alert, counts: &mut Counts| {
        match alert.channel {
            Channel::Webhook => counts.webhook += 1,
            Channel::Topic(_) => counts.topic += 1,
        }
        println!("{}", alert.line());
    };
    let show_line = |line: String| println!("{}       {line}", Local::now().format("%H:%M:%S"));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            Some(alert) = alerts.recv() => show_alert(alert, &mut counts),
            Some(line) = lines.recv() => show_line(line),
            () = &mut stop => break,
        }
    }
    while let Ok(alert) = alerts.try_recv() {
        show_alert(alert, &mut counts);
    }
    while let Ok(line) = lines.try_recv() {
        show_line(line);
    }
    counts
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
  publisher   loss-latency and clients (one record per client), every {interval}s
  rules run   {books} (the shipped rulebooks, built into this binary; consumer groups semaphore-demo.*)
  receiver    {receiver_url} (the rulebooks' webhooks post here)
  watch       semaphore consume --topic {ALERTS_TOPIC} --group my-watch {watch}
Alerts appear below as they fire, one line each (time, how it arrived, rule, details).
",
        seed = args.seed,
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
pub(super) fn summary(elapsed: Duration, finished: &[Finished], counts: Counts) {
    println!(
        "demo stopped after {:.1}s: {} alerts by webhook, {} on {ALERTS_TOPIC}",
        elapsed.as_secs_f64(),
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
