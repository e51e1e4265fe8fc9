//! The decision core: `process(event, now)` evaluates one event against every ruleset and returns the
//! firings, with their actions rendered (through the rulebook's action model). It owns rule order,
//! `match_multiple_rules`, throttles, windows, multi-event matches, facts and posted events. The
//! compiled rulebook is shared and read-only; the mutable state (`EngineState`) is borrowed apart
//! from it, and one `Step` carries an evaluation's context. It is pure: time is a
//! parameter (also for `now()` in conditions, on the timer path too), there is no I/O and nothing is
//! sent; the caller dispatches the firings and logs the errors.

mod all;
mod all_search;
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
mod step;
mod store;
mod subset;
mod throttle;
mod trace;
mod window;
mod window_rule;
mod window_value;

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::Rcvar;

use crate::condition::{self, Expr};
use crate::event::{Event, Origin};
use crate::rulebook::action::{FiringStatus, RenderError, RenderedAction};
use crate::rulebook::duration::millis;
use crate::rulebook::model::ExecutionStrategy;
use crate::rulebook::{Rule, RuleCondition, Rulebook, ThrottleMode, WindowForm};
use crate::suppress::{Suppressed, Suppressor};
pub use all::AllState;
pub use document::Document;
use facts::Facts;
pub use multi::NotAllState;
pub use position::Position;
pub use reload::ReloadReport;
pub use state::{RuleEvictions, StateChange};
pub use stats::{RuleCounts, RuleStats};
use step::Step;
pub use store::SourcePartition;
use throttle::{ThrottleState, Verdict};
pub use trace::RuleTrace;
use window::{Arrival, Decision, Judge, WindowState};

/// A rule that fired, with its actions rendered for this firing.
#[derive(Debug)]
pub struct Firing {
    pub ruleset: String,
    pub rule: String,
    /// The matching events: one for a simple rule, several for `all:` and throttled rules.
    pub events: Vec<Rcvar>,
    /// The record whose event completed the match. `None` for a firing of the clock (a window or
    /// `once_after` that closed, a `not_all` timeout, an absence) and for events with no source.
    pub origin: Option<Origin>,
    pub time_ms: i64,
    /// `topic/partition/offset/ruleset/rule` (with `#N` for the N-th element of a split batch): the same for
    /// every replay of this firing, so receivers can drop duplicates.
    pub idempotency_key: String,
    pub actions: Vec<Result<RenderedAction, RenderError>>,
    /// `Resolved` when a window rule's key recovered; always `Firing` for other rules.
    pub status: FiringStatus,
    /// The group key (a JSON list of the `group_by` values) of a window rule, or of the throttle
    /// group whose `group_after` the clock closed.
    pub group_key: Option<String>,
    /// How its ruleset's firings are sent: one at a time in order, or concurrently.
    pub strategy: ExecutionStrategy,
}

/// What a window rule adds to a firing: its status, the `window` value and the group key.
struct WindowFiring {
    status: FiringStatus,
    window: Rcvar,
    key: Arc<str>,
}

/// A match ready to fire: the matching events, the event that completed it (`None` when the clock
/// did), the throttle group the clock closed, and, for a window rule, its notification.
struct Match<'e> {
    events: Vec<Rcvar>,
    trigger: Option<&'e Event>,
    group: Option<Arc<str>>,
    window: Option<WindowFiring>,
}

impl Match<'_> {
    /// `firing`, or a window rule's notification status.
    fn status(&self) -> FiringStatus {
        self.window
            .as_ref()
            .map_or(FiringStatus::Firing, |w| w.status)
    }

    /// The group key of a window or throttle group: part of a clock firing's idempotency key.
    fn group(&self) -> Option<&str> {
        self.window
            .as_ref()
            .map(|w| &*w.key)
            .or(self.group.as_deref())
    }
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

/// A rulebook with its running state. The compiled rulebook is shared and read-only; everything that
/// changes as events arrive is in [`EngineState`], so the two are borrowed apart.
pub struct Engine {
    rulebook: Arc<Rulebook>,
    state: EngineState,
}

/// The mutable half of an [`Engine`]: per-rule state, facts, the clock's high-water mark,
/// suppression and counters.
struct EngineState {
    env: BTreeMap<String, String>,
    rulesets: Vec<RulesetState>,
    high_water_ms: i64,
    tracing: bool,
    suppressor: Suppressor,
    stats: RuleStats,
    /// The partition of the latest stateful update, shared by the keys it touches.
    last_source: Option<Arc<SourcePartition>>,
    /// By ruleset index: `true` for a ruleset this engine leaves to another ([`Engine::keep_only`]);
    /// empty when it evaluates every ruleset.
    skipped: Vec<bool>,
}

/// Rule `rule` of ruleset `ruleset`, by index in the rulebook.
#[derive(Debug, Clone, Copy)]
struct RuleAt {
    ruleset: usize,
    rule: usize,
}

impl Engine {
    /// `env` is the environment templates may read as `env.NAME`, captured once by the caller.
    pub fn new(rulebook: Arc<Rulebook>, env: BTreeMap<String, String>) -> Engine {
        let rulesets = rulebook
            .rulesets
            .iter()
            .map(|ruleset| RulesetState {
                facts: Facts::default(),
                rules: ruleset.rules.iter().map(initial_state).collect(),
            })
            .collect();
        let state = EngineState {
            env,
            rulesets,
            high_water_ms: i64::MIN,
            tracing: false,
            suppressor: Suppressor::new(&rulebook),
            stats: RuleStats::new(&rulebook),
            last_source: None,
            skipped: Vec::new(),
        };
        Engine { rulebook, state }
    }

    /// Record a [`RuleTrace`] per rule and event (slower; for `--explain`).
    pub fn set_tracing(&mut self, on: bool) {
        self.state.tracing = on;
    }

    /// Silences and inhibition state; replace the silences with `suppressor_mut().set_silences(..)`.
    pub fn suppressor(&self) -> &Suppressor {
        &self.state.suppressor
    }

    pub fn suppressor_mut(&mut self) -> &mut Suppressor {
        &mut self.state.suppressor
    }

    /// The rulebook being evaluated.
    pub fn rulebook(&self) -> &Arc<Rulebook> {
        &self.rulebook
    }

    /// Per-rule totals since the engine started, for the caller's metrics.
    pub fn stats(&self) -> &RuleStats {
        &self.state.stats
    }

    /// Evaluates one event. Its time is `event.time_ms` when the source gave one, else `now_ms`.
    pub fn process(&mut self, event: Event, now_ms: i64) -> Outcome {
        let time_ms = event.time_ms.unwrap_or(now_ms);
        let outcome = self.advance(time_ms);
        let mut step = Step::new(&self.rulebook, time_ms, outcome);
        let state = &mut self.state;
        condition::with_clock(seconds(time_ms), || state.process(&mut step, event));
        step.outcome
    }

    /// Moves time forward to `now_ms`, firing `once_after` windows, `not_all` timeouts and absences
    /// that ended. Conditions and silences evaluated on the way read this clock.
    pub fn advance(&mut self, now_ms: i64) -> Outcome {
        let state = &mut self.state;
        state.high_water_ms = state.high_water_ms.max(now_ms);
        // Every event moves the clock: skip the walk over the rules when none of them acts on it.
        if !state.has_timers() {
            return Outcome::default();
        }
        let now = state.high_water_ms;
        let mut step = Step::new(&self.rulebook, now, Outcome::default());
        condition::with_clock(seconds(now), || state.advance(&mut step));
        step.outcome
    }

    /// The earliest time at which [`Self::advance`] would fire something, for the caller's timer.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        let mut deadlines = Vec::new();
        for (ruleset, state) in self.rulebook.rulesets.iter().zip(&self.state.rulesets) {
            for (rule, rule_state) in ruleset.rules.iter().zip(&state.rules) {
                let next = match (rule_state, &rule.condition, &rule.throttle) {
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
}

impl EngineState {
    /// Whether some rule has state the clock can close (throttles, windows, `not_all`).
    fn has_timers(&self) -> bool {
        self.rulesets
            .iter()
            .flat_map(|ruleset| &ruleset.rules)
            .any(|rule| {
                matches!(
                    rule,
                    RuleState::Throttle(_) | RuleState::Window(_) | RuleState::NotAll(_)
                )
            })
    }
}

/// The condition clock (`now()`) in epoch seconds.
fn seconds(time_ms: i64) -> f64 {
    time_ms as f64 / 1000.0
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
