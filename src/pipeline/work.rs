//! The tasks a record or a timer starts: a firing's actions (in its ruleset's turn), then, if an
//! action failed after its retries, a dead letter for its record or, for a firing no record caused,
//! of the firing itself; and the dead letter of a record that could not be decoded. Each task ends
//! in a [`Completion`] that says which offset it finished.

use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::Instrument as _;

use super::order::Done;
use super::{At, Completion, DeadLetters, Dispatch, Reason, Run, SourceRecord, TimerFiring};
use crate::engine::Firing;
use crate::shutdown::ShutdownSignal;
use crate::telemetry::redact;

impl Run {
    pub(super) fn spawn_firing(&mut self, firing: Firing, record: Option<(Arc<SourceRecord>, At)>) {
        let (record, position) = record.unzip();
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
        let failed_to = match record {
            Some(record) => FailureGoesTo::Record(record),
            None => FailureGoesTo::Timer(self.timer_firing(&firing)),
        };
        // A timer firing is tied to no offset: the state write that says it was sent waits for it.
        let timer_fired = (matches!(failed_to, FailureGoesTo::Timer(_)) && self.durable.is_some())
            .then(|| self.write_order.timer_firing());
        let (turn, done) = self.order.next(&firing.ruleset, firing.strategy);
        let task = FiringTask {
            dispatch: Arc::clone(&self.dispatch),
            dead_letters: self.dead_letters.clone(),
            shutdown: self.shutdown.clone(),
            position,
            failed_to,
            timer_fired,
        };
        let work = async move {
            turn.wait().await;
            task.run(firing, done).await
        };
        // The record's span goes with the work, so action logs say which record caused them.
        self.tasks.spawn(work.instrument(tracing::Span::current()));
    }

    /// What a dead letter of `firing`, a firing no record caused, needs; its topic follows the
    /// rulebook running now.
    fn timer_firing(&self, firing: &Firing) -> TimerFiring {
        let topic =
            self.dead_letters
                .topic_for_ruleset(&self.book, &firing.ruleset, &self.settings.topics);
        TimerFiring::of(firing, topic)
    }

    pub(super) fn spawn_dead_letter(&mut self, record: Arc<SourceRecord>, at: At, reason: Reason) {
        let dead_letters = self.dead_letters.clone();
        let shutdown = self.shutdown.clone();
        let position = at;
        let work = async move {
            let sent = dead_letters.send_record(&record, &reason, shutdown).await;
            Completion {
                positions: sent.then_some(position).into_iter().collect(),
                failed: false,
            }
        };
        self.tasks.spawn(work.instrument(tracing::Span::current()));
    }
}

/// Where a firing's failure is dead-lettered: with the record that caused it, or as the firing.
enum FailureGoesTo {
    Record(Arc<SourceRecord>),
    Timer(TimerFiring),
}

/// One firing's work once its ruleset's turn came.
struct FiringTask {
    dispatch: Arc<dyn Dispatch>,
    dead_letters: DeadLetters,
    shutdown: ShutdownSignal,
    position: Option<At>,
    failed_to: FailureGoesTo,
    /// For a timer firing with durable state: sent once its actions ran to their end.
    timer_fired: Option<oneshot::Sender<()>>,
}

impl FiringTask {
    async fn run(self, firing: Firing, done: Done) -> Completion {
        let rule = format!("{}/{}", firing.ruleset, firing.rule);
        let key = firing.idempotency_key.clone();
        let dispatched = self.dispatch.dispatch(firing).await;
        drop(done);
        let Err(failure) = dispatched else {
            if let Some(fired) = self.timer_fired {
                let _ = fired.send(());
            }
            return Completion {
                positions: self.position.into_iter().collect(),
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
        // Not kept (shutdown first): a record stays pending and is read again; a timer firing's
        // state is not saved as sent, so it fires again after a restart.
        let kept = match &self.failed_to {
            FailureGoesTo::Record(record) => {
                let reason = Reason::ActionFailed {
                    rule,
                    action: failure.action,
                    error: failure.reason,
                };
                (self.dead_letters)
                    .send_record(record, &reason, self.shutdown)
                    .await
            }
            FailureGoesTo::Timer(timer) => {
                (self.dead_letters)
                    .send_timer(timer, &failure, self.shutdown)
                    .await
            }
        };
        if let Some(fired) = self.timer_fired.filter(|_| kept) {
            let _ = fired.send(());
        }
        Completion {
            positions: self.position.filter(|_| kept).into_iter().collect(),
            failed: true,
        }
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
