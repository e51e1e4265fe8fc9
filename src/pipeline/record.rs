//! One record through the decision path as the intake loop sees it: hand it to its shards and count
//! the work they will report, then take their reports: dead-letter what could not be decoded, track
//! how many pieces of work must finish before the record's offset may be committed, write the state
//! they changed, and keep the books of an engine outcome (errors, throttles, suppressions, firings).

use std::sync::Arc;

use super::shards::{Evaluated, Report};
use super::{At, Reason, Run, SourceRecord, observe};
use crate::engine::{Firing, Outcome, RuleCounts};
use crate::event::DecodeError;

impl Run {
    /// One record from the consumer, routed to the shards that evaluate it.
    pub(super) fn handle_record(&mut self, record: SourceRecord) {
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
        if record.value.is_none() {
            self.summary.tombstones += 1;
            self.tracker.track(&partition, record.offset, 0);
            return;
        }
        if self.settings.print_events {
            print_event(&record);
        }
        let offset = record.offset;
        let generation = self.generation(&partition);
        let engines = self.shards.route(record, generation);
        // One piece of work per shard that evaluates it, done when its report comes.
        self.tracker.track(&partition, offset, engines);
    }

    pub(super) fn handle_report(&mut self, report: Report) {
        match report {
            Report::Evaluated(batch) => batch.into_iter().for_each(|e| self.evaluated(e)),
            Report::Clock(outcome) => self.handle_outcome(outcome, None),
            Report::State { records, entries } => self.write_state(records, entries),
            Report::Counts {
                shard,
                rules,
                inhibit_evicted,
            } => self.counted(shard, &rules, inhibit_evicted),
        }
    }

    /// A shard's evaluation of one record. Every log line about it (and about the actions it causes)
    /// is in a `record` span carrying its topic, partition and offset; a record that causes nothing
    /// to log gets none, as formatting the span's fields would cost more than evaluating its rules.
    /// Work of a partition's earlier assignment is not tracked (its records are read again), but its
    /// firings are sent: the engine state that saw them would hold back the replay's.
    fn evaluated(&mut self, evaluated: Evaluated) {
        let Evaluated {
            record,
            at,
            primary,
            result,
            saving,
        } = evaluated;
        let current = self.is_current(&at);
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(err) => {
                if let Some(record) = record.filter(|_| current && primary) {
                    self.dead_letter_undecodable(record, &at, err);
                }
                self.evaluation_done(&at, current, 0);
                return;
            }
        };
        let caused = outcome
            .firings
            .iter()
            .filter(|f| caused_by_a_record(f))
            .count();
        self.evaluation_done(&at, current, caused + usize::from(saving));
        // The shard kept the record only when there is something to do or log about it.
        let Some(record) = record else {
            self.summary.throttled += outcome.throttled;
            return;
        };
        let _entered = record_span(&record).entered();
        self.handle_outcome(outcome, Some((record, at)));
    }

    /// The shard's piece of work for the record is done, and `more` pieces follow from it.
    fn evaluation_done(&mut self, at: &At, current: bool, more: usize) {
        if current {
            self.tracker.track(&at.partition, at.offset, more);
            self.tracker.complete(&at.partition, at.offset);
        }
    }

    fn dead_letter_undecodable(&mut self, record: Arc<SourceRecord>, at: &At, err: DecodeError) {
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
        self.tracker.track(&at.partition, at.offset, 1);
        self.spawn_dead_letter(record, at.clone(), reason);
    }

    pub(super) fn handle_outcome(
        &mut self,
        outcome: Outcome,
        record: Option<(Arc<SourceRecord>, At)>,
    ) {
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
    }

    /// A shard's per-rule counts since its last report, and its inhibition evictions so far.
    fn counted(&mut self, shard: usize, rules: &[(String, String, RuleCounts)], evicted: u64) {
        self.observer.count_rules(rules);
        if let Some(slot) = self.inhibit_evicted.get_mut(shard) {
            *slot = evicted;
        }
        metrics::counter!("semaphore_inhibit_keys_evicted_total")
            .absolute(self.inhibit_evicted.iter().sum());
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

/// `--print-events`: `event TOPIC/PARTITION@OFFSET: PAYLOAD` on stderr before the record is
/// evaluated, the payload as the record holds it.
#[allow(clippy::print_stderr)] // what the flag asks for
fn print_event(record: &SourceRecord) {
    let payload = String::from_utf8_lossy(record.value.as_deref().unwrap_or_default());
    eprintln!(
        "event {}/{}@{}: {}",
        record.topic,
        record.partition,
        record.offset,
        payload.trim_end()
    );
}
