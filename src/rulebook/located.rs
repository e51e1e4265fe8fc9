//! [`Located<T>`]: a spec value with the place it was written, and [`Node`]'s own `Deserialize`, both
//! through a private newtype name that the node deserializer in [`super::de`] answers with
//! `{line, col, value}`. Another deserializer hands over the bare value, without a position.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use super::yaml::{Key, Node, NodeKind, Pos};

/// The newtype name that asks the node deserializer for `{line, col, value}`.
pub(super) const LOCATED: &str = "$semaphore::Located";

/// A spec value together with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub pos: Pos,
    pub value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(LOCATED, LocatedVisitor(std::marker::PhantomData))
    }
}

struct LocatedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
    type Value = Located<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a located value")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Located<T>, A::Error> {
        let mut line = 0;
        let mut col = 0;
        let mut value = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "line" => line = map.next_value()?,
                "col" => col = map.next_value()?,
                _ => value = Some(map.next_value()?),
            }
        }
        let value = value.ok_or_else(|| de::Error::custom("a located value without a value"))?;
        Ok(Located {
            pos: Pos { line, col },
            value,
        })
    }

    // Any other deserializer simply hands over the value, without a position.
    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Located<T>, D::Error> {
        Ok(Located {
            pos: Pos::default(),
            value: T::deserialize(deserializer)?,
        })
    }
}

impl<'de> Deserialize<'de> for Node {
    /// A raw subtree, kept as is for a later stage (conditions, action lists) to interpret.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Located::<RawNodeKind>::deserialize(deserializer)?;
        Ok(Node {
            pos: located.pos,
            kind: located.value.0,
        })
    }
}

struct RawNodeKind(NodeKind);

impl<'de> Deserialize<'de> for RawNodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(NodeKindVisitor)
            .map(RawNodeKind)
    }
}

struct NodeKindVisitor;

impl<'de> Visitor<'de> for NodeKindVisitor {
    type Value = NodeKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<NodeKind, E> {
        Ok(NodeKind::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<NodeKind, E> {
        Ok(NodeKind::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_owned()))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeKind::Seq(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Located<String>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((
                Key {
                    name: key.value,
                    pos: key.pos,
                },
                value,
            ));
        }
        Ok(NodeKind::Map(entries))
    }
}
