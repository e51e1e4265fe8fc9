//! The action model of a rule: what each action kind is, its arguments compiled into templates
//! ([`Action`]), and rendering them for one firing into a [`RenderedAction`], shaped for the firing's
//! status (a window rule's resolved notification). Which keys each kind takes is [`spec`]'s; the
//! presets' argument tables are [`preset`]'s. It renders; it sends nothing and knows no sender
//! (those are in `actions`).

pub mod preset;
pub mod spec;
pub mod template;
pub mod template_check;
mod template_names;

use serde_json::Value;

use crate::rulebook::de::{DeError, from_node_all};
use crate::rulebook::{Diagnostic, Node, NodeKind, Pos};
pub use preset::Preset;
use spec::ActionSpec;
pub use template::{RenderContext, RenderError, TemplateSet, TemplateValue};
pub use template_check::{Scope, TEMPLATE_ROOTS};

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

/// Alertmanager's two notification kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiringStatus {
    Firing,
    Resolved,
}

impl FiringStatus {
    pub fn name(self) -> &'static str {
        match self {
            FiringStatus::Firing => "firing",
            FiringStatus::Resolved => "resolved",
        }
    }
}

/// A window rule's notification: its status and the alert it belongs to (the ruleset, rule and
/// group key, the same for a firing and its resolve). Rendering shapes preset webhooks with it.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub status: FiringStatus,
    pub alert_key: &'a str,
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
    pub pos: Pos,
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
        scope: Scope<'_>,
    ) -> Result<Action, Vec<Diagnostic>> {
        let spec: ActionSpec = from_node_all(node).map_err(|errors| {
            errors
                .into_iter()
                .map(|err| action_error(node, err))
                .collect::<Vec<_>>()
        })?;
        let (kind, target) = kind_and_target(&spec);
        let args_node = arguments(node);
        let args = templates
            .compile(&args_node, label, scope)
            .map_err(|errors| {
                errors
                    .into_iter()
                    .map(|err| {
                        Diagnostic::new(err.pos, format!("invalid template: {}", err.message))
                            .with_width(err.width)
                    })
                    .collect::<Vec<_>>()
            })?;
        Ok(Action {
            kind,
            args,
            target,
            pos: node.pos,
        })
    }

    /// Renders the arguments for one firing; a window rule's `notice` shapes preset webhooks for
    /// its status ([`preset::shape_for_notice`]).
    pub fn render(
        &self,
        templates: &TemplateSet,
        context: &RenderContext<'_>,
        notice: Option<Notice<'_>>,
    ) -> Result<RenderedAction, RenderError> {
        let mut rendered = RenderedAction {
            kind: self.kind,
            args: templates.render(&self.args, context)?,
        };
        if let Some(notice) = notice {
            preset::shape_for_notice(&mut rendered, notice);
        }
        Ok(rendered)
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
