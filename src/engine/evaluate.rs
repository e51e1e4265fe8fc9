//! One rule without a window against one event: its condition (single, `any`, `all`, `not_all`) and
//! its throttle. It returns whether the rule matched and the events to fire with; firing, tracing and
//! counting are the caller's.

use std::sync::Arc;

use jmespath::Rcvar;

use super::{Document, Engine, Outcome, RuleCondition, RuleError, RuleState, group_key, throttled};
use crate::condition::Expr;
use crate::event::Event;
use crate::rulebook::duration::millis;

impl Engine {
    pub(super) fn evaluate_rule(
        &mut self,
        r: usize,
        i: usize,
        doc: &Document,
        event: &Event,
        now: i64,
        outcome: &mut Outcome,
    ) -> (bool, Option<Vec<Rcvar>>) {
        let book = Arc::clone(&self.rulebook);
        let ruleset = &book.rulesets[r];
        let rule = &ruleset.rules[i];
        let source = if rule.keeps_state() {
            self.source_of(&event.meta)
        } else {
            None
        };
        let mut eval = |expr: &Expr, doc: &Rcvar| match expr.is_true(doc) {
            Ok(matched) => matched,
            Err(err) => {
                outcome.errors.push(RuleError {
                    ruleset: ruleset.name.clone(),
                    rule: rule.name.clone(),
                    message: err.to_string(),
                });
                false
            }
        };
        match (&rule.condition, &mut self.state[r].rules[i]) {
            (RuleCondition::Single(expr), state) => {
                let matched = eval(expr, doc.base());
                let fired = if !matched {
                    None
                } else if let (Some(throttle), RuleState::Throttle(state)) = (&rule.throttle, state)
                {
                    let key = group_key(&throttle.group_by, doc.base());
                    throttled(throttle, state, &key, source, event, now, outcome)
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
        }
    }
}
