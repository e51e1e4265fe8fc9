//! The parts of EDA's grammar with their own shapes: paths (`.key`, `["quoted key"]`, `[-1]`), lists,
//! and the argument lists of `is match/search/regex(...)` (the pattern, `ignorecase=`, `multiline=`)
//! and `is select(...)`/`is selectattr(...)` (the operator, checked against those EDA accepts). Part
//! of [`super::parse`].

use serde_json::Value;

use super::ConditionError;
use super::ast::{
    CmpOp, ElementOp, Expr, Kind, MemberOp, Path, Root, SearchKind, SearchTest, Segment,
};
use super::lex::Tok;
use super::parse::{Parser, SELECT_OPS, SELECTATTR_OPS};

impl Parser {
    /// After `is [not]`, at `match`/`search`/`regex`.
    pub(super) fn search(&mut self, negated: bool, operand: Expr) -> Result<Kind, ConditionError> {
        let kind = match self.bump().tok {
            Tok::Word(w) if w == "match" => SearchKind::Match,
            _ => SearchKind::Search,
        };
        self.expect_sym("(")?;
        let pattern = self.primary()?;
        if !matches!(
            &pattern.kind,
            Kind::Literal(Value::String(_)) | Kind::Path(_)
        ) {
            return Err(ConditionError::new(
                pattern.at,
                "the pattern must be a string or a vars path",
            ));
        }
        let mut test = SearchTest {
            kind,
            pattern: Box::new(pattern),
            ignorecase: false,
            multiline: false,
        };
        while self.is_sym(",") {
            self.next += 1;
            let at = self.at();
            let name = match self.bump().tok {
                Tok::Word(name) => name,
                _ => {
                    self.next -= 1;
                    return Err(self.unexpected("`ignorecase=` or `multiline=`"));
                }
            };
            self.expect_sym("=")?;
            let value = self.primary()?;
            let on = match value.kind {
                Kind::Literal(Value::Bool(on)) => on,
                _ => return Err(ConditionError::new(value.at, "expected true or false")),
            };
            match name.as_str() {
                "ignorecase" => test.ignorecase = on,
                "multiline" => test.multiline = on,
                _ => {
                    return Err(ConditionError::new(
                        at,
                        format!("unknown option `{name}`: EDA knows ignorecase and multiline"),
                    ));
                }
            }
        }
        self.expect_sym(")")?;
        Ok(Kind::Search {
            negated,
            operand: Box::new(operand),
            test,
        })
    }

    /// After `is [not]`, at `select` or `selectattr`.
    pub(super) fn select(&mut self, negated: bool, operand: Expr) -> Result<Kind, ConditionError> {
        let attr = self.bump().tok == Tok::Word("selectattr".into());
        self.expect_sym("(")?;
        let key = if attr {
            let (text, at) = self.string_arg("the attribute name")?;
            self.expect_sym(",")?;
            if text.is_empty() {
                return Err(ConditionError::new(at, "the attribute name is empty"));
            }
            Some(
                text.split('.')
                    .map(|k| Segment::Key(k.to_owned()))
                    .collect(),
            )
        } else {
            None
        };
        let (op_text, op_at) = self.string_arg("the operator")?;
        let op = element_op(&op_text, attr).ok_or_else(|| {
            let allowed: Vec<&str> = SELECT_OPS
                .iter()
                .chain(if attr { SELECTATTR_OPS } else { &[] })
                .copied()
                .collect();
            ConditionError::new(
                op_at,
                format!(
                    "operator `{op_text}` is not supported here; EDA knows {}",
                    allowed.join(", ")
                ),
            )
        })?;
        self.expect_sym(",")?;
        let value = self.primary()?;
        if !matches!(value.kind, Kind::Literal(_) | Kind::List(_) | Kind::Path(_)) {
            return Err(ConditionError::new(
                value.at,
                "expected a value, a list or a vars path",
            ));
        }
        self.expect_sym(")")?;
        Ok(Kind::Select {
            negated,
            operand: Box::new(operand),
            key,
            op,
            value: Box::new(value),
        })
    }

    pub(super) fn path(&mut self, root: Root, at: usize) -> Result<Expr, ConditionError> {
        let mut segments = Vec::new();
        loop {
            if self.is_sym(".") {
                self.next += 1;
                match self.bump().tok {
                    Tok::Word(w) => segments.push(Segment::Key(w)),
                    _ => {
                        self.next -= 1;
                        return Err(self.unexpected("a name after `.`"));
                    }
                }
            } else if self.is_sym("[") {
                self.next += 1;
                let negative = self.is_sym("-");
                if negative {
                    self.next += 1;
                }
                match (self.bump().tok, negative) {
                    (Tok::Str(key), false) => segments.push(Segment::Key(key)),
                    (Tok::Int(i), _) => {
                        segments.push(Segment::Index(if negative { -i } else { i }))
                    }
                    _ => {
                        self.next -= 1;
                        return Err(self.unexpected("a quoted key or an integer index"));
                    }
                }
                self.expect_sym("]")?;
            } else {
                break;
            }
        }
        Ok(Expr {
            at,
            kind: Kind::Path(Path { root, segments }),
        })
    }

    pub(super) fn list(&mut self) -> Result<Expr, ConditionError> {
        let at = self.bump().at;
        let mut items = Vec::new();
        while !self.is_sym("]") {
            let item = self.primary()?;
            if !matches!(item.kind, Kind::Literal(_) | Kind::Path(_)) {
                return Err(ConditionError::new(
                    item.at,
                    "list items are values or paths",
                ));
            }
            items.push(item);
            if !self.is_sym(",") {
                break;
            }
            self.next += 1;
        }
        self.expect_sym("]")?;
        Ok(Expr {
            at,
            kind: Kind::List(items),
        })
    }

    fn string_arg(&mut self, what: &str) -> Result<(String, usize), ConditionError> {
        let at = self.at();
        match self.bump().tok {
            Tok::Str(text) => Ok((text, at)),
            _ => {
                self.next -= 1;
                Err(self.unexpected(&format!("{what} as a quoted string")))
            }
        }
    }
}

fn element_op(text: &str, attr: bool) -> Option<ElementOp> {
    if !(SELECT_OPS.contains(&text) || attr && SELECTATTR_OPS.contains(&text)) {
        return None;
    }
    Some(match text {
        "match" => ElementOp::Search(SearchKind::Match),
        "search" | "regex" => ElementOp::Search(SearchKind::Search),
        "in" | "not in" | "contains" | "not contains" => ElementOp::Member {
            op: if text.ends_with("in") {
                MemberOp::In
            } else {
                MemberOp::Contains
            },
            negated: text.starts_with("not"),
        },
        _ => ElementOp::Cmp(CmpOp::from_symbol(text)?),
    })
}
