//! The `webhook` action: one HTTP request built from the rendered arguments ([`WebhookPlan`]:
//! method, URL with query, headers, JSON or text body, credentials from environment variables,
//! CA file, timeout, retry policy, extra retryable statuses) or from a `preset` (see [`presets`]),
//! with the firing's idempotency key as the `Idempotency-Key` header, then sent with retries. The
//! plan is also what `rules test` shows, with secrets masked. Connections and classification of
//! failures live in [`http`].
//!
//! [`presets`]: super::presets
//! [`http`]: super::http

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, Url};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::args::{Args, ArgsError, arg};
use super::context::{Credentials, DispatchSettings, FiringInfo};
use super::http::{self, HttpClients, HttpError};
use super::presets;
use super::retry::{Exhausted, RetryPolicy, with_retry};
use crate::config::Secret;
use crate::rulebook::action::Preset;
use crate::rulebook::action::spec::WebhookFields;

/// The header carrying the firing's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// What `rules test` shows instead of a secret.
pub const MASK: &str = "********";

/// Why a webhook was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("environment variable `{name}` (named by `auth`) is not set")]
    MissingEnv { name: String },
    #[error(transparent)]
    Setup(HttpError),
    #[error(transparent)]
    Http(#[from] Exhausted<HttpError>),
}

/// The request of one webhook action, fully decided.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookPlan {
    pub method: Method,
    /// With `query` applied.
    pub url: Url,
    /// Everything but `Authorization`, which is only added when sending.
    pub headers: Vec<(String, String)>,
    pub auth: Option<Auth>,
    pub body: Option<Body>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Statuses retried besides 429 and 5xx.
    pub retry_on: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Text(String),
}

/// Where credentials come from: names of environment variables, read when sending.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    Bearer {
        token_env: String,
    },
    Basic {
        username_env: String,
        password_env: String,
    },
}

/// Decides the request from the rendered arguments.
pub fn plan(
    args: &Value,
    firing: &FiringInfo<'_>,
    settings: &DispatchSettings,
) -> Result<WebhookPlan, ArgsError> {
    let (args, spec): (Args, WebhookFields<Value>) = Args::parse("webhook", args)?;
    let preset = preset(&args, &spec)?;
    let url = args
        .text(arg!(spec.url))?
        .map(|text| Url::parse(&text).map_err(|err| args.invalid("url", err.to_string())))
        .transpose()?;
    let auth = auth(&args, &spec)?;
    let mut headers = args.text_map(arg!(spec.headers))?;
    let (mut url, body) = match preset {
        Some(preset) => {
            if preset.needs_auth() && auth.is_none() {
                return Err(args.invalid(
                    "auth",
                    format!("preset {} needs credentials", preset.name()),
                ));
            }
            let request = presets::build(preset, &args, &spec, url, firing)?;
            headers.extend(request.headers);
            (request.url, Some(Body::Json(request.body)))
        }
        None => (url.ok_or_else(|| args.missing("url"))?, body(&spec)),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(args.invalid("url", "must be an http:// or https:// URL"));
    }
    for (name, value) in args.text_map(arg!(spec.query))? {
        url.query_pairs_mut().append_pair(&name, &value);
    }
    add_default(&mut headers, "Content-Type", content_type(body.as_ref()));
    add_default(
        &mut headers,
        IDEMPOTENCY_HEADER,
        Some(firing.idempotency_key),
    );
    Ok(WebhookPlan {
        method: method(&args, &spec)?,
        url,
        headers,
        auth,
        body,
        ca_file: args.text(arg!(spec.ca_file))?.map(PathBuf::from),
        timeout: args
            .duration(arg!(spec.timeout))?
            .unwrap_or(settings.timeout),
        retry: settings.retry.with_spec(&args, spec.retry.as_ref())?,
        retry_on: retry_on(&args, &spec)?,
    })
}

/// Sends the request, retrying transient failures under the plan's policy.
pub async fn send(
    plan: &WebhookPlan,
    clients: &HttpClients,
    env: &BTreeMap<String, String>,
) -> Result<(), WebhookError> {
    let credentials = plan
        .auth
        .as_ref()
        .map(|auth| auth.resolve(env))
        .transpose()?;
    let client = clients
        .get(plan.ca_file.as_deref())
        .map_err(WebhookError::Setup)?;
    let target = crate::telemetry::redact::url_origin(&plan.url);
    let reply = with_retry(&plan.retry, "webhook", || {
        let request = request(&client, plan, credentials.as_ref());
        http::send(request, &plan.method, &target, plan.timeout, &plan.retry_on)
    })
    .await?;
    tracing::debug!(target = %target, status = %reply.status, "webhook delivered");
    Ok(())
}

/// The request as `rules test` shows it: credentials masked, secret-looking headers too.
pub fn preview(plan: &WebhookPlan) -> Value {
    let mut headers: Map<String, Value> = plan
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = if is_sensitive(name) {
                MASK
            } else {
                value.as_str()
            };
            (name.clone(), Value::String(shown.to_owned()))
        })
        .collect();
    if let Some(auth) = &plan.auth {
        headers.insert("Authorization".into(), Value::String(auth.masked()));
    }
    let body = match &plan.body {
        Some(Body::Json(value)) => value.clone(),
        Some(Body::Text(text)) => Value::String(text.clone()),
        None => Value::Null,
    };
    json!({
        "method": plan.method.as_str(),
        "url": plan.url.as_str(),
        "headers": headers,
        "body": body,
        "ca_file": plan.ca_file,
        "timeout_ms": plan.timeout.as_millis(),
        "attempts": plan.retry.attempts,
    })
}

impl Auth {
    fn resolve(&self, env: &BTreeMap<String, String>) -> Result<Credentials, WebhookError> {
        let read = |name: &str| {
            env.get(name)
                .filter(|value| !value.is_empty())
                .cloned()
                .ok_or_else(|| WebhookError::MissingEnv {
                    name: name.to_owned(),
                })
        };
        Ok(match self {
            Auth::Bearer { token_env } => Credentials::Bearer(Secret::new(read(token_env)?)),
            Auth::Basic {
                username_env,
                password_env,
            } => Credentials::Basic {
                username: read(username_env)?,
                password: Secret::new(read(password_env)?),
            },
        })
    }

    fn masked(&self) -> String {
        match self {
            Auth::Bearer { token_env } => format!("Bearer {MASK} (${token_env})"),
            Auth::Basic {
                username_env,
                password_env,
            } => format!("Basic {MASK} (${username_env}:${password_env})"),
        }
    }
}

fn request(
    client: &Client,
    plan: &WebhookPlan,
    credentials: Option<&Credentials>,
) -> RequestBuilder {
    let mut request = client.request(plan.method.clone(), plan.url.clone());
    for (name, value) in &plan.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(credentials) = credentials {
        request = http::authorize(request, credentials);
    }
    match &plan.body {
        Some(Body::Json(value)) => request.body(value.to_string()),
        Some(Body::Text(text)) => request.body(text.clone()),
        None => request,
    }
}

fn preset(args: &Args, spec: &WebhookFields<Value>) -> Result<Option<Preset>, ArgsError> {
    let Some(name) = args.text(arg!(spec.preset))? else {
        return Ok(None);
    };
    Preset::from_name(&name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
        args.invalid(
            "preset",
            format!("`{name}` is not one of {}", names.join(", ")),
        )
    })
}

fn method(args: &Args, spec: &WebhookFields<Value>) -> Result<Method, ArgsError> {
    let Some(name) = args.text(arg!(spec.method))? else {
        return Ok(Method::POST);
    };
    Method::from_bytes(name.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| args.invalid("method", format!("`{name}` is not an HTTP method")))
}

/// `auth` once rendered: `{bearer_env: NAME}` or `{basic: {username_env: U, password_env: P}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFields {
    bearer_env: Option<Value>,
    basic: Option<BasicFields>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicFields {
    username_env: Option<Value>,
    password_env: Option<Value>,
}

fn auth(args: &Args, spec: &WebhookFields<Value>) -> Result<Option<Auth>, ArgsError> {
    let shape = "expected {bearer_env: NAME} or {basic: {username_env: NAME, password_env: NAME}}";
    let Some(auth) = args
        .nested::<AuthFields>(arg!(spec.auth), shape)
        .map_err(|_| args.invalid("auth", shape))?
    else {
        return Ok(None);
    };
    match (args.text(arg!(auth.bearer_env))?, auth.basic) {
        (Some(token_env), None) => Ok(Some(Auth::Bearer { token_env })),
        (None, Some(basic)) => Ok(Some(Auth::Basic {
            username_env: args.required_text(arg!(basic.username_env))?,
            password_env: args.required_text(arg!(basic.password_env))?,
        })),
        _ => Err(args.invalid("auth", shape)),
    }
}

/// Mappings and lists are sent as JSON, text as text.
fn body(spec: &WebhookFields<Value>) -> Option<Body> {
    arg!(spec.body).value().map(|value| match value {
        Value::String(text) => Body::Text(text.clone()),
        other => Body::Json(other.clone()),
    })
}

fn content_type(body: Option<&Body>) -> Option<&'static str> {
    match body? {
        Body::Json(_) => Some("application/json"),
        Body::Text(_) => Some("text/plain; charset=utf-8"),
    }
}

/// Adds a header unless the action already set it (names compare case-insensitively).
fn add_default(headers: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    let present = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if let (false, Some(value)) = (present, value) {
        headers.push((name.to_owned(), value.to_owned()));
    }
}

fn retry_on(args: &Args, spec: &WebhookFields<Value>) -> Result<Vec<u16>, ArgsError> {
    let statuses = args.text_list(arg!(spec.retry_on))?.unwrap_or_default();
    statuses
        .iter()
        .map(|text| {
            text.trim()
                .parse::<u16>()
                .ok()
                .filter(|code| (100..=599).contains(code))
                .ok_or_else(|| args.invalid("retry_on", format!("`{text}` is not an HTTP status")))
        })
        .collect()
}

/// Header names whose values are credentials in practice.
fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "x-api-key" | "api-key" | "apikey"
    ) || ["token", "secret", "password"]
        .iter()
        .any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firing() -> FiringInfo<'static> {
        FiringInfo {
            ruleset: "rs",
            rule: "r",
            idempotency_key: "t/0/5/r",
            events: &[],
        }
    }

    #[test]
    fn preview_masks_credentials_and_secret_headers() {
        let args = json!({
            "url": "https://example.com/hook",
            "query": {"a": "b c"},
            "headers": {"X-Auth-Token": "abc", "X-Team": "noc"},
            "auth": {"bearer_env": "HOOK_TOKEN"},
            "body": {"text": "hi"},
        });
        let plan = plan(&args, &firing(), &DispatchSettings::default()).unwrap();
        let shown = preview(&plan);
        assert_eq!(shown["url"], "https://example.com/hook?a=b+c");
        assert_eq!(shown["headers"]["X-Auth-Token"], MASK);
        assert_eq!(shown["headers"]["X-Team"], "noc");
        assert_eq!(
            shown["headers"]["Authorization"],
            "Bearer ******** ($HOOK_TOKEN)"
        );
        assert_eq!(shown["headers"]["Idempotency-Key"], "t/0/5/r");
        assert_eq!(shown["headers"]["Content-Type"], "application/json");
    }

    #[test]
    fn bad_arguments_are_named() {
        let settings = DispatchSettings::default();
        let err = |args: Value| plan(&args, &firing(), &settings).unwrap_err().to_string();
        assert_eq!(
            err(json!({"url": "ftp://x"})),
            "`webhook` argument `url`: must be an http:// or https:// URL"
        );
        assert!(
            err(json!({"url": "http://x", "retry_on": [700]}))
                .contains("`700` is not an HTTP status")
        );
        assert!(
            err(json!({"preset": "webex", "room_id": "r", "text": "t"}))
                .contains("preset webex needs credentials")
        );
        assert!(
            err(json!({"url": "http://x", "auth": {"bearer": "X"}}))
                .contains("expected {bearer_env")
        );
    }
}
