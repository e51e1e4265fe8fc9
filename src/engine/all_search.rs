//! The search behind `all:` (see `all.rs`): the matches an arriving event completes with the events
//! waiting in a rule's pool, each slot filled by a different event that meets its sub-condition
//! with the earlier slots bound, and the order ansible-rulebook fires them in. Bounded per event.

use jmespath::Rcvar;

use super::all::Tracked;
use super::multi::Slots;

/// Matches one event may complete; past it the rest are not fired (a pool of many look-alike events
/// would otherwise fire their every combination).
pub const MAX_MATCHES_PER_EVENT: usize = 100;
/// Sub-condition evaluations one event may cost in the search for its matches.
const MAX_TRIES_PER_EVENT: usize = 100_000;

/// One candidate for a slot: a pooled event (by index) or the arriving one.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Pick {
    Pooled(usize),
    New,
}

/// The search for the matches an arriving event completes.
pub(super) struct Search<'a, F> {
    pub pool: &'a [Tracked],
    pub event: &'a Rcvar,
    pub admits: &'a [bool],
    pub matches: F,
    pub picks: Vec<Pick>,
    pub bound: Slots,
    pub found: Vec<Vec<Pick>>,
    pub tries: usize,
}

impl<F: FnMut(usize, &Rcvar, &Slots) -> bool> Search<'_, F> {
    /// Depth-first over the slots; newest pooled events first, as ansible-rulebook fires them.
    /// Iterative over candidates and recursive over slots: the depth is the rule's number of
    /// sub-conditions, which the rulebook bounds.
    pub fn fill(&mut self, slot: usize) {
        if slot == self.bound.len() {
            // The same events in other slots are the same match (`all: [x, x]`): fired once.
            let same = |found: &Vec<Pick>| self.picks.iter().all(|pick| found.contains(pick));
            if self.picks.contains(&Pick::New) && !self.found.iter().any(same) {
                self.found.push(self.picks.clone());
            }
            return;
        }
        let pooled = (0..self.pool.len()).rev().map(Pick::Pooled);
        let candidates: Vec<Pick> = std::iter::once(Pick::New).chain(pooled).collect();
        for pick in candidates {
            if self.found.len() >= MAX_MATCHES_PER_EVENT || self.tries >= MAX_TRIES_PER_EVENT {
                return;
            }
            let (event, fits) = match pick {
                Pick::New => (self.event, self.admits[slot]),
                Pick::Pooled(i) => (&self.pool[i].pooled.event, self.pool[i].pooled.slots[slot]),
            };
            if !fits || self.picks.contains(&pick) {
                continue;
            }
            self.tries += 1;
            if !(self.matches)(slot, event, &self.bound) {
                continue;
            }
            self.picks.push(pick);
            self.bound[slot] = Some(event.clone());
            self.fill(slot + 1);
            self.bound[slot] = None;
            self.picks.pop();
        }
    }
}

/// Where a match stands in the order ansible-rulebook fires the matches one event completes (its
/// Drools join network's): the slots before the event's from the nearest back, then the slots after
/// it, each iterating its waiting events newest or oldest first, alternately (observed on 1.3.2 with
/// two and three slots; derived for events that arrive in slot order). Sorting by it gives that order.
pub(super) fn agenda_order(picks: &[Pick]) -> Vec<i64> {
    let Some(new) = picks.iter().position(|p| *p == Pick::New) else {
        return Vec::new();
    };
    let after = picks.len() - 1 - new;
    let rank = |slot: usize, newest_first: bool| match picks[slot] {
        Pick::Pooled(i) if newest_first => -(i as i64),
        Pick::Pooled(i) => i as i64,
        Pick::New => 0,
    };
    let before = (0..new)
        .rev()
        .enumerate()
        .map(|(i, slot)| rank(slot, (i + after).is_multiple_of(2)));
    let later =
        (new + 1..picks.len()).map(|slot| rank(slot, !(picks.len() - 1 - slot).is_multiple_of(2)));
    std::iter::once(new as i64)
        .chain(before)
        .chain(later)
        .collect()
}
