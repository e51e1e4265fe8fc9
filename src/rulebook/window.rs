//! Compiles a rule's `window` block, `resolve_when` and `max_keys`: picks the window's form from the
//! keys present, rejects conflicting ones, and checks that `fire_when` and `resolve_when` read only
//! window values the form provides. Evaluating windows is the engine's job.

use super::compile::Compiler;
use super::de::Located;
use super::diagnostic::Diagnostic;
use super::model::{Throttle, ThrottleMode, Window, WindowForm};
use super::spec::{DirectionSpec, RuleSpec, WindowSpec};
use super::yaml::Pos;
use crate::condition::Expr;

/// Group keys per rule unless `max_keys` says otherwise.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Window values every form gives conditions (templates also get `key`).
const COMMON_FIELDS: &[&str] = &[
    "count", "sum", "avg", "min", "max", "p50", "p90", "p95", "p99", "first_ms", "last_ms",
];
const CHANGE_FIELDS: &[&str] = &["previous", "current", "changes"];
const SPIKE_FIELDS: &[&str] = &["baseline", "ratio"];
const PERCENTILES: &[&str] = &["p50", "p90", "p95", "p99"];
/// Fields that aggregate `value`: `null` without one, so reading them is a mistake.
const VALUE_FIELDS: &[&str] = &["sum", "avg", "min", "max", "p50", "p90", "p95", "p99"];

impl Compiler<'_> {
    /// `None` when the block has an error, `Some(None)` for a rule without a window.
    pub(super) fn rule_window(
        &mut self,
        spec: &RuleSpec,
        multi: bool,
        throttle: Option<&Throttle>,
    ) -> Option<Option<Window>> {
        let Some(located) = &spec.window else {
            if let Some(resolve) = &spec.resolve_when {
                self.errors.push(Diagnostic::new(
                    resolve.pos,
                    "`resolve_when` needs a `window` on the rule",
                ));
                return None;
            }
            return Some(None);
        };
        if multi {
            self.errors.push(Diagnostic::new(
                located.pos,
                "`window` works only with a single condition",
            ));
            return None;
        }
        if let Some(throttle) = throttle
            && (!matches!(throttle.mode, ThrottleMode::OnceWithin(_))
                || !throttle.group_by.is_empty())
        {
            let pos = spec.throttle.as_ref().map_or(located.pos, |t| t.pos);
            self.errors.push(Diagnostic::new(
                pos,
                "with a `window`, `throttle` takes only `once_within` (the window's `group_by` applies)",
            ));
            return None;
        }
        self.window(located, spec.resolve_when.as_ref()).map(Some)
    }

    pub(super) fn max_keys(&mut self, spec: &RuleSpec) -> usize {
        match &spec.max_keys {
            None => DEFAULT_MAX_KEYS,
            Some(n) if n.value == 0 => {
                self.errors
                    .push(Diagnostic::new(n.pos, "`max_keys` must be at least 1"));
                DEFAULT_MAX_KEYS
            }
            Some(n) => usize::try_from(n.value).unwrap_or(usize::MAX),
        }
    }

    fn window(
        &mut self,
        located: &Located<WindowSpec>,
        resolve_when: Option<&Located<String>>,
    ) -> Option<Window> {
        let spec = &located.value;
        let form = self.window_form(located)?;
        if let (WindowForm::Absence(_), Some(resolve)) = (&form, resolve_when) {
            return self.window_error(
                resolve.pos,
                "an `absent_for` window resolves when the key reports again; it takes no `resolve_when`",
            );
        }
        let size = match &spec.size {
            Some(size) => Some(self.duration(size)?),
            None => None,
        };
        let value = match &spec.value {
            Some(v) => Some(self.expr(&v.value, v.pos)?),
            None => None,
        };
        let group_by: Vec<Option<Expr>> = spec
            .group_by
            .iter()
            .map(|g| self.expr(&g.value, g.pos))
            .collect();
        let fields = window_fields(&form, spec.value.is_some());
        let fire_when = match &spec.fire_when {
            Some(text) => Some(self.window_expr(text, &fields)?),
            None => None,
        };
        let resolve_when = match resolve_when {
            Some(text) => Some(self.window_expr(text, &fields)?),
            None => None,
        };
        let percentiles = [&fire_when, &resolve_when].into_iter().flatten().any(|e| {
            e.fields_under("window")
                .iter()
                .any(|(_, f)| PERCENTILES.contains(&f.as_str()))
        });
        Some(Window {
            group_by: group_by.into_iter().collect::<Option<_>>()?,
            form,
            size,
            value,
            fire_when,
            resolve_when,
            percentiles,
        })
    }

    /// The form, from which of `absent_for`, `change`, `spike` is present (none: a threshold window),
    /// with each form's required and forbidden keys checked.
    fn window_form(&mut self, located: &Located<WindowSpec>) -> Option<WindowForm> {
        let spec = &located.value;
        let present: Vec<&str> = [
            ("absent_for", spec.absent_for.is_some()),
            ("change", spec.change.is_some()),
            ("spike", spec.spike.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if present.len() > 1 {
            return self.window_error(
                located.pos,
                format!(
                    "a window has one of `absent_for`, `change`, `spike`, found `{}`",
                    present.join("`, `")
                ),
            );
        }
        if let Some(absent_for) = &spec.absent_for {
            let extra = [
                ("size", spec.size.is_some()),
                ("value", spec.value.is_some()),
                ("fire_when", spec.fire_when.is_some()),
            ]
            .into_iter()
            .find(|(_, set)| *set);
            if let Some((key, _)) = extra {
                return self.window_error(
                    located.pos,
                    format!(
                        "`absent_for` takes no `{key}`: it fires when a key gets no event at all"
                    ),
                );
            }
            return Some(WindowForm::Absence(self.duration(absent_for)?));
        }
        if let Some(change) = &spec.change {
            return Some(WindowForm::Change(self.expr(&change.value, change.pos)?));
        }
        if spec.size.is_none() {
            return self.window_error(
                located.pos,
                "a window needs `size` (or `absent_for`, or `change`)",
            );
        }
        if let Some(spike) = &spec.spike {
            let factor = spike.value.factor.value;
            if !(factor.is_finite() && factor > 1.0) {
                return self.window_error(
                    spike.value.factor.pos,
                    format!("`factor` must be a number above 1, found {factor}"),
                );
            }
            let down = spike.value.direction == Some(DirectionSpec::Down);
            return Some(WindowForm::Spike { factor, down });
        }
        if spec.fire_when.is_none() {
            return self.window_error(
                located.pos,
                "a window with `size` needs `fire_when` (e.g. window.count >= `5`), or `spike`",
            );
        }
        Some(WindowForm::Threshold)
    }

    fn window_error<T>(&mut self, pos: Pos, message: impl Into<String>) -> Option<T> {
        self.errors.push(Diagnostic::new(pos, message));
        None
    }

    /// Compiles `fire_when`/`resolve_when` with `window` in the document and checks its fields.
    fn window_expr(&mut self, text: &Located<String>, fields: &[&str]) -> Option<Expr> {
        let compiled = Expr::compile_with(&text.value, &["window"]);
        let expr = self.checked(compiled, &text.value, text.pos)?;
        for (offset, field) in expr.fields_under("window") {
            if !fields.contains(&field.as_str()) {
                let at = super::position::inside_scalar(self.source, text.pos, &text.value, offset);
                let hint = crate::condition::suggest::closest(&field, fields)
                    .map(|f| format!(", did you mean `{f}`?"))
                    .unwrap_or_else(|| format!("; it has {}", fields.join(", ")));
                return self.window_error(at, format!("this window has no `{field}`{hint}"));
            }
        }
        Some(expr)
    }
}

/// The fields conditions may read; the aggregates of `value` only when there is one.
fn window_fields(form: &WindowForm, value: bool) -> Vec<&'static str> {
    let mut fields: Vec<&str> = COMMON_FIELDS
        .iter()
        .copied()
        .filter(|f| value || VALUE_FIELDS.iter().all(|v| v != f))
        .collect();
    match form {
        WindowForm::Change(_) => fields.extend(CHANGE_FIELDS),
        WindowForm::Spike { .. } => fields.extend(SPIKE_FIELDS),
        WindowForm::Threshold | WindowForm::Absence(_) => {}
    }
    fields
}
