//! What to do with one answer: done, fail, or try again after how long. A 429 with `Retry-After`
//! waits what the API says (capped) on its own budget, since the API told us when to come back; a
//! 429 without it, a 5xx, a transport error or a 2xx that is not JSON back off exponentially with
//! jitter (`backon`) on the error budget; any other 4xx fails at once. It sends nothing itself.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::{ApiError, Reply};

/// How much of a non-JSON error body goes into a message, as the SDK does.
const ERROR_TEXT_BYTES: usize = 100;

/// How often and how long to retry.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in total for a request failing with 5xx, transport errors or a bare 429.
    pub max_attempts: u32,
    /// 429s with `Retry-After` one request may receive before giving up.
    pub max_rate_limited: u32,
    /// Longest `Retry-After` honoured; longer values are cut to this.
    pub max_retry_after: Duration,
    /// First backoff delay; it doubles per attempt, plus jitter.
    pub min_backoff: Duration,
    /// Longest backoff delay.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Meraki's current SDK: 5 attempts, waits capped at 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_rate_limited: 20,
            max_retry_after: Duration::from_secs(60),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// The decision about one answer.
pub(super) enum Verdict {
    Done(Vec<u8>, HeaderMap),
    Fail(ApiError),
    RateLimited {
        retry_after: Option<Duration>,
        last: String,
    },
    Retry(String),
}

/// The retry budget of one request.
pub(super) struct Attempts {
    policy: RetryPolicy,
    errors: u32,
    rate_limited: u32,
    backoff: ExponentialBackoff,
}

impl Attempts {
    pub(super) fn new(policy: &RetryPolicy) -> Self {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.min_backoff)
            .with_max_delay(policy.max_backoff)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
            .build();
        Self {
            policy: policy.clone(),
            errors: 1,
            rate_limited: 0,
            backoff,
        }
    }

    /// The wait before the next attempt after a retryable error, or the final error.
    pub(super) fn after_error(&mut self, path: &str, last: String) -> Result<Duration, ApiError> {
        match self.backoff.next() {
            Some(wait) => {
                self.errors += 1;
                Ok(wait)
            }
            None => Err(ApiError::RetriesExhausted {
                path: path.to_owned(),
                attempts: self.errors + self.rate_limited,
                last,
            }),
        }
    }

    /// The wait after a 429: `Retry-After` (capped) on its own budget, else the error backoff.
    pub(super) fn after_rate_limit(
        &mut self,
        retry_after: Option<Duration>,
        path: &str,
        last: String,
    ) -> Result<Duration, ApiError> {
        let Some(retry_after) = retry_after else {
            return self.after_error(path, last);
        };
        self.rate_limited += 1;
        if self.rate_limited > self.policy.max_rate_limited {
            return Err(ApiError::RetriesExhausted {
                path: path.to_owned(),
                attempts: self.errors + self.rate_limited,
                last,
            });
        }
        Ok(retry_after.min(self.policy.max_retry_after))
    }
}

/// Sorts one attempt's outcome into a [`Verdict`].
pub(super) fn classify(path: &str, outcome: Result<Reply, reqwest::Error>) -> Verdict {
    let reply = match outcome {
        Ok(reply) => reply,
        Err(err) => return Verdict::Retry(transport_text(&err)),
    };
    let status = reply.status;
    if status.is_success() {
        // The SDK retries a 2xx whose body is not JSON: a proxy's page, a cut-off body.
        return match serde_json::from_slice::<serde::de::IgnoredAny>(&reply.body) {
            Ok(_) => Verdict::Done(reply.body, reply.headers),
            Err(err) => Verdict::Retry(format!("{status} with a body that is not JSON: {err}")),
        };
    }
    let message = error_message(&reply.body);
    let last = format!("{status}: {message}");
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Verdict::RateLimited {
            retry_after: retry_after(&reply.headers),
            last,
        };
    }
    if status.is_server_error() {
        return Verdict::Retry(last);
    }
    Verdict::Fail(final_error(path, status, message))
}

fn final_error(path: &str, status: StatusCode, message: String) -> ApiError {
    // Old API versions answered a bad key with 404 so as not to reveal what exists; the list of
    // organizations exists for every key, so a 404 there can only mean the key.
    let auth = status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::NOT_FOUND && path.ends_with("/organizations"));
    if auth {
        ApiError::Unauthorized {
            path: path.to_owned(),
            status: status.as_u16(),
            message,
        }
    } else {
        ApiError::Status {
            path: path.to_owned(),
            status: status.as_u16(),
            message,
        }
    }
}

/// `Retry-After` in whole seconds, as Meraki sends it; an HTTP date is treated as absent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    let seconds: f64 = text.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

fn transport_text(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    format!("{kind}: {err}")
}

/// The API's own error text: the `errors` list of a JSON body, else the start of the text.
pub(super) fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<String>,
    }
    if let Ok(parsed) = serde_json::from_slice::<Errors>(body) {
        return parsed.errors.join("; ");
    }
    let head = &body[..body.len().min(ERROR_TEXT_BYTES)];
    String::from_utf8_lossy(head)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("valid header"));
        }
        Reply {
            status: StatusCode::from_u16(status).expect("valid status"),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_message_reads_the_errors_list_or_the_text_head() {
        assert_eq!(
            error_message(br#"{"errors":["Invalid API key","x"]}"#),
            "Invalid API key; x"
        );
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>".repeat(5);
        let text = error_message(html.as_bytes());
        assert!(text.starts_with("<html>"), "{text}");
        assert!(text.len() <= ERROR_TEXT_BYTES, "{text}");
    }

    #[test]
    fn statuses_sort_into_verdicts() {
        let path = "/api/v1/networks/N_1/clients";
        assert!(matches!(
            classify(path, Ok(reply(200, &[], "[]"))),
            Verdict::Done(..)
        ));
        assert!(matches!(
            classify(path, Ok(reply(200, &[], "<html>"))),
            Verdict::Retry(_)
        ));
        assert!(matches!(
            classify(path, Ok(reply(502, &[], "<html>"))),
            Verdict::Retry(_)
        ));
        assert!(matches!(
            classify(path, Ok(reply(429, &[("retry-after", "3")], "{}"))),
            Verdict::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(3)
        ));
        assert!(matches!(
            classify(path, Ok(reply(429, &[], "<html>"))),
            Verdict::RateLimited {
                retry_after: None,
                ..
            }
        ));
        assert!(matches!(
            classify(path, Ok(reply(400, &[], r#"{"errors":["bad"]}"#))),
            Verdict::Fail(ApiError::Status { status: 400, .. })
        ));
        assert!(matches!(
            classify(path, Ok(reply(401, &[], "{}"))),
            Verdict::Fail(ApiError::Unauthorized { .. })
        ));
    }

    #[test]
    fn a_404_on_the_organization_list_means_a_bad_key() {
        let verdict = classify("/api/v1/organizations", Ok(reply(404, &[], "{}")));
        assert!(matches!(
            verdict,
            Verdict::Fail(ApiError::Unauthorized { .. })
        ));
        let verdict = classify(
            "/api/v1/organizations/1/networks",
            Ok(reply(404, &[], "{}")),
        );
        assert!(matches!(verdict, Verdict::Fail(ApiError::Status { .. })));
    }

    #[test]
    fn error_budget_runs_out_after_max_attempts() {
        let policy = RetryPolicy {
            max_attempts: 3,
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..RetryPolicy::default()
        };
        let mut attempts = Attempts::new(&policy);
        for _ in 0..2 {
            let wait = attempts.after_error("/p", "500".into()).expect("retry");
            assert!(wait <= Duration::from_millis(80), "{wait:?}");
        }
        let err = attempts.after_error("/p", "500".into()).expect_err("spent");
        assert!(err.to_string().contains("after 3 attempts"), "{err}");
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy {
            max_retry_after: Duration::from_secs(5),
            max_rate_limited: 2,
            ..RetryPolicy::default()
        };
        let mut attempts = Attempts::new(&policy);
        let wait = attempts.after_rate_limit(Some(Duration::from_secs(2)), "/p", String::new());
        assert_eq!(wait.expect("waits"), Duration::from_secs(2));
        let wait = attempts.after_rate_limit(Some(Duration::from_secs(600)), "/p", String::new());
        assert_eq!(wait.expect("capped"), Duration::from_secs(5));
        assert!(
            attempts
                .after_rate_limit(Some(Duration::from_secs(1)), "/p", String::new())
                .is_err()
        );
    }
}
