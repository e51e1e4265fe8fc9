//! JSON bytes straight into JMESPath values. jmespath's own `Deserialize` reads every nested value
//! into a `Box` and then copies it into an `Arc`: an extra allocation, copy and free per field of
//! every record. Here each value is built in place inside its `Arc`. The result is the same value
//! jmespath would build (a later duplicate key wins; a float that is not finite becomes null).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jmespath::{Rcvar, Variable};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Parses one JSON document.
pub fn from_slice(bytes: &[u8]) -> Result<Variable, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = deserializer.deserialize_any(Build)?;
    deserializer.end()?;
    Ok(value)
}

/// A nested value, built inside its `Arc`.
pub(super) struct Shared;

impl<'de> DeserializeSeed<'de> for Shared {
    type Value = Rcvar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Rcvar, D::Error> {
        deserializer.deserialize_any(Build).map(Arc::new)
    }
}

struct Build;

impl<'de> Visitor<'de> for Build {
    type Value = Variable;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Variable, E> {
        Ok(Variable::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Variable, E> {
        Ok(Variable::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Variable, E> {
        Ok(Variable::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Variable, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Variable::Null, Variable::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Variable, E> {
        Ok(Variable::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Variable, E> {
        Ok(Variable::String(value))
    }

    fn visit_unit<E>(self) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_none<E>(self) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Variable, D::Error> {
        deserializer.deserialize_any(Build)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Variable, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(value) = seq.next_element_seed(Shared)? {
            values.push(value);
        }
        Ok(Variable::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Variable, A::Error> {
        let mut fields = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Shared)?;
            fields.insert(key, value);
        }
        Ok(Variable::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the input, the same result as jmespath's own deserializer.
    fn same_as_jmespath(text: &str) {
        let ours = from_slice(text.as_bytes()).map_err(|e| e.to_string());
        let theirs = serde_json::from_slice::<Variable>(text.as_bytes()).map_err(|e| e.to_string());
        assert_eq!(ours, theirs, "{text}");
    }

    #[test]
    fn builds_the_values_jmespath_builds() {
        for text in [
            r#"{"serial": "Q2AB-1234", "lossPercent": 1.5, "latencyMs": 23, "up": true}"#,
            r#"{"nested": {"a": [1, -2, 3.25, null, {"b": "c"}]}, "empty": {}, "list": []}"#,
            r#"{"dup": 1, "dup": 2}"#,
            r#"{"big": 18446744073709551615, "neg": -9223372036854775808, "exp": 1e300}"#,
            r#"{"escaped": "tab\there \u00e9 \ud83d\ude00 \"q\""}"#,
            r#"[1, "two", [3]]"#,
            r#""just a string""#,
            "null",
            "  42  ",
        ] {
            same_as_jmespath(text);
        }
    }

    #[test]
    fn rejects_what_jmespath_rejects() {
        for text in ["{nope", r#"{"a": 1} trailing"#, "", "[1,]", r#"{"a" 1}"#] {
            assert!(from_slice(text.as_bytes()).is_err(), "{text}");
            same_as_jmespath(text);
        }
    }
}
