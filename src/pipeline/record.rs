//! One record through the decision path: decode (or dead-letter), evaluate, save the state it
//! changed, and track how many pieces of work must finish before its offset may be committed; and the
//! bookkeeping of an engine outcome (errors, throttles, suppressions, firings).

use std::sync::Arc;

use super::{Reason, Run, SourceRecord, observe};
use crate::engine::{Firing, Outcome};
use crate::event::{DecodeError, Event, Meta};

impl Run {
    /// One record. Every log line about it (and about the actions it causes) is in a `record` span
    /// carrying its topic, partition and offset; a record that causes nothing to log gets none, as
    /// formatting the span's fields would cost more than evaluating its rules.
    pub(super) fn handle_record(&mut self, record: SourceRecord, now_ms: i64) {
        self.summary.records += 1;
        self.observer.consumed(&record.topic);
        if self.summary.records == 1 {
            tracing::info!(
                topic = record.topic,
                partition = record.partition,
                offset = record.offset,
                "first record received"
            );
        }
        let partition = (record.topic.clone(), record.partition);
        let Some(value) = &record.value else {
            self.summary.tombstones += 1;
            self.tracker.track(&partition, record.offset, 0);
            return;
        };
        let meta = meta_of(&record);
        let event = match Event::decode_reading(value, meta, &self.engine.rulebook().reads) {
            Ok(event) => event,
            Err(err) => {
                let _entered = record_span(&record).entered();
                let reason = match err {
                    DecodeError::NotAnObject { .. } => {
                        self.summary.not_objects += 1;
                        self.observer.not_an_object(&record.topic);
                        Reason::NotAnObject(err.to_string())
                    }
                    DecodeError::NotUtf8 { .. } | DecodeError::NotJson(_) => {
                        self.summary.undecodable += 1;
                        self.observer.decode_error(&record.topic);
                        Reason::Undecodable(err.to_string())
                    }
                };
                self.tracker.track(&partition, record.offset, 1);
                self.spawn_dead_letter(Arc::new(record), reason);
                return;
            }
        };
        if self.settings.print_events {
            print_event(&record, &event);
        }
        let started = std::time::Instant::now();
        let outcome = self.engine.process(event, now_ms);
        self.observer.evaluated_in(started.elapsed());
        let caused = outcome
            .firings
            .iter()
            .filter(|f| caused_by_a_record(f))
            .count();
        let saving = self.save_state(Some((partition.clone(), record.offset)));
        self.tracker
            .track(&partition, record.offset, caused + usize::from(saving));
        if outcome.firings.is_empty() && outcome.errors.is_empty() && outcome.suppressed.is_empty()
        {
            self.summary.throttled += outcome.throttled;
            return;
        }
        let _entered = record_span(&record).entered();
        self.handle_outcome(outcome, Some(Arc::new(record)));
    }

    pub(super) fn handle_outcome(&mut self, outcome: Outcome, record: Option<Arc<SourceRecord>>) {
        self.summary.evaluation_errors += outcome.errors.len() as u64;
        self.summary.throttled += outcome.throttled;
        self.count_suppressed(&outcome);
        for error in &outcome.errors {
            observe::evaluation_error(error);
            tracing::warn!(
                ruleset = error.ruleset,
                rule = error.rule,
                error = error.message,
                "condition could not be evaluated; counted as no match"
            );
        }
        for firing in outcome.firings {
            self.summary.firings += 1;
            let record = record.clone().filter(|_| caused_by_a_record(&firing));
            self.spawn_firing(firing, record);
        }
    }

    fn count_suppressed(&mut self, outcome: &Outcome) {
        self.summary.suppressed += outcome.suppressed.len() as u64;
        for muted in &outcome.suppressed {
            tracing::info!(
                ruleset = muted.ruleset,
                rule = muted.rule,
                idempotency_key = muted.idempotency_key,
                suppressed = %muted.reason.to_json(),
                "firing suppressed; its actions are not sent"
            );
            metrics::counter!(
                "semaphore_suppressed_total",
                "ruleset" => muted.ruleset.clone(),
                "rule" => muted.rule.clone(),
                "reason" => muted.reason.label(),
            )
            .increment(1);
        }
        metrics::counter!("semaphore_inhibit_keys_evicted_total")
            .absolute(self.engine.suppressor().evicted());
    }
}

/// Windows that close on a timer (`once_after`, `group_after`, `not_all`) fire while some record is being handled,
/// but not because of it: such firings have no origin, and neither hold back nor dead-letter the record.
fn caused_by_a_record(firing: &Firing) -> bool {
    firing.origin.is_some()
}

fn record_span(record: &SourceRecord) -> tracing::Span {
    tracing::info_span!(
        "record",
        topic = record.topic,
        partition = record.partition,
        offset = record.offset
    )
}

fn meta_of(record: &SourceRecord) -> Meta {
    Meta {
        topic: record.topic.clone(),
        partition: record.partition,
        offset: record.offset,
        key: record
            .key
            .as_ref()
            .map(|k| String::from_utf8_lossy(k).into_owned()),
        timestamp: record.timestamp,
        headers: record
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect(),
    }
}

/// `--print-events`: `event TOPIC/PARTITION@OFFSET: JSON` on stderr, as `rules test` prints it.
#[allow(clippy::print_stderr)] // what the flag asks for
fn print_event(record: &SourceRecord, event: &Event) {
    let json = serde_json::to_string(&*event.payload).unwrap_or_default();
    eprintln!(
        "event {}/{}@{}: {json}",
        record.topic, record.partition, record.offset
    );
}
