//! A fast path for the conditions most rules are made of: comparisons of document paths with
//! literals or other paths, combined with `&&`, `||` and `!`. It walks the document by reference, with
//! no allocation and no reference counting, and decides truthiness exactly as the JMESPath
//! interpreter would (the property test below holds it to that). Anything else (functions,
//! projections, filters) is left to the interpreter.

use jmespath::Variable;
use jmespath::ast::{Ast, Comparator};

use crate::event::lookup;

static NULL: Variable = Variable::Null;

#[derive(Debug, Clone)]
pub enum Fast {
    /// `event.a.b`: field names from the document root.
    Path(Vec<String>),
    Literal(Variable),
    Compare(Comparator, Box<Fast>, Box<Fast>),
    And(Box<Fast>, Box<Fast>),
    Or(Box<Fast>, Box<Fast>),
    Not(Box<Fast>),
}

impl Fast {
    /// The fast form of `ast`, when it has one.
    pub fn compile(ast: &Ast) -> Option<Fast> {
        match ast {
            Ast::Field { .. } | Ast::Subexpr { .. } => path(ast).map(Fast::Path),
            Ast::Literal { value, .. } => Some(Fast::Literal((**value).clone())),
            Ast::Comparison {
                comparator,
                lhs,
                rhs,
                ..
            } => Some(Fast::Compare(
                comparator.clone(),
                Box::new(operand(lhs)?),
                Box::new(operand(rhs)?),
            )),
            Ast::And { lhs, rhs, .. } => Some(Fast::And(
                Box::new(Fast::compile(lhs)?),
                Box::new(Fast::compile(rhs)?),
            )),
            Ast::Or { lhs, rhs, .. } => Some(Fast::Or(
                Box::new(Fast::compile(lhs)?),
                Box::new(Fast::compile(rhs)?),
            )),
            Ast::Not { node, .. } => Some(Fast::Not(Box::new(Fast::compile(node)?))),
            _ => None,
        }
    }

    /// JMESPath truthiness of the expression's value on `doc`.
    pub fn is_true(&self, doc: &Variable) -> bool {
        match self {
            Fast::Path(_) | Fast::Literal(_) => self.value(doc).is_truthy(),
            Fast::Compare(comparator, lhs, rhs) => {
                lhs.value(doc).compare(comparator, rhs.value(doc)) == Some(true)
            }
            Fast::And(lhs, rhs) => lhs.is_true(doc) && rhs.is_true(doc),
            Fast::Or(lhs, rhs) => lhs.is_true(doc) || rhs.is_true(doc),
            Fast::Not(node) => !node.is_true(doc),
        }
    }

    /// The value of a path or literal operand.
    fn value<'a>(&'a self, doc: &'a Variable) -> &'a Variable {
        match self {
            Fast::Path(names) => names
                .iter()
                .try_fold(doc, |current, name| {
                    let object = current.as_object()?;
                    lookup::field(object, name).map(|(_, v)| &**v)
                })
                .unwrap_or(&NULL),
            Fast::Literal(value) => value,
            // Comparisons only take paths and literals as operands (see `operand`).
            _ => &NULL,
        }
    }
}

fn operand(ast: &Ast) -> Option<Fast> {
    match ast {
        Ast::Literal { value, .. } => Some(Fast::Literal((**value).clone())),
        _ => path(ast).map(Fast::Path),
    }
}

fn path(ast: &Ast) -> Option<Vec<String>> {
    match ast {
        Ast::Field { name, .. } => Some(vec![name.clone()]),
        Ast::Subexpr { lhs, rhs, .. } => {
            let mut names = path(lhs)?;
            names.extend(path(rhs)?);
            Some(names)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::Expr;
    use proptest::prelude::*;
    use std::sync::Arc;

    const OPERANDS: &[&str] = &[
        "event.a",
        "event.b",
        "event.c.d",
        "event.missing",
        "vars.x",
        "`1`",
        "`2.5`",
        "'x'",
        "`null`",
        "`true`",
        "`[1]`",
        "`{}`",
        "''",
    ];
    const OPS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];

    fn expression() -> impl Strategy<Value = String> {
        let comparison = (0..OPERANDS.len(), 0..OPS.len(), 0..OPERANDS.len())
            .prop_map(|(l, op, r)| format!("{} {} {}", OPERANDS[l], OPS[op], OPERANDS[r]));
        let leaf = prop_oneof![
            comparison,
            (0..OPERANDS.len()).prop_map(|i| OPERANDS[i].to_owned())
        ];
        leaf.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
                inner.prop_map(|a| format!("!({a})")),
            ]
        })
    }

    fn value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::json!(null)),
            any::<bool>().prop_map(serde_json::Value::from),
            (-3i64..4).prop_map(serde_json::Value::from),
            Just(serde_json::json!(2.5)),
            prop_oneof![Just("x"), Just(""), Just("y")].prop_map(serde_json::Value::from),
            Just(serde_json::json!([1])),
            Just(serde_json::json!({})),
        ]
    }

    proptest! {
        #[test]
        fn agrees_with_the_interpreter(expr in expression(), a in value(), b in value(), d in value(), x in value(), c_is_object in any::<bool>()) {
            let c = if c_is_object { serde_json::json!({"d": d}) } else { d };
            let doc = serde_json::json!({"event": {"a": a, "b": b, "c": c}, "vars": {"x": x}});
            let doc = Arc::new(Variable::try_from(doc).unwrap());
            let compiled = Expr::compile(&expr).unwrap();
            let fast = Fast::compile(compiled.ast()).expect("every generated expression has a fast form");
            let slow = compiled.search(&doc).unwrap().is_truthy();
            prop_assert_eq!(fast.is_true(&doc), slow, "{}", expr);
        }
    }

    #[test]
    fn functions_and_projections_are_left_to_the_interpreter() {
        for source in [
            "length(event.a) > `1`",
            "event.items[*].x",
            "event.items[?x == `1`]",
        ] {
            let compiled = Expr::compile(source).unwrap();
            assert!(Fast::compile(compiled.ast()).is_none(), "{source}");
        }
    }
}
