//! The non-CLI parts of `semaphore demo`: the shipped rulebooks embedded in the binary
//! ([`rulebooks`]), librdkafka's in-memory mock cluster ([`cluster`]), the local webhook receiver
//! that turns deliveries into [`Alert`]s ([`receiver`]), the one-line form of an alert ([`alert`]),
//! one line per incident rather than per delivery ([`incident`]) and the writer that keeps `print_event`/`debug` output to one line per document ([`output`]).
//! It does not wire the simulator, publisher and `rules run` together and prints nothing; that is
//! `cli::demo`.

pub mod alert;
pub mod cluster;
pub mod incident;
pub mod output;
pub mod receiver;
pub mod rulebooks;

pub use alert::{Alert, Channel};
pub use cluster::MockKafka;
pub use incident::{IncidentCounts, Incidents};
pub use receiver::Receiver;

/// A part of the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start librdkafka's mock Kafka cluster: {0}")]
    MockCluster(rdkafka::error::KafkaError),
    #[error("cannot create topic {topic:?} in the mock Kafka cluster: {source}")]
    MockTopic {
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("cannot listen on {address} for the webhook receiver: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("the webhook receiver failed: {0}")]
    Serve(std::io::Error),
}
