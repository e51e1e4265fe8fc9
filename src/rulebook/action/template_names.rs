//! The names a template uses, read with minijinja's own lexer so that words inside strings and
//! comments are never mistaken for names: filters, tests and where each bare variable first appears,
//! as character offsets into the template text. [`super::template`] checks them at load; it owns what
//! a template may name. The lexer is minijinja's `unstable_machinery` (no semver promise, which is why
//! Cargo.toml pins the minor version); only this file touches it.

use minijinja::machinery::{Span, Token, WhitespaceConfig, tokenize};

/// What a name is in the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A variable at the start of an expression (`event` in `event.serial`).
    Variable,
    Filter,
    Test,
}

/// One use of a name, `offset` characters into the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameUse {
    pub kind: NameKind,
    pub name: String,
    pub offset: usize,
}

/// Every filter, test and bare variable name, in order. Text that does not lex yields the names
/// before the error (the compiler reports the error itself).
pub fn names(text: &str) -> Vec<NameUse> {
    let mut uses = Vec::new();
    let mut previous: Option<Token<'_>> = None;
    let mut before_previous: Option<Token<'_>> = None;
    for item in tokenize(text, false, Default::default(), WhitespaceConfig::default()) {
        let Ok((token, span)) = item else { break };
        if let Token::Ident(name) = token {
            let kind = kind_after(previous.as_ref(), before_previous.as_ref(), name);
            if let Some(kind) = kind {
                uses.push(NameUse {
                    kind,
                    name: name.to_owned(),
                    offset: char_offset(text, span),
                });
            }
        }
        before_previous = previous.take();
        previous = Some(token);
    }
    uses
}

/// Which kind of name an identifier is, from the two tokens before it; `None` for attribute names,
/// keyword arguments' own words and `not` after `is`.
fn kind_after(
    previous: Option<&Token<'_>>,
    before: Option<&Token<'_>>,
    name: &str,
) -> Option<NameKind> {
    match (previous, before) {
        (Some(Token::Pipe), _) => Some(NameKind::Filter),
        (Some(Token::Ident("is")), _) if name == "not" => None,
        (Some(Token::Ident("is")), _) | (Some(Token::Ident("not")), Some(Token::Ident("is"))) => {
            Some(NameKind::Test)
        }
        (Some(Token::Dot), _) => None,
        _ => Some(NameKind::Variable),
    }
}

fn char_offset(text: &str, span: Span) -> usize {
    let end = usize::try_from(span.start_offset).unwrap_or(usize::MAX);
    text.get(..end).map_or(0, |prefix| prefix.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(kind: NameKind, text: &str) -> Vec<(String, usize)> {
        names(text)
            .into_iter()
            .filter(|name| name.kind == kind)
            .map(|name| (name.name, name.offset))
            .collect()
    }

    #[test]
    fn filters_and_tests_are_found_with_their_offsets() {
        let text =
            "{{ event.x | lower | replace('a', 'b') }}{% if event.y is not defined %}n{% endif %}";
        assert_eq!(
            of(NameKind::Filter, text),
            [("lower".to_owned(), 13), ("replace".to_owned(), 21)]
        );
        assert_eq!(of(NameKind::Test, text), [("defined".to_owned(), 62)]);
    }

    #[test]
    fn attribute_names_and_string_contents_are_not_variables() {
        let text = "é {{ evnt.serial ~ ' event | bogus ' }} {# rule | nope #}";
        let variables = of(NameKind::Variable, text);
        assert_eq!(variables, [("evnt".to_owned(), 5)]);
        assert!(of(NameKind::Filter, text).is_empty());
    }
}
