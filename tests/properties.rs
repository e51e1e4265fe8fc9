//! Property tests of the pure core: the rulebook compiler never panics on any input, a
//! `once_within` throttle never lets two firings of one group closer than its window, and the clock's
//! firings (`once_after`, `not_all`, `absent_for`) never share an idempotency key, keep it when
//! replayed, and carry the time they were due.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use proptest::prelude::*;
use semaphore::engine::Engine;
use semaphore::event::Event;
use semaphore::rulebook::action::FiringStatus;
use serde_json::json;

proptest! {
    #[test]
    fn compiling_arbitrary_text_returns_a_result(source in "\\PC{0,200}") {
        let _ = semaphore::rulebook::compile("fuzz.yml", &source);
    }

    #[test]
    fn compiling_rulebook_shaped_noise_returns_a_result(
        key in "(name|rules|condition|action|actions|throttle|sources|vars|all|any)",
        value in "[a-z.`'\"=<>&|!() 0-9{}\\[\\]-]{0,40}",
    ) {
        let source = format!("- name: rs\n  rules:\n    - name: r\n      {key}: {value}\n      action: {{debug: {{}}}}\n");
        let _ = semaphore::rulebook::compile("fuzz.yml", &source);
    }

    #[test]
    fn once_within_keeps_firings_of_a_group_a_window_apart(
        steps in prop::collection::vec((0u8..3, 0i64..40_000), 1..200),
    ) {
        let book = semaphore::rulebook::compile("t.yml", "
- name: rs
  rules:
    - name: r
      condition: event.hit
      throttle: {once_within: 60 seconds, group_by: [event.key]}
      action: {none: {}}
").expect("valid rulebook");
        let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
        let mut now = 0;
        let mut last_fired: HashMap<u8, i64> = HashMap::new();
        for (key, gap) in steps {
            now += gap;
            let event = Event::from_json(json!({"hit": true, "key": key}), json!({"timestamp": now}));
            for _firing in engine.process(event, 0).firings {
                if let Some(previous) = last_fired.insert(key, now) {
                    prop_assert!(now - previous >= 60_000, "fired {} ms apart", now - previous);
                }
            }
        }
    }

    #[test]
    fn clock_firings_have_distinct_stable_keys_and_their_due_time(
        steps in prop::collection::vec((0u8..4, 0i64..20_000), 1..120),
    ) {
        let run = || {
            let mut engine = Engine::new(Arc::new(clock_rulebook()), BTreeMap::new());
            let mut now = 0;
            let mut firings = Vec::new();
            for (key, gap) in &steps {
                now += gap;
                let event = Event::from_json(json!({"key": key}), json!({"timestamp": now}));
                firings.extend(engine.process(event, 0).firings);
            }
            firings.extend(engine.advance(now + 60_000).firings);
            firings
                .into_iter()
                .map(|f| (f.rule, f.idempotency_key, f.time_ms, f.status))
                .collect::<Vec<_>>()
        };
        let firings = run();
        let mut keys: Vec<&String> = firings.iter().map(|(_, key, _, _)| key).collect();
        keys.sort();
        let total = keys.len();
        keys.dedup();
        prop_assert_eq!(keys.len(), total, "two notifications share a key: {:?}", firings);
        // The same input again (a replay after a crash) gives the same notifications and keys.
        prop_assert_eq!(&run(), &firings);
        // Each is stamped with the end of its window, which opened with an input event.
        let mut now = 0;
        let inputs: Vec<i64> = steps.iter().map(|(_, gap)| { now += gap; now }).collect();
        let clock = firings.iter().filter(|(.., status)| *status == FiringStatus::Firing);
        for (rule, key, time_ms, _) in clock {
            prop_assert!(key.ends_with(&format!("@{time_ms}")), "{rule}: {key} at {time_ms}");
            let window_ms = match rule.as_str() {
                "after" => 10_000,
                "pair" => 15_000,
                _ => 30_000,
            };
            prop_assert!(inputs.contains(&(time_ms - window_ms)), "{rule} at {time_ms}, inputs {inputs:?}");
        }
    }
}

/// Rules the clock fires: a `once_after` per group, a `not_all` timeout, an absence per group.
fn clock_rulebook() -> semaphore::rulebook::Rulebook {
    semaphore::rulebook::compile(
        "t.yml",
        "
- name: rs
  match_multiple_rules: true
  rules:
    - name: after
      condition: event.key != `null`
      throttle: {once_after: 10 seconds, group_by: [event.key]}
      action: {none: {}}
    - name: pair
      condition:
        not_all: [\"event.key == `0`\", \"event.key == `3`\"]
        timeout: 15 seconds
      action: {none: {}}
    - name: gone
      condition: event.key != `null`
      window: {absent_for: 30 seconds, group_by: [event.key]}
      action: {none: {}}
",
    )
    .expect("valid rulebook")
}

proptest! {
    /// Rules of the same name in two rulesets, and names that contain the key's separators, never
    /// give one record's firings the same key.
    #[test]
    fn a_records_firings_never_share_a_key_however_rules_are_named(
        names in prop::collection::vec("[a-z/#@:%]{1,4}", 4),
    ) {
        let (first_set, second_set) = (&names[0], &names[1]);
        prop_assume!(first_set != second_set);
        let rule = |name: &str| format!(
            "    - name: {name:?}\n      condition: event.x == `1`\n      action: {{none: {{}}}}\n"
        );
        let source = format!(
            "- name: {first_set:?}\n  match_multiple_rules: true\n  rules:\n{}{}- name: {second_set:?}\n  rules:\n{}",
            rule(&names[2]),
            if names[2] == names[3] { String::new() } else { rule(&names[3]) },
            rule(&names[2]),
        );
        let book = semaphore::rulebook::compile("t.yml", &source).expect("valid rulebook");
        let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
        let meta = json!({"topic": "t", "partition": 0, "offset": 7});
        let outcome = engine.process(Event::from_json(json!({"x": 1}), meta), 0);
        let expected = if names[2] == names[3] { 2 } else { 3 };
        prop_assert_eq!(outcome.firings.len(), expected);
        let mut keys: Vec<&String> = outcome.firings.iter().map(|f| &f.idempotency_key).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), expected, "{:?}", outcome.firings.iter().map(|f| (&f.ruleset, &f.rule, &f.idempotency_key)).collect::<Vec<_>>());
    }
}

proptest! {
    /// `rules test` and `rules run` read a payload the same way, whatever its bytes.
    #[test]
    fn offline_and_record_decoding_agree(text in r#"\{("[a-z]{1,3}": ?(-?[0-9]{1,25}(\.[0-9]{1,5})?(e-?[0-9]{1,3})?|"[^"\\]{0,5}"|null|true|\[[0-9, ]{0,9}\]|\{\}), ?){0,4}"z": 1\}|[^{]{0,8}"#) {
        let meta = semaphore::event::Meta::default();
        let record = Event::decode(text.as_bytes(), &meta).map(|e| e.payload);
        let offline = Event::decode_offline(text.as_bytes(), json!({})).map(|e| e.payload);
        prop_assert_eq!(record, offline);
    }
}
