//! The Meraki side of semaphore: a Dashboard API [`client`] (pagination, per-organization rate
//! limiting, retries, redirects restricted to Meraki hosts), tolerant response [`model`]s, the two
//! pollers that turn API data into records ([`loss_latency`], [`clients`], with the original
//! client [`filter`] file), the [`sinks`] those records go to (Kafka, syslog, stdout), the
//! [`schedule`] that repeats a poll, and the [`sim`]ulator that serves the same API locally.
//!
//! It does not parse command lines or print (that is `cli::publish` and `cli::meraki_sim`), and it
//! sets no librdkafka keys (`config` does). Records flow from pollers to the sink through a bounded
//! channel, page by page, so memory stays bounded however large the estate is.

pub mod client;
pub mod clients;
pub mod filter;
pub mod loss_latency;
pub mod model;
mod progress;
pub mod schedule;
pub mod sim;
pub mod sinks;

pub use client::{ApiError, Client, ClientConfig};

/// Requests in flight per organization unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;
pub use schedule::{CycleSummary, Progress};
pub use sinks::Record;
