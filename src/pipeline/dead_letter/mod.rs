//! The dead-letter topic: a record that could not be decoded, or whose action failed after its
//! retries, is published with its original key and bytes and headers that say what went wrong and
//! where it came from; a firing of the clock whose action failed is published as its firing
//! document ([`timer`]). Until a dead letter is kept, its record's offset must not be committed:
//!
//! * an error worth retrying (timeout, broker away) is retried with backoff until the broker
//!   acknowledges or shutdown is asked for (the record stays uncommitted and is read again);
//! * a refusal for good ([`Delivery::Refused`]: too large, invalid, not allowed) would block the
//!   partition forever, so the value goes to the local dead-letter directory ([`spool`]) and a small
//!   dead letter naming the spool file, the value's size and SHA-256 is published in its place;
//!   when the broker refuses that one too, the spool file alone keeps the record.

mod letter;
mod spool;
mod timer;
mod topics;

use std::time::Duration;

use rdkafka::producer::FutureProducer;

pub use self::timer::TimerFiring;
use super::{ActionFailure, PipelineError, RunSettings, SourceRecord};
use crate::config::KafkaConnection;
use crate::kafka::Delivery;
use crate::rulebook::Rulebook;
use crate::shutdown::ShutdownSignal;
use crate::telemetry::metrics::{DEAD_LETTERS, DEAD_LETTERS_SPOOLED};
use letter::Letter;
use spool::Spool;
pub use spool::SpoolError;

/// Why a record is dead-lettered.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The value is not UTF-8 JSON.
    Undecodable(String),
    /// The value is JSON, but not an object: no rule could read a field of it.
    NotAnObject(String),
    /// An action of a rule failed after its retries.
    ActionFailed {
        rule: String,
        action: String,
        error: String,
    },
}

impl Reason {
    fn kind(&self) -> &'static str {
        match self {
            Reason::Undecodable(_) => "decode",
            Reason::NotAnObject(_) => "not_an_object",
            Reason::ActionFailed { .. } => "action",
        }
    }

    fn error(&self) -> &str {
        match self {
            Reason::Undecodable(error)
            | Reason::NotAnObject(error)
            | Reason::ActionFailed { error, .. } => error,
        }
    }
}

#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    /// The one topic for all dead letters, or `None` for `<source topic>.dlq`.
    topic: Option<String>,
    spool: Spool,
}

const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl DeadLetters {
    /// Opens the dead-letter directory (created when missing: a run that could not keep a refused
    /// dead letter does not start) and the producer, and creates the dead-letter topics.
    pub async fn open(
        connection: &KafkaConnection,
        settings: &RunSettings,
    ) -> Result<DeadLetters, PipelineError> {
        let spool = Spool::open(&settings.dead_letter_dir)?;
        let producer = crate::kafka::dead_letter_producer(connection)?;
        topics::create(connection, settings).await?;
        Ok(DeadLetters {
            producer,
            topic: settings.dead_letter_topic.clone(),
            spool,
        })
    }

    pub fn topic_for(&self, source_topic: &str) -> String {
        self.topic
            .clone()
            .unwrap_or_else(|| format!("{source_topic}.dlq"))
    }

    /// The dead-letter topic of a firing of `ruleset` that no record caused ([`timer::topic_for`]).
    pub fn topic_for_ruleset(&self, book: &Rulebook, ruleset: &str, consumed: &[String]) -> String {
        timer::topic_for(self.topic.as_deref(), book, ruleset, consumed)
    }

    /// Dead-letters `record`. `false` when shutdown came first: the record stays uncommitted and
    /// will be read again.
    pub async fn send_record(
        &self,
        record: &SourceRecord,
        reason: &Reason,
        shutdown: ShutdownSignal,
    ) -> bool {
        let letter = Letter::of_record(record, reason, self.topic_for(&record.topic));
        self.send(&letter, shutdown).await
    }

    /// Dead-letters a firing of the clock whose action failed. `false` when shutdown came first.
    pub async fn send_timer(
        &self,
        firing: &TimerFiring,
        failure: &ActionFailure,
        shutdown: ShutdownSignal,
    ) -> bool {
        self.send(&firing.letter(failure), shutdown).await
    }

    /// `true` once the letter is kept: acknowledged whole, or spooled (and pointed to, if the
    /// broker takes the small letter).
    async fn send(&self, letter: &Letter<'_>, mut shutdown: ShutdownSignal) -> bool {
        let refused = match self.publish(letter, &mut shutdown).await {
            None => return false,
            Some(Ok(())) => {
                dead_lettered(letter);
                return true;
            }
            Some(Err(refused)) => refused,
        };
        let Some(spooled) = self.spool(letter, &refused, &mut shutdown).await else {
            return false;
        };
        let note = letter.spool_note(&spooled, &refused);
        let small = letter.pointing_to(&spooled, &refused, &note);
        match self.publish(&small, &mut shutdown).await {
            None => false,
            Some(Ok(())) => {
                dead_lettered(&small);
                true
            }
            Some(Err(again)) => {
                tracing::error!(
                    topic = letter.topic,
                    origin = letter.origin,
                    error = again,
                    file = %spooled.dir.join(&spooled.file).display(),
                    "the broker refused the small dead letter too; the spool file alone keeps it"
                );
                true
            }
        }
    }

    /// Publishes until acknowledged (`Ok`) or refused for good (`Err` with the broker's reason);
    /// `None` when shutdown came first.
    async fn publish(
        &self,
        letter: &Letter<'_>,
        shutdown: &mut ShutdownSignal,
    ) -> Option<Result<(), String>> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.producer.send(letter.message(), SEND_TIMEOUT).await {
                Ok(_) => return Some(Ok(())),
                Err((err, _)) => match Delivery::of(&err) {
                    Delivery::Refused => return Some(Err(err.to_string())),
                    Delivery::Retriable => {
                        tracing::error!(topic = letter.topic, %err, "cannot publish a dead letter; retrying")
                    }
                },
            }
            if !wait(&mut backoff, shutdown).await {
                return None;
            }
        }
    }

    /// Writes the letter to the spool, retrying a failed write with backoff; `None` when shutdown
    /// came first.
    async fn spool(
        &self,
        letter: &Letter<'_>,
        refused: &str,
        shutdown: &mut ShutdownSignal,
    ) -> Option<spool::Spooled> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.spool.keep(letter, refused).await {
                Ok(spooled) => {
                    tracing::warn!(
                        topic = letter.topic,
                        origin = letter.origin,
                        kind = letter.kind,
                        refused,
                        file = %spooled.dir.join(&spooled.file).display(),
                        size = spooled.size,
                        sha256 = spooled.sha256,
                        "the broker refused the dead letter; its value is kept in the dead-letter directory"
                    );
                    metrics::counter!(DEAD_LETTERS_SPOOLED, "reason" => letter.kind).increment(1);
                    return Some(spooled);
                }
                Err(err) => {
                    tracing::error!(origin = letter.origin, %err, "cannot spool a refused dead letter; retrying")
                }
            }
            if !wait(&mut backoff, shutdown).await {
                return None;
            }
        }
    }
}

fn dead_lettered(letter: &Letter<'_>) {
    tracing::warn!(
        topic = letter.topic,
        origin = letter.origin,
        kind = letter.kind,
        error = letter.error,
        "{} dead-lettered",
        letter.what
    );
    metrics::counter!(DEAD_LETTERS, "reason" => letter.kind).increment(1);
}

/// Sleeps for `backoff` and doubles it (up to [`MAX_BACKOFF`]); `false` when shutdown came first.
async fn wait(backoff: &mut Duration, shutdown: &mut ShutdownSignal) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(*backoff) => {}
        _ = shutdown.requested() => return false,
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    true
}
