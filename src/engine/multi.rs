//! Multi-event state: partial `all:` matches and open `not_all:` windows. Sub-conditions are evaluated
//! by a caller-supplied closure (given the slot index and the events already bound as `events.m_N`),
//! so this module owns only the bookkeeping: which event fills which slot, expiry, and bounds.

use jmespath::Rcvar;

/// Partial matches kept per rule before the oldest are dropped.
pub const MAX_PARTIALS_PER_RULE: usize = 10_000;

/// The events bound so far, slot by slot.
pub type Slots = Vec<Option<Rcvar>>;

#[derive(Debug)]
struct Partial {
    started_ms: i64,
    slots: Slots,
}

/// `all:` — each sub-condition met by a different event, within the timeout of the first.
#[derive(Debug, Default)]
pub struct AllState {
    partials: Vec<Partial>,
    pub evicted: u64,
    pub expired: u64,
}

impl AllState {
    /// Offers `event` to the oldest partial match that has a free slot it satisfies, else starts a new
    /// one. An event fills at most one slot. Returns the completed match, if any.
    pub fn offer(
        &mut self,
        slots: usize,
        event: &Rcvar,
        now_ms: i64,
        timeout_ms: i64,
        mut matches: impl FnMut(usize, &Slots) -> bool,
    ) -> Option<Vec<Rcvar>> {
        let before = self.partials.len();
        self.partials
            .retain(|p| now_ms < p.started_ms.saturating_add(timeout_ms));
        self.expired += (before - self.partials.len()) as u64;
        for index in 0..self.partials.len() {
            let free = (0..slots).find(|&slot| {
                self.partials[index].slots[slot].is_none()
                    && matches(slot, &self.partials[index].slots)
            });
            if let Some(slot) = free {
                self.partials[index].slots[slot] = Some(event.clone());
                return self.complete(index);
            }
        }
        let empty: Slots = vec![None; slots];
        let slot = (0..slots).find(|&slot| matches(slot, &empty))?;
        if self.partials.len() >= MAX_PARTIALS_PER_RULE {
            self.partials.remove(0);
            self.evicted += 1;
        }
        let mut partial = Partial {
            started_ms: now_ms,
            slots: empty,
        };
        partial.slots[slot] = Some(event.clone());
        self.partials.push(partial);
        self.complete(self.partials.len() - 1)
    }

    fn complete(&mut self, index: usize) -> Option<Vec<Rcvar>> {
        if self.partials[index].slots.iter().any(Option::is_none) {
            return None;
        }
        let partial = self.partials.remove(index);
        partial.slots.into_iter().collect()
    }
}

/// `not_all:` — fires when, `timeout` after the first sub-condition was met, not all of them were.
#[derive(Debug, Default)]
pub struct NotAllState {
    window: Option<Partial>,
}

impl NotAllState {
    pub fn offer(
        &mut self,
        slots: usize,
        event: &Rcvar,
        now_ms: i64,
        mut matches: impl FnMut(usize, &Slots) -> bool,
    ) {
        let window = self.window.get_or_insert_with(|| Partial {
            started_ms: now_ms,
            slots: vec![None; slots],
        });
        let free =
            (0..slots).find(|&slot| window.slots[slot].is_none() && matches(slot, &window.slots));
        match free {
            Some(slot) => window.slots[slot] = Some(event.clone()),
            None if window.slots.iter().all(Option::is_none) => self.window = None,
            None => {}
        }
        if self
            .window
            .as_ref()
            .is_some_and(|w| w.slots.iter().all(Option::is_some))
        {
            // Everything arrived in time: nothing to report.
            self.window = None;
        }
    }

    /// When the window has timed out incomplete: the events that did arrive.
    pub fn due(&mut self, now_ms: i64, timeout_ms: i64) -> Option<Vec<Rcvar>> {
        let window = self.window.as_ref()?;
        if now_ms < window.started_ms.saturating_add(timeout_ms) {
            return None;
        }
        self.window
            .take()
            .map(|w| w.slots.into_iter().flatten().collect())
    }

    pub fn next_due_ms(&self, timeout_ms: i64) -> Option<i64> {
        self.window
            .as_ref()
            .map(|w| w.started_ms.saturating_add(timeout_ms))
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
        assert_eq!(state.offer(2, &a, 0, 1000, parity(&a)), None);
        assert_eq!(state.offer(2, &b, 1, 1000, parity(&b)), None);
        assert_eq!(
            state.offer(2, &c, 2, 1000, parity(&c)),
            Some(vec![ev(2), ev(3)])
        );
        // The second even number is still waiting for its partner.
        let d = ev(5);
        assert_eq!(
            state.offer(2, &d, 3, 1000, parity(&d)),
            Some(vec![ev(4), ev(5)])
        );
    }

    #[test]
    fn all_partials_expire() {
        let mut state = AllState::default();
        let (a, c) = (ev(2), ev(3));
        state.offer(2, &a, 0, 1000, parity(&a));
        let fresh = state.offer(2, &c, 1000, 1000, parity(&c));
        assert_eq!(fresh, None);
        assert_eq!(state.expired, 1);
    }

    #[test]
    fn not_all_reports_an_incomplete_window_after_the_timeout() {
        let mut state = NotAllState::default();
        let a = ev(2);
        state.offer(2, &a, 0, parity(&a));
        assert_eq!(state.due(999, 1000), None);
        assert_eq!(state.next_due_ms(1000), Some(1000));
        assert_eq!(state.due(1000, 1000), Some(vec![ev(2)]));
    }

    #[test]
    fn not_all_stays_quiet_when_everything_arrives() {
        let mut state = NotAllState::default();
        let (a, b) = (ev(2), ev(3));
        state.offer(2, &a, 0, parity(&a));
        state.offer(2, &b, 10, parity(&b));
        assert_eq!(state.due(5000, 1000), None);
    }
}
