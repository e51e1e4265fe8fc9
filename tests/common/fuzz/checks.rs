//! What each fuzz target does with a case and what it asserts besides "no panic": `rules check`
//! then `rules test` in process (rejected files have located errors; compiled rulebooks run the
//! events, silences, `--until` and the action previews), what `silence list` and its rewrites
//! rely on, and what the `rules run` decoder accepts.

use std::collections::BTreeMap;
use std::sync::Arc;

use semaphore::actions::context::{DispatchSettings, FiringInfo};
use semaphore::actions::preview::preview;
use semaphore::config::ActionConfig;
use semaphore::engine::{Engine, Outcome};
use semaphore::event::{self, Event, Meta};
use semaphore::rulebook::Diagnostics;
use semaphore::suppress::file as silences_file;
use serde_json::Value;

use super::Rng;
use super::cases::Case;

/// Every diagnostic points into the file: a line of it (or just past its end) and a column.
pub fn assert_located(diagnostics: &Diagnostics) {
    assert!(
        !diagnostics.items.is_empty(),
        "an error without a diagnostic"
    );
    let lines = diagnostics.source.lines().count();
    for item in &diagnostics.items {
        assert!(
            !item.message.trim().is_empty(),
            "an empty message at {:?}",
            item.pos
        );
        assert!(
            item.pos.line >= 1 && item.pos.line as usize <= lines + 1 && item.pos.col >= 1,
            "{:?} is outside the file ({lines} lines): {}",
            item.pos,
            item.message
        );
    }
    let rendered = diagnostics.to_string();
    let first = &diagnostics.items[0];
    let place = format!(
        "{}:{}:{}: ",
        diagnostics.file, first.pos.line, first.pos.col
    );
    assert!(rendered.starts_with(&place), "{rendered}");
}

/// A `rules test` input line as that command reads it: an event object, or the wrapper
/// `{"event": ..., "meta": ...}`; anything else is an unreadable line.
pub fn offline_event(line: &[u8]) -> Option<Event> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(line) else {
        return None;
    };
    let wrapped =
        object.contains_key("event") && object.keys().all(|k| k == "event" || k == "meta");
    if !wrapped {
        return Some(Event::from_json(Value::Object(object), Value::Null));
    }
    let meta = object.get("meta").cloned().unwrap_or(Value::Null);
    if meta
        .get("timestamp")
        .is_some_and(|t| event::timestamp_ms(t).is_none())
    {
        return None;
    }
    Some(Event::from_json(
        object.get("event").cloned().unwrap_or(Value::Null),
        meta,
    ))
}

/// What `rules test` does with every firing: each rendered action previewed as it would be sent.
fn preview_all(outcome: &Outcome, dispatch: &DispatchSettings) {
    for firing in &outcome.firings {
        let events: Vec<Value> = firing
            .events
            .iter()
            .map(|e| serde_json::to_value(&**e).unwrap_or_default())
            .collect();
        let info = FiringInfo {
            ruleset: &firing.ruleset,
            rule: &firing.rule,
            idempotency_key: &firing.idempotency_key,
            events: &events,
        };
        for rendered in firing.actions.iter().flatten() {
            let _ = preview(rendered, &info, dispatch);
        }
    }
}

/// `rules check`, then `rules test` on what compiled: silences, every event line (alternately
/// through the `rules run` decoder), `--until`, and the previews.
pub fn check_and_test(case: Case, mut rng: Rng) {
    let book = match semaphore::rulebook::compile("rulebook.yml", &case.rulebook) {
        Ok(book) => Arc::new(book),
        Err(diagnostics) => return assert_located(&diagnostics),
    };
    let env = BTreeMap::from([("HOME".to_owned(), "/home/fuzz".to_owned())]);
    let mut engine = Engine::new(Arc::clone(&book), env);
    engine.set_tracing(rng.one_in(2));
    match silences_file::parse("silences.yml", &case.silences) {
        Ok(file) => engine.suppressor_mut().set_silences(Arc::new(file.set)),
        Err(diagnostics) => assert_located(&diagnostics),
    }
    let dispatch = DispatchSettings::from_config(&ActionConfig::default(), &book)
        .expect("default action settings are valid for any rulebook");
    let mut clock = 1_768_470_900_000_i64;
    for (index, line) in case.events.split(|&b| b == b'\n').enumerate() {
        let event = if index % 2 == 0 {
            offline_event(line)
        } else {
            Event::decode(line, &random_meta(&mut rng, index, clock)).ok()
        };
        let Some(event) = event else { continue };
        clock = event.time_ms.unwrap_or(clock);
        preview_all(&engine.process(event, clock), &dispatch);
    }
    let until = *rng.pick(&[0, 60_000, 86_400_000, i64::MAX, i64::MIN]);
    preview_all(&engine.advance(clock.saturating_add(until)), &dispatch);
    let _ = engine.next_deadline_ms();
}

/// Kafka record metadata, now and then with extreme values.
fn random_meta(rng: &mut Rng, index: usize, clock: i64) -> Meta {
    let timestamp = *rng.pick(&[Some(clock), None, Some(i64::MAX), Some(i64::MIN), Some(-1)]);
    Meta {
        topic: rng.pick(&["t1", "t2", ""]).to_string(),
        partition: *rng.pick(&[0, 1, i32::MAX, -1]),
        offset: index as i64,
        key: rng.one_in(2).then(|| "k".to_owned()),
        timestamp,
        headers: BTreeMap::from([("h".to_owned(), "é\u{0}".to_owned())]),
    }
}

/// What `silence list` and the `add`/`expire` rewrite rely on: a file that parses has every
/// silence's state at any time, and its rendering parses back to the same silences.
pub fn list_and_rewrite(source: String, mut rng: Rng) {
    let parsed = match silences_file::parse("silences.yml", &source) {
        Ok(parsed) => parsed,
        Err(diagnostics) => return assert_located(&diagnostics),
    };
    for silence in &parsed.set.silences {
        for now in [
            0,
            1_768_470_900_000,
            i64::MAX,
            i64::MIN,
            rng.next_u64() as i64,
        ] {
            let _ = silence.state(now);
            let _ = silence.is_active(now);
        }
    }
    let rendered = silences_file::render(&parsed.specs);
    let again = silences_file::parse("rendered.yml", &rendered)
        .unwrap_or_else(|err| panic!("the rendered file does not parse back:\n{err}\n{rendered}"));
    let ids = |file: &silences_file::SilenceFile| -> Vec<String> {
        file.specs.iter().map(|s| s.id.value.clone()).collect()
    };
    assert_eq!(ids(&again), ids(&parsed), "{rendered}");
}

/// The `rules run` decoder accepts exactly the JSON objects and says why it refuses the rest.
pub fn decode_lines(bytes: Vec<u8>) {
    for payload in bytes.split(|&b| b == b'\n').chain([&bytes[..]]) {
        let decoded = Event::decode(payload, &Meta::default());
        let is_object = serde_json::from_slice::<Value>(payload).is_ok_and(|v| v.is_object());
        assert_eq!(decoded.is_ok(), is_object, "{decoded:?}");
        if let Err(err) = decoded {
            assert!(!err.to_string().is_empty());
        }
        let _ = offline_event(payload);
    }
}
