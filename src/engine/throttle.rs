//! Throttle state per rule and group key: `once_within`, `once_after` and `accumulate_within` with
//! ansible-rulebook's meaning, and semaphore's `group_after` (a delayed firing per group). Times are
//! milliseconds passed in by the caller. Keys live in a [`KeyedStore`]: bounded per rule, the least
//! recently updated key goes first. `once_after` has one window per rule, kept under [`RULE_WINDOW`].

use std::sync::Arc;

use jmespath::Rcvar;
use serde::{Deserialize, Serialize};

use super::position::{Counted, Element, Position};
use super::store::{KeyedStore, SourcePartition, events_serde};
use crate::event::Origin;
use crate::rulebook::ThrottleMode;
use crate::rulebook::duration::millis;

/// What the throttle decided for one matching event.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Fire now with these events.
    Fire(Vec<Rcvar>),
    /// Counted toward a later firing, or suppressed inside a window.
    Held,
    Suppressed,
}

/// The store key of a rule's one `once_after` window: no group key is a JSON list, so it cannot clash.
pub const RULE_WINDOW: &str = "*";

/// A `once_after` or `group_after` window the clock closed.
#[derive(Debug, PartialEq)]
pub struct Due {
    /// The group of a `group_after` window; `None` for the rule's `once_after` window.
    pub key: Option<Arc<str>>,
    /// When the window ended: the firing's time, whenever the clock got there.
    pub due_ms: i64,
    pub events: Vec<Rcvar>,
}

/// One group key's throttle state, as written to a changelog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThrottleEntry {
    opened_ms: i64,
    count: u64,
    #[serde(with = "events_serde")]
    events: Vec<Rcvar>,
    /// The record whose match fired (`once_within`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fired_by: Option<Position>,
    /// The records counted (`once_after`, `accumulate_within`), so that one read again is not.
    #[serde(default, skip_serializing_if = "Counted::is_empty")]
    counted: Counted,
    /// The element whose match reached the threshold (`accumulate_within`); `events` then hold what
    /// it fired with, so that it fires the same again when read again after a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fired_at: Option<Element>,
    /// The groups whose first match `events` holds (`once_after`), in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    groups: Vec<String>,
}

impl ThrottleEntry {
    fn new(opened_ms: i64) -> ThrottleEntry {
        ThrottleEntry {
            opened_ms,
            count: 0,
            events: Vec::new(),
            fired_by: None,
            counted: Counted::default(),
            fired_at: None,
            groups: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub struct ThrottleState {
    pub entries: KeyedStore<ThrottleEntry>,
}

impl ThrottleState {
    pub fn new(max_keys: usize) -> ThrottleState {
        ThrottleState {
            entries: KeyedStore::new(max_keys),
        }
    }

    /// `origin` is the matching event's record, when it came from a source.
    pub fn on_match(
        &mut self,
        mode: ThrottleMode,
        key: &str,
        source: Option<Arc<SourcePartition>>,
        origin: Option<&Origin>,
        event: &Rcvar,
        now_ms: i64,
    ) -> Verdict {
        match mode {
            ThrottleMode::OnceWithin(window) => {
                self.once_within(millis(window), key, source, origin, event, now_ms)
            }
            ThrottleMode::OnceAfter(_) => {
                let (entry, _) = self
                    .entries
                    .upsert(RULE_WINDOW, source, || ThrottleEntry::new(now_ms));
                // ansible-rulebook keeps the first event of each group for the window's one firing.
                if entry.counted.first_time(origin) && !entry.groups.iter().any(|g| g == key) {
                    entry.count += 1;
                    entry.groups.push(key.to_owned());
                    entry.events.push(event.clone());
                }
                Verdict::Held
            }
            ThrottleMode::GroupAfter(_) => {
                let (entry, _) = self
                    .entries
                    .upsert(key, source, || ThrottleEntry::new(now_ms));
                if entry.counted.first_time(origin) {
                    entry.count += 1;
                    if !entry.events.contains(event) {
                        entry.events.push(event.clone());
                    }
                }
                Verdict::Held
            }
            ThrottleMode::AccumulateWithin { window, threshold } => {
                let (entry, _) = self
                    .entries
                    .upsert(key, source, || ThrottleEntry::new(now_ms));
                accumulate(entry, millis(window), threshold, origin, event, now_ms)
            }
        }
    }

    /// Fires on the first match of a window and suppresses the rest of it.
    fn once_within(
        &mut self,
        window_ms: i64,
        key: &str,
        source: Option<Arc<SourcePartition>>,
        origin: Option<&Origin>,
        event: &Rcvar,
        now_ms: i64,
    ) -> Verdict {
        if let Some(entry) = self.entries.get(key)
            && now_ms < entry.opened_ms.saturating_add(window_ms)
        {
            // The record that fired, read again after a crash: it fires again.
            let replayed = entry.fired_by.as_ref().is_some_and(|by| by.is_of(origin));
            return if replayed {
                Verdict::Fire(vec![event.clone()])
            } else {
                Verdict::Suppressed
            };
        }
        let (entry, _) = self
            .entries
            .upsert(key, source, || ThrottleEntry::new(now_ms));
        *entry = ThrottleEntry::new(now_ms);
        entry.count = 1;
        entry.fired_by = origin.map(Position::of);
        Verdict::Fire(vec![event.clone()])
    }

    /// `once_after` and `group_after` windows that have ended by `now_ms`, oldest first: each with
    /// its group key, the time it was due and its collected events.
    pub fn due(&mut self, mode: ThrottleMode, now_ms: i64) -> Vec<Due> {
        let Some(window_ms) = delayed_window_ms(mode) else {
            return Vec::new();
        };
        let per_group = matches!(mode, ThrottleMode::GroupAfter(_));
        let mut due: Vec<(i64, Arc<str>)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.opened_ms.saturating_add(window_ms), Arc::clone(k)))
            .filter(|(due_ms, _)| now_ms >= *due_ms)
            .collect();
        due.sort();
        due.into_iter()
            .filter_map(|(due_ms, key)| {
                let events = self.entries.remove(&key)?.events;
                Some(Due {
                    key: per_group.then_some(key),
                    due_ms,
                    events,
                })
            })
            .collect()
    }

    /// The earliest time at which [`Self::due`] would return something.
    pub fn next_due_ms(&self, mode: ThrottleMode) -> Option<i64> {
        let window_ms = delayed_window_ms(mode)?;
        self.entries
            .iter()
            .map(|(_, e)| e.opened_ms.saturating_add(window_ms))
            .min()
    }
}

/// The window of the modes that fire when the clock ends it.
fn delayed_window_ms(mode: ThrottleMode) -> Option<i64> {
    match mode {
        ThrottleMode::OnceAfter(window) | ThrottleMode::GroupAfter(window) => Some(millis(window)),
        _ => None,
    }
}

/// Counts a match toward `threshold` inside a window that opens with its first match; reaching it
/// fires with that match, and the next match starts over. A record counted before a crash
/// is not counted again, and the one that reached the threshold fires again with the same events.
fn accumulate(
    entry: &mut ThrottleEntry,
    window_ms: i64,
    threshold: u64,
    origin: Option<&Origin>,
    event: &Rcvar,
    now_ms: i64,
) -> Verdict {
    if entry.fired_at.as_ref().is_some_and(|at| at.is(origin)) {
        return Verdict::Fire(entry.events.clone());
    }
    if !entry.counted.first_time(origin) {
        return Verdict::Held;
    }
    let window_over = now_ms >= entry.opened_ms.saturating_add(window_ms);
    if window_over || entry.count >= threshold {
        let counted = std::mem::take(&mut entry.counted);
        *entry = ThrottleEntry {
            counted,
            ..ThrottleEntry::new(now_ms)
        };
    }
    entry.count += 1;
    if entry.count < threshold {
        return Verdict::Held;
    }
    // ansible-rulebook fires with the match that reached the threshold.
    entry.events = vec![event.clone()];
    entry.fired_at = origin.map(Element::of);
    Verdict::Fire(entry.events.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn ev(n: i64) -> Rcvar {
        Arc::new(jmespath::Variable::from_json(&n.to_string()).unwrap())
    }

    #[test]
    fn once_within_fires_once_per_window_and_key() {
        let mode = ThrottleMode::OnceWithin(Duration::from_secs(60));
        let mut state = ThrottleState::new(crate::rulebook::DEFAULT_MAX_KEYS);
        assert!(matches!(
            state.on_match(mode, "a", None, None, &ev(1), 0),
            Verdict::Fire(_)
        ));
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(2), 59_999),
            Verdict::Suppressed
        );
        assert!(matches!(
            state.on_match(mode, "b", None, None, &ev(3), 10),
            Verdict::Fire(_)
        ));
        assert!(matches!(
            state.on_match(mode, "a", None, None, &ev(4), 60_000),
            Verdict::Fire(_)
        ));
    }

    #[test]
    fn once_after_fires_once_per_rule_window_with_the_first_event_of_each_group() {
        let mode = ThrottleMode::OnceAfter(Duration::from_secs(10));
        let mut state = ThrottleState::new(crate::rulebook::DEFAULT_MAX_KEYS);
        for (key, n, at) in [
            ("a", 1, 0),
            ("b", 2, 1_000),
            ("a", 3, 2_000),
            ("b", 4, 9_999),
        ] {
            assert_eq!(
                state.on_match(mode, key, None, None, &ev(n), at),
                Verdict::Held
            );
        }
        assert_eq!(state.entries.len(), 1, "one window for the rule");
        assert_eq!(state.next_due_ms(mode), Some(10_000));
        let due = Due {
            key: None,
            due_ms: 10_000,
            events: vec![ev(1), ev(2)],
        };
        assert_eq!(state.due(mode, 12_000), vec![due]);
        // The next match opens a new window.
        state.on_match(mode, "a", None, None, &ev(5), 12_000);
        assert_eq!(state.next_due_ms(mode), Some(22_000));
    }

    #[test]
    fn group_after_collects_unique_events_per_group_until_its_window_ends() {
        let mode = ThrottleMode::GroupAfter(Duration::from_secs(10));
        let mut state = ThrottleState::new(crate::rulebook::DEFAULT_MAX_KEYS);
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(1), 0),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(1), 1_000),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(2), 2_000),
            Verdict::Held
        );
        assert_eq!(state.next_due_ms(mode), Some(10_000));
        assert!(state.due(mode, 9_999).is_empty());
        let due = Due {
            key: Some(Arc::from("a")),
            due_ms: 10_000,
            events: vec![ev(1), ev(2)],
        };
        // Stamped with the window's end, not with the later time the clock reached.
        assert_eq!(state.due(mode, 10_500), vec![due]);
        assert!(state.due(mode, 20_000).is_empty());
    }

    #[test]
    fn accumulate_within_needs_the_threshold_inside_one_window() {
        let mode = ThrottleMode::AccumulateWithin {
            window: Duration::from_secs(10),
            threshold: 3,
        };
        let mut state = ThrottleState::new(crate::rulebook::DEFAULT_MAX_KEYS);
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(1), 0),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(2), 5_000),
            Verdict::Held
        );
        // The window closed short: counting starts again.
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(3), 10_000),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(4), 11_000),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a", None, None, &ev(5), 12_000),
            Verdict::Fire(vec![ev(5)])
        );
    }

    #[test]
    fn keys_are_bounded_least_recently_updated_first() {
        let mode = ThrottleMode::OnceWithin(Duration::from_secs(3600));
        let mut state = ThrottleState::new(100);
        for i in 0..110 {
            state.on_match(mode, &i.to_string(), None, None, &ev(i), i);
        }
        assert_eq!(state.entries.len(), 100);
        assert_eq!(state.entries.evicted, 10);
        // The oldest keys went: key 0 fires again, key 50 is still inside its window.
        assert!(matches!(
            state.on_match(mode, "0", None, None, &ev(0), 200),
            Verdict::Fire(_)
        ));
        assert_eq!(
            state.on_match(mode, "50", None, None, &ev(0), 200),
            Verdict::Suppressed
        );
    }
}
