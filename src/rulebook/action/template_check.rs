//! What is known about a template before any event: every variable it starts from is one the firing
//! context has ([`TEMPLATE_ROOTS`]), every filter and test exists, and every `vars.NAME` is a var of
//! the ruleset. A mistake here would otherwise only show as an undefined value on the first firing,
//! or never (a branch that rarely runs). It also names the variable an undefined-value error is
//! about. It checks; compiling and rendering are [`super::template`]'s.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{Environment, ErrorKind, Value as JinjaValue};

use super::template_names::{NameKind, NameUse, names};
use crate::condition::suggest::closest;

/// The variables of a firing's render context (built in `engine::document`).
pub const TEMPLATE_ROOTS: &[&str] = &[
    "event",
    "events",
    "meta",
    "vars",
    "facts",
    "rule",
    "ruleset",
    "idempotency_key",
    "env",
    "status",
    "resolved",
    "window",
];

/// Where templates are compiled: the rulebook's text (to point into a string) and what its templates
/// may refer to besides the fixed roots.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub source: &'a str,
    /// The ruleset's `vars` (an object, or null when it has none).
    pub vars: &'a serde_json::Value,
}

/// A name a template cannot use, `offset` characters into its text.
#[derive(Debug, Clone, PartialEq)]
pub struct NameError {
    pub offset: usize,
    /// Characters of the name, for the caret.
    pub width: usize,
    pub message: String,
}

/// Remembers which filters and tests exist, asked of the environment once per name.
#[derive(Debug, Default)]
pub struct Known {
    filters: BTreeMap<String, bool>,
    tests: BTreeMap<String, bool>,
}

impl Known {
    /// Every name in `text` that cannot resolve. `variables` are the template's undeclared variables
    /// (minijinja's scoping: loop variables and `set` names are not among them), `paths` the same
    /// with their attribute chains (`vars.loss_pct`).
    pub fn check(
        &mut self,
        env: &Environment<'_>,
        text: &str,
        variables: &BTreeSet<String>,
        paths: &BTreeSet<String>,
        scope: Scope<'_>,
    ) -> Vec<NameError> {
        let uses = names(text);
        let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
        let mut errors = Vec::new();
        for variable in variables {
            if !TEMPLATE_ROOTS.contains(&variable.as_str()) && !globals.contains(variable.as_str())
            {
                let hint = closest(variable, TEMPLATE_ROOTS)
                    .map(|root| format!(" (did you mean `{root}`?)"))
                    .unwrap_or_default();
                errors.push(NameError {
                    offset: first_use(&uses, NameKind::Variable, variable),
                    width: variable.chars().count(),
                    message: format!(
                        "`{variable}` is not defined in templates{hint}; they can use {}",
                        TEMPLATE_ROOTS.join(", ")
                    ),
                });
            }
        }
        errors.extend(unknown_vars(&uses, paths, scope));
        for name_use in &uses {
            let exists = match name_use.kind {
                NameKind::Filter => {
                    exists(&mut self.filters, env, &name_use.name, "{{ 0 | NAME }}")
                }
                NameKind::Test => exists(&mut self.tests, env, &name_use.name, "{{ 0 is NAME }}"),
                NameKind::Variable => true,
            };
            if !exists {
                let what = if name_use.kind == NameKind::Filter {
                    "filter"
                } else {
                    "test"
                };
                errors.push(NameError {
                    offset: name_use.offset,
                    width: name_use.name.chars().count(),
                    message: format!("there is no {what} `{}`", name_use.name),
                });
            }
        }
        errors.sort_by_key(|error| error.offset);
        errors
    }
}

/// `vars.NAME` where the ruleset has no var `NAME`.
fn unknown_vars(uses: &[NameUse], paths: &BTreeSet<String>, scope: Scope<'_>) -> Vec<NameError> {
    let declared: Vec<&str> = scope
        .vars
        .as_object()
        .map(|vars| vars.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut reported = BTreeSet::new();
    let mut errors = Vec::new();
    for path in paths {
        let Some(name) = path
            .strip_prefix("vars.")
            .and_then(|rest| rest.split('.').next())
        else {
            continue;
        };
        if declared.contains(&name) || !reported.insert(name) {
            continue;
        }
        let hint = closest(name, &declared)
            .map(|known| format!(" (did you mean `vars.{known}`?)"))
            .unwrap_or_default();
        let listed = if declared.is_empty() {
            "it has none".to_owned()
        } else {
            format!("it has {}", declared.join(", "))
        };
        errors.push(NameError {
            offset: first_use(uses, NameKind::Variable, "vars"),
            width: "vars.".len() + name.chars().count(),
            message: format!("`vars.{name}` is not a var of this ruleset{hint}; {listed}"),
        });
    }
    errors
}

fn first_use(uses: &[NameUse], kind: NameKind, name: &str) -> usize {
    uses.iter()
        .find(|found| found.kind == kind && found.name == name)
        .map_or(0, |found| found.offset)
}

/// Whether the filter or test `name` exists, by rendering a probe that uses it: minijinja resolves
/// filters and tests only when they run, and offers no lookup.
fn exists(
    cache: &mut BTreeMap<String, bool>,
    env: &Environment<'_>,
    name: &str,
    probe: &str,
) -> bool {
    if let Some(known) = cache.get(name) {
        return *known;
    }
    let outcome = env.render_str(&probe.replace("NAME", name), ());
    let known = !matches!(
        outcome.map_err(|err| err.kind()),
        Err(ErrorKind::UnknownFilter | ErrorKind::UnknownTest)
    );
    cache.insert(name.to_owned(), known);
    known
}

/// The first of `paths` (dotted, as minijinja lists them) that is undefined in `context`, written
/// up to the first missing step: `event.lossPercnt` for `event.lossPercnt.value`.
pub fn undefined_path(paths: &BTreeSet<String>, context: &JinjaValue) -> Option<String> {
    paths.iter().find_map(|path| {
        let mut value = context.clone();
        let mut walked = Vec::new();
        for step in path.split('.') {
            walked.push(step);
            value = value.get_attr(step).ok()?;
            if value.is_undefined() {
                return Some(walked.join("."));
            }
        }
        None
    })
}
