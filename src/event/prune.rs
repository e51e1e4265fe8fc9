//! JSON bytes into the part of a document the rules read ([`Needed`]). Values nobody reads are
//! still parsed in full, through the same serde_json paths as a full decode: strings (keys
//! included) are checked for bad escapes and lone surrogates, numbers for range, nesting for depth.
//! So a payload is accepted, or rejected with the same message, exactly when [`super::json`] would
//! accept or reject it; only nothing is built for what is skipped. serde's `IgnoredAny` is not used
//! for skipping: serde_json checks neither escapes nor number ranges on that path.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jmespath::{Rcvar, Variable};
use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::json::Shared;
use super::needed::Needed;

/// What was decoded: the pruned object, or what the document was instead of an object.
pub type Decoded = Result<Variable, &'static str>;

/// Parses one JSON document that is already known to be UTF-8, building the fields in `needed`.
pub fn from_str(
    text: &str,
    needed: &BTreeMap<String, Needed>,
) -> Result<Decoded, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let decoded = deserializer.deserialize_any(Top(needed))?;
    deserializer.end()?;
    Ok(decoded)
}

/// The document itself: an object is pruned, anything else is named (after being checked).
struct Top<'n>(&'n BTreeMap<String, Needed>);

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Decoded;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Decoded, E> {
        Ok(Err("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Decoded, E> {
        Ok(Err("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Decoded, E> {
        Ok(Err("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Decoded, E> {
        Ok(Err("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Decoded, E> {
        Ok(Err("a string"))
    }

    fn visit_unit<E>(self) -> Result<Decoded, E> {
        Ok(Err("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Decoded, A::Error> {
        Skip.visit_seq(seq)?;
        Ok(Err("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Decoded, A::Error> {
        pick(map, self.0).map(Ok)
    }
}

/// The needed fields of an object; every other field is checked and dropped. A later duplicate
/// key replaces an earlier one, as in a full decode.
fn pick<'de, A: MapAccess<'de>>(
    mut map: A,
    needed: &BTreeMap<String, Needed>,
) -> Result<Variable, A::Error> {
    let mut fields = BTreeMap::new();
    while let Some(key) = map.next_key_seed(Key(needed))? {
        match key {
            Some((name, need)) => {
                let value = map.next_value_seed(Part(need))?;
                fields.insert(name.clone(), value);
            }
            None => map.next_value::<Skip>().map(|_| ())?,
        }
    }
    Ok(Variable::Object(fields))
}

/// A key, looked up among the needed fields without allocating.
struct Key<'n>(&'n BTreeMap<String, Needed>);

impl<'de, 'n> DeserializeSeed<'de> for Key<'n> {
    type Value = Option<(&'n String, &'n Needed)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'n> Visitor<'de> for Key<'n> {
    type Value = Option<(&'n String, &'n Needed)>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(super::lookup::field(self.0, key))
    }
}

/// A needed value: built whole, or pruned further when only some of its fields are read.
struct Part<'n>(&'n Needed);

impl<'de> DeserializeSeed<'de> for Part<'_> {
    type Value = Rcvar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Rcvar, D::Error> {
        match self.0 {
            Needed::Whole => Shared.deserialize(deserializer),
            Needed::Fields(fields) => deserializer.deserialize_any(Fields(fields)).map(Arc::new),
        }
    }
}

/// A value of which only fields are read: anything but an object reads as null there (a field of
/// it is null), so null stands in for it.
struct Fields<'n>(&'n BTreeMap<String, Needed>);

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Variable;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_str<E>(self, _: &str) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_unit<E>(self) -> Result<Variable, E> {
        Ok(Variable::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Variable, A::Error> {
        Skip.visit_seq(seq)?;
        Ok(Variable::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Variable, A::Error> {
        pick(map, self.0)
    }
}

/// A value nobody reads, parsed as a full decode would parse it and then dropped.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skip, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

#[cfg(test)]
mod tests {
    use crate::event::{Event, Meta, Needed, Reads};

    fn reading(paths: &[&str]) -> Reads {
        let mut needed = Needed::nothing();
        for path in paths {
            needed.require(path.split('.'));
        }
        Reads {
            payload: needed,
            meta: false,
        }
    }

    /// Decoded whole and pruned: the same error, or both accepted.
    fn same_verdict(bytes: &[u8], reads: &Reads) {
        let meta = Meta::default();
        let whole = Event::decode(bytes, &meta).map(|_| ());
        let part = Event::decode_reading(bytes, meta.clone(), reads).map(|_| ());
        assert_eq!(part, whole, "{}", String::from_utf8_lossy(bytes));
    }

    #[test]
    fn what_is_skipped_is_still_checked_as_a_full_decode_checks_it() {
        let deep = format!(
            "{{\"a\": 1, \"x\": {}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        let cases: &[&[u8]] = &[
            br#"{"a": 1, "x": 1e400}"#,
            br#"{"a": 1, "x": -1e400}"#,
            br#"{"a": 1, "x": "\ud800"}"#,
            br#"{"a": 1, "x": "\udc00 low"}"#,
            br#"{"a": 1, "x\ud800": 1}"#,
            br#"{"a": 1, "x": "\q"}"#,
            b"{\"a\": 1, \"x\": \"tab\there\"}",
            b"{\"a\": 1, \"x\": \"\xff\"}",
            b"{\"a\": 1, \"x\xc3\": 2}",
            br#"{"a": 1, "x": [1, 2,]}"#,
            br#"{"a": 1, "x": {"y": 01}}"#,
            br#"{"a": 1, "x": {"y": 1.}}"#,
            br#"{"a": 1, "x": tru}"#,
            br#"{"a": 1} trailing"#,
            br#"{"a": 1, "x": [1, 2"#,
            br#"[1, 2"#,
            br#"[1, {"x": 1e999}]"#,
            br#"[1, 2] x"#,
            br#""text""#,
            b"",
            b"  ",
            deep.as_bytes(),
            br#"{"a": {"b": 1e400}}"#,
            br#"{"x": 18446744073709551616, "y": -9223372036854775809, "a": 1.5e300}"#,
        ];
        for reads in [reading(&["a"]), reading(&["a.b"]), reading(&[])] {
            for bytes in cases {
                same_verdict(bytes, &reads);
            }
        }
    }

    #[test]
    fn builds_only_the_fields_read() {
        let meta = Meta::default();
        let text = br#"{"a": {"b": [1, {"c": 2}], "c": 3}, "d": "x", "e": {"f": 1}}"#;
        let event =
            Event::decode_reading(text, meta.clone(), &reading(&["a.b", "e.g", "z"])).unwrap();
        let expected = serde_json::json!({"a": {"b": [1, {"c": 2}]}, "e": {}});
        assert_eq!(serde_json::to_value(&*event.payload).unwrap(), expected);
        assert!(event.is_partial());
        let whole = Event::decode(text, &meta).unwrap();
        assert_eq!(event.whole_payload(), whole.payload);
        assert!(!whole.is_partial());
    }

    #[test]
    fn a_field_of_something_else_than_an_object_reads_as_null() {
        let meta = Meta::default();
        let text = br#"{"a": {"b": 1}, "a": [{"b": 2}], "n": 5}"#;
        let event = Event::decode_reading(text, meta, &reading(&["a.b", "n.m"])).unwrap();
        let expected = serde_json::json!({"a": null, "n": null});
        assert_eq!(serde_json::to_value(&*event.payload).unwrap(), expected);
    }

    #[test]
    fn a_later_duplicate_key_wins_as_in_a_full_decode() {
        let meta = Meta::default();
        let text = br#"{"a": {"b": 1}, "x": 0, "a": {"b": 2, "c": 3}}"#;
        let event = Event::decode_reading(text, meta, &reading(&["a.b"])).unwrap();
        let expected = serde_json::json!({"a": {"b": 2}});
        assert_eq!(serde_json::to_value(&*event.payload).unwrap(), expected);
    }
}
