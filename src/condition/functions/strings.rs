//! String helpers with Python semantics (`lower`, `upper`, `split`, `replace`) and the fuzzy comparisons
//! (`fuzzy_ratio`, `partial_ratio`), whose algorithms live in `condition::fuzzy`.

use jmespath::{Rcvar, Variable};
use serde_json::Number;

use super::{BadArgument, text};
use crate::condition::fuzzy::{self, MAX_CHARS};

/// `lower(s)`: `s` in lower case (full Unicode mapping, as Python's `str.lower`).
pub(super) fn lower(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    Ok(Variable::String(text(args, 0)?.to_lowercase()))
}

/// `upper(s)`: `s` in upper case (full Unicode mapping: `ß` becomes `SS`, as Python's `str.upper`).
pub(super) fn upper(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    Ok(Variable::String(text(args, 0)?.to_uppercase()))
}

/// `split(s, sep)`: the parts of `s` around each `sep`, empty parts kept, as Python's `s.split(sep)`.
pub(super) fn split(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let separator_text = text(args, 1)?;
    separator(separator_text)?;
    let parts = text(args, 0)?.split(separator_text);
    let strings = parts.map(|part| Rcvar::new(Variable::String(part.to_owned())));
    Ok(Variable::Array(strings.collect()))
}

/// `replace(s, old, new)`: `s` with every `old` replaced by `new`, as Python's `s.replace(old, new)`.
pub(super) fn replace(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let replaced = text(args, 0)?.replace(text(args, 1)?, text(args, 2)?);
    Ok(Variable::String(replaced))
}

/// `fuzzy_ratio(a, b)`: fuzzywuzzy's `fuzz.ratio`, an integer 0–100.
pub(super) fn fuzzy_ratio(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let (a, b) = comparable_pair(args)?;
    Ok(score(fuzzy::ratio(a, b)))
}

/// `partial_ratio(a, b)`: fuzzywuzzy's `fuzz.partial_ratio`, an integer 0–100.
pub(super) fn partial_ratio(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let (a, b) = comparable_pair(args)?;
    Ok(score(fuzzy::partial_ratio(a, b)))
}

/// Python raises on an empty separator; so do we, rather than guess a meaning.
pub(super) fn separator(separator: &str) -> Result<(), BadArgument> {
    if separator.is_empty() {
        return Err(BadArgument::new(1, "non-empty separator", "\"\""));
    }
    Ok(())
}

/// `text` if it is short enough for the fuzzy comparisons (see `fuzzy::MAX_CHARS`).
pub(super) fn comparable(text: &str, position: usize) -> Result<&str, BadArgument> {
    let length = text.chars().count();
    if length > MAX_CHARS {
        let expected = format!("string of at most {MAX_CHARS} characters");
        return Err(BadArgument::new(
            position,
            expected,
            format!("{length} characters"),
        ));
    }
    Ok(text)
}

fn comparable_pair(args: &[Rcvar]) -> Result<(&str, &str), BadArgument> {
    Ok((
        comparable(text(args, 0)?, 0)?,
        comparable(text(args, 1)?, 1)?,
    ))
}

fn score(percent: u8) -> Variable {
    Variable::Number(Number::from(percent))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, eval};
    use super::MAX_CHARS;
    use serde_json::json;

    #[test]
    fn changes_case_with_full_unicode_mappings() {
        let cases = [
            ("lower('Core-SW-01')", json!("core-sw-01")),
            ("upper('wan1')", json!("WAN1")),
            ("upper('Straße')", json!("STRASSE")),
            ("lower('ΟΔΟΣ')", json!("οδος")),
            ("lower('')", json!("")),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, "{}"), expected, "{expression}");
        }
    }

    #[test]
    fn splits_like_python_with_a_separator() {
        let cases = [
            ("split('a,b,,c', ',')", json!(["a", "b", "", "c"])),
            ("split('', ',')", json!([""])),
            ("split(',a,', ',')", json!(["", "a", ""])),
            ("split('Gi0/1', '/')", json!(["Gi0", "1"])),
            ("split('a::b::c', '::')", json!(["a", "b", "c"])),
            ("split('a b', ',')", json!(["a b"])),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, "{}"), expected, "{expression}");
        }
    }

    #[test]
    fn split_rejects_an_empty_separator() {
        let message = error("split('a,b', '')", "{}");
        let expected = r#"Argument 1 expects type non-empty separator, given """#;
        assert!(message.contains(expected), "{message}");
    }

    #[test]
    fn replaces_every_occurrence() {
        let cases = [
            ("replace('a-b-c', '-', '_')", json!("a_b_c")),
            ("replace('aaa', 'aa', 'b')", json!("ba")),
            ("replace('abc', '', '-')", json!("-a-b-c-")),
            ("replace('abc', 'x', 'y')", json!("abc")),
            (
                "replace('GigabitEthernet0/1', 'GigabitEthernet', 'Gi')",
                json!("Gi0/1"),
            ),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, "{}"), expected, "{expression}");
        }
    }

    #[test]
    fn fuzzy_scores_are_integers() {
        let data = r#"{"a": "new york mets", "b": "new york meats"}"#;
        assert_eq!(eval("fuzzy_ratio(a, b)", data), json!(96));
        assert_eq!(eval("partial_ratio(a, b)", data), json!(92));
        assert_eq!(
            eval("partial_ratio('YANKEES', 'NEW YORK YANKEES')", "{}"),
            json!(100)
        );
        assert_eq!(eval("fuzzy_ratio('', '')", "{}"), json!(100));
        assert_eq!(eval("fuzzy_ratio(a, b) >= `90`", data), json!(true));
    }

    #[test]
    fn fuzzy_rejects_strings_over_the_limit() {
        let long = "x".repeat(MAX_CHARS + 1);
        let data = json!({ "long": long }).to_string();
        let message = error("partial_ratio('x', long)", &data);
        let expected =
            "Argument 1 expects type string of at most 2047 characters, given 2048 characters";
        assert!(message.contains(expected), "{message}");
        let at_limit = json!({ "s": "x".repeat(MAX_CHARS) }).to_string();
        assert_eq!(eval("fuzzy_ratio(s, s)", &at_limit), json!(100));
    }

    #[test]
    fn fuzzy_rejects_non_strings() {
        let message = error("fuzzy_ratio('a', `null`)", "{}");
        assert!(
            message.contains("Argument 1 expects type string, given null"),
            "{message}"
        );
    }
}
