//! Each warning on the condition that earns it, its place and its fix, and silence on the conditions
//! that look alike but are right.

use super::*;

fn lints(source: &str, vars: &str) -> Vec<(usize, String)> {
    let expr = Expr::compile(source).expect("valid condition");
    let vars = Rcvar::new(Variable::from_json(vars).expect("JSON"));
    lint(&expr, &vars)
        .into_iter()
        .map(|lint| (lint.offset, lint.message))
        .collect()
}

#[test]
fn a_double_quoted_string_in_a_filter_names_a_field() {
    assert_eq!(
        lints("event.uplinks[?status == \"down\"]", "{}"),
        [(25, "\"down\" in double quotes is the field `down` of each element, not a string; for the string, write 'down'".to_owned())]
    );
    let found = lints("length(event.a[*].[name != \"x y\"]) > `0`", "{}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.ends_with("write 'x y'"), "{found:?}");
    // A quoted name compared with a literal is a field that needs its quotes.
    assert_eq!(lints("event.a[?\"last-seen\" > `0`]", "{}"), []);
    assert_eq!(lints("event.uplinks[?status == 'down']", "{}"), []);
}

#[test]
fn ordering_against_a_string_literal_or_var_is_never_true() {
    assert_eq!(
        lints("event.loss > '5'", "{}"),
        [(13, "'5' is a string: `>` compares numbers only, so this is never true; write the number as `5`".to_owned())]
    );
    assert_eq!(
        lints("event.loss > vars.loss_pct", r#"{"loss_pct": "5"}"#),
        [(13, "`vars.loss_pct` is the string \"5\": `>` compares numbers only, so this is never true; write `loss_pct: 5` in vars, without quotes".to_owned())]
    );
    let found = lints(
        "vars.limits.name <= event.name",
        r#"{"limits": {"name": "m"}}"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].1.ends_with("make `name` a number in vars"),
        "{found:?}"
    );
    assert!(
        lints("event.x[?n >= `\"2\"`]", "{}")[0]
            .1
            .starts_with("'2' is a string")
    );
    // Numbers, equality with strings, and a var that is a number are right.
    assert_eq!(
        lints("event.loss > vars.loss_pct", r#"{"loss_pct": 5}"#),
        []
    );
    assert_eq!(
        lints(
            "event.site == vars.site && event.loss > `5`",
            r#"{"site": "x"}"#
        ),
        []
    );
    // Inside a filter, `vars` is a field of the element, not the ruleset's vars.
    assert_eq!(lints("event.a[?vars.x > `1`]", r#"{"x": "5"}"#), []);
}

#[test]
fn a_negated_path_reads_as_the_negation_of_its_root() {
    assert_eq!(
        lints("!event.up", "{}"),
        [(0, "`!` applies to `event` alone: this reads `(!event).up`, which is never true; write `!(event.up)`".to_owned())]
    );
    let found = lints("event.a && !event.b.c == 'x'", "{}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 11);
    assert!(found[0].1.ends_with("write `!(event.b.c)`"), "{found:?}");
    assert!(
        lints("!event.items[?up]", "{}")[0]
            .1
            .ends_with("write `!(event.items[?up])`")
    );
    assert_eq!(lints("!(event.up)", "{}"), []);
    assert_eq!(lints("!event", "{}"), []);
    assert_eq!(lints("!event.a[0]", "{}").len(), 1);
    assert_eq!(lints("!event | length(@)", "{}"), []);
}
