//! The timed runs of `--bench rules_run`: one `rules run` over every record, measured for events/s,
//! CPU seconds (from /proc/PID/stat) and peak RSS; the memory phase built from them; and the
//! extra arguments every run takes from `BENCH_RULES_RUN_ARGS`.

use std::process::Command;
use std::time::{Duration, Instant};

use super::{common, now_ms, spawn, stop, wait_for_log, wait_until_committed};

/// What one timed `rules run` measured.
pub struct Timed {
    pub rate: f64,
    cpu: f64,
    rss_mib: u64,
}

/// One `rules run` over every record of `topic`, in a group of its own.
pub fn timed_run(
    bootstrap: &str,
    topic: &str,
    rulebook: &tempfile::NamedTempFile,
    args: &[&str],
    records: usize,
) -> Timed {
    let group = format!("bench-group-{}", now_ms());
    let log = tempfile::NamedTempFile::new().expect("log file");
    let spawned = Instant::now();
    let mut child = spawn(rulebook, bootstrap, &group, &log, args);
    let pid = child.id().to_string();
    let first = wait_for_log(&log, "first record received", Duration::from_secs(60));
    let cpu_at_first = cpu_seconds(&pid);
    let done = wait_until_committed(bootstrap, &group, topic, Duration::from_secs(600));
    let timed = Timed {
        rate: records as f64 / (done - first.unwrap_or(spawned)).as_secs_f64(),
        cpu: cpu_seconds(&pid) - cpu_at_first,
        rss_mib: common::peak_rss_kib(&pid) / 1024,
    };
    stop(&mut child);
    timed
}

/// librdkafka's own prefetch sizes, which `--fetch-memory` replaces.
const LIBRDKAFKA_QUEUES: [&str; 8] = [
    "-X",
    "queued.max.messages.kbytes=65536",
    "-X",
    "queued.min.messages=100000",
    "-X",
    "fetch.max.bytes=52428800",
    "-X",
    "max.partition.fetch.bytes=1048576",
];

/// The 20-rule run with the default budget and with librdkafka's queue sizes, twice each and
/// alternating, so that a change in the machine's load hits both alike.
pub fn memory_phase(
    bootstrap: &str,
    topic: &str,
    rulebook: &tempfile::NamedTempFile,
    records: usize,
) {
    for round in 1..=2 {
        for (label, args) in [
            ("--fetch-memory default", &[][..]),
            ("librdkafka's queue sizes", &LIBRDKAFKA_QUEUES[..]),
        ] {
            let run = timed_run(bootstrap, topic, rulebook, args, records);
            println!(
                "memory, round {round}, {label}: {:.0} events/s, {:.2} CPU s, peak RSS {} MiB",
                run.rate, run.cpu, run.rss_mib
            );
        }
    }
}

/// `BENCH_RULES_RUN_ARGS`, split at whitespace.
pub fn extra_args() -> Vec<String> {
    std::env::var("BENCH_RULES_RUN_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// User + system CPU seconds of `process` (`"self"` or a pid) so far, from /proc/PID/stat.
pub fn cpu_seconds(process: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after it start with the state (3).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |field: usize| -> f64 {
        fields
            .get(field - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(14) + ticks(15)) / clock_ticks_per_second()
}

/// `getconf CLK_TCK`: the unit of the times in /proc/PID/stat (100 almost everywhere).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
