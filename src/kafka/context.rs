//! The rdkafka client context of every client this crate creates: librdkafka's log lines, global
//! errors and rebalances go to `tracing` (target `librdkafka`) instead of the `log` crate, which
//! nothing here listens to. Contexts with more duties delegate their logging to it. It holds no
//! state and makes no decisions.

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError as RdKafkaError;

/// Forwards librdkafka's diagnostics to `tracing`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingContext;

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
        }
    }

    /// Debug only: consumers get every error event from `poll` as well and report it at the level
    /// it deserves there; at warn level here, one unreachable broker would flood the terminal.
    fn error(&self, error: RdKafkaError, reason: &str) {
        tracing::debug!(target: "librdkafka", %error, "{reason}");
    }
}

impl ConsumerContext for TracingContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                let count = partitions.count();
                tracing::debug!(target: "librdkafka", count, "partitions assigned")
            }
            Rebalance::Revoke(partitions) => {
                let count = partitions.count();
                tracing::debug!(target: "librdkafka", count, "partitions revoked")
            }
            Rebalance::Error(error) => {
                tracing::warn!(target: "librdkafka", %error, "rebalance failed")
            }
        }
    }
}
