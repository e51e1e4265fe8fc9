//! Why a condition did or did not match, in words: the first false operand of an `&&`, both sides of a
//! failed comparison with their values, and "missing" for paths that led nowhere. Used by
//! `rules test --explain`; it re-evaluates sub-expressions and never changes the verdict.

use jmespath::ast::{Ast, Comparator};
use jmespath::{Rcvar, Variable};

use super::expr::Expr;

/// A one-line reason for the verdict of `expr` on `doc`.
pub fn explain(expr: &Expr, doc: &Rcvar) -> String {
    reason(expr, expr.ast(), doc)
}

fn reason(expr: &Expr, node: &Ast, doc: &Rcvar) -> String {
    let value = match expr.search_node(node, doc) {
        Ok(value) => value,
        Err(err) => return format!("error: {}", err.message),
    };
    let verdict = if value.is_truthy() { "true" } else { "false" };
    match node {
        Ast::And { lhs, rhs, .. } => {
            let failing = if truthy(expr, lhs, doc) { rhs } else { lhs };
            if value.is_truthy() {
                format!("true: {}", text(node))
            } else {
                reason(expr, failing, doc)
            }
        }
        Ast::Or { lhs, rhs, .. } if !value.is_truthy() => {
            format!(
                "false: neither ({}) nor ({})",
                reason(expr, lhs, doc),
                reason(expr, rhs, doc)
            )
        }
        Ast::Not { node: inner, .. } => format!("{verdict}: not ({})", reason(expr, inner, doc)),
        Ast::Comparison {
            comparator,
            lhs,
            rhs,
            ..
        } => comparison(expr, verdict, comparator, lhs, rhs, doc),
        _ => format!("{verdict}: {}", describe(node, &value)),
    }
}

fn comparison(
    expr: &Expr,
    verdict: &str,
    op: &Comparator,
    lhs: &Ast,
    rhs: &Ast,
    doc: &Rcvar,
) -> String {
    let left = expr.search_node(lhs, doc).map(|v| describe(lhs, &v));
    let right = expr.search_node(rhs, doc).map(|v| describe(rhs, &v));
    match (left, right) {
        (Ok(left), Ok(right)) => format!("{verdict}: {left} {} {right}", operator(op)),
        (Err(err), _) | (_, Err(err)) => format!("error: {}", err.message),
    }
}

fn truthy(expr: &Expr, node: &Ast, doc: &Rcvar) -> bool {
    expr.search_node(node, doc).is_ok_and(|v| v.is_truthy())
}

/// `event.loss` (3.5), or `event.loss` is missing; literals show just their value.
fn describe(node: &Ast, value: &Variable) -> String {
    match node {
        Ast::Literal { .. } => value_text(value),
        _ if value.is_null() => format!("{} is missing (null)", text(node)),
        _ => format!("{} ({})", text(node), value_text(value)),
    }
}

fn value_text(value: &Variable) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "?".into());
    if json.chars().count() > 80 {
        let cut: String = json.chars().take(77).collect();
        format!("{cut}...")
    } else {
        json
    }
}

fn operator(op: &Comparator) -> &'static str {
    match op {
        Comparator::Equal => "==",
        Comparator::NotEqual => "!=",
        Comparator::LessThan => "<",
        Comparator::LessThanEqual => "<=",
        Comparator::GreaterThan => ">",
        Comparator::GreaterThanEqual => ">=",
    }
}

/// A readable JMESPath rendering of a sub-expression (not always the user's exact spelling).
pub fn text(node: &Ast) -> String {
    match node {
        Ast::Identity { .. } => "@".into(),
        Ast::Field { name, .. } => field_name(name),
        Ast::Subexpr { lhs, rhs, .. } => match rhs.as_ref() {
            Ast::Index { idx, .. } => format!("{}[{idx}]", text(lhs)),
            _ => format!("{}.{}", text(lhs), text(rhs)),
        },
        Ast::Index { idx, .. } => format!("[{idx}]"),
        Ast::Literal { value, .. } => format!("`{}`", value_text(value)),
        Ast::Function { name, args, .. } => {
            let args: Vec<String> = args.iter().map(text).collect();
            format!("{name}({})", args.join(", "))
        }
        Ast::Comparison {
            comparator,
            lhs,
            rhs,
            ..
        } => format!("{} {} {}", text(lhs), operator(comparator), text(rhs)),
        Ast::And { lhs, rhs, .. } => format!("{} && {}", grouped(lhs), grouped(rhs)),
        Ast::Or { lhs, rhs, .. } => format!("{} || {}", text(lhs), text(rhs)),
        Ast::Not { node, .. } => format!("!{}", text(node)),
        Ast::Expref { ast, .. } => format!("&{}", text(ast)),
        Ast::Projection { lhs, rhs, .. } => format!("{}[*].{}", text(lhs), text(rhs)),
        Ast::Flatten { node, .. } => format!("{}[]", text(node)),
        Ast::ObjectValues { node, .. } => format!("{}.*", text(node)),
        Ast::Condition { predicate, .. } => format!("[?{}]", text(predicate)),
        Ast::MultiList { elements, .. } => {
            let items: Vec<String> = elements.iter().map(text).collect();
            format!("[{}]", items.join(", "))
        }
        Ast::MultiHash { elements, .. } => {
            let items: Vec<String> = elements
                .iter()
                .map(|pair| format!("{}: {}", pair.key, text(&pair.value)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Ast::Slice {
            start, stop, step, ..
        } => format!(
            "[{}:{}:{step}]",
            start.map(|s| s.to_string()).unwrap_or_default(),
            stop.map(|s| s.to_string()).unwrap_or_default()
        ),
    }
}

/// An `||` inside `&&` needs its parentheses back to read the same.
fn grouped(node: &Ast) -> String {
    match node {
        Ast::Or { .. } => format!("({})", text(node)),
        _ => text(node),
    }
}

fn field_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\\\""))
    }
}
