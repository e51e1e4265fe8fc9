//! librdkafka's in-memory mock Kafka cluster, the demo's default broker: real Kafka protocol on a
//! localhost port (producers, the idempotent producer, consumer groups with offset commits,
//! metadata), but nothing is stored on disk and everything is gone when the process ends. It does
//! not support the CreateTopics admin request, so topics are created through the mock's own API.
//! The cluster is not `Send`: keep it on the thread that created it, outside async tasks.

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use super::DemoError;

/// One mock broker is enough: the demo needs a place to put records, not replication.
const BROKERS: i32 = 1;

pub struct MockKafka {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl MockKafka {
    pub fn start() -> Result<Self, DemoError> {
        let cluster = MockCluster::new(BROKERS).map_err(DemoError::MockCluster)?;
        Ok(Self { cluster })
    }

    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), DemoError> {
        self.cluster
            .create_topic(topic, partitions, BROKERS)
            .map_err(|source| DemoError::MockTopic {
                topic: topic.to_owned(),
                source,
            })
    }
}
