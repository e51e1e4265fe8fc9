//! Why a condition did or did not match, in words: the first false operand of an `&&`, both sides of a
//! failed comparison with their values, and "missing" for paths that led nowhere. Used by
//! `rules test --explain`; it re-evaluates sub-expressions and never changes the verdict.

use jmespath::ast::{Ast, Comparator};
use jmespath::{Rcvar, Variable};

use super::expr::Expr;
use super::print::{operator, text};

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
