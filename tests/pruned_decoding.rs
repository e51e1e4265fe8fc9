//! Decoding only what the rules read changes nothing: over random JSON documents and random
//! conditions built from a grammar of paths, comparisons, functions, projections and filters, an
//! expression has the same value (or the same error) on the pruned document as on the whole one,
//! an engine fed pruned events fires, errs, throttles and explains exactly as one fed whole events
//! (the same firing documents and rendered actions, also from state and from the clock), and a
//! mangled payload is rejected by both decoders with the same error.

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::Variable;
use proptest::prelude::*;
use semaphore::condition::Expr;
use semaphore::engine::{Document, Engine, Outcome};
use semaphore::event::{Event, Meta, Needed, Reads};
use serde_json::{Value, json};

const KEYS: &[&str] = &["a", "b", "c", "items", "x"];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-2i64..4).prop_map(Value::from),
        Just(json!(2.5)),
        prop_oneof![Just("x"), Just(""), Just("yz")].prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..4).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(KEYS), value(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

const PATHS: &[&str] = &[
    "event",
    "event.a",
    "event.a.b",
    "event.a.b.c",
    "event.b",
    "event.c.a",
    "event.items",
    "event.items[0]",
    "event.items[0].a",
    "event.a[1]",
    "event.x.items",
    "event.missing.a",
    "@.event.b",
    "!event.a",
    "meta.offset",
    "vars.x",
];

fn path() -> impl Strategy<Value = String> {
    prop::sample::select(PATHS).prop_map(str::to_owned)
}

/// Values: paths, literals, and what functions, projections and filters make of them.
fn operand() -> impl Strategy<Value = String> {
    let literal =
        prop::sample::select(&["`1`", "`2.5`", "'x'", "`null`", "`true`", "`[1]`", "`{}`"][..])
            .prop_map(str::to_owned);
    let built = (path(), path(), 0..16usize).prop_map(|(p, q, form)| match form {
        0 => format!("length({p})"),
        1 => format!("{p}[*].a"),
        2 => format!("{p}[?a == `1`]"),
        3 => format!("keys({p})"),
        4 => format!("type({p})"),
        5 => format!("to_string({p})"),
        6 => format!("{p}.*"),
        7 => format!("[{p}, {q}]"),
        8 => format!("{{k: {p}, l: {q}}}.k"),
        9 => format!("({p} || {q}).a"),
        10 => format!("not_null({p}, {q})"),
        11 => format!("{p} | a"),
        12 => format!("sort_by({p}, &a)"),
        13 => format!("merge({p}, {q})"),
        14 => format!("{p}[]"),
        _ => format!("{p}[1:]"),
    });
    prop_oneof![path(), literal, built]
}

fn condition() -> impl Strategy<Value = String> {
    let ops = prop::sample::select(&["==", "!=", "<", ">="][..]);
    let comparison = (operand(), ops, operand()).prop_map(|(l, op, r)| format!("{l} {op} {r}"));
    let leaf = prop_oneof![comparison, operand()];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
            inner.prop_map(|a| format!("!({a})")),
        ]
    })
}

fn meta(offset: usize) -> Meta {
    Meta {
        topic: "t".into(),
        partition: 0,
        offset: offset as i64,
        key: Some("k".into()),
        timestamp: Some(1_000_000 + 20_000 * offset as i64),
        headers: BTreeMap::from([("h".to_owned(), "v".to_owned())]),
    }
}

fn quoted(expr: &str) -> String {
    serde_json::to_string(expr).expect("a string serialises")
}

/// Every kind of rule whose expressions read the event: single, any, throttled, all, windows (one
/// fired by events, one by the clock).
fn rulebook(c: &[String; 3], key: &str) -> String {
    let [c0, c1, c2] = c.each_ref().map(|c| quoted(c));
    let key = quoted(key);
    format!(
        r#"- name: rs
  vars: {{x: 1}}
  match_multiple_rules: true
  rules:
    - name: single
      condition: {c0}
      action: {{debug: {{msg: "{{{{ event }}}} {{{{ meta.offset }}}}"}}}}
    - name: any
      condition: {{any: [{c1}, {c2}]}}
      action: {{none: {{}}}}
    - name: throttled
      condition: {c1}
      throttle: {{once_after: 1 minute, group_by: [{key}]}}
      action: {{debug: {{msg: "{{{{ events }}}}"}}}}
    - name: all
      condition: {{all: [{c0}, {c2}]}}
      action: {{debug: {{msg: "{{{{ events }}}}"}}}}
    - name: window
      condition: {c2}
      window: {{group_by: [{key}], size: 1 minute, fire_when: "window.count >= `2`"}}
      action: {{debug: {{msg: "{{{{ event }}}} {{{{ window.key }}}}"}}}}
    - name: absent
      condition: {c0}
      window: {{group_by: [{key}], absent_for: 30 seconds}}
      action: {{debug: {{msg: "{{{{ event }}}} {{{{ meta }}}}"}}}}
"#
    )
}

/// Everything an outcome says, as comparable text.
fn summary(outcome: &Outcome) -> String {
    let firings: Vec<String> = outcome
        .firings
        .iter()
        .map(|f| {
            format!(
                "{}/{} {:?} {} {:?} {:?} {:?}",
                f.ruleset, f.rule, f.events, f.idempotency_key, f.status, f.group_key, f.actions
            )
        })
        .collect();
    format!(
        "{firings:#?} {:?} {:?} throttled {} suppressed {}",
        outcome.errors,
        outcome.trace,
        outcome.throttled,
        outcome.suppressed.len()
    )
}

/// The same events through an engine fed whole events and one fed pruned events.
fn same_engine_outcomes(source: &str, docs: &[Value], tracing: bool) -> Result<(), TestCaseError> {
    let book = Arc::new(semaphore::rulebook::compile("p.yml", source).expect("a valid rulebook"));
    let mut whole = Engine::new(Arc::clone(&book), BTreeMap::new());
    let mut pruned = Engine::new(Arc::clone(&book), BTreeMap::new());
    whole.set_tracing(tracing);
    pruned.set_tracing(tracing);
    for (offset, doc) in docs.iter().enumerate() {
        let bytes = serde_json::to_vec(doc).expect("JSON serialises");
        let full = Event::decode(&bytes, &meta(offset)).expect("valid JSON");
        let part = Event::decode_reading(&bytes, meta(offset), &book.reads).expect("valid JSON");
        let (expected, found) = (whole.process(full, 0), pruned.process(part, 0));
        prop_assert_eq!(summary(&found), summary(&expected), "event {}", offset);
    }
    let later = 1_000_000 + 20_000 * docs.len() as i64 + 120_000;
    prop_assert_eq!(
        summary(&pruned.advance(later)),
        summary(&whole.advance(later))
    );
    Ok(())
}

/// `expr` on `doc` decoded whole and decoded as far as `reads` goes: the same value or error.
fn same_value(expr: &Expr, bytes: &[u8], reads: &Reads) -> Result<(), TestCaseError> {
    let vars = Arc::new(Variable::try_from(json!({"x": 1})).expect("JSON converts"));
    let facts = Arc::new(Variable::Object(BTreeMap::new()));
    let full = Event::decode(bytes, &meta(3)).expect("valid JSON");
    let part = Event::decode_reading(bytes, meta(3), reads).expect("valid JSON");
    let expected = expr.search(Document::new(&full, &vars, &facts).base());
    let found = expr.search(Document::new(&part, &vars, &facts).base());
    prop_assert_eq!(
        found,
        expected,
        "{} on {}",
        expr.source(),
        String::from_utf8_lossy(bytes)
    );
    Ok(())
}

/// A byte that often breaks JSON, or keeps it valid in an unusual way.
fn mangling() -> impl Strategy<Value = u8> {
    prop::sample::select(&b"\"\\{}[],:1e.-u0 \xff\xc3tn"[..])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn an_expression_has_the_same_value_on_the_pruned_document(
        doc in document(),
        source in prop_oneof![condition(), operand()],
    ) {
        let expr = Expr::compile(&source).expect("the grammar writes valid expressions");
        let bytes = serde_json::to_vec(&doc).expect("JSON serialises");
        let mut needed = Needed::nothing();
        expr.add_reads(&mut needed);
        same_value(&expr, &bytes, &Reads::of_document(&needed))?;
    }

    #[test]
    fn an_engine_on_pruned_events_does_what_it_does_on_whole_ones(
        docs in prop::collection::vec(document(), 1..5),
        c0 in condition(),
        c1 in condition(),
        c2 in condition(),
        key in operand(),
        tracing in any::<bool>(),
    ) {
        let source = rulebook(&[c0, c1, c2], &key);
        same_engine_outcomes(&source, &docs, tracing)?;
    }

    #[test]
    fn a_mangled_payload_gets_the_same_verdict_from_both_decoders(
        doc in document(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), mangling(), 0..3u8), 1..4),
        read in prop::collection::vec(path(), 0..3),
    ) {
        let mut bytes = serde_json::to_vec(&doc).expect("JSON serialises");
        for (at, byte, how) in edits {
            let at = at.index(bytes.len() + 1);
            match how {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => bytes[at] = byte,
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.push(byte),
            }
        }
        let mut needed = Needed::nothing();
        for source in read {
            Expr::compile(&source).expect("valid").add_reads(&mut needed);
        }
        let reads = Reads::of_document(&needed);
        let full = Event::decode(&bytes, &meta(0));
        let part = Event::decode_reading(&bytes, meta(0), &reads);
        match (full, part) {
            (Ok(full), Ok(part)) => prop_assert_eq!(part.whole_payload(), full.payload),
            (full, part) => prop_assert_eq!(part.map(|_| ()), full.map(|_| ())),
        }
    }
}

#[test]
fn the_test_rulebook_reads_only_its_fields_and_no_meta() {
    let source = rulebook(
        &[
            "event.a.b == `1`".into(),
            "event.c".into(),
            "event.x > `2`".into(),
        ],
        "event.items[0]",
    );
    let book = semaphore::rulebook::compile("p.yml", &source).expect("a valid rulebook");
    assert!(!book.reads.meta);
    let mut expected = Needed::nothing();
    for path in [["a", "b"].as_slice(), &["c"], &["x"], &["items"]] {
        expected.require(path.iter().copied());
    }
    assert_eq!(book.reads.payload, expected);
}
