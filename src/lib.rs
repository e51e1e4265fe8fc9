//! semaphore turns network telemetry on Apache Kafka into actions.
//!
//! The crate is a library with a thin binary (`main.rs`). Modules, from the edges inwards; a module
//! imports only modules below it, and no two modules reach each other (`scripts/check-layers`
//! checks both, as part of `scripts/test`):
//!
//! - [`cli`]: the clap command line and one file per command; the only module that prints, and the
//!   one that reads the user's rulebook and silences files ([`cli::files`]).
//! - [`demo`]: the parts of `semaphore demo` that are not CLI: embedded rulebooks, the mock Kafka
//!   cluster, the webhook receiver.
//! - [`pipeline`]: the event path of `rules run`: consume, decode, evaluate, dispatch, dead-letter, and
//!   commit an offset only when all work for it and the records before it has finished.
//! - [`state`]: the engine's per-key state in a compacted Kafka changelog, restored when a partition
//!   is assigned.
//! - [`meraki`]: the Meraki Dashboard API client, pollers, sinks and simulator.
//! - [`kafka`]: Kafka plumbing on top of rdkafka: pre-flight checks, topic creation, the one producer
//!   builder, the `consume` consumer.
//! - [`actions`]: the senders of rendered actions (webhook with chat/ITSM presets, command, publish,
//!   run_playbook, controller job templates) and the dispatcher that runs a firing's actions.
//! - [`config`]: process settings (Kafka connection, flags, environment); the only place rdkafka keys
//!   are set.
//! - [`telemetry`]: tracing setup, metrics, the HTTP endpoints, redaction of secrets in logs.
//!
//! The decision core, below, is pure: it takes time as a parameter, does no I/O and imports nothing
//! from above this line.
//!
//! - [`engine`]: `process(event, now) -> firings`; throttles, windows, multi-event matches, facts and
//!   posted events; the keyed state as data for a changelog.
//! - [`suppress`]: silences (matchers, maintenance windows, the silences file's text) and inhibition
//!   between rules; decides whether a firing is sent.
//! - [`rulebook`]: YAML text to raw `*Spec` structs to a validated, compiled [`rulebook::Rulebook`],
//!   with located [`rulebook::Diagnostic`]s for every error and warning, and the action model
//!   ([`rulebook::action`]: kinds, each kind's keys, templates, rendering).
//! - [`condition`]: compiled JMESPath conditions plus the custom functions (regex, CIDR, fuzzy, time)
//!   and the "did you mean" of every error.
//! - [`event`]: an [`event::Event`] is one parsed payload, its `meta` and its typed
//!   [`event::Origin`] (topic, partition, offset).
//! - [`shutdown`]: signal handling and cancellation (used by the edges only).

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
