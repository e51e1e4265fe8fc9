//! The engine side of window rules: evaluates the condition, computes the group key and the value,
//! hands them to the rule's [`WindowState`], and fires with `status: firing` or `resolved`. Also
//! finds the source partition of an event, which every keyed state records for the changelog.

use std::collections::VecDeque;
use std::sync::Arc;

use jmespath::Rcvar;

use super::{
    Decision, Document, Engine, FiringStatus, Judge, Outcome, RuleError, RuleState, ThrottleMode,
    WindowFiring, WindowForm, group_key,
};
use crate::condition::Expr;
use crate::event::Event;
use crate::rulebook::duration::millis;

use super::store::SourcePartition;

impl Engine {
    /// Feeds `event` to window rule `i` of ruleset `r`. Returns (matched, fired).
    #[allow(clippy::too_many_arguments)] // the evaluation context of one event
    pub(super) fn window_event(
        &mut self,
        r: usize,
        i: usize,
        doc: &Document,
        event: &Event,
        now: i64,
        outcome: &mut Outcome,
        queue: &mut VecDeque<(Option<usize>, Event)>,
    ) -> (bool, bool) {
        let book = Arc::clone(&self.rulebook);
        let ruleset = &book.rulesets[r];
        let rule = &ruleset.rules[i];
        let (crate::rulebook::RuleCondition::Single(condition), Some(window)) =
            (&rule.condition, &rule.window)
        else {
            return (false, false);
        };
        let mut errors = Vec::new();
        let mut eval = |expr: &Expr, doc: &Rcvar| {
            expr.is_true(doc).unwrap_or_else(|err| {
                errors.push(err.to_string());
                false
            })
        };
        if !eval(condition, doc.base()) {
            self.report(r, i, errors, outcome);
            return (false, false);
        }
        let value = match window_input(window, doc.base()) {
            Ok(value) => value,
            Err(message) => {
                errors.push(message);
                self.report(r, i, errors, outcome);
                return (true, false);
            }
        };
        let key = group_key(&window.group_by, doc.base());
        let source = self.source_of(&event.meta);
        let once_within_ms = match rule.throttle.as_ref().map(|t| t.mode) {
            Some(ThrottleMode::OnceWithin(d)) => Some(millis(d)),
            _ => None,
        };
        let RuleState::Window(state) = &mut self.state[r].rules[i] else {
            return (true, false);
        };
        let mut judge_eval = |expr: &Expr, window: &Rcvar| eval(expr, &doc.with_window(window));
        let mut judge = Judge {
            eval: &mut judge_eval,
            once_within_ms,
            meta: &event.meta,
        };
        let (decision, seen) = state.on_event(
            window,
            &key,
            source,
            &event.payload,
            value.as_ref(),
            now,
            &mut judge,
        );
        let status = match decision {
            Decision::Fire => Some(FiringStatus::Firing),
            Decision::Resolve => Some(FiringStatus::Resolved),
            Decision::Throttled => {
                outcome.throttled += 1;
                None
            }
            Decision::Quiet => None,
        };
        let firing = status.map(|status| WindowFiring {
            status,
            window: state.template_value(window, &key, &seen),
            key: Arc::from(key.as_str()),
        });
        self.report(r, i, errors, outcome);
        let fired = firing.is_some();
        if let Some(firing) = firing {
            let events = vec![event.payload.clone()];
            self.fire(r, i, events, &event.meta, now, Some(firing), outcome, queue);
        }
        (true, fired)
    }

    fn report(&self, r: usize, i: usize, errors: Vec<String>, outcome: &mut Outcome) {
        let ruleset = &self.rulebook.rulesets[r];
        outcome
            .errors
            .extend(errors.into_iter().map(|message| RuleError {
                ruleset: ruleset.name.clone(),
                rule: ruleset.rules[i].name.clone(),
                message,
            }));
    }

    /// `meta.topic` and `meta.partition`, shared with the previous event's when they are the same.
    pub(super) fn source_of(&mut self, meta: &Rcvar) -> Option<Arc<SourcePartition>> {
        let meta = meta.as_object()?;
        let topic = meta.get("topic")?.as_string()?;
        let partition = i32::try_from(meta.get("partition")?.as_number()? as i64).ok()?;
        if let Some(last) = &self.last_source
            && last.partition == partition
            && &last.topic == topic
        {
            return Some(Arc::clone(last));
        }
        let source = Arc::new(SourcePartition {
            topic: topic.clone(),
            partition,
        });
        self.last_source = Some(Arc::clone(&source));
        Some(source)
    }
}

/// The per-event input of the window: the `change` value, or the `value` number.
fn window_input(window: &crate::rulebook::Window, doc: &Rcvar) -> Result<Option<Rcvar>, String> {
    let expr = match &window.form {
        WindowForm::Change(expr) => expr,
        WindowForm::Absence(_) => return Ok(None),
        WindowForm::Threshold | WindowForm::Spike { .. } => match &window.value {
            Some(expr) => expr,
            None => return Ok(None),
        },
    };
    let value = expr.search(doc).map_err(|err| err.to_string())?;
    if !matches!(window.form, WindowForm::Change(_)) && value.as_number().is_none() {
        return Err(format!(
            "window value `{}` is not a number: {}",
            expr.source(),
            serde_json::to_string(&*value).unwrap_or_default()
        ));
    }
    Ok(Some(value))
}
