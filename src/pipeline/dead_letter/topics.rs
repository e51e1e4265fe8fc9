//! The dead-letter topics at start: each one `rules run` will write to (the configured topic, or
//! `<topic>.dlq` for every topic read) is created when missing, with as many partitions as its
//! source and a `max.message.bytes` that takes any record the consumer can fetch, so a large record
//! is dead-lettered whole. A cluster that refuses that size (Confluent Cloud caps it) gets the topic
//! with its default size; a login without the right to create topics gets a warning. Neither stops
//! the run: an existing topic is used as it is, and what it refuses is spooled.

use crate::config::KafkaConnection;
use crate::kafka::{check_topic, create_topic, create_topic_with};
use crate::pipeline::{PipelineError, RunSettings};

/// Creates the dead-letter topics that do not exist yet.
pub async fn create(
    connection: &KafkaConnection,
    settings: &RunSettings,
) -> Result<(), PipelineError> {
    for (topic, partitions) in wanted(connection, settings).await? {
        // Only a missing topic is created: an existing one is used as it is, and asking the
        // metadata costs no admin request (which a mock cluster does not answer).
        if check_topic(connection, &topic, settings.connect_timeout)
            .await
            .is_err()
        {
            create_one(connection, &topic, partitions, settings).await;
        }
    }
    Ok(())
}

/// Each dead-letter topic with the partitions of its source (of the largest, for one shared topic).
async fn wanted(
    connection: &KafkaConnection,
    settings: &RunSettings,
) -> Result<Vec<(String, i32)>, PipelineError> {
    let mut sources = Vec::with_capacity(settings.topics.len());
    for topic in &settings.topics {
        let info = check_topic(connection, topic, settings.connect_timeout).await?;
        sources.push((topic, i32::try_from(info.partitions).unwrap_or(i32::MAX)));
    }
    Ok(match &settings.dead_letter_topic {
        Some(shared) => {
            let partitions = sources.iter().map(|(_, n)| *n).max().unwrap_or(1);
            vec![(shared.clone(), partitions)]
        }
        None => sources
            .into_iter()
            .map(|(topic, partitions)| (format!("{topic}.dlq"), partitions))
            .collect(),
    })
}

async fn create_one(
    connection: &KafkaConnection,
    topic: &str,
    partitions: i32,
    settings: &RunSettings,
) {
    let max_bytes = connection.dead_letter_max_bytes().to_string();
    let sized = [("max.message.bytes", max_bytes.as_str())];
    let timeout = settings.connect_timeout;
    let Err(refused) = create_topic_with(connection, topic, partitions, &sized, timeout).await
    else {
        return;
    };
    match create_topic(connection, topic, partitions, timeout).await {
        Ok(()) => tracing::warn!(
            topic,
            max_message_bytes = max_bytes,
            error = %refused,
            "dead-letter topic created with the cluster's default max.message.bytes; larger dead letters will be spooled"
        ),
        Err(err) => tracing::warn!(
            topic,
            error = %err,
            dir = %settings.dead_letter_dir.display(),
            "cannot create the dead-letter topic; dead letters it refuses will be spooled"
        ),
    }
}
