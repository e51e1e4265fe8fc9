//! A recursive-descent parser for ansible-rulebook 1.3.2's condition language, with its precedence
//! table (tightest first): `* /` (refused: EDA parses but cannot run them), `+ -`, `>=`, `<=`,
//! `< >`, `!=`, `==`, `is`/`is not`, `in`/`not in`/`contains`/`not contains`, `not`, `and`/`or` (one
//! level, left to right), `<<`. Nesting is bounded by [`MAX_DEPTH`]. It builds [`Expr`] trees and
//! reports located errors; what the result means is [`super::emit`]'s business.

use serde_json::Value;

use super::ConditionError;
use super::ast::{CmpOp, Expr, Kind, MemberOp, Path, Root, Segment};
use super::lex::{Tok, Token, tokens};

/// Deeper parentheses, `not`s or operator chains are refused (a located error), so that hostile input
/// cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

pub(super) const SELECT_OPS: &[&str] =
    &["==", "!=", ">", ">=", "<", "<=", "regex", "search", "match"];
pub(super) const SELECTATTR_OPS: &[&str] = &["in", "not in", "contains", "not contains"];

pub fn parse(text: &str) -> Result<Expr, ConditionError> {
    let mut parser = Parser {
        tokens: tokens(text)?,
        next: 0,
        depth: 0,
    };
    let expr = parser.assign()?;
    match parser.peek() {
        Tok::End => Ok(expr),
        _ => Err(parser.unexpected("an operator or the end of the condition")),
    }
}

pub(super) struct Parser {
    tokens: Vec<Token>,
    pub(super) next: usize,
    depth: usize,
}

impl Parser {
    fn token(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.next.min(last)]
    }

    pub(super) fn peek(&self) -> &Tok {
        &self.token().tok
    }

    pub(super) fn peek_at(&self, ahead: usize) -> &Tok {
        self.tokens
            .get(self.next + ahead)
            .map_or(&Tok::End, |t| &t.tok)
    }

    pub(super) fn at(&self) -> usize {
        self.token().at
    }

    pub(super) fn bump(&mut self) -> Token {
        let token = self.token().clone();
        self.next += 1;
        token
    }

    pub(super) fn is_sym(&self, symbol: &str) -> bool {
        matches!(self.peek(), Tok::Sym(s) if *s == symbol)
    }

    pub(super) fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w == word)
    }

    pub(super) fn expect_sym(&mut self, symbol: &str) -> Result<(), ConditionError> {
        if self.is_sym(symbol) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{symbol}`")))
        }
    }

    pub(super) fn unexpected(&self, wanted: &str) -> ConditionError {
        let found = match self.peek() {
            Tok::End => "the end of the condition".to_owned(),
            Tok::Word(w) => format!("`{w}`"),
            Tok::Int(i) => format!("`{i}`"),
            Tok::Float(f) => format!("`{f}`"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Sym(s) => format!("`{s}`"),
        };
        ConditionError::new(self.at(), format!("expected {wanted}, found {found}"))
    }

    fn deeper(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ConditionError::new(
                self.at(),
                format!("condition nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn assign(&mut self) -> Result<Expr, ConditionError> {
        let left = self.logic()?;
        if !self.is_sym("<<") {
            return Ok(left);
        }
        let at = self.bump().at;
        let name = match &left.kind {
            Kind::Path(Path {
                root: Root::Events | Root::Facts,
                segments,
            }) => match segments.as_slice() {
                [Segment::Key(name)] => Some(name.clone()),
                _ => None,
            },
            _ => None,
        };
        let Some(name) = name else {
            return Err(ConditionError::new(
                left.at,
                "the left of `<<` must be `events.NAME` or `facts.NAME`",
            ));
        };
        let condition = Box::new(self.logic()?);
        Ok(Expr {
            at,
            kind: Kind::Assign { name, condition },
        })
    }

    fn logic(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.not()?;
        let start = self.depth;
        while self.is_word("and") || self.is_word("or") {
            self.deeper()?;
            let token = self.bump();
            let right = self.not()?;
            let and = token.tok == Tok::Word("and".into());
            left = binary(token.at, left, right, |l, r| Kind::Logic {
                and,
                left: l,
                right: r,
            });
        }
        self.depth = start;
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ConditionError> {
        if !self.is_word("not") {
            return self.member();
        }
        let at = self.bump().at;
        self.deeper()?;
        let inner = self.not()?;
        self.depth -= 1;
        Ok(Expr {
            at,
            kind: Kind::Not(Box::new(inner)),
        })
    }

    /// `in`, `not in`, `contains`, `not contains` (case-insensitive, as in EDA's grammar).
    fn member(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.is_test()?;
        let start = self.depth;
        while let Some((op, negated, width)) = self.member_op() {
            self.deeper()?;
            let at = self.at();
            self.next += width;
            let right = self.is_test()?;
            left = binary(at, left, right, |l, r| Kind::Member {
                op,
                negated,
                left: l,
                right: r,
            });
        }
        self.depth = start;
        Ok(left)
    }

    fn member_op(&self) -> Option<(MemberOp, bool, usize)> {
        let word = |tok: &Tok| match tok {
            Tok::Word(w) => Some(w.to_ascii_lowercase()),
            _ => None,
        };
        let op = |w: &str| match w {
            "in" => Some(MemberOp::In),
            "contains" => Some(MemberOp::Contains),
            _ => None,
        };
        let first = word(self.peek())?;
        if first == "not" {
            return Some((op(&word(self.peek_at(1))?)?, true, 2));
        }
        Some((op(&first)?, false, 1))
    }

    fn is_test(&mut self) -> Result<Expr, ConditionError> {
        let operand = self.binary_level(0)?;
        if !self.is_word("is") {
            return Ok(operand);
        }
        let at = self.bump().at;
        let negated = self.is_word("not");
        if negated {
            self.next += 1;
        }
        let word = match self.peek() {
            Tok::Word(w) => w.clone(),
            _ => return Err(self.unexpected(TESTS)),
        };
        let kind = match word.as_str() {
            "defined" => {
                self.next += 1;
                Kind::Defined {
                    negated,
                    operand: Box::new(operand),
                }
            }
            "match" | "search" | "regex" => self.search(negated, operand)?,
            "select" | "selectattr" => self.select(negated, operand)?,
            _ => return Err(self.unexpected(TESTS)),
        };
        if self.is_word("is") {
            return Err(self.unexpected("an operator other than a second `is`"));
        }
        Ok(Expr { at, kind })
    }

    /// Comparison and arithmetic levels, loosest first; each is left-associative.
    fn binary_level(&mut self, level: usize) -> Result<Expr, ConditionError> {
        const LEVELS: &[&[&str]] = &[&["=="], &["!="], &["<", ">"], &["<="], &[">="], &["+", "-"]];
        let Some(symbols) = LEVELS.get(level) else {
            return self.product();
        };
        let mut left = self.binary_level(level + 1)?;
        let start = self.depth;
        while let Tok::Sym(s) = self.peek()
            && symbols.contains(s)
        {
            self.deeper()?;
            let token = self.bump();
            let Tok::Sym(symbol) = token.tok else {
                break;
            };
            let right = self.binary_level(level + 1)?;
            left = binary(token.at, left, right, |l, r| {
                match CmpOp::from_symbol(symbol) {
                    Some(op) => Kind::Compare {
                        op,
                        left: l,
                        right: r,
                    },
                    None => Kind::Arith {
                        minus: symbol == "-",
                        left: l,
                        right: r,
                    },
                }
            });
        }
        self.depth = start;
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, ConditionError> {
        let left = self.primary()?;
        if self.is_sym("*") || self.is_sym("/") {
            return Err(ConditionError::new(
                self.at(),
                "EDA parses `*` and `/` but cannot evaluate them (\"Unhandled token\"); compare with `+` and `-` instead",
            ));
        }
        Ok(left)
    }

    pub(super) fn primary(&mut self) -> Result<Expr, ConditionError> {
        let at = self.at();
        let literal = |value: Value| {
            Ok(Expr {
                at,
                kind: Kind::Literal(value),
            })
        };
        match self.peek().clone() {
            Tok::Sym("(") => {
                self.next += 1;
                self.deeper()?;
                let inner = self.assign()?;
                self.depth -= 1;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Tok::Sym("[") => self.list(),
            Tok::Sym("-") if matches!(self.peek_at(1), Tok::Int(_) | Tok::Float(_)) => {
                self.next += 1;
                match self.bump().tok {
                    Tok::Int(i) => literal(Value::from(-i)),
                    Tok::Float(f) => literal(Value::from(-f)),
                    _ => Err(self.unexpected("a number")),
                }
            }
            Tok::Int(i) => {
                self.next += 1;
                literal(Value::from(i))
            }
            Tok::Float(f) => {
                self.next += 1;
                literal(Value::from(f))
            }
            Tok::Str(s) => {
                self.next += 1;
                literal(Value::String(s))
            }
            Tok::Word(word) => self.word(&word),
            _ => Err(self.unexpected("a value, a path or `(`")),
        }
    }

    /// A keyword literal, a path, or (as in EDA) a bare word, which is a string: `event.s == up`.
    fn word(&mut self, word: &str) -> Result<Expr, ConditionError> {
        let at = self.at();
        if let Some(root) = Root::from_word(word) {
            self.next += 1;
            return self.path(root, at);
        }
        let value = match word {
            "true" | "True" => Value::Bool(true),
            "false" | "False" => Value::Bool(false),
            "null" => Value::Null,
            "and" | "or" | "not" | "is" | "in" | "contains" => {
                return Err(self.unexpected("a value, a path or `(`"));
            }
            _ if word.chars().all(char::is_alphanumeric) => Value::String(word.to_owned()),
            _ => {
                return Err(ConditionError::new(
                    at,
                    format!(
                        "unknown name `{word}`: paths start with event, events, fact, facts or vars"
                    ),
                ));
            }
        };
        self.next += 1;
        Ok(Expr {
            at,
            kind: Kind::Literal(value),
        })
    }
}

const TESTS: &str = "`defined`, `match`, `search`, `regex`, `select` or `selectattr` after `is`";

fn binary(
    at: usize,
    left: Expr,
    right: Expr,
    kind: impl FnOnce(Box<Expr>, Box<Expr>) -> Kind,
) -> Expr {
    Expr {
        at,
        kind: kind(Box::new(left), Box::new(right)),
    }
}
