//! Compiles a ruleset's `inhibit` block: source and target names must be rules of the same ruleset
//! (with a "did you mean"), a rule cannot inhibit itself, `equal` expressions are JMESPath on the
//! firing document, and `for` is a duration (Alertmanager's `resolve_timeout` default of 5 minutes).
//! The state and the decision live in `suppress`.

use std::time::Duration;

use super::FIRING_ROOTS;
use super::compile::Compiler;
use super::de::Located;
use super::diagnostic::Diagnostic;
use super::duration;
use super::model::Inhibit;
use super::spec::InhibitSpec;
use super::yaml::{Node, NodeKind};
use crate::condition::Expr;
use crate::condition::suggest;

/// How long a source firing counts as active when `for` is not given.
const DEFAULT_ACTIVE_FOR: Duration = Duration::from_secs(5 * 60);

impl Compiler<'_> {
    /// `rules` are the ruleset's raw rule nodes, so a rule with an error elsewhere still has a name.
    pub(super) fn inhibit(
        &mut self,
        specs: &[Located<InhibitSpec>],
        rules: &[Node],
    ) -> Vec<Inhibit> {
        let names: Vec<&str> = rules
            .iter()
            .filter_map(|rule| match &rule.get("name")?.kind {
                NodeKind::Str(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        specs
            .iter()
            .filter_map(|spec| self.one_inhibit(&spec.value, &names))
            .collect()
    }

    fn one_inhibit(&mut self, spec: &InhibitSpec, names: &[&str]) -> Option<Inhibit> {
        let mut ok = self.known_rule(&spec.source, names);
        if spec.targets.is_empty() {
            self.errors
                .push(Diagnostic::new(spec.source.pos, "`targets` is empty"));
            ok = false;
        }
        for target in &spec.targets {
            ok &= self.known_rule(target, names);
            if target.value == spec.source.value {
                self.errors.push(Diagnostic::new(
                    target.pos,
                    format!("rule `{}` cannot inhibit itself", target.value),
                ));
                ok = false;
            }
        }
        let equal: Vec<Option<Expr>> = spec.equal.iter().map(|e| self.firing_expr(e)).collect();
        let active_for = match &spec.active_for {
            None => Some(DEFAULT_ACTIVE_FOR),
            Some(value) => duration::parse(&value.value)
                .map_err(|message| self.errors.push(Diagnostic::new(value.pos, message)))
                .ok(),
        };
        let equal = equal.into_iter().collect::<Option<Vec<Expr>>>()?;
        Some(Inhibit {
            source: spec.source.value.clone(),
            targets: spec.targets.iter().map(|t| t.value.clone()).collect(),
            equal,
            active_for: active_for?,
        })
        .filter(|_| ok)
    }

    fn known_rule(&mut self, name: &Located<String>, names: &[&str]) -> bool {
        if names.contains(&name.value.as_str()) {
            return true;
        }
        let hint = suggest::closest(&name.value, names)
            .map(|n| format!(", did you mean `{n}`?"))
            .unwrap_or_default();
        self.errors.push(
            Diagnostic::new(
                name.pos,
                format!("no rule named `{}` in this ruleset{hint}", name.value),
            )
            .with_width(name.value.chars().count()),
        );
        false
    }

    fn firing_expr(&mut self, text: &Located<String>) -> Option<Expr> {
        let compiled = Expr::compile_for(&text.value, FIRING_ROOTS);
        self.checked(compiled, &text.value, text.pos)
    }
}
