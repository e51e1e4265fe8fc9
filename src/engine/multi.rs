//! `not_all:` state: the rule's open window. Sub-conditions are evaluated by a caller-supplied closure
//! (given the slot index and the events already bound as `events.m_N`), so this module owns only the
//! bookkeeping: which event fills which slot, the timeout, and whether the window changed since a
//! changelog last looked. The window belongs to the partition of the event that opened it: saved
//! there, restored with it, forgotten when it moves away. `all:` is in `all.rs`.

use std::sync::Arc;

use jmespath::Rcvar;
use serde::{Deserialize, Serialize};

use super::store::{ChangeSet, SourcePartition, slots_serde};

/// The events bound so far, slot by slot.
pub type Slots = Vec<Option<Rcvar>>;

type Source = Option<Arc<SourcePartition>>;

/// An open `not_all` window: when it opened, the slot of the event that opened it, the events bound
/// so far, and the later events whose slot was already taken (with that slot), oldest first. Saved
/// as plain JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    started_ms: i64,
    #[serde(with = "slots_serde")]
    slots: Slots,
    #[serde(default)]
    opener: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "waiting_serde")]
    waiting: Vec<(usize, Rcvar)>,
}

impl Partial {
    fn new(started_ms: i64, slots: usize) -> Partial {
        Partial {
            started_ms,
            slots: vec![None; slots],
            opener: 0,
            waiting: Vec::new(),
        }
    }

    fn is_complete(&self) -> bool {
        self.slots.iter().all(Option::is_some)
    }

    /// Puts `event`, which meets sub-condition `slot`, in the window: in the slot when it is free
    /// (the first one opens the window), else with the waiting ones.
    fn place(&mut self, slot: usize, event: Rcvar) {
        if self.slots.iter().all(Option::is_none) {
            self.opener = slot;
        }
        match &mut self.slots[slot] {
            free @ None => *free = Some(event),
            Some(_) => self.waiting.push((slot, event)),
        }
    }

    /// The window that opens, at `at_ms`, with what this one leaves: its other bound events, then
    /// the waiting ones, as ansible-rulebook carries them over. `None` when nothing is left.
    fn next(self, at_ms: i64) -> Option<Partial> {
        let opener = self.opener;
        let mut next = Partial::new(at_ms, self.slots.len());
        let bound = self.slots.into_iter().enumerate();
        let left = bound.filter_map(|(slot, e)| e.filter(|_| slot != opener).map(|e| (slot, e)));
        for (slot, event) in left.chain(self.waiting) {
            next.place(slot, event);
        }
        (!next.slots.iter().all(Option::is_none)).then_some(next)
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
        let met = free.or_else(|| (0..slots).find(|&slot| matches(slot, bound)));
        match met {
            Some(slot) => window.place(slot, event.clone()),
            // Nothing met: no window was opened after all.
            None if window.slots.iter().all(Option::is_none) => {
                self.window = None;
                return;
            }
            None => return,
        }
        if window.is_complete() {
            // Everything arrived in time: nothing to report; the waiting events open the next window.
            let done = self.window.take().map(|(_, w)| w.waiting);
            let mut next = Partial::new(now_ms, slots);
            done.into_iter()
                .flatten()
                .for_each(|(slot, e)| next.place(slot, e));
            if !next.slots.iter().all(Option::is_none) {
                self.window = Some((owner.clone(), next));
            }
        }
        self.mark(owner);
    }

    fn mark(&mut self, source: Source) {
        self.dirty.insert(source);
    }

    /// The windows that timed out incomplete by `now_ms`, each with the time it was due and, as in
    /// ansible-rulebook, the event that opened it. What a window leaves opens the next one at once,
    /// which times out in turn: one event at a time, each `timeout` after the last.
    pub fn due(&mut self, now_ms: i64, timeout_ms: i64) -> Vec<(i64, Vec<Rcvar>)> {
        let mut fired = Vec::new();
        while let Some((_, window)) = &self.window {
            let due_ms = window.started_ms.saturating_add(timeout_ms);
            if now_ms < due_ms {
                break;
            }
            let Some((source, mut window)) = self.window.take() else {
                break;
            };
            self.mark(source.clone());
            let opener = window.slots[window.opener].take();
            fired.push((due_ms, opener.into_iter().collect()));
            self.window = window.next(due_ms).map(|next| (source, next));
        }
        fired
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

/// Serde for the waiting events, as `slots_serde` does for bound slots.
mod waiting_serde {
    use jmespath::{Rcvar, Variable};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(
        waiting: &[(usize, Rcvar)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let plain: Vec<(usize, &Variable)> = waiting.iter().map(|(s, e)| (*s, &**e)).collect();
        plain.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(usize, Rcvar)>, D::Error> {
        let plain = Vec::<(usize, Variable)>::deserialize(deserializer)?;
        Ok(plain.into_iter().map(|(s, e)| (s, Arc::new(e))).collect())
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
    fn not_all_reports_an_incomplete_window_after_the_timeout() {
        let mut state = NotAllState::default();
        let a = ev(2);
        state.offer(2, &a, None, 0, parity(&a));
        assert_eq!(state.due(999, 1000), vec![]);
        assert_eq!(state.next_due_ms(1000), Some(1000));
        // Due when the timeout ended, whenever the clock gets there.
        assert_eq!(state.due(1500, 1000), vec![(1000, vec![ev(2)])]);
    }

    #[test]
    fn not_all_fires_per_opening_event_and_carries_the_rest_over_as_ansible_rulebook() {
        let mut state = NotAllState::default();
        // 11 and 21 meet sub-condition 0, 12 meets 1 (of three): the last digit, less one.
        let slot_of = |event: &Rcvar| {
            let digit = event.as_number().map_or(0, |n| n as usize % 10);
            move |slot: usize, _: &Slots| digit == slot + 1
        };
        for (n, at) in [(11, 0), (21, 500), (12, 800)] {
            let event = ev(n);
            state.offer(3, &event, None, at, slot_of(&event));
        }
        let fired = vec![
            (2000, vec![ev(11)]),
            (4000, vec![ev(12)]),
            (6000, vec![ev(21)]),
        ];
        assert_eq!(state.due(6500, 2000), fired);
        assert_eq!(state.pending(), 0);
    }

    #[test]
    fn not_all_stays_quiet_when_everything_arrives() {
        let mut state = NotAllState::default();
        let (a, b) = (ev(2), ev(3));
        state.offer(2, &a, None, 0, parity(&a));
        state.offer(2, &b, None, 10, parity(&b));
        assert_eq!(state.due(5000, 1000), vec![]);
    }
}
