//! Engine throughput on one core: synthetic Meraki-shaped uplink records (about 330 bytes of JSON)
//! decoded and evaluated through 1 and 20 simple comparison rules. The yardstick, in the same run,
//! is `serde_json::from_slice::<serde_json::Value>` of the same bytes, a parse with no rules at all;
//! every case prints its ratio to it. Decoding builds only what the rules read (as `rules run`
//! does); the whole decode is measured too, alone and with 20 rules, for comparison. The cases run
//! interleaved, best of several rounds. Prints events/s, ns/event, the ratios and peak RSS.
//!
//! Run: `cargo bench --bench engine` (optionally `-- EVENTS`, default 300000).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use semaphore::engine::Engine;
use semaphore::event::{Event, Meta, Reads};
use semaphore::rulebook::Rulebook;

/// The binary's allocator, so that the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Each case runs this many times, interleaved with the others, and its fastest round counts: on a
/// shared machine a slow round says more about the neighbours than about the code.
const ROUNDS: usize = 3;

/// What one case decodes and evaluates with: the yardstick, or a decode plan and a rulebook.
enum Case {
    Yardstick,
    Decode(Reads, Option<Arc<Rulebook>>),
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(300_000);
    let records = records(count);
    let bytes: usize = records.iter().map(Vec::len).sum();
    println!(
        "engine benchmark: {count} records, {} bytes on average, one thread, best of {ROUNDS} rounds",
        bytes / count
    );
    let one = Arc::new(book(1));
    let twenty = Arc::new(book(20));
    let cases = [
        ("yardstick: serde_json::Value", Case::Yardstick),
        ("decode whole", Case::Decode(Reads::everything(), None)),
        (
            "decode as 20 rules read",
            Case::Decode(twenty.reads.clone(), None),
        ),
        (
            "decode + 1 rule",
            Case::Decode(one.reads.clone(), Some(one)),
        ),
        (
            "decode + 20 rules",
            Case::Decode(twenty.reads.clone(), Some(Arc::clone(&twenty))),
        ),
        (
            "decode whole + 20 rules",
            Case::Decode(Reads::everything(), Some(twenty)),
        ),
    ];
    // A first pass warms the allocator and caches, so the first case is not charged for it.
    run(&Case::Yardstick, &records);
    let mut best = [f64::MIN; 6];
    for _ in 0..ROUNDS {
        for (rate, (_, case)) in best.iter_mut().zip(&cases) {
            *rate = rate.max(run(case, &records).0);
        }
    }
    let firings: Vec<usize> = cases
        .iter()
        .map(|(_, case)| run(case, &records[..count.min(50_000)]).1)
        .collect();
    for ((label, _), (rate, firings)) in cases.iter().zip(best.iter().zip(firings)) {
        println!(
            "{label:>28}: {rate:>10.0} events/s {:>6.0} ns/event  {:.2}x the yardstick  (firings in the first 50000: {firings})",
            1e9 / rate,
            rate / best[0]
        );
    }
    println!("peak RSS: {} MiB", common::peak_rss_kib("self") / 1024);
}

fn book(rules: usize) -> Rulebook {
    semaphore::rulebook::compile("bench.yml", &rulebook(rules))
        .expect("the bench rulebook is valid")
}

/// One round of a case over every record: events/s and firings.
fn run(case: &Case, records: &[Vec<u8>]) -> (f64, usize) {
    let start = Instant::now();
    let firings = match case {
        Case::Yardstick => {
            for record in records {
                let value: serde_json::Value =
                    serde_json::from_slice(record).expect("synthetic records are valid JSON");
                black_box(value);
            }
            0
        }
        Case::Decode(reads, book) => decode(records, reads, book.as_ref()),
    };
    (
        records.len() as f64 / start.elapsed().as_secs_f64(),
        firings,
    )
}

/// Decodes every record as far as `reads` goes and, given a rulebook, evaluates it; the firings.
fn decode(records: &[Vec<u8>], reads: &Reads, book: Option<&Arc<Rulebook>>) -> usize {
    let mut engine = book.map(|book| Engine::new(Arc::clone(book), BTreeMap::new()));
    let mut meta = Meta {
        topic: "meraki.uplinks.loss-latency".into(),
        ..Meta::default()
    };
    let mut firings = 0;
    for (offset, record) in records.iter().enumerate() {
        meta.offset = offset as i64;
        meta.timestamp = Some(1_768_471_000_000 + offset as i64);
        // By value, as the pipeline hands each record's own metadata over.
        let event = Event::decode_reading(record, meta.clone(), reads)
            .expect("synthetic records are valid JSON");
        match engine.as_mut() {
            Some(engine) => firings += engine.process(event, 0).firings.len(),
            None => drop(black_box(event)),
        }
    }
    firings
}

/// Records shaped like `publish loss-latency` output; about 1 in 1,000 has an extreme value.
fn records(count: usize) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let spike = state.is_multiple_of(1000);
            let loss = if spike { 42.0 } else { (state % 300) as f64 / 100.0 };
            let latency = if spike { 950.0 } else { 20.0 + (state % 800) as f64 / 10.0 };
            let record = serde_json::json!({
                "organizationId": "2930418",
                "networkId": format!("N_{}", i % 5000),
                "networkName": format!("Branch {}", i % 5000),
                "serial": format!("Q2XX-{:04}-{:04}", (i / 10_000) % 10_000, i % 10_000),
                "model": "MX68",
                "uplink": if i % 2 == 0 { "wan1" } else { "wan2" },
                "ip": "8.8.8.8",
                "timestamp": "2026-01-15T09:55:00Z",
                "lossPercent": loss,
                "latencyMs": latency,
                "dynamicDns": {"enabled": true, "url": format!("branch-{}-xyz.dynamic-m.com", i % 5000)},
                "publicIp": "203.0.113.10",
                "status": "active",
            });
            serde_json::to_vec(&record).expect("JSON values serialise")
        })
        .collect()
}

/// `rules` simple comparison rules; only the spike records match any of them.
fn rulebook(rules: usize) -> String {
    let mut yaml =
        String::from("- name: bench\n  vars: {loss: 40}\n  match_multiple_rules: true\n  rules:\n");
    let conditions = [
        "event.lossPercent > vars.loss",
        "event.latencyMs > `900` && event.uplink == 'wan1'",
        "event.latencyMs > `900` && event.uplink == 'wan2'",
        "event.status == 'failed'",
        "event.lossPercent >= `41` && event.model == 'MX68'",
    ];
    for n in 0..rules {
        let condition = conditions[n % conditions.len()];
        yaml.push_str(&format!(
            "    - name: rule {n}\n      condition: \"{condition}\"\n      action:\n        none:\n"
        ));
    }
    yaml
}
