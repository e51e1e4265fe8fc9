//! Rule fingerprints: a hash of what a rule means, taken from its located YAML with the positions
//! left out, so that a reload can tell an unchanged rule (whose throttle windows and partial matches
//! it keeps) from a changed one. It hashes; deciding what to keep is the engine's job.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::yaml::{Node, NodeKind};

/// Ruleset keys that a rule's state does not depend on: the name (compared on its own), the rules
/// (each hashed separately), and settings that only steer how actions are sent or which rule an
/// event reaches first. Everything else (vars, sources, default_events_ttl, keys added later) counts.
const DISPATCH_ONLY_KEYS: &[&str] = &[
    "name",
    "rules",
    "hosts",
    "execution_strategy",
    "match_multiple_rules",
];

/// The part of a ruleset every one of its rules depends on.
pub fn ruleset_context(ruleset: &Node) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_node(&ruleset.without_keys(DISPATCH_ONLY_KEYS), &mut hasher);
    hasher.finish()
}

/// A rule's fingerprint: its own definition plus its ruleset's `context`. Stable within one process
/// (the hasher has fixed keys), which is all a reload compares.
pub fn rule(context: u64, rule: &Node) -> u64 {
    let mut hasher = DefaultHasher::new();
    context.hash(&mut hasher);
    hash_node(rule, &mut hasher);
    hasher.finish()
}

/// Hashes values only: no positions, and mapping keys in sorted order, so moving, re-indenting or
/// reordering keys keeps the hash while any changed value changes it.
fn hash_node(node: &Node, hasher: &mut DefaultHasher) {
    match &node.kind {
        NodeKind::Null => 0u8.hash(hasher),
        NodeKind::Bool(b) => (1u8, b).hash(hasher),
        NodeKind::Int(i) => (2u8, i).hash(hasher),
        NodeKind::Float(f) => (3u8, f.to_bits()).hash(hasher),
        NodeKind::Str(s) => (4u8, s).hash(hasher),
        NodeKind::Seq(items) => {
            (5u8, items.len()).hash(hasher);
            items.iter().for_each(|item| hash_node(item, hasher));
        }
        NodeKind::Map(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
            (6u8, sorted.len()).hash(hasher);
            for (key, value) in sorted {
                key.name.hash(hasher);
                hash_node(value, hasher);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::yaml::parse;

    fn of(yaml: &str) -> u64 {
        let root = parse(yaml).unwrap();
        rule(ruleset_context(&root), root.get("rule").unwrap())
    }

    #[test]
    fn positions_comments_and_key_order_do_not_count() {
        let a = of("vars: {x: 1}\nrule: {name: r, condition: event.a}\n");
        let b = of("# moved\n\n\nrule:\n  condition: event.a   # why\n  name: r\nvars:\n  x: 1\n");
        assert_eq!(a, b);
    }

    #[test]
    fn any_changed_value_counts_and_dispatch_settings_do_not() {
        let base = of("vars: {x: 1}\nrule: {name: r, condition: event.a}\n");
        assert_ne!(
            base,
            of("vars: {x: 1}\nrule: {name: r, condition: event.b}\n")
        );
        assert_ne!(
            base,
            of("vars: {x: 2}\nrule: {name: r, condition: event.a}\n")
        );
        assert_ne!(
            base,
            of("vars: {x: '1'}\nrule: {name: r, condition: event.a}\n")
        );
        assert_eq!(
            base,
            of(
                "vars: {x: 1}\nhosts: all\nexecution_strategy: parallel\nrule: {name: r, condition: event.a}\n"
            )
        );
    }
}
