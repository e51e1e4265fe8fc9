//! `run_job_template` and `run_workflow_template`: launch a template on an Ansible Automation
//! Platform / AWX controller the way ansible-rulebook does. The template id is looked up by name
//! and organization, `launch/` is POSTed with the action's `job_args` (`extra_vars`, `limit`,
//! `job_tags`, ...) and, unless `include_events: false`, `extra_vars.ansible_eda`; with `wait`
//! (the default) the job is polled until it ends and its final status decides. Each request is
//! retried on connection errors, 429 and 5xx under the dispatcher's policy; relaunching a failed
//! job follows ansible-rulebook's `retry`/`retries`/`delay` (none by default).

use std::time::Duration;

use reqwest::{Client, Method, Url};
use serde_json::{Value, json};

use super::args::{Args, ArgsError, arg};
use super::context::{ControllerSettings, DispatchSettings, FiringInfo};
use super::http::{self, HttpClients, HttpError};
use super::retry::{Exhausted, RetryPolicy, Retryable, with_retry};
use crate::rulebook::action::spec::JobTemplateSpec;

/// Job statuses after which a job does not change any more.
const FAILED_STATUSES: [&str; 3] = ["failed", "error", "canceled"];

/// Why a template launch did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("`{action}` needs a controller, and none is configured (URL and credentials)")]
    NotConfigured { action: &'static str },
    #[error("the controller URL {url:?} is not valid: {reason}")]
    Url { url: String, reason: String },
    #[error(transparent)]
    Setup(HttpError),
    #[error(transparent)]
    Http(Exhausted<HttpError>),
    #[error("{kind} {name:?} not found in organization {organization:?} on the controller")]
    NotFound {
        kind: &'static str,
        name: String,
        organization: String,
    },
    #[error("unexpected answer from {url}: {reason}")]
    Response { url: String, reason: String },
    #[error("job {id} of {kind} {name:?} ended with status {status} ({url})")]
    JobFailed {
        kind: &'static str,
        name: String,
        id: u64,
        status: String,
        url: String,
    },
    #[error(
        "job {id} of {kind} {name:?} did not finish within {timeout:?}; it may still be running ({url})"
    )]
    JobTimeout {
        kind: &'static str,
        name: String,
        id: u64,
        timeout: Duration,
        url: String,
    },
}

/// Job template or workflow job template: the same flow on different API collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    Job,
    Workflow,
}

/// One launch, fully decided.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchPlan {
    pub kind: TemplateKind,
    pub name: String,
    pub organization: String,
    /// The body POSTed to `launch/`.
    pub body: Value,
    pub wait: bool,
    /// How long to wait for the job; `None`: the controller settings' `job_timeout`.
    pub timeout: Option<Duration>,
    pub retry: RetryPolicy,
}

/// Decides the launch from the rendered arguments.
pub fn plan(
    kind: TemplateKind,
    args: &Value,
    firing: &FiringInfo<'_>,
    settings: &DispatchSettings,
) -> Result<LaunchPlan, ArgsError> {
    let (args, spec): (Args, JobTemplateSpec<Value>) = Args::parse(kind.action(), args)?;
    let mut body = args
        .object(arg!(spec.job_args))?
        .cloned()
        .unwrap_or_default();
    if args.flag(arg!(spec.include_events))?.unwrap_or(true) {
        let extra_vars = body.entry("extra_vars").or_insert_with(|| json!({}));
        let Value::Object(extra_vars) = extra_vars else {
            return Err(args.invalid("job_args.extra_vars", "expected a mapping"));
        };
        extra_vars.insert("ansible_eda".into(), firing.ansible_eda());
    }
    Ok(LaunchPlan {
        kind,
        name: args.required_text(arg!(spec.name))?,
        organization: args.required_text(arg!(spec.organization))?,
        body: Value::Object(body),
        wait: args.flag(arg!(spec.wait))?.unwrap_or(true),
        timeout: args.duration(arg!(spec.timeout))?,
        retry: settings.retry.with_ansible(
            &args,
            arg!(spec.retry),
            arg!(spec.retries),
            arg!(spec.delay),
        )?,
    })
}

/// Looks up, launches and (with `wait`) follows the job, relaunching under the plan's policy.
pub async fn run(
    plan: &LaunchPlan,
    settings: &DispatchSettings,
    clients: &HttpClients,
) -> Result<(), Exhausted<ControllerError>> {
    let setup = |error| Exhausted { error, attempts: 0 };
    let controller = settings.controller.as_ref().ok_or_else(|| {
        setup(ControllerError::NotConfigured {
            action: plan.kind.action(),
        })
    })?;
    let api = Api::new(controller, settings, clients).map_err(setup)?;
    with_retry(&plan.retry, plan.kind.action(), || {
        launch_once(plan, &api, controller)
    })
    .await
}

/// The requests as `rules test` shows them (`{id}` is looked up when sending).
pub fn preview(plan: &LaunchPlan, settings: &DispatchSettings) -> Value {
    let root = settings
        .controller
        .as_ref()
        .and_then(|c| api_root(&c.url).ok())
        .map_or_else(|| "CONTROLLER/api/v2/".to_owned(), |url| url.to_string());
    let collection = plan.kind.collection();
    let mut lookup = Url::parse("http://x/").ok();
    if let Some(url) = &mut lookup {
        url.query_pairs_mut()
            .append_pair("name", &plan.name)
            .append_pair("organization__name", &plan.organization);
    }
    let query = lookup.as_ref().and_then(Url::query).unwrap_or_default();
    json!({
        "lookup": format!("GET {root}{collection}/?{query}"),
        "launch": {"method": "POST", "url": format!("{root}{collection}/{{id}}/launch/"), "body": plan.body},
        "wait": plan.wait,
        "attempts": plan.retry.attempts,
    })
}

async fn launch_once(
    plan: &LaunchPlan,
    api: &Api<'_>,
    controller: &ControllerSettings,
) -> Result<(), ControllerError> {
    let template = api.template_id(plan).await?;
    let launch_url = api.url(&format!("{}/{template}/launch/", plan.kind.collection()))?;
    let launched = api
        .call(Method::POST, launch_url.clone(), Some(&plan.body))
        .await?;
    let id = launched
        .get(plan.kind.launched_field())
        .or_else(|| launched.get("id"))
        .and_then(Value::as_u64)
        .ok_or_else(|| ControllerError::Response {
            url: launch_url.to_string(),
            reason: "no job id in the launch answer".into(),
        })?;
    let job_url = api.url(&format!("{}/{id}/", plan.kind.jobs()))?;
    tracing::info!(template = plan.name, job = id, url = %job_url, "controller job launched");
    if !plan.wait {
        return Ok(());
    }
    let timeout = plan.timeout.unwrap_or(controller.job_timeout);
    let waited = tokio::time::timeout(
        timeout,
        api.wait(plan, id, &job_url, controller.poll_interval),
    )
    .await;
    waited.unwrap_or_else(|_| {
        Err(ControllerError::JobTimeout {
            kind: plan.kind.noun(),
            name: plan.name.clone(),
            id,
            timeout,
            url: job_url.to_string(),
        })
    })
}

/// The controller's API: its root URL, a client and the request policy.
struct Api<'a> {
    root: Url,
    client: Client,
    controller: &'a ControllerSettings,
    timeout: Duration,
    retry: RetryPolicy,
}

impl<'a> Api<'a> {
    fn new(
        controller: &'a ControllerSettings,
        settings: &DispatchSettings,
        clients: &HttpClients,
    ) -> Result<Api<'a>, ControllerError> {
        Ok(Api {
            root: api_root(&controller.url)?,
            client: clients
                .get(controller.ca_file.as_deref())
                .map_err(ControllerError::Setup)?,
            controller,
            timeout: settings.timeout,
            retry: settings.retry,
        })
    }

    fn url(&self, path: &str) -> Result<Url, ControllerError> {
        self.root.join(path).map_err(|err| ControllerError::Url {
            url: self.controller.url.clone(),
            reason: err.to_string(),
        })
    }

    async fn template_id(&self, plan: &LaunchPlan) -> Result<u64, ControllerError> {
        let mut url = self.url(&format!("{}/", plan.kind.collection()))?;
        url.query_pairs_mut()
            .append_pair("name", &plan.name)
            .append_pair("organization__name", &plan.organization);
        let found = self.call(Method::GET, url, None).await?;
        found
            .pointer("/results/0/id")
            .and_then(Value::as_u64)
            .ok_or_else(|| ControllerError::NotFound {
                kind: plan.kind.noun(),
                name: plan.name.clone(),
                organization: plan.organization.clone(),
            })
    }

    async fn wait(
        &self,
        plan: &LaunchPlan,
        id: u64,
        url: &Url,
        poll: Duration,
    ) -> Result<(), ControllerError> {
        loop {
            let job = self.call(Method::GET, url.clone(), None).await?;
            match job.get("status").and_then(Value::as_str) {
                Some("successful") => return Ok(()),
                Some(status) if FAILED_STATUSES.contains(&status) => {
                    return Err(ControllerError::JobFailed {
                        kind: plan.kind.noun(),
                        name: plan.name.clone(),
                        id,
                        status: status.to_owned(),
                        url: url.to_string(),
                    });
                }
                _ => tokio::time::sleep(poll).await,
            }
        }
    }

    /// One API call with request-level retries; the answer must be JSON.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, ControllerError> {
        let target = url.to_string();
        let reply = with_retry(&self.retry, "controller request", || {
            let mut request = self.client.request(method.clone(), url.clone());
            request = http::authorize(request, &self.controller.credentials)
                .header("Accept", "application/json");
            if let Some(body) = body {
                request = request
                    .header("Content-Type", "application/json")
                    .body(body.to_string());
            }
            http::send(request, &method, &target, self.timeout, &[])
        })
        .await
        .map_err(ControllerError::Http)?;
        serde_json::from_str(&reply.body).map_err(|err| ControllerError::Response {
            url: target,
            reason: format!("not JSON: {err}"),
        })
    }
}

/// `https://host` means `https://host/api/v2/`; a URL that already names an API path is the root.
fn api_root(url: &str) -> Result<Url, ControllerError> {
    let invalid = |reason: String| ControllerError::Url {
        url: url.to_owned(),
        reason,
    };
    let mut root = Url::parse(url).map_err(|err| invalid(err.to_string()))?;
    if !matches!(root.scheme(), "http" | "https") {
        return Err(invalid("must be an http:// or https:// URL".into()));
    }
    if !root.path().ends_with('/') {
        let path = format!("{}/", root.path());
        root.set_path(&path);
    }
    if root.path().contains("/api/") {
        Ok(root)
    } else {
        root.join("api/v2/").map_err(|err| invalid(err.to_string()))
    }
}

impl TemplateKind {
    pub fn action(self) -> &'static str {
        match self {
            TemplateKind::Job => "run_job_template",
            TemplateKind::Workflow => "run_workflow_template",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            TemplateKind::Job => "job template",
            TemplateKind::Workflow => "workflow job template",
        }
    }

    fn collection(self) -> &'static str {
        match self {
            TemplateKind::Job => "job_templates",
            TemplateKind::Workflow => "workflow_job_templates",
        }
    }

    fn jobs(self) -> &'static str {
        match self {
            TemplateKind::Job => "jobs",
            TemplateKind::Workflow => "workflow_jobs",
        }
    }

    /// The launch answer's field holding the new job's id.
    fn launched_field(self) -> &'static str {
        match self {
            TemplateKind::Job => "job",
            TemplateKind::Workflow => "workflow_job",
        }
    }
}

impl Retryable for ControllerError {
    /// Only a job that ran and failed is worth relaunching; requests were already retried.
    fn is_transient(&self) -> bool {
        matches!(self, ControllerError::JobFailed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_defaults_to_api_v2_and_keeps_an_explicit_api_path() {
        let root = |url: &str| api_root(url).unwrap().to_string();
        assert_eq!(
            root("https://aap.example.com"),
            "https://aap.example.com/api/v2/"
        );
        assert_eq!(
            root("https://aap.example.com:8443/awx"),
            "https://aap.example.com:8443/awx/api/v2/"
        );
        assert_eq!(
            root("https://aap.example.com/api/controller/v2"),
            "https://aap.example.com/api/controller/v2/"
        );
        assert!(api_root("ftp://x").is_err());
    }
}
