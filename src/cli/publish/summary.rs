//! The one line `semaphore publish` prints after each cycle: what was read and published, API calls
//! with their 429s and retries, and what failed (with the first failure). Printing it, and the
//! progress line while a cycle runs, is `publish`'s.

use crate::meraki::CycleSummary;

/// `cycle 2: 3 orgs, 10 networks, ... 4.2s; 1 deliveries failed (first: ...)`.
pub(super) fn summary_line(s: &CycleSummary) -> String {
    let mut line = format!(
        "cycle {}: {} orgs, {} networks, {} devices, {} records, {} API calls ({} rate-limited, {} retried), {:.1}s",
        s.cycle,
        s.orgs,
        s.networks,
        s.devices,
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
            summary_line(&summary),
            "cycle 2: 3 orgs, 10 networks, 12 devices, 420 records, 57 API calls (4 rate-limited, 5 retried), 4.2s; \
             1 deliveries failed (first: Kafka delivery to t failed)"
        );
    }
}
