//! Durable engine state in `rules run`, the changelog side: opening it, turning engine changes into
//! changelog entries and back, and restoring one partition. Each saved state carries the fingerprint
//! of the rule that wrote it: a rule whose definition changed since starts empty instead of
//! inheriting state that means something else. When to save and restore is [`super::state_sync`]'s;
//! the changelog format is `crate::state`'s; the state itself is the engine's.

use std::time::Duration;

use serde_json::{Value, json};

use super::offsets::Partition;
use super::{PipelineError, RunSettings};
use crate::config::KafkaConnection;
use crate::engine::{SourcePartition, StateChange};
use crate::kafka::check_topic;
use crate::rulebook::Rulebook;
use crate::shutdown::ShutdownSignal;
use crate::state::{Changelog, Entry, StateError};

/// How long one attempt at restoring a partition may take before it is tried again.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60);
const RESTORE_BACKOFF: Duration = Duration::from_secs(2);

/// Opens the changelog when the settings name one and the run sends actions (a dry run must not
/// save state that would hold back the real alerts later). The changelog needs as many partitions as
/// the largest source topic.
pub(super) async fn open(
    connection: &KafkaConnection,
    settings: &RunSettings,
) -> Result<Option<Durable>, PipelineError> {
    let Some(topic) = settings
        .state_topic
        .as_deref()
        .filter(|_| !settings.dry_run)
    else {
        return Ok(None);
    };
    let mut partitions = 1;
    for source in &settings.topics {
        let info = check_topic(connection, source, settings.connect_timeout).await?;
        partitions = partitions.max(info.partitions);
    }
    let changelog = Changelog::open(connection, topic, partitions, settings.connect_timeout)
        .await
        .map_err(Box::new)?;
    tracing::info!(topic, partitions, "engine state is kept in the changelog");
    Ok(Some(Durable { changelog }))
}

pub struct Durable {
    changelog: Changelog,
}

impl Durable {
    /// The changelog entries of `changes`: those that belong to a source partition. Changes of keys
    /// last updated by a posted event have no partition to live in and are not saved.
    pub fn entries(book: &Rulebook, changes: Vec<StateChange>) -> Vec<Entry> {
        changes
            .into_iter()
            .filter_map(|change| entry(book, change))
            .collect()
    }

    /// Where entries are sent, for a write that must wait for something first.
    pub fn changelog(&self) -> &Changelog {
        &self.changelog
    }

    /// The saved state of `partition` that still fits `book`, retried until read or shutdown.
    pub async fn restore(
        &self,
        book: &Rulebook,
        (topic, partition): &Partition,
        mut shutdown: ShutdownSignal,
    ) -> Option<Vec<StateChange>> {
        loop {
            match self
                .changelog
                .restore(topic, *partition, RESTORE_TIMEOUT)
                .await
            {
                Ok(entries) => {
                    let read = entries.len();
                    let changes: Vec<StateChange> = entries
                        .into_iter()
                        .filter_map(|e| change(book, e))
                        .collect();
                    tracing::info!(
                        topic,
                        partition,
                        keys = changes.len(),
                        stale = read - changes.len(),
                        changelog = self.changelog.topic(),
                        "state restored"
                    );
                    return Some(changes);
                }
                Err(err) => log_restore_error(topic, *partition, &err),
            }
            tokio::select! {
                _ = tokio::time::sleep(RESTORE_BACKOFF) => {}
                _ = shutdown.requested() => return None,
            }
        }
    }
}

fn log_restore_error(topic: &str, partition: i32, err: &StateError) {
    tracing::error!(
        topic,
        partition,
        %err,
        "cannot restore the partition's state; its records wait until it is restored"
    );
}

fn fingerprint(book: &Rulebook, ruleset: &str, rule: &str) -> Option<String> {
    book.rulesets
        .iter()
        .find(|r| r.name == ruleset)
        .and_then(|r| r.rules.iter().find(|ru| ru.name == rule))
        .map(|rule| format!("{:016x}", rule.fingerprint))
}

fn entry(book: &Rulebook, change: StateChange) -> Option<Entry> {
    let source = change.source?;
    let state = match change.state {
        Some(state) => Some(json!({
            "fingerprint": fingerprint(book, &change.ruleset, &change.rule)?,
            "state": state,
        })),
        None => None,
    };
    Some(Entry {
        topic: source.topic,
        partition: source.partition,
        ruleset: change.ruleset,
        rule: change.rule,
        key: change.key,
        state,
    })
}

/// A saved entry back as an engine change, unless its rule is gone or was changed since.
fn change(book: &Rulebook, entry: Entry) -> Option<StateChange> {
    let mut saved = entry.state?;
    let current = fingerprint(book, &entry.ruleset, &entry.rule)?;
    if saved.get("fingerprint").and_then(Value::as_str) != Some(current.as_str()) {
        return None;
    }
    let state = saved.get_mut("state").map(Value::take)?;
    Some(StateChange {
        ruleset: entry.ruleset,
        rule: entry.rule,
        key: entry.key,
        source: Some(SourcePartition {
            topic: entry.topic,
            partition: entry.partition,
        }),
        state: Some(state),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(condition: &str) -> Rulebook {
        let source = format!(
            "- name: s\n  rules:\n    - name: r\n      condition: {condition}\n      throttle: {{once_within: 1 hour, group_by: [event.d]}}\n      action: {{debug: {{}}}}\n"
        );
        crate::rulebook::compile("b.yml", &source).unwrap()
    }

    fn saved(source: Option<(&str, i32)>, state: Option<Value>) -> StateChange {
        StateChange {
            ruleset: "s".into(),
            rule: "r".into(),
            key: "[\"d1\"]".into(),
            source: source.map(|(topic, partition)| SourcePartition {
                topic: topic.into(),
                partition,
            }),
            state,
        }
    }

    #[test]
    fn saved_state_comes_back_for_the_same_rule_definition() {
        let book = book("event.down");
        let original = saved(Some(("t", 2)), Some(json!({"opened_ms": 5})));
        let entry = entry(&book, original.clone()).unwrap();
        assert_eq!((entry.topic.as_str(), entry.partition), ("t", 2));
        assert_eq!(change(&book, entry), Some(original));
    }

    #[test]
    fn state_of_a_changed_rule_is_not_restored() {
        let written = entry(&book("event.down"), saved(Some(("t", 2)), Some(json!({})))).unwrap();
        assert_eq!(change(&book("event.up"), written), None);
    }

    #[test]
    fn removals_are_tombstones_and_partitionless_keys_are_not_saved() {
        let book = book("event.down");
        assert_eq!(
            entry(&book, saved(Some(("t", 0)), None)).unwrap().state,
            None
        );
        assert!(entry(&book, saved(None, Some(json!({})))).is_none());
    }
}
