//! A ruleset's facts: a key/value mapping that `set_fact` merges into and `retract_fact` removes from,
//! kept both as JSON (for templates) and as a JMESPath value that is rebuilt only when facts change,
//! not for every event.

use std::sync::Arc;

use jmespath::{Rcvar, Variable};
use serde_json::{Map, Value};

#[derive(Debug)]
pub struct Facts {
    map: Map<String, Value>,
    variable: Rcvar,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            map: Map::new(),
            variable: Arc::new(Variable::Object(Default::default())),
        }
    }
}

impl Facts {
    pub fn map(&self) -> &Map<String, Value> {
        &self.map
    }

    pub fn variable(&self) -> &Rcvar {
        &self.variable
    }

    /// Merges `fact`'s keys into the facts.
    pub fn set(&mut self, fact: &Map<String, Value>) {
        self.map.extend(fact.clone());
        self.refresh();
    }

    /// Removes `fact`'s keys (`partial`), or every fact.
    pub fn retract(&mut self, fact: &Map<String, Value>, partial: bool) {
        if partial {
            fact.keys().for_each(|key| drop(self.map.remove(key)));
        } else {
            self.map.clear();
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        let value = Value::Object(self.map.clone());
        self.variable = Arc::new(Variable::try_from(value).unwrap_or(Variable::Null));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn set_merges_and_retract_removes_keys_or_everything() {
        let mut facts = Facts::default();
        facts.set(&object(json!({"a": 1, "b": 2})));
        facts.set(&object(json!({"b": 3})));
        assert_eq!(Value::Object(facts.map().clone()), json!({"a": 1, "b": 3}));
        assert_eq!(
            serde_json::to_value(&**facts.variable()).unwrap(),
            json!({"a": 1, "b": 3})
        );
        facts.retract(&object(json!({"a": null})), true);
        assert_eq!(Value::Object(facts.map().clone()), json!({"b": 3}));
        facts.retract(&object(json!({"x": 1})), false);
        assert!(facts.map().is_empty());
        assert_eq!(
            serde_json::to_value(&**facts.variable()).unwrap(),
            json!({})
        );
    }
}
