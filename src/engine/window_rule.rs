//! The engine side of window rules: evaluates the condition, computes the group key and the value,
//! hands them to the rule's [`WindowState`](super::WindowState), and fires with `status: firing` or
//! `resolved`. Also finds the source partition of an event, which every keyed state records for the
//! changelog.

use std::sync::Arc;

use jmespath::Rcvar;

use super::evaluate::Check;
use super::step::Step;
use super::store::SourcePartition;
use super::{
    Arrival, Decision, Document, EngineState, FiringStatus, Judge, Match, RuleAt, RuleState,
    ThrottleMode, WindowFiring, WindowForm, group_key,
};
use crate::condition::Expr;
use crate::event::Event;
use crate::rulebook::duration::millis;
use crate::rulebook::{RuleCondition, Window};

impl EngineState {
    /// Feeds `event` to a window rule. Returns (matched, fired).
    pub(super) fn window_event(
        &mut self,
        step: &mut Step<'_>,
        at: RuleAt,
        doc: &Document,
        event: &Event,
    ) -> (bool, bool) {
        let mut check = Check::default();
        let (matched, firing) = self.window_decision(step, at, doc, event, &mut check);
        check.report(step, at);
        let fired = firing.is_some();
        if let Some(window) = firing {
            let found = Match {
                events: vec![event.whole_payload()],
                trigger: Some(event),
                group: None,
                window: Some(window),
            };
            self.fire(step, at, found, step.now);
        }
        (matched, fired)
    }

    /// Whether the rule matched, and the notification its window decided on, if any.
    fn window_decision(
        &mut self,
        step: &mut Step<'_>,
        at: RuleAt,
        doc: &Document,
        event: &Event,
        check: &mut Check,
    ) -> (bool, Option<WindowFiring>) {
        let book = step.book;
        let rule = &book.rulesets[at.ruleset].rules[at.rule];
        let (RuleCondition::Single(condition), Some(window)) = (&rule.condition, &rule.window)
        else {
            return (false, None);
        };
        if !check.is_true(condition, doc.base()) {
            return (false, None);
        }
        let value = match window_input(window, doc.base()) {
            Ok(value) => value,
            Err(message) => {
                check.fail(message);
                return (true, None);
            }
        };
        let key = group_key(&window.group_by, doc.base());
        // The window keeps its last event for the clock's firings: the whole payload.
        let whole = event.whole_payload();
        let arrival = Arrival {
            key: &key,
            source: self.source_of(event),
            event: &whole,
            value: value.as_ref(),
            time_ms: step.now,
            origin: event.origin.as_ref(),
        };
        let RuleState::Window(state) = &mut self.rulesets[at.ruleset].rules[at.rule] else {
            return (true, None);
        };
        let mut judge_eval =
            |expr: &Expr, window: &Rcvar| check.is_true(expr, &doc.with_window(window));
        let mut judge = Judge {
            eval: &mut judge_eval,
            once_within_ms: match rule.throttle.as_ref().map(|t| t.mode) {
                Some(ThrottleMode::OnceWithin(d)) => Some(millis(d)),
                _ => None,
            },
        };
        let (decision, seen) = state.on_event(window, arrival, &mut judge);
        let status = match decision {
            Decision::Fire => FiringStatus::Firing,
            Decision::Resolve => FiringStatus::Resolved,
            Decision::Throttled => {
                step.outcome.throttled += 1;
                return (true, None);
            }
            Decision::Quiet => return (true, None),
        };
        let firing = WindowFiring {
            status,
            window: state.template_value(window, &key, &seen),
            key: Arc::from(key.as_str()),
        };
        (true, Some(firing))
    }

    /// The event's topic and partition, shared with the previous event's when they are the same.
    pub(super) fn source_of(&mut self, event: &Event) -> Option<Arc<SourcePartition>> {
        let origin = event.origin.as_ref()?;
        if let Some(last) = &self.last_source
            && last.partition == origin.partition
            && last.topic == origin.topic
        {
            return Some(Arc::clone(last));
        }
        let source = Arc::new(SourcePartition {
            topic: origin.topic.clone(),
            partition: origin.partition,
        });
        self.last_source = Some(Arc::clone(&source));
        Some(source)
    }
}

/// The per-event input of the window: the `change` value, or the `value` number.
fn window_input(window: &Window, doc: &Rcvar) -> Result<Option<Rcvar>, String> {
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
