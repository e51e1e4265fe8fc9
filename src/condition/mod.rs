//! Conditions: JMESPath expressions compiled once at load ([`Expr`]), evaluated against the document
//! `{event, events, meta, vars, facts}`, plus semaphore's custom functions ([`functions`]) and the
//! `--explain` reasons ([`explain`]), and the "did you mean" of every located error ([`suggest`]).
//! It owns expression semantics, not rules or state.

mod explain;
mod expr;
mod fast;
pub mod functions;
pub(crate) mod fuzzy;
pub mod suggest;
mod time;

pub use explain::{explain, text as expression_text};
pub use expr::{CompileError, EvalError, Expr, ROOTS};
pub use functions::with_clock;

/// The closest known function name to a misspelt one, builtins included.
fn suggest_function(name: &str) -> Option<String> {
    const BUILTINS: &[&str] = &[
        "abs",
        "avg",
        "ceil",
        "contains",
        "ends_with",
        "floor",
        "join",
        "keys",
        "length",
        "map",
        "max",
        "max_by",
        "merge",
        "min",
        "min_by",
        "not_null",
        "reverse",
        "sort",
        "sort_by",
        "starts_with",
        "sum",
        "to_array",
        "to_number",
        "to_string",
        "type",
        "values",
    ];
    let candidates: Vec<&str> = BUILTINS
        .iter()
        .chain(functions::CUSTOM_FUNCTIONS)
        .copied()
        .collect();
    crate::condition::suggest::closest(name, &candidates).map(str::to_owned)
}
