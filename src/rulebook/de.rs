//! A serde `Deserializer` over a located [`Node`], so that the raw `*Spec` structs can be derived with
//! `deny_unknown_fields` and still report where each error is: an error raised while reading a node is
//! stamped with that node's position (or the key's, for unknown keys). [`Located<T>`] lets a spec field
//! keep its position for later, semantic errors. Only this deserializer understands `Located`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Error as _, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};

use super::yaml::{Key, Node, NodeKind, Pos};
use crate::condition::suggest::closest;

pub use super::all_errors::from_node_all;
use super::located::LOCATED;
pub use super::located::Located;

/// A deserialization error, stamped with the position of the innermost node that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub pos: Option<Pos>,
    /// How many characters the caret should cover (the offending key, when known).
    pub width: usize,
    pub message: String,
    pub(super) kind: DeErrorKind,
}

/// What [`from_node_all`](super::all_errors::from_node_all) needs to know to go on after an error.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum DeErrorKind {
    Other,
    /// A key the spec does not have, and the key it probably meant: the rest can still be checked.
    UnknownKey {
        meant: Option<String>,
    },
    MissingKey(&'static str),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            pos: None,
            width: 1,
            message: msg.to_string(),
            kind: DeErrorKind::Other,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            kind: DeErrorKind::UnknownKey {
                meant: closest(field, expected).map(str::to_owned),
            },
            ..DeError::unknown("unknown key", field, expected)
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::unknown("unknown", variant, expected)
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            kind: DeErrorKind::MissingKey(field),
            ..DeError::custom(format!("missing required key `{field}`"))
        }
    }
}

impl DeError {
    /// "unknown key `condtion`, did you mean `condition`?", or the valid names when none is close.
    fn unknown(what: &str, name: &str, expected: &[&str]) -> Self {
        let hint = match closest(name, expected) {
            Some(best) => format!(", did you mean `{best}`?"),
            None => format!("; expected one of: {}", expected.join(", ")),
        };
        DeError {
            pos: None,
            width: name.chars().count().max(1),
            message: format!("{what} `{name}`{hint}"),
            kind: DeErrorKind::Other,
        }
    }

    fn at(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }
}

/// Deserializes a spec type from a node.
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node) -> Result<T, DeError> {
    T::deserialize(node).map_err(|err| err.at(node.pos))
}

impl<'de> Deserializer<'de> for &'de Node {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.kind {
            NodeKind::Null => visitor.visit_unit(),
            NodeKind::Bool(b) => visitor.visit_bool(*b),
            NodeKind::Int(i) => visitor.visit_i64(*i),
            NodeKind::Float(f) => visitor.visit_f64(*f),
            NodeKind::Str(s) => visitor.visit_borrowed_str(s),
            NodeKind::Seq(items) => visitor.visit_seq(SeqAccess {
                items: items.iter(),
            }),
            NodeKind::Map(entries) => visitor.visit_map(MapAccess {
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|err| err.at(self.pos))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.kind {
            NodeKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED {
            return visitor.visit_map(LocatedAccess {
                pos: self.pos,
                value: LocatedValue::Node(self),
                step: 0,
            });
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (key, content) = match &self.kind {
            // `- debug` written as a bare word: the variant with no arguments.
            NodeKind::Str(name) => (
                Key {
                    name: name.clone(),
                    pos: self.pos,
                },
                None,
            ),
            NodeKind::Map(entries) if entries.len() == 1 => {
                (entries[0].0.clone(), Some(&entries[0].1))
            }
            _ => {
                return Err(DeError::custom(format!(
                    "expected a mapping with exactly one key naming the kind, found {}",
                    self.type_name()
                ))
                .at(self.pos));
            }
        };
        visitor
            .visit_enum(EnumAccess { key, content })
            .map_err(|err| err.at(self.pos))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct SeqAccess<'de> {
    items: std::slice::Iter<'de, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(node)
                .map(Some)
                .map_err(|err| err.at(node.pos)),
            None => Ok(None),
        }
    }
}

struct MapAccess<'de> {
    entries: std::slice::Iter<'de, (Key, Node)>,
    value: Option<&'de Node>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(KeyDeserializer { key })
            .map(Some)
            .map_err(|err| err.at(key.pos))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| DeError::custom("a value was requested before its key"))?;
        seed.deserialize(node).map_err(|err| err.at(node.pos))
    }
}

/// A mapping key: a plain string, or a located one for [`Node`] trees.
struct KeyDeserializer<'de> {
    key: &'de Key,
}

impl<'de> Deserializer<'de> for KeyDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(&self.key.name)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED {
            return visitor.visit_map(LocatedAccess {
                pos: self.key.pos,
                value: LocatedValue::Key(self.key),
                step: 0,
            });
        }
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// Presents a node or key as the map `{line, col, value}` to [`Located`]'s visitor.
struct LocatedAccess<'de> {
    pos: Pos,
    value: LocatedValue<'de>,
    step: u8,
}

enum LocatedValue<'de> {
    Node(&'de Node),
    Key(&'de Key),
}

impl<'de> de::MapAccess<'de> for LocatedAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let key = match self.step {
            0 => "line",
            1 => "col",
            2 => "value",
            _ => return Ok(None),
        };
        seed.deserialize(de::value::StrDeserializer::<DeError>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize(self.pos.line.into_deserializer()),
            2 => seed.deserialize(self.pos.col.into_deserializer()),
            _ => match self.value {
                LocatedValue::Node(node) => seed.deserialize(node),
                LocatedValue::Key(key) => seed.deserialize(KeyDeserializer { key }),
            },
        }
    }
}

struct EnumAccess<'de> {
    key: Key,
    content: Option<&'de Node>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = DeError;
    type Variant = VariantAccess<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let deserializer: de::value::StringDeserializer<DeError> =
            self.key.name.clone().into_deserializer();
        let variant = seed
            .deserialize(deserializer)
            .map_err(|err| err.at(self.key.pos))?;
        Ok((
            variant,
            VariantAccess {
                key: self.key,
                content: self.content,
            },
        ))
    }
}

struct VariantAccess<'de> {
    key: Key,
    content: Option<&'de Node>,
}

/// `- none:` (null) and `- debug` (bare word) both mean "no arguments": read them as an empty mapping.
static EMPTY_MAP: Node = Node {
    pos: Pos { line: 0, col: 0 },
    kind: NodeKind::Map(Vec::new()),
};

impl<'de> VariantAccess<'de> {
    fn content(&self) -> &'de Node {
        match self.content {
            Some(node) if node.kind != NodeKind::Null => node,
            _ => &EMPTY_MAP,
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let node = self.content();
        seed.deserialize(node).map_err(|err| self.locate(err))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self.content(), visitor).map_err(|err| self.locate(err))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self.content(), visitor).map_err(|err| self.locate(err))
    }
}

impl VariantAccess<'_> {
    /// An error in the arguments, at their place; for missing arguments (`- publish:`), which
    /// are read as [`EMPTY_MAP`] and carry its placeholder position, at the action's name.
    fn locate(&self, mut err: DeError) -> DeError {
        if err.pos == Some(EMPTY_MAP.pos) {
            err.pos = None;
        }
        let pos = match self.content() {
            node if node.pos == EMPTY_MAP.pos => self.key.pos,
            node => node.pos,
        };
        err.at(pos)
    }
}
