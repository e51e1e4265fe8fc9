//! Condition translation checked by evaluating the JMESPath on events. The expected firings of
//! `EDA_RECORDED` were recorded with the real ansible-rulebook 1.3.2 (one ruleset per condition, the
//! five events below, a `debug` action per firing); the others state EDA's grammar as its parser
//! defines it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{ConditionError, condition, parse};
use crate::condition::Expr;

pub(super) fn events() -> Vec<Value> {
    vec![
        json!({"i": 0, "a": 1, "b": 1, "s": "up", "n": null, "l": [1, 2], "o": {"k": 1}, "t": true, "f": false}),
        json!({"i": 1}),
        json!({"i": 2, "a": "1", "b": 2, "s": 5, "n": 1, "l": "x", "o": [{"k": 2}, {"k": 3}], "t": false, "f": true}),
        json!({"i": 3, "a": 5, "s": "down", "l": [], "o": [], "t": "yes"}),
        json!({"i": 4, "a": 2.0, "b": 2, "s": "Up", "l": [3, "2"], "o": [{"k": 0}, {"j": 5}], "t": 1}),
    ]
}

/// The indexes of the events on which the translated condition is true.
fn fires(eda: &str) -> Vec<usize> {
    fires_on(events(), eda)
}

fn fires_on(events: Vec<Value>, eda: &str) -> Vec<usize> {
    let js = condition(eda).unwrap_or_else(|err| panic!("{eda}: {err}"));
    let expr = Expr::compile(&js).unwrap_or_else(|err| panic!("{eda} -> {js}: {err}"));
    events
        .into_iter()
        .enumerate()
        .filter(|(_, event)| {
            let doc =
                json!({"event": event, "events": {}, "facts": {}, "vars": {"one": 1}, "meta": {}});
            let doc = Arc::new(jmespath::Variable::try_from(&doc).expect("json"));
            expr.is_true(&doc)
                .unwrap_or_else(|err| panic!("{eda} -> {js}: evaluation error {err}"))
        })
        .map(|(index, _)| index)
        .collect()
}

const EDA_RECORDED: &[(&str, &[usize])] = &[
    ("event.a == 1", &[0]),
    ("event.a != 1", &[3, 4]),
    ("event.s != \"up\"", &[3, 4]),
    ("event.a == event.b", &[0, 4]),
    ("event.a != event.b", &[]),
    ("event.missing1 == event.missing2", &[]),
    ("event.a > 0", &[0, 3, 4]),
    ("event.a > \"0\"", &[2]),
    ("event.s < \"v\"", &[0, 3, 4]),
    ("event.n == null", &[0]),
    ("event.n != null", &[2]),
    ("event.n is defined", &[0, 2]),
    ("not event.t", &[2, 3, 4]),
    ("not event.f", &[0]),
    ("event.t", &[0]),
    ("not (event.a == 1)", &[3, 4]),
    ("not (event.a > 0)", &[]),
    ("event.a in [1, 5]", &[0, 3]),
    ("event.a not in [1, 5]", &[2, 4]),
    ("event.l contains 1", &[0]),
    ("event.l not contains 1", &[2, 3, 4]),
    ("event.s is match(\"u\", ignorecase=true)", &[0, 4]),
    ("event.s is not match(\"u\")", &[2, 3, 4]),
    ("event.l is select(\">\", 1)", &[0, 4]),
    ("event.l is not select(\">\", 1)", &[0, 2, 4]),
    ("event.a is select(\"==\", 1)", &[0]),
    ("event.o is selectattr(\"k\", \">\", 1)", &[2]),
    ("event.o is not selectattr(\"k\", \">\", 1)", &[0, 4]),
    ("event.a + 1 == 2", &[0]),
    ("event.a - 1 == 0", &[0]),
    ("event.i == 0 or event.i == 3 and event.a == 5", &[3]),
    ("event.a == 1.0", &[0]),
    ("event.t == true", &[0]),
    ("event.s == up", &[0]),
    ("event.l[-1] == 2", &[0]),
    ("event.o[\"k\"] == 1", &[0]),
    ("event.a == 2", &[4]),
    ("event.a in [2]", &[4]),
    ("event.s contains \"p\"", &[]),
    ("event.l contains \"x\"", &[2]),
    ("event.a not in [1, 5] and event.i > 0", &[2, 4]),
    ("not event.missing", &[]),
    ("not (event.missing == 1)", &[]),
    ("not (event.a in [1, 5])", &[2, 4]),
    ("not (event.l contains 1)", &[2, 3, 4]),
    ("event.o is selectattr(\"k\", \"==\", 1)", &[0]),
    ("event.s is regex(\"o\")", &[3]),
    ("event.s is search(\"o\")", &[3]),
    ("event.s is match(\"o\")", &[]),
    (
        "event.s is match(\"p\", ignorecase=true) or event.s is match(\"d\")",
        &[3],
    ),
    ("event.a is not select(\"==\", 1)", &[2, 3, 4]),
    ("event.a + event.b == 2", &[0]),
    ("event.a == None", &[]),
    ("event.i == 1 or event.missing == 1", &[1]),
    ("event.i > -1", &[0, 1, 2, 3, 4]),
    ("event.s != event.missing", &[]),
    ("event.a == 1 and event.b == 1", &[0]),
    ("event.s is not search(\"x\")", &[0, 2, 3, 4]),
    ("event.o is not selectattr(\"k\", \"==\", 1)", &[2, 4]),
    ("event.l is select(\"==\", \"2\")", &[4]),
    ("1 == 1", &[0, 1, 2, 3, 4]),
    ("true", &[0, 1, 2, 3, 4]),
    ("not (event.i == 1 or event.missing == 1)", &[]),
    ("not (event.a == 1 and event.b == 1)", &[2, 3, 4]),
    ("not event.i == 1", &[0, 2, 3, 4]),
    ("event.l != 1", &[]),
    ("event.t != 1", &[]),
    ("event.o != 1", &[]),
    ("event.t > 0", &[4]),
    ("event.n != 1", &[0]),
    ("event.n < 1", &[]),
    ("event.t != \"x\"", &[3]),
    ("event.l == [1, 2]", &[0]),
    ("event.l != [1, 2]", &[3, 4]),
    (
        "event.s is match(\"U\", ignorecase=true, multiline=true)",
        &[0, 4],
    ),
    ("event.a != event.missing or event.i == 1", &[1]),
    ("not (event.a != event.missing or event.i == 1)", &[]),
    ("not (event.s is match(\"u\"))", &[2, 3, 4]),
    ("not (event.l is select(\">\", 1))", &[2, 3]),
    ("event.a > 1 and event.s is defined", &[3, 4]),
];

#[test]
fn translations_fire_where_the_real_ansible_rulebook_fired() {
    let wrong: Vec<String> = EDA_RECORDED
        .iter()
        .filter_map(|(eda, expected)| {
            let got = fires(eda);
            (got != *expected).then(|| {
                format!(
                    "{eda}\n  -> {}\n  EDA {expected:?}, got {got:?}",
                    condition(eda).unwrap_or_default()
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        EDA_RECORDED.len(),
        wrong.join("\n")
    );
}

/// Membership tests, recorded the same way on five other events.
#[test]
fn selectattr_membership_and_path_collections_fire_where_ansible_rulebook_fired() {
    let events = || {
        vec![
            json!({"i": 0, "o": [{"k": 1}, {"k": 5}], "l": [1, 2], "a": 2, "tags": ["x", "y"]}),
            json!({"i": 1, "o": [{"k": 7}], "l": [3], "a": 9}),
            json!({"i": 2, "o": {"k": 2}, "l": "2", "a": "2", "tags": "x"}),
            json!({"i": 3}),
            json!({"i": 4, "o": [{"k": [1, 3]}], "l": [], "a": null, "tags": []}),
        ]
    };
    let recorded: &[(&str, &[usize])] = &[
        ("event.o is selectattr(\"k\", \"in\", [1, 2])", &[0, 2]),
        (
            "event.o is not selectattr(\"k\", \"in\", [1, 2])",
            &[0, 1, 4],
        ),
        (
            "event.o is selectattr(\"k\", \"not in\", [1, 2])",
            &[0, 1, 4],
        ),
        ("event.o is selectattr(\"k\", \"contains\", 3)", &[4]),
        ("event.a in event.l", &[0, 2]),
        ("event.a not in event.l", &[1, 4]),
        ("event.tags is select(\"regex\", \"^x\")", &[0, 2]),
        ("event.l is select(\"!=\", 2)", &[0, 1, 2]),
    ];
    for (eda, expected) in recorded {
        assert_eq!(
            fires_on(events(), eda),
            *expected,
            "{eda} -> {:?}",
            condition(eda)
        );
    }
}

#[test]
fn is_not_defined_is_evaluated_per_event() {
    // EDA 1.3.2 fires such a rule once, unbound to an event (a Drools `not` pattern); semaphore
    // evaluates it on each event, which is what the documentation of `is not defined` describes.
    assert_eq!(fires("event.n is not defined"), [1, 3, 4]);
    assert_eq!(fires("event.missing is not defined"), [0, 1, 2, 3, 4]);
}

#[test]
fn output_is_readable_jmespath_with_guards_only_where_needed() {
    let cases = [
        ("event.lossPercent > 5", "event.lossPercent > `5`"),
        ("event.status == \"down\"", "event.status == 'down'"),
        (
            "event.status != 'up'",
            "has(event, 'status') && contains(`[\"string\", \"null\"]`, type(event.status)) && event.status != 'up'",
        ),
        ("event.x is defined", "has(event, 'x')"),
        ("event.a.b is not defined", "!has(event.a, 'b')"),
        (
            "event.labels[\"app.name\"] == 'x'",
            "event.labels.\"app.name\" == 'x'",
        ),
        (
            "event.lossPercent > vars.limit",
            "event.lossPercent > vars.limit || type(vars.limit) == 'string' && type(event.lossPercent) == 'string' && event.lossPercent != vars.limit && sort([event.lossPercent, vars.limit])[1] == event.lossPercent",
        ),
        (
            "event.a - 1 > event.b",
            "type(event.a) == 'number' && type(event.b) == 'number' && event.a > sum([event.b, `1`])",
        ),
        (
            "event.i == 0 or event.i == 1 and event.a == 5",
            "(event.i == `0` || event.i == `1`) && event.a == `5`",
        ),
        ("not event.up", "has(event, 'up') && event.up != `true`"),
        (
            "event.tags contains 'wan'",
            "contains(to_array(event.tags), 'wan')",
        ),
        (
            "event.uplink in ['wan1', 'wan2']",
            "contains(`[\"wan1\",\"wan2\"]`, event.uplink)",
        ),
        (
            "event.model is match('MX6[0-9]', ignorecase=true)",
            "type(event.model) == 'string' && regex_match(event.model, 'MX6[0-9]', `true`)",
        ),
        (
            "event.text is search('^down', multiline=true)",
            "type(event.text) == 'string' && regex_search(event.text, '(?m)^down')",
        ),
        (
            "event.ports is select('>=', 1024)",
            "to_array(event.ports)[?@ >= `1024`] != `[]`",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(eda, js)| condition(eda).as_deref() != Ok(*js))
        .map(|(eda, _)| format!("{eda}\n  -> {:?}", condition(eda)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn and_and_or_share_one_level_and_not_binds_tighter() {
    let grouping = |text: &str| condition(text).expect("translates");
    assert_eq!(
        grouping("event.a or event.b and event.c"),
        grouping("(event.a or event.b) and event.c")
    );
    assert_eq!(
        grouping("not event.a and event.b"),
        grouping("(not event.a) and event.b")
    );
    assert_eq!(
        grouping("not event.a in [1]"),
        grouping("not (event.a in [1])")
    );
    assert!(parse::parse("event.a + 1 == 2 is defined").is_ok());
}

#[test]
fn literals_of_every_form() {
    let literal = |text: &str| match parse::parse(text).map(|e| e.kind) {
        Ok(super::ast::Kind::Literal(value)) => value,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(literal("12"), json!(12));
    assert_eq!(literal("-3"), json!(-3));
    assert_eq!(literal("1.5"), json!(1.5));
    assert_eq!(literal("2e3"), json!(2000.0));
    assert_eq!(literal("'single'"), json!("single"));
    assert_eq!(literal("\"double\""), json!("double"));
    assert_eq!(literal("True"), json!(true));
    assert_eq!(literal("false"), json!(false));
    assert_eq!(literal("null"), json!(null));
    // As in EDA's grammar, `None` is not a keyword: a bare word is a string.
    assert_eq!(literal("None"), json!("None"));
    assert!(condition("event.x in [1, 'a', null, true, vars.one]").is_ok());
}

#[test]
fn assignment_names_a_match_and_fact_prefixes_are_the_event_ones() {
    let expr = parse::parse("events.first << event.kind == 'a'").expect("parses");
    assert!(matches!(expr.kind, super::ast::Kind::Assign { ref name, .. } if name == "first"));
    // As in ansible-rulebook: `fact` is `event`, `facts` is `events`, and under `events` a key
    // that names no match is the current event's.
    for text in [
        "fact.site == 'x'",
        "facts.site == 'x'",
        "events.site == 'x'",
    ] {
        assert_eq!(
            condition(text).as_deref(),
            Ok("event.site == 'x'"),
            "{text}"
        );
    }
    let mut named = super::emit::Emitter::new(None);
    named.names.insert("first".to_owned(), 0);
    let expr = parse::parse("facts.first.n == 1 and facts.m_1.n == 2").expect("parses");
    assert_eq!(
        named.emit(&expr, true).map(|js| js.text).as_deref(),
        Ok("events.m_0.n == `1` && events.m_1.n == `2`")
    );
    assert_eq!(
        condition("event.x == events.m_0.x").as_deref(),
        Ok(
            "event.x == events.m_0.x && (event.x != `null` || has(event, 'x') && has(events.m_0, 'x'))"
        )
    );
}

#[test]
fn errors_are_located_in_the_condition() {
    let error = |text: &str| condition(text).expect_err(text);
    let at = |text: &str, offset: usize, message: &str| {
        assert_eq!(error(text), ConditionError::new(offset, message), "{text}");
    };
    at(
        "event.a ==",
        10,
        "expected a value, a path or `(`, found the end of the condition",
    );
    at("event.a == 'x", 11, "string not closed");
    at(
        "event.a is empty",
        11,
        "expected `defined`, `match`, `search`, `regex`, `select` or `selectattr` after `is`, found `empty`",
    );
    at(
        "event.a * 2 == 4",
        8,
        "EDA parses `*` and `/` but cannot evaluate them (\"Unhandled token\"); compare with `+` and `-` instead",
    );
    at(
        "event.l is select('in', 1)",
        18,
        "operator `in` is not supported here; EDA knows ==, !=, >, >=, <, <=, regex, search, match",
    );
    at(
        "event.s is match('x', dotall=true)",
        22,
        "unknown option `dotall`: EDA knows ignorecase and multiline",
    );
    at(
        "event.a == 1 event.b",
        13,
        "expected an operator or the end of the condition, found `event`",
    );
    at("event.a & 1", 8, "unexpected `&`");
    at(
        "5 + 'x' == 3",
        4,
        "`+` and `-` work on numbers and paths here",
    );
}

#[test]
fn nesting_past_the_limit_is_a_located_error_not_a_crash() {
    let deep = format!("{}event.a == 1{}", "(".repeat(200), ")".repeat(200));
    let err = condition(&deep).expect_err("too deep");
    assert_eq!(
        err.message,
        format!("condition nested deeper than {} levels", super::MAX_DEPTH)
    );
    assert!(err.at > super::MAX_DEPTH && err.at < 200, "{}", err.at);
    let nots = format!("{}event.a", "not ".repeat(500));
    assert!(condition(&nots).is_err());
    let chain = vec!["event.a == 1"; 1000].join(" and ");
    assert!(condition(&chain).is_err());
}
