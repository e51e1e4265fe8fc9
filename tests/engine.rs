//! Engine semantics through the public API: rule order and `match_multiple_rules`, `any`/`not_all`,
//! facts and posted events, evaluation errors, and time as a parameter.

use std::collections::BTreeMap;
use std::sync::Arc;

use semaphore::engine::{Engine, Outcome};
use semaphore::event::Event;
use serde_json::json;

fn engine(yaml: &str) -> Engine {
    let book = semaphore::rulebook::compile("t.yml", yaml).unwrap_or_else(|d| panic!("{d}"));
    Engine::new(Arc::new(book), BTreeMap::new())
}

fn send(engine: &mut Engine, event: serde_json::Value, at_ms: i64) -> Outcome {
    engine.process(Event::from_json(event, json!({})), at_ms)
}

fn fired(outcome: &Outcome) -> Vec<&str> {
    outcome.firings.iter().map(|f| f.rule.as_str()).collect()
}

const TWO_RULES: &str = "
- name: rs
  MULTI
  rules:
    - name: first
      condition: event.x > `1`
      action: {debug: {}}
    - name: second
      condition: event.x > `2`
      action: {debug: {}}
";

#[test]
fn the_first_matching_rule_consumes_the_event_unless_match_multiple_rules() {
    let mut single = engine(&TWO_RULES.replace("MULTI", "match_multiple_rules: false"));
    assert_eq!(fired(&send(&mut single, json!({"x": 5}), 0)), ["first"]);
    let mut multiple = engine(&TWO_RULES.replace("MULTI", "match_multiple_rules: true"));
    assert_eq!(
        fired(&send(&mut multiple, json!({"x": 5}), 0)),
        ["first", "second"]
    );
}

#[test]
fn any_fires_on_the_first_event_meeting_a_sub_condition() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: either
      condition:
        any: [\"event.a == 'x'\", \"event.b == 'y'\"]
      action: {debug: {}}
",
    );
    assert_eq!(fired(&send(&mut e, json!({"b": "y"}), 0)), ["either"]);
    assert!(fired(&send(&mut e, json!({"c": 1}), 0)).is_empty());
}

#[test]
fn not_all_fires_when_the_window_times_out_incomplete() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: heartbeat missing
      condition:
        not_all: [\"event.kind == 'start'\", \"event.kind == 'done'\"]
        timeout: 10 seconds
      action: {debug: {msg: '{{ events.m_0.kind }} without done'}}
",
    );
    assert!(send(&mut e, json!({"kind": "start"}), 0).firings.is_empty());
    assert_eq!(e.next_deadline_ms(), Some(10_000));
    assert!(e.advance(9_999).firings.is_empty());
    let outcome = e.advance(10_000);
    assert_eq!(fired(&outcome), ["heartbeat missing"]);
    assert_eq!(
        outcome.firings[0].actions[0].as_ref().unwrap().args,
        json!({"msg": "start without done"})
    );
    // A complete pair inside the window stays quiet.
    send(&mut e, json!({"kind": "start"}), 20_000);
    send(&mut e, json!({"kind": "done"}), 21_000);
    assert!(e.advance(40_000).firings.is_empty());
}

#[test]
fn set_fact_is_visible_to_later_events_and_post_event_reaches_another_ruleset() {
    let mut e = engine(
        "
- name: tracker
  rules:
    - name: remember
      condition: event.status == 'failed'
      actions:
        - set_fact:
            fact: {failed_serial: '{{ event.serial }}'}
        - post_event:
            ruleset: escalation
            event: {escalate: '{{ event.serial }}'}
    - name: recovered
      condition: event.status == 'active' && event.serial == facts.failed_serial
      action: {retract_fact: {fact: {failed_serial: x}}}
- name: escalation
  rules:
    - name: page
      condition: event.escalate
      action: {debug: {msg: 'page about {{ event.escalate }}'}}
",
    );
    let outcome = send(&mut e, json!({"status": "failed", "serial": "Q2"}), 0);
    assert_eq!(fired(&outcome), ["remember", "page"]);
    assert_eq!(
        fired(&send(
            &mut e,
            json!({"status": "active", "serial": "Q2"}),
            1
        )),
        ["recovered"]
    );
    assert!(
        fired(&send(
            &mut e,
            json!({"status": "active", "serial": "Q2"}),
            2
        ))
        .is_empty()
    );
}

#[test]
fn an_evaluation_error_is_a_non_match_with_a_reported_error() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: cidr
      condition: cidr_contains('10.0.0.0/8', event.ip)
      action: {debug: {}}
",
    );
    let outcome = send(&mut e, json!({"ip": "not-an-ip"}), 0);
    assert!(outcome.firings.is_empty());
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(outcome.errors[0].rule, "cidr");
    assert_eq!(fired(&send(&mut e, json!({"ip": "10.1.2.3"}), 0)), ["cidr"]);
}

#[test]
fn a_missing_environment_variable_fails_the_action_not_the_engine() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: hook
      condition: event.x
      action: {webhook: {url: '{{ env.SEMAPHORE_TEST_UNSET_URL }}'}}
",
    );
    let outcome = send(&mut e, json!({"x": true}), 0);
    let err = outcome.firings[0].actions[0].as_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable `SEMAPHORE_TEST_UNSET_URL` is not set"
    );
}

#[test]
fn now_is_the_event_time() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: fresh
      condition: to_epoch(event.ts) >= sum([now(), `-60`])
      action: {debug: {}}
",
    );
    let at =
        |ts: &str, now_ms: i64| Event::from_json(json!({"ts": ts}), json!({"timestamp": now_ms}));
    assert_eq!(
        e.process(at("2026-01-01T00:00:30Z", 1_767_225_650_000), 0)
            .firings
            .len(),
        1
    );
    assert!(
        e.process(at("2026-01-01T00:00:30Z", 1_767_225_700_000), 0)
            .firings
            .is_empty()
    );
}

#[test]
fn firings_carry_their_records_origin_and_clock_firings_none() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: started
      condition: event.kind == 'start'
      action: {debug: {}}
    - name: heartbeat missing
      condition:
        not_all: [\"event.kind == 'start'\", \"event.kind == 'done'\"]
        timeout: 10 seconds
      action: {debug: {}}
  match_multiple_rules: true
",
    );
    let meta = json!({"topic": "beats", "partition": 4, "offset": 17});
    let outcome = e.process(Event::from_json(json!({"kind": "start"}), meta), 0);
    let origin = outcome.firings[0]
        .origin
        .as_ref()
        .expect("a record's firing");
    assert_eq!(
        (origin.topic.as_str(), origin.partition, origin.offset),
        ("beats", 4, 17)
    );
    assert_eq!(outcome.firings[0].idempotency_key, "beats/4/17/rs/started");
    let timeout = e.advance(10_000);
    assert_eq!(fired(&timeout), ["heartbeat missing"]);
    assert!(timeout.firings[0].origin.is_none());
}

#[test]
fn now_on_the_timer_path_is_the_engine_clock() {
    // The `not_all` timeout fires from `advance`, and the event it posts is evaluated there too:
    // `now()` must read the engine's clock (10 s), not the system's (about 1.8e9 s).
    let mut e = engine(
        "
- name: watch
  rules:
    - name: heartbeat missing
      condition:
        not_all: [\"event.kind == 'start'\", \"event.kind == 'done'\"]
        timeout: 10 seconds
      action: {post_event: {ruleset: clocked, event: {tick: true}}}
- name: clocked
  rules:
    - name: early
      condition: event.tick && now() < `100`
      action: {debug: {}}
",
    );
    assert!(send(&mut e, json!({"kind": "start"}), 0).firings.is_empty());
    assert_eq!(fired(&e.advance(10_000)), ["heartbeat missing", "early"]);
}

#[test]
fn sources_route_topics_and_split_batches_with_the_siblings_in_meta() {
    let mut e = engine("
- name: clients
  sources:
    - kafka: {topic: meraki.clients, split_on: payload}
  rules:
    - name: windows client
      condition: \"regex_search(event.os, 'Windows')\"
      action: {debug: {msg: '{{ event.mac }} on {{ meta.batch.networkName }} {{ idempotency_key }}'}}
");
    let batch = json!({
        "network": "N_1",
        "networkName": "Branch",
        "payload": [{"mac": "aa", "os": "Windows 11"}, {"mac": "bb", "os": "iOS"}, {"mac": "cc", "os": "Windows 10"}],
    });
    let meta = json!({"topic": "meraki.clients", "partition": 3, "offset": 42});
    let outcome = e.process(Event::from_json(batch.clone(), meta), 0);
    let messages: Vec<_> = outcome
        .firings
        .iter()
        .map(|f| f.actions[0].as_ref().unwrap().args["msg"].clone())
        .collect();
    assert_eq!(
        messages,
        [
            json!("aa on Branch meraki.clients/3/42#0/clients/windows client"),
            json!("cc on Branch meraki.clients/3/42#2/clients/windows client")
        ]
    );
    assert_eq!(
        outcome.firings[1].idempotency_key,
        "meraki.clients/3/42#2/clients/windows client"
    );
    let other_topic = json!({"topic": "meraki.uplinks", "partition": 0, "offset": 1});
    assert!(
        e.process(Event::from_json(batch, other_topic), 0)
            .firings
            .is_empty()
    );
}

#[test]
fn every_template_root_rules_check_accepts_is_in_the_render_context() {
    let uses: Vec<String> = semaphore::rulebook::action::TEMPLATE_ROOTS
        .iter()
        .map(|root| format!("{root}={{{{ {root} is defined }}}}"))
        .collect();
    let mut e = engine(&format!(
        "
- name: rs
  rules:
    - name: all roots
      condition: event.x == `1`
      action: {{debug: {{msg: \"{}\"}}}}
",
        uses.join(" ")
    ));
    let outcome = send(&mut e, json!({"x": 1}), 0);
    let rendered = outcome.firings[0].actions[0].as_ref().expect("renders");
    let expected: Vec<String> = semaphore::rulebook::action::TEMPLATE_ROOTS
        .iter()
        .map(|root| format!("{root}=True"))
        .collect();
    assert_eq!(rendered.args["msg"], json!(expected.join(" ")));
}
