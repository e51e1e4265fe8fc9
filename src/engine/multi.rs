//! Multi-event state: partial `all:` matches and open `not_all:` windows. Sub-conditions are evaluated
//! by a caller-supplied closure (given the slot index and the events already bound as `events.m_N`),
//! so this module owns only the bookkeeping: which event fills which slot, expiry, bounds, and which
//! partials changed since a changelog last looked. A partial belongs to the partition of the event
//! that started it: saved there, restored with it, forgotten when it moves away.

use std::collections::HashMap;
use std::sync::Arc;

use jmespath::Rcvar;
use serde::{Deserialize, Serialize};

use super::store::{ChangeSet, SourcePartition, slots_serde};

/// Partial matches kept per rule before the oldest are dropped.
pub const MAX_PARTIALS_PER_RULE: usize = 10_000;

/// The events bound so far, slot by slot.
pub type Slots = Vec<Option<Rcvar>>;

type Source = Option<Arc<SourcePartition>>;

/// A partial match: when its first event came and the events bound so far. Saved as plain JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    started_ms: i64,
    #[serde(with = "slots_serde")]
    slots: Slots,
}

impl Partial {
    fn new(started_ms: i64, slots: usize) -> Partial {
        Partial {
            started_ms,
            slots: vec![None; slots],
        }
    }

    fn is_complete(&self) -> bool {
        self.slots.iter().all(Option::is_some)
    }
}

#[derive(Debug)]
struct Tracked {
    id: u64,
    source: Source,
    partial: Partial,
}

/// `all:` — each sub-condition met by a different event, within the timeout of the first.
#[derive(Debug, Default)]
pub struct AllState {
    /// Oldest first.
    partials: Vec<Tracked>,
    next_id: u64,
    /// Partials started, filled or dropped since the last drain.
    dirty: ChangeSet<(u64, Source)>,
    pub evicted: u64,
    pub expired: u64,
}

impl AllState {
    /// Offers `event` (from `source`) to the oldest partial match that has a free slot it satisfies,
    /// else starts a new one. An event fills at most one slot. Returns the completed match, if any.
    pub fn offer(
        &mut self,
        slots: usize,
        event: &Rcvar,
        source: Source,
        now_ms: i64,
        timeout_ms: i64,
        mut matches: impl FnMut(usize, &Slots) -> bool,
    ) -> Option<Vec<Rcvar>> {
        self.expire(now_ms, timeout_ms);
        for index in 0..self.partials.len() {
            let bound = &self.partials[index].partial.slots;
            let free = (0..slots).find(|&slot| bound[slot].is_none() && matches(slot, bound));
            if let Some(slot) = free {
                self.partials[index].partial.slots[slot] = Some(event.clone());
                self.mark(index);
                return self.complete(index);
            }
        }
        let mut partial = Partial::new(now_ms, slots);
        let slot = (0..slots).find(|&slot| matches(slot, &partial.slots))?;
        if self.partials.len() >= MAX_PARTIALS_PER_RULE {
            self.mark(0);
            self.partials.remove(0);
            self.evicted += 1;
        }
        partial.slots[slot] = Some(event.clone());
        let id = self.next_id;
        self.next_id += 1;
        self.partials.push(Tracked {
            id,
            source,
            partial,
        });
        self.mark(self.partials.len() - 1);
        self.complete(self.partials.len() - 1)
    }

    fn expire(&mut self, now_ms: i64, timeout_ms: i64) {
        let live = |t: &Tracked| now_ms < t.partial.started_ms.saturating_add(timeout_ms);
        if self.partials.iter().all(live) {
            return;
        }
        let (kept, gone): (Vec<Tracked>, Vec<Tracked>) = std::mem::take(&mut self.partials)
            .into_iter()
            .partition(live);
        self.partials = kept;
        self.expired += gone.len() as u64;
        for tracked in gone {
            self.dirty.insert((tracked.id, tracked.source));
        }
    }

    fn mark(&mut self, index: usize) {
        let tracked = &self.partials[index];
        self.dirty.insert((tracked.id, tracked.source.clone()));
    }

    fn complete(&mut self, index: usize) -> Option<Vec<Rcvar>> {
        if !self.partials[index].partial.is_complete() {
            return None;
        }
        let tracked = self.partials.remove(index);
        tracked.partial.slots.into_iter().collect()
    }

    /// Correlations in progress.
    pub fn pending(&self) -> usize {
        self.partials.len()
    }

    /// Starts or stops remembering changed partials for [`Self::drain_changes`]; turning it on again
    /// keeps what is already remembered.
    pub fn set_tracking(&mut self, on: bool) {
        self.dirty.set_tracking(on);
    }

    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Partials changed since the last call: id, partition, and the partial (`None`: gone).
    pub fn drain_changes(&mut self) -> Vec<(u64, Source, Option<&Partial>)> {
        let dirty = self.dirty.take();
        if dirty.is_empty() {
            return Vec::new();
        }
        let live: HashMap<(u64, &Source), &Partial> = self
            .partials
            .iter()
            .map(|t| ((t.id, &t.source), &t.partial))
            .collect();
        dirty
            .into_iter()
            .map(|(id, source)| {
                let partial = live.get(&(id, &source)).copied();
                (id, source, partial)
            })
            .collect()
    }

    /// Puts back a saved partial, in order of age; not a change. New partials get higher ids, so
    /// they never overwrite a restored one in the changelog.
    pub fn restore(&mut self, id: u64, source: Source, partial: Partial) {
        self.discard(id, &source);
        let at = self
            .partials
            .partition_point(|t| t.partial.started_ms <= partial.started_ms);
        self.partials.insert(
            at,
            Tracked {
                id,
                source,
                partial,
            },
        );
        self.next_id = self.next_id.max(id.saturating_add(1));
    }

    /// Removes a partial as a changelog tombstone says: not itself a change.
    pub fn discard(&mut self, id: u64, source: &Source) {
        self.partials
            .retain(|t| !(t.id == id && &t.source == source));
    }

    /// Drops, without a change, the partials started by an event of `partition`.
    pub fn forget(&mut self, partition: &SourcePartition) {
        self.partials
            .retain(|t| t.source.as_deref() != Some(partition));
    }
}

/// `not_all:` — fires when, `timeout` after the first sub-condition was met, not all of them were.
#[derive(Debug, Default)]
pub struct NotAllState {
    window: Option<(Source, Partial)>,
    /// Partitions whose window opened, changed or closed since the last drain.
    dirty: ChangeSet<Source>,
}

impl NotAllState {
    pub fn offer(
        &mut self,
        slots: usize,
        event: &Rcvar,
        source: Source,
        now_ms: i64,
        mut matches: impl FnMut(usize, &Slots) -> bool,
    ) {
        let (owner, window) = self
            .window
            .get_or_insert_with(|| (source, Partial::new(now_ms, slots)));
        let owner = owner.clone();
        let bound = &window.slots;
        let free = (0..slots).find(|&slot| bound[slot].is_none() && matches(slot, bound));
        match free {
            Some(slot) => window.slots[slot] = Some(event.clone()),
            // Nothing met: no window was opened after all.
            None if window.slots.iter().all(Option::is_none) => {
                self.window = None;
                return;
            }
            None => return,
        }
        if window.is_complete() {
            // Everything arrived in time: nothing to report.
            self.window = None;
        }
        self.mark(owner);
    }

    fn mark(&mut self, source: Source) {
        self.dirty.insert(source);
    }

    /// When the window has timed out incomplete: the time it was due and the events that did arrive.
    pub fn due(&mut self, now_ms: i64, timeout_ms: i64) -> Option<(i64, Vec<Rcvar>)> {
        let (_, window) = self.window.as_ref()?;
        let due_ms = window.started_ms.saturating_add(timeout_ms);
        if now_ms < due_ms {
            return None;
        }
        let (source, window) = self.window.take()?;
        self.mark(source);
        Some((due_ms, window.slots.into_iter().flatten().collect()))
    }

    pub fn next_due_ms(&self, timeout_ms: i64) -> Option<i64> {
        self.window
            .as_ref()
            .map(|(_, w)| w.started_ms.saturating_add(timeout_ms))
    }

    /// Correlations in progress.
    pub fn pending(&self) -> usize {
        usize::from(self.window.is_some())
    }

    pub fn set_tracking(&mut self, on: bool) {
        self.dirty.set_tracking(on);
    }

    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The partitions whose window changed since the last call, with the open window if it is
    /// theirs (`None`: closed).
    pub fn drain_changes(&mut self) -> Vec<(Source, Option<&Partial>)> {
        self.dirty
            .take()
            .into_iter()
            .map(|source| {
                let open = self
                    .window
                    .as_ref()
                    .filter(|(owner, _)| *owner == source)
                    .map(|(_, w)| w);
                (source, open)
            })
            .collect()
    }

    /// Puts back a saved window unless another partition's window is already open (a rule has one
    /// window at a time); not a change.
    pub fn restore(&mut self, source: Source, window: Partial) {
        if self
            .window
            .as_ref()
            .is_none_or(|(owner, _)| *owner == source)
        {
            self.window = Some((source, window));
        }
    }

    /// Closes the window of `source` as a changelog tombstone says: not itself a change.
    pub fn discard(&mut self, source: &Source) {
        if self
            .window
            .as_ref()
            .is_some_and(|(owner, _)| owner == source)
        {
            self.window = None;
        }
    }

    /// Closes, without a change, the window opened by an event of `partition`.
    pub fn forget(&mut self, partition: &SourcePartition) {
        let owned = |(owner, _): &(Source, Partial)| owner.as_deref() == Some(partition);
        if self.window.as_ref().is_some_and(owned) {
            self.window = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ev(n: i64) -> Rcvar {
        Arc::new(jmespath::Variable::from_json(&n.to_string()).unwrap())
    }

    /// Slot 0 takes even numbers, slot 1 odd ones.
    fn parity(event: &Rcvar) -> impl FnMut(usize, &Slots) -> bool + '_ {
        move |slot, _| {
            event
                .as_number()
                .is_some_and(|n| (n as i64 % 2) as usize == slot)
        }
    }

    #[test]
    fn all_needs_different_events_for_each_slot() {
        let mut state = AllState::default();
        let (a, b, c) = (ev(2), ev(4), ev(3));
        assert_eq!(state.offer(2, &a, None, 0, 1000, parity(&a)), None);
        assert_eq!(state.offer(2, &b, None, 1, 1000, parity(&b)), None);
        assert_eq!(
            state.offer(2, &c, None, 2, 1000, parity(&c)),
            Some(vec![ev(2), ev(3)])
        );
        // The second even number is still waiting for its partner.
        let d = ev(5);
        assert_eq!(
            state.offer(2, &d, None, 3, 1000, parity(&d)),
            Some(vec![ev(4), ev(5)])
        );
    }

    #[test]
    fn all_partials_expire() {
        let mut state = AllState::default();
        let (a, c) = (ev(2), ev(3));
        state.offer(2, &a, None, 0, 1000, parity(&a));
        let fresh = state.offer(2, &c, None, 1000, 1000, parity(&c));
        assert_eq!(fresh, None);
        assert_eq!(state.expired, 1);
    }

    #[test]
    fn not_all_reports_an_incomplete_window_after_the_timeout() {
        let mut state = NotAllState::default();
        let a = ev(2);
        state.offer(2, &a, None, 0, parity(&a));
        assert_eq!(state.due(999, 1000), None);
        assert_eq!(state.next_due_ms(1000), Some(1000));
        // Due when the timeout ended, whenever the clock gets there.
        assert_eq!(state.due(1500, 1000), Some((1000, vec![ev(2)])));
    }

    #[test]
    fn not_all_stays_quiet_when_everything_arrives() {
        let mut state = NotAllState::default();
        let (a, b) = (ev(2), ev(3));
        state.offer(2, &a, None, 0, parity(&a));
        state.offer(2, &b, None, 10, parity(&b));
        assert_eq!(state.due(5000, 1000), None);
    }
}
