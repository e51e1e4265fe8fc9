//! Which parts of a JSON document something reads, as a prefix tree of field names ([`Needed`]),
//! and of an event ([`Reads`]: its payload and its meta): the plan the decoder follows to build
//! only those parts. It says nothing about how the tree is found
//! (the condition module walks expressions for that) and is conservative by construction: the
//! default, and anything not a plain chain of fields, is the whole value.

use std::collections::BTreeMap;

/// What is read of one JSON value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Needed {
    /// All of it: its type, its size, every field and element.
    #[default]
    Whole,
    /// Only these fields, and only when the value is an object (a field of anything else is null,
    /// so nothing else about it can be observed). An empty map reads nothing.
    Fields(BTreeMap<String, Needed>),
}

impl Needed {
    /// Nothing is read.
    pub fn nothing() -> Needed {
        Needed::Fields(BTreeMap::new())
    }

    pub fn is_whole(&self) -> bool {
        matches!(self, Needed::Whole)
    }

    /// Marks the value at `path` (field names from this value) as read whole.
    pub fn require<'a>(&mut self, path: impl IntoIterator<Item = &'a str>) {
        let mut current = self;
        for name in path {
            let Needed::Fields(fields) = current else {
                return;
            };
            current = fields
                .entry(name.to_owned())
                .or_insert_with(Needed::nothing);
        }
        *current = Needed::Whole;
    }

    /// What is read of field `name` of this value.
    pub fn field(&self, name: &str) -> Needed {
        match self {
            Needed::Whole => Needed::Whole,
            Needed::Fields(fields) => fields.get(name).cloned().unwrap_or_else(Needed::nothing),
        }
    }

    /// Adds what `other` reads. The depth of both trees is that of the expressions they came from,
    /// which the condition compiler bounds.
    pub fn merge(&mut self, other: Needed) {
        match (&mut *self, other) {
            (Needed::Whole, _) => {}
            (_, Needed::Whole) => *self = Needed::Whole,
            (Needed::Fields(ours), Needed::Fields(theirs)) => {
                for (name, need) in theirs {
                    ours.entry(name).or_insert_with(Needed::nothing).merge(need);
                }
            }
        }
    }
}

/// What a rulebook's expressions read of an event: the plan of [`crate::event::Event::decode_reading`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reads {
    pub payload: Needed,
    /// Whether anything reads `meta`; when nothing does, it is built only if a firing needs it.
    pub meta: bool,
}

impl Reads {
    /// Everything: what decoding whole builds.
    pub fn everything() -> Reads {
        Reads {
            payload: Needed::Whole,
            meta: true,
        }
    }

    /// What expressions that read `document` (over the condition document's top-level names) read
    /// of an event: its `event` and its `meta`.
    pub fn of_document(document: &Needed) -> Reads {
        Reads {
            payload: document.field("event"),
            meta: document.field("meta") != Needed::nothing(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, Needed)]) -> Needed {
        Needed::Fields(
            pairs
                .iter()
                .map(|(name, need)| ((*name).to_owned(), need.clone()))
                .collect(),
        )
    }

    #[test]
    fn a_path_is_a_chain_of_fields_ending_whole() {
        let mut needed = Needed::nothing();
        needed.require(["event", "a", "b"]);
        let expected = fields(&[("event", fields(&[("a", fields(&[("b", Needed::Whole)]))]))]);
        assert_eq!(needed, expected);
        assert_eq!(needed.field("vars"), Needed::nothing());
    }

    #[test]
    fn a_whole_value_absorbs_longer_and_shorter_paths() {
        let mut needed = Needed::nothing();
        needed.require(["event", "a", "b"]);
        needed.require(["event", "a"]);
        needed.require(["event", "a", "c"]);
        assert_eq!(
            needed.field("event"),
            fields(&[("a", Needed::Whole)]),
            "{needed:?}"
        );
        needed.require([]);
        assert!(needed.is_whole());
    }

    #[test]
    fn merging_unites_the_fields_read() {
        let mut one = Needed::nothing();
        one.require(["a", "x"]);
        let mut two = Needed::nothing();
        two.require(["a", "y"]);
        two.require(["b"]);
        one.merge(two);
        let expected = fields(&[
            ("a", fields(&[("x", Needed::Whole), ("y", Needed::Whole)])),
            ("b", Needed::Whole),
        ]);
        assert_eq!(one, expected);
        one.merge(Needed::Whole);
        assert!(one.is_whole());
    }
}
