//! Located error messages for rulebooks, rendered the way compilers do: `FILE:LINE:COL: message`, then
//! the source line and a caret under the offending text. It renders; it does not decide what is wrong.

use std::fmt::{self, Write as _};

use super::yaml::Pos;

/// One problem in a rulebook file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub pos: Pos,
    /// Characters the caret covers; at least one.
    pub width: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            pos,
            width: 1,
            message: message.into(),
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

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, item) in self.items.iter().enumerate() {
            if index > 0 {
                f.write_char('\n')?;
            }
            render_one(f, &self.file, &self.source, item)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

fn render_one(
    out: &mut impl fmt::Write,
    file: &str,
    source: &str,
    item: &Diagnostic,
) -> fmt::Result {
    let Pos { line, col } = item.pos;
    writeln!(out, "{file}:{line}:{col}: {}", item.message)?;
    let Some(text) = line
        .checked_sub(1)
        .and_then(|index| source.lines().nth(index as usize))
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
    fn a_position_past_the_end_renders_the_message_only() {
        let diagnostics = Diagnostics {
            file: "f.yml".into(),
            source: String::new(),
            items: vec![Diagnostic::new(Pos { line: 9, col: 1 }, "boom")],
        };
        assert_eq!(diagnostics.to_string(), "f.yml:9:1: boom\n");
    }
}
