//! The pre-flight check: is the broker reachable within a timeout, does the login work, does the
//! topic exist? librdkafka retries connections forever and reports failed logins only as events, so
//! without this a wrong address or password would look like an empty topic. It uses a short-lived
//! client outside any consumer group; it does not consume.

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::metadata::Metadata;

use super::context::TracingContext;
use super::{KafkaError, connection_failure};
use crate::config::KafkaConnection;

/// One metadata request waits at most this long, so that login failures are noticed between
/// requests.
const STEP: Duration = Duration::from_millis(500);
/// How long the client's event queue is served between metadata requests.
const EVENTS_STEP: Duration = Duration::from_millis(100);
/// Extra time for the blocking thread to tear its client down after its own deadline.
const TEARDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the check found out about the topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicInfo {
    pub topic: String,
    pub partitions: usize,
}

/// Checks within `timeout` that Kafka answers, accepts the login and has `topic`.
pub async fn check_topic(
    connection: &KafkaConnection,
    topic: &str,
    timeout: Duration,
) -> Result<TopicInfo, KafkaError> {
    let config = connection.client_config()?;
    let bootstrap = connection.bootstrap_servers().to_owned();
    let task = tokio::task::spawn_blocking({
        let (bootstrap, topic) = (bootstrap.clone(), topic.to_owned());
        move || probe(&config, &bootstrap, &topic, timeout)
    });
    match tokio::time::timeout(timeout + TEARDOWN_GRACE, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(source)) => Err(KafkaError::Task {
            operation: "the Kafka connection check",
            source,
        }),
        Err(_) => Err(KafkaError::Unreachable { bootstrap, timeout }),
    }
}

/// Metadata requests in short steps until one answers or the deadline passes; between steps, the
/// client's error events are read, because that is the only place librdkafka reports a rejected
/// login or certificate.
fn probe(
    config: &ClientConfig,
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<TopicInfo, KafkaError> {
    let client: BaseConsumer<TracingContext> =
        config
            .create_with_context(TracingContext)
            .map_err(|source| KafkaError::ClientCreation {
                bootstrap: bootstrap.to_owned(),
                source,
            })?;
    let deadline = Instant::now() + timeout;
    loop {
        let step = deadline.saturating_duration_since(Instant::now()).min(STEP);
        match client.fetch_metadata(Some(topic), step) {
            Ok(metadata) => match topic_info(&metadata, topic, bootstrap)? {
                Some(info) => return Ok(info),
                None => tracing::debug!(topic, "topic has no leader yet; asking again"),
            },
            Err(err) => fail_on_connection_error(&err, bootstrap)?,
        }
        serve_events(&client, deadline, bootstrap)?;
        if Instant::now() >= deadline {
            return Err(KafkaError::Unreachable {
                bootstrap: bootstrap.to_owned(),
                timeout,
            });
        }
    }
}

/// Serves queued events (log lines and errors, in order) for [`EVENTS_STEP`]. `poll` returns early
/// only for an error; log lines are handled inside it, which is why a zero timeout would serve one.
fn serve_events(
    client: &BaseConsumer<TracingContext>,
    deadline: Instant,
    bootstrap: &str,
) -> Result<(), KafkaError> {
    let until = deadline.min(Instant::now() + EVENTS_STEP);
    // Not in a group and not assigned, so the queue holds events only, never records.
    while let Some(event) = client.poll(until.saturating_duration_since(Instant::now())) {
        if let Err(err) = event {
            fail_on_connection_error(&err, bootstrap)?;
        }
    }
    Ok(())
}

/// A rejected login or certificate ends the check; anything else (refused, timed out) may still
/// recover.
fn fail_on_connection_error(err: &RdKafkaError, bootstrap: &str) -> Result<(), KafkaError> {
    if let Some(failure) = err
        .rdkafka_error_code()
        .and_then(|code| connection_failure(code, bootstrap))
    {
        return Err(failure);
    }
    tracing::debug!(bootstrap, %err, "Kafka not ready yet");
    Ok(())
}

/// `Ok(None)` when the topic exists but is not ready (a leader election right after creation).
fn topic_info(
    metadata: &Metadata,
    topic: &str,
    bootstrap: &str,
) -> Result<Option<TopicInfo>, KafkaError> {
    let not_found = || KafkaError::TopicNotFound {
        topic: topic.to_owned(),
        bootstrap: bootstrap.to_owned(),
    };
    let found = metadata
        .topics()
        .iter()
        .find(|candidate| candidate.name() == topic)
        .ok_or_else(not_found)?;
    match found.error().map(RDKafkaErrorCode::from) {
        None => Ok(Some(TopicInfo {
            topic: topic.to_owned(),
            partitions: found.partitions().len(),
        })),
        Some(RDKafkaErrorCode::LeaderNotAvailable) => Ok(None),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            Err(not_found())
        }
        Some(code) => Err(KafkaError::TopicMetadata {
            topic: topic.to_owned(),
            bootstrap: bootstrap.to_owned(),
            code,
        }),
    }
}
