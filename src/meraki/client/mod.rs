//! The Meraki Dashboard API client: one GET at a time, each sent only after the organization's rate
//! limiter allows it ([`limit`]), retried as the API asks ([`retry`]), with `3xx` redirects and
//! `Link` pages followed only to Meraki hosts ([`link`]) so that the API key never reaches anyone
//! else. It decodes JSON bodies but knows nothing of what they mean (that is `model` and the
//! pollers), and it never logs or shows the key.

mod api_metrics;
mod limit;
mod link;
mod pages;
mod retry;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LOCATION, USER_AGENT};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::config::Secret;
use limit::OrgLimits;
use link::HostPolicy;
pub use pages::Pages;
use pages::decode;
pub use retry::RetryPolicy;

/// Meraki's global API host; regional ones are accepted through `--base-url`.
pub const DEFAULT_BASE_URL: &str = "https://api.meraki.com/api/v1";
/// Where the key comes from, as in Meraki's own SDK and the original publishers.
pub const API_KEY_ENV: &str = "MERAKI_DASHBOARD_API_KEY";
/// The original publishers' hint, kept word for word because operators know it.
pub const MISSING_KEY_HINT: &str =
    r#"please create and specify the API key, e.g. "export MERAKI_DASHBOARD_API_KEY=12345""#;
/// Meraki's budget per organization; the client never sends faster.
pub const MAX_REQUESTS_PER_SECOND: u32 = 10;
/// Meraki asks for `ApplicationName/Version VendorName`.
const USER_AGENT_VALUE: &str = concat!("Semaphore/", env!("CARGO_PKG_VERSION"), " Semaphore");
/// Hops of one request; the legacy shard redirect needs one.
const MAX_REDIRECTS: usize = 5;
/// Connecting is quick or broken; the whole request has its own, longer timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong talking to the API. Messages name the path (never the key) and the API's own
/// error text.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no Meraki API key: {MISSING_KEY_HINT}")]
    MissingKey,
    #[error(
        "the Meraki API rejected the API key ({status} on {path}: {message}); check {API_KEY_ENV}"
    )]
    Unauthorized {
        path: String,
        status: u16,
        message: String,
    },
    #[error("Meraki API {path} answered {status}: {message}")]
    Status {
        path: String,
        status: u16,
        message: String,
    },
    #[error("Meraki API {path} still failing after {attempts} attempts: {last}")]
    RetriesExhausted {
        path: String,
        attempts: u32,
        last: String,
    },
    #[error("refusing to follow a {what} from {path} to {target}: {reason}")]
    Refused {
        what: &'static str,
        path: String,
        target: String,
        reason: &'static str,
    },
    #[error("more than {MAX_REDIRECTS} redirects from {path}")]
    TooManyRedirects { path: String },
    #[error("Meraki API {path} sent a body that is not the expected JSON: {source}")]
    Decode {
        path: String,
        source: serde_json::Error,
    },
    #[error("invalid Meraki API URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(reqwest::Error),
}

impl ApiError {
    /// The HTTP status the API answered with, when the error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Errors that make every further call pointless (a bad key), as opposed to one failing call.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::MissingKey)
    }
}

/// How to reach the API and how hard to try.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// E.g. `https://api.meraki.com/api/v1`.
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// Per organization, at most [`MAX_REQUESTS_PER_SECOND`].
    pub requests_per_second: NonZeroU32,
    /// The whole request, body included.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Hosts besides Meraki's (and the base URL's) that redirects and page links may go to.
    pub extra_hosts: Vec<String>,
}

/// Counters of what the client did; read them before and after a cycle for that cycle's numbers.
#[derive(Debug, Default)]
pub struct ApiStats {
    /// Every HTTP request sent, retries and redirect hops included.
    pub calls: AtomicU64,
    /// 429 answers, with or without `Retry-After`.
    pub rate_limited: AtomicU64,
    /// Requests sent again after a 429, 5xx or transport error.
    pub retries: AtomicU64,
}

/// A cheap, cloneable handle; clones share the rate limiters and counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: HeaderValue,
    hosts: HostPolicy,
    limits: OrgLimits,
    retry: RetryPolicy,
    stats: ApiStats,
}

/// One HTTP answer, read to the end.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Client {
    /// Validates the settings; fails without a key, with the original publishers' hint.
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let key = config
            .api_key
            .filter(|key| !key.is_empty())
            .ok_or(ApiError::MissingKey)?;
        let base = base_url(&config.base_url)?;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                ApiError::BadUrl {
                    url: API_KEY_ENV.to_owned(),
                    reason: "the API key contains characters an HTTP header cannot carry"
                        .to_owned(),
                }
            })?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(config.request_timeout)
            .build()
            .map_err(ApiError::Setup)?;
        let hosts = HostPolicy::new(&base, &config.extra_hosts);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                hosts,
                limits: OrgLimits::new(config.requests_per_second),
                retry: config.retry,
                stats: ApiStats::default(),
            }),
        })
    }

    pub fn stats(&self) -> &ApiStats {
        &self.inner.stats
    }

    /// GETs `path` (relative to the base URL) with `query`, decoded as `T`. `org` names the
    /// organization whose budget the call spends; `None` for calls outside any organization.
    pub async fn get<T: DeserializeOwned>(
        &self,
        org: Option<&str>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let url = self.url(path, query)?;
        let (body, _) = self.fetch(org, url).await?;
        decode(path, &body)
    }

    /// The pages of a paginated GET, each fetched when asked for.
    pub fn pages<T: DeserializeOwned>(
        &self,
        org: Option<&str>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Pages<T>, ApiError> {
        Ok(Pages::new(self.clone(), org, path, self.url(path, query)?))
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, ApiError> {
        let mut url = self
            .inner
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|err| ApiError::BadUrl {
                url: path.to_owned(),
                reason: err.to_string(),
            })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    /// Sends until success or a final failure; returns the body and the `Link` header.
    async fn fetch(
        &self,
        org: Option<&str>,
        url: Url,
    ) -> Result<(Vec<u8>, Option<String>), ApiError> {
        let limiter = self.inner.limits.for_org(org);
        let path = url.path().to_owned();
        let mut attempts = retry::Attempts::new(&self.inner.retry);
        let endpoint = api_metrics::endpoint(&self.inner.base, &url);
        loop {
            limiter.acquire().await;
            let outcome = self.send_following_redirects(&url).await?;
            api_metrics::record_call(&endpoint, &outcome);
            match retry::classify(&path, outcome) {
                retry::Verdict::Done(body, headers) => {
                    return Ok((body, link::header(&headers)));
                }
                retry::Verdict::Fail(err) => return Err(err),
                retry::Verdict::RateLimited { retry_after, last } => {
                    self.inner
                        .stats
                        .rate_limited
                        .fetch_add(1, Ordering::Relaxed);
                    api_metrics::record_rate_limited(&endpoint);
                    let wait = attempts.after_rate_limit(retry_after, &path, last)?;
                    if retry_after.is_some() {
                        limiter.pause(wait);
                    }
                    tracing::debug!(path, wait_ms = wait.as_millis() as u64, "429: waiting");
                    tokio::time::sleep(wait).await;
                }
                retry::Verdict::Retry(last) => {
                    let wait = attempts.after_error(&path, last)?;
                    tracing::debug!(path, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
            self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One attempt: the request and any redirect hops, each hop re-sending the key, but only to
    /// hosts the policy allows. The inner error is a transport failure, which may be retried.
    async fn send_following_redirects(
        &self,
        url: &Url,
    ) -> Result<Result<Reply, reqwest::Error>, ApiError> {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let reply = match self.send_once(&current).await {
                Ok(reply) => reply,
                Err(err) => return Ok(Err(err)),
            };
            let location = reply
                .status
                .is_redirection()
                .then(|| reply.headers.get(LOCATION))
                .flatten()
                .and_then(|value| value.to_str().ok());
            let Some(location) = location else {
                return Ok(Ok(reply));
            };
            current = self.inner.hosts.follow("redirect", &current, location)?;
            tracing::debug!(to = %current, "following a redirect");
        }
        Err(ApiError::TooManyRedirects {
            path: url.path().to_owned(),
        })
    }

    async fn send_once(&self, url: &Url) -> Result<Reply, reqwest::Error> {
        self.inner.stats.calls.fetch_add(1, Ordering::Relaxed);
        let response = self
            .inner
            .http
            .get(url.clone())
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, USER_AGENT_VALUE)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// The base URL with a trailing slash, so that `join("organizations")` keeps `/api/v1`.
fn base_url(text: &str) -> Result<Url, ApiError> {
    let with_slash = format!("{}/", text.trim_end_matches('/'));
    let url = Url::parse(&with_slash).map_err(|err| ApiError::BadUrl {
        url: text.to_owned(),
        reason: err.to_string(),
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ApiError::BadUrl {
            url: text.to_owned(),
            reason: "expected http(s)://host/path".to_owned(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_keeps_the_api_prefix() {
        let base = base_url("https://api.meraki.com/api/v1").expect("valid");
        assert_eq!(
            base.join("organizations").expect("joins").as_str(),
            "https://api.meraki.com/api/v1/organizations"
        );
        assert!(base_url("ftp://x/api").is_err());
    }

    #[test]
    fn missing_key_error_carries_the_original_hint() {
        let config = ClientConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            requests_per_second: NonZeroU32::MIN,
            request_timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            extra_hosts: Vec::new(),
        };
        let err = Client::new(config).err().expect("no key");
        assert_eq!(
            err.to_string(),
            r#"no Meraki API key: please create and specify the API key, e.g. "export MERAKI_DASHBOARD_API_KEY=12345""#
        );
    }
}
