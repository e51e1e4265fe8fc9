//! Reading an action's rendered arguments (JSON after templating) into typed values, with errors
//! that name the action and the argument. The rulebook loader already checked which keys exist;
//! this module checks what the values turned into once rendered (a duration that does not parse,
//! a list that is not a list). It does not decide defaults; each action does.

use std::time::Duration;

use serde_json::{Map, Value};

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

/// The rendered argument mapping of one action.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    action: &'static str,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Args<'a> {
    /// `args` must be a mapping, or `null` for an action written without arguments.
    pub fn new(action: &'static str, args: &'a Value) -> Result<Args<'a>, ArgsError> {
        match args {
            Value::Object(map) => Ok(Args {
                action,
                map: Some(map),
            }),
            Value::Null => Ok(Args { action, map: None }),
            other => Err(ArgsError::Invalid {
                action,
                arg: "(arguments)".into(),
                reason: format!("expected a mapping, got {}", kind(other)),
            }),
        }
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The value of `key`; an explicit `null` counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map?.get(key).filter(|value| !value.is_null())
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
    pub fn text(&self, key: &str) -> Result<Option<String>, ArgsError> {
        self.get(key)
            .map(|value| scalar_text(value).ok_or_else(|| self.expected(key, "text", value)))
            .transpose()
    }

    pub fn required_text(&self, key: &str) -> Result<String, ArgsError> {
        self.text(key)?.ok_or_else(|| self.missing(key))
    }

    /// A duration written like the rulebook's (`30 s`, `2 minutes`, or a number of seconds).
    pub fn duration(&self, key: &str) -> Result<Option<Duration>, ArgsError> {
        self.get(key)
            .map(|value| crate::rulebook::duration::parse(value).map_err(|e| self.invalid(key, e)))
            .transpose()
    }

    /// A non-negative whole number (a numeric string from a template is accepted).
    pub fn count(&self, key: &str) -> Result<Option<u64>, ArgsError> {
        self.get(key)
            .map(|value| {
                let number = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                number.ok_or_else(|| self.expected(key, "a non-negative whole number", value))
            })
            .transpose()
    }

    /// A boolean (`"true"`/`"false"` from a template are accepted).
    pub fn flag(&self, key: &str) -> Result<Option<bool>, ArgsError> {
        self.get(key)
            .map(|value| match value {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
                Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
                other => Err(self.expected(key, "true or false", other)),
            })
            .transpose()
    }

    /// A mapping whose values become text (lists and mappings as JSON), in written order.
    pub fn text_map(&self, key: &str) -> Result<Vec<(String, String)>, ArgsError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| Ok((name.clone(), text_or_json(value))))
                .collect(),
            Some(other) => Err(self.expected(key, "a mapping", other)),
        }
    }

    /// A list whose items become text (lists and mappings as JSON); `null` items are errors.
    pub fn text_list(&self, key: &str) -> Result<Option<Vec<String>>, ArgsError> {
        match self.get(key) {
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
    pub fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ArgsError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.expected(key, "a mapping", other)),
        }
    }

    fn expected(&self, key: &str, what: &str, got: &Value) -> ArgsError {
        self.invalid(key, format!("expected {what}, got {}", kind(got)))
    }
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

    #[test]
    fn values_from_templates_are_coerced_where_unambiguous() {
        let value = json!({"n": "3", "b": "True", "d": "2 minutes", "t": 7.5, "nil": null});
        let args = Args::new("webhook", &value).unwrap();
        assert_eq!(args.count("n").unwrap(), Some(3));
        assert_eq!(args.flag("b").unwrap(), Some(true));
        assert_eq!(args.duration("d").unwrap(), Some(Duration::from_secs(120)));
        assert_eq!(args.text("t").unwrap().as_deref(), Some("7.5"));
        assert_eq!(args.text("nil").unwrap(), None);
    }

    #[test]
    fn errors_name_the_action_and_the_argument() {
        let value = json!({"argv": "ls -l", "timeout": "soon"});
        let args = Args::new("command", &value).unwrap();
        assert_eq!(
            args.text_list("argv").unwrap_err().to_string(),
            "`command` argument `argv`: expected a list, got text"
        );
        assert!(
            args.duration("timeout")
                .unwrap_err()
                .to_string()
                .starts_with("`command` argument `timeout`: invalid duration")
        );
        assert_eq!(
            args.required_text("cwd").unwrap_err().to_string(),
            "`command` needs the argument `cwd`"
        );
    }
}
