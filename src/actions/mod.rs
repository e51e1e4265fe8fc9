//! Actions: what a rule does when it fires. This module compiles each action's arguments into
//! templates ([`Action`]), renders them for one firing ([`RenderedAction`]), and sends them: the
//! [`dispatch::Dispatcher`] runs a firing's actions in order with bounded concurrency, timeouts and
//! retries, one file per action kind. [`preview`] shows what would be sent without sending. It does
//! not decide when a rule fires (the engine) or what happens to a record whose action failed (the
//! pipeline dead-letters it).

pub mod ansible;
pub mod args;
pub mod command;
pub mod context;
pub mod controller;
pub mod dispatch;
pub mod http;
pub mod local;
pub mod locks;
pub mod presets;
pub mod preview;
pub mod process;
pub mod publish;
pub mod retry;
pub mod spec;
pub mod template;
pub mod webhook;

use serde_json::Value;

use crate::rulebook::de::{DeError, from_node};
use crate::rulebook::{Diagnostic, Node, NodeKind};
use spec::ActionSpec;
pub use template::{RenderContext, RenderError, TemplateSet, TemplateValue};

/// The kinds of action, by their rulebook names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Webhook,
    Command,
    Publish,
    RunPlaybook,
    RunJobTemplate,
    RunWorkflowTemplate,
    PrintEvent,
    Debug,
    None,
    Shutdown,
    SetFact,
    RetractFact,
    PostEvent,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Webhook => "webhook",
            ActionKind::Command => "command",
            ActionKind::Publish => "publish",
            ActionKind::RunPlaybook => "run_playbook",
            ActionKind::RunJobTemplate => "run_job_template",
            ActionKind::RunWorkflowTemplate => "run_workflow_template",
            ActionKind::PrintEvent => "print_event",
            ActionKind::Debug => "debug",
            ActionKind::None => "none",
            ActionKind::Shutdown => "shutdown",
            ActionKind::SetFact => "set_fact",
            ActionKind::RetractFact => "retract_fact",
            ActionKind::PostEvent => "post_event",
        }
    }
}

/// Where an engine action (`set_fact`, `retract_fact`, `post_event`) applies.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineTarget {
    /// The ruleset named by `ruleset:`, or `None` for the rule's own.
    pub ruleset: Option<String>,
    /// `retract_fact` only: remove just the given keys (true, the default) or the whole fact.
    pub partial: bool,
}

/// A compiled action of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    /// The action's arguments, with templates at their string leaves.
    pub args: TemplateValue,
    pub target: EngineTarget,
    /// Where the action was written, for messages.
    pub pos: crate::rulebook::Pos,
}

/// An action with its arguments rendered for one firing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RenderedAction {
    #[serde(rename = "type", serialize_with = "kind_name")]
    pub kind: ActionKind,
    pub args: Value,
}

fn kind_name<S: serde::Serializer>(kind: &ActionKind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.name())
}

impl Action {
    /// Compiles one entry of an action list; `label` names its templates.
    pub fn compile(
        node: &Node,
        templates: &mut TemplateSet,
        label: &str,
    ) -> Result<Action, Vec<Diagnostic>> {
        let spec: ActionSpec = from_node(node).map_err(|err| vec![action_error(node, err)])?;
        let (kind, target) = kind_and_target(&spec);
        let args_node = arguments(node);
        let args = templates.compile(&args_node, label).map_err(|errors| {
            errors
                .into_iter()
                .map(|err| Diagnostic::new(err.node, format!("invalid template: {}", err.message)))
                .collect::<Vec<_>>()
        })?;
        Ok(Action {
            kind,
            args,
            target,
            pos: node.pos,
        })
    }

    pub fn render(
        &self,
        templates: &TemplateSet,
        context: &RenderContext<'_>,
    ) -> Result<RenderedAction, RenderError> {
        Ok(RenderedAction {
            kind: self.kind,
            args: templates.render(&self.args, context)?,
        })
    }
}

fn action_error(node: &Node, err: DeError) -> Diagnostic {
    let message = match err.message.strip_prefix("unknown `") {
        Some(rest) => format!("unknown action `{rest}"),
        None => err.message,
    };
    Diagnostic::new(err.pos.unwrap_or(node.pos), message).with_width(err.width)
}

/// The argument mapping of `- kind: {args}`; `- kind:` and `- kind` have none.
fn arguments(node: &Node) -> Node {
    let empty = Node {
        pos: node.pos,
        kind: NodeKind::Map(Vec::new()),
    };
    match node.entries() {
        Some([(_, args)]) if args.kind != NodeKind::Null => args.clone(),
        _ => empty,
    }
}

fn kind_and_target(spec: &ActionSpec) -> (ActionKind, EngineTarget) {
    let own = |ruleset: &Option<String>, partial: bool| EngineTarget {
        ruleset: ruleset.clone(),
        partial,
    };
    let none = own(&None, true);
    match spec {
        ActionSpec::Webhook(_) => (ActionKind::Webhook, none),
        ActionSpec::Command(_) => (ActionKind::Command, none),
        ActionSpec::Publish(_) => (ActionKind::Publish, none),
        ActionSpec::RunPlaybook(_) => (ActionKind::RunPlaybook, none),
        ActionSpec::RunJobTemplate(_) => (ActionKind::RunJobTemplate, none),
        ActionSpec::RunWorkflowTemplate(_) => (ActionKind::RunWorkflowTemplate, none),
        ActionSpec::PrintEvent(_) => (ActionKind::PrintEvent, none),
        ActionSpec::Debug(_) => (ActionKind::Debug, none),
        ActionSpec::None(_) => (ActionKind::None, none),
        ActionSpec::Shutdown(_) => (ActionKind::Shutdown, none),
        ActionSpec::SetFact(s) => (ActionKind::SetFact, own(&s.ruleset, true)),
        ActionSpec::RetractFact(s) => (
            ActionKind::RetractFact,
            own(&s.ruleset, s.partial.unwrap_or(true)),
        ),
        ActionSpec::PostEvent(s) => (ActionKind::PostEvent, own(&s.ruleset, true)),
    }
}
