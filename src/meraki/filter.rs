//! The client filter file of the original `publish_clients.py` (`-f filter.json`), in JSON or YAML:
//!
//! ```json
//! {"match": "any", "conditions": [{"key": "os", "value": "PlayStation 4"}],
//!  "fuzzy": {"key": "description", "value": "printer"}}
//! ```
//!
//! Semantics are the original's (`filter/filters.py` and `select_client_records`): a condition hits
//! when the client's field is truthy (in Python's sense) and equals the value; `all` needs every
//! condition to hit (so `all` with no conditions passes everything), `any` at least one (so `any`
//! with none passes nothing). Every client the filter lets through carries `filter_config` (the
//! file's contents) and `conditional_match` (the verdict). With `fuzzy` set, conditions do not
//! filter: every client is let through with `{"fuzzy": {"ratio": R, "partial": P}}`, the
//! fuzzywuzzy scores of the value's text against the field's text, where a missing or `null` field
//! is the text `None`, as Python's `str(None)`. Keys the original ignores are ignored here too and
//! listed in [`ClientFilter::ignored`] for the caller to warn about; a missing `match` or a
//! malformed part is an error, as the original's assertions made it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::condition::fuzzy;

mod python;

use python::{python_eq, python_str, truthy};

/// Longest text scored; the scores are quadratic in the length, and client fields are short.
const MAX_FUZZY_CHARS: usize = 2047;
/// The keys the original reads: at the top, and in a condition or the fuzzy part.
const TOP_KEYS: [&str; 3] = ["match", "conditions", "fuzzy"];
const PART_KEYS: [&str; 2] = ["key", "value"];

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

/// The file's parts that the original reads, as written.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ClientFilterSpec {
    #[serde(rename = "match")]
    mode: MatchMode,
    #[serde(default)]
    conditions: Vec<ConditionSpec>,
    #[serde(default)]
    fuzzy: Option<Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum MatchMode {
    Any,
    All,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ConditionSpec {
    key: String,
    value: Value,
}

/// The original reads only `key` and `value` of the fuzzy part; the value may be any JSON.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct FuzzySpec {
    key: String,
    value: Value,
}

/// A loaded filter.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientFilter {
    mode: MatchMode,
    conditions: Vec<ConditionSpec>,
    /// The field scored and the value's text, when the file has a non-empty `fuzzy` part.
    fuzzy: Option<(String, String)>,
    /// The file as read, ignored keys included: what the original adds as `filter_config`.
    config: Value,
    ignored: Vec<String>,
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
        parsed
            .and_then(Self::from_value)
            .map_err(|message| FilterError::Invalid {
                path: path.to_owned(),
                message,
            })
    }

    /// Compiles a decoded file; keys the original ignores are set aside and named in `ignored`.
    pub fn from_value(config: Value) -> Result<Self, String> {
        let mut ignored = Vec::new();
        let known = known_parts(&config, &mut ignored)?;
        let spec: ClientFilterSpec = serde_json::from_value(known).map_err(|e| e.to_string())?;
        // The original tests `filter_config.get('fuzzy')` for truth: `{}` or `null` is no fuzzy.
        let fuzzy = match spec.fuzzy {
            Some(part) if truthy(&part) => {
                let part: FuzzySpec = serde_json::from_value(part)
                    .map_err(|e| format!("`fuzzy` needs a `key` and a `value`: {e}"))?;
                Some((part.key, python_str(&part.value)))
            }
            _ => None,
        };
        Ok(Self {
            mode: spec.mode,
            conditions: spec.conditions,
            fuzzy,
            config,
            ignored,
        })
    }

    /// Keys the original does not read (e.g. `conditions[0].note`), in file order.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
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

    /// The original `select_client_records`: the client with `filter_config`,
    /// `conditional_match` and, with `fuzzy`, the scores; `None` when the filter drops it.
    pub fn select(&self, mut client: Map<String, Value>) -> Option<Map<String, Value>> {
        let matched = self.matches(&client);
        client.insert("filter_config".into(), self.config.clone());
        client.insert("conditional_match".into(), json!(matched));
        if let Some((key, value)) = &self.fuzzy {
            let field = python_str(client.get(key).unwrap_or(&Value::Null));
            let (a, b): (String, String) = (
                value.chars().take(MAX_FUZZY_CHARS).collect(),
                field.chars().take(MAX_FUZZY_CHARS).collect(),
            );
            let scores =
                json!({"ratio": fuzzy::ratio(&a, &b), "partial": fuzzy::partial_ratio(&a, &b)});
            client.insert("fuzzy".into(), scores);
            return Some(client);
        }
        matched.then_some(client)
    }
}

/// The file without the keys the original ignores, which are named in `ignored`.
fn known_parts(config: &Value, ignored: &mut Vec<String>) -> Result<Value, String> {
    let Value::Object(top) = config else {
        return Err("expected an object with `match` and `conditions`".to_owned());
    };
    let mut known = keep(top, &TOP_KEYS, "", ignored);
    if let Some(Value::Array(conditions)) = known.get_mut("conditions") {
        for (n, condition) in conditions.iter_mut().enumerate() {
            if let Value::Object(part) = condition {
                *part = keep(part, &PART_KEYS, &format!("conditions[{n}]."), ignored);
            }
        }
    }
    if let Some(Value::Object(part)) = known.get_mut("fuzzy") {
        *part = keep(part, &PART_KEYS, "fuzzy.", ignored);
    }
    Ok(Value::Object(known))
}

fn keep(
    map: &Map<String, Value>,
    keys: &[&str],
    at: &str,
    ignored: &mut Vec<String>,
) -> Map<String, Value> {
    let (known, unknown): (Map<String, Value>, Map<String, Value>) = map
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| keys.contains(&k.as_str()));
    ignored.extend(unknown.keys().map(|k| format!("{at}{k}")));
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(value: Value) -> ClientFilter {
        ClientFilter::from_value(value).expect("valid filter")
    }

    fn client(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn any_and_all_follow_the_original() {
        let conditions = json!([{"key": "mac", "value": "26:f5:a2:3c:e4:70"},
                                {"key": "os", "value": "PlayStation 4"}]);
        let any = filter(json!({"match": "any", "conditions": conditions}));
        let all = filter(json!({"match": "all", "conditions": conditions}));
        let ps4 = client(json!({"mac": "00:00:5e:00:53:44", "os": "PlayStation 4"}));
        assert!(any.matches(&ps4));
        assert!(!all.matches(&ps4));
        assert!(!any.matches(&client(json!({"os": null}))));
    }

    #[test]
    fn empty_conditions_pass_all_and_fail_any() {
        let anything = client(json!({"mac": "x"}));
        assert!(filter(json!({"match": "all"})).matches(&anything));
        assert!(!filter(json!({"match": "any"})).matches(&anything));
    }

    #[test]
    fn falsy_client_values_never_hit_and_numbers_compare_like_python() {
        let zero = filter(json!({"match": "any", "conditions": [{"key": "vlan", "value": 0}]}));
        assert!(!zero.matches(&client(json!({"vlan": 0}))));
        let one = filter(json!({"match": "any", "conditions": [{"key": "vlan", "value": 1.0}]}));
        assert!(one.matches(&client(json!({"vlan": 1}))));
        assert!(one.matches(&client(json!({"vlan": true}))));
    }

    #[test]
    fn selected_clients_carry_the_filter_and_the_verdict() {
        let config =
            json!({"match": "any", "conditions": [{"key": "os", "value": "PlayStation 4"}]});
        let ps4 = filter(config.clone());
        let picked = ps4
            .select(client(json!({"id": "k1", "os": "PlayStation 4"})))
            .expect("matches");
        assert_eq!(
            Value::Object(picked),
            json!({"id": "k1", "os": "PlayStation 4", "filter_config": config, "conditional_match": true})
        );
        assert_eq!(
            ps4.select(client(json!({"id": "k2", "os": "Windows"}))),
            None
        );
    }

    #[test]
    fn with_fuzzy_every_client_is_kept_with_its_scores_and_null_is_the_text_none() {
        let fuzzy = filter(json!({"match": "any",
            "conditions": [{"key": "os", "value": "PlayStation 4"}],
            "fuzzy": {"key": "description", "value": "printer"}}));
        let printer = fuzzy
            .select(client(
                json!({"os": "Windows", "description": "SYNTHETIC printer 7"}),
            ))
            .expect("fuzzy keeps every client");
        assert_eq!(printer["conditional_match"], json!(false));
        assert_eq!(printer["fuzzy"], json!({"ratio": 54, "partial": 100}));
        // fuzzywuzzy on str(None): ratio("printer", "None") is 36, partial_ratio 50.
        for unset in [json!({"description": null}), json!({})] {
            let scored = fuzzy.select(client(unset)).expect("kept");
            assert_eq!(scored["fuzzy"], json!({"ratio": 36, "partial": 50}));
        }
        // An empty fuzzy part is no fuzzy part, as `if filter_config.get('fuzzy')` reads it.
        let off = filter(json!({"match": "any", "fuzzy": {}}));
        assert_eq!(off.select(client(json!({"os": "x"}))), None);
    }

    #[test]
    fn keys_the_original_ignores_are_ignored_and_named() {
        let loose = filter(json!({"match": "all", "comment": "lab",
            "conditions": [{"key": "os", "value": "iOS", "note": "phones"}],
            "fuzzy": {"key": "description", "value": "printer", "threshold": 80}}));
        assert_eq!(
            loose.ignored(),
            ["comment", "conditions[0].note", "fuzzy.threshold"]
        );
        assert!(loose.matches(&client(json!({"os": "iOS"}))));
        let kept = loose.select(client(json!({"os": "iOS"}))).expect("kept");
        assert_eq!(kept["filter_config"]["comment"], "lab");
    }

    #[test]
    fn what_the_original_asserts_on_is_an_error() {
        for bad in [
            json!({"match": "some"}),
            json!({"match": "ANY"}),
            json!({"conditions": []}),
            json!({"match": "any", "conditions": [{"value": 1}]}),
            json!({"match": "any", "fuzzy": {"value": "x"}}),
            json!(["match"]),
        ] {
            assert!(ClientFilter::from_value(bad.clone()).is_err(), "{bad}");
        }
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
