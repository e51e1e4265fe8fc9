//! A small YAML tree that the generators build and that renders, at random, in block or flow
//! style, so that generated rulebooks and silences files exercise both layouts of the parser.

use super::Rng;

#[derive(Debug, Clone)]
pub enum Yaml {
    /// Written as is: numbers, booleans, durations, anchors, plain words.
    Plain(String),
    /// A string, written double-quoted with JSON escapes (a subset of YAML's).
    Quoted(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn plain(text: impl Into<String>) -> Yaml {
        Yaml::Plain(text.into())
    }

    pub fn quoted(text: impl Into<String>) -> Yaml {
        Yaml::Quoted(text.into())
    }

    pub fn map(entries: Vec<(&str, Yaml)>) -> Yaml {
        Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }
}

/// The document's text, each collection in block style or (one time in six) flow style.
pub fn render(rng: &mut Rng, value: &Yaml) -> String {
    let mut out = String::new();
    block(rng, &mut out, value, 0);
    out
}

fn is_block(rng: &mut Rng, value: &Yaml) -> bool {
    match value {
        Yaml::Seq(items) => !items.is_empty() && !rng.one_in(6),
        Yaml::Map(entries) => !entries.is_empty() && !rng.one_in(6),
        _ => false,
    }
}

fn block(rng: &mut Rng, out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Seq(items) if is_block(rng, value) => {
            for item in items {
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                after_dash(rng, out, item, indent + 2);
            }
        }
        Yaml::Map(entries) if is_block(rng, value) => {
            entries_block(rng, out, entries, indent, false);
        }
        _ => {
            out.push_str(&" ".repeat(indent));
            flow(out, value);
            out.push('\n');
        }
    }
}

/// A list item's value, starting right after its `- `.
fn after_dash(rng: &mut Rng, out: &mut String, item: &Yaml, indent: usize) {
    if !is_block(rng, item) {
        flow(out, item);
        out.push('\n');
        return;
    }
    match item {
        Yaml::Map(entries) => entries_block(rng, out, entries, indent, true),
        _ => {
            out.push('\n');
            block(rng, out, item, indent);
        }
    }
}

fn entries_block(
    rng: &mut Rng,
    out: &mut String,
    entries: &[(String, Yaml)],
    indent: usize,
    first_inline: bool,
) {
    for (index, (key, value)) in entries.iter().enumerate() {
        if index > 0 || !first_inline {
            out.push_str(&" ".repeat(indent));
        }
        flow_key(out, key);
        out.push(':');
        if is_block(rng, value) {
            out.push('\n');
            block(rng, out, value, indent + 2);
        } else {
            out.push(' ');
            flow(out, value);
            out.push('\n');
        }
    }
}

fn flow(out: &mut String, value: &Yaml) {
    match value {
        Yaml::Plain(text) => out.push_str(text),
        Yaml::Quoted(text) => out.push_str(&serde_json::Value::from(text.as_str()).to_string()),
        Yaml::Seq(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                flow(out, item);
            }
            out.push(']');
        }
        Yaml::Map(entries) => {
            out.push('{');
            for (index, (key, value)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                flow_key(out, key);
                out.push_str(": ");
                flow(out, value);
            }
            out.push('}');
        }
    }
}

fn flow_key(out: &mut String, key: &str) {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if simple {
        out.push_str(key);
    } else {
        flow(out, &Yaml::Quoted(key.to_owned()));
    }
}
