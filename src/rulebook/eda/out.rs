//! Writes YAML text for the translated rulebook: block mappings and sequences, scalars quoted only
//! where YAML would read them as something else, and comments. It knows YAML, not rulebooks.

use super::super::yaml::{Node, NodeKind};

/// YAML lines under construction.
#[derive(Default)]
pub struct Out {
    pub lines: Vec<String>,
}

impl Out {
    pub fn line(&mut self, indent: usize, text: impl AsRef<str>) {
        self.lines.push(format!("{:indent$}{}", "", text.as_ref()));
    }

    /// `# text` for every line of `text`.
    pub fn comment(&mut self, indent: usize, text: &str) {
        for line in text.lines() {
            self.line(indent, format!("# {line}").trim_end());
        }
    }

    /// `key: value`, the value on the following lines when it is a collection.
    pub fn field(&mut self, indent: usize, key: &str, value: &Node) {
        let key = scalar_text(key);
        match inline(value) {
            Some(text) => self.line(indent, format!("{key}: {text}")),
            None => {
                self.line(indent, format!("{key}:"));
                self.block(indent + 2, value);
            }
        }
    }

    /// `key: |-` and the text, indented: kept exactly as written.
    pub fn literal(&mut self, indent: usize, prefix: &str, text: &str) {
        self.line(indent, format!("{prefix}|-"));
        for line in text.lines() {
            self.line(indent + 2, line);
        }
    }

    /// A collection's content at `indent`.
    pub fn block(&mut self, indent: usize, value: &Node) {
        match &value.kind {
            NodeKind::Map(entries) => {
                for (key, value) in entries {
                    self.field(indent, &key.name, value);
                }
            }
            NodeKind::Seq(items) => {
                for item in items {
                    self.item(indent, item);
                }
            }
            _ => {
                if let Some(text) = inline(value) {
                    self.line(indent, text);
                }
            }
        }
    }

    /// `body` as one item of a sequence at `indent`: its first line after `- `, the others under it.
    pub fn dashed(&mut self, indent: usize, body: Out) {
        for (index, line) in body.lines.iter().enumerate() {
            let dash = if index == 0 { "- " } else { "  " };
            self.line(indent, format!("{dash}{line}").trim_end());
        }
    }

    /// `- item`; a mapping starts on the dash's line.
    pub fn item(&mut self, indent: usize, value: &Node) {
        if let Some(text) = inline(value) {
            self.line(indent, format!("- {text}"));
            return;
        }
        let start = self.lines.len();
        self.block(indent + 2, value);
        if let Some(first) = self.lines.get_mut(start) {
            *first = format!("{:indent$}- {}", "", first.trim_start());
        }
    }

    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }
}

/// A scalar or an empty collection on one line; `None` for a collection with content.
pub fn inline(value: &Node) -> Option<String> {
    Some(match &value.kind {
        NodeKind::Null => "null".to_owned(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| ".nan".to_owned(), |n| n.to_string())
        }
        NodeKind::Str(text) => scalar_text(text),
        NodeKind::Seq(items) if items.is_empty() => "[]".to_owned(),
        NodeKind::Map(entries) if entries.is_empty() => "{}".to_owned(),
        _ => return None,
    })
}

/// A string as a plain scalar when YAML reads it back as the same string, else double-quoted.
pub fn scalar_text(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | ' '))
        && !text.starts_with(['-', ' ', '.'])
        && !text.ends_with(' ')
        && text.parse::<f64>().is_err()
        && (!text.starts_with(|c: char| c.is_ascii_digit()) || text.contains(' '))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        );
    if plain {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}
