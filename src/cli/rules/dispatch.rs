//! Connects the `rules run` pipeline to the action dispatcher: a firing becomes a [`FiringJob`]
//! with its ruleset's execution strategy, and the `shutdown` action asks the process to stop.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;

use crate::actions::context::{Output, ShutdownKind, ShutdownRequest, Sinks};
use crate::actions::dispatch::{Dispatcher, FiringJob, FiringOutcome};
use crate::config::{ActionConfig, KafkaConnection};
use crate::engine::Firing;
use crate::pipeline::{ActionFailure, Dispatch, DispatchFuture};
use crate::rulebook::Rulebook;
use crate::rulebook::model::ExecutionStrategy;
use crate::shutdown::Shutdown;

struct ActionDispatch {
    dispatcher: Dispatcher,
    strategies: HashMap<String, ExecutionStrategy>,
}

impl Dispatch for ActionDispatch {
    fn dispatch(&self, firing: Firing) -> DispatchFuture {
        let strategy = self
            .strategies
            .get(&firing.ruleset)
            .copied()
            .unwrap_or(ExecutionStrategy::Sequential);
        let job = FiringJob {
            events: firing
                .events
                .iter()
                .map(|e| serde_json::to_value(&**e).unwrap_or_default())
                .collect(),
            ruleset: firing.ruleset,
            rule: firing.rule,
            idempotency_key: firing.idempotency_key,
            strategy,
            actions: firing.actions,
        };
        let dispatcher = self.dispatcher.clone();
        Box::pin(async move {
            match dispatcher.run(job).await {
                FiringOutcome::Done => Ok(()),
                FiringOutcome::Failed { action, reason, .. } => Err(ActionFailure {
                    action: action.to_owned(),
                    reason,
                }),
            }
        })
    }
}

/// The dispatcher for `book`: a Kafka producer for `publish`, stdout for `print_event`/`debug`.
pub fn for_rulebook(
    book: &Rulebook,
    connection: &KafkaConnection,
    actions: &ActionConfig,
    shutdown: &Arc<Shutdown>,
) -> anyhow::Result<Arc<dyn Dispatch>> {
    writing_to(book, connection, actions, shutdown, Sinks::default().output)
}

/// [`for_rulebook`] with `print_event`/`debug` written to `output` instead of stdout.
pub fn writing_to(
    book: &Rulebook,
    connection: &KafkaConnection,
    actions: &ActionConfig,
    shutdown: &Arc<Shutdown>,
    output: Output,
) -> anyhow::Result<Arc<dyn Dispatch>> {
    let producer = connection
        .producer_config()?
        .create()
        .context("cannot create the Kafka producer for publish actions")?;
    let stopper = Arc::clone(shutdown);
    let sinks = Sinks {
        producer: Some(producer),
        output,
        shutdown: Some(Arc::new(move |request: ShutdownRequest| {
            tracing::warn!(
                ruleset = request.ruleset,
                rule = request.rule,
                message = request.message,
                now = request.kind == ShutdownKind::Now,
                "shutdown action"
            );
            stopper.request();
        })),
    };
    let strategies = book
        .rulesets
        .iter()
        .map(|ruleset| (ruleset.name.clone(), ruleset.execution_strategy))
        .collect();
    Ok(Arc::new(ActionDispatch {
        dispatcher: Dispatcher::new(actions.dispatch_settings(book)?, sinks),
        strategies,
    }))
}
