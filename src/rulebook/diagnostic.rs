//! Located messages for rulebooks, rendered the way compilers do: `FILE:LINE:COL: message` for an
//! error, `FILE:LINE:COL: warning: message` for a warning, then the source line and a caret under the
//! offending text; or one line each, for logs. It renders; it does not decide what is wrong.

use std::fmt::{self, Write as _};

use super::yaml::Pos;

/// An error makes the rulebook invalid; a warning points at something valid but almost surely wrong
/// (`rules check --strict` refuses those too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a rulebook file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub pos: Pos,
    /// Characters the caret covers; at least one.
    pub width: usize,
    pub message: String,
    pub severity: Severity,
}

impl Diagnostic {
    /// An error.
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            pos,
            width: 1,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(pos, message)
        }
    }

    /// `warning: ` for a warning, nothing for an error (as compilers print them).
    fn label(&self) -> &'static str {
        match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        }
    }

    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width.max(1);
        self
    }
}

/// Every problem found in one file, with the text needed to show the offending lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    pub file: String,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No diagnostics for `file`.
    pub fn none(file: &str) -> Self {
        Diagnostics {
            file: file.to_owned(),
            source: String::new(),
            items: Vec::new(),
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items
            .iter()
            .filter(|item| item.severity == severity)
            .count()
    }

    /// `2 errors, 1 warning`, leaving out a kind there is none of.
    pub fn summary(&self) -> String {
        let counted = [(Severity::Error, "error"), (Severity::Warning, "warning")]
            .into_iter()
            .map(|(severity, noun)| (self.count(severity), noun))
            .filter(|(count, _)| *count > 0)
            .map(|(count, noun)| format!("{count} {noun}{}", if count == 1 { "" } else { "s" }));
        counted.collect::<Vec<_>>().join(", ")
    }

    /// Each item on one line, `FILE:LINE:COL: warning: message`, for logs.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.items.iter().map(|item| {
            let Pos { line, col } = item.pos;
            format!(
                "{}:{line}:{col}: {}{}",
                self.file,
                item.label(),
                item.message
            )
        })
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Split once: finding each item's line from the top made a file with thousands of errors
        // (a pasted block repeated) quadratic, seconds of CPU for one `rules check`.
        let lines: Vec<&str> = self.source.lines().collect();
        for (index, item) in self.items.iter().enumerate() {
            if index > 0 {
                f.write_char('\n')?;
            }
            render_one(f, &self.file, &lines, item)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

fn render_one(
    out: &mut impl fmt::Write,
    file: &str,
    lines: &[&str],
    item: &Diagnostic,
) -> fmt::Result {
    let Pos { line, col } = item.pos;
    writeln!(out, "{file}:{line}:{col}: {}{}", item.label(), item.message)?;
    let Some(text) = line
        .checked_sub(1)
        .and_then(|index| lines.get(index as usize))
    else {
        return Ok(());
    };
    let gutter = line.to_string().len();
    let pad = " ".repeat(col.saturating_sub(1) as usize);
    // Tabs keep their width on both lines so the caret lines up in any terminal.
    let pad: String = text
        .chars()
        .zip(pad.chars())
        .map(|(c, p)| if c == '\t' { '\t' } else { p })
        .collect();
    writeln!(out, "{:gutter$} |", "")?;
    writeln!(out, "{line} | {text}")?;
    writeln!(
        out,
        "{:gutter$} | {pad}{}",
        "",
        "^".repeat(item.width.max(1))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_col_source_and_caret() {
        let diagnostics = Diagnostics {
            file: "book.yml".into(),
            source: "- name: x\n  rulez: []\n".into(),
            items: vec![
                Diagnostic::new(
                    Pos { line: 2, col: 3 },
                    "unknown key `rulez`, did you mean `rules`?",
                )
                .with_width(5),
            ],
        };
        assert_eq!(
            diagnostics.to_string(),
            "book.yml:2:3: unknown key `rulez`, did you mean `rules`?\n  |\n2 |   rulez: []\n  |   ^^^^^\n"
        );
    }

    #[test]
    fn warnings_are_labelled_and_counted_apart() {
        let diagnostics = Diagnostics {
            file: "book.yml".into(),
            source: "condition: !event.up\n".into(),
            items: vec![
                Diagnostic::warning(Pos { line: 1, col: 12 }, "never true"),
                Diagnostic::new(Pos { line: 1, col: 1 }, "bad"),
            ],
        };
        assert_eq!(
            diagnostics.to_string(),
            "book.yml:1:12: warning: never true\n  |\n1 | condition: !event.up\n  |            ^\n\
             \nbook.yml:1:1: bad\n  |\n1 | condition: !event.up\n  | ^\n"
        );
        assert_eq!(diagnostics.summary(), "1 error, 1 warning");
        let lines: Vec<String> = diagnostics.lines().collect();
        assert_eq!(
            lines,
            ["book.yml:1:12: warning: never true", "book.yml:1:1: bad"]
        );
        assert_eq!(Diagnostics::none("b.yml").summary(), "");
    }

    #[test]
    fn a_position_past_the_end_renders_the_message_only() {
        let diagnostics = Diagnostics {
            file: "f.yml".into(),
            source: String::new(),
            items: vec![Diagnostic::new(Pos { line: 9, col: 1 }, "boom")],
        };
        assert_eq!(diagnostics.to_string(), "f.yml:9:1: boom\n");
    }

    #[test]
    fn many_errors_render_in_time_linear_in_the_file() {
        let count = 20_000;
        let diagnostics = Diagnostics {
            file: "f.yml".into(),
            source: "- id: x\n".repeat(count),
            items: (1..=count as u32)
                .map(|line| Diagnostic::new(Pos { line, col: 3 }, "missing required key `matcher`"))
                .collect(),
        };
        // Linear: ~60 ms in a debug build; finding each line from the top took 25 s.
        let started = std::time::Instant::now();
        let rendered = diagnostics.to_string();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(rendered.lines().count(), count * 5 - 1);
        assert!(
            rendered.ends_with("20000 | - id: x\n      |   ^\n"),
            "{}",
            &rendered[rendered.len() - 80..]
        );
    }
}
