//! Connects the `rules run` pipeline to the action dispatcher: a firing becomes a [`FiringJob`]
//! with its ruleset's execution strategy, and the `shutdown` action asks the process to stop. After a
//! reload, a new dispatcher is built only when the new rulebook needs one ([`differs`]).

use std::sync::Arc;

use anyhow::Context as _;

use crate::actions::context::{DispatchSettings, Output, ShutdownKind, ShutdownRequest, Sinks};
use crate::actions::dispatch::{Dispatcher, FiringJob, FiringOutcome};
use crate::config::{ActionConfig, KafkaConnection};
use crate::engine::Firing;
use crate::pipeline::{ActionFailure, Dispatch, DispatchFuture};
use crate::rulebook::Rulebook;
use crate::shutdown::Shutdown;

struct ActionDispatch {
    dispatcher: Dispatcher,
}

impl Dispatch for ActionDispatch {
    fn dispatch(&self, firing: Firing) -> DispatchFuture {
        let job = FiringJob {
            events: firing
                .events
                .iter()
                .map(|e| serde_json::to_value(&**e).unwrap_or_default())
                .collect(),
            ruleset: firing.ruleset,
            rule: firing.rule,
            idempotency_key: firing.idempotency_key,
            strategy: firing.strategy,
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

/// Builds dispatchers for rulebooks: the first at start, and another after a reload that needs one.
/// Every dispatcher shares one Kafka producer and the same `shutdown` hook.
#[derive(Clone)]
pub struct Dispatchers {
    sinks: Sinks,
    actions: ActionConfig,
}

impl Dispatchers {
    /// Creates the Kafka producer for `publish`; stdout serves `print_event`/`debug`.
    pub fn new(
        connection: &KafkaConnection,
        actions: &ActionConfig,
        shutdown: &Arc<Shutdown>,
    ) -> anyhow::Result<Dispatchers> {
        Dispatchers::writing_to(connection, actions, shutdown, Sinks::default().output)
    }

    /// [`Dispatchers::new`] with `print_event`/`debug` written to `output` instead of stdout.
    pub fn writing_to(
        connection: &KafkaConnection,
        actions: &ActionConfig,
        shutdown: &Arc<Shutdown>,
        output: Output,
    ) -> anyhow::Result<Dispatchers> {
        let producer = crate::kafka::producer(connection)
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
        Ok(Dispatchers {
            sinks,
            actions: actions.clone(),
        })
    }

    /// The dispatcher for `book`.
    pub fn for_rulebook(&self, book: &Rulebook) -> anyhow::Result<Arc<dyn Dispatch>> {
        Ok(Arc::new(ActionDispatch {
            dispatcher: Dispatcher::new(
                DispatchSettings::from_config(&self.actions, book)?,
                self.sinks.clone(),
            ),
        }))
    }
}

/// Whether a dispatcher built for `old` would send `new`'s firings differently: it knows each
/// ruleset's `hosts` (the playbooks' limit), nothing else of the rulebook; the execution strategy
/// comes with each firing.
pub fn differs(old: &Rulebook, new: &Rulebook) -> bool {
    let hosts = |book: &Rulebook| -> Vec<(String, Vec<String>)> {
        book.rulesets
            .iter()
            .map(|r| (r.name.clone(), r.hosts.clone()))
            .collect()
    };
    hosts(old) != hosts(new)
}
