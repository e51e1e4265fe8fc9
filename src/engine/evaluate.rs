//! One rule without a window against one event: its condition (single, `any`, `all`, `not_all`) and
//! its throttle. It returns whether the rule matched and the events to fire with; firing, tracing and
//! counting are the caller's. Also [`Check`], the condition evaluation every rule kind shares.

use std::sync::Arc;

use jmespath::Rcvar;

use super::all::Kind;
use super::step::{Arrival, Step};
use super::store::SourcePartition;
use super::throttle::ThrottleState;
use super::{Document, EngineState, RuleAt, RuleCondition, RuleState, Verdict, group_key};
use crate::condition::Expr;
use crate::event::Event;
use crate::rulebook::Throttle;
use crate::rulebook::duration::millis;

/// Evaluates conditions, keeping their errors for the step: an error counts as no match.
#[derive(Default)]
pub(super) struct Check {
    errors: Vec<String>,
}

impl Check {
    pub fn is_true(&mut self, expr: &Expr, doc: &Rcvar) -> bool {
        expr.is_true(doc).unwrap_or_else(|err| {
            self.errors.push(err.to_string());
            false
        })
    }

    pub fn fail(&mut self, message: String) {
        self.errors.push(message);
    }

    /// Hands the errors to the step, attributed to rule `at`.
    pub fn report(self, step: &mut Step<'_>, at: RuleAt) {
        for message in self.errors {
            step.error(at, message);
        }
    }
}

impl EngineState {
    /// Whether rule `at` matched `event`, and the events of each firing it makes now (several for
    /// an `all:` that completes several matches at once, none when held back).
    pub(super) fn evaluate_rule(
        &mut self,
        step: &mut Step<'_>,
        at: RuleAt,
        doc: &Document,
        event: &Event,
        arrival: Arrival,
    ) -> (bool, Vec<Vec<Rcvar>>) {
        let book = step.book;
        let ruleset = &book.rulesets[at.ruleset];
        let rule = &ruleset.rules[at.rule];
        let source = rule.keeps_state().then(|| self.source_of(event)).flatten();
        let now = step.now;
        let mut check = Check::default();
        let state = &mut self.rulesets[at.ruleset].rules[at.rule];
        let result = match (&rule.condition, state) {
            (RuleCondition::Single(expr), state) => {
                let matched = check.is_true(expr, doc.base());
                let fired = matched.then(|| match (&rule.throttle, state) {
                    (Some(throttle), RuleState::Throttle(state)) => {
                        throttle_match(step, throttle, state, doc, event, source)
                    }
                    _ => Some(vec![event.whole_payload()]),
                });
                (matched, fired.flatten().into_iter().collect())
            }
            (RuleCondition::Any(exprs), _) => {
                let matched = exprs.iter().any(|expr| check.is_true(expr, doc.base()));
                let fired = matched.then(|| vec![event.whole_payload()]);
                (matched, fired.into_iter().collect())
            }
            (
                RuleCondition::All {
                    conditions,
                    admit,
                    timeout,
                },
                RuleState::All(state),
            ) => {
                // ansible-rulebook's events expire with the ruleset's TTL even under a longer timeout.
                let ttl = ruleset.default_events_ttl;
                let timeout = millis(timeout.map_or(ttl, |t| t.min(ttl)));
                let admits: Vec<bool> = admit
                    .iter()
                    .map(|a| a.as_ref().is_none_or(|a| check.is_true(a, doc.base())))
                    .collect();
                // The state keeps the event, so it gets the whole payload.
                let payload = &event.whole_payload();
                let kind = match arrival {
                    Arrival::Fact => Kind::Fact,
                    Arrival::Event => Kind::Event {
                        consuming: !ruleset.match_multiple_rules,
                    },
                };
                let fired = state.offer(
                    payload,
                    kind,
                    source,
                    now,
                    timeout,
                    &admits,
                    |slot, e, bound| {
                        let other = (!Arc::ptr_eq(e, payload)).then_some(e);
                        check.is_true(&conditions[slot], &doc.with_event(other, bound))
                    },
                );
                (!fired.is_empty(), fired)
            }
            (RuleCondition::NotAll { conditions, .. }, RuleState::NotAll(state)) => {
                state.offer(
                    conditions.len(),
                    &event.whole_payload(),
                    source,
                    now,
                    |slot, bound| check.is_true(&conditions[slot], &doc.with_events(bound)),
                );
                (false, Vec::new())
            }
            _ => (false, Vec::new()),
        };
        check.report(step, at);
        result
    }
}

/// A throttled rule's match: the events to fire with now, if the throttle lets it fire.
fn throttle_match(
    step: &mut Step<'_>,
    throttle: &Throttle,
    state: &mut ThrottleState,
    doc: &Document,
    event: &Event,
    source: Option<Arc<SourcePartition>>,
) -> Option<Vec<Rcvar>> {
    let key = group_key(&throttle.group_by, doc.base());
    let origin = event.origin.as_ref();
    match state.on_match(
        throttle.mode,
        &key,
        source,
        origin,
        &event.whole_payload(),
        step.now,
    ) {
        Verdict::Fire(events) => Some(events),
        Verdict::Held | Verdict::Suppressed => {
            step.outcome.throttled += 1;
            None
        }
    }
}
