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
