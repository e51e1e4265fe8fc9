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
