//! What the dispatcher works with besides the firing itself: the process-wide settings
//! ([`DispatchSettings`]: concurrency, default timeout and retry policy, `ansible-playbook`, the
//! controller), the outside world it writes to ([`Sinks`]: Kafka producer, output of `print_event`
//! and `debug`, the shutdown hook), and the facts of one firing every action may use
//! ([`FiringInfo`]). [`DispatchSettings::from_config`] turns the `--controller-*` and playbook flags
//! into settings. It decides nothing and sends nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::producer::FutureProducer;
use serde_json::{Map, Value, json};

use super::retry::RetryPolicy;
use crate::config::{ActionConfig, ConfigError, Secret};
use crate::rulebook::Rulebook;

/// Process-wide dispatch settings. `Default` gives ansible-rulebook's concurrency (25), a 30 s
/// timeout, 3 attempts with 1 s backoff capped at 30 s, and a snapshot of the process environment.
#[derive(Clone)]
pub struct DispatchSettings {
    /// Firings running at once across all rulesets; further firings wait for a slot (back-pressure).
    pub max_concurrent: usize,
    /// Timeout of one attempt of `webhook`, `command`, `publish` and of each controller request,
    /// unless the action sets `timeout`.
    pub timeout: Duration,
    /// Retry policy of `webhook`, `command`, `publish` and of controller requests, unless the
    /// action sets `retry`.
    pub retry: RetryPolicy,
    /// Where `auth: {bearer_env: NAME}` and friends read secrets from. Values never reach a log.
    pub env: BTreeMap<String, String>,
    /// Bytes of a process's stdout and stderr kept for logs and failure reasons (the tail).
    pub output_limit: usize,
    pub playbook: PlaybookSettings,
    /// Needed by `run_job_template` and `run_workflow_template` only.
    pub controller: Option<ControllerSettings>,
}

impl DispatchSettings {
    /// The settings the flags ask for, for `book`: each ruleset's `hosts` limit its playbooks.
    pub fn from_config(
        config: &ActionConfig,
        book: &Rulebook,
    ) -> Result<DispatchSettings, ConfigError> {
        let mut settings = DispatchSettings {
            max_concurrent: config.max_concurrent_actions.max(1),
            controller: controller(config)?,
            ..DispatchSettings::default()
        };
        settings.playbook.program = config.ansible_playbook.clone();
        settings.playbook.inventory = config.inventory.clone();
        settings.playbook.ruleset_hosts = book
            .rulesets
            .iter()
            .filter(|ruleset| !ruleset.hosts.is_empty())
            .map(|ruleset| (ruleset.name.clone(), ruleset.hosts.clone()))
            .collect();
        Ok(settings)
    }
}

fn controller(config: &ActionConfig) -> Result<Option<ControllerSettings>, ConfigError> {
    let Some(url) = &config.controller_url else {
        return Ok(None);
    };
    let credentials = match (
        &config.controller_token,
        &config.controller_username,
        &config.controller_password,
    ) {
        (Some(token), None, None) => Credentials::Bearer(token.clone()),
        (None, Some(username), Some(password)) => Credentials::Basic {
            username: username.clone(),
            password: password.clone(),
        },
        _ => return Err(ConfigError::ControllerCredentials),
    };
    let mut controller = ControllerSettings::new(url.clone(), credentials);
    controller.ca_file = config.controller_ca_file.clone();
    Ok(Some(controller))
}

/// How `run_playbook` runs `ansible-playbook`.
#[derive(Debug, Clone)]
pub struct PlaybookSettings {
    /// The `ansible-playbook` executable (a name looked up in `PATH`, or a path).
    pub program: PathBuf,
    /// Inventory passed with `-i`; without one, a generated inventory holds only `localhost` with
    /// `ansible_connection=local`.
    pub inventory: Option<PathBuf>,
    /// Each ruleset's `hosts`, used as `--limit` when the action gives no `limit`.
    pub ruleset_hosts: BTreeMap<String, Vec<String>>,
    /// How long a playbook may run unless the action sets `timeout`.
    pub timeout: Duration,
}

/// The Ansible Automation Platform / AWX controller of `run_job_template` and
/// `run_workflow_template`.
#[derive(Debug, Clone)]
pub struct ControllerSettings {
    /// `https://aap.example.com` (the API is then `/api/v2/`) or the API root itself, such as
    /// `https://aap.example.com/api/controller/v2/`.
    pub url: String,
    pub credentials: Credentials,
    /// PEM file of the CAs to trust instead of the system's; verification is always on.
    pub ca_file: Option<PathBuf>,
    /// Pause between job status requests while waiting for a job.
    pub poll_interval: Duration,
    /// How long to wait for a launched job to finish unless the action sets `timeout`.
    pub job_timeout: Duration,
}

/// HTTP credentials; `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic ...`.
    Basic { username: String, password: Secret },
}

/// Where `print_event` and `debug` write: stdout by default.
pub type Output = Arc<Mutex<dyn Write + Send>>;

/// Called by the `shutdown` action (after its delay) to stop the whole process.
pub type ShutdownHook = Arc<dyn Fn(ShutdownRequest) + Send + Sync>;

/// What a `shutdown` action asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownRequest {
    pub ruleset: String,
    pub rule: String,
    pub message: Option<String>,
    pub kind: ShutdownKind,
}

/// ansible-rulebook's `kind` of `shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownKind {
    /// Stop intake, let in-flight work finish.
    Graceful,
    /// Stop without draining.
    Now,
}

/// What the dispatcher needs from outside.
#[derive(Clone)]
pub struct Sinks {
    /// The producer of `publish`; without one, `publish` fails.
    pub producer: Option<FutureProducer>,
    pub output: Output,
    /// Without one, `shutdown` fails.
    pub shutdown: Option<ShutdownHook>,
}

/// The facts of one firing that actions use: names, idempotency key and the matching events.
#[derive(Debug, Clone, Copy)]
pub struct FiringInfo<'a> {
    pub ruleset: &'a str,
    pub rule: &'a str,
    /// `topic/partition/offset/ruleset/rule`, identical for every replay of the firing.
    pub idempotency_key: &'a str,
    pub events: &'a [Value],
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            max_concurrent: 25,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            env: std::env::vars().collect(),
            output_limit: 4096,
            playbook: PlaybookSettings::default(),
            controller: None,
        }
    }
}

impl Default for PlaybookSettings {
    fn default() -> Self {
        PlaybookSettings {
            program: PathBuf::from("ansible-playbook"),
            inventory: None,
            ruleset_hosts: BTreeMap::new(),
            timeout: Duration::from_secs(3600),
        }
    }
}

impl ControllerSettings {
    /// Settings with the default polling (every 5 s) and job timeout (1 hour).
    pub fn new(url: impl Into<String>, credentials: Credentials) -> ControllerSettings {
        ControllerSettings {
            url: url.into(),
            credentials,
            ca_file: None,
            poll_interval: Duration::from_secs(5),
            job_timeout: Duration::from_secs(3600),
        }
    }
}

impl Default for Sinks {
    fn default() -> Self {
        Sinks {
            producer: None,
            output: Arc::new(Mutex::new(std::io::stdout())),
            shutdown: None,
        }
    }
}

/// By hand: the environment holds secrets, so only its size is shown.
impl fmt::Debug for DispatchSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatchSettings")
            .field("max_concurrent", &self.max_concurrent)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("env", &format_args!("<{} variables>", self.env.len()))
            .field("output_limit", &self.output_limit)
            .field("playbook", &self.playbook)
            .field("controller", &self.controller)
            .finish()
    }
}

impl FiringInfo<'_> {
    /// The event templates call `event`: the last matching one, or `null` if there is none.
    pub fn event(&self) -> &Value {
        self.events.last().unwrap_or(&Value::Null)
    }

    /// ansible-rulebook's `ansible_eda` extra var: `ruleset`, `rule`, and `event` for one matching
    /// event or `events` (`m_0`, `m_1`, ...) for several.
    pub fn ansible_eda(&self) -> Value {
        let mut eda = json!({"ruleset": self.ruleset, "rule": self.rule});
        if let [event] = self.events {
            eda["event"] = event.clone();
        } else {
            let events: Map<String, Value> = self
                .events
                .iter()
                .enumerate()
                .map(|(i, event)| (format!("m_{i}"), event.clone()))
                .collect();
            eda["events"] = Value::Object(events);
        }
        eda
    }
}
