//! Splits an ansible-rulebook condition into tokens with their character offsets. Strings are
//! quoted with `'` or `"` and, as in EDA's grammar, have no escapes; numbers are integers, decimals
//! and exponents. It knows no grammar beyond that.

use super::ConditionError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Word(String),
    Int(i64),
    Float(f64),
    Str(String),
    /// Punctuation and operators: `( ) [ ] , . = == != < <= > >= << + - * /`.
    Sym(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
}

const SYMBOLS: &[&str] = &[
    "==", "!=", "<<", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "=", "+", "-", "*", "/",
];

pub fn tokens(text: &str) -> Result<Vec<Token>, ConditionError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = if c == '\'' || c == '"' {
            let end = (i + 1..chars.len())
                .find(|&j| chars[j] == c)
                .ok_or_else(|| ConditionError::new(start, "string not closed"))?;
            i = end + 1;
            Tok::Str(chars[start + 1..end].iter().collect())
        } else if c.is_ascii_digit() {
            let (tok, end) = number(&chars, start)?;
            i = end;
            tok
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Tok::Word(chars[start..i].iter().collect())
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let symbol = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(**s))
                .ok_or_else(|| ConditionError::new(start, format!("unexpected `{c}`")))?;
            i += symbol.len();
            Tok::Sym(symbol)
        };
        out.push(Token { tok, at: start });
    }
    out.push(Token {
        tok: Tok::End,
        at: chars.len(),
    });
    Ok(out)
}

/// A number starting at `start`: digits, an optional fraction and exponent.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), ConditionError> {
    let digits = |mut i: usize| {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut end = digits(start);
    let mut float = false;
    if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
        end = digits(end + 1);
        float = true;
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(end + 1), Some('+' | '-')));
        if chars.get(end + 1 + sign).is_some_and(char::is_ascii_digit) {
            end = digits(end + 1 + sign);
            float = true;
        }
    }
    let text: String = chars[start..end].iter().collect();
    let bad = || ConditionError::new(start, format!("`{text}` is not a number"));
    let tok = if float {
        Tok::Float(text.parse().map_err(|_| bad())?)
    } else {
        Tok::Int(text.parse().map_err(|_| bad())?)
    };
    Ok((tok, end))
}
