//! How `rules run`'s evaluation scales with engine shards, without a broker: Meraki-shaped uplink
//! records (about 400 bytes of JSON, spread over 12 partitions) are fed from memory through the
//! engine shards of the pipeline (decode + 20 rules, the rulebook of `--bench rules_run`) with 1, 2
//! and 4 workers, the way the intake loop feeds them (routed by partition, in batches, over the
//! bounded channels, every evaluation reported back). Prints events/s per worker count and the ratio
//! to one worker, with the cores available and the load average, since other work on the machine
//! takes cores from the shards, and how many cores as many spinning threads as there are cores
//! obtain for a second (what is left for the shards); and, from the kernel's accounting
//! (/proc/self/stat), the cores the process kept busy and its events per CPU-second, which show
//! whether more workers would have had more cores to use.
//!
//! Run: `cargo bench --bench pipeline` (optionally `-- RECORDS`, default 400000).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use semaphore::pipeline::SourceRecord;
use semaphore::pipeline::shards::{Report, Shards};

/// The binary's allocator, so that the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PARTITIONS: usize = 12;
const RULES: usize = 20;
const TOPIC: &str = "meraki.uplinks.loss-latency";

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(400_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "pipeline benchmark: {count} records over {PARTITIONS} partitions, {RULES} rules; {cores} cores available, load average {}; {:.2} cores obtained by {cores} spinning threads",
        load_average(),
        cores_obtained(cores)
    );
    let book = Arc::new(
        semaphore::rulebook::compile("bench.yml", &rulebook())
            .expect("the bench rulebook is valid"),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // A first pass warms the allocator and caches, so one worker is not charged for it.
    let _ = runtime.block_on(measure(&book, 1, count / 4));
    let mut one = None;
    for workers in [1, 2, 4] {
        let (secs, cpu) = runtime.block_on(measure(&book, workers, count));
        let rate = count as f64 / secs;
        let base = *one.get_or_insert(rate);
        println!(
            "{workers:>2} worker(s): {rate:>10.0} events/s, {:.2}x one worker; {:.2} cores busy, {:.0} events per CPU-second",
            rate / base,
            cpu / secs,
            count as f64 / cpu
        );
    }
}

/// User + system CPU seconds of this process so far (/proc/self/stat, in clock ticks of 1/100 s,
/// the unit Linux uses everywhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name start with the state (field 3); utime and stime are 14 and 15.
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    fields.iter().sum::<f64>() / 100.0
}

/// Seconds and CPU seconds for `count` records through `workers` shards, from the first record
/// routed to the last one reported.
async fn measure(
    book: &Arc<semaphore::rulebook::Rulebook>,
    workers: usize,
    count: usize,
) -> (f64, f64) {
    let mut records = records(count).into_iter();
    let mut shards =
        Shards::start(book, &BTreeMap::new(), workers, false, None).expect("shard threads start");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let (mut evaluated, mut firings) = (0, 0);
    while evaluated < count {
        // One turn of intake: a batch while the shards have room, then whatever they reported.
        if !shards.stalled() {
            for record in records.by_ref().take(64) {
                shards.route(record, 0);
            }
        }
        shards.send().expect("shards alive");
        let report = if shards.stalled() || records.len() == 0 {
            shards.next().await
        } else {
            shards.try_next()
        };
        if let Some(Report::Evaluated(batch)) = report {
            evaluated += batch.len();
            firings += batch
                .iter()
                .filter_map(|e| e.result.as_ref().ok())
                .map(|o| o.firings.len())
                .sum::<usize>();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    shards.stop();
    while shards.next().await.is_some() {}
    shards.join(std::time::Duration::from_secs(10)).await;
    assert!(firings > 0, "the spikes fire");
    (elapsed, cpu)
}

/// How many cores `threads` threads that only spin for a second actually get: what the machine
/// (its other work, the scheduler's share for this process) leaves for the shards.
fn cores_obtained(threads: usize) -> f64 {
    let before = cpu_seconds();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while started.elapsed() < std::time::Duration::from_secs(1) {
                    std::hint::spin_loop();
                }
            });
        }
    });
    (cpu_seconds() - before) / started.elapsed().as_secs_f64()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Records shaped like `publish loss-latency` output, as they come off the consumer; about 1 in
/// 1,000 has 42 % loss.
fn records(count: usize) -> Vec<SourceRecord> {
    (0..count)
        .map(|seq| {
            let loss = if seq % 1000 == 999 {
                42.0
            } else {
                (seq % 300) as f64 / 100.0
            };
            let serial = format!("Q2XX-{:04}-{:04}", (seq / 6) % 1000, seq % 1000);
            let value = serde_json::to_vec(&serde_json::json!({
                "organizationId": "2930418", "organizationName": "Example Org",
                "networkId": format!("N_{}", seq % 5000), "networkName": format!("Branch office {}", seq % 5000),
                "serial": serial, "model": "MX68",
                "uplink": if seq.is_multiple_of(2) { "wan1" } else { "wan2" }, "ip": "8.8.8.8",
                "timestamp": "2026-01-15T09:55:00Z", "lossPercent": loss, "latencyMs": 20.0 + (seq % 800) as f64 / 10.0,
                "dynamicDns": {"enabled": true, "url": format!("branch-{}-abcdefgh.dynamic-m.com", seq % 5000)},
                "publicIp": "203.0.113.10", "status": "active", "seq": seq,
            }))
            .expect("serialisable");
            let partition = (seq % PARTITIONS) as i32;
            SourceRecord {
                topic: TOPIC.to_owned(),
                partition,
                offset: (seq / PARTITIONS) as i64,
                key: Some(serial.into_bytes()),
                value: Some(value),
                timestamp: Some(1_768_471_000_000 + seq as i64),
                headers: Vec::new(),
            }
        })
        .collect()
}

/// The 20 rules of `--bench rules_run`; only the spike records match (rule 0).
fn rulebook() -> String {
    let mut yaml = format!(
        "- name: bench\n  sources:\n    - kafka: {{topic: {TOPIC}}}\n  execution_strategy: parallel\n  match_multiple_rules: true\n  rules:\n"
    );
    for n in 0..RULES {
        let condition = match n {
            0 => "event.lossPercent > `40`".to_owned(),
            _ => format!(
                "event.latencyMs > `{}` && event.uplink == 'wan{}'",
                5_000 + n,
                1 + n % 2
            ),
        };
        yaml.push_str(&format!(
            "    - name: rule {n}\n      condition: \"{condition}\"\n      action:\n        none:\n"
        ));
    }
    yaml
}
