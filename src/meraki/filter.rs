//! The client filter file of the original `publish_clients.py` (`-f filter.json`), in JSON or YAML:
//!
//! ```json
//! {"match": "any", "conditions": [{"key": "os", "value": "PlayStation 4"}],
//!  "fuzzy": {"key": "description", "value": "printer"}}
//! ```
//!
//! Semantics are the original's: a condition hits when the client's field is truthy (in Python's
//! sense) and equals the value; `all` needs every condition to hit (so `all` with no conditions
//! passes everything), `any` at least one (so `any` with none passes nothing). `fuzzy` does not
//! filter: it adds `{"fuzzy": {"ratio": R, "partial": P}}` (fuzzywuzzy scores of the value against
//! the client's field) to each record. Unknown keys are errors, unlike the original, so that a typo
//! is not a filter that silently passes everything.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::condition::fuzzy;

/// Longest field text scored; the scores are quadratic in the length, and client fields are short.
const MAX_FUZZY_CHARS: usize = 2047;

/// The filter file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("cannot read the filter file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid filter file {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// A loaded filter.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientFilter {
    #[serde(rename = "match")]
    mode: MatchMode,
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    fuzzy: Option<Fuzzy>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum MatchMode {
    Any,
    All,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Condition {
    key: String,
    value: Value,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Fuzzy {
    key: String,
    value: String,
}

impl ClientFilter {
    /// Reads a JSON file, or YAML when the name ends in `.yml`/`.yaml`.
    pub fn load(path: &Path) -> Result<Self, FilterError> {
        let text = std::fs::read_to_string(path).map_err(|source| FilterError::Read {
            path: path.to_owned(),
            source,
        })?;
        let yaml = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| ext.eq_ignore_ascii_case("yml") || ext.eq_ignore_ascii_case("yaml"));
        let parsed = if yaml {
            serde_saphyr::from_str(&text).map_err(|err| err.to_string())
        } else {
            serde_json::from_str(&text).map_err(|err| err.to_string())
        };
        parsed.map_err(|message| FilterError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// The original `Conditional.compare`.
    pub fn matches(&self, client: &Map<String, Value>) -> bool {
        let hits = self
            .conditions
            .iter()
            .filter(|condition| {
                client
                    .get(&condition.key)
                    .is_some_and(|value| truthy(value) && python_eq(value, &condition.value))
            })
            .count();
        match self.mode {
            MatchMode::All => hits == self.conditions.len(),
            MatchMode::Any => hits > 0,
        }
    }

    /// The original `Fuzzy(value, client[key]).compare()`, if the filter has a `fuzzy` part. A
    /// missing or `null` field scores 0, as fuzzywuzzy scores `None`.
    pub fn fuzzy_scores(&self, client: &Map<String, Value>) -> Option<Value> {
        let spec = self.fuzzy.as_ref()?;
        let text = match client.get(&spec.key) {
            Some(Value::String(text)) => {
                Some(text.chars().take(MAX_FUZZY_CHARS).collect::<String>())
            }
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        let (ratio, partial) = text.map_or((0, 0), |text| {
            (
                fuzzy::ratio(&spec.value, &text),
                fuzzy::partial_ratio(&spec.value, &text),
            )
        });
        Some(json!({ "ratio": ratio, "partial": partial }))
    }
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// Python's `==` on decoded JSON: `1 == 1.0`; otherwise structural equality.
fn python_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(text: &str) -> ClientFilter {
        serde_json::from_str(text).expect("valid filter")
    }

    fn client(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn any_and_all_follow_the_original() {
        let any = filter(
            r#"{"match": "any", "conditions": [{"key": "mac", "value": "26:f5:a2:3c:e4:70"},
                {"key": "os", "value": "PlayStation 4"}]}"#,
        );
        let ps4 = client(json!({"mac": "00:00:5e:00:53:44", "os": "PlayStation 4"}));
        assert!(any.matches(&ps4));
        let all = ClientFilter {
            mode: MatchMode::All,
            ..any.clone()
        };
        assert!(!all.matches(&ps4));
        assert!(!any.matches(&client(json!({"os": null}))));
    }

    #[test]
    fn empty_conditions_pass_all_and_fail_any() {
        let anything = client(json!({"mac": "x"}));
        assert!(filter(r#"{"match": "all"}"#).matches(&anything));
        assert!(!filter(r#"{"match": "any"}"#).matches(&anything));
    }

    #[test]
    fn falsy_client_values_never_hit_and_numbers_compare_like_python() {
        let zero = filter(r#"{"match": "any", "conditions": [{"key": "vlan", "value": 0}]}"#);
        assert!(!zero.matches(&client(json!({"vlan": 0}))));
        let one = filter(r#"{"match": "any", "conditions": [{"key": "vlan", "value": 1.0}]}"#);
        assert!(one.matches(&client(json!({"vlan": 1}))));
    }

    #[test]
    fn fuzzy_scores_are_fuzzywuzzy_and_zero_for_null() {
        let fuzzy =
            filter(r#"{"match": "all", "fuzzy": {"key": "description", "value": "printer"}}"#);
        let scores = fuzzy.fuzzy_scores(&client(json!({"description": "SYNTHETIC printer 7"})));
        assert_eq!(scores, Some(json!({"ratio": 54, "partial": 100})));
        let scores = fuzzy.fuzzy_scores(&client(json!({"description": null})));
        assert_eq!(scores, Some(json!({"ratio": 0, "partial": 0})));
    }

    #[test]
    fn unknown_keys_and_bad_match_modes_are_errors() {
        assert!(serde_json::from_str::<ClientFilter>(r#"{"match": "some"}"#).is_err());
        assert!(
            serde_json::from_str::<ClientFilter>(r#"{"match": "any", "condition": []}"#).is_err()
        );
    }

    #[test]
    fn yaml_files_load_like_json() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("filter.yaml");
        std::fs::write(
            &path,
            "match: any\nconditions:\n  - key: os\n    value: PlayStation 4\n",
        )
        .expect("written");
        let loaded = ClientFilter::load(&path).expect("loads");
        assert!(loaded.matches(&client(json!({"os": "PlayStation 4"}))));
    }
}
