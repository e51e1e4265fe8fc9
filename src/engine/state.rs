//! The engine's keyed state as data, for a changelog: which keys changed since the last look
//! ([`Engine::take_changes`]), putting keys back ([`Engine::restore`]), dropping the keys of a
//! partition that moved to another instance ([`Engine::forget_partition`]), and eviction counts.
//! Covered: throttles, windows (including firing/resolved status) and the correlation state of
//! `all`/`not_all` (pooled events, keyed by a per-rule id, and the open window). Not covered: facts,
//! which restart empty. Writing and reading the changelog topic is the caller's job; this module
//! does no I/O.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::all::Pooled;
use super::multi::Partial;
use super::store::SourcePartition;
use super::throttle::ThrottleEntry;
use super::window::WindowKey;
use super::{Engine, RuleState};
use crate::rulebook::Rule;

/// One key's state after a change: `state` is `None` when the key's state was removed (expired,
/// fired, evicted), which a compacted topic keeps as a tombstone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub ruleset: String,
    pub rule: String,
    /// The group key: a JSON list of the rule's `group_by` values; for `all` the pooled event's id, for
    /// `not_all` [`NOT_ALL_KEY`].
    pub key: String,
    /// The partition of the event that last updated the key; `None` for events without one.
    pub source: Option<SourcePartition>,
    pub state: Option<serde_json::Value>,
}

/// The serialized form of a key's state, tagged with the kind of rule it belongs to.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KeyState {
    Throttle(ThrottleEntry),
    Window(WindowKey),
    All(Pooled),
    NotAll(Partial),
}

/// The key of a `not_all` rule's open window: a rule has at most one.
pub const NOT_ALL_KEY: &str = "open";

/// Keys (for `all`, partial matches) a rule dropped to stay within its bound, since the engine started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEvictions {
    pub ruleset: String,
    pub rule: String,
    pub evicted: u64,
}

/// Puts one key's state (or its removal) back into `target`; false when it does not fit the rule.
fn restore_key(
    target: &mut RuleState,
    rule: &Rule,
    key: &str,
    source: Option<Arc<SourcePartition>>,
    state: Option<KeyState>,
) -> bool {
    match (target, state) {
        (RuleState::Throttle(t), None) => t.entries.discard(key),
        (RuleState::Window(w), None) => w.keys.discard(key),
        (RuleState::NotAll(n), None) => n.discard(&source),
        (RuleState::All(a), None) => match key.parse() {
            Ok(id) => a.discard(id, &source),
            Err(_) => return false,
        },
        (RuleState::All(a), Some(KeyState::All(partial))) => match key.parse() {
            Ok(id) => a.restore(id, source, partial),
            Err(_) => return false,
        },
        (RuleState::NotAll(n), Some(KeyState::NotAll(window))) => n.restore(source, window),
        (RuleState::Throttle(t), Some(KeyState::Throttle(value))) => {
            t.entries.restore(key, source, value)
        }
        (RuleState::Window(w), Some(KeyState::Window(value))) => match &rule.window {
            Some(window) => w.restore(window, key, source, value),
            None => return false,
        },
        _ => return false,
    }
    true
}

fn serialize(state: KeyState) -> Option<serde_json::Value> {
    serde_json::to_value(state).ok()
}

impl Engine {
    /// Starts (or stops) remembering which keys change, for [`Self::take_changes`]. Off by default:
    /// without a reader the set of changed keys would only grow.
    pub fn set_change_tracking(&mut self, on: bool) {
        for state in &mut self.state.rulesets {
            for rule_state in &mut state.rules {
                match rule_state {
                    RuleState::Throttle(t) => t.entries.set_tracking(on),
                    RuleState::Window(w) => w.keys.set_tracking(on),
                    RuleState::All(a) => a.set_tracking(on),
                    RuleState::NotAll(n) => n.set_tracking(on),
                    RuleState::Stateless => {}
                }
            }
        }
    }

    /// Whether [`Self::take_changes`] would return something: cheap, nothing is serialized, so a
    /// caller can collect changes less often than it evaluates events.
    pub fn has_changes(&self) -> bool {
        self.state
            .rulesets
            .iter()
            .flat_map(|s| &s.rules)
            .any(|rule| match rule {
                RuleState::Throttle(t) => t.entries.has_dirty(),
                RuleState::Window(w) => w.keys.has_dirty(),
                RuleState::All(a) => a.has_changes(),
                RuleState::NotAll(n) => n.has_changes(),
                RuleState::Stateless => false,
            })
    }

    /// The keys touched since the last call (and since [`Self::set_change_tracking`] turned tracking
    /// on), each with its state now. Cheap when nothing changed:
    /// only rules with keyed state are visited, and only their dirty keys.
    pub fn take_changes(&mut self) -> Vec<StateChange> {
        let mut changes = Vec::new();
        for (ruleset, state) in self.rulebook.rulesets.iter().zip(&mut self.state.rulesets) {
            for (rule, rule_state) in ruleset.rules.iter().zip(&mut state.rules) {
                let change = |(key, source, state): (Arc<str>, Option<Arc<SourcePartition>>, _)| {
                    StateChange {
                        ruleset: ruleset.name.clone(),
                        rule: rule.name.clone(),
                        key: key.to_string(),
                        source: source.map(|s| (*s).clone()),
                        state,
                    }
                };
                match rule_state {
                    RuleState::Throttle(t) => changes.extend(
                        t.entries
                            .drain_dirty()
                            .into_iter()
                            .map(|(k, s, v)| {
                                (
                                    k,
                                    s,
                                    v.and_then(|v| serialize(KeyState::Throttle(v.clone()))),
                                )
                            })
                            .map(change),
                    ),
                    RuleState::Window(w) => changes.extend(
                        w.keys
                            .drain_dirty()
                            .into_iter()
                            .map(|(k, s, v)| {
                                (k, s, v.and_then(|v| serialize(KeyState::Window(v.clone()))))
                            })
                            .map(change),
                    ),
                    RuleState::All(a) => changes.extend(
                        a.drain_changes()
                            .into_iter()
                            .map(|(id, s, v)| {
                                let state = v.and_then(|v| serialize(KeyState::All(v.clone())));
                                (Arc::from(id.to_string()), s, state)
                            })
                            .map(change),
                    ),
                    RuleState::NotAll(n) => changes.extend(
                        n.drain_changes()
                            .into_iter()
                            .map(|(s, v)| {
                                let state = v.and_then(|v| serialize(KeyState::NotAll(v.clone())));
                                (Arc::from(NOT_ALL_KEY), s, state)
                            })
                            .map(change),
                    ),
                    RuleState::Stateless => {}
                }
            }
        }
        changes
    }

    /// Puts back state read from a changelog, oldest entry first (a later entry for the same key
    /// replaces an earlier one; `None` removes it). Restored keys are not reported as changes (the
    /// changelog already holds them); changes not yet taken stay pending. Entries for rules this rulebook no longer has, or
    /// whose state does not fit the rule (its kind changed), are skipped. Returns how many were used.
    pub fn restore(&mut self, entries: impl IntoIterator<Item = StateChange>) -> usize {
        let book = &self.rulebook;
        let mut used = 0;
        for entry in entries {
            let Some(r) = book.rulesets.iter().position(|rs| rs.name == entry.ruleset) else {
                continue;
            };
            let Some(i) = book.rulesets[r]
                .rules
                .iter()
                .position(|ru| ru.name == entry.rule)
            else {
                continue;
            };
            let rule = &book.rulesets[r].rules[i];
            let state = match entry.state {
                None => None,
                Some(value) => match serde_json::from_value::<KeyState>(value) {
                    Ok(state) => Some(state),
                    Err(_) => continue,
                },
            };
            let source = entry.source.map(Arc::new);
            let target = &mut self.state.rulesets[r].rules[i];
            let fits = restore_key(target, rule, &entry.key, source, state);
            used += usize::from(fits);
        }
        used
    }

    /// Drops the state of every key last updated from `topic`/`partition` (the partition was revoked
    /// and another instance now owns it). Nothing is reported by [`Self::take_changes`] for them.
    pub fn forget_partition(&mut self, topic: &str, partition: i32) {
        let gone = SourcePartition {
            topic: topic.to_owned(),
            partition,
        };
        for state in &mut self.state.rulesets {
            for rule_state in &mut state.rules {
                match rule_state {
                    RuleState::Throttle(t) => drop(t.entries.forget(&gone)),
                    RuleState::Window(w) => drop(w.keys.forget(&gone)),
                    RuleState::All(a) => a.forget(&gone),
                    RuleState::NotAll(n) => n.forget(&gone),
                    RuleState::Stateless => {}
                }
            }
        }
    }

    /// Per rule with keyed state: how many keys were evicted to respect `max_keys`, since the start.
    pub fn evictions(&self) -> Vec<RuleEvictions> {
        let mut out = Vec::new();
        for (ruleset, state) in self.rulebook.rulesets.iter().zip(&self.state.rulesets) {
            for (rule, rule_state) in ruleset.rules.iter().zip(&state.rules) {
                let evicted = match rule_state {
                    RuleState::Throttle(t) => t.entries.evicted,
                    RuleState::Window(w) => w.keys.evicted,
                    RuleState::All(a) => a.evicted,
                    _ => continue,
                };
                out.push(RuleEvictions {
                    ruleset: ruleset.name.clone(),
                    rule: rule.name.clone(),
                    evicted,
                });
            }
        }
        out
    }

    /// Keys held per rule with keyed state (ruleset, rule, keys), e.g. for a gauge or a benchmark.
    pub fn key_counts(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for (ruleset, state) in self.rulebook.rulesets.iter().zip(&self.state.rulesets) {
            for (rule, rule_state) in ruleset.rules.iter().zip(&state.rules) {
                let keys = match rule_state {
                    RuleState::Throttle(t) => t.entries.len(),
                    RuleState::Window(w) => w.keys.len(),
                    RuleState::All(a) => a.pending(),
                    RuleState::NotAll(n) => n.pending(),
                    RuleState::Stateless => continue,
                };
                out.push((ruleset.name.clone(), rule.name.clone(), keys));
            }
        }
        out
    }
}
