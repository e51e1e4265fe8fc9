//! Rulebooks: YAML text to raw `*Spec` structs ([`spec`]) to a validated, compiled [`Rulebook`]
//! ([`model`]). Every problem of a file is reported at once as a located [`Diagnostic`], an error or
//! a warning (valid, but almost surely wrong; the compiled rulebook carries those). It also
//! compiles each rule's actions with the action model ([`action`]: kinds, templates, rendering)
//! and finds what the rules read of an event ([`Rulebook::reads`]).
//! It does not evaluate events (the engine does) and sends nothing (`actions` does).

pub mod action;
mod all_errors;
mod compile;
mod compile_expr;
mod compile_inhibit;
pub mod de;
mod diagnostic;
pub(crate) mod duration;
pub mod eda;
mod fingerprint;
mod located;
pub mod model;
pub(crate) mod position;
mod reads;
pub mod spec;
mod window;
pub mod yaml;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use model::{
    FIRING_ROOTS, Rule, RuleCondition, Rulebook, Ruleset, Throttle, ThrottleMode, Window,
    WindowForm,
};
pub use window::DEFAULT_MAX_KEYS;
pub use yaml::{Node, NodeKind, Pos};

use action::TemplateSet;

/// Parses and compiles rulebook text; `file` is the name used in messages. A valid rulebook carries
/// its warnings; an invalid one gives its errors and warnings together, in order of place.
pub fn compile(file: &str, source: &str) -> Result<Rulebook, Diagnostics> {
    compile_with_vars(file, source, &serde_json::Map::new())
}

/// [`compile`] with `extra_vars` merged over every ruleset's `vars` (they win), as the command line's
/// `--vars` and `--env-vars` are.
pub fn compile_with_vars(
    file: &str,
    source: &str,
    extra_vars: &serde_json::Map<String, serde_json::Value>,
) -> Result<Rulebook, Diagnostics> {
    let located = |items| Diagnostics {
        file: file.to_owned(),
        source: source.to_owned(),
        items,
    };
    let root =
        yaml::parse(source).map_err(|err| located(vec![Diagnostic::new(err.pos, err.message)]))?;
    let mut compiler = compile::Compiler {
        source,
        templates: TemplateSet::default(),
        errors: Vec::new(),
        warnings: Vec::new(),
        vars: compile::no_vars(),
        extra_vars,
    };
    let rulesets = compiler.rulesets(&root);
    let mut warnings = compiler.warnings;
    warnings.sort_by_key(|d| d.pos);
    if !compiler.errors.is_empty() {
        let mut items = compiler.errors;
        items.extend(warnings);
        items.sort_by_key(|d| d.pos);
        return Err(located(items));
    }
    Ok(Rulebook {
        reads: reads::event_reads(&rulesets),
        rulesets,
        templates: compiler.templates,
        warnings: if warnings.is_empty() {
            Diagnostics::none(file)
        } else {
            located(warnings)
        },
    })
}
