//! Cost of suppression per firing, on one core: every event fires a rule, evaluated (1) with no
//! silences and no inhibition (the baseline: the engine skips suppression), (2) with 100 active
//! silences that do not match (each matcher runs on every firing, the worst case), (3) with an
//! inhibit rule over 5,000 networks, (4) both. Prints firings/s, ns/firing, the ratio to the baseline
//! and peak RSS.
//!
//! Run: `cargo bench --bench suppress` (optionally `-- EVENTS`, default 200000).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use semaphore::engine::Engine;
use semaphore::event::Event;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NETWORKS: usize = 5_000;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(200_000);
    let events = events(count);
    println!("suppression benchmark: {count} events, each fires, {NETWORKS} networks, one thread");
    measure("warm-up (not counted)", &events, false, false);
    let baseline = measure("no silences, no inhibit", &events, false, false);
    for (label, silences, inhibit) in [
        ("100 silences", true, false),
        ("inhibit", false, true),
        ("100 silences + inhibit", true, true),
    ] {
        let rate = measure(label, &events, silences, inhibit);
        println!("  ratio to baseline: {:.2}", rate / baseline);
    }
    println!("peak RSS: {} MiB", common::peak_rss_kib("self") / 1024);
}

fn measure(label: &str, events: &[serde_json::Value], silences: bool, inhibit: bool) -> f64 {
    let book = semaphore::rulebook::compile("bench.yml", &rulebook(inhibit)).expect("valid");
    let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
    if silences {
        let text: String = (0..100)
            .map(|n| format!("- {{id: s{n}, matcher: \"event.networkId == 'X_{n}'\", ends_at: 2099-01-01T00:00:00Z}}\n"))
            .collect();
        let file = semaphore::suppress::file::parse("bench.yml", &text).expect("valid");
        engine.suppressor_mut().set_silences(Arc::new(file.set));
    }
    let (mut fired, mut suppressed) = (0, 0);
    let start = Instant::now();
    for (i, payload) in events.iter().enumerate() {
        let event = Event::from_json(payload.clone(), serde_json::json!({}));
        let outcome = engine.process(event, 1_768_471_000_000 + i as i64 * 10);
        fired += outcome.firings.len();
        suppressed += outcome.suppressed.len();
    }
    let elapsed = start.elapsed();
    let firings = (fired + suppressed) as f64;
    let rate = firings / elapsed.as_secs_f64();
    println!(
        "{label:>24}: {rate:>10.0} firings/s {:>7.0} ns/firing  sent: {fired}, suppressed: {suppressed}",
        elapsed.as_nanos() as f64 / firings
    );
    rate
}

/// Every event has high loss; one in 100 is an uplink down.
fn events(count: usize) -> Vec<serde_json::Value> {
    (0..count)
        .map(|i| {
            serde_json::json!({
                "networkId": format!("N_{}", i % NETWORKS),
                "serial": format!("Q2XX-{:04}", i % NETWORKS),
                "uplink": "wan1",
                "lossPercent": if i % 100 == 0 { 100.0 } else { 12.0 },
                "latencyMs": 40.0,
            })
        })
        .collect()
}

fn rulebook(inhibit: bool) -> String {
    let block = "  inhibit:\n    - {source: Uplink down, targets: [High loss], equal: [event.networkId], for: 15 minutes}\n";
    format!(
        "- name: bench\n  match_multiple_rules: true\n{}  rules:\n    - name: Uplink down\n      condition: event.lossPercent >= `100`\n      action: {{none: {{}}}}\n    - name: High loss\n      condition: event.lossPercent > `5`\n      action: {{none: {{}}}}\n",
        if inhibit { block } else { "" }
    )
}
