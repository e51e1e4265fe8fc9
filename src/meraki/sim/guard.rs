//! What the simulator checks before it answers: the API key (Bearer or the legacy
//! `X-Cisco-Meraki-API-Key`; 401 `Missing API key` / `Invalid API key`), the per-organization
//! token bucket (10 requests/s with a burst of 20 by default; 429 with `Retry-After` in whole
//! seconds), and the injected faults, chosen by request number so that a test run is repeatable:
//! 5xx with an HTML body, the front end's 429 without `Retry-After`, and slow answers.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};

/// Faults to inject: every N-th request (counted over the whole server) gets one.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// A 500, 502 or 503 (in turn) with an HTML body.
    pub server_error_every: Option<u64>,
    /// A 429 without `Retry-After`, with nginx's HTML body.
    pub bare_429_every: Option<u64>,
    /// An answer delayed by `slow_for`.
    pub slow_every: Option<u64>,
    pub slow_for: Duration,
}

/// An injected fault.
pub enum Fault {
    ServerError(StatusCode),
    Bare429,
    Slow(Duration),
}

impl Faults {
    /// The fault for request number `n` (from 1), if any; errors win over slowness.
    pub fn pick(&self, n: u64) -> Option<Fault> {
        let hits =
            |every: Option<u64>| every.is_some_and(|every| every > 0 && n.is_multiple_of(every));
        if hits(self.server_error_every) {
            let statuses = [
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::BAD_GATEWAY,
                StatusCode::SERVICE_UNAVAILABLE,
            ];
            let turn = n / self.server_error_every.unwrap_or(1);
            return Some(Fault::ServerError(statuses[(turn % 3) as usize]));
        }
        if hits(self.bare_429_every) {
            return Some(Fault::Bare429);
        }
        hits(self.slow_every).then_some(Fault::Slow(self.slow_for))
    }
}

/// Checks the key; the error is the API's message.
pub fn authorize(headers: &HeaderMap, accepted: &str) -> Result<(), &'static str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let legacy = headers
        .get("x-cisco-meraki-api-key")
        .and_then(|value| value.to_str().ok());
    match bearer.or(legacy) {
        None => Err("Missing API key"),
        Some(key) if constant_time_eq(key.trim().as_bytes(), accepted.as_bytes()) => Ok(()),
        Some(_) => Err("Invalid API key"),
    }
}

/// So that a timing probe cannot guess the demo key byte by byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One token bucket per organization.
pub struct Buckets {
    rate: f64,
    burst: f64,
    orgs: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Buckets {
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            orgs: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `org`, or says how long until one is there (whole seconds, at least 1).
    pub fn take(&self, org: &str) -> Result<(), u64> {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let bucket = orgs.entry(org.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.rate;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_the_burst_then_asks_to_retry() {
        let buckets = Buckets::new(10, 20);
        for _ in 0..20 {
            assert_eq!(buckets.take("1"), Ok(()));
        }
        assert_eq!(buckets.take("1"), Err(1));
        assert_eq!(buckets.take("2"), Ok(()), "each org has its own bucket");
    }

    #[test]
    fn keys_are_checked_in_both_header_forms() {
        let mut headers = HeaderMap::new();
        assert_eq!(authorize(&headers, "k"), Err("Missing API key"));
        headers.insert(AUTHORIZATION, "Bearer nope".parse().expect("valid"));
        assert_eq!(authorize(&headers, "k"), Err("Invalid API key"));
        headers.insert(AUTHORIZATION, "Bearer k".parse().expect("valid"));
        assert_eq!(authorize(&headers, "k"), Ok(()));
        let mut legacy = HeaderMap::new();
        legacy.insert("x-cisco-meraki-api-key", "k".parse().expect("valid"));
        assert_eq!(authorize(&legacy, "k"), Ok(()));
    }

    #[test]
    fn faults_fall_on_fixed_request_numbers() {
        let faults = Faults {
            server_error_every: Some(3),
            bare_429_every: Some(5),
            ..Faults::default()
        };
        let picked: Vec<u64> = (1..=15).filter(|n| faults.pick(*n).is_some()).collect();
        assert_eq!(picked, [3, 5, 6, 9, 10, 12, 15]);
    }
}
