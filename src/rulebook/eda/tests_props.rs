//! A property test of condition translation: any text, and random strings of EDA's own tokens,
//! become JMESPath that compiles and evaluates without an error, or a located error; never a panic.

use proptest::prelude::*;

use super::condition;
use crate::condition::Expr;

proptest! {
    /// Any text, and any text made of EDA's own tokens, gives a translation that compiles and
    /// evaluates without an error on events of every shape, or a located error; never a panic.
    #[test]
    fn on_any_condition_text(
        text in "\\PC{0,80}",
        tokens in proptest::collection::vec(
            prop_oneof![
                Just("event.a"), Just("events.m_0.b"), Just("vars.x"), Just("fact.f"), Just("1"),
                Just("'s'"), Just("null"), Just("[1, 'a']"), Just("=="), Just("!="), Just("<"),
                Just(">="), Just("+"), Just("-"), Just("and"), Just("or"), Just("not"), Just("("),
                Just(")"), Just("in"), Just("not in"), Just("contains"), Just("is defined"),
                Just("is not match('x', ignorecase=true)"), Just("is select('>', 1)"),
                Just("is not selectattr('k', 'in', [1])"), Just("<<"),
                Just("is search(vars.x, multiline=true)"), Just("is select('match', 'a')"),
            ],
            0..24,
        ),
    ) {
        let joined = tokens.join(" ");
        for candidate in [text.as_str(), joined.as_str()] {
            match condition(candidate) {
                Ok(js) => {
                    let expr = Expr::compile(&js);
                    prop_assert!(expr.is_ok(), "{candidate} -> {js}");
                    for event in super::tests::events() {
                        let doc = serde_json::json!({"event": event, "events": {"m_0": event}, "facts": {"f": 1}, "vars": {"x": 1}});
                        let doc = std::sync::Arc::new(jmespath::Variable::try_from(&doc).expect("json"));
                        let result = expr.as_ref().map(|e| e.is_true(&doc));
                        prop_assert!(matches!(result, Ok(Ok(_))), "{candidate} -> {js}: {result:?}");
                    }
                }
                Err(err) => prop_assert!(err.at <= candidate.chars().count()),
            }
        }
    }
}

proptest! {
/// A mutated EDA rulebook is translated or refused with located errors, never a panic; what
/// the translation passes through unchanged (action arguments) is checked by compiling it, which
/// must not panic either. Mutations inside conditions must still give JMESPath that compiles.
#[test]
fn on_mutated_rulebooks(
    edits in proptest::collection::vec(
        (any::<prop::sample::Index>(), 0..3usize, prop_oneof![
            Just(" "), Just("\n"), Just(":"), Just("- "), Just("\""), Just("'"), Just("{{"),
            Just("#"), Just("["), Just("]"), Just("x"), Just("not "), Just(" and "), Just("5"),
            Just("null"), Just("\t"), Just("é"), Just("`"), Just("\\"),
        ]),
        1..6,
    ),
) {
    let mut text: Vec<char> = super::tests_book::UPLINK.chars().collect();
    for (at, remove, insert) in edits {
        let at = at.index(text.len() + 1);
        let end = (at + remove).min(text.len());
        text.splice(at..end, insert.chars());
    }
    let text: String = text.into_iter().collect();
    let translated = super::translate("m.yml", &text, &super::Options::default());
    if let Ok(translation) = &translated
        && let Err(diagnostics) = crate::rulebook::compile("t.yml", &translation.text)
    {
            let lines: Vec<&str> = translation.text.lines().collect();
            let errors = diagnostics.items.iter().filter(|d| d.severity == crate::rulebook::Severity::Error);
            for item in errors {
                let at = item.pos.line as usize;
                let in_condition = at >= 2 && lines.get(at - 2).is_some_and(|l| l.ends_with("|-"));
                prop_assert!(!in_condition, "{text}\n---\n{}\n---\n{diagnostics}", translation.text);
            }
        }
    }
}
