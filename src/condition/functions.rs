//! semaphore's custom JMESPath functions for network operators (regex, CIDR, fuzzy matching, time and
//! string helpers): their names, signatures, registration on a `jmespath::Runtime`, and the load-time
//! check of literal argument values that `rules check` runs. It also replaces the built-ins that
//! jmespath 0.5 gets wrong (`avg`) with the specification's behaviour.
//!
//! This module is the JMESPath glue only. The string-similarity algorithms live in `condition::fuzzy`,
//! timestamp parsing and the evaluation clock in `condition::time`; compiling and evaluating whole
//! conditions belongs to `condition`.

mod clock;
mod network;
mod numbers;
mod patterns;
mod presence;
mod strings;
#[cfg(test)]
mod testing;

use jmespath::functions::{ArgumentType, Function, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, RuntimeError, SearchResult, Variable};

use super::signature::Rest;
pub use super::time::with_clock;

/// Names of the custom functions, so the rulebook compiler can tell a known function from a typo.
pub const CUSTOM_FUNCTIONS: &[&str] = &[
    "regex_match",
    "regex_search",
    "cidr_contains",
    "fuzzy_ratio",
    "partial_ratio",
    "to_epoch",
    "now",
    "lower",
    "upper",
    "split",
    "replace",
    "has",
];

/// Built-ins registered again, over jmespath's own, with the specification's behaviour.
const SPEC_FIXES: &[&str] = &["avg"];

/// Registers every custom function and the fixed built-ins on `runtime` (which already has the
/// JMESPath builtins).
pub fn register(runtime: &mut jmespath::Runtime) {
    for name in CUSTOM_FUNCTIONS.iter().chain(SPEC_FIXES) {
        if let Some(definition) = definition(name) {
            runtime.register_function(name, Box::new(definition));
        }
    }
}

/// The argument types of a custom function, for `condition::signature`.
pub(super) fn signature(name: &str) -> Option<(Vec<ArgumentType>, Rest)> {
    if !CUSTOM_FUNCTIONS.contains(&name) {
        return None;
    }
    let (inputs, optional, _) = parts(name)?;
    Some((inputs, optional.map_or(Rest::Nothing, Rest::Optional)))
}

/// Load-time validation of a literal argument's value, for `rules check`: the checks the evaluators
/// make (a regex that does not compile, an invalid CIDR or address, an unreadable timestamp, an empty
/// separator, a string too long to compare), for a literal whose type the signature accepts.
pub(super) fn check_literal(name: &str, index: usize, value: &Variable) -> Result<(), BadArgument> {
    let Some(text) = value.as_string() else {
        return Ok(());
    };
    match (name, index) {
        ("regex_match" | "regex_search", 1) => patterns::check(text),
        ("cidr_contains", 0) => network::network(text).map(drop),
        ("cidr_contains", 1) => network::address(text).map(drop),
        ("to_epoch", 0) => clock::epoch(text).map(drop),
        ("split", 1) => strings::separator(text),
        ("fuzzy_ratio" | "partial_ratio", _) => strings::comparable(text, index).map(drop),
        _ => Ok(()),
    }
}

/// Evaluates a function on arguments that already passed its signature.
type Eval = fn(&[Rcvar]) -> Result<Variable, BadArgument>;

fn definition(name: &str) -> Option<Definition> {
    let (inputs, optional, eval) = parts(name)?;
    Some(Definition::new(inputs, optional, eval))
}

/// A function's fixed argument types, its optional last argument and its evaluator.
fn parts(name: &str) -> Option<(Vec<ArgumentType>, Option<ArgumentType>, Eval)> {
    use ArgumentType::{Bool, Number, String as Text};
    let numbers = ArgumentType::TypedArray(Box::new(Number));
    let (inputs, optional, eval): (_, _, Eval) = match name {
        "regex_match" => (vec![Text, Text], Some(Bool), patterns::regex_match),
        "regex_search" => (vec![Text, Text], Some(Bool), patterns::regex_search),
        "cidr_contains" => (vec![Text, Text], None, network::cidr_contains),
        "fuzzy_ratio" => (vec![Text, Text], None, strings::fuzzy_ratio),
        "partial_ratio" => (vec![Text, Text], None, strings::partial_ratio),
        "to_epoch" => (
            vec![ArgumentType::Union(vec![Text, Number])],
            None,
            clock::to_epoch,
        ),
        "now" => (vec![], None, clock::now),
        "lower" => (vec![Text], None, strings::lower),
        "upper" => (vec![Text], None, strings::upper),
        "split" => (vec![Text, Text], None, strings::split),
        "replace" => (vec![Text, Text, Text], None, strings::replace),
        "has" => (
            vec![ArgumentType::Any, ArgumentType::Any],
            None,
            presence::has,
        ),
        "avg" => (vec![numbers], None, numbers::avg),
        _ => return None,
    };
    Some((inputs, optional, eval))
}

/// A function with at most one optional trailing argument. jmespath's `Signature` only knows
/// "variadic", so the upper bound on the argument count is checked here.
struct Definition {
    signature: Signature,
    max_args: usize,
    eval: Eval,
}

impl Definition {
    fn new(inputs: Vec<ArgumentType>, optional: Option<ArgumentType>, eval: Eval) -> Self {
        let max_args = inputs.len() + usize::from(optional.is_some());
        Self {
            signature: Signature::new(inputs, optional),
            max_args,
            eval,
        }
    }
}

impl Function for Definition {
    fn evaluate(&self, args: &[Rcvar], ctx: &mut Context<'_>) -> SearchResult {
        if args.len() > self.max_args {
            let reason = RuntimeError::TooManyArguments {
                expected: self.max_args,
                actual: args.len(),
            };
            return Err(JmespathError::from_ctx(ctx, ErrorReason::Runtime(reason)));
        }
        self.signature.validate(args, ctx)?;
        (self.eval)(args)
            .map(Rcvar::new)
            .map_err(|bad| bad.into_error(ctx))
    }
}

/// An argument of the right JSON type whose value the function cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("argument {position} expects {expected}, given {given}")]
pub(super) struct BadArgument {
    position: usize,
    pub expected: String,
    pub given: String,
}

impl BadArgument {
    fn new(position: usize, expected: impl Into<String>, given: impl Into<String>) -> Self {
        Self {
            position,
            expected: expected.into(),
            given: given.into(),
        }
    }

    /// jmespath's `RuntimeError` has no free-text variant; `InvalidType` carries position, expectation
    /// and value, and renders as "Argument 1 expects type regex, given \"a(\" (unclosed group)".
    fn into_error(self, ctx: &Context<'_>) -> JmespathError {
        let reason = RuntimeError::InvalidType {
            expected: self.expected,
            actual: self.given,
            position: self.position,
        };
        JmespathError::from_ctx(ctx, ErrorReason::Runtime(reason))
    }
}

/// The string argument at `position`. The signature has checked its type already; the error is only a
/// guard against a signature and an evaluator drifting apart.
fn text(args: &[Rcvar], position: usize) -> Result<&str, BadArgument> {
    args.get(position)
        .and_then(|value| value.as_string())
        .map(String::as_str)
        .ok_or_else(|| BadArgument::new(position, "string", "another type"))
}

/// The optional boolean argument at `position`, false when absent.
fn flag(args: &[Rcvar], position: usize) -> bool {
    args.get(position)
        .and_then(|value| value.as_boolean())
        .unwrap_or(false)
}

/// `text` quoted for an error message, cut short so that a huge event field cannot flood the logs.
fn quoted(text: &str) -> String {
    const LIMIT: usize = 80;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{:?}…", &text[..end]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{error, eval};
    use super::*;
    use serde_json::json;

    #[test]
    fn every_listed_name_has_a_definition() {
        for name in CUSTOM_FUNCTIONS {
            assert!(definition(name).is_some(), "{name}");
        }
        assert!(definition("regex").is_none());
    }

    #[test]
    fn too_many_arguments_are_rejected() {
        let message = error("regex_match('a', 'a', `true`, `true`)", "{}");
        assert!(
            message.contains("Too many arguments: expected 3, found 4"),
            "{message}"
        );
        let message = error("lower('a', 'b')", "{}");
        assert!(
            message.contains("Too many arguments: expected 1, found 2"),
            "{message}"
        );
    }

    #[test]
    fn wrong_argument_types_are_rejected_by_the_signature() {
        let message = error("lower(`5`)", "{}");
        assert!(
            message.contains("Argument 0 expects type string, given number"),
            "{message}"
        );
        let message = error("regex_search('a', 'a', 'yes')", "{}");
        assert!(
            message.contains("Argument 2 expects type boolean, given string"),
            "{message}"
        );
        let message = error("to_epoch(`true`)", "{}");
        assert!(
            message.contains("expects type string|number, given boolean"),
            "{message}"
        );
    }

    #[test]
    fn custom_functions_combine_with_builtins() {
        let data = r#"{"hosts": ["Core-SW-01", "edge-rtr-1", "core-sw-02"]}"#;
        let found = eval("length(hosts[?regex_match(lower(@), 'core-')])", data);
        assert_eq!(found, json!(2));
    }

    #[test]
    fn literal_checks_report_values_that_can_never_work() {
        let cases = [
            ("regex_match", 1, "a(", "regex, given \"a(\""),
            ("cidr_contains", 0, "10.0.0.0/33", "CIDR network"),
            ("cidr_contains", 1, "10.0.0.256", "IP address"),
            ("to_epoch", 0, "soon", "timestamp"),
            ("split", 1, "", "non-empty separator"),
        ];
        for (name, index, literal, expected) in cases {
            let value = Variable::String(literal.to_owned());
            let bad = check_literal(name, index, &value).expect_err(name);
            let message = format!("{}, given {}", bad.expected, bad.given);
            assert!(message.starts_with(expected), "{name} {literal}: {message}");
        }
    }

    #[test]
    fn literal_checks_accept_what_can_work() {
        let cases = [
            ("regex_match", 1, json!("^core-(sw|rtr)-\\d+$")),
            ("regex_match", 2, json!(true)),
            ("cidr_contains", 0, json!("2001:db8::/32")),
            ("cidr_contains", 1, json!("10.1.2.3")),
            ("to_epoch", 0, json!("2026-11-25T10:00:00Z")),
            ("to_epoch", 0, json!(1_795_600_800)),
            ("split", 1, json!(",")),
            ("fuzzy_ratio", 0, json!("core-sw-01")),
            ("length", 0, json!("a builtin")),
        ];
        for (name, index, literal) in cases {
            let value = Variable::try_from(&literal).expect("JSON");
            assert_eq!(
                check_literal(name, index, &value),
                Ok(()),
                "{name} {literal}"
            );
        }
    }

    #[test]
    fn quoted_values_are_cut_short() {
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
        let long = "é".repeat(200);
        assert_eq!(quoted(&long), format!("{:?}…", "é".repeat(80)));
    }
}
