//! Window rules through the public engine API: each form (threshold, frequency, absence, change,
//! spike), resolved notifications, throttling, LRU eviction, late events, and the changelog round trip
//! (take_changes / restore / forget_partition).

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use semaphore::engine::{Engine, Outcome};
use semaphore::event::Event;
use semaphore::rulebook::action::FiringStatus;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

fn engine(yaml: &str) -> Engine {
    let book = semaphore::rulebook::compile("t.yml", yaml).unwrap_or_else(|d| panic!("{d}"));
    Engine::new(Arc::new(book), BTreeMap::new())
}

fn record(offset: i64) -> Value {
    json!({"topic": "loss", "partition": offset % 2, "offset": offset})
}

fn send(engine: &mut Engine, event: Value, at_ms: i64) -> Outcome {
    engine.process(Event::from_json(event, json!({})), at_ms)
}

/// (rule, status) of each firing.
fn fired(outcome: &Outcome) -> Vec<(String, &'static str)> {
    outcome
        .firings
        .iter()
        .map(|f| (f.rule.clone(), f.status.name()))
        .collect()
}

fn one(rule: &str, status: &'static str) -> Vec<(String, &'static str)> {
    vec![(rule.to_owned(), status)]
}

const SUSTAINED: &str = "
- name: rs
  rules:
    - name: loss
      condition: event.loss != `null`
      window:
        group_by: [event.serial]
        size: 5 minutes
        value: event.loss
        fire_when: window.avg > `5`
      resolve_when: window.avg < `1`
      action:
        debug:
          msg: \"{{ status }} {{ window.avg }} {{ window.key[0] }} {{ resolved }}\"
";

#[test]
fn sliding_average_fires_once_while_high_and_resolves_per_key() {
    let mut e = engine(SUSTAINED);
    assert!(fired(&send(&mut e, json!({"serial": "A", "loss": 4}), 0)).is_empty());
    let out = send(&mut e, json!({"serial": "A", "loss": 8}), MIN);
    assert_eq!(fired(&out), one("loss", "firing"));
    let msg = &out.firings[0].actions[0].as_ref().unwrap().args["msg"];
    assert_eq!(msg, "firing 6.0 A False");
    assert_eq!(out.firings[0].group_key.as_deref(), Some("[\"A\"]"));
    // Still high: no second notification. Another key is independent.
    assert!(fired(&send(&mut e, json!({"serial": "A", "loss": 9}), 2 * MIN)).is_empty());
    assert!(fired(&send(&mut e, json!({"serial": "B", "loss": 0}), 2 * MIN)).is_empty());
    // Between the thresholds: still firing, nothing sent.
    assert!(fired(&send(&mut e, json!({"serial": "A", "loss": 0}), 3 * MIN)).is_empty());
    // The high samples slide out of the 5-minute window: avg of (0, 0, 0) at 3..8 min.
    assert!(
        fired(&send(
            &mut e,
            json!({"serial": "A", "loss": 0}),
            6 * MIN + 1
        ))
        .is_empty()
    );
    let out = send(&mut e, json!({"serial": "A", "loss": 0}), 7 * MIN + 1);
    assert_eq!(fired(&out), one("loss", "resolved"));
    assert_eq!(out.firings[0].status, FiringStatus::Resolved);
    let msg = &out.firings[0].actions[0].as_ref().unwrap().args["msg"];
    assert_eq!(msg, "resolved 0.0 A True");
    // Once resolved, the key can fire again: (0, 0, 20) averages 6.7.
    let out = send(&mut e, json!({"serial": "A", "loss": 20}), 8 * MIN);
    assert_eq!(fired(&out), one("loss", "firing"));
}

#[test]
fn frequency_without_resolve_re_arms_when_the_count_drops() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: bursts
      condition: event.kind == 'dhcp-failure'
      window:
        group_by: [event.network]
        size: 1 minute
        fire_when: window.count >= `3`
      action: {debug: {}}
",
    );
    let ev = json!({"kind": "dhcp-failure", "network": "N1"});
    assert!(fired(&send(&mut e, ev.clone(), 0)).is_empty());
    assert!(fired(&send(&mut e, ev.clone(), 10_000)).is_empty());
    assert_eq!(
        fired(&send(&mut e, ev.clone(), 20_000)),
        one("bursts", "firing")
    );
    assert!(fired(&send(&mut e, ev.clone(), 30_000)).is_empty());
    // 2 minutes later only this event is in the window: the rule re-arms silently.
    assert!(fired(&send(&mut e, ev.clone(), 150_000)).is_empty());
    send(&mut e, ev.clone(), 151_000);
    assert_eq!(fired(&send(&mut e, ev, 152_000)), one("bursts", "firing"));
}

const SILENT: &str = "
- name: rs
  rules:
    - name: silent
      condition: event.serial != `null`
      window:
        group_by: [event.serial]
        absent_for: 10 minutes
      action:
        debug:
          msg: \"{{ status }} {{ event.serial }} {{ window.key[0] }}\"
";

#[test]
fn absence_fires_on_the_timer_and_resolves_when_the_key_reappears() {
    let mut e = engine(SILENT);
    send(&mut e, json!({"serial": "A"}), 0);
    send(&mut e, json!({"serial": "B"}), 5 * MIN);
    assert_eq!(e.next_deadline_ms(), Some(10 * MIN));
    assert!(fired(&e.advance(10 * MIN - 1)).is_empty());
    let out = e.advance(10 * MIN);
    assert_eq!(fired(&out), one("silent", "firing"));
    assert_eq!(out.firings[0].time_ms, 10 * MIN);
    let msg = &out.firings[0].actions[0].as_ref().unwrap().args["msg"];
    assert_eq!(msg, "firing A A");
    // Firing keys do not fire again.
    assert_eq!(e.next_deadline_ms(), Some(15 * MIN));
    assert!(fired(&e.advance(14 * MIN)).is_empty());
    let out = send(&mut e, json!({"serial": "A"}), 14 * MIN);
    assert_eq!(fired(&out), one("silent", "resolved"));
}

#[test]
fn absence_is_also_found_when_the_next_event_arrives_after_the_deadline() {
    let mut e = engine(SILENT);
    send(&mut e, json!({"serial": "A"}), 0);
    // No timer ran: the event at 30 minutes first fires the absence (at 10 minutes), then resolves it.
    let out = send(&mut e, json!({"serial": "A"}), 30 * MIN);
    assert_eq!(
        fired(&out),
        vec![
            ("silent".to_owned(), "firing"),
            ("silent".to_owned(), "resolved")
        ]
    );
    assert_eq!(out.firings[0].time_ms, 10 * MIN);
    assert_ne!(
        out.firings[0].idempotency_key,
        out.firings[1].idempotency_key
    );
}

#[test]
fn change_fires_on_a_new_value_and_flapping_counts_changes_in_the_window() {
    let mut e = engine(
        "
- name: rs
  match_multiple_rules: true
  rules:
    - name: status changed
      condition: event.status != `null`
      window:
        group_by: [event.serial, event.uplink]
        change: event.status
      action:
        debug:
          msg: \"{{ window.previous }} -> {{ window.current }}\"
    - name: flapping
      condition: event.status != `null`
      window:
        group_by: [event.serial, event.uplink]
        change: event.status
        size: 10 minutes
        fire_when: window.changes >= `3`
      action: {debug: {}}
",
    );
    let ev = |s: &str| json!({"serial": "A", "uplink": "wan1", "status": s});
    assert!(fired(&send(&mut e, ev("active"), 0)).is_empty());
    assert!(fired(&send(&mut e, ev("active"), MIN)).is_empty());
    let out = send(&mut e, ev("failed"), 2 * MIN);
    assert_eq!(fired(&out), one("status changed", "firing"));
    let msg = &out.firings[0].actions[0].as_ref().unwrap().args["msg"];
    assert_eq!(msg, "active -> failed");
    assert_eq!(
        fired(&send(&mut e, ev("active"), 3 * MIN)),
        one("status changed", "firing")
    );
    assert_eq!(
        fired(&send(&mut e, ev("failed"), 4 * MIN)),
        vec![
            ("status changed".to_owned(), "firing"),
            ("flapping".to_owned(), "firing")
        ]
    );
    // A late event (older than the key's latest) is no change.
    assert!(fired(&send(&mut e, ev("active"), 3 * MIN + 30_000)).is_empty());
}

#[test]
fn spike_down_compares_the_window_with_the_previous_one() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: clients dropped
      condition: event.clients != `null`
      window:
        group_by: [event.network]
        size: 10 minutes
        value: event.clients
        spike: {factor: 2, direction: down}
      resolve_when: window.ratio > `0.8`
      action:
        debug:
          msg: \"{{ window.baseline }} {{ window.ratio }}\"
",
    );
    for minute in 0..10 {
        let out = send(
            &mut e,
            json!({"network": "N", "clients": 100}),
            minute * MIN,
        );
        assert!(fired(&out).is_empty(), "minute {minute}");
    }
    // The window (5, 15] still holds four samples of 100: average 88.
    let out = send(&mut e, json!({"network": "N", "clients": 40}), 15 * MIN);
    assert!(fired(&out).is_empty());
    // (10, 20] averages 40 against 100 in (0, 10]: ratio 0.4, at most 1/2.
    let out = send(&mut e, json!({"network": "N", "clients": 40}), 20 * MIN);
    assert_eq!(fired(&out), one("clients dropped", "firing"));
    let msg = &out.firings[0].actions[0].as_ref().unwrap().args["msg"];
    assert_eq!(msg, "100.0 0.4");
    let out = send(&mut e, json!({"network": "N", "clients": 100}), 31 * MIN);
    assert_eq!(fired(&out), one("clients dropped", "resolved"));
}

#[test]
fn a_throttle_holds_back_repeated_firings_of_a_window() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: bursts
      condition: event.n != `null`
      window:
        group_by: [event.k]
        size: 1 minute
        fire_when: window.count >= `2`
      throttle:
        once_within: 10 minutes
      action: {debug: {}}
",
    );
    let ev = json!({"k": 1, "n": 1});
    send(&mut e, ev.clone(), 0);
    assert_eq!(
        fired(&send(&mut e, ev.clone(), 1_000)),
        one("bursts", "firing")
    );
    // Re-armed after the window emptied, met again within the throttle: held back.
    send(&mut e, ev.clone(), 5 * MIN);
    let out = send(&mut e, ev.clone(), 5 * MIN + 1_000);
    assert!(fired(&out).is_empty());
    assert_eq!(out.throttled, 1);
    send(&mut e, ev.clone(), 11 * MIN);
    assert_eq!(
        fired(&send(&mut e, ev, 11 * MIN + 1)),
        one("bursts", "firing")
    );
}

#[test]
fn keys_beyond_max_keys_evict_the_least_recently_updated() {
    let mut e = engine(&SILENT.replace("      window:", "      max_keys: 2\n      window:"));
    send(&mut e, json!({"serial": "A"}), 0);
    send(&mut e, json!({"serial": "B"}), 1);
    send(&mut e, json!({"serial": "A"}), 2);
    send(&mut e, json!({"serial": "C"}), 3);
    let evictions = e.evictions();
    assert_eq!(evictions.len(), 1);
    assert_eq!(evictions[0].evicted, 1);
    // B was evicted: only A and C go silent.
    let out = e.advance(60 * MIN);
    let mut keys: Vec<_> = out
        .firings
        .iter()
        .map(|f| f.group_key.clone().unwrap())
        .collect();
    keys.sort();
    assert_eq!(keys, ["[\"A\"]", "[\"C\"]"]);
}

#[test]
fn a_late_event_counts_while_inside_the_window_and_is_dropped_after() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: sum
      condition: event.v != `null`
      window:
        group_by: [event.k]
        size: 1 minute
        value: event.v
        fire_when: window.sum >= `10`
      action: {debug: {}}
",
    );
    send(&mut e, json!({"k": 1, "v": 4}), 100_000);
    // 70 s before the key's latest time: outside the window, not counted.
    assert!(fired(&send(&mut e, json!({"k": 1, "v": 100}), 30_000)).is_empty());
    // 30 s before: inside, counted: 4 + 6 = 10.
    assert_eq!(
        fired(&send(&mut e, json!({"k": 1, "v": 6}), 70_000)),
        one("sum", "firing")
    );
}

#[test]
fn state_restored_from_changes_continues_like_an_engine_that_never_stopped() {
    let events: Vec<(Value, i64)> = (0..40)
        .map(|n| {
            // S3 goes quiet after a while; loss is high first, then gone.
            let serial = if n >= 25 && n % 4 == 3 { 0 } else { n % 4 };
            let loss = if n < 20 { 8 + n % 5 } else { 0 };
            (
                json!({"serial": format!("S{serial}"), "loss": loss}),
                n * 20_000,
            )
        })
        .collect();
    let book = SUSTAINED.to_owned()
        + "    - name: quiet
      condition: event.serial != `null`
      window:
        group_by: [event.serial]
        absent_for: 3 minutes
      action: {debug: {}}
    - name: once
      condition: event.loss > `10`
      throttle:
        once_within: 5 minutes
        group_by: [event.serial]
      action: {debug: {}}
";
    let book = book.replace("- name: rs\n", "- name: rs\n  match_multiple_rules: true\n");
    let run = |e: &mut Engine, from: usize, to: usize| -> Vec<(String, String, &'static str)> {
        let mut out = Vec::new();
        for (n, (event, at)) in events.iter().enumerate().take(to).skip(from) {
            let meta = record(n as i64);
            let outcome = e.process(Event::from_json(event.clone(), meta), *at);
            out.extend(outcome.firings.iter().map(|f| {
                (
                    f.rule.clone(),
                    f.group_key.clone().unwrap_or_default(),
                    f.status.name(),
                )
            }));
        }
        out
    };
    let mut steady = engine(&book);
    let expected = run(&mut steady, 0, 40);
    assert!(expected.iter().any(|f| f.2 == "resolved"), "{expected:?}");
    assert!(expected.iter().any(|f| f.0 == "quiet"), "{expected:?}");

    let mut first = engine(&book);
    first.set_change_tracking(true);
    let mut got = run(&mut first, 0, 17);
    let mut changelog = first.take_changes();
    got.extend(run(&mut first, 17, 23));
    changelog.extend(first.take_changes());
    // Through JSON, as a changelog topic would carry it.
    let text = serde_json::to_string(&changelog).unwrap();
    let mut second = engine(&book);
    second.set_change_tracking(true);
    second.restore(serde_json::from_str::<Vec<semaphore::engine::StateChange>>(&text).unwrap());
    assert!(
        second.take_changes().is_empty(),
        "restoring is not a change"
    );
    got.extend(run(&mut second, 23, 40));
    assert_eq!(got, expected);
}

#[test]
fn forget_partition_drops_only_that_partitions_keys() {
    let mut e = engine(SILENT);
    e.set_change_tracking(true);
    e.process(Event::from_json(json!({"serial": "A"}), record(0)), 0);
    e.process(Event::from_json(json!({"serial": "B"}), record(1)), 0);
    let changes = e.take_changes();
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .all(|c| c.source.as_ref().is_some_and(|s| s.topic == "loss"))
    );
    e.forget_partition("loss", 0);
    assert!(e.take_changes().is_empty());
    let out = e.advance(60 * MIN);
    assert_eq!(out.firings.len(), 1);
    assert_eq!(out.firings[0].group_key.as_deref(), Some("[\"B\"]"));
}

#[test]
fn pagerduty_resolves_the_alert_it_triggered() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: silent
      condition: event.serial != `null`
      window:
        group_by: [event.serial]
        absent_for: 1 minute
      action:
        webhook:
          preset: pagerduty
          routing_key: k
          text: \"{{ event.serial }} is silent\"
",
    );
    send(&mut e, json!({"serial": "A"}), 0);
    let out = send(&mut e, json!({"serial": "A"}), 5 * MIN);
    let args: Vec<&Value> = out
        .firings
        .iter()
        .map(|f| &f.actions[0].as_ref().unwrap().args)
        .collect();
    assert_eq!(args[0].get("event_action"), None);
    assert_eq!(args[1]["event_action"], "resolve");
    assert_eq!(args[0]["dedup_key"], "rs/silent/[\"A\"]");
    assert_eq!(args[1]["dedup_key"], args[0]["dedup_key"]);
}

proptest! {
    #[test]
    fn the_sliding_average_equals_a_naive_recomputation(
        samples in proptest::collection::vec((0i64..600_000, 0u32..1000), 1..60)
    ) {
        let mut e = engine(
            "
- name: rs
  rules:
    - name: avg
      condition: event.v != `null`
      window:
        group_by: [event.k]
        size: 2 minutes
        value: event.v
        fire_when: \"`true`\"
      action:
        debug:
          msg: \"{{ window.avg }} {{ window.count }}\"
",
        );
        let mut sorted = samples.clone();
        sorted.sort_by_key(|(t, _)| *t);
        for (n, (t, v)) in sorted.iter().enumerate() {
            let out = send(&mut e, json!({"k": 1, "v": v}), *t);
            let seen: Vec<f64> = sorted[..=n]
                .iter()
                .filter(|(u, _)| *u > t - 120_000)
                .map(|(_, v)| f64::from(*v))
                .collect();
            // Fires on the first event, then only after re-arming, which `true` never allows.
            if n == 0 {
                let msg = out.firings[0].actions[0].as_ref().unwrap().args["msg"].clone();
                let avg = seen.iter().sum::<f64>() / seen.len() as f64;
                prop_assert_eq!(msg, json!(format!("{avg:?} {}", seen.len())));
            }
        }
    }
}

#[test]
fn percentiles_are_available_to_conditions_and_templates() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: slow tail
      condition: event.ms != `null`
      window:
        group_by: [event.k]
        size: 1 minute
        value: event.ms
        fire_when: window.count >= `10` && window.p90 > `100`
      action:
        debug:
          msg: \"{{ window.p50 }} {{ window.p90 }} {{ window.max }}\"
",
    );
    for n in 0..9 {
        assert!(fired(&send(&mut e, json!({"k": 1, "ms": 10 * n}), n * 1_000)).is_empty());
    }
    // 0, 10, ..., 80 and 500: the 90th percentile is 80, not yet above 100.
    assert!(fired(&send(&mut e, json!({"k": 1, "ms": 500}), 9_000)).is_empty());
    let out = send(&mut e, json!({"k": 1, "ms": 400}), 10_000);
    assert_eq!(fired(&out), one("slow tail", "firing"));
    let msg = &out.firings[0].actions[0].as_ref().unwrap().args["msg"];
    assert_eq!(msg, "50.0 400.0 500.0");
}
