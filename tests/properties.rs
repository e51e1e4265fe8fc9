//! Property tests of the pure core: the rulebook compiler never panics on any input, and a
//! `once_within` throttle never lets two firings of one group closer than its window.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use proptest::prelude::*;
use semaphore::engine::Engine;
use semaphore::event::Event;
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
}
