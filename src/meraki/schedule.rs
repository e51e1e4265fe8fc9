//! Cycles: one cycle walks every organization (all pages), runs a poller on each with bounded
//! concurrency, and streams the records into the sink through a bounded channel; the schedule
//! repeats cycles every `--interval` plus jitter, one after the other (never overlapping), and stops
//! cleanly on SIGTERM: polling stops, records already read are delivered, the summary is reported.
//! A rejected API key ends everything; any other failure of one organization is counted and the
//! others carry on. What a poller reads and which record it builds is the poller's business.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::client::{ApiError, Client};
use super::model::Organization;
pub use super::progress::Progress;
use super::sinks::{self, DeliveryReport, Record, Sink};
use crate::shutdown::ShutdownSignal;

/// Records buffered between the pollers and the sink.
const RECORD_BUFFER: usize = 1024;

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the sink stopped taking records")]
    SinkGone,
    #[error("a polling task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl PollError {
    fn is_fatal(&self) -> bool {
        match self {
            Self::Api(err) => err.is_fatal(),
            Self::SinkGone | Self::Task(_) => true,
        }
    }
}

/// What a cycle did, for the summary line.
#[derive(Clone, Debug, Default)]
pub struct CycleSummary {
    pub cycle: u64,
    pub orgs: u64,
    pub networks: u64,
    pub devices: u64,
    pub clients: u64,
    pub records: u64,
    pub skipped_networks: u64,
    pub failed_items: u64,
    pub api_calls: u64,
    pub rate_limited: u64,
    pub retries: u64,
    pub failed_orgs: u64,
    pub failed_deliveries: u64,
    pub first_failure: Option<String>,
    pub duration: Duration,
    /// Stopped by a signal before it finished.
    pub interrupted: bool,
}

impl CycleSummary {
    pub fn succeeded(&self) -> bool {
        self.failed_orgs == 0
            && self.failed_items == 0
            && self.failed_deliveries == 0
            && self.first_failure.is_none()
    }
}

/// What a poller is given for one organization; clones go to the organization's tasks.
#[derive(Clone)]
pub struct OrgContext {
    pub client: Client,
    pub org: Organization,
    pub records: mpsc::Sender<Record>,
    pub progress: Arc<Progress>,
}

impl OrgContext {
    /// Hands one record to the sink, waiting while the channel is full.
    pub async fn emit(&self, record: Record) -> Result<(), PollError> {
        self.records
            .send(record)
            .await
            .map_err(|_| PollError::SinkGone)?;
        self.progress.records.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Lets the organization carry on after one network or device failed: a fatal error still
    /// ends the cycle, anything else is logged and counted.
    pub fn tolerate(&self, what: &str, result: Result<(), PollError>) -> Result<(), PollError> {
        match result {
            Err(err) if !err.is_fatal() => {
                self.progress.failed_items.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(org = self.org.id, what, error = %err, "skipped in this cycle");
                Ok(())
            }
            other => other,
        }
    }
}

/// Reads one organization and emits its records.
pub trait OrgPoller: Send + Sync + 'static {
    fn poll_org(
        self: Arc<Self>,
        ctx: OrgContext,
    ) -> impl Future<Output = Result<(), PollError>> + Send;
}

/// Runs `work` on every item, at most `limit` at once, in tracked tasks; the first error ends it
/// (and aborts the others).
pub async fn for_each_bounded<T, F, Fut>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    work: F,
) -> Result<(), PollError>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), PollError>> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    for item in items {
        while tasks.len() >= limit.max(1) {
            if let Some(done) = tasks.join_next().await {
                done??;
            }
        }
        tasks.spawn(work(item));
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// `--interval` and its jitter; no interval means one cycle.
#[derive(Clone, Copy, Debug, Default)]
pub struct Schedule {
    pub interval: Option<Duration>,
    pub jitter: Duration,
}

/// Runs cycles of one poller.
pub struct Publisher<P> {
    pub client: Client,
    pub poller: Arc<P>,
    /// Only these organizations (ids), or all when empty.
    pub orgs: Vec<String>,
    pub org_concurrency: usize,
    pub progress: Arc<Progress>,
}

impl<P: OrgPoller> Publisher<P> {
    /// Runs cycles as `schedule` says; `on_cycle` sees each summary. Returns whether every cycle
    /// succeeded, or the error that ended the run.
    pub async fn run(
        &self,
        mut sink: Sink,
        schedule: Schedule,
        mut stop: ShutdownSignal,
        mut on_cycle: impl FnMut(&CycleSummary),
    ) -> Result<bool, PollError> {
        let mut all_ok = true;
        for cycle in 1.. {
            let started = Instant::now();
            let (returned, summary, fatal) = self.cycle(sink, &mut stop, cycle).await?;
            sink = returned;
            on_cycle(&summary);
            if let Some(err) = fatal {
                return Err(err);
            }
            all_ok &= summary.succeeded();
            let Some(interval) = schedule.interval.filter(|_| !summary.interrupted) else {
                break;
            };
            let next = next_start(started, interval, schedule.jitter);
            if next <= Instant::now() {
                tracing::warn!(
                    interval_s = interval.as_secs_f64(),
                    "the cycle took longer than --interval; starting the next one now"
                );
            }
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                _ = stop.requested() => break,
            }
        }
        Ok(all_ok)
    }

    /// One cycle; the sink comes back for the next one. Only a failed sink task is an `Err`; a
    /// fatal API error comes back beside the summary so that the summary is still reported.
    async fn cycle(
        &self,
        sink: Sink,
        stop: &mut ShutdownSignal,
        cycle: u64,
    ) -> Result<(Sink, CycleSummary, Option<PollError>), PollError> {
        self.progress.reset();
        self.progress.cycle.store(cycle, Ordering::Relaxed);
        let before = api_counters(&self.client);
        self.progress
            .calls_before
            .store(before[0], Ordering::Relaxed);
        self.progress
            .rate_limited_before
            .store(before[1], Ordering::Relaxed);
        self.progress.running.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let (sender, receiver) = mpsc::channel(RECORD_BUFFER);
        let delivery = tokio::spawn(sinks::drain(sink, receiver));
        let (polled, interrupted) = tokio::select! {
            polled = self.poll_all(sender) => (polled, false),
            _ = stop.requested() => (Ok(()), true),
        };
        // Polling is over (or was dropped, which aborts its tasks and closes the channel): the
        // sink delivers what it has and returns.
        let (sink, report) = delivery.await?;
        self.progress.running.store(false, Ordering::Relaxed);
        let (summary, fatal) = self.summarize(cycle, started, before, report, polled, interrupted);
        Ok((sink, summary, fatal))
    }

    /// The cycle's numbers; a fatal error is handed back, any other is the cycle's failure.
    fn summarize(
        &self,
        cycle: u64,
        started: Instant,
        before: [u64; 3],
        report: DeliveryReport,
        polled: Result<(), PollError>,
        interrupted: bool,
    ) -> (CycleSummary, Option<PollError>) {
        let after = api_counters(&self.client);
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut first_failure = report.first_failure;
        let fatal = match polled {
            Ok(()) => None,
            Err(err) if err.is_fatal() => Some(err),
            Err(err) => {
                tracing::warn!(error = %err, "the cycle ended early");
                first_failure = first_failure.or(Some(err.to_string()));
                None
            }
        };
        let summary = CycleSummary {
            cycle,
            orgs: load(&self.progress.orgs),
            networks: load(&self.progress.networks),
            devices: load(&self.progress.devices),
            clients: load(&self.progress.clients),
            records: report.records,
            skipped_networks: load(&self.progress.skipped),
            failed_items: load(&self.progress.failed_items),
            api_calls: after[0] - before[0],
            rate_limited: after[1] - before[1],
            retries: after[2] - before[2],
            failed_orgs: load(&self.progress.failed_orgs),
            failed_deliveries: report.failed,
            first_failure,
            duration: started.elapsed(),
            interrupted,
        };
        (summary, fatal)
    }

    /// Every page of organizations, each selected one polled in a task, at most
    /// `org_concurrency` at once.
    async fn poll_all(&self, records: mpsc::Sender<Record>) -> Result<(), PollError> {
        let mut pages = self
            .client
            .pages::<Organization>(None, "organizations", &[])?;
        let permits = Arc::new(Semaphore::new(self.org_concurrency.max(1)));
        let mut tasks = JoinSet::new();
        while let Some(page) = pages.next_page().await? {
            for org in page {
                if !(self.orgs.is_empty() || self.orgs.contains(&org.id)) {
                    continue;
                }
                let permit = Arc::clone(&permits)
                    .acquire_owned()
                    .await
                    .map_err(|_| PollError::SinkGone)?;
                while let Some(done) = tasks.try_join_next() {
                    self.settle(done)?;
                }
                let ctx = OrgContext {
                    client: self.client.clone(),
                    org,
                    records: records.clone(),
                    progress: Arc::clone(&self.progress),
                };
                let poller = Arc::clone(&self.poller);
                tasks.spawn(async move {
                    let _permit = permit;
                    let org = ctx.org.id.clone();
                    poller.poll_org(ctx).await.map_err(|err| (org, err))
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            self.settle(done)?;
        }
        Ok(())
    }

    /// Counts one finished organization; a fatal error ends the cycle (dropping the other tasks).
    fn settle(
        &self,
        done: Result<Result<(), (String, PollError)>, tokio::task::JoinError>,
    ) -> Result<(), PollError> {
        match done? {
            Ok(()) => {
                self.progress.orgs.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err((_, err)) if err.is_fatal() => Err(err),
            Err((org, err)) => {
                self.progress.failed_orgs.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(org, error = %err, "organization skipped in this cycle");
                Ok(())
            }
        }
    }
}

/// API calls, 429s and retries so far.
fn api_counters(client: &Client) -> [u64; 3] {
    let stats = client.stats();
    [&stats.calls, &stats.rate_limited, &stats.retries].map(|c| c.load(Ordering::Relaxed))
}

/// `started + interval` plus up to `jitter`, so that many publishers do not poll in step.
fn next_start(started: Instant, interval: Duration, jitter: Duration) -> Instant {
    let random = RandomState::new().hash_one(started) as f64 / u64::MAX as f64;
    started + interval + jitter.mul_f64(random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_start_is_within_interval_plus_jitter() {
        let started = Instant::now();
        for _ in 0..20 {
            let next = next_start(started, Duration::from_secs(60), Duration::from_secs(6));
            let offset = next - started;
            assert!(
                offset >= Duration::from_secs(60) && offset <= Duration::from_secs(66),
                "{offset:?}"
            );
        }
    }

    #[test]
    fn a_summary_with_failures_is_not_a_success() {
        assert!(CycleSummary::default().succeeded());
        let failed = CycleSummary {
            failed_deliveries: 1,
            ..CycleSummary::default()
        };
        assert!(!failed.succeeded());
    }
}
