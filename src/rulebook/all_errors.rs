//! Every error of a node at once: serde stops at the first unknown key, so [`from_node_all`] takes
//! each out and reads the node again. It owns that loop; reading a node is [`super::de`]'s.

use serde::de;

use super::de::{DeError, DeErrorKind, from_node};
use super::yaml::{Node, NodeKind, Pos};

/// At most this many unknown keys are reported for one node.
const MAX_UNKNOWN_KEYS: usize = 32;

/// Like [`from_node`], but every unknown key is reported, not only the first: serde stops at the
/// first, so each is taken out and the node read again, which also reports what else is wrong
/// (a missing key) once the unknown ones are gone, unless an unknown key already said it was meant.
pub fn from_node_all<T: de::DeserializeOwned>(node: &Node) -> Result<T, Vec<DeError>> {
    let mut errors: Vec<DeError> = Vec::new();
    let mut trimmed: Option<Node> = None;
    loop {
        let current = trimmed.as_ref().unwrap_or(node);
        let err = match from_node::<T>(current) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(err) => err,
        };
        let next = err
            .pos
            .filter(|_| {
                matches!(err.kind, DeErrorKind::UnknownKey { .. })
                    && errors.len() < MAX_UNKNOWN_KEYS
            })
            .and_then(|pos| without_key_at(current, pos));
        if !meant_by_an_unknown_key(&err, &errors) {
            errors.push(err);
        }
        match next {
            Some(next) => trimmed = Some(next),
            None => return Err(errors),
        }
    }
}

/// A missing key that an earlier "unknown key, did you mean" already named.
fn meant_by_an_unknown_key(err: &DeError, earlier: &[DeError]) -> bool {
    let DeErrorKind::MissingKey(field) = err.kind else {
        return false;
    };
    earlier.iter().any(|other| {
        matches!(&other.kind, DeErrorKind::UnknownKey { meant: Some(meant) } if meant == field)
    })
}

/// `node` without the mapping entry whose key is at `pos`; `None` if there is none. Its depth is the
/// YAML's, which the parser limits.
fn without_key_at(node: &Node, pos: Pos) -> Option<Node> {
    let kind = match &node.kind {
        NodeKind::Map(entries) => {
            if let Some(index) = entries.iter().position(|(key, _)| key.pos == pos) {
                let mut entries = entries.clone();
                entries.remove(index);
                NodeKind::Map(entries)
            } else {
                let (index, child) = entries
                    .iter()
                    .enumerate()
                    .find_map(|(i, (_, value))| without_key_at(value, pos).map(|c| (i, c)))?;
                let mut entries = entries.clone();
                entries[index].1 = child;
                NodeKind::Map(entries)
            }
        }
        NodeKind::Seq(items) => {
            let (index, child) = items
                .iter()
                .enumerate()
                .find_map(|(i, item)| without_key_at(item, pos).map(|c| (i, c)))?;
            let mut items = items.clone();
            items[index] = child;
            NodeKind::Seq(items)
        }
        _ => return None,
    };
    Some(Node {
        pos: node.pos,
        kind,
    })
}
