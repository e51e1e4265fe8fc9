//! The engine's state as a changelog sees it, for the kinds tests/windows.rs does not cover: the
//! correlation state of `all`/`not_all` comes back after a restore and completes as if the engine never
//! stopped; it belongs to the partition of the event that started it; removed keys are reported as
//! tombstones in the partition they were written to. And a record that sent a notification, read
//! again after a crash on top of the state it saved, sends it again with the same idempotency key,
//! while records a window counted already are not counted twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use semaphore::engine::{Engine, StateChange};
use semaphore::event::Event;

fn engine(yaml: &str) -> Engine {
    let book = semaphore::rulebook::compile("t.yml", yaml).unwrap_or_else(|d| panic!("{d}"));
    let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
    engine.set_change_tracking(true);
    engine
}

fn from(partition: i64, offset: i64) -> Value {
    json!({"topic": "loss", "partition": partition, "offset": offset})
}

/// Rule names of the firings, with the events each fired with.
fn fire(engine: &mut Engine, event: Value, meta: Value, at_ms: i64) -> Vec<(String, Vec<Value>)> {
    let outcome = engine.process(Event::from_json(event, meta), at_ms);
    firings(outcome)
}

fn firings(outcome: semaphore::engine::Outcome) -> Vec<(String, Vec<Value>)> {
    outcome
        .firings
        .into_iter()
        .map(|f| {
            let events = f
                .events
                .iter()
                .map(|e| serde_json::to_value(&**e).expect("events are JSON"))
                .collect();
            (f.rule, events)
        })
        .collect()
}

/// Through JSON, as the changelog topic carries it.
fn via_json(changes: Vec<StateChange>) -> Vec<StateChange> {
    let text = serde_json::to_string(&changes).expect("changes serialize");
    serde_json::from_str(&text).expect("and read back")
}

const BOTH_UPLINKS: &str = "
- name: rs
  rules:
    - name: both down
      condition:
        all:
          - event.uplink == 'wan1'
          - event.uplink == 'wan2' && event.serial == events.m_0.serial
        timeout: 10 minutes
      action: {debug: {}}
";

const HEARTBEAT: &str = "
- name: rs
  rules:
    - name: no done
      condition:
        not_all:
          - event.job == 'started'
          - event.job == 'done'
        timeout: 1 minute
      action: {debug: {}}
";

#[test]
fn an_all_partial_match_completes_after_a_restore() {
    let mut first = engine(BOTH_UPLINKS);
    let wan1 = json!({"uplink": "wan1", "serial": "Q1"});
    assert!(fire(&mut first, wan1.clone(), from(0, 7), 0).is_empty());
    let saved = via_json(first.take_changes());
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0].source.as_ref().map(|s| s.partition), Some(0));

    let mut second = engine(BOTH_UPLINKS);
    assert_eq!(second.restore(saved), 1);
    assert!(
        second.take_changes().is_empty(),
        "restoring is not a change"
    );
    let wan2 = json!({"uplink": "wan2", "serial": "Q1"});
    let fired = fire(&mut second, wan2.clone(), from(1, 3), 60_000);
    assert_eq!(fired, vec![("both down".to_owned(), vec![wan1, wan2])]);

    // The completed match is gone: a tombstone in the partition it was saved in.
    let changes = second.take_changes();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].state, None);
    assert_eq!(changes[0].source.as_ref().map(|s| s.partition), Some(0));
}

#[test]
fn a_restored_partial_still_expires_on_event_time() {
    let mut first = engine(BOTH_UPLINKS);
    fire(
        &mut first,
        json!({"uplink": "wan1", "serial": "Q1"}),
        from(0, 1),
        0,
    );
    let mut second = engine(BOTH_UPLINKS);
    second.restore(via_json(first.take_changes()));
    let late = json!({"uplink": "wan2", "serial": "Q1"});
    assert!(fire(&mut second, late, from(0, 2), 600_000).is_empty());
    let expired: Vec<_> = second.take_changes();
    assert!(
        expired.iter().any(|c| c.state.is_none()),
        "the expired partial is tombstoned: {expired:?}"
    );
}

#[test]
fn new_partials_after_a_restore_never_reuse_a_restored_key() {
    let mut first = engine(BOTH_UPLINKS);
    for serial in ["A", "B", "C"] {
        fire(
            &mut first,
            json!({"uplink": "wan1", "serial": serial}),
            from(0, 1),
            0,
        );
    }
    let saved = via_json(first.take_changes());
    let mut second = engine(BOTH_UPLINKS);
    second.restore(saved.clone());
    fire(
        &mut second,
        json!({"uplink": "wan1", "serial": "D"}),
        from(0, 9),
        1,
    );
    let added = second.take_changes();
    assert_eq!(added.len(), 1);
    assert!(
        saved.iter().all(|s| s.key != added[0].key),
        "{added:?} overwrites one of {saved:?}"
    );
    // Each of the four still completes with its own partner.
    for serial in ["A", "B", "C", "D"] {
        let fired = fire(
            &mut second,
            json!({"uplink": "wan2", "serial": serial}),
            from(0, 10),
            2,
        );
        assert_eq!(fired.len(), 1, "{serial}");
        assert_eq!(fired[0].1[0]["serial"], serial);
    }
}

#[test]
fn a_not_all_window_fires_after_a_restore() {
    let mut first = engine(HEARTBEAT);
    let started = json!({"job": "started"});
    fire(&mut first, started.clone(), from(2, 5), 0);
    let saved = via_json(first.take_changes());
    assert_eq!(saved.len(), 1, "{saved:?}");

    let mut second = engine(HEARTBEAT);
    assert_eq!(second.restore(saved), 1);
    assert_eq!(second.next_deadline_ms(), Some(60_000));
    assert!(firings(second.advance(59_999)).is_empty());
    assert_eq!(
        firings(second.advance(60_000)),
        vec![("no done".to_owned(), vec![started])]
    );
    let closed = second.take_changes();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].state, None);
    assert_eq!(closed[0].source.as_ref().map(|s| s.partition), Some(2));
}

#[test]
fn correlation_state_moves_with_the_partition_that_started_it() {
    let mut e = engine(BOTH_UPLINKS);
    fire(
        &mut e,
        json!({"uplink": "wan1", "serial": "P0"}),
        from(0, 1),
        0,
    );
    fire(
        &mut e,
        json!({"uplink": "wan1", "serial": "P1"}),
        from(1, 1),
        0,
    );
    e.take_changes();
    e.forget_partition("loss", 0);
    assert!(e.take_changes().is_empty(), "forgetting is not a change");
    let p0 = fire(
        &mut e,
        json!({"uplink": "wan2", "serial": "P0"}),
        from(1, 2),
        1,
    );
    assert!(p0.is_empty(), "P0's partial moved away: {p0:?}");
    let p1 = fire(
        &mut e,
        json!({"uplink": "wan2", "serial": "P1"}),
        from(1, 3),
        1,
    );
    assert_eq!(p1.len(), 1);
}

#[test]
fn a_removed_throttle_key_is_tombstoned_in_its_partition() {
    let mut e = engine(
        "
- name: rs
  rules:
    - name: later
      condition: event.loss > `5`
      throttle:
        once_after: 1 minute
        group_by: [event.serial]
      action: {debug: {}}
",
    );
    let lossy = json!({"serial": "Q1", "loss": 9});
    assert!(fire(&mut e, lossy, from(3, 1), 0).is_empty());
    let opened = e.take_changes();
    assert!(opened[0].state.is_some());
    assert_eq!(firings(e.advance(60_000)).len(), 1);
    let removed = e.take_changes();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].key, opened[0].key);
    assert_eq!(removed[0].state, None);
    assert_eq!(removed[0].source.as_ref().map(|s| s.partition), Some(3));
}

#[test]
fn accumulate_within_counts_a_record_read_again_once_and_refires_the_one_that_fired() {
    let book = "
- name: rs
  rules:
    - name: bursts
      condition: event.loss > `5`
      throttle:
        accumulate_within: 1 minute
        threshold: 3
        group_by: [event.serial]
      action: {debug: {}}
";
    let lossy = |n: i64| json!({"serial": "Q1", "loss": 9, "n": n});
    let mut first = engine(book);
    assert!(fire(&mut first, lossy(1), from(0, 1), 1).is_empty());
    assert!(fire(&mut first, lossy(2), from(0, 2), 2).is_empty());
    let mut second = engine(book);
    second.restore(via_json(first.take_changes()));
    // Offsets 1 and 2 were saved but not committed: read again, they are not counted again.
    assert!(fire(&mut second, lossy(1), from(0, 1), 1).is_empty());
    assert!(fire(&mut second, lossy(2), from(0, 2), 2).is_empty());
    let fired = keys(&mut second, lossy(3), from(0, 3), 3);
    assert_eq!(fired.len(), 1, "the third record reaches the threshold");
    // Record 3 fired, its state was saved, the process died before its actions finished.
    let mut third = engine(book);
    third.restore(via_json(second.take_changes()));
    assert_eq!(keys(&mut third, lossy(3), from(0, 3), 3), fired);
    assert_eq!(
        fire(&mut third, lossy(3), from(0, 3), 3)[0].1,
        [lossy(3)],
        "with the same event: the one that reached the threshold, as in ansible-rulebook"
    );
    // And counting starts over with the next record.
    assert!(fire(&mut third, lossy(4), from(0, 4), 4).is_empty());
    assert!(fire(&mut third, lossy(5), from(0, 5), 5).is_empty());
    assert_eq!(fire(&mut third, lossy(6), from(0, 6), 6).len(), 1);
}

/// Idempotency keys and statuses of the firings.
fn keys(engine: &mut Engine, event: Value, meta: Value, at_ms: i64) -> Vec<(String, &'static str)> {
    let outcome = engine.process(semaphore::event::Event::from_json(event, meta), at_ms);
    outcome
        .firings
        .iter()
        .map(|f| (f.idempotency_key.clone(), f.status.name()))
        .collect()
}

#[test]
fn the_record_that_fired_a_throttle_fires_again_when_replayed_after_a_restore() {
    let book = "
- name: rs
  rules:
    - name: down
      condition: event.down
      throttle: {once_within: 1 hour, group_by: [event.serial]}
      action: {debug: {}}
";
    let mut first = engine(book);
    let down = json!({"down": true, "serial": "Q1"});
    let sent = keys(&mut first, down.clone(), from(0, 5), 0);
    assert_eq!(sent.len(), 1);
    // The state was saved; the process died before the action finished and the offset was
    // committed, so record 5 is read again.
    let mut second = engine(book);
    second.restore(via_json(first.take_changes()));
    assert_eq!(keys(&mut second, down.clone(), from(0, 5), 0), sent);
    assert!(
        keys(&mut second, down, from(0, 6), 1).is_empty(),
        "a later record is still throttled"
    );
}

#[test]
fn the_records_that_fired_and_resolved_a_window_notify_again_when_replayed() {
    let book = "
- name: rs
  rules:
    - name: loss
      condition: event.loss != `null`
      window:
        group_by: [event.serial]
        size: 1 minute
        value: event.loss
        fire_when: window.max > `5`
      resolve_when: window.max <= `5`
      action: {debug: {}}
";
    let sample = |loss: i64| json!({"serial": "Q1", "loss": loss});
    let mut first = engine(book);
    let fired = keys(&mut first, sample(40), from(1, 7), 0);
    assert_eq!(fired.len(), 1);
    let after_firing = via_json(first.take_changes());
    assert!(keys(&mut first, sample(30), from(1, 8), 10_000).is_empty());
    let resolved = keys(&mut first, sample(0), from(1, 9), 120_000);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].1, "resolved");
    let mut after_resolve = after_firing.clone();
    after_resolve.extend(via_json(first.take_changes()));

    let mut replay = engine(book);
    replay.restore(after_firing);
    assert_eq!(keys(&mut replay, sample(40), from(1, 7), 0), fired);
    assert!(keys(&mut replay, sample(30), from(1, 8), 10_000).is_empty());

    let mut replay = engine(book);
    replay.restore(after_resolve);
    assert_eq!(keys(&mut replay, sample(0), from(1, 9), 120_000), resolved);
}

#[test]
fn records_read_again_after_a_restore_are_not_counted_twice() {
    let book = "
- name: rs
  rules:
    - name: three samples
      condition: event.serial != `null`
      window:
        group_by: [event.serial]
        size: 1 hour
        fire_when: window.count >= `3`
      action: {debug: {}}
";
    let sample = json!({"serial": "Q1"});
    let mut first = engine(book);
    for offset in [1, 2] {
        assert!(fire(&mut first, sample.clone(), from(0, offset), offset).is_empty());
    }
    let mut second = engine(book);
    second.restore(via_json(first.take_changes()));
    // Offsets 1 and 2 were not committed: they come again, then the new record 3.
    for offset in [1, 2] {
        assert!(
            fire(&mut second, sample.clone(), from(0, offset), offset).is_empty(),
            "offset {offset} counted twice"
        );
    }
    let fired = fire(&mut second, sample, from(0, 3), 3);
    assert_eq!(
        fired.len(),
        1,
        "the third distinct record completes the window"
    );
}

#[test]
fn an_event_posted_from_a_record_is_counted_apart_from_it() {
    let book = "
- name: rs
  match_multiple_rules: true
  rules:
    - name: echo
      condition: event.kind == 'sample'
      action: {post_event: {event: {kind: echo, serial: Q1}}}
    - name: two of anything
      condition: event.serial == 'Q1'
      throttle: {accumulate_within: 1 minute, threshold: 2, group_by: [event.serial]}
      action: {debug: {}}
";
    let mut e = engine(book);
    let outcome = e.process(
        Event::from_json(json!({"kind": "sample", "serial": "Q1"}), from(0, 1)),
        0,
    );
    let fired: Vec<&str> = outcome.firings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(fired, ["echo", "two of anything"]);
    let keys: Vec<&str> = outcome
        .firings
        .iter()
        .map(|f| f.idempotency_key.as_str())
        .collect();
    assert_eq!(keys, ["loss/0/1/rs/echo", "loss/0/1+1/rs/two of anything"]);
}

/// Pins what docs/rules-run.md says: facts are in memory only, so a restart forgets them.
#[test]
fn facts_are_not_in_the_changelog_and_a_restart_forgets_them() {
    let book = "
- name: tracker
  rules:
    - name: remember
      condition: event.status == 'failed'
      action: {set_fact: {fact: {failed_serial: '{{ event.serial }}'}}}
    - name: recovered
      condition: event.status == 'active' && event.serial == facts.failed_serial
      action: {debug: {}}
";
    let mut first = engine(book);
    fire(
        &mut first,
        json!({"status": "failed", "serial": "Q1"}),
        from(0, 1),
        0,
    );
    let active = json!({"status": "active", "serial": "Q1"});
    let mut same_process = engine(book);
    fire(
        &mut same_process,
        json!({"status": "failed", "serial": "Q1"}),
        from(0, 1),
        0,
    );
    assert_eq!(
        fire(&mut same_process, active.clone(), from(0, 2), 1).len(),
        1
    );
    let changes = first.take_changes();
    assert!(changes.is_empty(), "{changes:?}");
    let mut restarted = engine(book);
    restarted.restore(via_json(changes));
    assert!(fire(&mut restarted, active, from(0, 2), 1).is_empty());
}
