//! Editing one field of one silence in the silences file's text in place, so that `silence expire`
//! keeps the comments, blank lines and layout a person wrote around the entries. It only proposes
//! text: the caller checks that the result parses to the entries it meant (and falls back to
//! rendering the file from its entries when an unusual layout, such as a flow mapping, defeats it).
//! It does no I/O and knows nothing about what the fields mean.

use super::file::quote;
use super::silence::SilenceSpec;
use crate::rulebook::de::Located;
use crate::rulebook::yaml::Pos;

/// `source` with `key: value` set on the entry `spec` (parsed from `source`): the existing scalar
/// replaced, or a new line added after the entry's `id` line. `None` when the layout is not one it
/// can edit safely.
pub fn set_field(
    source: &str,
    spec: &SilenceSpec,
    key: &str,
    current: Option<&Located<String>>,
    value: &str,
) -> Option<String> {
    let mut lines: Vec<String> = source.split('\n').map(str::to_owned).collect();
    match current {
        Some(located) => {
            let line = line_mut(&mut lines, located.pos)?;
            *line = replace_scalar(line, located.pos.col, value)?;
        }
        None => {
            let at = index(spec.id.pos)?;
            let indent = key_column(lines.get(at)?, spec.id.pos.col)?;
            let new = format!("{}{key}: {}", " ".repeat(indent), quote(value));
            lines.insert(at + 1, new);
        }
    }
    Some(lines.join("\n"))
}

fn index(pos: Pos) -> Option<usize> {
    usize::try_from(pos.line).ok()?.checked_sub(1)
}

fn line_mut(lines: &mut [String], pos: Pos) -> Option<&mut String> {
    lines.get_mut(index(pos)?)
}

/// `line` with the scalar starting at 1-based character column `col` replaced by `value` quoted.
fn replace_scalar(line: &str, col: u32, value: &str) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    let start = usize::try_from(col).ok()?.checked_sub(1)?;
    let end = start + scalar_len(chars.get(start..)?)?;
    let before: String = chars.get(..start)?.iter().collect();
    let after: String = chars.get(end..)?.iter().collect();
    Some(format!("{before}{}{after}", quote(value)))
}

/// The length in characters of the one-line scalar at the start of `rest`; `None` for a multi-line
/// or flow-context scalar, which this module does not edit.
fn scalar_len(rest: &[char]) -> Option<usize> {
    match rest.first()? {
        '"' => closing_double(rest),
        '\'' => closing_single(rest),
        '{' | '[' | '|' | '>' => None,
        _ => {
            let mut end = rest.len();
            for (i, c) in rest.iter().enumerate() {
                if matches!(c, ',' | '}' | ']') {
                    return None;
                }
                if *c == '#'
                    && rest
                        .get(i.wrapping_sub(1))
                        .is_some_and(|p| p.is_whitespace())
                {
                    end = i;
                    break;
                }
            }
            let trimmed = rest
                .get(..end)?
                .iter()
                .rev()
                .skip_while(|c| c.is_whitespace());
            Some(trimmed.count())
        }
    }
}

/// Length of a double-quoted scalar up to and including its closing quote; `None` when it does not
/// close on this line.
fn closing_double(rest: &[char]) -> Option<usize> {
    let mut i = 1;
    while let Some(c) = rest.get(i) {
        match c {
            '\\' => i += 2,
            '"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The same for a single-quoted scalar, in which `''` is one quote.
fn closing_single(rest: &[char]) -> Option<usize> {
    let mut i = 1;
    while let Some(c) = rest.get(i) {
        match (c, rest.get(i + 1)) {
            ('\'', Some('\'')) => i += 2,
            ('\'', _) => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The column (0-based) of the `id` key on the entry's `id` line whose value starts at `value_col`:
/// `- id: x` and `  id: x` give the key's column; a flow mapping gives `None`.
fn key_column(line: &str, value_col: u32) -> Option<usize> {
    let before: String = line
        .chars()
        .take(usize::try_from(value_col).ok()?.checked_sub(1)?)
        .collect();
    let key = before
        .trim_end()
        .strip_suffix(':')?
        .trim_end()
        .strip_suffix("id")?;
    if !key.chars().all(|c| c == ' ' || c == '-') {
        return None;
    }
    Some(key.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suppress::file;

    fn edit(source: &str, key: &str, value: &str) -> Option<String> {
        let parsed = file::parse("t", source).expect("valid");
        let spec = parsed.specs.first().expect("one entry");
        let current = match key {
            "ends_at" => spec.ends_at.as_ref(),
            _ => spec.starts_at.as_ref(),
        };
        set_field(source, spec, key, current, value)
    }

    #[test]
    fn a_plain_scalar_is_replaced_and_its_trailing_comment_kept() {
        let source =
            "# mine\n- id: a\n  matcher: \"`true`\"\n  ends_at: 2030-01-01T00:00:00Z  # ticket\n";
        let edited = edit(source, "ends_at", "2026-01-01T00:00:00Z").expect("edited");
        assert_eq!(
            edited,
            "# mine\n- id: a\n  matcher: \"`true`\"\n  ends_at: \"2026-01-01T00:00:00Z\"  # ticket\n"
        );
    }

    #[test]
    fn quoted_scalars_are_replaced_whole() {
        let double = "- id: a\n  matcher: \"`true`\"\n  ends_at: \"2030-01-01T00:00:00Z\" # x\n";
        let edited = edit(double, "ends_at", "2026-01-01T00:00:00Z").expect("edited");
        assert!(
            edited.contains("  ends_at: \"2026-01-01T00:00:00Z\" # x\n"),
            "{edited}"
        );
        let single = "- id: a\n  matcher: \"`true`\"\n  ends_at: '2030-01-01T00:00:00Z'\n";
        let edited = edit(single, "ends_at", "2026-01-01T00:00:00Z").expect("edited");
        assert!(
            edited.contains("  ends_at: \"2026-01-01T00:00:00Z\"\n"),
            "{edited}"
        );
    }

    #[test]
    fn a_missing_field_is_added_under_the_id_at_its_indentation() {
        let source =
            "- id: w # window\n  matcher: \"`true`\"\n  every: {from: \"22:00\", to: \"02:00\"}\n";
        let edited = edit(source, "ends_at", "2026-01-01T00:00:00Z").expect("edited");
        assert_eq!(
            edited,
            "- id: w # window\n  ends_at: \"2026-01-01T00:00:00Z\"\n  matcher: \"`true`\"\n  every: {from: \"22:00\", to: \"02:00\"}\n"
        );
    }

    #[test]
    fn a_flow_mapping_entry_is_left_to_the_caller() {
        let source = "- {id: a, matcher: \"`true`\", ends_at: 2030-01-01T00:00:00Z}\n";
        assert_eq!(edit(source, "ends_at", "2026-01-01T00:00:00Z"), None);
        assert_eq!(edit(source, "starts_at", "2026-01-01T00:00:00Z"), None);
    }
}
