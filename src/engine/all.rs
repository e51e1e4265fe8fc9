//! `all:` state with ansible-rulebook's matching. A rule keeps a pool of the events that may fill one
//! of its slots; an arriving event fires every complete match it takes part in (each slot filled by a
//! different event, later slots compared with the earlier ones as `events.m_N`), and then every event
//! of those matches leaves the pool. So with `all: [x, y]` and events x1, x2, y3, the rule fires
//! (x2, y3) and (x1, y3), as ansible-rulebook 1.3.2 does, and a sub-condition that reads
//! `events.m_0` matches whichever event comes first. Sub-conditions are evaluated by the caller's
//! closure; this module owns the pool, the search, expiry, bounds, and which pooled events changed
//! since a changelog last looked. A pooled event belongs to the partition it came from.

use std::collections::HashMap;
use std::sync::Arc;

use jmespath::Rcvar;
use serde::{Deserialize, Serialize};

use super::all_search::{Pick, Search, agenda_order};
use super::multi::Slots;
use super::store::{ChangeSet, SourcePartition};

/// Events pooled per rule before the oldest are dropped.
pub const MAX_POOLED_PER_RULE: usize = 10_000;

type Source = Option<Arc<SourcePartition>>;

/// A pooled event: when it came, the event, and which slots it may fill. Saved as plain JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    arrived_ms: i64,
    #[serde(with = "event_serde")]
    pub(super) event: Rcvar,
    pub(super) slots: Vec<bool>,
    /// A fact (`set_fact`): as in ansible-rulebook it stays, in every match it meets, until it
    /// is retracted; it neither expires nor is consumed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    fact: bool,
}

#[derive(Debug)]
pub(super) struct Tracked {
    id: u64,
    source: Source,
    pub(super) pooled: Pooled,
}

/// What an offered event is, which decides what stays in the pool after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// An event. `consuming` (without `match_multiple_rules`, as in ansible-rulebook): the events of
    /// the matches it completes leave the pool, and so does it; an event that completes none stays.
    /// Not consuming: every event stays until it expires.
    Event { consuming: bool },
    /// A fact: it stays, neither consumed nor expired, until it is retracted.
    Fact,
}

#[derive(Debug, Default)]
pub struct AllState {
    /// Oldest first.
    pool: Vec<Tracked>,
    next_id: u64,
    /// Pooled events added or removed since the last drain.
    dirty: ChangeSet<(u64, Source)>,
    pub evicted: u64,
    pub expired: u64,
}

impl AllState {
    /// Offers `event` (from `source`), which may fill the slots `admits` marks. `matches(slot,
    /// candidate, bound)` says whether `candidate` meets sub-condition `slot` with the events of the
    /// earlier slots bound. Returns the matches it completes, each in slot order. What stays in the
    /// pool depends on `kind`: see [`Kind`].
    #[allow(clippy::too_many_arguments)] // the event, where and when it came, and how it matches
    pub fn offer(
        &mut self,
        event: &Rcvar,
        kind: Kind,
        source: Source,
        now_ms: i64,
        timeout_ms: i64,
        admits: &[bool],
        matches: impl FnMut(usize, &Rcvar, &Slots) -> bool,
    ) -> Vec<Vec<Rcvar>> {
        self.expire(now_ms, timeout_ms);
        if !admits.contains(&true) {
            return Vec::new();
        }
        let mut search = Search {
            pool: &self.pool,
            event,
            admits,
            matches,
            picks: Vec::new(),
            bound: vec![None; admits.len()],
            found: Vec::new(),
            tries: 0,
        };
        search.fill(0);
        let mut found = search.found;
        found.sort_by_cached_key(|picks| agenda_order(picks));
        let resolve = |pick: &Pick| match pick {
            Pick::New => event.clone(),
            Pick::Pooled(i) => self.pool[*i].pooled.event.clone(),
        };
        let fired: Vec<Vec<Rcvar>> = found
            .iter()
            .map(|picks| picks.iter().map(resolve).collect())
            .collect();
        let mut used: Vec<usize> = found
            .iter()
            .flatten()
            .filter_map(|pick| match pick {
                Pick::Pooled(i) if !self.pool[*i].pooled.fact => Some(*i),
                _ => None,
            })
            .collect();
        used.sort_unstable();
        used.dedup();
        let consuming = kind == Kind::Event { consuming: true };
        if consuming {
            for index in used.into_iter().rev() {
                let gone = self.pool.remove(index);
                self.dirty.insert((gone.id, gone.source));
            }
        }
        if fired.is_empty() || !consuming {
            self.add(event, kind == Kind::Fact, source, now_ms, admits);
        }
        fired
    }

    /// Removes `event` from the pool: another rule's firing consumed it.
    pub fn withdraw(&mut self, event: &Rcvar) {
        let (gone, kept): (Vec<Tracked>, Vec<Tracked>) = std::mem::take(&mut self.pool)
            .into_iter()
            .partition(|t| Arc::ptr_eq(&t.pooled.event, event));
        self.pool = kept;
        for tracked in gone {
            self.dirty.insert((tracked.id, tracked.source));
        }
    }

    fn add(&mut self, event: &Rcvar, fact: bool, source: Source, now_ms: i64, admits: &[bool]) {
        if self.pool.len() >= MAX_POOLED_PER_RULE {
            let gone = self.pool.remove(0);
            self.dirty.insert((gone.id, gone.source));
            self.evicted += 1;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.dirty.insert((id, source.clone()));
        self.pool.push(Tracked {
            id,
            source,
            pooled: Pooled {
                arrived_ms: now_ms,
                event: event.clone(),
                slots: admits.to_vec(),
                fact,
            },
        });
    }

    /// Drops the events older than `timeout_ms`: a match needs all its events within it.
    fn expire(&mut self, now_ms: i64, timeout_ms: i64) {
        let live =
            |t: &Tracked| t.pooled.fact || now_ms < t.pooled.arrived_ms.saturating_add(timeout_ms);
        if self.pool.iter().all(live) {
            return;
        }
        let (kept, gone): (Vec<Tracked>, Vec<Tracked>) =
            std::mem::take(&mut self.pool).into_iter().partition(live);
        self.pool = kept;
        self.expired += gone.len() as u64;
        for tracked in gone {
            self.dirty.insert((tracked.id, tracked.source));
        }
    }

    /// Removes the pooled facts `retracted` says were retracted.
    pub fn retract(&mut self, retracted: impl Fn(&Rcvar) -> bool) {
        let (gone, kept): (Vec<Tracked>, Vec<Tracked>) = std::mem::take(&mut self.pool)
            .into_iter()
            .partition(|t| t.pooled.fact && retracted(&t.pooled.event));
        self.pool = kept;
        for tracked in gone {
            self.dirty.insert((tracked.id, tracked.source));
        }
    }

    /// Events waiting for a match.
    pub fn pending(&self) -> usize {
        self.pool.len()
    }

    /// Starts or stops remembering changed pooled events for [`Self::drain_changes`]; turning it on
    /// again keeps what is already remembered.
    pub fn set_tracking(&mut self, on: bool) {
        self.dirty.set_tracking(on);
    }

    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Pooled events changed since the last call: id, partition, and the event (`None`: gone).
    pub fn drain_changes(&mut self) -> Vec<(u64, Source, Option<&Pooled>)> {
        let dirty = self.dirty.take();
        if dirty.is_empty() {
            return Vec::new();
        }
        let live: HashMap<(u64, &Source), &Pooled> = self
            .pool
            .iter()
            .map(|t| ((t.id, &t.source), &t.pooled))
            .collect();
        dirty
            .into_iter()
            .map(|(id, source)| {
                let pooled = live.get(&(id, &source)).copied();
                (id, source, pooled)
            })
            .collect()
    }

    /// Puts back a saved pooled event, in order of age; not a change. New events get higher ids,
    /// so they never overwrite a restored one in the changelog.
    pub fn restore(&mut self, id: u64, source: Source, pooled: Pooled) {
        self.discard(id, &source);
        let at = self
            .pool
            .partition_point(|t| t.pooled.arrived_ms <= pooled.arrived_ms);
        self.pool.insert(at, Tracked { id, source, pooled });
        self.next_id = self.next_id.max(id.saturating_add(1));
    }

    /// Removes a pooled event as a changelog tombstone says: not itself a change.
    pub fn discard(&mut self, id: u64, source: &Source) {
        self.pool.retain(|t| !(t.id == id && &t.source == source));
    }

    /// Drops, without a change, the events that came from `partition`.
    pub fn forget(&mut self, partition: &SourcePartition) {
        self.pool.retain(|t| t.source.as_deref() != Some(partition));
    }
}

/// Serde for one event, as `events_serde` does for a list.
mod event_serde {
    use jmespath::{Rcvar, Variable};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(event: &Rcvar, serializer: S) -> Result<S::Ok, S::Error> {
        (**event).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Rcvar, D::Error> {
        Variable::deserialize(deserializer).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSUMING: Kind = Kind::Event { consuming: true };

    fn ev(n: i64) -> Rcvar {
        Arc::new(jmespath::Variable::from_json(&n.to_string()).unwrap())
    }

    fn parity(n: &Rcvar) -> Vec<bool> {
        let odd = n.as_number().is_some_and(|n| n as i64 % 2 == 1);
        vec![!odd, odd]
    }

    /// Slot 0 takes even numbers, slot 1 odd ones.
    fn offer(state: &mut AllState, n: i64, at: i64) -> Vec<Vec<Rcvar>> {
        let event = ev(n);
        let admits = parity(&event);
        state.offer(&event, CONSUMING, None, at, 1000, &admits, |_, _, _| true)
    }

    #[test]
    fn an_event_completes_every_match_it_can_and_consumes_their_events() {
        let mut state = AllState::default();
        assert!(offer(&mut state, 2, 0).is_empty());
        assert!(offer(&mut state, 4, 1).is_empty());
        // As ansible-rulebook: both waiting evens pair with the odd one, newest first.
        assert_eq!(
            offer(&mut state, 3, 2),
            vec![vec![ev(4), ev(3)], vec![ev(2), ev(3)]]
        );
        assert_eq!(state.pending(), 0);
        assert!(offer(&mut state, 5, 3).is_empty());
        assert_eq!(state.pending(), 1);
    }

    #[test]
    fn a_later_slot_can_be_filled_first_and_is_checked_against_the_earlier_one() {
        let mut state = AllState::default();
        // Slot 1 needs the number one above slot 0's: 7 waits for 6, not for 8.
        let next = |slot: usize, e: &Rcvar, bound: &Slots| {
            slot == 0
                || bound[0]
                    .as_ref()
                    .and_then(|b| b.as_number())
                    .map(|b| b + 1.0)
                    == e.as_number()
        };
        let (seven, eight, six) = (ev(7), ev(8), ev(6));
        let admits = |e: &Rcvar| parity(e);
        assert!(
            state
                .offer(&seven, CONSUMING, None, 0, 1000, &admits(&seven), next)
                .is_empty()
        );
        assert!(
            state
                .offer(&eight, CONSUMING, None, 1, 1000, &admits(&eight), next)
                .is_empty()
        );
        assert_eq!(
            state.offer(&six, CONSUMING, None, 2, 1000, &admits(&six), next),
            vec![vec![ev(6), ev(7)]]
        );
        assert_eq!(state.pending(), 1, "8 still waits");
    }

    #[test]
    fn a_fact_stays_in_every_match_until_retracted() {
        let mut state = AllState::default();
        let fact = ev(2);
        state.offer(
            &fact,
            Kind::Fact,
            None,
            0,
            1000,
            &parity(&fact),
            |_, _, _| true,
        );
        assert_eq!(offer(&mut state, 3, 5000), vec![vec![ev(2), ev(3)]]);
        assert_eq!(offer(&mut state, 5, 6000), vec![vec![ev(2), ev(5)]]);
        state.retract(|e| *e == ev(2));
        assert!(offer(&mut state, 7, 7000).is_empty());
    }

    #[test]
    fn pooled_events_expire_after_the_timeout() {
        let mut state = AllState::default();
        offer(&mut state, 2, 0);
        assert!(offer(&mut state, 3, 1000).is_empty());
        assert_eq!(state.expired, 1);
    }
}
