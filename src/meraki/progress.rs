//! The live counters of a running publish cycle, which the pollers add to as they go and the
//! command reads for its progress line; the cycle resets them at its start and sums them up in its
//! summary (`schedule`). It counts; it does not print.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Live counters of the running cycle, for a progress line; reset at the start of each cycle.
#[derive(Debug, Default)]
pub struct Progress {
    pub orgs: AtomicU64,
    pub networks: AtomicU64,
    pub devices: AtomicU64,
    /// Clients read from the API (before any filter), for `publish clients`.
    pub clients: AtomicU64,
    pub records: AtomicU64,
    /// A cycle is under way (set at its start, cleared at its end), for a progress line.
    pub running: AtomicBool,
    /// The number of the cycle under way or last run.
    pub cycle: AtomicU64,
    /// The client's API call and 429 counters when the cycle started (they run across cycles).
    pub calls_before: AtomicU64,
    pub rate_limited_before: AtomicU64,
    /// Networks skipped because the API refused their data (400/404).
    pub skipped: AtomicU64,
    /// Networks or devices whose data could not be read (after retries).
    pub failed_items: AtomicU64,
    pub failed_orgs: AtomicU64,
}

impl Progress {
    pub(super) fn reset(&self) {
        for counter in [
            &self.orgs,
            &self.networks,
            &self.devices,
            &self.clients,
            &self.records,
            &self.skipped,
            &self.failed_items,
            &self.failed_orgs,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}
