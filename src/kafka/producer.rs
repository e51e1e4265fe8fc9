//! The one producer builder: the publish action, dead letters, the state changelog and the Meraki
//! Kafka sink all get their producer here, from the connection's producer settings, with one error.

use rdkafka::producer::FutureProducer;

use super::KafkaError;
use crate::config::KafkaConnection;

/// A producer for `connection`. Creating it connects nothing yet; librdkafka connects on first use.
pub fn producer(connection: &KafkaConnection) -> Result<FutureProducer, KafkaError> {
    connection
        .producer_config()?
        .create()
        .map_err(|source| KafkaError::ClientCreation {
            bootstrap: connection.bootstrap_servers().to_owned(),
            source,
        })
}
