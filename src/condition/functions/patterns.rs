//! `regex_match` and `regex_search`, and the bounded process-wide cache that compiles each pattern once.
//!
//! Patterns use the Rust `regex` syntax: Python's `re` syntax without look-around or backreferences,
//! which keeps matching linear in the input whatever the pattern.

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use jmespath::{Rcvar, Variable};
use regex::{Regex, RegexBuilder};

use super::{BadArgument, flag, quoted, text};

/// Far more than the patterns of any rulebook. Patterns built from event data could otherwise grow the
/// cache without bound; emptying it when full keeps it simple, and the live patterns recompile at once.
const CACHE_CAPACITY: usize = 1024;

static CACHE: LazyLock<RegexCache> = LazyLock::new(RegexCache::default);

/// Compiled regexes by pattern, one map per `ignorecase` value so that a lookup borrows the pattern
/// instead of building a key.
#[derive(Default)]
struct RegexCache(RwLock<[HashMap<String, Regex>; 2]>);

impl RegexCache {
    fn get(&self, pattern: &str, ignore_case: bool) -> Result<Regex, BadArgument> {
        let slot = usize::from(ignore_case);
        let hit = self.0.read().unwrap_or_else(PoisonError::into_inner)[slot]
            .get(pattern)
            .cloned();
        if let Some(regex) = hit {
            return Ok(regex);
        }
        // Compiled outside the lock: other evaluations keep reading meanwhile.
        let regex = compile(pattern, ignore_case)?;
        let mut maps = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if maps.iter().map(HashMap::len).sum::<usize>() >= CACHE_CAPACITY {
            maps.iter_mut().for_each(HashMap::clear);
        }
        maps[slot].insert(pattern.to_owned(), regex.clone());
        Ok(regex)
    }
}

/// `regex_match(s, pattern[, ignorecase])`: whether `pattern` matches at the start of `s`, as Python's
/// `re.match` and ansible-rulebook's `is match`.
pub(super) fn regex_match(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let found = cached(args)?.find(text(args, 0)?);
    // Leftmost-first search reports a match at 0 whenever one exists. Anchoring by rewriting the
    // pattern as `\A(?:…)` would change its meaning: an unbalanced `a)|(b` would compile, and a
    // `(?x)` comment would swallow the closing `)`.
    Ok(Variable::Bool(found.is_some_and(|m| m.start() == 0)))
}

/// `regex_search(s, pattern[, ignorecase])`: whether `pattern` matches anywhere in `s`, as Python's
/// `re.search` and ansible-rulebook's `is search`.
pub(super) fn regex_search(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    Ok(Variable::Bool(cached(args)?.is_match(text(args, 0)?)))
}

/// Whether `pattern` compiles, for literal patterns at load time.
pub(super) fn check(pattern: &str) -> Result<(), BadArgument> {
    compile(pattern, false).map(drop)
}

fn cached(args: &[Rcvar]) -> Result<Regex, BadArgument> {
    CACHE.get(text(args, 1)?, flag(args, 2))
}

fn compile(pattern: &str, ignore_case: bool) -> Result<Regex, BadArgument> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .build()
        .map_err(|error| {
            let given = format!("{} ({})", quoted(pattern), reason(&error));
            BadArgument::new(1, "regex", given)
        })
}

/// The last line of a syntax error ("error: unclosed group"); the full text repeats the pattern over
/// several lines, which reads badly inside a one-line diagnostic.
fn reason(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => {
            let last = text.lines().next_back().unwrap_or_default();
            last.trim_start_matches("error: ").to_owned()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, eval};
    use super::*;
    use serde_json::json;

    const DATA: &str = r#"{
        "host": "Core-SW-01",
        "msg": "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down"
    }"#;

    #[test]
    fn regex_match_anchors_at_the_start() {
        let cases = [
            ("regex_match(host, 'Core-')", true),
            ("regex_match(host, 'SW')", false),
            ("regex_match(host, '[a-z]+-sw', `true`)", true),
            ("regex_match(host, '[a-z]+-sw', `false`)", false),
            ("regex_match(host, 'x|Core')", true),
            ("regex_match(host, 'x*')", true),
            ("regex_match(msg, 'Interface|%LINK')", true),
            ("regex_match(msg, 'Interface')", false),
            ("regex_match(msg, '(?m)^changed')", false),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, DATA), json!(expected), "{expression}");
        }
    }

    #[test]
    fn regex_search_matches_anywhere() {
        let cases = [
            ("regex_search(msg, 'Gi\\d+/\\d+')", true),
            ("regex_search(msg, 'state to (up|down)$')", true),
            ("regex_search(msg, 'STATE TO DOWN')", false),
            ("regex_search(msg, 'STATE TO DOWN', `true`)", true),
            ("regex_search(host, '^SW')", false),
            ("regex_search('', '')", true),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, DATA), json!(expected), "{expression}");
        }
    }

    #[test]
    fn invalid_patterns_name_the_pattern_and_the_error() {
        let message = error("regex_search(msg, 'Gi(0')", DATA);
        assert!(
            message.contains(r#"Argument 1 expects type regex, given "Gi(0" (unclosed group)"#),
            "{message}"
        );
        // Valid only if wrapped in a group: must stay invalid.
        let message = error("regex_match(msg, 'a)|(b')", DATA);
        assert!(message.contains(r#"given "a)|(b""#), "{message}");
        let message = error("regex_match(msg, '(?<=a)b')", DATA);
        assert!(message.contains("look-around"), "{message}");
    }

    #[test]
    fn a_pattern_is_compiled_once_per_flag() {
        let cache = RegexCache::default();
        for ignore_case in [false, true, false, true] {
            assert!(cache.get("^core-[0-9]+$", ignore_case).is_ok());
        }
        let maps = cache.0.read().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(maps.iter().map(HashMap::len).collect::<Vec<_>>(), [1, 1]);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = RegexCache::default();
        for n in 0..CACHE_CAPACITY + 10 {
            assert!(cache.get(&format!("pattern-{n}"), n % 2 == 0).is_ok());
        }
        let maps = cache.0.read().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(maps.iter().map(HashMap::len).sum::<usize>(), 10);
    }

    #[test]
    fn invalid_patterns_are_not_cached() {
        let cache = RegexCache::default();
        assert!(cache.get("(", false).is_err());
        assert!(cache.0.read().unwrap_or_else(PoisonError::into_inner)[0].is_empty());
    }
}
