//! Throttle state per rule and group key: `once_within`, `once_after` and `accumulate_within` with
//! ansible-rulebook's meaning. Times are milliseconds passed in by the caller. The number of group keys
//! per rule is bounded; past the bound, expired keys go first, then the oldest.

use std::collections::HashMap;

use jmespath::Rcvar;

use crate::rulebook::ThrottleMode;

/// Group keys kept per rule before eviction starts.
pub const MAX_KEYS_PER_RULE: usize = 100_000;

/// What the throttle decided for one matching event.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Fire now with these events.
    Fire(Vec<Rcvar>),
    /// Counted toward a later firing, or suppressed inside a window.
    Held,
    Suppressed,
}

#[derive(Debug)]
struct Entry {
    opened_ms: i64,
    count: u64,
    events: Vec<Rcvar>,
}

#[derive(Debug, Default)]
pub struct ThrottleState {
    entries: HashMap<String, Entry>,
    pub evicted: u64,
}

fn window_ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl ThrottleState {
    pub fn on_match(
        &mut self,
        mode: ThrottleMode,
        key: String,
        event: &Rcvar,
        now_ms: i64,
    ) -> Verdict {
        self.make_room(mode, now_ms);
        match mode {
            ThrottleMode::OnceWithin(window) => {
                let open = self
                    .entries
                    .get(&key)
                    .is_some_and(|e| now_ms < e.opened_ms.saturating_add(window_ms(window)));
                if open {
                    return Verdict::Suppressed;
                }
                self.entries.insert(
                    key,
                    Entry {
                        opened_ms: now_ms,
                        count: 1,
                        events: Vec::new(),
                    },
                );
                Verdict::Fire(vec![event.clone()])
            }
            ThrottleMode::OnceAfter(_) => {
                let entry = self.entries.entry(key).or_insert(Entry {
                    opened_ms: now_ms,
                    count: 0,
                    events: Vec::new(),
                });
                entry.count += 1;
                // ansible-rulebook collects unique events for the one firing at the window's end.
                if !entry.events.contains(event) {
                    entry.events.push(event.clone());
                }
                Verdict::Held
            }
            ThrottleMode::AccumulateWithin { window, threshold } => {
                let entry = self.entries.entry(key.clone()).or_insert(Entry {
                    opened_ms: now_ms,
                    count: 0,
                    events: Vec::new(),
                });
                if now_ms >= entry.opened_ms.saturating_add(window_ms(window)) {
                    *entry = Entry {
                        opened_ms: now_ms,
                        count: 0,
                        events: Vec::new(),
                    };
                }
                entry.count += 1;
                entry.events.push(event.clone());
                if entry.count >= threshold {
                    let events = self
                        .entries
                        .remove(&key)
                        .map(|e| e.events)
                        .unwrap_or_default();
                    Verdict::Fire(events)
                } else {
                    Verdict::Held
                }
            }
        }
    }

    /// `once_after` windows that have ended by `now_ms`, each with its collected events.
    pub fn due(&mut self, mode: ThrottleMode, now_ms: i64) -> Vec<Vec<Rcvar>> {
        let ThrottleMode::OnceAfter(window) = mode else {
            return Vec::new();
        };
        let mut due: Vec<(i64, String)> = self
            .entries
            .iter()
            .filter(|(_, e)| now_ms >= e.opened_ms.saturating_add(window_ms(window)))
            .map(|(k, e)| (e.opened_ms, k.clone()))
            .collect();
        due.sort();
        due.into_iter()
            .filter_map(|(_, key)| self.entries.remove(&key).map(|e| e.events))
            .collect()
    }

    /// The earliest time at which [`Self::due`] would return something.
    pub fn next_due_ms(&self, mode: ThrottleMode) -> Option<i64> {
        let ThrottleMode::OnceAfter(window) = mode else {
            return None;
        };
        self.entries
            .values()
            .map(|e| e.opened_ms.saturating_add(window_ms(window)))
            .min()
    }

    fn make_room(&mut self, mode: ThrottleMode, now_ms: i64) {
        if self.entries.len() < MAX_KEYS_PER_RULE {
            return;
        }
        let window = match mode {
            ThrottleMode::OnceWithin(w) | ThrottleMode::OnceAfter(w) => w,
            ThrottleMode::AccumulateWithin { window, .. } => window,
        };
        let before = self.entries.len();
        if !matches!(mode, ThrottleMode::OnceAfter(_)) {
            self.entries
                .retain(|_, e| now_ms < e.opened_ms.saturating_add(window_ms(window)));
        }
        if self.entries.len() >= MAX_KEYS_PER_RULE
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.opened_ms)
                .map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.evicted += (before - self.entries.len()) as u64;
    }
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
        let mut state = ThrottleState::default();
        assert!(matches!(
            state.on_match(mode, "a".into(), &ev(1), 0),
            Verdict::Fire(_)
        ));
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(2), 59_999),
            Verdict::Suppressed
        );
        assert!(matches!(
            state.on_match(mode, "b".into(), &ev(3), 10),
            Verdict::Fire(_)
        ));
        assert!(matches!(
            state.on_match(mode, "a".into(), &ev(4), 60_000),
            Verdict::Fire(_)
        ));
    }

    #[test]
    fn once_after_collects_unique_events_until_the_window_ends() {
        let mode = ThrottleMode::OnceAfter(Duration::from_secs(10));
        let mut state = ThrottleState::default();
        assert_eq!(state.on_match(mode, "a".into(), &ev(1), 0), Verdict::Held);
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(1), 1_000),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(2), 2_000),
            Verdict::Held
        );
        assert_eq!(state.next_due_ms(mode), Some(10_000));
        assert!(state.due(mode, 9_999).is_empty());
        assert_eq!(state.due(mode, 10_000), vec![vec![ev(1), ev(2)]]);
        assert!(state.due(mode, 20_000).is_empty());
    }

    #[test]
    fn accumulate_within_needs_the_threshold_inside_one_window() {
        let mode = ThrottleMode::AccumulateWithin {
            window: Duration::from_secs(10),
            threshold: 3,
        };
        let mut state = ThrottleState::default();
        assert_eq!(state.on_match(mode, "a".into(), &ev(1), 0), Verdict::Held);
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(2), 5_000),
            Verdict::Held
        );
        // The window closed short: counting starts again.
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(3), 10_000),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(4), 11_000),
            Verdict::Held
        );
        assert_eq!(
            state.on_match(mode, "a".into(), &ev(5), 12_000),
            Verdict::Fire(vec![ev(3), ev(4), ev(5)])
        );
    }

    #[test]
    fn keys_are_bounded() {
        let mode = ThrottleMode::OnceWithin(Duration::from_secs(3600));
        let mut state = ThrottleState::default();
        for i in 0..(MAX_KEYS_PER_RULE as i64 + 10) {
            state.on_match(mode, i.to_string(), &ev(i), i);
        }
        assert_eq!(state.entries.len(), MAX_KEYS_PER_RULE);
        assert_eq!(state.evicted, 10);
    }
}
