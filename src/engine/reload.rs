//! Hot reload of a running engine: [`Engine::reload`] swaps in a new rulebook between two events and
//! carries over the state of every rule that did not change, so an unchanged throttle keeps
//! suppressing and an open `all:` match keeps waiting. A rule is unchanged when its ruleset name, its
//! name and its fingerprint (definition plus the ruleset settings it depends on, positions left out)
//! are the same; a ruleset keeps its facts when its name is the same. Checking the new rulebook,
//! deciding whether a reload is allowed and logging the report are the caller's job.

use std::fmt;
use std::sync::Arc;

use super::facts::Facts;
use super::{Engine, RuleState, RulesetState, initial_state};
use crate::rulebook::{Rulebook, Ruleset};

/// What a reload did to each rule, as `ruleset/rule`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    /// Unchanged: their state was kept.
    pub kept: Vec<String>,
    /// Changed: they start with fresh state.
    pub reset: Vec<String>,
    /// New in this rulebook.
    pub added: Vec<String>,
    /// Gone, with their state.
    pub removed: Vec<String>,
}

impl fmt::Display for ReloadReport {
    /// Counts, and the names of the rules that did not simply carry on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} kept", self.kept.len())?;
        for (what, rules) in [
            ("reset", &self.reset),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            write!(f, ", {} {what}", rules.len())?;
            if !rules.is_empty() {
                write!(f, " ({})", rules.join(", "))?;
            }
        }
        Ok(())
    }
}

/// The old state of one ruleset, taken out rule by rule as the new rulebook claims it.
struct Previous<'a> {
    ruleset: &'a Ruleset,
    facts: Option<Facts>,
    rules: Vec<Option<RuleState>>,
}

impl Engine {
    /// Replaces the rulebook, keeping the state of unchanged rules and the facts of rulesets that are
    /// still there. Call it between two events; the time high-water mark carries over.
    pub fn reload(&mut self, rulebook: Arc<Rulebook>) -> ReloadReport {
        let old_book = std::mem::replace(&mut self.rulebook, rulebook);
        self.state.suppressor.reload(&old_book, &self.rulebook);
        // Counters follow the new rule positions; the caller flushed the old ones.
        self.state.stats = super::RuleStats::new(&self.rulebook);
        // Indexed by the old rulebook's positions: the caller restricts the engine again.
        self.state.skipped.clear();
        let old_state = std::mem::take(&mut self.state.rulesets);
        let mut previous: Vec<Previous> = old_book
            .rulesets
            .iter()
            .zip(old_state)
            .map(|(ruleset, state)| Previous {
                ruleset,
                facts: Some(state.facts),
                rules: state.rules.into_iter().map(Some).collect(),
            })
            .collect();
        let mut report = ReloadReport::default();
        self.state.rulesets = self
            .rulebook
            .rulesets
            .iter()
            .map(|ruleset| carry_over(ruleset, &mut previous, &mut report))
            .collect();
        for old in previous {
            for (rule, state) in old.ruleset.rules.iter().zip(old.rules) {
                if state.is_some() {
                    report
                        .removed
                        .push(format!("{}/{}", old.ruleset.name, rule.name));
                }
            }
        }
        report
    }
}

/// The state of `ruleset` in the new rulebook: taken from the old ruleset of the same name where the
/// rule is unchanged, fresh otherwise.
fn carry_over(
    ruleset: &Ruleset,
    previous: &mut [Previous],
    report: &mut ReloadReport,
) -> RulesetState {
    let mut old = previous.iter_mut().find(|p| p.ruleset.name == ruleset.name);
    let facts = old
        .as_mut()
        .and_then(|p| p.facts.take())
        .unwrap_or_default();
    let rules = ruleset
        .rules
        .iter()
        .map(|rule| {
            let label = format!("{}/{}", ruleset.name, rule.name);
            let fresh = || initial_state(rule);
            let Some(old) = old.as_mut() else {
                report.added.push(label);
                return fresh();
            };
            let Some(index) = old.ruleset.rules.iter().position(|r| r.name == rule.name) else {
                report.added.push(label);
                return fresh();
            };
            let state = old.rules[index].take();
            match state {
                Some(state) if old.ruleset.rules[index].fingerprint == rule.fingerprint => {
                    report.kept.push(label);
                    state
                }
                _ => {
                    report.reset.push(label);
                    fresh()
                }
            }
        })
        .collect();
    RulesetState { facts, rules }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::event::Event;

    const THROTTLED: &str = "
- name: rs
  rules:
    - name: other
      condition: event.never == `true`
      action: {debug: {}}
    - name: once
      condition: event.down == `true`
      throttle: {once_within: 1 min, group_by: [event.device]}
      action: {debug: {}}
";

    fn book(yaml: &str) -> Arc<Rulebook> {
        Arc::new(crate::rulebook::compile("t.yml", yaml).unwrap_or_else(|d| panic!("{d}")))
    }

    /// The rules that fired for one "device down" event at `at_ms`.
    fn down(engine: &mut Engine, at_ms: i64) -> Vec<String> {
        let event = Event::from_json(json!({"down": true, "device": "sw1"}), json!({}));
        let outcome = engine.process(event, at_ms);
        outcome.firings.into_iter().map(|f| f.rule).collect()
    }

    fn started(yaml: &str) -> Engine {
        let mut engine = Engine::new(book(yaml), BTreeMap::new());
        assert_eq!(down(&mut engine, 0), ["once"], "the first match fires");
        engine
    }

    #[test]
    fn an_unchanged_once_within_throttle_keeps_suppressing() {
        let mut engine = started(THROTTLED);
        let added = THROTTLED.to_owned()
            + "    - name: new\n      condition: event.x == `1`\n      action: {debug: {}}\n";
        let report = engine.reload(book(&added));
        assert_eq!(report.kept, ["rs/other", "rs/once"]);
        assert_eq!(report.added, ["rs/new"]);
        assert!(
            down(&mut engine, 10_000).is_empty(),
            "still inside the window"
        );
        assert_eq!(down(&mut engine, 60_000), ["once"], "the window ended");
    }

    #[test]
    fn a_changed_rule_starts_fresh() {
        let mut engine = started(THROTTLED);
        let changed = THROTTLED.replace("once_within: 1 min", "once_within: 2 min");
        let report = engine.reload(book(&changed));
        assert_eq!(report.reset, ["rs/once"]);
        assert_eq!(report.kept, ["rs/other"]);
        assert_eq!(down(&mut engine, 10_000), ["once"]);
    }

    #[test]
    fn a_removed_rule_takes_its_state_along() {
        let mut engine = started(THROTTLED);
        let without = THROTTLED
            .split("    - name: once")
            .next()
            .unwrap()
            .to_owned();
        let report = engine.reload(book(&without));
        assert_eq!(report.removed, ["rs/once"]);
        assert!(down(&mut engine, 5_000).is_empty(), "the rule is gone");
        let report = engine.reload(book(THROTTLED));
        assert_eq!(report.added, ["rs/once"]);
        assert_eq!(
            down(&mut engine, 10_000),
            ["once"],
            "back again, with no memory of the first firing"
        );
    }

    #[test]
    fn a_moved_rule_keeps_its_state() {
        let mut engine = started(THROTTLED);
        let (head, once) = THROTTLED.split_once("    - name: once").unwrap();
        let (_, other) = head.split_once("    - name: other").unwrap();
        let moved = format!(
            "# reordered\n- name: rs\n  rules:\n\n    - name: once{once}    - name: other{other}"
        );
        let report = engine.reload(book(&moved));
        assert_eq!(report.kept, ["rs/once", "rs/other"]);
        assert!(report.reset.is_empty() && report.added.is_empty() && report.removed.is_empty());
        assert!(
            down(&mut engine, 10_000).is_empty(),
            "still inside the window"
        );
    }

    #[test]
    fn a_changed_ruleset_setting_resets_its_rules_but_keeps_its_facts() {
        let yaml = "
- name: rs
  vars: {limit: 1}
  rules:
    - name: remember
      condition: event.set == `true`
      action: {set_fact: {fact: {seen: true}}}
    - name: known
      condition: facts.seen == `true` && event.ask == `true`
      action: {debug: {}}
";
        let mut engine = Engine::new(book(yaml), BTreeMap::new());
        engine.process(Event::from_json(json!({"set": true}), json!({})), 0);
        let report = engine.reload(book(&yaml.replace("limit: 1", "limit: 2")));
        assert_eq!(report.reset, ["rs/remember", "rs/known"]);
        let asked = engine.process(Event::from_json(json!({"ask": true}), json!({})), 1);
        let fired: Vec<_> = asked.firings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(fired, ["known"], "the facts were kept");
    }

    #[test]
    fn the_report_reads_as_counts_and_names() {
        let report = ReloadReport {
            kept: vec!["rs/a".into()],
            reset: vec!["rs/b".into()],
            added: Vec::new(),
            removed: vec!["rs/c".into(), "rs/d".into()],
        };
        assert_eq!(
            report.to_string(),
            "1 kept, 1 reset (rs/b), 0 added, 2 removed (rs/c, rs/d)"
        );
    }
}
