//! Python's view of decoded JSON, which the original filter's semantics rest on: truthiness (what
//! `if data.get(key)` passes), `==` (`1 == 1.0`, `True == 1`) and `str()` (the text fuzzywuzzy
//! scores: `None`, `True`, `['a', 1]`). Nothing here knows about filters.

use serde_json::Value;

/// Python's truthiness of a JSON value.
pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// Python's `==` on decoded JSON: `1 == 1.0` and `True == 1`; otherwise structural equality.
pub(super) fn python_eq(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Python's `str()` of a decoded JSON value: `None`, `True`, `6581`, `['a', 1]`, `{'k': 'v'}`.
pub(super) fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => python_repr(other, 0),
    }
}

/// Nesting beyond this is shown as `...` (like `reprlib`), so that the walk is bounded.
const MAX_REPR_DEPTH: usize = 16;

fn python_repr(value: &Value, depth: usize) -> String {
    if depth > MAX_REPR_DEPTH {
        return "...".to_owned();
    }
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => {
            let text = text.replace('\\', "\\\\");
            // Python quotes with `"` when that saves escaping a `'`.
            if text.contains('\'') && !text.contains('"') {
                format!("\"{text}\"")
            } else {
                format!("'{}'", text.replace('\'', "\\'"))
            }
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| python_repr(v, depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let key = python_repr(&Value::String(k.clone()), depth + 1);
                    format!("{key}: {}", python_repr(v, depth + 1))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_are_scored_as_python_prints_them() {
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!(true)), "True");
        assert_eq!(python_str(&json!(6581)), "6581");
        assert_eq!(python_str(&json!(["a", 1, null])), "['a', 1, None]");
        assert_eq!(python_str(&json!({"k": "it's"})), r#"{'k': "it's"}"#);
        assert_eq!(python_str(&json!([r#"a'b"c"#])), r#"['a\'b"c']"#);
    }

    #[test]
    fn truth_and_equality_are_pythons() {
        assert!(!truthy(&json!(0)) && !truthy(&json!("")) && !truthy(&json!([])));
        assert!(truthy(&json!("x")) && truthy(&json!(0.5)));
        assert!(python_eq(&json!(1), &json!(1.0)) && python_eq(&json!(true), &json!(1)));
        assert!(!python_eq(&json!("1"), &json!(1)));
    }
}
