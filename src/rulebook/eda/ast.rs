//! The parsed form of one ansible-rulebook condition: what [`super::parse`] builds and
//! [`super::emit`] turns into JMESPath. Every node keeps its character offset in the condition text,
//! so that translation errors point at the construct. It holds no JMESPath knowledge.

use serde_json::Value;

/// One node and where it starts (characters from the start of the condition).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub at: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Path(Path),
    Literal(Value),
    /// `[1, "a", event.x]`: elements are literals or paths.
    List(Vec<Expr>),
    /// `a + b` (`minus: false`) or `a - b`.
    Arith {
        minus: bool,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `left in right`, `left contains right` and their `not` forms.
    Member {
        op: MemberOp,
        negated: bool,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Defined {
        negated: bool,
        operand: Box<Expr>,
    },
    Search {
        negated: bool,
        operand: Box<Expr>,
        test: SearchTest,
    },
    /// `is select(op, value)` (`key: None`) or `is selectattr(key, op, value)`.
    Select {
        negated: bool,
        operand: Box<Expr>,
        key: Option<Vec<Segment>>,
        op: ElementOp,
        value: Box<Expr>,
    },
    Not(Box<Expr>),
    /// `and` / `or`: one precedence level, folded left to right as EDA does.
    Logic {
        and: bool,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `events.NAME << condition`: names the match for later conditions of an `all:`.
    Assign {
        name: String,
        condition: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator that is true exactly where this one is false, among comparable values.
    pub fn complement(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
        }
    }

    pub fn from_symbol(symbol: &str) -> Option<CmpOp> {
        [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ]
        .into_iter()
        .find(|op| op.symbol() == symbol)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberOp {
    In,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// Anchored at the start (Python's `re.match`).
    Match,
    /// Anywhere; EDA's `regex` means the same.
    Search,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchTest {
    pub kind: SearchKind,
    pub pattern: Box<Expr>,
    pub ignorecase: bool,
    pub multiline: bool,
}

/// The test `select`/`selectattr` apply to each element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementOp {
    Cmp(CmpOp),
    Search(SearchKind),
    Member { op: MemberOp, negated: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Event,
    Events,
    Fact,
    Facts,
    Vars,
}

impl Root {
    pub fn from_word(word: &str) -> Option<Root> {
        Some(match word {
            "event" => Root::Event,
            "events" => Root::Events,
            "fact" => Root::Fact,
            "facts" => Root::Facts,
            "vars" => Root::Vars,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub root: Root,
    pub segments: Vec<Segment>,
}
