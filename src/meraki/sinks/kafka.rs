//! The Kafka sink: a producer with the project's durable settings (`acks=all`, idempotence), the
//! record's key and JSON value, and at most [`MAX_IN_FLIGHT`] deliveries outstanding; every
//! delivery is awaited and a failure is counted, not lost. The topic is checked before the first
//! record so that a typo or a bad login is a clear error at start.

use std::collections::VecDeque;
use std::time::Duration;

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use super::{DeliveryReport, Record, SinkError};
use crate::config::KafkaConnection;

/// Deliveries awaited at most at once; bounds memory when the broker is slow.
const MAX_IN_FLIGHT: usize = 10_000;
/// Partitions of a topic made by `--create-topic`: room for six consumers in one group.
const NEW_TOPIC_PARTITIONS: i32 = 6;
/// The pre-flight topic check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);
/// librdkafka gives up on a message after `message.timeout.ms` (30 s); this is the backstop.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for room when librdkafka's own queue is full and nothing is in flight here.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(20);

pub(super) struct KafkaSink {
    producer: FutureProducer,
    topic: String,
    in_flight: VecDeque<DeliveryFuture>,
}

impl KafkaSink {
    pub(super) async fn open(
        connection: &KafkaConnection,
        topic: String,
        create: bool,
    ) -> Result<Self, SinkError> {
        if create {
            crate::kafka::create_topic(connection, &topic, NEW_TOPIC_PARTITIONS, CHECK_TIMEOUT)
                .await?;
        }
        crate::kafka::check_topic(connection, &topic, CHECK_TIMEOUT).await?;
        let producer = crate::kafka::producer(connection)?;
        Ok(Self {
            producer,
            topic,
            in_flight: VecDeque::new(),
        })
    }

    /// Queues one record; waits for the oldest delivery when too many are outstanding.
    pub(super) async fn send(&mut self, record: &Record, report: &mut DeliveryReport) {
        let payload = record.value.to_string();
        loop {
            let message = FutureRecord::to(&self.topic)
                .key(record.key.as_str())
                .payload(payload.as_str());
            match self.producer.send_result(message) {
                Ok(delivery) => {
                    self.in_flight.push_back(delivery);
                    break;
                }
                Err((RdKafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if !self.await_oldest(report).await {
                        tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                    }
                }
                Err((err, _)) => {
                    report.fail(format!("Kafka refused record {}: {err}", record.key));
                    break;
                }
            }
        }
        while self.in_flight.len() > MAX_IN_FLIGHT {
            self.await_oldest(report).await;
        }
    }

    /// Waits for every outstanding delivery.
    pub(super) async fn flush(&mut self, report: &mut DeliveryReport) {
        while self.await_oldest(report).await {}
    }

    /// Awaits the oldest delivery; `false` if none was outstanding.
    async fn await_oldest(&mut self, report: &mut DeliveryReport) -> bool {
        let Some(delivery) = self.in_flight.pop_front() else {
            return false;
        };
        match tokio::time::timeout(DELIVERY_TIMEOUT, delivery).await {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err((err, _)))) => {
                report.fail(format!("Kafka delivery to {} failed: {err}", self.topic))
            }
            Ok(Err(_)) => report.fail("the Kafka producer stopped before delivering".to_owned()),
            Err(_) => report.fail(format!(
                "no Kafka acknowledgement within {}s",
                DELIVERY_TIMEOUT.as_secs()
            )),
        }
        true
    }
}
