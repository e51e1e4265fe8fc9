//! Window rules over many keys, on one core: Meraki-shaped uplink records (about 300 bytes of JSON)
//! for 100,000 distinct device uplinks, one record per key and minute of event time, decoded and fed
//! to (a) one sliding-average window (sustained loss), (b) three windows (average, change, absence),
//! against a baseline that only decodes the same bytes in the same run. Prints events/s, the ratio to
//! the baseline, and memory per key: the resident set before and after filling the keys, divided by
//! the keys held.
//!
//! Run: `cargo bench --bench windows` (optionally `-- KEYS ROUNDS`, default 100000 5).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use semaphore::engine::Engine;
use semaphore::event::{Event, Meta};

/// The binary's allocator, so that the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const START_MS: i64 = 1_768_471_000_000;

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let keys = numbers.first().copied().unwrap_or(100_000);
    let rounds = numbers.get(1).copied().unwrap_or(5);
    let records = records(keys, rounds);
    let bytes: usize = records.iter().map(|(r, _)| r.len()).sum();
    println!(
        "window benchmark: {keys} keys x {rounds} rounds = {} records, {} bytes on average, one thread",
        records.len(),
        bytes / records.len()
    );
    measure("warm-up (not counted)", &records, None);
    let baseline = measure("decode only (baseline)", &records, None).rate;
    for (label, yaml) in [("1 avg window", ONE_WINDOW), ("3 windows", THREE_WINDOWS)] {
        let book =
            semaphore::rulebook::compile("bench.yml", yaml).expect("the bench rulebook is valid");
        let engine = Engine::new(Arc::new(book), BTreeMap::new());
        let run = measure(&format!("decode + {label}"), &records, Some(engine));
        println!("  ratio to baseline: {:.2}", run.rate / baseline);
        if let Some((held, grown)) = run.memory {
            println!(
                "  keys held: {held}, resident set grew {} MiB: {} bytes per key",
                grown / (1024 * 1024),
                grown / held.max(1) as u64
            );
        }
    }
}

struct Run {
    rate: f64,
    /// (keys held over all rules, bytes the resident set grew by while the engine filled).
    memory: Option<(usize, u64)>,
}

/// Runs every record through decoding (and the engine, when given) and prints the rate.
fn measure(label: &str, records: &[(Vec<u8>, i64)], mut engine: Option<Engine>) -> Run {
    let mut meta = Meta {
        topic: "meraki.uplinks.loss-latency".into(),
        ..Meta::default()
    };
    let rss_before = rss_bytes();
    let mut firings = 0;
    let start = Instant::now();
    for (offset, (record, time_ms)) in records.iter().enumerate() {
        meta.offset = offset as i64;
        meta.partition = (offset % 12) as i32;
        meta.timestamp = Some(*time_ms);
        let event = Event::decode(record, &meta).expect("synthetic records are valid JSON");
        match engine.as_mut() {
            Some(engine) => firings += engine.process(event, *time_ms).firings.len(),
            None => drop(black_box(event)),
        }
    }
    let elapsed = start.elapsed();
    let rate = records.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{label:>26}: {rate:>12.0} events/s {:>8.0} ns/event  firings: {firings}",
        elapsed.as_nanos() as f64 / records.len() as f64
    );
    let memory = engine.as_ref().map(|engine| {
        let held: usize = engine.key_counts().iter().map(|(_, _, n)| n).sum();
        (held, rss_bytes().saturating_sub(rss_before))
    });
    drop(black_box(engine));
    Run { rate, memory }
}

/// One record per key and round; round `r` is minute `r` of event time. About 1 key in 50 has high
/// loss in the later rounds, and 1 in 100 goes down and up (100 % loss every other round).
fn records(keys: usize, rounds: usize) -> Vec<(Vec<u8>, i64)> {
    let mut out = Vec::with_capacity(keys * rounds);
    for round in 0..rounds {
        for key in 0..keys {
            let lossy = key % 50 == 0 && round >= 2;
            let flapping = key % 100 == 1 && round % 2 == 1;
            let loss = match (lossy, flapping) {
                (_, true) => 100.0,
                (true, _) => 12.5,
                _ => (key % 7) as f64 / 10.0,
            };
            let record = serde_json::json!({
                "serial": format!("Q2XX-{:04}-{:04}", key / 2 / 10_000, (key / 2) % 10_000),
                "networkId": format!("N_{}", key % 5000),
                "uplink": if key % 2 == 0 { "wan1" } else { "wan2" },
                "ip": "8.8.8.8",
                "timestamp": "2026-01-15T09:55:00Z",
                "lossPercent": loss,
                "latencyMs": 20.0 + loss,
                "model": "MX68",
                "publicIp": "203.0.113.10",
            });
            let time_ms = START_MS + round as i64 * 60_000 + (key % 60_000) as i64;
            out.push((
                serde_json::to_vec(&record).expect("JSON values serialise"),
                time_ms,
            ));
        }
    }
    out
}

const ONE_WINDOW: &str = "
- name: bench
  rules:
    - name: sustained loss
      condition: event.lossPercent != `null`
      window:
        group_by: [event.serial, event.uplink]
        size: 5 minutes
        value: event.lossPercent
        fire_when: window.avg > `5`
      resolve_when: window.avg < `1`
      action: {none: {}}
";

const THREE_WINDOWS: &str = "
- name: bench
  match_multiple_rules: true
  rules:
    - name: sustained loss
      condition: event.lossPercent != `null`
      window:
        group_by: [event.serial, event.uplink]
        size: 5 minutes
        value: event.lossPercent
        fire_when: window.avg > `5`
      resolve_when: window.avg < `1`
      action: {none: {}}
    - name: flapping
      condition: event.lossPercent != `null`
      window:
        group_by: [event.serial, event.uplink]
        change: event.lossPercent == `100`
        size: 30 minutes
        fire_when: window.changes >= `2`
      action: {none: {}}
    - name: silent
      condition: event.serial != `null`
      window:
        group_by: [event.serial, event.uplink]
        absent_for: 10 minutes
      action: {none: {}}
";

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
