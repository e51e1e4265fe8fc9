//! A local Meraki Dashboard API (v1, GET only) for demos, tests and benchmarks: the endpoints the
//! publisher uses plus the deprecated per-network devices call, the appliance uplink statuses and
//! the lookups the official Python SDK makes to pace itself per organization (one network, one
//! device, the organization's inventory),
//! with data generated deterministically from a seed and a size ([`estate`]), `Link` pagination
//! that keeps every query parameter, per-organization rate limiting with 429 + `Retry-After`,
//! 401/404/400 like the real API, and switches for faults (5xx, 429 without `Retry-After`, slow
//! answers, a redirect to another host name). It keeps a bounded log of the requests it answered,
//! for tests to measure. Shapes follow the spec's examples in the team's `meraki/` folder.

mod endpoints;
pub mod estate;
mod guard;
mod measurements;
mod paging;
mod params;
mod people;
mod routes;
mod series;

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::Secret;
pub use estate::{Estate, EstateSize};
pub use guard::Faults;

/// Requests kept in the log; older ones are dropped.
const LOG_CAPACITY: usize = 200_000;

/// The simulator could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid estate size: {0}")]
    Size(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("the simulator's server failed: {0}")]
    Serve(std::io::Error),
}

/// How to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub size: EstateSize,
    /// The one key accepted.
    pub api_key: Secret,
    /// Per organization: requests per second and burst.
    pub rate_limit: u32,
    pub burst: u32,
    pub faults: Faults,
    /// Absolute page links on the host asked, as the real API sends them. Off, links are relative
    /// to `/api/v1` (the spec's wording), which is what the official Python SDK can follow: it
    /// prefixes its base URL to every link that is not on a Meraki host.
    pub absolute_links: bool,
    /// Redirect requests for any other host name to this one.
    pub redirect_host: Option<String>,
    /// A fixed "now", for repeatable answers; the real clock when absent.
    pub clock: Option<DateTime<Utc>>,
}

/// One answered request.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// Since the simulator started.
    pub at: Duration,
    /// The organization whose budget it spent.
    pub org: Option<String>,
    pub path: String,
    pub status: u16,
}

/// The simulator's state; clones share it.
#[derive(Clone)]
pub struct Simulator {
    state: Arc<Sim>,
}

pub(crate) struct Sim {
    config: SimConfig,
    estate: Estate,
    buckets: guard::Buckets,
    sequence: AtomicU64,
    started: Instant,
    /// The wall clock at `started`, and how many simulated seconds pass per real one.
    origin: DateTime<Utc>,
    speed: u32,
    log: Mutex<VecDeque<LoggedRequest>>,
}

impl Sim {
    fn now(&self) -> i64 {
        match self.config.clock {
            Some(fixed) => fixed.timestamp(),
            None if self.speed > 1 => {
                let elapsed = self.started.elapsed().as_secs_f64() * f64::from(self.speed);
                self.origin.timestamp() + elapsed as i64
            }
            None => Utc::now().timestamp(),
        }
    }

    fn log(&self, org: Option<String>, path: &str, status: u16) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(LoggedRequest {
            at: self.started.elapsed(),
            org,
            path: path.to_owned(),
            status,
        });
    }
}

impl Simulator {
    /// Generates the estate.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        Self::with_speed(config, 1)
    }

    /// A simulator whose clock (without a fixed `clock`) starts at the wall clock and runs `speed`
    /// times as fast, so that a short demo sees incidents begin and end; 0 and 1 are real time.
    pub fn with_speed(config: SimConfig, speed: u32) -> Result<Self, SimError> {
        let estate = Estate::generate(config.seed, config.size)?;
        let buckets = guard::Buckets::new(config.rate_limit, config.burst);
        Ok(Self {
            state: Arc::new(Sim {
                config,
                estate,
                buckets,
                sequence: AtomicU64::new(0),
                started: Instant::now(),
                origin: Utc::now(),
                speed,
                log: Mutex::new(VecDeque::new()),
            }),
        })
    }

    pub fn estate(&self) -> &Estate {
        &self.state.estate
    }

    /// The requests answered so far (the latest [`LOG_CAPACITY`]).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let log = self
            .state
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        log.iter().cloned().collect()
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), SimError> {
        let router = axum::Router::new()
            .fallback(routes::handle)
            .with_state(Arc::clone(&self.state));
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(SimError::Serve)
    }
}

/// Binds `address` (e.g. `127.0.0.1:8080`) with a clear error.
pub async fn bind(address: &str) -> Result<tokio::net::TcpListener, SimError> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| SimError::Bind {
            address: address.to_owned(),
            source,
        })
}
