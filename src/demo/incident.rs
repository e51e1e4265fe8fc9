//! What the demo shows of the alerts it receives: one line per incident, not one per delivery. The
//! deliveries of one firing (its webhook and its record on the alerts topic carry the same
//! idempotency key) become one line naming every place it was sent, printed once they had
//! [`Incidents::merge_wait`] to arrive. Further firings of the same rule about the same thing (the
//! same serial and uplink, or client) while the incident goes on are counted, not printed. Pure:
//! the caller passes the time and prints the lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::alert::{Alert, Channel};

/// One firing, with every place it arrived so far.
struct Pending {
    first: Alert,
    arrived: Instant,
    via: Vec<String>,
    /// The most telling body: the webhook's text reads better than the record's fields.
    details: String,
}

/// Totals for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IncidentCounts {
    /// Incidents printed.
    pub shown: u64,
    /// Firings not printed because their incident was already shown.
    pub repeats: u64,
    /// Deliveries by webhook and records on the alerts topic.
    pub webhook: u64,
    pub topic: u64,
}

pub struct Incidents {
    merge_wait: Duration,
    repeat_gap: Duration,
    pending: Vec<Pending>,
    /// (rule, subject) of incidents shown, with the last time one of their firings came.
    ongoing: BTreeMap<(String, String), Instant>,
    counts: IncidentCounts,
}

impl Incidents {
    /// `merge_wait`: how long a firing waits for its other deliveries; `repeat_gap`: a firing of a
    /// shown incident more than this after the previous one is a new incident.
    pub fn new(merge_wait: Duration, repeat_gap: Duration) -> Self {
        Self {
            merge_wait,
            repeat_gap,
            pending: Vec::new(),
            ongoing: BTreeMap::new(),
            counts: IncidentCounts::default(),
        }
    }

    pub fn merge_wait(&self) -> Duration {
        self.merge_wait
    }

    pub fn counts(&self) -> IncidentCounts {
        self.counts
    }

    /// Takes one delivery at `now`.
    pub fn add(&mut self, alert: Alert, now: Instant) {
        match alert.channel {
            Channel::Webhook => self.counts.webhook += 1,
            Channel::Topic(_) => self.counts.topic += 1,
        }
        let same = |p: &&mut Pending| alert.firing.is_some() && p.first.firing == alert.firing;
        if let Some(pending) = self.pending.iter_mut().find(same) {
            pending.via.push(alert.via());
            if alert.channel == Channel::Webhook {
                pending.details = alert.details();
            }
            // The record names what the incident is about; keep it as the body.
            if pending.first.subject().is_none() {
                pending.first.body = alert.body;
            }
            return;
        }
        self.pending.push(Pending {
            via: vec![alert.via()],
            details: alert.details(),
            first: alert,
            arrived: now,
        });
    }

    /// The lines of the firings whose wait is over at `now` (all of them with `flush`), in the
    /// order they arrived; repeats of ongoing incidents give none.
    pub fn due(&mut self, now: Instant, flush: bool) -> Vec<String> {
        let wait = self.merge_wait;
        let (ready, waiting): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| flush || now.saturating_duration_since(p.arrived) >= wait);
        self.pending = waiting;
        ready.into_iter().filter_map(|p| self.line(p)).collect()
    }

    fn line(&mut self, pending: Pending) -> Option<String> {
        let rule = pending.first.name();
        if let Some(subject) = pending.first.subject() {
            let gap = self.repeat_gap;
            let last = self
                .ongoing
                .insert((rule.clone(), subject), pending.arrived);
            if last.is_some_and(|t| pending.arrived.saturating_duration_since(t) <= gap) {
                self.counts.repeats += 1;
                return None;
            }
        }
        self.counts.shown += 1;
        Some(format!(
            "{} ALERT {rule}: {}  [sent to {}]",
            pending.first.received.format("%H:%M:%S"),
            pending.details,
            pending.via.join(" and ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "meraki.uplinks.loss-latency/2/41/Uplink loss/High loss on an uplink";

    /// The key of the firing of the record at `offset`.
    fn key(offset: u32) -> String {
        format!("meraki.uplinks.loss-latency/2/{offset}/Uplink loss/High loss on an uplink")
    }

    fn record(key: &str, serial: &str) -> Alert {
        let body = format!(r#"{{"alert": "uplink-loss", "serial": "{serial}", "uplink": "wan1"}}"#);
        Alert::from_record("meraki.alerts", Some(key), body.as_bytes())
    }

    fn webhook(key: &str) -> Alert {
        Alert::from_webhook(Some(key), br#"{"text": "Loss 37.7% on Q2 wan1"}"#)
    }

    #[test]
    fn the_webhook_and_the_record_of_one_firing_are_one_line() {
        let mut incidents = Incidents::new(Duration::from_secs(1), Duration::from_secs(60));
        let t0 = Instant::now();
        incidents.add(webhook(KEY), t0);
        incidents.add(record(KEY, "Q2"), t0 + Duration::from_millis(300));
        assert!(
            incidents
                .due(t0 + Duration::from_millis(500), false)
                .is_empty()
        );
        let lines = incidents.due(t0 + Duration::from_secs(1), false);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].ends_with(
                "ALERT High loss on an uplink: Loss 37.7% on Q2 wan1  [sent to webhook and meraki.alerts]"
            ),
            "{lines:?}"
        );
        let counts = incidents.counts();
        assert_eq!((counts.shown, counts.webhook, counts.topic), (1, 1, 1));
    }

    #[test]
    fn later_firings_of_an_ongoing_incident_are_counted_not_shown() {
        let mut incidents = Incidents::new(Duration::ZERO, Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        incidents.add(record(&key(1), "Q2"), at(0));
        incidents.add(record(&key(2), "Q3"), at(0));
        assert_eq!(incidents.due(at(0), false).len(), 2);
        incidents.add(record(&key(3), "Q2"), at(50));
        incidents.add(record(&key(4), "Q2"), at(100));
        assert!(incidents.due(at(100), false).is_empty());
        // Quiet for longer than the gap: the next firing is a new incident.
        incidents.add(record(&key(5), "Q2"), at(200));
        assert_eq!(incidents.due(at(200), true).len(), 1);
        let counts = incidents.counts();
        assert_eq!((counts.shown, counts.repeats), (3, 2));
    }
}
