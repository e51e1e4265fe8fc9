//! Durable engine state: the per-key state of throttles, windows and correlations, kept in a
//! compacted Kafka topic (the changelog) so that a restart or a partition moving to another
//! instance neither repeats alerts already sent nor forgets a window in progress. This module owns
//! the changelog's record format ([`Entry`], its key and value encoding), writing entries and
//! reading back the entries of one source partition. What the state means, and when it changes,
//! is the engine's business; when to write and restore is the pipeline's.
//!
//! Layout: the changelog has at least as many partitions as the source topics; the state of keys
//! last updated by source partition `p` goes to changelog partition `p`, so restoring a partition
//! reads one changelog partition, not the whole topic. A record's key names the source topic and
//! partition, the ruleset, the rule and the group key; its value is the state as JSON, or empty (a
//! tombstone) when the state was dropped, which lets compaction forget it.

mod changelog;

use serde_json::Value;

pub use changelog::{Changelog, PendingWrite};

/// One key's state, as written to and read from the changelog.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub topic: String,
    pub partition: i32,
    pub ruleset: String,
    pub rule: String,
    pub key: String,
    /// `None`: the state was dropped.
    pub state: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Kafka(#[from] crate::kafka::KafkaError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("Kafka failed while {what} of state topic {topic:?}: {source}")]
    Client {
        what: &'static str,
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error(
        "state topic {topic:?} has {has} partitions but the source topics need {needs}: state of partition N is kept in partition N; delete it or name another with --state-topic"
    )]
    TooFewPartitions {
        topic: String,
        has: usize,
        needs: usize,
    },
    #[error("restoring {topic}/{partition} from state topic {changelog:?} did not finish within {}s", timeout.as_secs_f64())]
    RestoreTimeout {
        changelog: String,
        topic: String,
        partition: i32,
        timeout: std::time::Duration,
    },
    #[error("the restore of {topic}/{partition} stopped unexpectedly: {source}")]
    Task {
        topic: String,
        partition: i32,
        source: tokio::task::JoinError,
    },
}

impl Entry {
    /// The record key: a JSON array, readable with `semaphore consume`, that compaction keys on.
    pub fn record_key(&self) -> Vec<u8> {
        let key = (
            &self.topic,
            self.partition,
            &self.ruleset,
            &self.rule,
            &self.key,
        );
        serde_json::to_vec(&key).unwrap_or_default()
    }

    /// The record value: the state as JSON, or `None` for a tombstone.
    pub fn record_value(&self) -> Option<Vec<u8>> {
        self.state
            .as_ref()
            .map(|state| serde_json::to_vec(state).unwrap_or_default())
    }

    /// Reads a changelog record back; `None` for a record this version did not write.
    pub fn from_record(key: &[u8], value: Option<&[u8]>) -> Option<Entry> {
        let (topic, partition, ruleset, rule, key): (String, i32, String, String, String) =
            serde_json::from_slice(key).ok()?;
        let state = match value {
            None => None,
            Some(bytes) => Some(serde_json::from_slice(bytes).ok()?),
        };
        Some(Entry {
            topic,
            partition,
            ruleset,
            rule,
            key,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(state: Option<Value>) -> Entry {
        Entry {
            topic: "meraki.loss".into(),
            partition: 3,
            ruleset: "Uplinks".into(),
            rule: "High \"loss\"".into(),
            key: "[\"Q2XX\",\"wan1\"]".into(),
            state,
        }
    }

    #[test]
    fn an_entry_survives_its_record_encoding() {
        let live = entry(Some(serde_json::json!({"count": 3, "opened_ms": 17})));
        let back = Entry::from_record(&live.record_key(), live.record_value().as_deref());
        assert_eq!(back, Some(live));
    }

    #[test]
    fn a_dropped_state_is_a_tombstone() {
        let dropped = entry(None);
        assert_eq!(dropped.record_value(), None);
        assert_eq!(
            Entry::from_record(&dropped.record_key(), None),
            Some(dropped)
        );
    }

    #[test]
    fn foreign_records_are_not_entries() {
        assert_eq!(Entry::from_record(b"plain key", Some(b"{}")), None);
        assert_eq!(
            Entry::from_record(&entry(None).record_key(), Some(b"not json")),
            None
        );
    }
}
