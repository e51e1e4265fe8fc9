//! The silences file: a YAML list of [`SilenceSpec`] entries, parsed with the rulebook's located YAML
//! machinery so every error is reported at FILE:LINE:COL with a caret. It also writes the file back
//! (for `semaphore silence add/expire`): through a temporary file and a rename, so a reader never
//! sees half a file. This is the only I/O of the suppress module.

use std::io::Write as _;
use std::path::Path;

use super::silence::{DaysSpec, Silence, SilenceSet, SilenceSpec};
use crate::rulebook::de::{Located, from_node};
use crate::rulebook::yaml::{self, NodeKind};
use crate::rulebook::{Diagnostic, Diagnostics};

/// A parsed and validated silences file: the entries as written (to write them back) and compiled.
#[derive(Debug, Clone, Default)]
pub struct SilenceFile {
    pub specs: Vec<SilenceSpec>,
    pub set: SilenceSet,
}

#[derive(Debug, thiserror::Error)]
pub enum SilenceFileError {
    #[error("cannot read the silences file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the silences file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
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
        let spec: SilenceSpec = match from_node(node) {
            Ok(spec) => spec,
            Err(err) => {
                errors.push(
                    Diagnostic::new(err.pos.unwrap_or(node.pos), err.message).with_width(err.width),
                );
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

/// Reads and validates a silences file.
pub fn load(path: &Path) -> Result<SilenceFile, SilenceFileError> {
    let source = read(path)?;
    parse(&path.display().to_string(), &source).map_err(SilenceFileError::Invalid)
}

/// The file's text; used by the reloader to notice changes.
pub fn read(path: &Path) -> Result<String, SilenceFileError> {
    std::fs::read_to_string(path).map_err(|source| SilenceFileError::Read {
        path: path.display().to_string(),
        source,
    })
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
        format!("- id: {}", q(&spec.id.value)),
        format!("  matcher: {}", q(&spec.matcher.value)),
    ];
    let located = |v: &Option<Located<String>>| v.as_ref().map(|v| v.value.clone());
    push_optional(&mut lines, "starts_at", located(&spec.starts_at));
    push_optional(&mut lines, "ends_at", located(&spec.ends_at));
    if let Some(every) = &spec.every {
        let every = &every.value;
        lines.push("  every:".to_owned());
        if let Some(days) = &every.days {
            let days = match &days.value {
                DaysSpec::One(name) => q(name),
                DaysSpec::Many(names) => {
                    let names: Vec<String> = names.iter().map(|n| q(n)).collect();
                    format!("[{}]", names.join(", "))
                }
            };
            lines.push(format!("    days: {days}"));
        }
        lines.push(format!("    from: {}", q(&every.from.value)));
        lines.push(format!("    to: {}", q(&every.to.value)));
        if let Some(tz) = &every.timezone {
            lines.push(format!("    timezone: {}", q(&tz.value)));
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
        lines.push(format!("  {key}: {}", q(&value)));
    }
}

/// `text` as a double-quoted JSON string, which YAML reads back unchanged.
fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Replaces `path` with `text` through a temporary file in the same directory and a rename, so that
/// readers (a running `rules run`) see the old or the new file, never a partial one.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), SilenceFileError> {
    let fail = |source| SilenceFileError::Write {
        path: path.display().to_string(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "silences".to_owned());
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written.and_then(|()| std::fs::rename(&temp, path)) {
        // Best effort: the temporary file is ours and useless now.
        let _ = std::fs::remove_file(&temp);
        return Err(fail(err));
    }
    Ok(())
}
