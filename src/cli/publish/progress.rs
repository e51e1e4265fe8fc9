//! The progress of a running `publish` cycle on stderr, with the totals known so far
//! (organizations, networks, devices or clients, records, API calls and their 429s): on a terminal
//! one line redrawn twice a second, otherwise (a log, a pipe, systemd) a plain line every few
//! seconds while a cycle runs, so long work is visible there too. The summary line at the end of a
//! cycle is `summary`'s.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::summary::Counted;
use crate::meraki::client::ApiStats;
use crate::meraki::{Client, Progress};

/// How often the line is redrawn on a terminal.
const TERMINAL_EVERY: Duration = Duration::from_millis(500);
/// How often a plain line is written elsewhere; a cycle shorter than this writes none.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// `cycle 1 so far: 1 orgs done, 20 networks, 300 clients, 280 records, 25 API calls (3 rate-limited)`.
pub(super) fn line(progress: &Progress, stats: &ApiStats, counted: Counted) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    format!(
        "cycle {} so far: {} orgs done, {} networks, {}, {} records, {} API calls ({} rate-limited)",
        load(&progress.cycle),
        load(&progress.orgs),
        load(&progress.networks),
        counted.phrase(load(&progress.devices), load(&progress.clients)),
        load(&progress.records),
        load(&stats.calls).saturating_sub(load(&progress.calls_before)),
        load(&stats.rate_limited).saturating_sub(load(&progress.rate_limited_before)),
    )
}

/// Writes the progress of each running cycle until aborted.
pub(super) async fn show(
    progress: Arc<Progress>,
    client: Client,
    counted: Counted,
    terminal: bool,
) {
    let every = if terminal {
        TERMINAL_EVERY
    } else {
        PLAIN_EVERY
    };
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !progress.running.load(Ordering::Relaxed) {
            continue;
        }
        let text = line(&progress, client.stats(), counted);
        let out = if terminal {
            format!("\r\x1b[2K… {text}")
        } else {
            format!("progress: {text}\n")
        };
        // A lost progress line is no reason to stop publishing.
        let _ = io::stderr().lock().write_all(out.as_bytes());
    }
}
