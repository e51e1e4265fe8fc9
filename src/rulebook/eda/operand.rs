//! Values inside a condition (paths, literals, lists) as JMESPath text, with what a guard needs to
//! know about them: how to test that a path is defined (`has(parent, 'key')`; a key holding null is
//! defined, as in EDA) and the JSON type, when it is known. Part of [`super::emit`].

use serde_json::Value;

use super::ConditionError;
use super::ast::{Expr, Kind, Path, Root, Segment};
use super::emit::Emitter;

/// A value as JMESPath: `def` tests that it exists (`None`: it always does, as for literals and vars,
/// which EDA substitutes when it loads the rulebook), `ty` is its JMESPath type when known.
#[derive(Debug, Clone)]
pub struct Operand {
    pub expr: String,
    pub def: Option<String>,
    pub ty: Option<&'static str>,
}

impl Operand {
    pub fn element() -> Operand {
        Operand {
            expr: "@".to_owned(),
            def: None,
            ty: None,
        }
    }

    /// A key path under the current element (`selectattr`'s key).
    pub fn element_key(segments: &[Segment]) -> Operand {
        path_operand("@", segments)
    }

    pub fn is_null(&self) -> bool {
        self.ty == Some("null")
    }
}

impl Emitter<'_> {
    pub(super) fn operand(&mut self, expr: &Expr) -> Result<Operand, ConditionError> {
        match &expr.kind {
            Kind::Literal(value) => {
                if value.as_str().is_some_and(|text| text.contains("{{")) {
                    self.warnings.push(ConditionError::new(
                        expr.at,
                        "EDA renders `{{ }}` in condition strings with the vars; semaphore compares the text as written: compare with `vars.NAME` instead",
                    ));
                }
                Ok(literal(value))
            }
            Kind::List(items) => self.list(items),
            Kind::Path(path) => Ok(self.path(path, expr.at)),
            _ => Err(ConditionError::new(
                expr.at,
                "expected a value or a path here, found a condition",
            )),
        }
    }

    fn list(&mut self, items: &[Expr]) -> Result<Operand, ConditionError> {
        let literals: Option<Vec<Value>> = items
            .iter()
            .map(|item| match &item.kind {
                Kind::Literal(value) => Some(value.clone()),
                _ => None,
            })
            .collect();
        let expr = match literals {
            Some(values) => json_literal(&Value::Array(values)),
            None => {
                let parts: Result<Vec<String>, ConditionError> = items
                    .iter()
                    .map(|item| self.operand(item).map(|o| o.expr))
                    .collect();
                format!("[{}]", parts?.join(", "))
            }
        };
        Ok(Operand {
            expr,
            def: None,
            ty: Some("array"),
        })
    }

    /// In EDA `fact` is another name for `event`, and `facts` for `events`; and a path under
    /// `events` whose first key is not a match's name (given with `<<`, or `m_N`) is the current
    /// event's, as ansible-rulebook 1.3.2 reads it (`events.kind == "x"` matches each event).
    pub(super) fn path(&mut self, path: &Path, at: usize) -> Operand {
        let mut segments = path.segments.clone();
        let root = match path.root {
            Root::Event | Root::Fact => "event",
            Root::Events | Root::Facts => match segments.first_mut() {
                Some(Segment::Key(name)) => match self.names.get(name.as_str()) {
                    Some(index) => {
                        *name = format!("m_{index}");
                        "events"
                    }
                    None if is_match_name(name) => "events",
                    None => "event",
                },
                _ => "events",
            },
            Root::Vars => {
                let rendered = path_operand("vars", &segments);
                let known = self
                    .vars
                    .and_then(|vars| super::emit_lists::lookup(vars, &segments));
                if self.vars.is_some() && known.is_none() {
                    self.warnings.push(ConditionError::new(
                        at,
                        format!(
                            "`{}` is not given (--vars, --env-vars): ansible-rulebook refuses to load without it; here it is missing, so the test is false",
                            rendered.expr
                        ),
                    ));
                }
                return Operand {
                    def: None,
                    ty: known
                        .as_ref()
                        .map(|value| literal(value).ty)
                        .unwrap_or_default(),
                    ..rendered
                };
            }
        };
        path_operand(root, &segments)
    }

    /// `is defined` on a path: vars too are tested, since their values are not known here.
    pub(super) fn defined(&mut self, expr: &Expr) -> Result<String, ConditionError> {
        match &expr.kind {
            Kind::Path(path) => {
                let operand = match path.root {
                    Root::Vars => path_operand("vars", &path.segments),
                    _ => self.path(path, expr.at),
                };
                Ok(operand.def.unwrap_or_else(|| "`true`".to_owned()))
            }
            _ => Err(ConditionError::new(
                expr.at,
                "`is defined` needs a path on its left",
            )),
        }
    }
}

/// `m_0`, `m_1`, ...: the names EDA gives the matches of an `all:` or `any:`.
fn is_match_name(key: &str) -> bool {
    key.strip_prefix("m_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn path_operand(root: &str, segments: &[Segment]) -> Operand {
    let render = |segments: &[Segment]| {
        let mut out = root.to_owned();
        for segment in segments {
            match segment {
                Segment::Key(key) if is_identifier(key) => {
                    out.push('.');
                    out.push_str(key);
                }
                Segment::Key(key) => {
                    out.push('.');
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                }
                Segment::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        out
    };
    let def = segments.split_last().map(|(last, parent)| {
        let key = match last {
            Segment::Key(key) => string_literal(key),
            Segment::Index(index) => format!("`{index}`"),
        };
        format!("has({}, {key})", render(parent))
    });
    Operand {
        expr: render(segments),
        def,
        ty: None,
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn literal(value: &Value) -> Operand {
    let (expr, ty) = match value {
        Value::String(text) => (string_literal(text), "string"),
        Value::Null => (json_literal(value), "null"),
        Value::Bool(_) => (json_literal(value), "boolean"),
        Value::Number(_) => (json_literal(value), "number"),
        Value::Array(_) => (json_literal(value), "array"),
        Value::Object(_) => (json_literal(value), "object"),
    };
    Operand {
        expr,
        def: None,
        ty: Some(ty),
    }
}

/// `'text'`, or a JSON literal when the text has a quote or a backslash (JMESPath's raw strings
/// treat some backslash sequences specially).
pub fn string_literal(text: &str) -> String {
    if text.contains(['\'', '\\', '`']) {
        json_literal(&Value::String(text.to_owned()))
    } else {
        format!("'{text}'")
    }
}

pub fn json_literal(value: &Value) -> String {
    format!("`{}`", value.to_string().replace('`', "\\`"))
}
