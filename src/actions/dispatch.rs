//! The dispatcher: runs one firing's actions in order, each waiting for the previous one (as in
//! ansible-rulebook), and reports the first failure. Firings run concurrently up to
//! `max_concurrent` (a semaphore: callers wait, nothing queues up in memory), one at a time per
//! ruleset with `execution_strategy: sequential`, and actions with the same rendered `lock` one at
//! a time. Timeouts and retries belong to each action's module; engine actions (`set_fact`,
//! `retract_fact`, `post_event`) were applied by the engine and count as done here. What happens
//! to a failed firing (dead letter) is the caller's business.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::args::ArgsError;
use super::context::{DispatchSettings, FiringInfo, Sinks};
use super::controller::{self, ControllerError, TemplateKind};
use super::http::HttpClients;
use super::local::{self, LocalError};
use super::locks::KeyedLocks;
use super::process::ProcessError;
use super::publish::{self, PublishError};
use super::retry::{Exhausted, counting_retries};
use super::webhook::{self, WebhookError};
use super::{ansible, command};
use crate::rulebook::action::{ActionKind, RenderError, RenderedAction};
use crate::rulebook::model::ExecutionStrategy;

/// The name reported for an action whose arguments could not be rendered (its kind is unknown).
const UNRENDERED: &str = "render";

/// One firing to run.
#[derive(Debug, Clone)]
pub struct FiringJob {
    pub ruleset: String,
    pub rule: String,
    /// `topic/partition/offset/ruleset/rule`: the same for every replay of this firing.
    pub idempotency_key: String,
    pub strategy: ExecutionStrategy,
    /// The matching events as JSON (for run_playbook / job template extra vars:
    /// `ansible_eda.event(s)`).
    pub events: Vec<Value>,
    pub actions: Vec<Result<RenderedAction, RenderError>>,
}

/// How a firing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FiringOutcome {
    Done,
    /// The first action that failed after its retries; later actions did not run.
    Failed {
        action_index: usize,
        action: &'static str,
        reason: String,
    },
}

/// Why one action failed. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("the arguments could not be rendered: {0}")]
    Render(#[from] RenderError),
    #[error(transparent)]
    Args(#[from] ArgsError),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    #[error(transparent)]
    Process(#[from] Exhausted<ProcessError>),
    #[error(transparent)]
    Publish(#[from] Exhausted<PublishError>),
    #[error(transparent)]
    Playbook(#[from] Exhausted<ansible::PlaybookError>),
    #[error(transparent)]
    Controller(#[from] Exhausted<ControllerError>),
    #[error(transparent)]
    Local(#[from] LocalError),
}

/// Runs firings. Cheap to clone; clones share limits, locks and HTTP connections.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    settings: DispatchSettings,
    sinks: Sinks,
    permits: Semaphore,
    rulesets: KeyedLocks,
    locks: KeyedLocks,
    http: HttpClients,
}

impl Dispatcher {
    pub fn new(settings: DispatchSettings, sinks: Sinks) -> Dispatcher {
        let permits = Semaphore::new(settings.max_concurrent.max(1));
        Dispatcher {
            inner: Arc::new(Inner {
                settings,
                sinks,
                permits,
                rulesets: KeyedLocks::default(),
                locks: KeyedLocks::default(),
                http: HttpClients::default(),
            }),
        }
    }

    pub fn settings(&self) -> &DispatchSettings {
        &self.inner.settings
    }

    /// Runs the firing's actions in order (each waits for the previous, as in ansible-rulebook),
    /// each with its timeout and retry policy. Returns when all succeeded, or at the first action
    /// that failed after its retries (or whose rendering failed: that is a failure too, with the
    /// render error as reason).
    pub async fn run(&self, job: FiringJob) -> FiringOutcome {
        let span = tracing::info_span!(
            "firing",
            ruleset = job.ruleset,
            rule = job.rule,
            idempotency_key = job.idempotency_key
        );
        self.run_in_order(&job).instrument(span).await
    }

    async fn run_in_order(&self, job: &FiringJob) -> FiringOutcome {
        let inner = &self.inner;
        let _ruleset = match job.strategy {
            ExecutionStrategy::Sequential => Some(inner.rulesets.lock(&job.ruleset).await),
            ExecutionStrategy::Parallel => None,
        };
        let _permit = inner
            .permits
            .acquire()
            .await
            .expect("the dispatcher never closes its semaphore");
        let firing = FiringInfo {
            ruleset: &job.ruleset,
            rule: &job.rule,
            idempotency_key: &job.idempotency_key,
            events: &job.events,
        };
        for (index, action) in job.actions.iter().enumerate() {
            let (name, (result, retries)) = match action {
                Ok(action) => (
                    action.kind.name(),
                    counting_retries(self.run_action(action, &firing)).await,
                ),
                Err(err) => (UNRENDERED, (Err(ActionError::Render(err.clone())), 0)),
            };
            count_action(name, result.is_ok(), retries);
            if let Err(err) = result {
                tracing::warn!(action_index = index, action = name, error = %err, "action failed");
                return FiringOutcome::Failed {
                    action_index: index,
                    action: name,
                    reason: err.to_string(),
                };
            }
            tracing::debug!(action_index = index, action = name, "action done");
        }
        FiringOutcome::Done
    }

    /// One action, holding its `lock` (if any) while it runs.
    async fn run_action(
        &self,
        action: &RenderedAction,
        firing: &FiringInfo<'_>,
    ) -> Result<(), ActionError> {
        let lock = super::args::lock(action);
        let _held = match &lock {
            Some(name) => Some(self.inner.locks.lock(name).await),
            None => None,
        };
        execute(&self.inner, action, firing).await
    }
}

/// `semaphore_actions_total{action, outcome}`: ok, retried (ok after retries) or failed.
fn count_action(action: &'static str, ok: bool, retries: u32) {
    let outcome = match (ok, retries) {
        (false, _) => "failed",
        (true, 0) => "ok",
        (true, _) => "retried",
    };
    metrics::counter!(crate::telemetry::metrics::ACTIONS, "action" => action, "outcome" => outcome)
        .increment(1);
}

async fn execute(
    inner: &Inner,
    action: &RenderedAction,
    firing: &FiringInfo<'_>,
) -> Result<(), ActionError> {
    let settings = &inner.settings;
    let args = &action.args;
    match action.kind {
        ActionKind::Webhook => {
            let plan = webhook::plan(args, firing, settings)?;
            webhook::send(&plan, &inner.http, &settings.env).await?;
        }
        ActionKind::Command => {
            let plan = command::plan(args, firing, settings)?;
            command::run(&plan, settings.output_limit).await?;
        }
        ActionKind::Publish => {
            let plan = publish::plan(args, firing, settings)?;
            publish::publish(&plan, inner.sinks.producer.as_ref()).await?;
        }
        ActionKind::RunPlaybook => {
            let plan = ansible::plan(args, firing, settings)?;
            ansible::run(&plan, settings.output_limit).await?;
        }
        ActionKind::RunJobTemplate | ActionKind::RunWorkflowTemplate => {
            let kind = template_kind(action.kind);
            let plan = controller::plan(kind, args, firing, settings)?;
            controller::run(&plan, settings, &inner.http).await?;
        }
        ActionKind::PrintEvent => {
            let text = local::print_event_text(args, firing)?;
            local::write(&inner.sinks.output, "print_event", &text)?;
        }
        ActionKind::Debug => {
            let text = local::debug_text(args, firing)?;
            local::write(&inner.sinks.output, "debug", &text)?;
        }
        ActionKind::Shutdown => {
            let plan = local::shutdown_plan(args)?;
            local::shutdown(&plan, inner.sinks.shutdown.as_ref(), firing).await?;
        }
        // The engine applied these when it rendered them; `none` does nothing on purpose.
        ActionKind::None
        | ActionKind::SetFact
        | ActionKind::RetractFact
        | ActionKind::PostEvent => {}
    }
    Ok(())
}

/// Which controller collection a template action uses.
pub(crate) fn template_kind(kind: ActionKind) -> TemplateKind {
    match kind {
        ActionKind::RunWorkflowTemplate => TemplateKind::Workflow,
        _ => TemplateKind::Job,
    }
}
