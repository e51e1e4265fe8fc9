//! Conditions that are valid JMESPath but almost surely not what was meant, found at load for
//! `rules check` to warn about, each with the place and the fix:
//!
//! - a double-quoted "string" compared inside a filter or projection, which names a field of each
//!   element (`[?status == "down"]`); on the document's top level the root check refuses it already;
//! - `<`, `<=`, `>`, `>=` against a string literal or a string var: JMESPath orders numbers only, so
//!   the comparison is never true;
//! - `!event.x`, which the parser reads as `(!event).x`: a boolean has no fields, never true.
//!
//! It knows the ruleset's `vars` (to see that `vars.loss_pct` is the string "5"), nothing else.

use std::collections::HashSet;

use jmespath::ast::{Ast, Comparator};
use jmespath::{Rcvar, Variable};

use super::expr::{Expr, char_offset};
use super::print::{operator, text};

/// One warning about an expression; `offset` counts characters into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lint {
    pub offset: usize,
    pub message: String,
}

/// The warnings about `expr`, evaluated with `vars` as the document's `vars`, in order of place.
pub fn lint(expr: &Expr, vars: &Rcvar) -> Vec<Lint> {
    let mut linter = Linter {
        source: expr.source(),
        vars,
        negations: HashSet::new(),
        found: Vec::new(),
    };
    linter.walk(expr.ast(), Scope::Document);
    linter.found.sort_by_key(|lint| lint.offset);
    linter.found
}

/// What a name is looked up on: the document (`event`, `vars`) or an element of a projection.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scope {
    Document,
    Element,
}

struct Linter<'a> {
    source: &'a str,
    vars: &'a Rcvar,
    /// The `!`s already reported, so that each chain above one reports it once.
    negations: HashSet<usize>,
    found: Vec<Lint>,
}

impl Linter<'_> {
    /// Visits every node, recursion bounded by `expr::check_size` like every walk of the tree.
    fn walk(&mut self, node: &Ast, scope: Scope) {
        match node {
            Ast::Comparison {
                comparator,
                lhs,
                rhs,
                ..
            } => {
                self.comparison(comparator, lhs, rhs, scope);
                self.walk(lhs, scope);
                self.walk(rhs, scope);
            }
            Ast::Subexpr { lhs, rhs, .. } | Ast::Projection { lhs, rhs, .. } => {
                self.negated_chain(node);
                self.walk(lhs, scope);
                self.walk(rhs, Scope::Element);
            }
            Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
                self.walk(lhs, scope);
                self.walk(rhs, scope);
            }
            Ast::Condition {
                predicate, then, ..
            } => {
                self.walk(predicate, Scope::Element);
                self.walk(then, Scope::Element);
            }
            Ast::Expref { ast, .. } => self.walk(ast, Scope::Element),
            Ast::Not { node, .. } | Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => {
                self.walk(node, scope)
            }
            Ast::Function { args, .. } | Ast::MultiList { elements: args, .. } => {
                args.iter().for_each(|arg| self.walk(arg, scope));
            }
            Ast::MultiHash { elements, .. } => {
                elements
                    .iter()
                    .for_each(|pair| self.walk(&pair.value, scope));
            }
            Ast::Identity { .. }
            | Ast::Field { .. }
            | Ast::Index { .. }
            | Ast::Literal { .. }
            | Ast::Slice { .. } => {}
        }
    }

    fn warn(&mut self, byte_offset: usize, message: String) {
        self.found.push(Lint {
            offset: char_offset(self.source, byte_offset),
            message,
        });
    }

    fn comparison(&mut self, comparator: &Comparator, lhs: &Ast, rhs: &Ast, scope: Scope) {
        for (side, other) in [(lhs, rhs), (rhs, lhs)] {
            if scope == Scope::Element {
                self.quoted_field(side, other);
            }
            if comparator != &Comparator::Equal && comparator != &Comparator::NotEqual {
                self.ordered_string(operator(comparator), side, scope);
            }
        }
    }

    /// `[?status == "down"]`: the double quotes make `down` a field of the element. Compared with a
    /// literal, a quoted name is most likely a field that needs the quotes (`"last-seen" > `0``).
    fn quoted_field(&mut self, side: &Ast, other: &Ast) {
        if let Ast::Field { offset, name } = side
            && self.source.as_bytes().get(*offset) == Some(&b'"')
            && !matches!(other, Ast::Literal { .. })
        {
            let string = text(&Ast::Literal {
                offset: 0,
                value: Rcvar::new(Variable::String(name.clone())),
            });
            let message = format!(
                "\"{name}\" in double quotes is the field `{name}` of each element, not a string; \
                 for the string, write {string}"
            );
            self.warn(*offset, message);
        }
    }

    /// Ordering is defined on numbers only: against a string it is null, never true.
    fn ordered_string(&mut self, op: &str, side: &Ast, scope: Scope) {
        let never = format!("`{op}` compares numbers only, so this is never true");
        match side {
            Ast::Literal { offset, value } => {
                let Some(string) = value.as_string() else {
                    return;
                };
                let fix = match number(string) {
                    Some(number) => format!("; write the number as `{number}`"),
                    None => "; compare with a number".to_owned(),
                };
                self.warn(*offset, format!("{} is a string: {never}{fix}", text(side)));
            }
            _ if scope == Scope::Document => {
                let Some((offset, name)) = vars_field(side) else {
                    return;
                };
                let Some(string) = resolve(side, self.vars).and_then(|v| v.as_string().cloned())
                else {
                    return;
                };
                let fix = match number(&string) {
                    Some(number) => format!("write `{name}: {number}` in vars, without quotes"),
                    None => format!("make `{name}` a number in vars"),
                };
                let message = format!("`{}` is the string {string:?}: {never}; {fix}", text(side));
                self.warn(offset, message);
            }
            _ => {}
        }
    }

    /// `!event.x` is `(!event).x`: the `!` at the bottom of a chain of links, reported once.
    fn negated_chain(&mut self, chain: &Ast) {
        let Some(Ast::Not { offset, node }) = negation_below(chain, self.source) else {
            return;
        };
        if !self.negations.insert(*offset) {
            return;
        }
        let message = format!(
            "`!` applies to `{}` alone: this reads `{}`, which is never true; write `!({})`",
            text(node),
            text(chain),
            text(&without_negation(chain))
        );
        self.warn(*offset, message);
    }
}

/// The `!` a chain of links (`.x`, `[?...]`, `[]`, `.*`) starts from, if it starts from one. A pipe
/// (`!a | b`) is left alone: it says that `b` applies to the result.
fn negation_below<'a>(chain: &'a Ast, source: &str) -> Option<&'a Ast> {
    let below: &Ast = match chain {
        Ast::Subexpr { lhs, offset, .. } if source.as_bytes().get(*offset) == Some(&b'.') => lhs,
        Ast::Projection { lhs, .. } => match &**lhs {
            Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => node,
            lhs => lhs,
        },
        _ => return None,
    };
    match below {
        negation @ Ast::Not { .. } => Some(negation),
        deeper => negation_below(deeper, source),
    }
}

/// The chain with its `!` taken off, for the fix `!(event.x)`.
fn without_negation(chain: &Ast) -> Ast {
    let lifted = |node: &Ast| Box::new(without_negation(node));
    match chain {
        Ast::Not { node, .. } => (**node).clone(),
        Ast::Subexpr { offset, lhs, rhs } => Ast::Subexpr {
            offset: *offset,
            lhs: lifted(lhs),
            rhs: rhs.clone(),
        },
        Ast::Projection { offset, lhs, rhs } => Ast::Projection {
            offset: *offset,
            lhs: lifted(lhs),
            rhs: rhs.clone(),
        },
        Ast::Flatten { offset, node } => Ast::Flatten {
            offset: *offset,
            node: lifted(node),
        },
        Ast::ObjectValues { offset, node } => Ast::ObjectValues {
            offset: *offset,
            node: lifted(node),
        },
        other => other.clone(),
    }
}

/// `vars.a.b`: the offset of `vars` and the last name, for a path of fields under `vars`.
fn vars_field(node: &Ast) -> Option<(usize, String)> {
    match node {
        Ast::Subexpr { lhs, rhs, .. } => match (&**lhs, &**rhs) {
            (Ast::Field { offset, name: root }, Ast::Field { name, .. }) if root == "vars" => {
                Some((*offset, name.clone()))
            }
            (deeper, Ast::Field { name, .. }) => {
                vars_field(deeper).map(|(offset, _)| (offset, name.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The value of a `vars.a.b` path, known at load.
fn resolve(node: &Ast, vars: &Rcvar) -> Option<Rcvar> {
    match node {
        Ast::Field { name, .. } if name == "vars" => Some(vars.clone()),
        Ast::Subexpr { lhs, rhs, .. } => match &**rhs {
            Ast::Field { name, .. } => Some(resolve(lhs, vars)?.get_field(name)),
            _ => None,
        },
        _ => None,
    }
}

/// The string as a JSON number, when it reads as one (`"5"`, `" 2.5 "`).
fn number(text: &str) -> Option<serde_json::Number> {
    text.trim().parse::<serde_json::Number>().ok()
}

#[cfg(test)]
mod tests;
