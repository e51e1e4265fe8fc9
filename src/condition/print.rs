//! Expressions printed back as JMESPath that parses to the same meaning, for `--explain` and for the
//! load-time messages that quote part of a condition. The parsed tree keeps no text, and a pipe gives
//! the same node as a dot (`a | b` and `a.b` are both a sub-expression), so the spelling comes from
//! the tree: a dot where the next part can follow one, a pipe after a projection (which would
//! otherwise take the rest in, `a[*] | [0]` is not `a[*][0]`), parentheses where precedence needs
//! them. Every tree the parser builds prints this way (a property test holds it to that).

use jmespath::Variable;
use jmespath::ast::{Ast, Comparator, KeyValuePair};

use super::expr::Expr;

/// Binding powers, on the parser's scale: how tightly an operator holds its operands.
type Power = u8;
/// `&x` takes everything after it.
const EXPREF: Power = 0;
const PIPE: Power = 1;
const OR: Power = 2;
const AND: Power = 3;
const COMPARE: Power = 5;
/// `[]`, and how far a flatten projection reaches (everything tighter than a comparison).
const FLATTEN: Power = 9;
/// How far a `[*]`, `.*` or slice projection reaches.
const STAR: Power = 20;
/// `[?`, and how far a filter projection reaches.
const FILTER: Power = 21;
/// `!` is printed as if it bound less than a dot, so that `(!a).b` keeps its parentheses.
const NOT: Power = 30;
/// The power of `!`'s operand in the parser.
const NOT_OPERAND: Power = 45;
const DOT: Power = 40;
/// `[0]`, `[*]`, `[1:2]` after an expression.
const BRACKET: Power = 55;
const ATOM: Power = 100;

/// The first token of a printed text, which decides how it can follow another expression.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lead {
    /// An identifier or a function call: after a dot.
    Name,
    /// `*` and `{...}`: after a dot too.
    Star,
    /// `[a, b]`: after a dot, where it ends a projection's right side.
    List,
    /// `[0]`, `[*]`, `[?...]`, `[]`, `[1:2]` with the power of that bracket: directly.
    Bracket(Power),
    /// Literals, `@`, `!`, `&`, parentheses: only after a pipe.
    Other,
}

struct Printed {
    text: String,
    /// The loosest operator at the top of the text that is not a link of a chain (`.`, `[`, `[?`,
    /// `[]`): ATOM for a chain, else the operator's power.
    power: Power,
    /// The loosest link of the chain at the top of the text.
    link: Power,
    /// How far a projection still open at the end of the text reaches: a following link binding
    /// tighter would be taken into it.
    open: Option<Power>,
    lead: Lead,
}

impl Printed {
    fn atom(text: String, lead: Lead) -> Printed {
        Printed {
            text,
            power: ATOM,
            link: ATOM,
            open: None,
            lead,
        }
    }

    fn operator(text: String, power: Power, open: Option<Power>, lead: Lead) -> Printed {
        Printed {
            text,
            power,
            link: ATOM,
            open,
            lead,
        }
    }

    fn parenthesized(self) -> Printed {
        Printed::atom(format!("({})", self.text), Lead::Other)
    }

    fn at_least(self, power: Power) -> Printed {
        if self.power >= power {
            self
        } else {
            self.parenthesized()
        }
    }

    /// Whether a link of power `token` written after this text would land inside its projection.
    fn absorbs(&self, token: Power) -> bool {
        self.open.is_some_and(|reach| token > reach)
    }

    /// Ready to be followed by a link of power `token`: a chain that keeps it outside.
    fn before_link(self, token: Power) -> Printed {
        if self.power < ATOM || self.absorbs(token) {
            self.parenthesized()
        } else {
            self
        }
    }
}

/// The expression as valid JMESPath.
pub fn printed(expr: &Expr) -> String {
    text(expr.ast())
}

/// A sub-expression as valid JMESPath.
pub fn text(node: &Ast) -> String {
    print(node).text
}

fn print(node: &Ast) -> Printed {
    match node {
        Ast::Identity { .. } => Printed::atom("@".into(), Lead::Other),
        Ast::Field { name, .. } => Printed::atom(field_name(name), Lead::Name),
        Ast::Literal { value, .. } => Printed::atom(literal(value), Lead::Other),
        Ast::Index { idx, .. } => Printed::atom(format!("[{idx}]"), Lead::Bracket(BRACKET)),
        Ast::Function { name, args, .. } => {
            Printed::atom(format!("{name}({})", list(args)), Lead::Name)
        }
        Ast::MultiList { elements, .. } => {
            Printed::atom(format!("[{}]", list(elements)), Lead::List)
        }
        Ast::MultiHash { elements, .. } => Printed::atom(hash(elements), Lead::Star),
        Ast::Not { node, .. } => not(node),
        Ast::Expref { ast, .. } => {
            Printed::operator(format!("&{}", text(ast)), EXPREF, None, Lead::Other)
        }
        Ast::Comparison {
            comparator,
            lhs,
            rhs,
            ..
        } => binary(lhs, operator(comparator), rhs, COMPARE),
        Ast::And { lhs, rhs, .. } => binary(lhs, "&&", rhs, AND),
        Ast::Or { lhs, rhs, .. } => binary(lhs, "||", rhs, OR),
        Ast::Subexpr { lhs, rhs, .. } => subexpression(lhs, rhs),
        Ast::Projection { lhs, rhs, .. } => projection(lhs, rhs),
        // The parser builds these only as parts of a projection, printed above; on their own they
        // print as the projection that holds them.
        Ast::Condition { .. } | Ast::Slice { .. } => projection(node, &identity()),
        Ast::Flatten { .. } | Ast::ObjectValues { .. } => projection(node, &identity()),
    }
}

fn identity() -> Ast {
    Ast::Identity { offset: 0 }
}

fn list(nodes: &[Ast]) -> String {
    nodes.iter().map(text).collect::<Vec<_>>().join(", ")
}

fn hash(pairs: &[KeyValuePair]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|pair| format!("{}: {}", field_name(&pair.key), text(&pair.value)))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

fn not(operand: &Ast) -> Printed {
    let inner = print(operand);
    let holds = inner.power >= ATOM && inner.link > NOT_OPERAND;
    let inner = if holds || matches!(operand, Ast::Not { .. }) {
        inner
    } else {
        inner.parenthesized()
    };
    Printed::operator(format!("!{}", inner.text), NOT, inner.open, Lead::Other)
}

/// `lhs OP rhs`, left-associative like the parser; comparisons are not chained without parentheses.
fn binary(lhs: &Ast, op: &str, rhs: &Ast, power: Power) -> Printed {
    let left_power = if power == COMPARE { power + 1 } else { power };
    let left = print(lhs).at_least(left_power);
    let right = print(rhs).at_least(power + 1);
    let text = format!("{} {op} {}", left.text, right.text);
    Printed::operator(text, power, right.open, left.lead)
}

/// `lhs.rhs` or `lhs[...]` when `rhs` can follow `lhs` as a link, else `lhs | rhs` (the same node).
fn subexpression(lhs: &Ast, rhs: &Ast) -> Printed {
    let right = print(rhs);
    if matches!(lhs, Ast::Identity { .. }) {
        // `@.x`, `@ | x` and `@[*]` are `x` and `[*]`.
        return right;
    }
    let left = print(lhs);
    let joint = match right.lead {
        Lead::Name | Lead::Star | Lead::List => Some((".", DOT)),
        Lead::Bracket(token) => Some(("", token)),
        Lead::Other => None,
    };
    match joint {
        // After a pipe chain another pipe reads better than parentheses.
        Some((separator, token))
            if right.power >= ATOM && !left.absorbs(token) && left.power != PIPE =>
        {
            let left = left.before_link(token);
            Printed {
                text: format!("{}{separator}{}", left.text, right.text),
                power: ATOM,
                link: left.link.min(token).min(right.link),
                open: right.open,
                lead: left.lead,
            }
        }
        _ => {
            let left = left.at_least(PIPE);
            let right = right.at_least(PIPE + 1);
            let text = format!("{} | {}", left.text, right.text);
            Printed::operator(text, PIPE, right.open, left.lead)
        }
    }
}

/// The parts of a projection as it is written: what it projects (none for `@`), its bracket, the
/// power of that bracket as a link, how far the projection reaches, and what it maps each element to.
struct Shape<'a> {
    base: Option<&'a Ast>,
    mark: String,
    token: Power,
    reach: Power,
    each: &'a Ast,
}

fn shape<'a>(lhs: &'a Ast, rhs: &'a Ast) -> Shape<'a> {
    let base = |node: &'a Ast| (!matches!(node, Ast::Identity { .. })).then_some(node);
    let (base, mark, token, reach, each) = match (lhs, rhs) {
        (Ast::Flatten { node, .. }, _) => (base(node), "[]".into(), FLATTEN, FLATTEN, rhs),
        (Ast::ObjectValues { node, .. }, _) => {
            let mark = if base(node).is_some() { ".*" } else { "*" };
            (base(node), mark.into(), DOT, STAR, rhs)
        }
        (
            Ast::Slice {
                start, stop, step, ..
            },
            _,
        ) => (None, slice(*start, *stop, *step), BRACKET, STAR, rhs),
        (
            _,
            Ast::Condition {
                predicate, then, ..
            },
        ) => {
            let mark = format!("[?{}]", text(predicate));
            (base(lhs), mark, FILTER, FILTER, &**then)
        }
        (
            Ast::Condition {
                predicate, then, ..
            },
            _,
        ) => (
            None,
            format!("[?{}]", text(predicate)),
            FILTER,
            FILTER,
            &**then,
        ),
        _ => (base(lhs), "[*]".into(), BRACKET, STAR, rhs),
    };
    Shape {
        base,
        mark,
        token,
        reach,
        each,
    }
}

fn projection(lhs: &Ast, rhs: &Ast) -> Printed {
    let Shape {
        base,
        mark,
        token,
        reach,
        each,
    } = shape(lhs, rhs);
    let (each, open) = projected(each, reach);
    match base {
        None => {
            let lead = if mark == "*" {
                Lead::Star
            } else {
                Lead::Bracket(token)
            };
            Printed {
                open,
                ..Printed::atom(format!("{mark}{each}"), lead)
            }
        }
        Some(base) => {
            let base = print(base).before_link(token);
            Printed {
                text: format!("{}{mark}{each}", base.text),
                power: ATOM,
                link: base.link.min(token),
                open,
                lead: base.lead,
            }
        }
    }
}

/// What a projection maps each element to, written after its bracket, and how far the projection
/// then reaches. The parser reads a link looser than `reach` as outside the projection, so such an
/// expression (never built by the parser) is wrapped in `not_null(...)`: the same value, and the
/// projection drops nulls anyway.
fn projected(each: &Ast, reach: Power) -> (String, Option<Power>) {
    let open = |inner: Option<Power>| Some(inner.map_or(reach, |inner| inner.min(reach)));
    if matches!(each, Ast::Identity { .. }) {
        // Right after its bracket a projection takes any `.`, `[` or `[?` as its right side.
        return (String::new(), Some(FLATTEN));
    }
    let printed = print(each);
    let stays = printed.power >= ATOM && printed.link > reach;
    match printed.lead {
        // `.[a, b]` ends the projection's right side: what follows applies to the whole projection.
        Lead::List if stays && matches!(each, Ast::MultiList { .. }) => {
            (format!(".{}", printed.text), None)
        }
        // Without the dot a list goes on taking links, unless it would read as `[*]`.
        Lead::List if stays && !printed.text.starts_with("[*]") => {
            (printed.text, open(printed.open))
        }
        Lead::Name | Lead::Star if stays => (format!(".{}", printed.text), open(printed.open)),
        Lead::Bracket(token) if stays && token > FLATTEN => (printed.text, open(printed.open)),
        _ => (format!(".not_null({})", printed.text), Some(reach)),
    }
}

fn slice(start: Option<i32>, stop: Option<i32>, step: i32) -> String {
    let bound = |b: Option<i32>| b.map(|n| n.to_string()).unwrap_or_default();
    let step = if step == 1 {
        String::new()
    } else {
        format!(":{step}")
    };
    format!("[{}:{}{step}]", bound(start), bound(stop))
}

pub(super) fn operator(op: &Comparator) -> &'static str {
    match op {
        Comparator::Equal => "==",
        Comparator::NotEqual => "!=",
        Comparator::LessThan => "<",
        Comparator::LessThanEqual => "<=",
        Comparator::GreaterThan => ">",
        Comparator::GreaterThanEqual => ">=",
    }
}

/// A string as a raw string literal (`'down'`) when it can be one, anything else as JSON in backticks.
fn literal(value: &Variable) -> String {
    match value {
        Variable::String(s) if !s.contains('\\') && !s.chars().any(char::is_control) => {
            format!("'{}'", s.replace('\'', "\\'"))
        }
        _ => {
            let json = serde_json::to_string(value).expect("a parsed literal is JSON");
            format!("`{}`", json.replace('`', "\\`"))
        }
    }
}

fn field_name(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_owned()
    } else {
        serde_json::to_string(name).expect("a string is JSON")
    }
}

#[cfg(test)]
mod tests;
