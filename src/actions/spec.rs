//! The raw action list entries of a rule, one `*Spec` struct per action type, every one with
//! `deny_unknown_fields`. Argument values stay as [`Node`]s because any string in them may be a
//! template; these structs only fix which keys exist and which are required. Keys and meanings follow
//! ansible-rulebook where it has the same action.

use serde::Deserialize;

use crate::rulebook::Node;

/// One entry of `actions:` (or the single `action:`), named by its only key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    Webhook(WebhookSpec),
    Command(CommandSpec),
    Publish(PublishSpec),
    RunPlaybook(RunPlaybookSpec),
    RunJobTemplate(JobTemplateSpec),
    RunWorkflowTemplate(JobTemplateSpec),
    PrintEvent(PrintEventSpec),
    Debug(DebugSpec),
    None(NoneSpec),
    Shutdown(ShutdownSpec),
    SetFact(SetFactSpec),
    RetractFact(RetractFactSpec),
    PostEvent(PostEventSpec),
}

/// Retry settings shared by the actions that talk to the outside.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    #[serde(default)]
    pub attempts: Option<Node>,
    #[serde(default)]
    pub backoff: Option<Node>,
    #[serde(default)]
    pub max_backoff: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    pub url: Node,
    #[serde(default)]
    pub method: Option<Node>,
    #[serde(default)]
    pub headers: Option<Node>,
    #[serde(default)]
    pub query: Option<Node>,
    #[serde(default)]
    pub body: Option<Node>,
    #[serde(default)]
    pub timeout: Option<Node>,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    #[serde(default)]
    pub lock: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub argv: Node,
    #[serde(default)]
    pub cwd: Option<Node>,
    #[serde(default)]
    pub env: Option<Node>,
    #[serde(default)]
    pub timeout: Option<Node>,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    #[serde(default)]
    pub lock: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishSpec {
    pub topic: Node,
    #[serde(default)]
    pub key: Option<Node>,
    #[serde(default)]
    pub value: Option<Node>,
    #[serde(default)]
    pub headers: Option<Node>,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPlaybookSpec {
    pub name: Node,
    #[serde(default)]
    pub extra_vars: Option<Node>,
    #[serde(default)]
    pub verbosity: Option<Node>,
    #[serde(default)]
    pub limit: Option<Node>,
    #[serde(default)]
    pub timeout: Option<Node>,
    #[serde(default)]
    pub retry: Option<Node>,
    #[serde(default)]
    pub retries: Option<Node>,
    #[serde(default)]
    pub delay: Option<Node>,
    #[serde(default)]
    pub lock: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobTemplateSpec {
    pub name: Node,
    pub organization: Node,
    #[serde(default)]
    pub job_args: Option<Node>,
    #[serde(default)]
    pub include_events: Option<Node>,
    #[serde(default)]
    pub labels: Option<Node>,
    #[serde(default)]
    pub wait: Option<Node>,
    #[serde(default)]
    pub retry: Option<Node>,
    #[serde(default)]
    pub retries: Option<Node>,
    #[serde(default)]
    pub delay: Option<Node>,
    #[serde(default)]
    pub lock: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintEventSpec {
    #[serde(default)]
    pub pretty: Option<Node>,
    #[serde(default)]
    pub var_root: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugSpec {
    #[serde(default)]
    pub msg: Option<Node>,
    #[serde(default)]
    pub var: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoneSpec {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownSpec {
    #[serde(default)]
    pub delay: Option<Node>,
    #[serde(default)]
    pub message: Option<Node>,
    #[serde(default)]
    pub kind: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFactSpec {
    pub fact: Node,
    #[serde(default)]
    pub ruleset: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetractFactSpec {
    pub fact: Node,
    #[serde(default)]
    pub ruleset: Option<String>,
    #[serde(default)]
    pub partial: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostEventSpec {
    pub event: Node,
    #[serde(default)]
    pub ruleset: Option<String>,
}
