//! Window state per rule and group key, on event time: samples `(time, value)` of a sliding span
//! (count, sum, avg, min, max, percentiles), the previous value for `change`, the previous span for
//! `spike`, the last-seen time for `absent_for`, and whether the key is firing. It decides fire,
//! resolve or nothing for one event (or, for absence, for the passage of time); the engine renders.
//!
//! Late events (older than the key's latest) count in the span if they are still inside it, measured
//! from the key's latest time, and are dropped otherwise; `change` and `absent_for` ignore them, since
//! "previous" and "last seen" follow event time.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use jmespath::{Rcvar, Variable};
use serde::{Deserialize, Serialize};

use super::position::Position;
use super::store::{KeyedStore, SourcePartition, event_serde};
use super::window_value::{absence_value, aggregates, current_samples, window_value, with_key};
use crate::event::Origin;
use crate::rulebook::action::FiringStatus;
use crate::rulebook::duration::millis;
use crate::rulebook::{Window, WindowForm};

/// One group key's window state, as written to a changelog (events as plain JSON). Values and times
/// only: the event itself is kept only by `absent_for`, which renders its firing when no event arrives
/// (shared with the decoded event, so keeping it costs no copy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowKey {
    #[serde(default)]
    pub(super) samples: VecDeque<(i64, f64)>,
    pub(super) last_ms: i64,
    #[serde(default)]
    pub(super) current: Option<serde_json::Value>,
    /// Fired and neither resolved nor re-armed yet.
    #[serde(default)]
    active: bool,
    /// When the last firing notification went out, for a `throttle: once_within`.
    #[serde(default)]
    notified_ms: Option<i64>,
    #[serde(default, with = "event_serde")]
    last_event: Option<Rcvar>,
    /// Its firing was muted (silence, inhibition), so its resolve is muted too: Alertmanager never
    /// sends the resolve of an alert it did not notify.
    #[serde(default)]
    muted: bool,
    /// The offset of the last record applied, in the partition that last updated the key: a record
    /// read again after a crash (at or below it) was counted already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    applied: Option<i64>,
    /// The record that sent the last notification (firing or resolved), and which. Boxed: most keys
    /// never notify, and a window holds many keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notified_by: Option<Box<(Position, FiringStatus)>>,
}

impl WindowKey {
    fn new(time_ms: i64) -> WindowKey {
        WindowKey {
            samples: VecDeque::new(),
            last_ms: time_ms,
            current: None,
            active: false,
            notified_ms: None,
            last_event: None,
            muted: false,
            applied: None,
            notified_by: None,
        }
    }
}

/// What one event (or the clock) did to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Fire,
    Resolve,
    /// The condition held but a `once_within` throttle held the notification back.
    Throttled,
    Quiet,
}

/// What the engine needs from the rule to decide: condition evaluation over a window value, and the
/// throttle window.
pub struct Judge<'a> {
    pub eval: &'a mut dyn FnMut(&crate::condition::Expr, &Rcvar) -> bool,
    pub once_within_ms: Option<i64>,
}

/// One matching event as its key receives it.
pub struct Arrival<'a> {
    pub key: &'a str,
    pub source: Option<Arc<SourcePartition>>,
    pub event: &'a Rcvar,
    /// The rule's `value` (or `change`) expression's result on the event.
    pub value: Option<&'a Rcvar>,
    pub time_ms: i64,
    /// The event's record, when it came from a source.
    pub origin: Option<&'a Origin>,
}

/// An absence found by the clock: the key, when it went silent, its last event and window value.
pub struct Silent {
    pub key: Arc<str>,
    pub deadline_ms: i64,
    pub last_event: Rcvar,
    pub window: Rcvar,
}

#[derive(Debug)]
pub struct WindowState {
    pub keys: KeyedStore<WindowKey>,
    /// `absent_for`: when each quiet, non-firing key becomes silent.
    deadlines: BTreeSet<(i64, Arc<str>)>,
}

impl WindowState {
    pub fn new(max_keys: usize) -> WindowState {
        WindowState {
            keys: KeyedStore::new(max_keys),
            deadlines: BTreeSet::new(),
        }
    }

    /// Feeds one matching event to its key. Returns the decision and the window value the
    /// conditions saw.
    pub fn on_event(
        &mut self,
        window: &Window,
        arrival: Arrival<'_>,
        judge: &mut Judge<'_>,
    ) -> (Decision, Rcvar) {
        let time_ms = arrival.time_ms;
        let (entry, evicted, same_source) =
            self.keys
                .upsert_from(arrival.key, arrival.source.clone(), || {
                    WindowKey::new(time_ms)
                });
        let offset = arrival.origin.map(|origin| origin.offset);
        // A record this key counted already (read again after a crash, on top of the state saved
        // with it) changes nothing: it repeats its notification if it sent one, else stays quiet.
        if same_source
            && offset
                .zip(entry.applied)
                .is_some_and(|(offset, applied)| offset <= applied)
        {
            let value = match window.form {
                WindowForm::Absence(_) => absence_value(entry, entry.last_ms),
                _ => window_value(window, entry, None).0,
            };
            let decision = repeated_notice(entry, arrival.origin).unwrap_or(Decision::Quiet);
            return (decision, value);
        }
        entry.applied = offset.or(entry.applied);
        if let WindowForm::Absence(absent_for) = window.form {
            let absent_ms = millis(absent_for);
            if let Some((gone, old)) = evicted {
                self.deadlines
                    .remove(&(old.last_ms.saturating_add(absent_ms), gone));
            }
            return absence_arrival(&mut self.deadlines, entry, absent_ms, &arrival);
        }
        let changed = record_value(window, entry, &arrival);
        let (value_var, spiking) = window_value(window, entry, changed.as_ref());
        let triggered = match &window.form {
            WindowForm::Change(_) if changed.is_none() => false,
            WindowForm::Spike { .. } if !spiking => false,
            _ => window
                .fire_when
                .as_ref()
                .is_none_or(|expr| (judge.eval)(expr, &value_var)),
        };
        let latch = window.resolve_when.is_some()
            || window.fire_when.is_some()
            || !matches!(window.form, WindowForm::Change(_));
        let decision = decide(entry, window, triggered, latch, time_ms, &value_var, judge);
        let decision = remember_notice(entry, decision, arrival.origin);
        (decision, value_var)
    }

    /// The window value for templates: the one the conditions saw, with percentiles and `key`.
    pub fn template_value(&self, window: &Window, key: &str, seen: &Rcvar) -> Rcvar {
        let mut fields = seen.as_object().cloned().unwrap_or_default();
        if !window.percentiles
            && window.value.is_some()
            && let Some(entry) = self.keys.get(key)
        {
            fields.extend(aggregates(&current_samples(window, entry), true, true));
        }
        with_key(&Arc::new(Variable::Object(fields)), key)
    }

    /// Keys of an `absent_for` window that have been silent since before `now_ms`; they become firing.
    pub fn due(&mut self, window: &Window, now_ms: i64) -> Vec<Silent> {
        let WindowForm::Absence(absent_for) = window.form else {
            return Vec::new();
        };
        let absent_ms = millis(absent_for);
        let mut silent = Vec::new();
        while let Some(first) = self.deadlines.first().cloned() {
            if first.0 > now_ms {
                break;
            }
            self.deadlines.pop_first();
            let (deadline_ms, key) = first;
            let Some(entry) = self.keys.modify(&key) else {
                continue;
            };
            if entry.active || entry.last_ms.saturating_add(absent_ms) != deadline_ms {
                continue;
            }
            entry.active = true;
            let last_event = entry
                .last_event
                .clone()
                .unwrap_or_else(|| Arc::new(Variable::Null));
            let window = with_key(&absence_value(entry, deadline_ms), &key);
            silent.push(Silent {
                key,
                deadline_ms,
                last_event,
                window,
            });
        }
        silent
    }

    pub fn next_due_ms(&self) -> Option<i64> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// Remembers whether a firing of `key` was muted; for a resolve, returns whether it must be muted
    /// because its firing was.
    pub fn follow_mute(&mut self, key: &str, status: FiringStatus, muted: bool) -> bool {
        let Some(entry) = self.keys.modify(key) else {
            return false;
        };
        match status {
            FiringStatus::Firing => {
                entry.muted = muted;
                false
            }
            FiringStatus::Resolved => std::mem::take(&mut entry.muted),
        }
    }

    /// Puts a restored key back, with its absence deadline.
    pub fn restore(
        &mut self,
        window: &Window,
        key: &str,
        source: Option<Arc<SourcePartition>>,
        state: WindowKey,
    ) {
        if let WindowForm::Absence(absent_for) = window.form
            && !state.active
        {
            self.deadlines.insert((
                state.last_ms.saturating_add(millis(absent_for)),
                Arc::from(key),
            ));
        }
        self.keys.restore(key, source, state);
    }
}

/// A notification remembers its record; that record, read again after a crash (its offset was not
/// committed), sends the same notification again (with the same idempotency key) instead of finding
/// it already done in the restored state.
fn remember_notice(entry: &mut WindowKey, decision: Decision, origin: Option<&Origin>) -> Decision {
    let status = match decision {
        Decision::Fire => FiringStatus::Firing,
        Decision::Resolve => FiringStatus::Resolved,
        Decision::Throttled | Decision::Quiet => {
            return repeated_notice(entry, origin).unwrap_or(decision);
        }
    };
    entry.notified_by = origin.map(|origin| Box::new((Position::of(origin), status)));
    decision
}

/// The notification `origin`'s record sent for this key, if it sent the last one.
fn repeated_notice(entry: &WindowKey, origin: Option<&Origin>) -> Option<Decision> {
    match entry.notified_by.as_deref() {
        Some((by, FiringStatus::Firing)) if by.is_of(origin) => Some(Decision::Fire),
        Some((by, FiringStatus::Resolved)) if by.is_of(origin) => Some(Decision::Resolve),
        _ => None,
    }
}

/// An event of an `absent_for` window: it refreshes the key's deadline and resolves a silent key.
fn absence_arrival(
    deadlines: &mut BTreeSet<(i64, Arc<str>)>,
    entry: &mut WindowKey,
    absent_ms: i64,
    arrival: &Arrival<'_>,
) -> (Decision, Rcvar) {
    let time_ms = arrival.time_ms;
    // A late event says nothing about now: it neither refreshes nor resolves the key.
    let late = time_ms < entry.last_ms;
    if !late {
        let shared: Arc<str> = Arc::from(arrival.key);
        deadlines.remove(&(entry.last_ms.saturating_add(absent_ms), Arc::clone(&shared)));
        entry.last_ms = time_ms;
        entry.last_event = Some(arrival.event.clone());
        deadlines.insert((time_ms.saturating_add(absent_ms), shared));
    }
    let decision = if entry.active && !late {
        entry.active = false;
        Decision::Resolve
    } else {
        Decision::Quiet
    };
    let decision = remember_notice(entry, decision, arrival.origin);
    (decision, absence_value(entry, time_ms))
}

/// Adds the event's value to the key's samples (or, for `change`, compares it with the previous
/// one) and drops samples that left the span. Returns the previous value when it changed.
fn record_value(
    window: &Window,
    entry: &mut WindowKey,
    arrival: &Arrival<'_>,
) -> Option<serde_json::Value> {
    let time_ms = arrival.time_ms;
    let mut changed = None;
    match &window.form {
        WindowForm::Change(_) if time_ms >= entry.last_ms => {
            let new = arrival.value.and_then(|v| serde_json::to_value(&**v).ok());
            if window.size.is_none() {
                // Without a span, `changes` says whether this event changed the value.
                entry.samples.clear();
            }
            if let Some(old) = &entry.current
                && Some(old) != new.as_ref()
            {
                changed = Some(old.clone());
                entry.samples.push_back((time_ms, 1.0));
            }
            entry.current = new;
        }
        // `change` ignores late events: "previous" follows event time.
        WindowForm::Change(_) | WindowForm::Absence(_) => {}
        WindowForm::Threshold | WindowForm::Spike { .. } => {
            let number = arrival.value.map_or(Some(0.0), |v| v.as_number());
            if let Some(number) = number {
                insert_sorted(&mut entry.samples, time_ms, number);
            }
        }
    }
    entry.last_ms = entry.last_ms.max(time_ms);
    if let Some(span) = span_ms(window) {
        let from = entry.last_ms.saturating_sub(span);
        while entry.samples.front().is_some_and(|(t, _)| *t <= from) {
            entry.samples.pop_front();
        }
    }
    changed
}

fn decide(
    entry: &mut WindowKey,
    window: &Window,
    triggered: bool,
    latch: bool,
    time_ms: i64,
    value: &Rcvar,
    judge: &mut Judge<'_>,
) -> Decision {
    if entry.active {
        match &window.resolve_when {
            Some(expr) if (judge.eval)(expr, value) => {
                entry.active = false;
                return Decision::Resolve;
            }
            Some(_) => return Decision::Quiet,
            None if !triggered => entry.active = false,
            None => {}
        }
        return Decision::Quiet;
    }
    if !triggered {
        return Decision::Quiet;
    }
    let throttled = match (judge.once_within_ms, entry.notified_ms) {
        (Some(within), Some(last)) => time_ms < last.saturating_add(within),
        _ => false,
    };
    if throttled {
        return Decision::Throttled;
    }
    entry.notified_ms = Some(time_ms);
    entry.active = latch;
    Decision::Fire
}

/// How far back samples are kept: the window, or two of them for `spike`.
fn span_ms(window: &Window) -> Option<i64> {
    let size = millis(window.size?);
    Some(match window.form {
        WindowForm::Spike { .. } => size.saturating_mul(2),
        _ => size,
    })
}

/// Keeps samples in time order; a late event goes to its place (usually near the back).
fn insert_sorted(samples: &mut VecDeque<(i64, f64)>, time_ms: i64, value: f64) {
    let at = samples.partition_point(|(t, _)| *t <= time_ms);
    samples.insert(at, (time_ms, value));
}
