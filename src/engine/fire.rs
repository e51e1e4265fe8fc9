//! Turning a match into a [`Firing`]: the idempotency key, suppression (silences, inhibition), the
//! rendered actions, and the engine's own actions (`set_fact`, `retract_fact`, `post_event`), which
//! apply even to a suppressed firing. It decides nothing about whether a rule matched.

use std::sync::Arc;

use jmespath::{Rcvar, Variable};
use serde::Deserialize;
use serde_json::Value;

use super::document::{self, FiringDocument};
use super::step::{Arrival, Posted, Step};
use super::{EngineState, Firing, Match, RuleAt, RuleState};
use crate::event::{Event, Origin};
use crate::rulebook::Ruleset;
use crate::rulebook::action::spec::{PostEventSpec, RetractFactSpec, SetFactSpec};
use crate::rulebook::action::{Action, ActionKind, Notice, RenderError, RenderedAction};
use crate::suppress::{FiringView, SuppressReason, Suppressed};

impl EngineState {
    /// Fires rule `at` with `found`, at engine time `time_ms`.
    pub(super) fn fire(&mut self, step: &mut Step<'_>, at: RuleAt, found: Match<'_>, time_ms: i64) {
        let book = step.book;
        let ruleset = &book.rulesets[at.ruleset];
        let rule = &ruleset.rules[at.rule];
        self.stats.fired(at.ruleset, at.rule);
        let status = found.status();
        let origin = found.trigger.and_then(|event| event.origin.as_ref());
        let idempotency_key =
            document::idempotency_key(origin, ruleset, rule, found.group(), status, time_ms);
        let reason = self.suppression(step, at, &found, time_ms);
        let actions = self.render_actions(step, at, &found, &idempotency_key, time_ms);
        // Alertmanager mutes notifications, not the rule engine: engine actions above still applied.
        if let Some(reason) = reason {
            step.outcome.suppressed.push(Suppressed {
                ruleset: ruleset.name.clone(),
                rule: rule.name.clone(),
                reason,
                time_ms,
                idempotency_key,
            });
            return;
        }
        let group_key = found.group().map(str::to_owned);
        step.outcome.firings.push(Firing {
            ruleset: ruleset.name.clone(),
            rule: rule.name.clone(),
            events: found.events,
            origin: origin.cloned(),
            time_ms,
            idempotency_key,
            actions,
            status,
            group_key,
            strategy: ruleset.execution_strategy,
        });
    }

    /// Why the firing is not sent (a silence, an inhibition, a muted firing's resolve), if it is not.
    fn suppression(
        &mut self,
        step: &mut Step<'_>,
        at: RuleAt,
        found: &Match<'_>,
        time_ms: i64,
    ) -> Option<SuppressReason> {
        let status = found.status();
        let ruleset = &step.book.rulesets[at.ruleset];
        let view = FiringView {
            ruleset: &ruleset.name,
            rule: &ruleset.rules[at.rule].name,
            events: &found.events,
            vars: &ruleset.vars,
            status,
        };
        let decision = self.suppressor.decide(at.ruleset, &view, time_ms);
        for message in decision.errors {
            step.error(at, message);
        }
        let mut reason = decision.reason;
        if let (Some(w), RuleState::Window(state)) =
            (&found.window, &mut self.rulesets[at.ruleset].rules[at.rule])
        {
            let firing_muted = state.follow_mute(&w.key, status, reason.is_some());
            if firing_muted && reason.is_none() {
                reason = Some(SuppressReason::FiringNotSent);
            }
        }
        reason
    }

    /// Renders every action of the rule; applies the engine actions among them right away.
    fn render_actions(
        &mut self,
        step: &mut Step<'_>,
        at: RuleAt,
        found: &Match<'_>,
        idempotency_key: &str,
        time_ms: i64,
    ) -> Vec<Result<RenderedAction, RenderError>> {
        let status = found.status();
        let book = step.book;
        let ruleset = &book.rulesets[at.ruleset];
        let rule = &ruleset.rules[at.rule];
        let meta = found
            .trigger
            .map_or_else(|| Arc::new(Variable::Null), Event::whole_meta);
        let meta = &meta;
        let firing = FiringDocument {
            ruleset,
            rule,
            events: &found.events,
            meta,
            facts: self.rulesets[at.ruleset].facts.map(),
            idempotency_key,
            status,
            window: found.window.as_ref().map(|w| &w.window),
        };
        let context = firing.render_context(&self.env);
        let alert_key = found
            .window
            .as_ref()
            .map(|w| document::alert_key(ruleset, rule, &w.key));
        let notice = alert_key
            .as_deref()
            .map(|alert_key| Notice { status, alert_key });
        let actions: Vec<_> = rule
            .actions
            .iter()
            .map(|action| action.render(&book.templates, &context, notice))
            .collect();
        // The context was built before any of them applied, so applying after rendering is the same.
        for (action, rendered) in rule.actions.iter().zip(&actions) {
            if let Ok(done) = rendered {
                let target = engine_target(book.rulesets.as_slice(), action, at.ruleset);
                let cause = Cause {
                    meta,
                    origin: found.trigger.and_then(|event| event.origin.as_ref()),
                    time_ms,
                };
                self.apply_engine_action(step, done, target, action.target.partial, cause);
            }
        }
        actions
    }

    fn apply_engine_action(
        &mut self,
        step: &mut Step<'_>,
        action: &RenderedAction,
        target: usize,
        partial: bool,
        cause: Cause<'_>,
    ) {
        let facts = &mut self.rulesets[target].facts;
        match action.kind {
            ActionKind::SetFact => {
                if let Ok(SetFactSpec {
                    fact: Value::Object(fact),
                    ..
                }) = SetFactSpec::deserialize(&action.args)
                {
                    facts.set(&fact);
                    // As in ansible-rulebook, the fact itself is matched by the rules, like an event.
                    post(step, target, Value::Object(fact), cause, Arrival::Fact);
                }
            }
            ActionKind::RetractFact => {
                if let Ok(RetractFactSpec {
                    fact: Value::Object(fact),
                    ..
                }) = RetractFactSpec::deserialize(&action.args)
                {
                    facts.retract(&fact, partial);
                    for rule in &mut self.rulesets[target].rules {
                        if let RuleState::All(pool) = rule {
                            pool.retract(|pooled| retracts(&fact, partial, pooled));
                        }
                    }
                }
            }
            ActionKind::PostEvent => {
                let payload = PostEventSpec::<Value>::deserialize(&action.args)
                    .map(|spec| spec.event)
                    .unwrap_or_default();
                post(step, target, payload, cause, Arrival::Event);
            }
            _ => {}
        }
    }
}

/// Queues `payload` for ruleset `target`, after the event being evaluated. It is part of its
/// cause: same meta and record, numbered in the step.
fn post(step: &mut Step<'_>, target: usize, payload: Value, cause: Cause<'_>, arrival: Arrival) {
    step.posted_count = step.posted_count.saturating_add(1);
    let origin = cause.origin.map(|origin| Origin {
        posted: step.posted_count,
        ..origin.clone()
    });
    let event = Event::new(
        Arc::new(Variable::try_from(payload).unwrap_or(Variable::Null)),
        cause.meta.clone(),
        Some(cause.time_ms),
        origin,
    );
    step.posted.push_back(Posted {
        target: Some(target),
        event,
        arrival,
    });
}

/// Whether retracting `fact` removes the pooled fact `pooled`: with `partial`, when every key of
/// `fact` has the same value in it; without, when it is the same fact.
fn retracts(fact: &serde_json::Map<String, Value>, partial: bool, pooled: &Rcvar) -> bool {
    let Ok(Value::Object(pooled)) = serde_json::to_value(&**pooled) else {
        return false;
    };
    if partial {
        fact.iter()
            .all(|(key, value)| pooled.get(key) == Some(value))
    } else {
        *fact == pooled
    }
}

/// What caused a firing, for the events it posts: the meta and record of the event that completed
/// the match (null and none for the clock), and when.
#[derive(Clone, Copy)]
struct Cause<'e> {
    meta: &'e Rcvar,
    origin: Option<&'e Origin>,
    time_ms: i64,
}

/// The ruleset an engine action applies to: the one it names, else the rule's own.
fn engine_target(rulesets: &[Ruleset], action: &Action, own: usize) -> usize {
    match &action.target.ruleset {
        Some(name) => rulesets
            .iter()
            .position(|rs| &rs.name == name)
            .unwrap_or(own),
        None => own,
    }
}
