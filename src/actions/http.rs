//! HTTP plumbing shared by `webhook` and the controller actions: one reqwest client per trusted CA
//! set (TLS verification always on; a CA file replaces the system's roots), credentials applied as
//! headers, and one request sent with its outcome classified for retry: connection errors,
//! timeouts, 429, 5xx and the caller's extra statuses are transient, `Retry-After` is read, other
//! statuses are final. Error messages never carry credentials, and webhook URLs, which often embed
//! a token, are shown as their origin only. It knows no action arguments.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::{Client, Method, RequestBuilder, StatusCode};

use super::context::Credentials;
use super::retry::Retryable;

/// Pause before giving up on a TCP/TLS handshake; the request timeout covers the rest.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of a response body kept for a failure reason.
const BODY_EXCERPT: usize = 512;
/// Bytes of a response body read at most: answers are small JSON documents, and a misbehaving
/// server must not fill the memory.
const MAX_BODY: usize = 1 << 20;

/// Why an HTTP request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("cannot read the CA file {}: {source}", path.display())]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CA file {} holds no usable PEM certificate: {reason}", path.display())]
    CaPem { path: PathBuf, reason: String },
    #[error("{method} {target} timed out after {timeout:?}")]
    Timeout {
        method: Method,
        target: String,
        timeout: Duration,
    },
    #[error("{method} {target} failed: {reason}")]
    Transport {
        method: Method,
        target: String,
        reason: String,
    },
    #[error("{method} {target} returned {status}{}", excerpt(body))]
    Status {
        method: Method,
        target: String,
        status: StatusCode,
        body: String,
        transient: bool,
        retry_after: Option<Duration>,
    },
}

/// A successful response, read to the end.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
}

/// Clients by CA file, built on first use and shared: each holds a connection pool.
#[derive(Debug, Default)]
pub struct HttpClients {
    clients: Mutex<HashMap<Option<PathBuf>, Client>>,
}

impl HttpClients {
    /// The client trusting the system's roots, or only the CAs in `ca_file`.
    pub fn get(&self, ca_file: Option<&Path>) -> Result<Client, HttpError> {
        let key = ca_file.map(Path::to_path_buf);
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = build_client(ca_file)?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

fn build_client(ca_file: Option<&Path>) -> Result<Client, HttpError> {
    let mut builder = Client::builder()
        .user_agent(concat!("semaphore/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        // A redirect would resend credentials and turn a POST into a GET: report it instead.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| HttpError::CaFile {
            path: path.to_owned(),
            source,
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| HttpError::CaPem {
                path: path.to_owned(),
                reason: err.to_string(),
            })?;
        if certs.is_empty() {
            return Err(HttpError::CaPem {
                path: path.to_owned(),
                reason: "no certificate found".into(),
            });
        }
        builder = builder.tls_certs_only(certs);
    }
    builder.build().map_err(HttpError::Client)
}

/// Adds the `Authorization` header; reqwest marks it sensitive, so it never shows in its output.
pub fn authorize(request: RequestBuilder, credentials: &Credentials) -> RequestBuilder {
    match credentials {
        Credentials::Bearer(token) => request.bearer_auth(token.expose()),
        Credentials::Basic { username, password } => {
            request.basic_auth(username, Some(password.expose()))
        }
    }
}

/// Sends one request. Success is a 2xx status; `retry_on` adds statuses worth another attempt.
pub async fn send(
    request: RequestBuilder,
    method: &Method,
    target: &str,
    timeout: Duration,
    retry_on: &[u16],
) -> Result<Reply, HttpError> {
    let response = request.timeout(timeout).send().await.map_err(|err| {
        if err.is_timeout() {
            HttpError::Timeout {
                method: method.clone(),
                target: target.to_owned(),
                timeout,
            }
        } else {
            HttpError::Transport {
                method: method.clone(),
                target: target.to_owned(),
                reason: describe(err),
            }
        }
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_body(response).await;
    if status.is_success() {
        return Ok(Reply { status, body });
    }
    let transient = status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || retry_on.contains(&status.as_u16());
    Err(HttpError::Status {
        method: method.clone(),
        target: target.to_owned(),
        status,
        body,
        transient,
        retry_after,
    })
}

/// The body as text, cut at [`MAX_BODY`]; a body that breaks off counts as what arrived.
async fn read_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_BODY {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

impl Retryable for HttpError {
    fn is_transient(&self) -> bool {
        match self {
            HttpError::Timeout { .. } | HttpError::Transport { .. } => true,
            HttpError::Status { transient, .. } => *transient,
            HttpError::Client(_) | HttpError::CaFile { .. } | HttpError::CaPem { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The error and its causes, without the URL reqwest would print.
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return String::new();
    }
    let mut end = body.len().min(BODY_EXCERPT);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let more = if end < body.len() { "…" } else { "" };
    format!(": {}{more}", &body[..end])
}
