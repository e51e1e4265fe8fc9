//! The silences file's text: a YAML list of [`SilenceSpec`] entries, parsed with the rulebook's
//! located YAML machinery so every error is reported at FILE:LINE:COL with a caret, and rendered
//! back (for `semaphore silence add/expire`). Reading and writing the file is the commands' job
//! (`cli::files`); this module does no I/O.

use super::silence::{DaysSpec, Silence, SilenceSet, SilenceSpec};
use crate::rulebook::de::{Located, from_node_all};
use crate::rulebook::yaml::{self, NodeKind};
use crate::rulebook::{Diagnostic, Diagnostics};

/// A parsed and validated silences file: the entries as written (to write them back) and compiled.
#[derive(Debug, Clone, Default)]
pub struct SilenceFile {
    pub specs: Vec<SilenceSpec>,
    pub set: SilenceSet,
}

/// Parses silences text; `file` is the name used in messages. An empty file has no silences.
pub fn parse(file: &str, source: &str) -> Result<SilenceFile, Diagnostics> {
    let fail = |items: Vec<Diagnostic>| Diagnostics {
        file: file.to_owned(),
        source: source.to_owned(),
        items,
    };
    let root =
        yaml::parse(source).map_err(|err| fail(vec![Diagnostic::new(err.pos, err.message)]))?;
    let items = match &root.kind {
        NodeKind::Null => return Ok(SilenceFile::default()),
        NodeKind::Seq(items) => items,
        _ => {
            return Err(fail(vec![Diagnostic::new(
                root.pos,
                format!(
                    "a silences file is a list of silences, found {}",
                    root.type_name()
                ),
            )]));
        }
    };
    let mut errors = Vec::new();
    let mut parsed = SilenceFile::default();
    for node in items {
        let spec: SilenceSpec = match from_node_all(node) {
            Ok(spec) => spec,
            Err(found) => {
                errors.extend(found.into_iter().map(|err| {
                    Diagnostic::new(err.pos.unwrap_or(node.pos), err.message).with_width(err.width)
                }));
                continue;
            }
        };
        if parsed.specs.iter().any(|s| s.id.value == spec.id.value) {
            errors.push(Diagnostic::new(
                spec.id.pos,
                format!("duplicate silence id `{}`", spec.id.value),
            ));
        }
        match Silence::compile(&spec, source) {
            Ok(silence) => parsed.set.silences.push(silence),
            Err(found) => errors.extend(found),
        }
        parsed.specs.push(spec);
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        errors.sort_by_key(|d| d.pos);
        Err(fail(errors))
    }
}

const HEADER: &str = "# Silences for semaphore rules run/test (see docs/silences.md).\n";

/// The file text for `specs`, in order.
pub fn render(specs: &[SilenceSpec]) -> String {
    let mut text = HEADER.to_owned();
    for spec in specs {
        text.push_str(&render_entry(spec));
    }
    text
}

/// One entry as YAML; every string is double-quoted JSON, which YAML reads back unchanged.
pub fn render_entry(spec: &SilenceSpec) -> String {
    let mut lines = vec![
        format!("- id: {}", quote(&spec.id.value)),
        format!("  matcher: {}", quote(&spec.matcher.value)),
    ];
    let located = |v: &Option<Located<String>>| v.as_ref().map(|v| v.value.clone());
    push_optional(&mut lines, "starts_at", located(&spec.starts_at));
    push_optional(&mut lines, "ends_at", located(&spec.ends_at));
    if let Some(every) = &spec.every {
        let every = &every.value;
        lines.push("  every:".to_owned());
        if let Some(days) = &every.days {
            let days = match &days.value {
                DaysSpec::One(name) => quote(name),
                DaysSpec::Many(names) => {
                    let names: Vec<String> = names.iter().map(|n| quote(n)).collect();
                    format!("[{}]", names.join(", "))
                }
            };
            lines.push(format!("    days: {days}"));
        }
        lines.push(format!("    from: {}", quote(&every.from.value)));
        lines.push(format!("    to: {}", quote(&every.to.value)));
        if let Some(tz) = &every.timezone {
            lines.push(format!("    timezone: {}", quote(&tz.value)));
        }
    }
    push_optional(&mut lines, "comment", spec.comment.clone());
    push_optional(&mut lines, "created_by", spec.created_by.clone());
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn push_optional(lines: &mut Vec<String>, key: &str, value: Option<String>) {
    if let Some(value) = value {
        lines.push(format!("  {key}: {}", quote(&value)));
    }
}

/// `text` as a double-quoted JSON string, which YAML reads back unchanged.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}
