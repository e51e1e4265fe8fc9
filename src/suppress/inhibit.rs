//! Inhibition state: which source firings are active, per inhibit rule and `equal` key. A source
//! firing makes its key active for the rule's `for` (or until a resolved firing of the source ends it
//! earlier); a target firing with an active key is inhibited. Keys are bounded per inhibit rule:
//! past the bound, ended keys go first, then the one that ends soonest, and evictions are counted.
//! It does not decide silences and does not know about files.

use std::collections::HashMap;

use jmespath::Rcvar;

use super::FiringStatus;
use crate::condition::EvalError;
use crate::rulebook::duration::millis;
use crate::rulebook::model::Inhibit;

/// Active keys kept per inhibit rule before eviction starts.
pub const MAX_KEYS_PER_INHIBIT: usize = 10_000;

#[derive(Debug)]
struct Entry {
    rule: Inhibit,
    /// Key → the time the source stops counting as active.
    active_until: HashMap<String, i64>,
}

/// The inhibit rules of one ruleset with their state.
#[derive(Debug, Default)]
pub struct Inhibitions {
    entries: Vec<Entry>,
    evicted: u64,
}

impl Inhibitions {
    pub fn new(rules: &[Inhibit]) -> Inhibitions {
        Inhibitions {
            entries: rules
                .iter()
                .map(|rule| Entry {
                    rule: rule.clone(),
                    active_until: HashMap::new(),
                })
                .collect(),
            evicted: 0,
        }
    }

    /// The source rule that inhibits a firing of `rule` with document `doc` at `now_ms`, if any.
    pub fn inhibited_by(
        &self,
        rule: &str,
        doc: &Rcvar,
        now_ms: i64,
        errors: &mut Vec<EvalError>,
    ) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| e.rule.targets.iter().any(|t| t == rule))
            .find(|e| {
                key(&e.rule, doc, errors)
                    .and_then(|k| e.active_until.get(&k))
                    .is_some_and(|until| now_ms < *until)
            })
            .map(|e| e.rule.source.clone())
    }

    /// Notes a firing of `rule`: a source firing starts or extends its key's activity, a resolved
    /// one ends it.
    pub fn record(
        &mut self,
        rule: &str,
        doc: &Rcvar,
        status: FiringStatus,
        now_ms: i64,
        errors: &mut Vec<EvalError>,
    ) {
        for index in 0..self.entries.len() {
            if self.entries[index].rule.source != rule {
                continue;
            }
            let Some(key) = key(&self.entries[index].rule, doc, errors) else {
                continue;
            };
            match status {
                FiringStatus::Resolved => {
                    self.entries[index].active_until.remove(&key);
                }
                FiringStatus::Firing => {
                    self.make_room(index, &key, now_ms);
                    let entry = &mut self.entries[index];
                    let until = now_ms.saturating_add(millis(entry.rule.active_for));
                    let slot = entry.active_until.entry(key).or_insert(until);
                    *slot = (*slot).max(until);
                }
            }
        }
    }

    /// No inhibit rules in this ruleset.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Active keys dropped to stay within [`MAX_KEYS_PER_INHIBIT`] so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    fn make_room(&mut self, index: usize, key: &str, now_ms: i64) {
        let map = &mut self.entries[index].active_until;
        if map.len() < MAX_KEYS_PER_INHIBIT || map.contains_key(key) {
            return;
        }
        let before = map.len();
        map.retain(|_, until| *until > now_ms);
        if map.len() >= MAX_KEYS_PER_INHIBIT
            && let Some(soonest) = map
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| k.clone())
        {
            map.remove(&soonest);
        }
        self.evicted += (before - map.len()) as u64;
    }
}

/// The `equal` values as one string; `None` when one cannot be evaluated (reported in `errors`).
fn key(rule: &Inhibit, doc: &Rcvar, errors: &mut Vec<EvalError>) -> Option<String> {
    let mut values = Vec::with_capacity(rule.equal.len());
    for expr in &rule.equal {
        match expr.search(doc) {
            Ok(value) => values.push(serde_json::to_value(&*value).unwrap_or_default()),
            Err(err) => {
                errors.push(err);
                return None;
            }
        }
    }
    serde_json::to_string(&values).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::Expr;
    use std::sync::Arc;
    use std::time::Duration;

    fn uplink_inhibit() -> Inhibit {
        Inhibit {
            source: "Uplink down".into(),
            targets: vec!["High loss".into(), "High latency".into()],
            equal: vec![
                Expr::compile_for("event.networkId", crate::rulebook::FIRING_ROOTS).unwrap(),
            ],
            active_for: Duration::from_secs(900),
        }
    }

    fn doc(network: &str) -> Rcvar {
        let json = serde_json::json!({"event": {"networkId": network}});
        Arc::new(jmespath::Variable::try_from(json).unwrap())
    }

    #[test]
    fn a_source_inhibits_targets_with_equal_values_for_its_duration() {
        let mut state = Inhibitions::new(&[uplink_inhibit()]);
        let mut errors = Vec::new();
        assert_eq!(
            state.inhibited_by("High loss", &doc("N_1"), 0, &mut errors),
            None
        );
        state.record(
            "Uplink down",
            &doc("N_1"),
            FiringStatus::Firing,
            1_000,
            &mut errors,
        );
        let by = state.inhibited_by("High loss", &doc("N_1"), 2_000, &mut errors);
        assert_eq!(by.as_deref(), Some("Uplink down"));
        assert!(
            state
                .inhibited_by("High latency", &doc("N_1"), 2_000, &mut errors)
                .is_some()
        );
        // Another network, or a rule that is not a target, is not inhibited.
        assert!(
            state
                .inhibited_by("High loss", &doc("N_2"), 2_000, &mut errors)
                .is_none()
        );
        assert!(
            state
                .inhibited_by("Uplink down", &doc("N_1"), 2_000, &mut errors)
                .is_none()
        );
        // Active for 15 minutes after the source firing, not a millisecond more.
        assert!(
            state
                .inhibited_by("High loss", &doc("N_1"), 900_999, &mut errors)
                .is_some()
        );
        assert!(
            state
                .inhibited_by("High loss", &doc("N_1"), 901_000, &mut errors)
                .is_none()
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn a_new_source_firing_extends_and_a_resolved_one_ends_activity() {
        let mut state = Inhibitions::new(&[uplink_inhibit()]);
        let mut errors = Vec::new();
        state.record(
            "Uplink down",
            &doc("N_1"),
            FiringStatus::Firing,
            0,
            &mut errors,
        );
        state.record(
            "Uplink down",
            &doc("N_1"),
            FiringStatus::Firing,
            600_000,
            &mut errors,
        );
        assert!(
            state
                .inhibited_by("High loss", &doc("N_1"), 1_400_000, &mut errors)
                .is_some()
        );
        state.record(
            "Uplink down",
            &doc("N_1"),
            FiringStatus::Resolved,
            1_450_000,
            &mut errors,
        );
        assert!(
            state
                .inhibited_by("High loss", &doc("N_1"), 1_450_001, &mut errors)
                .is_none()
        );
    }

    #[test]
    fn active_keys_are_bounded_and_evictions_counted() {
        let mut state = Inhibitions::new(&[uplink_inhibit()]);
        let mut errors = Vec::new();
        for i in 0..MAX_KEYS_PER_INHIBIT + 5 {
            let network = format!("N_{i}");
            state.record(
                "Uplink down",
                &doc(&network),
                FiringStatus::Firing,
                i as i64,
                &mut errors,
            );
        }
        assert_eq!(state.entries[0].active_until.len(), MAX_KEYS_PER_INHIBIT);
        assert_eq!(state.evicted(), 5);
        // The ones that would end soonest went first.
        assert!(
            state
                .inhibited_by("High loss", &doc("N_0"), 10, &mut errors)
                .is_none()
        );
        let last = format!("N_{}", MAX_KEYS_PER_INHIBIT + 4);
        assert!(
            state
                .inhibited_by("High loss", &doc(&last), 10, &mut errors)
                .is_some()
        );
    }
}
