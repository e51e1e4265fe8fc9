//! Which events a ruleset sees for one input: only records of the topics its sources name (a ruleset
//! without sources sees everything, as in `rules test`), and, for a source with `split_on`, one event
//! per element of a batched record, with the record's other fields in `meta.batch` and the element's
//! position in `meta.batch_index` (and in its origin, for idempotency keys).

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::Variable;

use crate::event::{Event, Origin};
use crate::rulebook::Ruleset;

pub enum Route {
    Skip,
    Whole,
    Split(Vec<Event>),
}

pub fn route(ruleset: &Ruleset, event: &Event) -> Route {
    if ruleset.sources.is_empty() {
        return Route::Whole;
    }
    let source = match &event.origin {
        Some(origin) => ruleset
            .sources
            .iter()
            .find(|s| s.topics.contains(&origin.topic)),
        // Offline events without an origin go through the first source's handling.
        None => ruleset.sources.first(),
    };
    match source {
        None => Route::Skip,
        Some(source) => match &source.split_on {
            None => Route::Whole,
            Some(field) => split(event, field),
        },
    }
}

/// A record whose `field` is not a list is passed through whole, so nothing is dropped silently.
fn split(event: &Event, field: &str) -> Route {
    // Elements and siblings become whole events and `meta.batch`, so they come from the whole payload.
    let payload = event.whole_payload();
    let whole_meta = event.whole_meta();
    let Some(object) = payload.as_object() else {
        return Route::Whole;
    };
    let Some(elements) = object.get(field).and_then(|v| v.as_array()) else {
        return Route::Whole;
    };
    let siblings: BTreeMap<String, jmespath::Rcvar> = object
        .iter()
        .filter(|(key, _)| key.as_str() != field)
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let siblings = Arc::new(Variable::Object(siblings));
    let events = elements
        .iter()
        .enumerate()
        .map(|(index, element)| {
            let mut meta = whole_meta.as_object().cloned().unwrap_or_default();
            meta.insert("batch".to_owned(), siblings.clone());
            meta.insert(
                "batch_index".to_owned(),
                Arc::new(Variable::Number((index as u64).into())),
            );
            let origin = event.origin.as_ref().map(|origin| Origin {
                batch_index: Some(index),
                ..origin.clone()
            });
            Event::new(
                element.clone(),
                Arc::new(Variable::Object(meta)),
                event.time_ms,
                origin,
            )
        })
        .collect();
    Route::Split(events)
}
