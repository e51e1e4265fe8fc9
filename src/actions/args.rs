//! Reading an action's rendered arguments (JSON after templating) into typed values, with errors
//! that name the action and the argument. The rendered mapping is read into the action's own spec
//! struct (`rulebook::action::spec`, the one that checked the keys at load), and each field into a
//! value ([`arg!`]); this module checks what the values turned into once rendered (a duration that
//! does not parse, a list that is not a list). It does not decide defaults; each action does.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::rulebook::action::RenderedAction;

/// A rendered argument has the wrong shape or is missing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgsError {
    #[error("`{action}` needs the argument `{arg}`")]
    Missing { action: &'static str, arg: String },
    #[error("`{action}` argument `{arg}`: {reason}")]
    Invalid {
        action: &'static str,
        arg: String,
        reason: String,
    },
}

/// One argument of a rendered action: its key, as the action's spec struct names the field, and
/// its value (`None` when absent or null). Made with [`arg!`].
#[derive(Debug, Clone, Copy)]
pub struct Arg<'a> {
    key: &'static str,
    value: Option<&'a Value>,
}

impl<'a> Arg<'a> {
    pub fn new(key: &'static str, value: Option<&'a Value>) -> Arg<'a> {
        Arg { key, value }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    pub fn value(&self) -> Option<&'a Value> {
        self.value
    }
}

/// A spec field after rendering: a required one (`Value`) or an optional one (`Option<Value>`);
/// an explicit `null` counts as absent.
pub trait Present {
    fn present(&self) -> Option<&Value>;
}

impl Present for Value {
    fn present(&self) -> Option<&Value> {
        (!self.is_null()).then_some(self)
    }
}

impl Present for Option<Value> {
    fn present(&self) -> Option<&Value> {
        self.as_ref().filter(|value| !value.is_null())
    }
}

/// `arg!(spec.url)`: the field `url` of a rendered spec as an [`Arg`], keyed by the field's name,
/// so that the key in a message is the one the rulebook checked at load.
macro_rules! arg {
    ($spec:ident . $field:ident) => {
        $crate::actions::args::Arg::new(
            stringify!($field),
            $crate::actions::args::Present::present(&$spec.$field),
        )
    };
}
pub(crate) use arg;

/// Reads the rendered arguments of one action into typed values, naming the action in errors.
#[derive(Debug, Clone, Copy)]
pub struct Args {
    action: &'static str,
}

impl Args {
    /// The rendered `args` as the action's spec struct (`S` is its `Spec<Value>`), and a reader.
    /// `args` must be a mapping, or `null` for an action written without arguments.
    pub fn parse<S: DeserializeOwned>(
        action: &'static str,
        args: &Value,
    ) -> Result<(Args, S), ArgsError> {
        let reader = Args { action };
        let empty = Value::Object(Map::new());
        let args = match args {
            Value::Object(_) => args,
            Value::Null => &empty,
            other => {
                return Err(reader.invalid(
                    "(arguments)",
                    format!("expected a mapping, got {}", kind(other)),
                ));
            }
        };
        let spec =
            S::deserialize(args).map_err(|err| reader.invalid("(arguments)", err.to_string()))?;
        Ok((reader, spec))
    }

    /// A nested mapping argument as its spec struct (such as `retry`).
    pub fn nested<S: DeserializeOwned>(
        &self,
        arg: Arg<'_>,
        shape: &str,
    ) -> Result<Option<S>, ArgsError> {
        arg.value
            .map(|value| match value {
                Value::Object(_) => S::deserialize(value)
                    .map_err(|err| self.invalid(arg.key, format!("{shape}: {err}"))),
                other => Err(self.invalid(arg.key, format!("{shape}, got {}", kind(other)))),
            })
            .transpose()
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    pub fn invalid(&self, arg: &str, reason: impl Into<String>) -> ArgsError {
        ArgsError::Invalid {
            action: self.action,
            arg: arg.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn missing(&self, arg: &str) -> ArgsError {
        ArgsError::Missing {
            action: self.action,
            arg: arg.to_owned(),
        }
    }

    /// A scalar as text: strings as they are, numbers and booleans spelled out.
    pub fn text(&self, arg: Arg<'_>) -> Result<Option<String>, ArgsError> {
        arg.value
            .map(|value| scalar_text(value).ok_or_else(|| self.expected(arg.key, "text", value)))
            .transpose()
    }

    pub fn required_text(&self, arg: Arg<'_>) -> Result<String, ArgsError> {
        self.text(arg)?.ok_or_else(|| self.missing(arg.key))
    }

    /// A duration written like the rulebook's (`30 s`, `2 minutes`, or a number of seconds).
    pub fn duration(&self, arg: Arg<'_>) -> Result<Option<Duration>, ArgsError> {
        arg.value
            .map(|value| {
                crate::rulebook::duration::parse(value).map_err(|e| self.invalid(arg.key, e))
            })
            .transpose()
    }

    /// A non-negative whole number (a numeric string from a template is accepted).
    pub fn count(&self, arg: Arg<'_>) -> Result<Option<u64>, ArgsError> {
        arg.value
            .map(|value| {
                let number = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                number.ok_or_else(|| self.expected(arg.key, "a non-negative whole number", value))
            })
            .transpose()
    }

    /// A boolean (`"true"`/`"false"` from a template are accepted).
    pub fn flag(&self, arg: Arg<'_>) -> Result<Option<bool>, ArgsError> {
        arg.value
            .map(|value| match value {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
                Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
                other => Err(self.expected(arg.key, "true or false", other)),
            })
            .transpose()
    }

    /// A mapping whose values become text (lists and mappings as JSON), in written order.
    pub fn text_map(&self, arg: Arg<'_>) -> Result<Vec<(String, String)>, ArgsError> {
        match arg.value {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| Ok((name.clone(), text_or_json(value))))
                .collect(),
            Some(other) => Err(self.expected(arg.key, "a mapping", other)),
        }
    }

    /// A list whose items become text (lists and mappings as JSON); `null` items are errors.
    pub fn text_list(&self, arg: Arg<'_>) -> Result<Option<Vec<String>>, ArgsError> {
        let key = arg.key;
        match arg.value {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Null => Err(self.invalid(&format!("{key}[{i}]"), "is null")),
                    other => Ok(text_or_json(other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.expected(key, "a list", other)),
        }
    }

    /// A mapping, as it is.
    pub fn object<'v>(&self, arg: Arg<'v>) -> Result<Option<&'v Map<String, Value>>, ArgsError> {
        match arg.value {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.expected(arg.key, "a mapping", other)),
        }
    }

    fn expected(&self, key: &str, what: &str, got: &Value) -> ArgsError {
        self.invalid(key, format!("expected {what}, got {}", kind(got)))
    }
}

/// The rendered `lock` of an action (`webhook`, `command`, `publish`, playbooks and jobs take one):
/// actions with the same lock run one at a time.
pub fn lock(action: &RenderedAction) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        lock: Option<Value>,
    }
    let Lock { lock } = Lock::deserialize(&action.args).ok()?;
    Present::present(&lock).map(text_or_json)
}

/// Strings as they are, numbers and booleans spelled out; `None` for anything else.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Scalars as text, lists and mappings as compact JSON.
pub fn text_or_json(value: &Value) -> String {
    scalar_text(value).unwrap_or_else(|| value.to_string())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize)]
    struct Fields {
        n: Option<Value>,
        b: Option<Value>,
        d: Option<Value>,
        t: Option<Value>,
        nil: Option<Value>,
    }

    #[test]
    fn values_from_templates_are_coerced_where_unambiguous() {
        let value = json!({"n": "3", "b": "True", "d": "2 minutes", "t": 7.5, "nil": null});
        let (args, spec): (_, Fields) = Args::parse("webhook", &value).unwrap();
        assert_eq!(args.count(arg!(spec.n)).unwrap(), Some(3));
        assert_eq!(args.flag(arg!(spec.b)).unwrap(), Some(true));
        assert_eq!(
            args.duration(arg!(spec.d)).unwrap(),
            Some(Duration::from_secs(120))
        );
        assert_eq!(args.text(arg!(spec.t)).unwrap().as_deref(), Some("7.5"));
        assert_eq!(args.text(arg!(spec.nil)).unwrap(), None);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Command {
        argv: Value,
        timeout: Option<Value>,
        cwd: Option<Value>,
    }

    #[test]
    fn errors_name_the_action_and_the_argument() {
        let value = json!({"argv": "ls -l", "timeout": "soon"});
        let (args, spec): (_, Command) = Args::parse("command", &value).unwrap();
        assert_eq!(
            args.text_list(arg!(spec.argv)).unwrap_err().to_string(),
            "`command` argument `argv`: expected a list, got text"
        );
        assert!(
            args.duration(arg!(spec.timeout))
                .unwrap_err()
                .to_string()
                .starts_with("`command` argument `timeout`: invalid duration")
        );
        assert_eq!(
            args.required_text(arg!(spec.cwd)).unwrap_err().to_string(),
            "`command` needs the argument `cwd`"
        );
    }

    #[test]
    fn arguments_that_are_not_a_mapping_are_named() {
        let err = Args::parse::<Command>("command", &json!("ls")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`command` argument `(arguments)`: expected a mapping, got text"
        );
    }
}
