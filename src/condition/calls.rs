//! Load-time checks of every function call in a condition, so that a call that can never work is a
//! located `rules check` error instead of an error on every event: the function exists, the number
//! of arguments fits its signature, an argument whose type is known before any event (a literal, a
//! `[list]`, a `{hash}`, a `!negation`, an `&expression`) has the type the signature asks for, and a
//! literal value the function could never use (a regex that does not compile, an invalid CIDR) is
//! refused. Runs after `expr::check_size`, which bounds the depth of the walk.

use jmespath::ast::Ast;
use jmespath::functions::ArgumentType;
use jmespath::{Rcvar, Variable};

use super::expr::{CompileError, char_offset, visit};
use super::print::text;
use super::signature::{BUILTINS, Signature, type_name};
use super::{functions, suggest};

/// The first call in `ast` (parsed from `source`) that cannot work.
pub(super) fn check(source: &str, ast: &Ast) -> Result<(), CompileError> {
    let mut result = Ok(());
    visit(ast, &mut |node| {
        if let (Ok(()), Ast::Function { name, args, .. }) = (&result, node) {
            result = check_call(source, node, name, args);
        }
    });
    result
}

/// The parser records the offset of the `(`; point at the name instead (in characters).
fn name_offset(source: &str, paren: usize, name: &str) -> usize {
    let before = source.get(..paren).unwrap_or(source).trim_end();
    char_offset(source, before.len().saturating_sub(name.len()))
}

fn check_call(source: &str, call: &Ast, name: &str, args: &[Ast]) -> Result<(), CompileError> {
    let offset = start(source, call);
    let Some(signature) = Signature::of(name) else {
        return Err(CompileError::UnknownFunction {
            offset,
            name: name.to_owned(),
            suggestion: suggest_function(name),
        });
    };
    if let Some(message) = signature.arity_error(args.len()) {
        return Err(CompileError::BadArgument { offset, message });
    }
    for (index, arg) in args.iter().enumerate() {
        let Some(expected) = signature.expected(index) else {
            continue;
        };
        let at = start(source, arg);
        if let Some(given) = wrong_type(expected, arg) {
            return Err(bad_argument(
                &signature,
                index,
                at,
                &type_name(expected),
                &given,
            ));
        }
        if let Ast::Literal { value, .. } = arg
            && let Err(bad) = functions::check_literal(name, index, value)
        {
            return Err(bad_argument(
                &signature,
                index,
                at,
                &bad.expected,
                &bad.given,
            ));
        }
    }
    Ok(())
}

/// What `arg` is, when its type is known now and `expected` does not accept it.
fn wrong_type(expected: &ArgumentType, arg: &Ast) -> Option<String> {
    if let Ast::Subexpr { lhs, rhs, .. } = arg
        && matches!(**lhs, Ast::Identity { .. })
    {
        // `@.x` and `@ | x` are `x`.
        return wrong_type(expected, rhs);
    }
    let shown = text(arg);
    let (value, given) = match arg {
        Ast::Literal { value, .. } => (value.clone(), format!("{} {shown}", value.get_type())),
        Ast::MultiList { .. } => (
            Rcvar::new(Variable::Array(Vec::new())),
            format!("array {shown}"),
        ),
        Ast::MultiHash { .. } => (
            Rcvar::new(Variable::Object(Default::default())),
            format!("object {shown}"),
        ),
        Ast::Not { .. } => (Rcvar::new(Variable::Bool(true)), format!("boolean {shown}")),
        Ast::Expref { ast, .. } => (
            Rcvar::new(Variable::Expref((**ast).clone())),
            format!("expression {shown}"),
        ),
        // A path or a call gives a value, never an expression reference.
        _ if *expected == ArgumentType::Expref => {
            return Some(format!("`{shown}`, which is a value; write `&{shown}`"));
        }
        _ => return None,
    };
    // Typed arrays are only known to be arrays here; their elements are checked when evaluated.
    (!expected.is_valid(&value)).then_some(given)
}

fn bad_argument(
    signature: &Signature,
    index: usize,
    offset: usize,
    expected: &str,
    given: &str,
) -> CompileError {
    let name = &signature.name;
    CompileError::BadArgument {
        offset,
        message: format!(
            "`{name}()` expects {expected} as its {} argument, given {given}: {signature}",
            ordinal(index)
        ),
    }
}

/// Where an expression starts in `source`, in characters, for the caret: the parser records the
/// offset of an operator or of a call's `(`, so follow the left side down to its first token.
fn start(source: &str, node: &Ast) -> usize {
    match node {
        Ast::Subexpr { lhs, .. }
        | Ast::Projection { lhs, .. }
        | Ast::Comparison { lhs, .. }
        | Ast::And { lhs, .. }
        | Ast::Or { lhs, .. } => start(source, lhs),
        Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => start(source, node),
        Ast::Function { offset, name, .. } => name_offset(source, *offset, name),
        Ast::Condition { offset, .. }
        | Ast::Identity { offset }
        | Ast::Expref { offset, .. }
        | Ast::Field { offset, .. }
        | Ast::Index { offset, .. }
        | Ast::Literal { offset, .. }
        | Ast::MultiList { offset, .. }
        | Ast::MultiHash { offset, .. }
        | Ast::Not { offset, .. }
        | Ast::Slice { offset, .. } => char_offset(source, *offset),
    }
}

fn ordinal(index: usize) -> String {
    match index {
        0 => "first".into(),
        1 => "second".into(),
        2 => "third".into(),
        n => format!("{}th", n + 1),
    }
}

/// The closest known function name to a misspelt one, builtins included.
fn suggest_function(name: &str) -> Option<String> {
    let candidates: Vec<&str> = BUILTINS
        .iter()
        .chain(functions::CUSTOM_FUNCTIONS)
        .copied()
        .collect();
    suggest::closest(name, &candidates).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use crate::condition::{CompileError, Expr};

    fn refused(source: &str) -> (usize, String) {
        match Expr::compile(source) {
            Err(CompileError::BadArgument { offset, message }) => (offset, message),
            other => panic!("{source}: {other:?}"),
        }
    }

    #[test]
    fn a_call_with_the_wrong_number_of_arguments_is_refused_at_the_name() {
        let (offset, message) = refused("event.ok && contains(event.tags)");
        assert_eq!(offset, 12);
        assert_eq!(
            message,
            "`contains()` takes 2 arguments, given 1: contains(array|string, any)"
        );
        let (offset, message) = refused("lower (event.a, event.b) == 'x'");
        assert_eq!(offset, 0);
        assert_eq!(
            message,
            "`lower()` takes 1 argument, given 2: lower(string)"
        );
        let (_, message) = refused("now(`1`) > `0`");
        assert_eq!(message, "`now()` takes no arguments, given 1: now()");
    }

    #[test]
    fn a_literal_of_the_wrong_type_is_refused_at_the_literal() {
        let (offset, message) = refused("length(`5`) > `1`");
        assert_eq!(offset, 7);
        assert_eq!(
            message,
            "`length()` expects array|object|string as its first argument, given number `5`: length(array|object|string)"
        );
        let (offset, message) = refused("regex_search(event.os, 'a', 'yes')");
        assert_eq!(offset, 28);
        assert!(
            message.starts_with(
                "`regex_search()` expects boolean as its third argument, given string 'yes'"
            ),
            "{message}"
        );
        let (_, message) = refused("abs(!(event.up))");
        assert!(message.contains("given boolean !(event.up)"), "{message}");
        let (_, message) = refused("max(`[1, \"a\"]`)");
        assert!(
            message.contains("expects array[number]|array[string] as its first argument"),
            "{message}"
        );
        let (_, message) = refused("keys([event.a])");
        assert!(message.contains("given array [event.a]"), "{message}");
    }

    #[test]
    fn expression_arguments_must_be_expression_references() {
        let (offset, message) = refused("sort_by(event.items, name)[0]");
        assert_eq!(offset, 21);
        assert_eq!(
            message,
            "`sort_by()` expects &expression as its second argument, given `name`, which is a value; write `&name`: sort_by(array, &expression)"
        );
        let (_, message) = refused("length(&name)");
        assert!(message.contains("given expression &name"), "{message}");
    }

    #[test]
    fn literal_values_the_function_cannot_use_are_refused() {
        let (offset, message) = refused("cidr_contains('10.0.0.0/33', event.ip)");
        assert_eq!(offset, 14);
        assert_eq!(
            message,
            "`cidr_contains()` expects CIDR network as its first argument, given \"10.0.0.0/33\": cidr_contains(string, string)"
        );
    }

    #[test]
    fn calls_that_can_work_compile() {
        for source in [
            "contains(event.tags, 'core')",
            "sum([event.a, event.b]) > `3`",
            "sort_by(event.items, &name)[0].name == 'a'",
            "map(&name, event.items)",
            "not_null(event.a, event.b, 'x')",
            "merge(event.a, {b: event.b}, `{}`)",
            "regex_match(event.os, '^ios', `true`)",
            "to_number(!event.x)",
            "length(event.items[?up]) > `1`",
            "avg(`[]`) == `null`",
        ] {
            assert!(Expr::compile(source).is_ok(), "{source}");
        }
    }

    #[test]
    fn misspelt_functions_get_a_suggestion() {
        match Expr::compile("event.ok && lenght(event.a)") {
            Err(err @ CompileError::UnknownFunction { offset: 12, .. }) => assert_eq!(
                err.to_string(),
                "unknown function `lenght()`, did you mean `length()`?"
            ),
            other => panic!("{other:?}"),
        }
    }
}
