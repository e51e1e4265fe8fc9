//! Per-organization request budgets, spent before a request is sent: one `governor` limiter per
//! organization, shared by every task working on it, at an even pace (no burst) so that no
//! one-second window holds more than the configured rate. A 429 with `Retry-After` pauses the whole
//! organization, since Meraki's budget is per organization, not per task. Calls outside any
//! organization (`/organizations`) share one limiter of their own. It decides no retries.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The limiters, created on first use; one small entry per organization seen.
pub(super) struct OrgLimits {
    quota: Quota,
    orgs: Mutex<HashMap<String, Arc<OrgLimiter>>>,
}

/// The budget of one organization.
pub(super) struct OrgLimiter {
    bucket: DefaultDirectRateLimiter,
    resume_at: Mutex<Option<Instant>>,
}

impl OrgLimits {
    pub(super) fn new(per_second: NonZeroU32) -> Self {
        Self {
            quota: Quota::per_second(per_second).allow_burst(NonZeroU32::MIN),
            orgs: Mutex::new(HashMap::new()),
        }
    }

    /// The limiter of `org`; `None` is the shared one for calls outside any organization.
    pub(super) fn for_org(&self, org: Option<&str>) -> Arc<OrgLimiter> {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = orgs.entry(org.unwrap_or_default().to_owned());
        Arc::clone(entry.or_insert_with(|| {
            Arc::new(OrgLimiter {
                bucket: RateLimiter::direct(self.quota),
                resume_at: Mutex::new(None),
            })
        }))
    }
}

impl OrgLimiter {
    /// Waits out any pause, then for the next slot of the budget.
    pub(super) async fn acquire(&self) {
        while let Some(resume_at) = self.paused_until() {
            tokio::time::sleep_until(resume_at).await;
        }
        self.bucket.until_ready().await;
    }

    /// Holds every request of this organization back for `wait`.
    pub(super) fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut resume_at = self
            .resume_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if resume_at.is_none_or(|current| current < until) {
            *resume_at = Some(until);
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        let resume_at = *self
            .resume_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        resume_at.filter(|at| *at > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_org_is_paced_evenly_and_others_are_independent() {
        let limits = OrgLimits::new(NonZeroU32::new(10).expect("non-zero"));
        let started = std::time::Instant::now();
        let org = limits.for_org(Some("1"));
        for _ in 0..6 {
            org.acquire().await;
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(450),
            "6 slots at 10/s: {elapsed:?}"
        );
        let other = std::time::Instant::now();
        limits.for_org(Some("2")).acquire().await;
        assert!(
            other.elapsed() < Duration::from_millis(50),
            "another org has its own budget"
        );
    }

    #[tokio::test]
    async fn a_pause_holds_back_every_task_of_the_org() {
        let limits = OrgLimits::new(NonZeroU32::new(10).expect("non-zero"));
        limits.for_org(Some("1")).pause(Duration::from_millis(300));
        let started = std::time::Instant::now();
        limits.for_org(Some("1")).acquire().await;
        assert!(started.elapsed() >= Duration::from_millis(290));
    }
}
