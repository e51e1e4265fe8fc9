//! ansible-rulebook's names with ansible-rulebook 1.3.2's behaviour, through the public API:
//! `once_after` (one window per rule, the first event of each group) and semaphore's own
//! `group_after`; `all:` matching (every waiting event pairs with the one that completes, a later
//! slot may arrive first); a throttled rule consuming the event under `match_multiple_rules`;
//! `accumulate_within` firing with the event that reached the threshold; facts that rules match;
//! `all:` under `match_multiple_rules`, across rules and under the ruleset's TTL.
//! Each behaviour was observed on the real ansible-rulebook (tests/eda has the recordings); the new
//! state shapes go through a changelog round trip.

use std::collections::BTreeMap;
use std::sync::Arc;

use semaphore::engine::{Engine, Outcome, StateChange};
use semaphore::event::Event;
use serde_json::{Value, json};

fn engine(yaml: &str) -> Engine {
    let book = semaphore::rulebook::compile("t.yml", yaml).unwrap_or_else(|d| panic!("{d}"));
    let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
    engine.set_change_tracking(true);
    engine
}

/// Rule names of the firings, with the events each fired with.
fn firings(outcome: Outcome) -> Vec<(String, Vec<Value>)> {
    outcome
        .firings
        .into_iter()
        .map(|f| {
            let events = f.events.iter().map(|e| json!(&**e)).collect();
            (f.rule, events)
        })
        .collect()
}

fn send(engine: &mut Engine, event: Value, at_ms: i64) -> Vec<(String, Vec<Value>)> {
    firings(engine.process(Event::from_json(event, json!({})), at_ms))
}

fn fired(rule: &str, events: &[Value]) -> (String, Vec<Value>) {
    (rule.to_owned(), events.to_vec())
}

fn via_json(changes: Vec<StateChange>) -> Vec<StateChange> {
    let text = serde_json::to_string(&changes).expect("changes serialize");
    serde_json::from_str(&text).expect("and read back")
}

const ONCE_AFTER: &str = "
- name: rs
  rules:
    - name: later
      condition: event.x == `1`
      throttle:
        MODE: 2 seconds
        group_by_attributes: [event.host]
      action: {debug: {}}
";

fn host(name: &str, n: i64) -> Value {
    json!({"x": 1, "host": name, "n": n})
}

#[test]
fn once_after_fires_once_per_window_with_the_first_event_of_each_group() {
    let mut e = engine(&ONCE_AFTER.replace("MODE", "once_after"));
    assert!(send(&mut e, host("a", 1), 0).is_empty());
    assert!(send(&mut e, host("b", 2), 300).is_empty());
    assert!(send(&mut e, host("a", 3), 600).is_empty());
    assert_eq!(
        e.next_deadline_ms(),
        Some(2_000),
        "one window, opened by the first match"
    );
    assert_eq!(
        firings(e.advance(2_000)),
        [fired("later", &[host("a", 1), host("b", 2)])]
    );
    // The window survives a restart as it was.
    assert!(send(&mut e, host("b", 4), 3_600).is_empty());
    let mut restarted = engine(&ONCE_AFTER.replace("MODE", "once_after"));
    restarted.restore(via_json(e.take_changes()));
    assert!(send(&mut restarted, host("b", 5), 3_700).is_empty());
    assert_eq!(
        firings(restarted.advance(5_600)),
        [fired("later", &[host("b", 4)])]
    );
}

#[test]
fn group_after_keeps_a_window_per_group_with_all_its_events() {
    let mut e = engine(&ONCE_AFTER.replace("MODE", "group_after"));
    send(&mut e, host("a", 1), 0);
    send(&mut e, host("b", 2), 300);
    send(&mut e, host("a", 3), 600);
    assert_eq!(
        firings(e.advance(2_000)),
        [fired("later", &[host("a", 1), host("a", 3)])]
    );
    assert_eq!(firings(e.advance(2_300)), [fired("later", &[host("b", 2)])]);
}

const PAIR: &str = "
- name: rs
  rules:
    - name: pair
      condition:
        all:
          - event.kind == 'x'
          - event.kind == 'y'
      action: {debug: {}}
";

fn kind(k: &str, n: i64) -> Value {
    json!({"kind": k, "n": n})
}

#[test]
fn all_pairs_every_waiting_event_with_the_one_that_completes_them() {
    let mut e = engine(PAIR);
    assert!(send(&mut e, kind("x", 1), 0).is_empty());
    assert!(send(&mut e, kind("x", 2), 100).is_empty());
    assert_eq!(
        send(&mut e, kind("y", 3), 200),
        [
            fired("pair", &[kind("x", 2), kind("y", 3)]),
            fired("pair", &[kind("x", 1), kind("y", 3)])
        ]
    );
    // Both x were consumed: the next y waits.
    assert!(send(&mut e, kind("y", 4), 300).is_empty());
    let mut restarted = engine(PAIR);
    restarted.restore(via_json(e.take_changes()));
    assert_eq!(
        send(&mut restarted, kind("x", 5), 400),
        [fired("pair", &[kind("x", 5), kind("y", 4)])]
    );
}

#[test]
fn a_back_reference_matches_whichever_event_comes_first() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: same host
      condition:
        all:
          - event.kind == 'a'
          - event.kind == 'b' && event.host == events.m_0.host
      action: {debug: {}}
",
    );
    let (b, other_b) = (
        json!({"kind": "b", "host": "h"}),
        json!({"kind": "b", "host": "g"}),
    );
    let a = json!({"kind": "a", "host": "h"});
    assert!(send(&mut e, b.clone(), 0).is_empty());
    assert!(send(&mut e, other_b, 100).is_empty());
    assert!(send(&mut e, json!({"kind": "c", "host": "h"}), 150).is_empty());
    assert_eq!(send(&mut e, a.clone(), 200), [fired("same host", &[a, b])]);
}

const THROTTLED_FIRST: &str = "
- name: rs
  match_multiple_rules: true
  rules:
    - name: plain
      condition: event.x == `1`
      action: {debug: {}}
    - name: throttled
      condition: event.x == `1`
      throttle:
        MODE
        group_by_attributes: [event.x]
      action: {debug: {}}
    - name: after
      condition: event.x == `1`
      action: {debug: {}}
";

#[test]
fn a_throttled_rule_consumes_the_event_even_with_match_multiple_rules() {
    for mode in [
        "once_within: 5 seconds",
        "once_after: 1 second",
        "accumulate_within: 5 seconds\n        threshold: 2",
    ] {
        let mut e = engine(&THROTTLED_FIRST.replace("MODE", mode));
        let one = json!({"x": 1});
        let rules =
            |f: Vec<(String, Vec<Value>)>| f.into_iter().map(|(r, _)| r).collect::<Vec<_>>();
        let first = rules(send(&mut e, one.clone(), 0));
        let second = rules(send(&mut e, one.clone(), 300));
        assert!(!first.contains(&"after".to_owned()), "{mode}: {first:?}");
        assert!(!second.contains(&"after".to_owned()), "{mode}: {second:?}");
        assert_eq!(first[0], "plain", "{mode}");
        assert_eq!(second[0], "plain", "{mode}");
    }
}

#[test]
fn accumulate_within_fires_with_the_event_that_reached_the_threshold() {
    let mut e = engine(
        &THROTTLED_FIRST
            .replace("MODE", "accumulate_within: 5 seconds\n        threshold: 2")
            .replace("match_multiple_rules: true", "match_multiple_rules: false")
            .replace(
                "- name: plain\n      condition: event.x == `1`",
                "- name: plain\n      condition: event.x == `2`",
            ),
    );
    assert!(send(&mut e, json!({"x": 1, "n": 1}), 0).is_empty());
    assert_eq!(
        send(&mut e, json!({"x": 1, "n": 2}), 100),
        [fired("throttled", &[json!({"x": 1, "n": 2})])]
    );
}

const FACTS: &str = "
- name: rs
  rules:
    - name: setter
      condition: event.go == `1`
      action: {set_fact: {fact: {mode: maint}}}
    - name: clearer
      condition: event.go == `0`
      action: {retract_fact: {fact: {mode: maint}}}
    - name: on fact
      condition: event.mode == 'maint'
      action: {debug: {}}
    - name: also on fact
      condition: facts.mode == 'maint' && event.mode == 'maint'
      action: {debug: {}}
    - name: joined
      condition:
        all:
          - event.mode == 'maint'
          - event.alert == `1`
      action: {debug: {}}
";

#[test]
fn a_fact_is_matched_by_every_rule_and_stays_in_all_matches_until_retracted() {
    let mut e = engine(FACTS);
    let fact = json!({"mode": "maint"});
    let names = |f: Vec<(String, Vec<Value>)>| f.into_iter().map(|(r, _)| r).collect::<Vec<_>>();
    assert_eq!(
        names(send(&mut e, json!({"go": 1}), 0)),
        ["setter", "on fact", "also on fact"],
        "a fact is not consumed by the first rule that matches it"
    );
    let alert = |n: i64| json!({"alert": 1, "n": n});
    assert_eq!(
        send(&mut e, alert(1), 1_000),
        [fired("joined", &[fact.clone(), alert(1)])]
    );
    assert_eq!(
        send(&mut e, alert(2), 2_000),
        [fired("joined", &[fact.clone(), alert(2)])]
    );
    // The pooled fact survives a restart; retracting it ends the joins.
    let mut restarted = engine(FACTS);
    restarted.restore(via_json(e.take_changes()));
    assert_eq!(
        send(&mut restarted, alert(3), 3_000),
        [fired("joined", &[fact, alert(3)])]
    );
    send(&mut restarted, json!({"go": 0}), 4_000);
    assert!(send(&mut restarted, alert(4), 5_000).is_empty());
}

/// The order ansible-rulebook 1.3.2 fired the matches one event completed, as observed.
#[test]
fn the_matches_one_event_completes_fire_in_ansible_rulebooks_order() {
    let three = "
- name: rs
  rules:
    - name: abc
      condition:
        all:
          - event.kind == 'a'
          - event.kind == 'b'
          - event.kind == 'c'
      action: {debug: {}}
";
    let mut e = engine(three);
    for (n, k) in [(1, "a"), (2, "a"), (3, "b"), (4, "b")] {
        assert!(send(&mut e, kind(k, n), n * 100).is_empty());
    }
    let order: Vec<Vec<i64>> = send(&mut e, kind("c", 5), 500)
        .into_iter()
        .map(|(_, events)| events.iter().filter_map(|e| e["n"].as_i64()).collect())
        .collect();
    assert_eq!(order, [[1, 4, 5], [2, 4, 5], [1, 3, 5], [2, 3, 5]]);
    let mut e = engine(three);
    for (n, k) in [(1, "c"), (2, "a"), (3, "a")] {
        send(&mut e, kind(k, n), n * 100);
    }
    let order: Vec<Vec<i64>> = send(&mut e, kind("b", 4), 400)
        .into_iter()
        .map(|(_, events)| events.iter().filter_map(|e| e["n"].as_i64()).collect())
        .collect();
    assert_eq!(order, [[2, 4, 1], [3, 4, 1]]);
    let mut e = engine(PAIR);
    send(&mut e, kind("y", 1), 0);
    send(&mut e, kind("y", 2), 100);
    assert_eq!(
        send(&mut e, kind("x", 3), 200),
        [
            fired("pair", &[kind("x", 3), kind("y", 1)]),
            fired("pair", &[kind("x", 3), kind("y", 2)])
        ]
    );
}

const PAIR_THEN_SINGLE: &str = "
- name: rs
  MULTI
  default_events_ttl: 1 second
  rules:
    - name: pair
      condition:
        all:
          - event.kind == 'a'
          - event.kind == 'b'
        timeout: 4 seconds
      action: {debug: {}}
    - name: single
      condition: event.kind == 'SINGLE'
      action: {debug: {}}
";

#[test]
fn with_match_multiple_rules_an_all_match_consumes_nothing() {
    let book = PAIR_THEN_SINGLE
        .replace("MULTI", "match_multiple_rules: true")
        .replace("SINGLE", "b");
    let mut e = engine(&book);
    send(&mut e, kind("a", 1), 0);
    assert_eq!(
        send(&mut e, kind("b", 2), 100),
        [
            fired("pair", &[kind("a", 1), kind("b", 2)]),
            fired("single", &[kind("b", 2)])
        ]
    );
    assert_eq!(
        send(&mut e, kind("b", 3), 200),
        [
            fired("pair", &[kind("a", 1), kind("b", 3)]),
            fired("single", &[kind("b", 3)])
        ]
    );
}

/// Both as parsed JSON and decoded as `rules run` and `rules test` decode (only `kind` is read, so
/// the conditions see part of the payload and the pool keeps the whole).
#[test]
fn an_event_a_later_rule_consumes_leaves_the_earlier_all_matches() {
    let book = PAIR_THEN_SINGLE.replace("MULTI", "").replace("SINGLE", "a");
    let compiled = semaphore::rulebook::compile("t.yml", &book).unwrap_or_else(|d| panic!("{d}"));
    let reads = compiled.reads.payload.clone();
    let decoded = |v: Value| {
        let bytes = serde_json::to_vec(&v).expect("serializes");
        Event::decode_offline_reading(&bytes, json!({}), &reads).expect("an object")
    };
    let parsed = |v: Value| Event::from_json(v, json!({}));
    for event in [&parsed as &dyn Fn(Value) -> Event, &decoded] {
        let mut e = engine(&book);
        let mut send = |v: Value, at_ms: i64| firings(e.process(event(v), at_ms));
        assert_eq!(send(kind("a", 1), 0), [fired("single", &[kind("a", 1)])]);
        assert!(send(kind("b", 2), 100).is_empty());
        assert_eq!(
            send(kind("a", 3), 200),
            [fired("pair", &[kind("a", 3), kind("b", 2)])]
        );
    }
}

#[test]
fn the_ruleset_ttl_ends_an_all_match_even_under_a_longer_timeout() {
    let book = PAIR_THEN_SINGLE
        .replace("MULTI", "")
        .replace("SINGLE", "none");
    let mut e = engine(&book);
    send(&mut e, kind("a", 1), 0);
    assert!(send(&mut e, kind("b", 2), 2_000).is_empty());
    assert_eq!(
        send(&mut e, kind("a", 3), 2_500),
        [fired("pair", &[kind("a", 3), kind("b", 2)])]
    );
}
