//! A located YAML tree. serde-saphyr parses the text (rejecting duplicate keys, applying `<<` merges and
//! anchors); this module keeps the result as a [`Node`] tree in which every value and every mapping key
//! knows its line and column, so that later stages can point at the exact place of an error. It does
//! not know what a rulebook is.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, Spanned};

/// A 1-based line and column in the source text (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// One YAML value with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

/// A mapping key: always a string in rulebooks, with its own position for "unknown key" errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// YAML that could not be parsed at all, with the place the parser stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl Node {
    /// The entry for `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, value)| value)
    }

    /// The key/value pairs when this node is a mapping.
    pub fn entries(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The same mapping without the entries whose key is in `keys`; other nodes are returned unchanged.
    pub fn without_keys(&self, keys: &[&str]) -> Node {
        match &self.kind {
            NodeKind::Map(entries) => Node {
                pos: self.pos,
                kind: NodeKind::Map(
                    entries
                        .iter()
                        .filter(|(k, _)| !keys.contains(&k.name.as_str()))
                        .cloned()
                        .collect(),
                ),
            },
            _ => self.clone(),
        }
    }

    /// A short name of the node's type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) | NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The node as plain JSON (for `vars`, literal action arguments and the like).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Deeper collections are refused. Parsing recurses per level, and `rules run` re-reads rulebooks
/// and silences files on tokio's 2 MiB worker stacks, which the parser's default (64) overflowed
/// at about 50 levels in a debug build. A rulebook needs about 10.
pub const MAX_DEPTH: usize = 32;
/// Values in a file, aliases counted at each use (the parser's default, named for the message): an
/// alias bomb ("billion laughs") stops at about 100 MB and a few seconds of a debug build.
pub const MAX_NODES: usize = 250_000;

/// Parses YAML text into a located tree. An empty document is `Null`.
pub fn parse(source: &str) -> Result<Node, SyntaxError> {
    if source.trim().is_empty() {
        return Ok(Node {
            pos: Pos { line: 1, col: 1 },
            kind: NodeKind::Null,
        });
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH, max_nodes: MAX_NODES },
    };
    let parsed: Spanned<RawKind> =
        serde_saphyr::from_str_with_options(source, options).map_err(|err| {
            let pos = err.location().map(|loc| to_pos(&loc)).unwrap_or_default();
            SyntaxError {
                pos,
                message: plain_message(&err),
            }
        })?;
    Ok(RawKind::into_node(parsed))
}

/// The parser's message without its own snippet and location suffix: we render those ourselves.
/// Its limits are said in the user's words, with the limit.
fn plain_message(err: &Error) -> String {
    if let Error::Budget { breach, .. } = innermost(err) {
        return limit_message(breach);
    }
    let text = err.without_snippet().to_string();
    let first_line = text.lines().next().unwrap_or("invalid YAML").trim();
    match strip_location_suffix(first_line) {
        "recursion limit exceeded" => NESTED_TOO_DEEP.to_owned(),
        message => message.to_owned(),
    }
}

/// The flow-collection parser's own recursion limit, which has no number to quote.
const NESTED_TOO_DEEP: &str = "the YAML nests lists and mappings too deep; flatten them";

/// The error under the parser's wrappers (an alias's place, a snippet).
fn innermost(mut err: &Error) -> &Error {
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    err
}

fn limit_message(breach: &BudgetBreach) -> String {
    let limits = serde_saphyr::Budget::default();
    let more_than =
        |limit: usize, what: &str| format!("the YAML holds more than {} {what}", thousands(limit));
    match breach {
        BudgetBreach::Depth { .. } => {
            format!("the YAML nests lists and mappings more than {MAX_DEPTH} levels deep")
        }
        BudgetBreach::Nodes { .. } => more_than(
            MAX_NODES,
            "values (lists, mappings and scalars, each use of an alias counted again)",
        ),
        BudgetBreach::Events { .. } => more_than(limits.max_events, "YAML parser events"),
        BudgetBreach::Aliases { .. } => more_than(limits.max_aliases, "aliases (`*name`)"),
        BudgetBreach::Anchors { .. } => more_than(limits.max_anchors, "anchors (`&name`)"),
        BudgetBreach::Documents { .. } => more_than(limits.max_documents, "YAML documents (`---`)"),
        BudgetBreach::MergeKeys { .. } => more_than(limits.max_merge_keys, "merge keys (`<<`)"),
        BudgetBreach::ScalarBytes { .. } => {
            more_than(limits.max_total_scalar_bytes, "bytes of text in its values")
        }
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => format!(
            "{} aliases to {} anchors expand the YAML far beyond what it holds; write the values out",
            thousands(*aliases),
            thousands(*anchors)
        ),
        _ => "the YAML is too large or too complex for a rulebook".to_owned(),
    }
}

/// `250000` as `250,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn strip_location_suffix(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(idx) => &message[..idx],
        None => message,
    }
}

fn to_pos(loc: &serde_saphyr::Location) -> Pos {
    Pos {
        line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
        col: u32::try_from(loc.column()).unwrap_or(u32::MAX),
    }
}

/// The shape serde-saphyr fills in; converted to [`Node`] right after parsing.
enum RawKind {
    Scalar(NodeKind),
    Seq(Vec<Spanned<RawKind>>),
    Map(Vec<(Spanned<String>, Spanned<RawKind>)>),
}

impl RawKind {
    fn into_node(spanned: Spanned<RawKind>) -> Node {
        let pos = to_pos(&spanned.referenced);
        let kind = match spanned.value {
            RawKind::Scalar(kind) => kind,
            RawKind::Seq(items) => {
                NodeKind::Seq(items.into_iter().map(RawKind::into_node).collect())
            }
            RawKind::Map(entries) => NodeKind::Map(
                entries
                    .into_iter()
                    .map(|(key, value)| {
                        let key = Key {
                            pos: to_pos(&key.referenced),
                            name: key.value,
                        };
                        (key, RawKind::into_node(value))
                    })
                    .collect(),
            ),
        };
        Node { pos, kind }
    }
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Null))
    }

    fn visit_none<E>(self) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawKind, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawKind, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(RawKind::Scalar(NodeKind::Int(i))),
            // Past i64 a float keeps the magnitude, which is what JSON consumers would do anyway.
            Err(_) => Ok(RawKind::Scalar(NodeKind::Float(v as f64))),
        }
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Str(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Scalar(NodeKind::Str(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawKind>>()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<RawKind>>()?;
            entries.push((key, value));
        }
        Ok(RawKind::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values_are_one_based() {
        let node = parse("- name: a\n  rules:\n    - x: 1\n").unwrap();
        let NodeKind::Seq(items) = &node.kind else {
            panic!("not a list")
        };
        let entries = items[0].entries().unwrap();
        assert_eq!(entries[0].0.pos, Pos { line: 1, col: 3 });
        assert_eq!(entries[0].1.pos, Pos { line: 1, col: 9 });
        assert_eq!(entries[1].0.pos, Pos { line: 2, col: 3 });
        let rules = items[0].get("rules").unwrap();
        let NodeKind::Seq(rules) = &rules.kind else {
            panic!("not a list")
        };
        assert_eq!(rules[0].pos, Pos { line: 3, col: 7 });
    }

    #[test]
    fn duplicate_keys_are_rejected_with_a_position() {
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2, "{err:?}");
        assert!(err.message.to_lowercase().contains("duplicate"), "{err:?}");
    }

    #[test]
    fn merge_keys_are_applied() {
        let node = parse("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n").unwrap();
        let json = node.to_json();
        assert_eq!(json["use"], serde_json::json!({"x": 1, "y": 2}));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
        assert!(!err.message.contains("at line"), "{err:?}");
    }

    /// `{a: {a: ... x}}` with `levels` mappings, as the value of a ruleset's `vars` (3 levels down).
    fn nested_vars(levels: usize) -> String {
        let nested = format!("{}x{}", "{a: ".repeat(levels), "}".repeat(levels));
        format!(
            "- name: rs\n  vars: {nested}\n  rules:\n    - {{name: r, condition: vars.a, action: {{none: {{}}}}}}\n"
        )
    }

    #[test]
    fn nesting_at_the_limit_compiles_on_a_worker_stack_and_past_it_is_a_located_error() {
        // tokio's worker stack, where `rules run` reloads rulebooks and silences files.
        let worker = std::thread::Builder::new().stack_size(2 * 1024 * 1024);
        let compiled = worker
            .spawn(|| crate::rulebook::compile("deep.yml", &nested_vars(MAX_DEPTH - 2)).is_ok())
            .unwrap();
        assert!(compiled.join().expect("no stack overflow at the limit"));

        let err = parse(&nested_vars(MAX_DEPTH - 1)).unwrap_err();
        assert_eq!(
            err.message,
            "the YAML nests lists and mappings more than 32 levels deep"
        );
        // The mapping that is one level too deep: `  vars: ` then 4 columns per `{a: `.
        assert_eq!(
            err.pos,
            Pos {
                line: 2,
                col: 9 + 4 * (MAX_DEPTH as u32 - 2)
            }
        );

        for deep in [
            "[".repeat(100_000),
            "- ".repeat(20_000),
            nested_vars(50_000),
        ] {
            let worker = std::thread::Builder::new().stack_size(2 * 1024 * 1024);
            let parsed = worker.spawn(move || parse(&deep).map(|_| ())).unwrap();
            assert!(parsed.join().expect("no stack overflow").is_err());
        }
    }

    #[test]
    fn an_alias_bomb_is_refused_in_the_users_words() {
        let mut source = String::from(
            "- name: rs\n  vars:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for level in 1..9 {
            let uses = vec![format!("*l{}", level - 1); 10].join(", ");
            source.push_str(&format!("    l{level}: &l{level} [{uses}]\n"));
        }
        let err = parse(&source).unwrap_err();
        assert_eq!(
            err.message,
            "the YAML holds more than 250,000 values (lists, mappings and scalars, each use of an alias counted again)"
        );
        assert!(err.pos.line >= 3, "{err:?}");
    }
}
