//! The raw action list entries of a rule, one `*Spec` struct per action type, every one with
//! `deny_unknown_fields`. Argument values stay as [`Node`]s because any string in them may be a
//! template; these structs only fix which keys exist and which are required (plus, for `webhook`,
//! which preset takes which arguments). Keys and meanings follow ansible-rulebook where it has the
//! same action; what the values mean is documented in `docs/actions.md`.

use serde::Deserialize;

use super::preset::Preset;
use crate::rulebook::{Node, NodeKind};

/// One entry of `actions:` (or the single `action:`), named by its only key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    /// Boxed: with its preset arguments it is several times larger than the other variants.
    Webhook(Box<WebhookSpec>),
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

/// `webhook`: a plain request (`url`, `method`, `headers`, `query`, `body`) or a `preset` built
/// from a few preset arguments (`text`, `title`, `room_id`, `routing_key`, ...). Which preset
/// arguments fit which preset, and whether `url` is needed, is checked when the rulebook loads.
#[derive(Debug, Deserialize)]
#[serde(try_from = "WebhookFields")]
pub struct WebhookSpec(pub WebhookFields);

/// The keys `webhook` accepts, before the preset checks of [`WebhookSpec`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFields {
    /// Required, except with the `webex` and `pagerduty` presets, which know their endpoint.
    #[serde(default)]
    pub url: Option<Node>,
    #[serde(default)]
    pub method: Option<Node>,
    #[serde(default)]
    pub headers: Option<Node>,
    #[serde(default)]
    pub query: Option<Node>,
    /// JSON (mapping or list) or text; with a preset, extra top-level fields of its body.
    #[serde(default)]
    pub body: Option<Node>,
    /// `{bearer_env: NAME}` or `{basic: {username_env: NAME, password_env: NAME}}`.
    #[serde(default)]
    pub auth: Option<Node>,
    /// PEM file of the CAs to trust instead of the system's.
    #[serde(default)]
    pub ca_file: Option<Node>,
    #[serde(default)]
    pub timeout: Option<Node>,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// Statuses retried besides 429 and 5xx.
    #[serde(default)]
    pub retry_on: Option<Node>,
    #[serde(default)]
    pub lock: Option<Node>,
    /// `slack`, `teams`, `webex`, `pagerduty` or `servicenow`, written literally.
    #[serde(default)]
    pub preset: Option<Node>,
    #[serde(default)]
    pub text: Option<Node>,
    #[serde(default)]
    pub title: Option<Node>,
    #[serde(default)]
    pub room_id: Option<Node>,
    #[serde(default)]
    pub routing_key: Option<Node>,
    #[serde(default)]
    pub event_action: Option<Node>,
    #[serde(default)]
    pub dedup_key: Option<Node>,
    #[serde(default)]
    pub severity: Option<Node>,
    #[serde(default)]
    pub source: Option<Node>,
    #[serde(default)]
    pub component: Option<Node>,
    #[serde(default)]
    pub group: Option<Node>,
    #[serde(default)]
    pub class: Option<Node>,
    #[serde(default)]
    pub custom_details: Option<Node>,
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
    /// How long to wait for the broker's acknowledgement.
    #[serde(default)]
    pub timeout: Option<Node>,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    #[serde(default)]
    pub lock: Option<Node>,
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
    /// Follow the job until it ends (default true) and fail when it does not succeed.
    #[serde(default)]
    pub wait: Option<Node>,
    /// How long `wait` waits for the job.
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

impl TryFrom<WebhookFields> for WebhookSpec {
    type Error = String;

    /// The checks serde cannot express: preset arguments only with a preset that takes them, and
    /// the keys each preset needs.
    fn try_from(fields: WebhookFields) -> Result<Self, String> {
        let given = fields.preset_arguments();
        let Some(preset) = &fields.preset else {
            if let Some(key) = given.first() {
                return Err(format!(
                    "`{key}` is a preset argument: add `preset:` ({}) or put it in `body`",
                    preset_names()
                ));
            }
            if fields.url.is_none() {
                return Err("missing required key `url`".into());
            }
            return Ok(WebhookSpec(fields));
        };
        let preset = literal_preset(preset)?;
        let name = preset.name();
        if let Some(key) = given.iter().find(|key| !preset.keys().contains(key)) {
            return Err(format!(
                "`{key}` is not an argument of preset {name}; it takes {}",
                preset.keys().join(", ")
            ));
        }
        if let Some(key) = preset
            .required_keys()
            .iter()
            .find(|key| !given.contains(key))
        {
            return Err(format!("preset {name} needs `{key}`"));
        }
        if fields.url.is_none() && preset.default_url().is_none() {
            return Err(format!("preset {name} needs `url`"));
        }
        if preset.needs_auth() && fields.auth.is_none() {
            return Err(format!(
                "preset {name} needs `auth` (credentials from environment variables)"
            ));
        }
        Ok(WebhookSpec(fields))
    }
}

impl WebhookFields {
    /// The preset arguments that are present, in [`Preset::ALL_KEYS`] order.
    fn preset_arguments(&self) -> Vec<&'static str> {
        let values = [
            &self.text,
            &self.title,
            &self.room_id,
            &self.routing_key,
            &self.event_action,
            &self.dedup_key,
            &self.severity,
            &self.source,
            &self.component,
            &self.group,
            &self.class,
            &self.custom_details,
        ];
        Preset::ALL_KEYS
            .into_iter()
            .zip(values)
            .filter(|(_, value)| value.is_some())
            .map(|(key, _)| key)
            .collect()
    }
}

/// The preset decides which keys are valid, so it must be known when the rulebook loads.
fn literal_preset(node: &Node) -> Result<Preset, String> {
    let name = match &node.kind {
        NodeKind::Str(name) if !name.contains("{{") && !name.contains("{%") => name,
        _ => {
            return Err(format!(
                "`preset` must be written literally as one of {}",
                preset_names()
            ));
        }
    };
    Preset::from_name(name).ok_or_else(|| {
        format!(
            "unknown preset `{name}`; expected one of {}",
            preset_names()
        )
    })
}

fn preset_names() -> String {
    let names: Vec<&str> = Preset::ALL.iter().map(|preset| preset.name()).collect();
    names.join(", ")
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
