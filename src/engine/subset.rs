//! An engine that evaluates only some rulesets of its rulebook: `rules run` splits the rulesets
//! between engines on several threads (one engine per shard of partitions, and one for the rulesets
//! that need to see every partition), and each engine must leave the others' rulesets alone. Which
//! ruleset goes where is the caller's decision; this only applies it.

use super::facts::Facts;
use super::{Engine, EngineState, RulesetState, initial_state};

impl Engine {
    /// From now on, inputs reach only the rulesets named in `keep`; the others' state (rules and
    /// facts) is dropped, so their timers cannot fire here either. Events posted by a kept ruleset
    /// still reach the ruleset they name (the caller keeps such pairs together). Call it again after
    /// [`Engine::reload`], which evaluates every ruleset until then.
    pub fn keep_only(&mut self, keep: &[String]) {
        let book = &self.rulebook;
        self.state.skipped = book
            .rulesets
            .iter()
            .map(|ruleset| !keep.contains(&ruleset.name))
            .collect();
        for (skipped, (ruleset, state)) in self
            .state
            .skipped
            .iter()
            .zip(book.rulesets.iter().zip(&mut self.state.rulesets))
        {
            if *skipped {
                *state = RulesetState {
                    facts: Facts::default(),
                    rules: ruleset.rules.iter().map(initial_state).collect(),
                };
            }
        }
    }
}

impl EngineState {
    /// Whether inputs skip ruleset `r` in this engine.
    pub(super) fn skips(&self, r: usize) -> bool {
        self.skipped.get(r).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use crate::engine::Engine;
    use crate::event::Event;

    #[test]
    fn a_restricted_engine_fires_only_the_rulesets_it_keeps() {
        let source = "- name: a\n  rules:\n    - name: r\n      condition: event.x == `1`\n      action: {debug: {}}\n- name: b\n  rules:\n    - name: r\n      condition: event.x == `1`\n      action: {debug: {}}\n";
        let book = Arc::new(crate::rulebook::compile("b.yml", source).unwrap());
        let mut engine = Engine::new(Arc::clone(&book), BTreeMap::new());
        let event = || Event::from_json(serde_json::json!({"x": 1}), serde_json::json!({}));
        assert_eq!(engine.process(event(), 0).firings.len(), 2);
        engine.keep_only(&["b".to_owned()]);
        let fired: Vec<String> = engine
            .process(event(), 0)
            .firings
            .into_iter()
            .map(|f| f.ruleset)
            .collect();
        assert_eq!(fired, vec!["b".to_owned()]);
        engine.reload(book);
        assert_eq!(
            engine.process(event(), 0).firings.len(),
            2,
            "a reload lifts it"
        );
    }
}
