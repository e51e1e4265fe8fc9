//! semaphore turns network telemetry on Apache Kafka into actions.
//!
//! The crate is a library with a thin binary (`main.rs`). Modules, from the edges inwards:
//!
//! - [`cli`]: the clap command line and one file per command; the only module that prints.
//! - [`config`]: process settings (Kafka connection, flags, environment); the only place rdkafka keys are set.
//! - [`telemetry`]: tracing setup (human or JSON logs, verbosity).
//! - [`kafka`]: consumer and producer plumbing on top of rdkafka.
//! - [`meraki`]: the Meraki Dashboard API client, pollers and simulator.
//! - [`event`]: an [`event::Event`] is one parsed payload plus its [`event::Meta`] (topic, partition, offset,
//!   key, timestamp, headers).
//! - [`rulebook`]: YAML text to raw `*Spec` structs to a validated, compiled [`rulebook::Rulebook`], with
//!   located [`rulebook::Diagnostic`]s for every error.
//! - [`condition`]: compiled JMESPath conditions plus the custom functions (regex, CIDR, fuzzy, time).
//! - [`actions`]: compiled action templates, their rendering, and the dispatcher that sends them
//!   (webhook with chat/ITSM presets, command, publish, run_playbook, controller job templates).
//! - [`engine`]: `process(event, now) -> firings`; throttles, multi-event matches and facts. No I/O.
//! - [`suppress`]: silences (matchers, maintenance windows, the silences file) and inhibition between
//!   rules; decides whether a firing is sent. No I/O besides loading and writing the silences file.
//! - [`pipeline`]: the event path of `rules run`: consume, decode, evaluate, dispatch, dead-letter, and
//!   commit an offset only when all work for it and the records before it has finished.
//! - [`state`]: the engine's per-key state in a compacted Kafka changelog, restored when a partition
//!   is assigned.
//! - [`shutdown`]: signal handling and cancellation.
//! - [`demo`]: the parts of `semaphore demo` that are not CLI: embedded rulebooks, the mock Kafka
//!   cluster, the webhook receiver.
//!
//! The decision core (`rulebook`, `condition`, `engine`) is pure: it takes time as a parameter and does no I/O.

pub mod actions;
pub mod cli;
pub mod condition;
pub mod config;
pub mod demo;
pub mod engine;
pub mod event;
pub mod kafka;
pub mod meraki;
pub mod pipeline;
pub mod rulebook;
pub mod shutdown;
pub mod state;
pub mod suppress;
pub mod telemetry;
