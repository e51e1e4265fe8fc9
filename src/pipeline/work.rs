//! The tasks a record or a timer starts: a firing's actions (in its ruleset's turn), then a dead
//! letter for its record if an action failed after its retries; and the dead letter of a record that
//! could not be decoded. Each task ends in a [`Completion`] that says which offset it finished.

use std::sync::Arc;

use tracing::Instrument as _;

use super::{Completion, Reason, Run, SourceRecord};
use crate::engine::Firing;
use crate::telemetry::redact;

impl Run {
    pub(super) fn spawn_firing(&mut self, firing: Firing, record: Option<Arc<SourceRecord>>) {
        let position = record
            .as_ref()
            .map(|r| ((r.topic.clone(), r.partition), r.offset));
        if self.settings.dry_run {
            log_dry_run(&firing);
            self.tasks.spawn(async move {
                Completion {
                    positions: position.into_iter().collect(),
                    failed: false,
                }
            });
            return;
        }
        // A timer firing is tied to no offset: the state write that says it was sent waits for it.
        let timer_fired =
            (record.is_none() && self.durable.is_some()).then(|| self.write_order.timer_firing());
        let dispatch = Arc::clone(&self.dispatch);
        let dead_letters = self.dead_letters.clone();
        let shutdown = self.shutdown.clone();
        let (turn, done) = self.order.next(&firing.ruleset, firing.strategy);
        let work = async move {
            let rule = format!("{}/{}", firing.ruleset, firing.rule);
            let key = firing.idempotency_key.clone();
            turn.wait().await;
            let dispatched = dispatch.dispatch(firing).await;
            drop(done);
            if let Some(fired) = timer_fired {
                let _ = fired.send(());
            }
            let Err(failure) = dispatched else {
                return Completion {
                    positions: position.into_iter().collect(),
                    failed: false,
                };
            };
            tracing::error!(
                rule,
                idempotency_key = key,
                action = failure.action,
                reason = failure.reason,
                "action failed after its retries"
            );
            let Some(record) = record else {
                return Completion {
                    positions: Vec::new(),
                    failed: true,
                };
            };
            let reason = Reason::ActionFailed {
                rule,
                action: failure.action,
                error: failure.reason,
            };
            // Not acknowledged (shutdown first): leave the record pending so it is read again.
            let sent = dead_letters.send(&record, &reason, shutdown).await;
            Completion {
                positions: position.filter(|_| sent).into_iter().collect(),
                failed: true,
            }
        };
        // The record's span goes with the work, so action logs say which record caused them.
        self.tasks.spawn(work.instrument(tracing::Span::current()));
    }

    pub(super) fn spawn_dead_letter(&mut self, record: Arc<SourceRecord>, reason: Reason) {
        let dead_letters = self.dead_letters.clone();
        let shutdown = self.shutdown.clone();
        let position = ((record.topic.clone(), record.partition), record.offset);
        let work = async move {
            let sent = dead_letters.send(&record, &reason, shutdown).await;
            Completion {
                positions: sent.then_some(position).into_iter().collect(),
                failed: false,
            }
        };
        self.tasks.spawn(work.instrument(tracing::Span::current()));
    }
}

fn log_dry_run(firing: &Firing) {
    for action in &firing.actions {
        match action {
            Ok(rendered) => {
                tracing::info!(ruleset = firing.ruleset, rule = firing.rule, idempotency_key = firing.idempotency_key, action = rendered.kind.name(), args = %redact::loggable(&rendered.args), "dry run: not sent")
            }
            Err(err) => {
                tracing::warn!(ruleset = firing.ruleset, rule = firing.rule, %err, "dry run: action could not be rendered")
            }
        }
    }
}
