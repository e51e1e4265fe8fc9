//! The state changelog against the real broker: the topic is created compacted with enough
//! partitions, a too-small existing topic is refused, and a restore returns exactly the live
//! entries of the asked source partition, last write per key, oldest first.

mod common;

use std::time::Duration;

use common::kafka::{PARTITIONS, fresh_topic, plaintext_connection};
use common::unique_name;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use semaphore::kafka::check_topic;
use semaphore::shutdown::Shutdown;
use semaphore::state::{Changelog, Entry, StateError};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(20);

fn entry(topic: &str, partition: i32, key: &str, state: Option<serde_json::Value>) -> Entry {
    Entry {
        topic: topic.to_owned(),
        partition,
        ruleset: "Uplinks".to_owned(),
        rule: "Sustained loss".to_owned(),
        key: key.to_owned(),
        state,
    }
}

async fn cleanup_policy(topic: &str) -> String {
    let admin: AdminClient<DefaultClientContext> = plaintext_connection()
        .client_config()
        .expect("valid settings")
        .create()
        .expect("admin client");
    let described = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .expect("describe_configs answered");
    let resource = described
        .into_iter()
        .next()
        .expect("one resource")
        .expect("topic described");
    resource
        .get("cleanup.policy")
        .and_then(|entry| entry.value.clone())
        .expect("cleanup.policy is set")
}

#[tokio::test]
async fn a_missing_changelog_is_created_compacted_with_enough_partitions() {
    let connection = plaintext_connection();
    let name = unique_name("state");
    let changelog = Changelog::open(&connection, &name, 4, TIMEOUT)
        .await
        .expect("changelog opened");
    assert_eq!(changelog.topic(), name);
    let info = check_topic(&connection, &name, TIMEOUT)
        .await
        .expect("created");
    assert_eq!(info.partitions, 4);
    assert_eq!(cleanup_policy(&name).await, "compact");
}

#[tokio::test]
async fn an_existing_changelog_with_too_few_partitions_is_refused() {
    let existing = fresh_topic("state-small").await;
    let needs = PARTITIONS + 2;
    let refused = Changelog::open(&plaintext_connection(), &existing, needs, TIMEOUT).await;
    let Err(err @ StateError::TooFewPartitions { has, .. }) = refused else {
        panic!("expected a refusal, got {:?}", refused.err());
    };
    assert_eq!(has, PARTITIONS);
    let message = err.to_string();
    assert!(message.contains(&existing), "{message}");
    assert!(message.contains("--state-topic"), "{message}");
}

#[tokio::test]
async fn a_restore_returns_the_last_live_write_per_key_of_one_source_partition() {
    let connection = plaintext_connection();
    let changelog = Changelog::open(&connection, &unique_name("state"), 3, TIMEOUT)
        .await
        .expect("changelog opened");
    let shutdown = Shutdown::listen().expect("signal listener");
    let writes = [
        entry("loss", 1, "a", Some(json!({"count": 1}))),
        entry("loss", 1, "b", Some(json!({"count": 1}))),
        entry("loss", 1, "a", Some(json!({"count": 2}))),
        entry("loss", 1, "c", Some(json!({"count": 1}))),
        entry("loss", 1, "b", None),
        // Same changelog partition, other source topic; other partition of the same topic.
        entry("clients", 1, "a", Some(json!({"count": 9}))),
        entry("loss", 2, "a", Some(json!({"count": 7}))),
    ];
    let pending = changelog.send(writes.to_vec());
    assert!(pending.acknowledged(shutdown.signal()).await);

    let restored = changelog
        .restore("loss", 1, TIMEOUT)
        .await
        .expect("restored");
    assert_eq!(
        restored,
        vec![
            entry("loss", 1, "a", Some(json!({"count": 2}))),
            entry("loss", 1, "c", Some(json!({"count": 1}))),
        ]
    );
    let other = changelog
        .restore("loss", 2, TIMEOUT)
        .await
        .expect("restored");
    assert_eq!(
        other,
        vec![entry("loss", 2, "a", Some(json!({"count": 7})))]
    );
}

#[tokio::test]
async fn restoring_a_partition_never_written_is_empty() {
    let changelog = Changelog::open(&plaintext_connection(), &unique_name("state"), 2, TIMEOUT)
        .await
        .expect("changelog opened");
    let restored = changelog
        .restore("loss", 0, TIMEOUT)
        .await
        .expect("restored");
    assert!(restored.is_empty(), "{restored:?}");
}
