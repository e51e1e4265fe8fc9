//! The one line `semaphore publish` prints after each cycle: what was read and published, API calls
//! with their 429s and retries, and what failed (with the first failure). Printing it, and the
//! progress line while a cycle runs, is `publish`'s.

use crate::meraki::CycleSummary;

/// What a command reads besides organizations and networks: `loss-latency` the appliances,
/// `clients` the clients (it reads no devices, so a device count would always be 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counted {
    Devices,
    Clients,
}

impl Counted {
    /// `12 devices` or `300 clients`, from the counts of a summary or of the progress.
    pub(super) fn phrase(self, devices: u64, clients: u64) -> String {
        match self {
            Counted::Devices => format!("{devices} devices"),
            Counted::Clients => format!("{clients} clients"),
        }
    }
}

/// `cycle 2: 3 orgs, 10 networks, ... 4.2s; 1 deliveries failed (first: ...)`.
pub(super) fn summary_line(s: &CycleSummary, counted: Counted) -> String {
    let mut line = format!(
        "cycle {}: {} orgs, {} networks, {}, {} records, {} API calls ({} rate-limited, {} retried), {:.1}s",
        s.cycle,
        s.orgs,
        s.networks,
        counted.phrase(s.devices, s.clients),
        s.records,
        s.api_calls,
        s.rate_limited,
        s.retries,
        s.duration.as_secs_f64()
    );
    if s.skipped_networks > 0 {
        line.push_str(&format!(
            "; {} networks without clients",
            s.skipped_networks
        ));
    }
    for (count, what) in [
        (s.failed_orgs, "orgs failed"),
        (s.failed_items, "networks/devices failed"),
        (s.failed_deliveries, "deliveries failed"),
    ] {
        if count > 0 {
            line.push_str(&format!("; {count} {what}"));
        }
    }
    if let Some(failure) = &s.first_failure {
        line.push_str(&format!(" (first: {failure})"));
    }
    if s.interrupted {
        line.push_str("; interrupted");
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_summary_names_every_count_and_the_first_failure() {
        let summary = CycleSummary {
            cycle: 2,
            orgs: 3,
            networks: 10,
            devices: 12,
            records: 420,
            api_calls: 57,
            rate_limited: 4,
            retries: 5,
            failed_deliveries: 1,
            first_failure: Some("Kafka delivery to t failed".into()),
            duration: Duration::from_millis(4200),
            ..CycleSummary::default()
        };
        assert_eq!(
            summary_line(&summary, Counted::Devices),
            "cycle 2: 3 orgs, 10 networks, 12 devices, 420 records, 57 API calls (4 rate-limited, 5 retried), 4.2s; \
             1 deliveries failed (first: Kafka delivery to t failed)"
        );
    }

    #[test]
    fn the_clients_summary_counts_clients_not_devices() {
        let summary = CycleSummary {
            cycle: 1,
            orgs: 1,
            networks: 4,
            clients: 310,
            records: 300,
            ..CycleSummary::default()
        };
        let line = summary_line(&summary, Counted::Clients);
        assert!(
            line.starts_with("cycle 1: 1 orgs, 4 networks, 310 clients, 300 records, "),
            "{line}"
        );
    }
}
