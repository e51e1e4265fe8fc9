//! The decision core: `process(event, now)` evaluates one event against every ruleset and returns the
//! firings, with their actions rendered. It owns rule order, `match_multiple_rules`, throttles,
//! multi-event matches, facts and posted events. It is pure: time is a parameter, there is no I/O and
//! nothing is sent; the caller dispatches the firings and logs the errors.

mod document;
mod evaluate;
mod facts;
mod fire;
mod multi;
mod position;
mod reload;
mod routing;
mod state;
mod stats;
mod store;
mod throttle;
mod trace;
mod window;
mod window_rule;
mod window_value;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use jmespath::Rcvar;

use crate::condition::{self, Expr};
use crate::event::Event;
use crate::rulebook::action::{FiringStatus, RenderError, RenderedAction};
use crate::rulebook::duration::millis;
use crate::rulebook::{Rule, RuleCondition, Rulebook, Throttle, ThrottleMode, WindowForm};
use crate::suppress::{Suppressed, Suppressor};
pub use document::Document;
use facts::Facts;
pub use multi::{AllState, NotAllState};
pub use position::Position;
pub use reload::ReloadReport;
pub use state::{RuleEvictions, StateChange};
pub use stats::{RuleCounts, RuleStats};
pub use store::SourcePartition;
use throttle::{ThrottleState, Verdict};
pub use trace::RuleTrace;
use window::{Decision, Judge, WindowState};

/// Events a single input may cause through `post_event` before the engine calls it a loop.
const MAX_POSTED_PER_EVENT: usize = 1_000;

/// A rule that fired, with its actions rendered for this firing.
#[derive(Debug)]
pub struct Firing {
    pub ruleset: String,
    pub rule: String,
    /// The matching events: one for a simple rule, several for `all:` and throttled rules.
    pub events: Vec<Rcvar>,
    /// The meta of the event that completed the match; null when a window closed on a timer.
    pub meta: Rcvar,
    pub time_ms: i64,
    /// `topic/partition/offset/rule` (with `#N` for the N-th element of a split batch): the same for
    /// every replay of this firing, so receivers can drop duplicates.
    pub idempotency_key: String,
    pub actions: Vec<Result<RenderedAction, RenderError>>,
    /// `Resolved` when a window rule's key recovered; always `Firing` for other rules.
    pub status: FiringStatus,
    /// A window rule's group key (a JSON list of the `group_by` values).
    pub group_key: Option<String>,
}

/// What a window rule adds to a firing: its status, the `window` value and the group key.
struct WindowFiring {
    status: FiringStatus,
    window: Rcvar,
    key: Arc<str>,
}

/// A condition that could not be evaluated on an event; it counts as no match.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub ruleset: String,
    pub rule: String,
    pub message: String,
}

/// Everything one call produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub firings: Vec<Firing>,
    pub errors: Vec<RuleError>,
    pub trace: Vec<RuleTrace>,
    /// Matches held back or suppressed by a throttle.
    pub throttled: u64,
    /// Firings muted by a silence or an inhibition: not in `firings`, but their engine actions
    /// (`set_fact`, `retract_fact`, `post_event`) were applied.
    pub suppressed: Vec<Suppressed>,
}

enum RuleState {
    Stateless,
    Throttle(ThrottleState),
    Window(WindowState),
    All(AllState),
    NotAll(NotAllState),
}

struct RulesetState {
    facts: Facts,
    rules: Vec<RuleState>,
}

/// A rulebook with its running state.
pub struct Engine {
    rulebook: Arc<Rulebook>,
    env: Arc<BTreeMap<String, String>>,
    state: Vec<RulesetState>,
    high_water_ms: i64,
    tracing: bool,
    suppressor: Suppressor,
    stats: RuleStats,
    /// The partition of the latest stateful update, shared by the keys it touches.
    last_source: Option<Arc<SourcePartition>>,
}

impl Engine {
    /// `env` is the environment templates may read as `env.NAME`, captured once by the caller.
    pub fn new(rulebook: Arc<Rulebook>, env: BTreeMap<String, String>) -> Engine {
        let state = rulebook
            .rulesets
            .iter()
            .map(|ruleset| RulesetState {
                facts: Facts::default(),
                rules: ruleset.rules.iter().map(initial_state).collect(),
            })
            .collect();
        Engine {
            suppressor: Suppressor::new(&rulebook),
            stats: RuleStats::new(&rulebook),
            rulebook,
            env: Arc::new(env),
            state,
            high_water_ms: i64::MIN,
            tracing: false,
            last_source: None,
        }
    }

    /// Record a [`RuleTrace`] per rule and event (slower; for `--explain`).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// Silences and inhibition state; replace the silences with `suppressor_mut().set_silences(..)`.
    pub fn suppressor(&self) -> &Suppressor {
        &self.suppressor
    }

    pub fn suppressor_mut(&mut self) -> &mut Suppressor {
        &mut self.suppressor
    }

    /// The rulebook being evaluated.
    pub fn rulebook(&self) -> &Arc<Rulebook> {
        &self.rulebook
    }

    /// Per-rule totals since the engine started, for the caller's metrics.
    pub fn stats(&self) -> &RuleStats {
        &self.stats
    }

    /// Evaluates one event. Its time is `event.time_ms` when the source gave one, else `now_ms`.
    pub fn process(&mut self, event: Event, now_ms: i64) -> Outcome {
        let time_ms = event.time_ms.unwrap_or(now_ms);
        let mut outcome = self.advance(time_ms);
        let mut queue = VecDeque::from([(None, event)]);
        let mut handled = 0;
        while let Some((target, event)) = queue.pop_front() {
            handled += 1;
            if handled > MAX_POSTED_PER_EVENT {
                outcome.errors.push(RuleError {
                    ruleset: String::new(),
                    rule: String::new(),
                    message: format!("more than {MAX_POSTED_PER_EVENT} events posted for one input; dropped the rest to stop a post_event loop"),
                });
                break;
            }
            let book = Arc::clone(&self.rulebook);
            condition::with_clock(time_ms as f64 / 1000.0, || {
                for (index, ruleset) in book.rulesets.iter().enumerate() {
                    // Posted events go straight to their ruleset; inputs follow the sources.
                    let route = match target {
                        Some(t) if t == index => routing::Route::Whole,
                        Some(_) => routing::Route::Skip,
                        None => routing::route(ruleset, &event),
                    };
                    match route {
                        routing::Route::Skip => {}
                        routing::Route::Whole => {
                            self.evaluate_ruleset(index, &event, time_ms, &mut outcome, &mut queue);
                        }
                        routing::Route::Split(events) => events.iter().for_each(|element| {
                            self.evaluate_ruleset(
                                index,
                                element,
                                time_ms,
                                &mut outcome,
                                &mut queue,
                            );
                        }),
                    }
                }
            });
        }
        outcome
    }

    /// Moves time forward to `now_ms`, firing `once_after` windows and `not_all` timeouts that ended.
    pub fn advance(&mut self, now_ms: i64) -> Outcome {
        self.high_water_ms = self.high_water_ms.max(now_ms);
        let now = self.high_water_ms;
        let book = Arc::clone(&self.rulebook);
        let mut outcome = Outcome::default();
        let mut queue = VecDeque::new();
        for (r, ruleset) in book.rulesets.iter().enumerate() {
            for (i, rule) in ruleset.rules.iter().enumerate() {
                if let (RuleState::Window(state), Some(window)) =
                    (&mut self.state[r].rules[i], &rule.window)
                {
                    let meta = Arc::new(jmespath::Variable::Null);
                    for silent in state.due(window, now) {
                        let firing = WindowFiring {
                            status: FiringStatus::Firing,
                            window: silent.window,
                            key: silent.key,
                        };
                        let events = vec![silent.last_event];
                        let at = silent.deadline_ms;
                        self.fire(
                            r,
                            i,
                            events,
                            &meta,
                            at,
                            Some(firing),
                            &mut outcome,
                            &mut queue,
                        );
                    }
                    continue;
                }
                let due = match (&mut self.state[r].rules[i], &rule.condition, &rule.throttle) {
                    (RuleState::Throttle(state), _, Some(throttle)) => {
                        state.due(throttle.mode, now)
                    }
                    (RuleState::NotAll(state), RuleCondition::NotAll { timeout, .. }, _) => {
                        state.due(now, millis(*timeout)).into_iter().collect()
                    }
                    _ => Vec::new(),
                };
                for events in due {
                    let meta = Arc::new(jmespath::Variable::Null);
                    self.fire(r, i, events, &meta, now, None, &mut outcome, &mut queue);
                }
            }
        }
        // Events posted by timer firings are evaluated like any other input.
        for (target, event) in queue {
            for index in (0..book.rulesets.len()).filter(|i| target.is_none_or(|t| t == *i)) {
                let mut nested = VecDeque::new();
                self.evaluate_ruleset(index, &event, now, &mut outcome, &mut nested);
            }
        }
        outcome
    }

    /// The earliest time at which [`Self::advance`] would fire something, for the caller's timer.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        let book = &self.rulebook;
        let mut deadlines = Vec::new();
        for (r, ruleset) in book.rulesets.iter().enumerate() {
            for (i, rule) in ruleset.rules.iter().enumerate() {
                let next = match (&self.state[r].rules[i], &rule.condition, &rule.throttle) {
                    (RuleState::Throttle(state), _, Some(throttle)) => {
                        state.next_due_ms(throttle.mode)
                    }
                    (RuleState::NotAll(state), RuleCondition::NotAll { timeout, .. }, _) => {
                        state.next_due_ms(millis(*timeout))
                    }
                    (RuleState::Window(state), _, _) => state.next_due_ms(),
                    _ => None,
                };
                deadlines.extend(next);
            }
        }
        deadlines.into_iter().min()
    }

    fn evaluate_ruleset(
        &mut self,
        r: usize,
        event: &Event,
        now: i64,
        outcome: &mut Outcome,
        queue: &mut VecDeque<(Option<usize>, Event)>,
    ) {
        let book = Arc::clone(&self.rulebook);
        let ruleset = &book.rulesets[r];
        let doc = Document::new(event, &ruleset.vars, self.state[r].facts.variable());
        for (i, rule) in ruleset.rules.iter().enumerate() {
            if !rule.enabled {
                continue;
            }
            let (matched, fired) = if rule.window.is_some() {
                self.window_event(r, i, &doc, event, now, outcome, queue)
            } else {
                let (matched, events) = self.evaluate_rule(r, i, &doc, event, now, outcome);
                let fired = events.is_some();
                if let Some(events) = events {
                    self.fire(r, i, events, &event.meta, now, None, outcome, queue);
                }
                (matched, fired)
            };
            if self.tracing {
                let trace = trace::trace(ruleset.name.as_str(), rule, &doc, matched, fired);
                outcome.trace.push(trace);
            }
            // A window's matches feed the window: none of them is held back by a throttle.
            self.stats
                .evaluated(r, i, matched, fired || rule.window.is_some());
            if matched && !ruleset.match_multiple_rules {
                break;
            }
        }
    }
}

fn initial_state(rule: &Rule) -> RuleState {
    match (&rule.condition, &rule.throttle, &rule.window) {
        (RuleCondition::All { .. }, _, _) => RuleState::All(AllState::default()),
        (RuleCondition::NotAll { .. }, _, _) => RuleState::NotAll(NotAllState::default()),
        (_, _, Some(_)) => RuleState::Window(WindowState::new(rule.max_keys)),
        (_, Some(_), _) => RuleState::Throttle(ThrottleState::new(rule.max_keys)),
        _ => RuleState::Stateless,
    }
}

#[allow(clippy::too_many_arguments)] // one match's full context
fn throttled(
    throttle: &Throttle,
    state: &mut ThrottleState,
    key: &str,
    source: Option<Arc<SourcePartition>>,
    event: &Event,
    now: i64,
    outcome: &mut Outcome,
) -> Option<Vec<Rcvar>> {
    match state.on_match(throttle.mode, key, source, &event.meta, &event.payload, now) {
        Verdict::Fire(events) => Some(events),
        Verdict::Held | Verdict::Suppressed => {
            outcome.throttled += 1;
            None
        }
    }
}

/// The group key: the JSON list of the `group_by` values (null where one fails).
fn group_key(group_by: &[Expr], doc: &Rcvar) -> String {
    let key: Vec<serde_json::Value> = group_by
        .iter()
        .map(|expr| {
            expr.search(doc)
                .ok()
                .and_then(|v| serde_json::to_value(&*v).ok())
                .unwrap_or_default()
        })
        .collect();
    serde_json::to_string(&key).unwrap_or_default()
}
