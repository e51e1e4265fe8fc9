//! Topic administration: creating a topic that does not exist yet, for commands that are told to
//! (`publish --create-topic`) and for the state changelog (compacted). An existing topic is left as
//! it is.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::KafkaError;
use crate::config::KafkaConnection;

/// Creates `topic` with `partitions` partitions and the broker's default replication, unless it
/// exists already.
pub async fn create_topic(
    connection: &KafkaConnection,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Result<(), KafkaError> {
    create_topic_with(connection, topic, partitions, &[], timeout).await
}

/// [`create_topic`] with topic settings, e.g. `cleanup.policy=compact`.
pub async fn create_topic_with(
    connection: &KafkaConnection,
    topic: &str,
    partitions: i32,
    settings: &[(&str, &str)],
    timeout: Duration,
) -> Result<(), KafkaError> {
    let bootstrap = connection.bootstrap_servers().to_owned();
    let admin: AdminClient<DefaultClientContext> =
        connection
            .client_config()?
            .create()
            .map_err(|source| KafkaError::ClientCreation {
                bootstrap: bootstrap.clone(),
                source,
            })?;
    let options = AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout));
    // -1: the broker's default.replication.factor, which suits a test broker and a cluster alike.
    let new_topic = settings.iter().fold(
        NewTopic::new(topic, partitions, TopicReplication::Fixed(-1)),
        |new_topic, (key, value)| new_topic.set(key, value),
    );
    let failed = |reason: String| KafkaError::CreateTopic {
        topic: topic.to_owned(),
        bootstrap: bootstrap.clone(),
        reason,
    };
    let results = tokio::time::timeout(timeout, admin.create_topics([&new_topic], &options))
        .await
        .map_err(|_| failed(format!("no answer within {}s", timeout.as_secs_f64())))?
        .map_err(|err| failed(err.to_string()))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(failed(code.to_string())),
        }
    }
    tracing::info!(topic, partitions, "topic ready");
    Ok(())
}
