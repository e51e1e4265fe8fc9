//! Scale run of `semaphore publish` (issue 6, point 8): the simulator serves 50 organizations, 5,000
//! networks, 20,000 appliances and 500,000 clients at Meraki's 10 requests/s per organization; the
//! publisher, with its default settings, publishes every client (`--per-client`) and every
//! loss/latency point to stdout, which this program counts. It prints, per command, the run time,
//! the API calls and 429s (from the publisher's summary line), the records and the publisher's peak
//! resident memory (VmHWM, sampled from /proc while it runs). `PUBLISH_SCALE=0.1` shrinks the estate
//! for a quick try. Both processes are the release binary; nothing here is timed against a limit.

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const KEY: &str = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e";
/// The estate of issue 6, point 8.
const ORGS: f64 = 50.0;
const NETWORKS: f64 = 5_000.0;
const APPLIANCES: f64 = 20_000.0;
const CLIENTS: f64 = 500_000.0;
/// How often the publisher's memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

fn main() {
    let scale: f64 = std::env::var("PUBLISH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let size = |n: f64| ((n * scale).round() as u64).max(1).to_string();
    let sizes = [size(ORGS), size(NETWORKS), size(APPLIANCES), size(CLIENTS)];
    println!(
        "estate: {} orgs, {} networks, {} appliances, {} clients",
        sizes[0], sizes[1], sizes[2], sizes[3]
    );
    let (mut simulator, base_url) = start_simulator(&sizes);
    for (name, args) in [
        (
            "publish clients --per-client",
            &["clients", "--per-client"][..],
        ),
        ("publish loss-latency", &["loss-latency"][..]),
    ] {
        let run = publish(&base_url, args);
        println!(
            "{name}: {:.1} s, {} API calls ({} rate-limited), {} records, peak RSS {:.1} MiB",
            run.seconds,
            run.api_calls,
            run.rate_limited,
            run.records,
            run.peak_rss_kib as f64 / 1024.0
        );
        println!("  summary: {}", run.summary);
    }
    simulator.kill().expect("stop the simulator");
    simulator.wait().expect("simulator reaped");
}

fn semaphore() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_semaphore"));
    command
        .env("MERAKI_DASHBOARD_API_KEY", KEY)
        .env_remove("RUST_LOG");
    command
}

/// Starts `semaphore meraki-sim` on a free port; returns it and its base URL.
fn start_simulator(sizes: &[String; 4]) -> (Child, String) {
    let mut child = semaphore()
        .args([
            "meraki-sim",
            "--listen",
            "127.0.0.1:0",
            "--orgs",
            &sizes[0],
            "--networks",
            &sizes[1],
        ])
        .args(["--devices", &sizes[2], "--clients", &sizes[3]])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the simulator starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the base URL line");
    (child, first.trim().to_owned())
}

struct Run {
    seconds: f64,
    api_calls: u64,
    rate_limited: u64,
    records: u64,
    peak_rss_kib: u64,
    summary: String,
}

fn publish(base_url: &str, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = semaphore()
        .arg("publish")
        .args(args)
        .args(["--base-url", base_url, "--sink", "stdout"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the publisher starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let counter =
        thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).count() as u64);
    let stderr = child.stderr.take().expect("piped stderr");
    let summary = thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .filter(|line| line.starts_with("cycle "))
            .last()
            .unwrap_or_default()
    });
    let mut peak_rss_kib = 0;
    let status = loop {
        peak_rss_kib = peak_rss_kib.max(common::peak_rss_kib(&child.id().to_string()));
        if let Some(status) = child.try_wait().expect("the publisher can be waited for") {
            break status;
        }
        thread::sleep(SAMPLE_EVERY);
    };
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "the publisher failed: {status}");
    let records = counter.join().expect("line counter");
    let summary = summary.join().expect("summary reader");
    Run {
        seconds,
        api_calls: number_before(&summary, " API calls"),
        rate_limited: number_before(&summary, " rate-limited"),
        records,
        peak_rss_kib,
        summary,
    }
}

/// The number right before `label` in the summary line, e.g. `5051 API calls`.
fn number_before(summary: &str, label: &str) -> u64 {
    let end = summary.find(label).unwrap_or(0);
    let start = summary[..end].rfind([' ', '(']).map_or(0, |i| i + 1);
    summary[start..end].parse().unwrap_or(0)
}
