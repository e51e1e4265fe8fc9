//! The two EDA constructs that need more than one JMESPath operator: `+`/`-` arithmetic (JMESPath has
//! only `sum`, so subtracted terms move to the other side of the comparison) and `select`/
//! `selectattr` (a filter over the value as a list, a scalar or an object being a list of one).
//! Part of [`super::emit`].

use serde_json::{Number, Value};

use super::ConditionError;
use super::ast::{CmpOp, ElementOp, Expr, Kind, MemberOp};
use super::emit::{Emitter, Js, Level, all, member, search};
use super::operand::{Operand, literal};

/// One side of an arithmetic comparison: the paths added, and the sum of the number literals.
#[derive(Default)]
struct Side {
    atoms: Vec<String>,
    constant: f64,
    float: bool,
}

impl Side {
    fn render(&self, constant: f64) -> String {
        let number = if self.float || constant.fract() != 0.0 {
            Number::from_f64(constant).map_or_else(|| "0".to_owned(), |n| n.to_string())
        } else {
            format!("{}", constant as i64)
        };
        let mut terms = self.atoms.clone();
        if constant != 0.0 || terms.is_empty() {
            terms.push(format!("`{number}`"));
        }
        match terms.as_slice() {
            [one] => one.clone(),
            _ => format!("sum([{}])", terms.join(", ")),
        }
    }
}

impl Emitter<'_> {
    /// `a + b - c OP d` as `sum([a, b]) OP sum([d, c])`, each path guarded to be a number (EDA fails
    /// the comparison otherwise; `sum` would be an evaluation error).
    pub(super) fn arithmetic(
        &mut self,
        op: CmpOp,
        left: &Expr,
        right: &Expr,
    ) -> Result<Js, ConditionError> {
        let (mut lhs, mut rhs) = (Side::default(), Side::default());
        let mut guards = Vec::new();
        self.terms(left, true, &mut lhs, &mut rhs, &mut guards)?;
        self.terms(right, true, &mut rhs, &mut lhs, &mut guards)?;
        let float = lhs.float || rhs.float;
        lhs.float = float;
        rhs.float = float;
        let (l, r) = if rhs.atoms.is_empty() || !lhs.atoms.is_empty() {
            (lhs.render(0.0), rhs.render(rhs.constant - lhs.constant))
        } else {
            (lhs.render(lhs.constant - rhs.constant), rhs.render(0.0))
        };
        guards.push(Js::new(format!("{l} {} {r}", op.symbol()), Level::Compare));
        Ok(all(guards))
    }

    /// Adds `expr` to `own` (or, subtracted, to `other`).
    fn terms(
        &mut self,
        expr: &Expr,
        plus: bool,
        own: &mut Side,
        other: &mut Side,
        guards: &mut Vec<Js>,
    ) -> Result<(), ConditionError> {
        match &expr.kind {
            Kind::Arith { minus, left, right } => {
                self.terms(left, plus, own, other, guards)?;
                self.terms(right, plus != *minus, own, other, guards)
            }
            Kind::Literal(Value::Number(n)) => {
                let value = n.as_f64().unwrap_or(0.0);
                own.float |= !n.is_i64();
                own.constant += if plus { value } else { -value };
                Ok(())
            }
            Kind::Path(_) => {
                let operand = self.operand(expr)?;
                guards.push(Js::new(
                    format!("type({}) == 'number'", operand.expr),
                    Level::Compare,
                ));
                if plus {
                    own.atoms.push(operand.expr);
                } else {
                    other.atoms.push(operand.expr);
                }
                Ok(())
            }
            _ => Err(ConditionError::new(
                expr.at,
                "`+` and `-` work on numbers and paths here",
            )),
        }
    }

    /// `is [not] select(...)` / `is [not] selectattr(...)`, asked whether it is true or false.
    pub(super) fn select(&mut self, expr: &Expr, positive: bool) -> Result<Js, ConditionError> {
        let Kind::Select {
            negated,
            operand,
            key,
            op,
            value,
        } = &expr.kind
        else {
            return Err(ConditionError::new(
                expr.at,
                "expected select or selectattr",
            ));
        };
        let list = self.operand(operand)?;
        let element = match key {
            Some(segments) => Operand::element_key(segments),
            None => Operand::element(),
        };
        let value = self.inlined(value)?;
        let test = match op {
            // ansible-rulebook 1.3.2 compares `select`'s elements with plain equality: `"2" != 2`
            // is true there, not a type mismatch.
            ElementOp::Cmp(cmp @ (CmpOp::Eq | CmpOp::Ne)) if key.is_none() => Js::new(
                format!("{} {} {}", element.expr, cmp.symbol(), value.expr),
                Level::Compare,
            ),
            ElementOp::Cmp(cmp) => self.compare(*cmp, &element, &value),
            ElementOp::Search(kind) => search(&element, *kind, (false, false), &value, true),
            ElementOp::Member {
                op: MemberOp::In,
                negated,
            } => member(&element, &value, !negated),
            ElementOp::Member {
                op: MemberOp::Contains,
                negated,
            } => member(&value, &element, !negated),
        };
        // `select` asks whether some element passes, `is not select` whether some element fails;
        // asked whether it is false, "no element" instead of "some element".
        let filter_test = if *negated { test.not() } else { test };
        let some = if positive { "!=" } else { "==" };
        let filter = Js::new(
            format!("to_array({})[?{}] {some} `[]`", list.expr, filter_test.text),
            Level::Compare,
        );
        let null_passes = *negated || !positive || null_may_pass(*op, &value);
        let mut parts: Vec<Js> = match (&list.def, null_passes) {
            (Some(def), true) => vec![Js::primary(def.clone())],
            _ => Vec::new(),
        };
        parts.push(filter);
        Ok(all(parts))
    }

    /// A select value as a literal: inside a filter, `vars.x` would be read from the element, so a
    /// vars path is replaced by its value, which must be known.
    fn inlined(&mut self, value: &Expr) -> Result<Operand, ConditionError> {
        let Kind::Path(path) = &value.kind else {
            return self.operand(value);
        };
        let found = (path.root == super::ast::Root::Vars)
            .then(|| lookup(self.vars?, &path.segments))
            .flatten();
        found.map(|v| literal(&v)).ok_or_else(|| {
            ConditionError::new(
                value.at,
                "a path as select's value: semaphore needs its value when translating (give it with --vars), or write the value",
            )
        })
    }
}

pub(super) fn lookup(
    vars: &serde_json::Map<String, Value>,
    segments: &[super::ast::Segment],
) -> Option<Value> {
    use super::ast::Segment;
    let (first, rest) = segments.split_first()?;
    let Segment::Key(first) = first else {
        return None;
    };
    let mut value = vars.get(first)?;
    for segment in rest {
        value = match segment {
            Segment::Key(key) => value.get(key)?,
            Segment::Index(index) => {
                let items = value.as_array()?;
                let at = if *index < 0 {
                    items.len().checked_sub(index.unsigned_abs() as usize)?
                } else {
                    *index as usize
                };
                items.get(at)?
            }
        };
    }
    Some(value.clone())
}

/// Whether a missing value (read as `[null]`) could pass the element test, so that the list's
/// presence must be tested too.
fn null_may_pass(op: ElementOp, value: &Operand) -> bool {
    match op {
        ElementOp::Cmp(CmpOp::Ne) => true,
        ElementOp::Cmp(CmpOp::Eq) => value.is_null(),
        ElementOp::Member { negated, .. } => negated || value.expr.contains("null"),
        _ => false,
    }
}
