//! EDA conditions to JMESPath with EDA's answers. EDA evaluates a test on a missing field, or on
//! values of types it cannot compare, as neither true nor false: the rule does not fire, and `not`
//! of it does not fire either. So every node is emitted for one of two questions, "is it true?" or
//! (under `not`) "is it false?", and `and`/`or` follow Kleene's rules between them. Guards (`has`,
//! `type`) are added only where JMESPath's answer would differ. Parsing is [`super::parse`]'s.

use std::collections::HashMap;

use super::ConditionError;
use super::ast::{CmpOp, Expr, Kind, MemberOp, SearchKind};
use super::operand::{Operand, literal};

/// How tightly a piece of JMESPath binds, to parenthesize only where needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Or,
    And,
    Compare,
    Primary,
}

#[derive(Debug, Clone)]
pub struct Js {
    pub text: String,
    pub level: Level,
}

impl Js {
    pub fn new(text: impl Into<String>, level: Level) -> Js {
        Js {
            text: text.into(),
            level,
        }
    }

    pub fn primary(text: impl Into<String>) -> Js {
        Js::new(text, Level::Primary)
    }

    /// The text, parenthesized when it binds more loosely than `level`.
    pub fn at(&self, level: Level) -> String {
        if self.level < level {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }

    pub fn not(&self) -> Js {
        Js::primary(format!("!{}", self.at(Level::Primary)))
    }
}

/// `parts` joined with `&&`; one part stays as it is.
pub fn all(parts: Vec<Js>) -> Js {
    join(parts, Level::And, " && ")
}

fn join(parts: Vec<Js>, level: Level, glue: &str) -> Js {
    match parts.len() {
        0 => Js::primary("`true`"),
        1 => parts
            .into_iter()
            .next()
            .unwrap_or_else(|| Js::primary("`true`")),
        _ => {
            let texts: Vec<String> = parts.iter().map(|p| p.at(level)).collect();
            Js::new(texts.join(glue), level)
        }
    }
}

/// The state of one translation: the names given with `<<` (as `m_N` indexes), the vars known at
/// translation time (inlined where JMESPath cannot reach `vars`), and warnings.
pub struct Emitter<'v> {
    pub names: HashMap<String, usize>,
    pub vars: Option<&'v serde_json::Map<String, serde_json::Value>>,
    pub warnings: Vec<ConditionError>,
}

impl<'v> Emitter<'v> {
    pub fn new(vars: Option<&'v serde_json::Map<String, serde_json::Value>>) -> Self {
        Emitter {
            names: HashMap::new(),
            vars,
            warnings: Vec::new(),
        }
    }

    /// JMESPath that is truthy exactly where EDA's condition is true (`positive`) or false.
    pub fn emit(&mut self, expr: &Expr, positive: bool) -> Result<Js, ConditionError> {
        match &expr.kind {
            Kind::Literal(serde_json::Value::Bool(value)) => {
                Ok(Js::primary(format!("`{}`", *value == positive)))
            }
            Kind::Path(_) => {
                // A bare path is true when it holds `true`, and false when it holds anything else
                // (EDA does not complain about the type here).
                let operand = self.operand(expr)?;
                let truth = literal(&serde_json::Value::Bool(true));
                if positive {
                    return Ok(self.compare(CmpOp::Eq, &operand, &truth));
                }
                let differs = Js::new(format!("{} != `true`", operand.expr), Level::Compare);
                Ok(all(operand
                    .def
                    .map(Js::primary)
                    .into_iter()
                    .chain([differs])
                    .collect()))
            }
            Kind::Literal(_) | Kind::List(_) | Kind::Arith { .. } => Err(ConditionError::new(
                expr.at,
                "a value is not a condition: compare it (`==`, `>`, ...) or test it (`is defined`)",
            )),
            Kind::Compare { op, left, right } => {
                let op = if positive { *op } else { op.complement() };
                self.comparison(op, left, right)
            }
            Kind::Member {
                op,
                negated,
                left,
                right,
            } => {
                let (item, collection) = match op {
                    MemberOp::In => (left, right),
                    MemberOp::Contains => (right, left),
                };
                let item = self.operand(item)?;
                let collection = self.operand(collection)?;
                Ok(member(&item, &collection, *negated != positive))
            }
            Kind::Defined { negated, operand } => {
                let has = Js::primary(self.defined(operand)?);
                Ok(if *negated == positive { has.not() } else { has })
            }
            Kind::Search {
                negated,
                operand,
                test,
            } => {
                let operand = self.operand(operand)?;
                let pattern = self.operand(&test.pattern)?;
                Ok(search(
                    &operand,
                    test.kind,
                    (test.ignorecase, test.multiline),
                    &pattern,
                    *negated != positive,
                ))
            }
            Kind::Select { .. } => self.select(expr, positive),
            Kind::Not(inner) => self.emit(inner, !positive),
            Kind::Logic { and, left, right } => {
                let left = self.emit(left, positive)?;
                let right = self.emit(right, positive)?;
                Ok(if *and == positive {
                    all(vec![left, right])
                } else {
                    join(vec![left, right], Level::Or, " || ")
                })
            }
            Kind::Assign { .. } => Err(ConditionError::new(
                expr.at,
                "`<<` names a whole condition: write `events.NAME << ...` at its start",
            )),
        }
    }

    /// A comparison of two values, either of which may be `+`/`-` arithmetic.
    fn comparison(&mut self, op: CmpOp, left: &Expr, right: &Expr) -> Result<Js, ConditionError> {
        if matches!(left.kind, Kind::Arith { .. }) || matches!(right.kind, Kind::Arith { .. }) {
            return self.arithmetic(op, left, right);
        }
        let left = self.operand(left)?;
        let right = self.operand(right)?;
        Ok(self.compare(op, &left, &right))
    }

    /// EDA's comparison, true only when both values exist and have comparable types (numbers with
    /// numbers, strings with strings, ...; `null` with anything, for `==` and `!=`).
    pub(super) fn compare(&self, op: CmpOp, left: &Operand, right: &Operand) -> Js {
        if left.ty.is_some() && right.ty.is_none() {
            return self.compare(mirror(op), right, left);
        }
        let (l, r) = (&left.expr, &right.expr);
        let defs = || -> Vec<Js> {
            [&left.def, &right.def]
                .into_iter()
                .flatten()
                .map(|d| Js::primary(d.clone()))
                .collect()
        };
        let cmp = |op: CmpOp| Js::new(format!("{l} {} {r}", op.symbol()), Level::Compare);
        match (op, right.ty) {
            (CmpOp::Eq, Some("null")) => all([vec![cmp(op)], defs()].concat()),
            (CmpOp::Eq, Some(_)) => cmp(op),
            (CmpOp::Eq, None) => match defs() {
                d if d.is_empty() => cmp(op),
                d => all(vec![
                    cmp(op),
                    join(
                        vec![Js::new(format!("{l} != `null`"), Level::Compare), all(d)],
                        Level::Or,
                        " || ",
                    ),
                ]),
            },
            (CmpOp::Ne, Some("null")) => cmp(op),
            (CmpOp::Ne, Some(ty)) => {
                let typed = Js::primary(format!("contains(`[\"{ty}\", \"null\"]`, type({l}))"));
                all([defs(), vec![typed, cmp(op)]].concat())
            }
            (CmpOp::Ne, None) => {
                let typed = Js::primary(format!(
                    "(type({l}) == type({r}) || {l} == `null` || {r} == `null`)"
                ));
                all([vec![cmp(op)], defs(), vec![typed]].concat())
            }
            (_, Some("string")) => strings(op, l, r),
            (_, Some(_)) => cmp(op),
            (_, None) => join(
                vec![
                    cmp(op),
                    all(vec![
                        Js::new(format!("type({r}) == 'string'"), Level::Compare),
                        strings(op, l, r),
                    ]),
                ],
                Level::Or,
                " || ",
            ),
        }
    }
}

/// `op` with its sides swapped.
fn mirror(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// Ordering of strings, which JMESPath's `<` does not do: through `sort`, guarded so that `sort`
/// only ever sees strings.
fn strings(op: CmpOp, l: &str, r: &str) -> Js {
    let (index, strict) = match op {
        CmpOp::Lt => (0, true),
        CmpOp::Le => (0, false),
        CmpOp::Gt => (1, true),
        _ => (1, false),
    };
    let mut parts = vec![Js::new(format!("type({l}) == 'string'"), Level::Compare)];
    if strict {
        parts.push(Js::new(format!("{l} != {r}"), Level::Compare));
    }
    parts.push(Js::new(
        format!("sort([{l}, {r}])[{index}] == {l}"),
        Level::Compare,
    ));
    all(parts)
}

/// `item in collection` (`inside`) or `item not in collection`; a collection that is not a list is a
/// list of one, as in EDA (`"x" contains "x"` is true, `"up" contains "p"` is false).
pub(super) fn member(item: &Operand, collection: &Operand, inside: bool) -> Js {
    let list = if collection.ty == Some("array") {
        collection.expr.clone()
    } else {
        format!("to_array({})", collection.expr)
    };
    let found = Js::primary(format!("contains({list}, {})", item.expr));
    if !inside {
        let defs = [&item.def, &collection.def].into_iter().flatten();
        let mut parts: Vec<Js> = defs.map(|d| Js::primary(d.clone())).collect();
        parts.push(found.not());
        return all(parts);
    }
    // A missing value reads as null: a missing item is "found" in a list holding null, and a
    // missing collection (`to_array(null)` is `[null]`) "holds" a null item.
    let may_hold_null = collection.ty != Some("array") || collection.expr.contains("null");
    let item_may_be_null = item.ty.is_none() || item.is_null();
    let mut parts = vec![found];
    parts.extend(
        item.def
            .iter()
            .filter(|_| may_hold_null)
            .map(|d| Js::primary(d.clone())),
    );
    parts.extend(
        collection
            .def
            .iter()
            .filter(|_| item_may_be_null)
            .map(|d| Js::primary(d.clone())),
    );
    all(parts)
}

/// `is match/search/regex` (`matches`) or its `is not` form, which is true for a value that is not
/// a string.
/// `(ignorecase, multiline)` are EDA's options.
pub(super) fn search(
    operand: &Operand,
    kind: SearchKind,
    (ignorecase, multiline): (bool, bool),
    pattern: &Operand,
    matches: bool,
) -> Js {
    let function = match kind {
        SearchKind::Match => "regex_match",
        SearchKind::Search => "regex_search",
    };
    let original = pattern;
    let pattern = match (multiline, &pattern.ty) {
        (false, _) => pattern.expr.clone(),
        (true, Some("string")) => {
            let text = pattern.expr.trim_matches('\'');
            if pattern.expr.starts_with('\'') {
                format!("'(?m){text}'")
            } else {
                format!("join('', ['(?m)', {}])", pattern.expr)
            }
        }
        (true, _) => format!("join('', ['(?m)', {}])", pattern.expr),
    };
    let flag = if ignorecase { ", `true`" } else { "" };
    let e = &operand.expr;
    if operand.ty.is_some_and(|ty| ty != "string") {
        // A literal that is not a string never matches (and would not compile as an argument).
        return Js::primary(format!("`{}`", !matches));
    }
    let mut checks = vec![Js::new(format!("type({e}) == 'string'"), Level::Compare)];
    if original.ty.is_none() {
        // A pattern from vars: a value that is not a string would be an evaluation error.
        checks.push(Js::new(
            format!("type({}) == 'string'", original.expr),
            Level::Compare,
        ));
    }
    checks.push(Js::primary(format!("{function}({e}, {pattern}{flag})")));
    let found = all(checks);
    if matches {
        return found;
    }
    let mut parts: Vec<Js> = operand.def.iter().map(|d| Js::primary(d.clone())).collect();
    parts.push(found.not());
    all(parts)
}
