//! Turning a match into a [`Firing`]: the idempotency key, suppression (silences, inhibition), the
//! rendered actions, and the engine's own actions (`set_fact`, `retract_fact`, `post_event`), which
//! apply even to a suppressed firing. It decides nothing about whether a rule matched.

use std::collections::VecDeque;
use std::sync::Arc;

use jmespath::Rcvar;

use super::{Engine, Firing, Outcome, RuleError, RuleState, WindowFiring, document};
use crate::event::Event;
use crate::rulebook::action::{ActionKind, FiringStatus, Notice, RenderedAction};
use crate::suppress::{FiringView, SuppressReason, Suppressed};

impl Engine {
    #[allow(clippy::too_many_arguments)] // one firing's full context; splitting it would only add a struct
    pub(super) fn fire(
        &mut self,
        r: usize,
        i: usize,
        events: Vec<Rcvar>,
        meta: &Rcvar,
        now: i64,
        window: Option<WindowFiring>,
        outcome: &mut Outcome,
        queue: &mut VecDeque<(Option<usize>, Event)>,
    ) {
        let book = Arc::clone(&self.rulebook);
        let ruleset = &book.rulesets[r];
        let rule = &ruleset.rules[i];
        self.stats.fired(r, i);
        let env = Arc::clone(&self.env);
        let status = window.as_ref().map_or(FiringStatus::Firing, |w| w.status);
        let idempotency_key = match &window {
            Some(w) => document::window_idempotency_key(meta, ruleset, rule, &w.key, status, now),
            None => document::idempotency_key(meta, &ruleset.name, &rule.name, now),
        };
        let view = FiringView {
            ruleset: &ruleset.name,
            rule: &rule.name,
            events: &events,
            vars: &ruleset.vars,
            status,
        };
        let mut decision = self.suppressor.decide(r, &view, now);
        if let (Some(w), RuleState::Window(state)) = (&window, &mut self.state[r].rules[i]) {
            let firing_muted = state.follow_mute(&w.key, status, decision.reason.is_some());
            if firing_muted && decision.reason.is_none() {
                decision.reason = Some(SuppressReason::FiringNotSent);
            }
        }
        outcome
            .errors
            .extend(decision.errors.into_iter().map(|message| RuleError {
                ruleset: ruleset.name.clone(),
                rule: rule.name.clone(),
                message,
            }));
        let context = document::render_context(
            ruleset,
            rule,
            &events,
            meta,
            self.state[r].facts.map(),
            &idempotency_key,
            &env,
            status,
            window.as_ref().map(|w| &w.window),
        );
        let alert_key = window
            .as_ref()
            .map(|w| document::alert_key(ruleset, rule, &w.key));
        let notice = alert_key
            .as_deref()
            .map(|alert_key| Notice { status, alert_key });
        let mut actions = Vec::with_capacity(rule.actions.len());
        for action in &rule.actions {
            let rendered = action.render(&book.templates, &context, notice);
            if let Ok(done) = &rendered {
                let target = match &action.target.ruleset {
                    Some(name) => book
                        .rulesets
                        .iter()
                        .position(|rs| &rs.name == name)
                        .unwrap_or(r),
                    None => r,
                };
                self.apply_engine_action(done, target, action.target.partial, meta, now, queue);
            }
            actions.push(rendered);
        }
        // Alertmanager mutes notifications, not the rule engine: engine actions above still applied.
        if let Some(reason) = decision.reason {
            outcome.suppressed.push(Suppressed {
                ruleset: ruleset.name.clone(),
                rule: rule.name.clone(),
                reason,
                time_ms: now,
                idempotency_key,
            });
            return;
        }
        outcome.firings.push(Firing {
            ruleset: ruleset.name.clone(),
            rule: rule.name.clone(),
            events,
            meta: meta.clone(),
            time_ms: now,
            idempotency_key,
            actions,
            status,
            group_key: window.map(|w| w.key.to_string()),
        });
    }

    fn apply_engine_action(
        &mut self,
        action: &RenderedAction,
        target: usize,
        partial: bool,
        meta: &Rcvar,
        now: i64,
        queue: &mut VecDeque<(Option<usize>, Event)>,
    ) {
        let facts = &mut self.state[target].facts;
        match action.kind {
            ActionKind::SetFact => {
                if let Some(serde_json::Value::Object(fact)) = action.args.get("fact") {
                    facts.set(fact);
                }
            }
            ActionKind::RetractFact => {
                if let Some(serde_json::Value::Object(fact)) = action.args.get("fact") {
                    facts.retract(fact, partial);
                }
            }
            ActionKind::PostEvent => {
                let payload = action.args.get("event").cloned().unwrap_or_default();
                let event = Event {
                    payload: Arc::new(
                        jmespath::Variable::try_from(payload).unwrap_or(jmespath::Variable::Null),
                    ),
                    meta: meta.clone(),
                    time_ms: Some(now),
                };
                queue.push_back((Some(target), event));
            }
            _ => {}
        }
    }
}
