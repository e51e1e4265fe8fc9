//! Rule fingerprints: a hash of what a rule means, taken from its located YAML with the positions
//! left out, so that a reload can tell an unchanged rule (whose throttle windows and partial matches
//! it keeps) from a changed one, and a restart can tell whether state saved in the changelog still
//! belongs to the rule. The hash is FNV-1a over an explicit byte encoding, so it is the same in every
//! build and on every machine. It hashes; deciding what to keep is the engine's job.

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
    let mut hasher = Fnv1a::default();
    hash_node(&ruleset.without_keys(DISPATCH_ONLY_KEYS), &mut hasher);
    hasher.0
}

/// A rule's fingerprint: its own definition plus its ruleset's `context`.
pub fn rule(context: u64, rule: &Node) -> u64 {
    let mut hasher = Fnv1a::default();
    hasher.write(&context.to_le_bytes());
    hash_node(rule, &mut hasher);
    hasher.0
}

/// 64-bit FNV-1a: tiny, fully specified, and good enough to tell definitions apart.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn tag(&mut self, tag: u8) {
        self.write(&[tag]);
    }

    /// Length first, so that adjacent strings cannot run into each other.
    fn text(&mut self, text: &str) {
        self.write(&(text.len() as u64).to_le_bytes());
        self.write(text.as_bytes());
    }
}

/// Hashes values only: no positions, and mapping keys in sorted order, so moving, re-indenting or
/// reordering keys keeps the hash while any changed value changes it.
fn hash_node(node: &Node, hasher: &mut Fnv1a) {
    match &node.kind {
        NodeKind::Null => hasher.tag(0),
        NodeKind::Bool(b) => {
            hasher.tag(1);
            hasher.write(&[u8::from(*b)]);
        }
        NodeKind::Int(i) => {
            hasher.tag(2);
            hasher.write(&i.to_le_bytes());
        }
        NodeKind::Float(f) => {
            hasher.tag(3);
            hasher.write(&f.to_bits().to_le_bytes());
        }
        NodeKind::Str(s) => {
            hasher.tag(4);
            hasher.text(s);
        }
        NodeKind::Seq(items) => {
            hasher.tag(5);
            hasher.write(&(items.len() as u64).to_le_bytes());
            items.iter().for_each(|item| hash_node(item, hasher));
        }
        NodeKind::Map(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
            hasher.tag(6);
            hasher.write(&(sorted.len() as u64).to_le_bytes());
            for (key, value) in sorted {
                hasher.text(&key.name);
                hash_node(value, hasher);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::yaml::parse;

    const GOLDEN: &str = "42d5bb61c79bef47";

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

    /// State saved by one build is restored by the next: the fingerprint must not depend on the
    /// compiler, the platform or the process. A changed encoding must change this value on purpose.
    #[test]
    fn the_fingerprint_of_a_fixed_rule_never_changes() {
        assert_eq!(
            format!(
                "{:016x}",
                of("vars: {x: 1}\nrule: {name: r, condition: event.a}\n")
            ),
            GOLDEN
        );
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
