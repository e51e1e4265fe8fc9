//! One rule without a window against one event: its condition (single, `any`, `all`, `not_all`) and
//! its throttle. It returns whether the rule matched and the events to fire with; firing, tracing and
//! counting are the caller's.

use jmespath::Rcvar;

use super::step::Step;
use super::{Document, EngineState, RuleAt, RuleCondition, RuleState, Verdict, group_key};
use crate::condition::Expr;
use crate::event::Event;
use crate::rulebook::duration::millis;

impl EngineState {
    pub(super) fn evaluate_rule(
        &mut self,
        step: &mut Step<'_>,
        at: RuleAt,
        doc: &Document,
        event: &Event,
    ) -> (bool, Option<Vec<Rcvar>>) {
        let book = step.book;
        let ruleset = &book.rulesets[at.ruleset];
        let rule = &ruleset.rules[at.rule];
        let source = if rule.keeps_state() {
            self.source_of(event)
        } else {
            None
        };
        let now = step.now;
        let mut errors = Vec::new();
        let mut eval = |expr: &Expr, doc: &Rcvar| {
            expr.is_true(doc).unwrap_or_else(|err| {
                errors.push(err.to_string());
                false
            })
        };
        let result = match (
            &rule.condition,
            &mut self.rulesets[at.ruleset].rules[at.rule],
        ) {
            (RuleCondition::Single(expr), state) => {
                let matched = eval(expr, doc.base());
                let fired = if !matched {
                    None
                } else if let (Some(throttle), RuleState::Throttle(state)) = (&rule.throttle, state)
                {
                    let key = group_key(&throttle.group_by, doc.base());
                    let origin = event.origin.as_ref();
                    match state.on_match(throttle.mode, &key, source, origin, &event.payload, now) {
                        Verdict::Fire(events) => Some(events),
                        Verdict::Held | Verdict::Suppressed => {
                            step.outcome.throttled += 1;
                            None
                        }
                    }
                } else {
                    Some(vec![event.payload.clone()])
                };
                (matched, fired)
            }
            (RuleCondition::Any(exprs), _) => {
                let matched = exprs.iter().any(|expr| eval(expr, doc.base()));
                (matched, matched.then(|| vec![event.payload.clone()]))
            }
            (
                RuleCondition::All {
                    conditions,
                    timeout,
                },
                RuleState::All(state),
            ) => {
                let timeout = millis(timeout.unwrap_or(ruleset.default_events_ttl));
                let fired = state.offer(
                    conditions.len(),
                    &event.payload,
                    source,
                    now,
                    timeout,
                    |slot, bound| eval(&conditions[slot], &doc.with_events(bound)),
                );
                (fired.is_some(), fired)
            }
            (RuleCondition::NotAll { conditions, .. }, RuleState::NotAll(state)) => {
                state.offer(
                    conditions.len(),
                    &event.payload,
                    source,
                    now,
                    |slot, bound| eval(&conditions[slot], &doc.with_events(bound)),
                );
                (false, None)
            }
            _ => (false, None),
        };
        for message in errors {
            step.error(at, message);
        }
        result
    }
}
