//! The printer on expressions as users write them; `tests/properties.rs` holds it to the parser on
//! generated ones.

use super::*;

fn reprinted(source: &str) -> String {
    text(&jmespath::parse(source).expect("valid JMESPath"))
}

#[test]
fn pipes_after_projections_stay_pipes() {
    assert_eq!(reprinted("event | a[*] | [0]"), "event.a[*] | [0]");
    assert_eq!(reprinted("a[*].b | [0]"), "a[*].b | [0]");
    assert_eq!(
        reprinted("a[?x == `1`] | length(@)"),
        "a[?x == `1`] | length(@)"
    );
    assert_eq!(reprinted("a | b"), "a.b");
}

#[test]
fn projections_and_filters_print_as_written() {
    for source in [
        "event.uplinks[?status == 'down'].interface",
        "event.a[*].b[0]",
        "event.a[].b",
        "event.a.*.b",
        "event.a[1:3]",
        "event.a[::-1]",
        "event.a[?b][?c]",
        "[*].a",
        "sort_by(event.a, &b)[0].c",
        "event.{name: n, \"the-ip\": ip}",
        "event.[a, b]",
    ] {
        assert_eq!(reprinted(source), source);
    }
}

#[test]
fn operators_keep_their_grouping() {
    assert_eq!(reprinted("(a || b) && c"), "(a || b) && c");
    assert_eq!(reprinted("a || b && c"), "a || b && c");
    assert_eq!(reprinted("!a.b"), "(!a).b");
    assert_eq!(reprinted("!(a.b)"), "!(a.b)");
    assert_eq!(reprinted("!!a"), "!!a");
    assert_eq!(reprinted("(a == b) == c"), "(a == b) == c");
    assert_eq!(reprinted("(a || b).c"), "(a || b).c");
}

#[test]
fn literals_and_names_are_quoted_to_parse_back() {
    assert_eq!(reprinted("a == 'it\\'s'"), "a == 'it\\'s'");
    assert_eq!(
        reprinted("a == `\"back\\\\slash\"`"),
        "a == `\"back\\\\slash\"`"
    );
    assert_eq!(reprinted("a == `\"tick\\`\"`"), "a == 'tick`'");
    assert_eq!(
        reprinted("a == `{\"k\": \"x\\`y\"}`"),
        "a == `{\"k\":\"x\\`y\"}`"
    );
    assert_eq!(reprinted("\"a\\\"b\".c"), "\"a\\\"b\".c");
    assert_eq!(reprinted("a > `5`"), "a > `5`");
}
