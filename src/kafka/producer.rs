//! The one producer builder: the publish action, dead letters, the state changelog and the Meraki
//! Kafka sink all get their producer here, from the connection's producer settings, with one error.
//! It also says which failures to deliver a record are for good ([`Delivery`]): sending the same
//! record again cannot succeed, so a caller that must not lose it has to do something else with it.

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureProducer;

use super::KafkaError;
use crate::config::{ConfigError, KafkaConnection};

/// A producer for `connection`. Creating it connects nothing yet; librdkafka connects on first use.
pub fn producer(connection: &KafkaConnection) -> Result<FutureProducer, KafkaError> {
    create(connection, connection.producer_config())
}

/// A producer whose size limit takes any record a consumer of `connection` can fetch, plus
/// semaphore's headers ([`KafkaConnection::dead_letter_max_bytes`]).
pub fn dead_letter_producer(connection: &KafkaConnection) -> Result<FutureProducer, KafkaError> {
    create(connection, connection.dead_letter_producer_config())
}

fn create(
    connection: &KafkaConnection,
    config: Result<ClientConfig, ConfigError>,
) -> Result<FutureProducer, KafkaError> {
    config?
        .create()
        .map_err(|source| KafkaError::ClientCreation {
            bootstrap: connection.bootstrap_servers().to_owned(),
            source,
        })
}

/// How a failed attempt to deliver a record may end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The same record will never be taken: too large for the topic or for the producer, refused as
    /// invalid, or not allowed for this login.
    Refused,
    /// Worth another try: a timeout, a broker or leader away, a topic not created yet.
    Retriable,
}

impl Delivery {
    /// Which of the two `err` is. Only the codes listed are permanent; anything else, including
    /// an error semaphore has not seen yet, is retried, which at worst waits instead of losing.
    pub fn of(err: &RdKafkaError) -> Delivery {
        match err.rdkafka_error_code() {
            Some(
                // The broker's and librdkafka's own (`message.max.bytes`) size checks.
                RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                // The broker could not validate the record (e.g. a compacted topic and no key).
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::UnsupportedCompressionType
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::TopicAuthorizationFailed,
            ) => Delivery::Refused,
            _ => Delivery::Retriable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_validity_and_authorization_refusals_are_permanent() {
        for code in [
            RDKafkaErrorCode::MessageSizeTooLarge,
            RDKafkaErrorCode::MessageBatchTooLarge,
            RDKafkaErrorCode::InvalidRecord,
            RDKafkaErrorCode::TopicAuthorizationFailed,
        ] {
            let err = RdKafkaError::MessageProduction(code);
            assert_eq!(Delivery::of(&err), Delivery::Refused, "{code:?}");
        }
    }

    #[test]
    fn timeouts_missing_topics_and_absent_brokers_are_retried() {
        for code in [
            RDKafkaErrorCode::MessageTimedOut,
            RDKafkaErrorCode::UnknownTopicOrPartition,
            RDKafkaErrorCode::UnknownTopic,
            RDKafkaErrorCode::NotEnoughReplicas,
            RDKafkaErrorCode::AllBrokersDown,
            RDKafkaErrorCode::QueueFull,
        ] {
            let err = RdKafkaError::MessageProduction(code);
            assert_eq!(Delivery::of(&err), Delivery::Retriable, "{code:?}");
        }
        assert_eq!(Delivery::of(&RdKafkaError::Canceled), Delivery::Retriable);
    }
}
