//! Retry policy of actions: a number of attempts with exponential backoff, jitter and a cap
//! ([`RetryPolicy`]), read from an action's `retry: {attempts, backoff, max_backoff}` or from
//! ansible-rulebook's `retry`/`retries`/`delay`, and [`with_retry`], which runs an attempt until it
//! succeeds, fails permanently, or the attempts are used up. Whether a failure is worth another
//! attempt is the failing module's call ([`Retryable`]); a server's `Retry-After` wins over the
//! computed backoff, within the cap.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};

use serde_json::Value;

use super::args::{Arg, Args, ArgsError, arg};
use crate::rulebook::action::spec::RetrySpec;

/// How often and how patiently an action is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, at least 1.
    pub attempts: u32,
    /// Pause before the second attempt; it doubles for each further one, plus up to as much again
    /// of random jitter so that many failing firings do not retry in lockstep.
    pub backoff: Duration,
    /// Upper bound of any pause, including one asked for by `Retry-After`.
    pub max_backoff: Duration,
}

/// A failure that knows whether another attempt could succeed.
pub trait Retryable {
    fn is_transient(&self) -> bool;
    /// How long the other side asked us to wait (HTTP `Retry-After`).
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// The last failure of an action, with the number of attempts it took.
#[derive(Debug)]
pub struct Exhausted<E> {
    pub error: E,
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A single attempt: ansible-rulebook's default for playbooks and controller jobs.
    pub fn once(self) -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            ..self
        }
    }

    /// Applies `retry: {attempts, backoff, max_backoff}` over `self`.
    pub fn with_spec(
        self,
        args: &Args,
        retry: Option<&RetrySpec<Value>>,
    ) -> Result<RetryPolicy, ArgsError> {
        let Some(retry) = retry else {
            return Ok(self);
        };
        let attempts = match args.count(arg!(retry.attempts))? {
            Some(0) => return Err(args.invalid("retry.attempts", "must be at least 1")),
            Some(n) => u32::try_from(n).map_err(|_| args.invalid("retry.attempts", "too large"))?,
            None => self.attempts,
        };
        let policy = RetryPolicy {
            attempts,
            backoff: args.duration(arg!(retry.backoff))?.unwrap_or(self.backoff),
            max_backoff: args
                .duration(arg!(retry.max_backoff))?
                .unwrap_or(self.max_backoff),
        };
        Ok(policy.capped())
    }

    /// ansible-rulebook's keys for playbooks and jobs, over a single attempt: `retries: N` (N more
    /// attempts), `retry: true` (one more), `delay` (the backoff); `retry` may also be the
    /// `{attempts, backoff, max_backoff}` mapping.
    pub fn with_ansible(
        self,
        args: &Args,
        retry: Arg<'_>,
        retries: Arg<'_>,
        delay: Arg<'_>,
    ) -> Result<RetryPolicy, ArgsError> {
        let mut policy = self.once();
        if let Some(Value::Object(_)) = retry.value() {
            let shape = "expected a mapping {attempts, backoff, max_backoff}";
            let spec: Option<RetrySpec<Value>> = args.nested(retry, shape)?;
            policy = policy.with_spec(args, spec.as_ref())?;
        } else if args.flag(retry)? == Some(true) {
            policy.attempts = 2;
        }
        if let Some(count) = args.count(retries)? {
            let count =
                u32::try_from(count).map_err(|_| args.invalid(retries.key(), "too large"))?;
            policy.attempts = count.saturating_add(1);
        }
        if let Some(delay) = args.duration(delay)? {
            policy.backoff = delay;
        }
        Ok(policy.capped())
    }

    /// A backoff above the cap would be cut to the cap anyway; keep the two consistent.
    fn capped(self) -> RetryPolicy {
        RetryPolicy {
            max_backoff: self.max_backoff.max(self.backoff),
            ..self
        }
    }

    fn backoff_builder(&self) -> ExponentialBuilder {
        let retries = usize::try_from(self.attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        ExponentialBuilder::new()
            .with_min_delay(self.backoff)
            .with_max_delay(self.max_backoff)
            .with_max_times(retries)
            .with_jitter()
    }
}

tokio::task_local! {
    /// Retries made inside [`counting_retries`], so that the dispatcher can tell "ok" from "ok
    /// after retries" without every action module reporting its attempts.
    static RETRIES: Cell<u32>;
}

/// Runs `work` and returns its output with the number of retries [`with_retry`] made inside it.
pub async fn counting_retries<F: Future>(work: F) -> (F::Output, u32) {
    RETRIES
        .scope(Cell::new(0), async {
            let output = work.await;
            (output, RETRIES.with(Cell::get))
        })
        .await
}

/// Runs `attempt` under `policy`; `what` names the action in the retry log lines and metrics.
pub async fn with_retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    mut attempt: F,
) -> Result<T, Exhausted<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Retryable + fmt::Display,
{
    let mut attempts = 0_u32;
    let max_backoff = policy.max_backoff;
    let counted = || {
        attempts += 1;
        attempt()
    };
    let result = counted
        .retry(policy.backoff_builder())
        .sleep(tokio::time::sleep)
        .when(Retryable::is_transient)
        .adjust(|error, next| next.map(|pause| error.retry_after().unwrap_or(pause).min(max_backoff)))
        .notify(|error, pause| {
            tracing::warn!(action = what, %error, retry_in_ms = pause.as_millis(), "attempt failed; retrying");
            metrics::counter!(crate::telemetry::metrics::ACTION_RETRIES, "action" => what.to_owned()).increment(1);
            // Outside `counting_retries` (a direct call) there is nobody to tell.
            let _ = RETRIES.try_with(|retries| retries.set(retries.get() + 1));
        })
        .await;
    result.map_err(|error| Exhausted { error, attempts })
}

impl<E: fmt::Display> fmt::Display for Exhausted<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.attempts {
            0 | 1 => write!(f, "{}", self.error),
            n => write!(f, "{} (gave up after {n} attempts)", self.error),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Exhausted<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug)]
    struct Failure {
        transient: bool,
    }

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("boom")
        }
    }

    impl Retryable for Failure {
        fn is_transient(&self) -> bool {
            self.transient
        }
    }

    fn fast(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        }
    }

    #[tokio::test]
    async fn transient_failures_use_every_attempt_and_say_so() {
        let mut calls = 0;
        let result: Result<(), _> = with_retry(&fast(3), "test", || {
            calls += 1;
            async { Err(Failure { transient: true }) }
        })
        .await;
        let err = result.unwrap_err();
        assert_eq!((calls, err.attempts), (3, 3));
        assert_eq!(err.to_string(), "boom (gave up after 3 attempts)");
    }

    #[tokio::test]
    async fn retries_are_counted_for_the_caller() {
        let mut calls = 0;
        let (result, retries) = counting_retries(with_retry(&fast(3), "test", || {
            calls += 1;
            let transient = calls < 3;
            async move {
                if transient {
                    Err(Failure { transient })
                } else {
                    Ok(())
                }
            }
        }))
        .await;
        assert!(result.is_ok());
        assert_eq!(retries, 2);
        let (_, none) = counting_retries(async {}).await;
        assert_eq!(none, 0);
    }

    #[tokio::test]
    async fn a_permanent_failure_stops_at_once() {
        let mut calls = 0;
        let result: Result<(), _> = with_retry(&fast(5), "test", || {
            calls += 1;
            async { Err(Failure { transient: false }) }
        })
        .await;
        assert_eq!(calls, 1);
        assert_eq!(result.unwrap_err().to_string(), "boom");
    }

    #[test]
    fn retry_mapping_overrides_the_defaults() {
        let policy = |retry: serde_json::Value| {
            let (args, spec): (_, crate::rulebook::action::spec::CommandSpec<Value>) =
                Args::parse("command", &json!({"argv": ["true"], "retry": retry})).unwrap();
            RetryPolicy::default().with_spec(&args, spec.retry.as_ref())
        };
        let policy_5 = policy(json!({"attempts": 5, "backoff": "200 ms"})).unwrap();
        assert_eq!(policy_5.attempts, 5);
        assert_eq!(policy_5.backoff, Duration::from_millis(200));
        assert_eq!(policy_5.max_backoff, Duration::from_secs(30));
        assert!(policy(json!({"attempts": 0})).is_err());
    }

    #[test]
    fn ansible_keys_count_retries_after_the_first_attempt() {
        let policy = |mut value: serde_json::Value| {
            value["name"] = json!("site.yml");
            let (args, spec): (_, crate::rulebook::action::spec::RunPlaybookSpec<Value>) =
                Args::parse("run_playbook", &value).unwrap();
            let (retry, retries, delay) = (arg!(spec.retry), arg!(spec.retries), arg!(spec.delay));
            RetryPolicy::default()
                .with_ansible(&args, retry, retries, delay)
                .unwrap()
        };
        assert_eq!(policy(json!({})).attempts, 1);
        assert_eq!(policy(json!({"retry": true})).attempts, 2);
        let explicit = policy(json!({"retries": 3, "delay": 10}));
        assert_eq!(explicit.attempts, 4);
        assert_eq!(explicit.backoff, Duration::from_secs(10));
        assert_eq!(explicit.max_backoff, Duration::from_secs(30));
    }
}
