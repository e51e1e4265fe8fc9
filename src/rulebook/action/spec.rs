//! The action list entries of a rule, one `*Spec` struct per action type, every one with
//! `deny_unknown_fields`: the one list of each action's keys. The structs are generic over the
//! argument value: at load a [`Node`] (any string may be a template), so these structs fix which
//! keys exist and which are required (plus, for `webhook`, which preset takes which arguments);
//! once rendered for a firing a JSON [`Value`], which the senders read field by field. Keys and
//! meanings follow ansible-rulebook where it has the same action; what the values mean is
//! documented in `docs/actions.md`.

use serde::Deserialize;
use serde_json::Value;

use super::preset::Preset;
use crate::rulebook::{Node, NodeKind};

/// An action argument's value: a YAML [`Node`] at load, a JSON [`Value`] once rendered.
pub trait ArgValue {
    /// The text, when the argument is written literally rather than as a template.
    fn literal_text(&self) -> Option<&str>;
}

impl ArgValue for Node {
    fn literal_text(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(text) if !text.contains("{{") && !text.contains("{%") => Some(text),
            _ => None,
        }
    }
}

impl ArgValue for Value {
    fn literal_text(&self) -> Option<&str> {
        self.as_str()
    }
}

/// One entry of `actions:` (or the single `action:`), named by its only key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    /// Boxed: with its preset arguments it is several times larger than the other variants.
    Webhook(Box<WebhookSpec<Node>>),
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct RetrySpec<V = Node> {
    #[serde(default)]
    pub attempts: Option<V>,
    #[serde(default)]
    pub backoff: Option<V>,
    #[serde(default)]
    pub max_backoff: Option<V>,
}

/// `webhook`: a plain request (`url`, `method`, `headers`, `query`, `body`) or a `preset` built
/// from a few preset arguments (`text`, `title`, `room_id`, `routing_key`, ...). Which preset
/// arguments fit which preset, and whether `url` is needed, is checked when the rulebook loads.
#[derive(Debug, Deserialize)]
#[serde(
    try_from = "WebhookFields<V>",
    bound = "V: Deserialize<'de> + ArgValue"
)]
pub struct WebhookSpec<V = Node>(pub WebhookFields<V>);

/// Declares [`WebhookFields`] with its preset arguments listed once: the struct's fields and
/// [`WebhookFields::PRESET_KEYS`] come from the same list.
macro_rules! webhook_fields {
    ($($(#[$doc:meta])* $preset_key:ident),* $(,)?) => {
        /// The keys `webhook` accepts, before the preset checks of [`WebhookSpec`].
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
        pub struct WebhookFields<V = Node> {
            /// Required, except with the `webex` and `pagerduty` presets, which know their endpoint.
            #[serde(default)]
            pub url: Option<V>,
            #[serde(default)]
            pub method: Option<V>,
            #[serde(default)]
            pub headers: Option<V>,
            #[serde(default)]
            pub query: Option<V>,
            /// JSON (mapping or list) or text; with a preset, extra top-level fields of its body.
            #[serde(default)]
            pub body: Option<V>,
            /// `{bearer_env: NAME}` or `{basic: {username_env: NAME, password_env: NAME}}`.
            #[serde(default)]
            pub auth: Option<V>,
            /// PEM file of the CAs to trust instead of the system's.
            #[serde(default)]
            pub ca_file: Option<V>,
            #[serde(default)]
            pub timeout: Option<V>,
            #[serde(default)]
            pub retry: Option<RetrySpec<V>>,
            /// Statuses retried besides 429 and 5xx.
            #[serde(default)]
            pub retry_on: Option<V>,
            #[serde(default)]
            pub lock: Option<V>,
            /// `slack`, `teams`, `webex`, `pagerduty` or `servicenow`, written literally.
            #[serde(default)]
            pub preset: Option<V>,
            $($(#[$doc])* #[serde(default)] pub $preset_key: Option<V>,)*
        }

        impl<V> WebhookFields<V> {
            /// Every argument some preset takes; a webhook without `preset` takes none of them.
            pub const PRESET_KEYS: &'static [&'static str] = &[$(stringify!($preset_key)),*];

            /// The preset arguments that are present, in [`Self::PRESET_KEYS`] order.
            fn preset_arguments(&self) -> Vec<&'static str> {
                let mut given = Vec::new();
                $(if self.$preset_key.is_some() {
                    given.push(stringify!($preset_key));
                })*
                given
            }
        }
    };
}

webhook_fields!(
    text,
    title,
    room_id,
    routing_key,
    event_action,
    dedup_key,
    severity,
    source,
    component,
    group,
    class,
    custom_details,
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct CommandSpec<V = Node> {
    pub argv: V,
    #[serde(default)]
    pub cwd: Option<V>,
    #[serde(default)]
    pub env: Option<V>,
    #[serde(default)]
    pub timeout: Option<V>,
    #[serde(default)]
    pub retry: Option<RetrySpec<V>>,
    #[serde(default)]
    pub lock: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct PublishSpec<V = Node> {
    pub topic: V,
    #[serde(default)]
    pub key: Option<V>,
    #[serde(default)]
    pub value: Option<V>,
    #[serde(default)]
    pub headers: Option<V>,
    /// How long to wait for the broker's acknowledgement.
    #[serde(default)]
    pub timeout: Option<V>,
    #[serde(default)]
    pub retry: Option<RetrySpec<V>>,
    #[serde(default)]
    pub lock: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct RunPlaybookSpec<V = Node> {
    pub name: V,
    #[serde(default)]
    pub extra_vars: Option<V>,
    #[serde(default)]
    pub verbosity: Option<V>,
    #[serde(default)]
    pub limit: Option<V>,
    #[serde(default)]
    pub timeout: Option<V>,
    #[serde(default)]
    pub retry: Option<V>,
    #[serde(default)]
    pub retries: Option<V>,
    #[serde(default)]
    pub delay: Option<V>,
    #[serde(default)]
    pub lock: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct JobTemplateSpec<V = Node> {
    pub name: V,
    pub organization: V,
    #[serde(default)]
    pub job_args: Option<V>,
    #[serde(default)]
    pub include_events: Option<V>,
    /// Follow the job until it ends (default true) and fail when it does not succeed.
    #[serde(default)]
    pub wait: Option<V>,
    /// How long `wait` waits for the job.
    #[serde(default)]
    pub timeout: Option<V>,
    #[serde(default)]
    pub retry: Option<V>,
    #[serde(default)]
    pub retries: Option<V>,
    #[serde(default)]
    pub delay: Option<V>,
    #[serde(default)]
    pub lock: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct PrintEventSpec<V = Node> {
    #[serde(default)]
    pub pretty: Option<V>,
    #[serde(default)]
    pub var_root: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct DebugSpec<V = Node> {
    #[serde(default)]
    pub msg: Option<V>,
    #[serde(default)]
    pub var: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoneSpec {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct ShutdownSpec<V = Node> {
    #[serde(default)]
    pub delay: Option<V>,
    #[serde(default)]
    pub message: Option<V>,
    #[serde(default)]
    pub kind: Option<V>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct SetFactSpec<V = Node> {
    pub fact: V,
    #[serde(default)]
    pub ruleset: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct RetractFactSpec<V = Node> {
    pub fact: V,
    #[serde(default)]
    pub ruleset: Option<String>,
    #[serde(default)]
    pub partial: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "V: Deserialize<'de>")]
pub struct PostEventSpec<V = Node> {
    pub event: V,
    #[serde(default)]
    pub ruleset: Option<String>,
}

impl<V: ArgValue> TryFrom<WebhookFields<V>> for WebhookSpec<V> {
    type Error = String;

    /// The checks serde cannot express: preset arguments only with a preset that takes them, and
    /// the keys each preset needs.
    fn try_from(fields: WebhookFields<V>) -> Result<Self, String> {
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

/// The preset decides which keys are valid, so it must be known when the rulebook loads.
fn literal_preset(value: &impl ArgValue) -> Result<Preset, String> {
    let Some(name) = value.literal_text() else {
        return Err(format!(
            "`preset` must be written literally as one of {}",
            preset_names()
        ));
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
