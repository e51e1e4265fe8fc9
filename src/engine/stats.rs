//! Per-rule counters the engine keeps as it works: conditions evaluated, matched, throttled and
//! fired, in a flat table indexed like the rulebook (ruleset, then rule). Plain integers, no I/O:
//! the caller reads them ([`crate::engine::Engine::stats`]) and turns them into metrics, so the
//! engine stays pure and the cost is an add per rule evaluated. It does not name or label anything
//! beyond the rulebook's own ruleset and rule names.

use crate::rulebook::Rulebook;

/// Totals of one rule since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCounts {
    /// Times the rule's condition was evaluated on an event.
    pub evaluations: u64,
    /// Times the condition matched (before any throttle).
    pub matches: u64,
    /// Matches a throttle held back or suppressed.
    pub throttled: u64,
    /// Firings (including ones released by a timer).
    pub firings: u64,
}

/// Counters of every rule, by ruleset and rule index.
#[derive(Debug, Clone, Default)]
pub struct RuleStats {
    /// Where each ruleset's rules start in `counts`.
    offsets: Vec<usize>,
    counts: Vec<RuleCounts>,
}

impl RuleStats {
    pub(super) fn new(book: &Rulebook) -> RuleStats {
        let mut offsets = Vec::with_capacity(book.rulesets.len());
        let mut total = 0;
        for ruleset in &book.rulesets {
            offsets.push(total);
            total += ruleset.rules.len();
        }
        RuleStats {
            offsets,
            counts: vec![RuleCounts::default(); total],
        }
    }

    /// One evaluation of rule `i` of ruleset `r`: whether it matched, and whether it fired.
    pub(super) fn evaluated(&mut self, r: usize, i: usize, matched: bool, fired: bool) {
        if let Some(counts) = self.slot(r, i) {
            counts.evaluations += 1;
            counts.matches += u64::from(matched);
            counts.throttled += u64::from(matched && !fired);
        }
    }

    pub(super) fn fired(&mut self, r: usize, i: usize) {
        if let Some(counts) = self.slot(r, i) {
            counts.firings += 1;
        }
    }

    /// The totals of rule `i` of ruleset `r`.
    pub fn get(&self, r: usize, i: usize) -> RuleCounts {
        let index = self.offsets.get(r).map(|start| start + i);
        index
            .and_then(|index| self.counts.get(index))
            .copied()
            .unwrap_or_default()
    }

    fn slot(&mut self, r: usize, i: usize) -> Option<&mut RuleCounts> {
        let index = self.offsets.get(r)? + i;
        self.counts.get_mut(index)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde_json::json;

    use crate::engine::Engine;
    use crate::event::Event;

    const BOOK: &str = "
- name: first
  rules:
    - name: loss
      condition: event.loss > `5`
      throttle: {once_within: 10 minutes, group_by: [event.serial]}
      action: {debug: {}}
    - name: never
      condition: event.loss < `0`
      action: {debug: {}}
- name: second
  match_multiple_rules: true
  rules:
    - name: any
      condition: event.loss != `null`
      action: {debug: {}}
";

    #[test]
    fn counts_follow_evaluations_matches_throttles_and_firings_per_rule() {
        let book = crate::rulebook::compile("t.yml", BOOK).expect("valid rulebook");
        let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
        for (loss, at) in [(9, 0), (9, 1_000), (1, 2_000), (7, 3_000)] {
            let event = Event::from_json(json!({"loss": loss, "serial": "Q2-A"}), json!({}));
            engine.process(event, at);
        }
        let stats = engine.stats();
        // Three matches of one serial within the window: the first fires, two are suppressed; the
        // third event matches nothing in `first`, so `never` is evaluated for it too.
        let loss = stats.get(0, 0);
        assert_eq!(
            (loss.evaluations, loss.matches, loss.throttled, loss.firings),
            (4, 3, 2, 1)
        );
        let never = stats.get(0, 1);
        assert_eq!((never.evaluations, never.matches, never.firings), (1, 0, 0));
        let any = stats.get(1, 0);
        assert_eq!((any.evaluations, any.matches, any.firings), (4, 4, 4));
        assert_eq!(stats.get(5, 0), super::RuleCounts::default());
    }
}
