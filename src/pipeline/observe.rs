//! What `rules run` measures: records and decode errors per topic, the per-rule counts the engine
//! shards report turned into Prometheus counters, and librdkafka's statistics (lag, committed
//! offset, broker state) turned into gauges and readiness. Per-record metric handles are registered
//! once and kept, so the per-record cost is an atomic add (the shards record evaluation latency). Without `--metrics-addr` the `metrics` facade is a
//! no-op and so is all of this. The names live in [`crate::telemetry::metrics`].

use std::collections::HashMap;

use metrics::{Counter, counter, gauge};
use rdkafka::statistics::Statistics;

use crate::engine::{RuleCounts, RuleError};
use crate::telemetry::metrics as names;
use crate::telemetry::readiness::Readiness;

/// Readiness check: a broker connection is up.
pub const BROKER: &str = "broker";
/// Readiness check: this member owns at least one partition.
pub const PARTITIONS: &str = "partitions";

/// Counters of one topic.
struct TopicCounters {
    consumed: Counter,
    decode_errors: Counter,
    not_objects: Counter,
}

/// The pipeline's metric handles.
pub struct Observer {
    topics: HashMap<String, TopicCounters>,
}

impl Observer {
    pub fn new(topics: &[String]) -> Observer {
        let mut observer = Observer {
            topics: HashMap::new(),
        };
        // Known topics show up with 0 at once, so a scrape before the first record sees them.
        for topic in topics {
            observer.topic(topic);
        }
        observer
    }

    pub fn consumed(&mut self, topic: &str) {
        self.topic(topic).consumed.increment(1);
    }

    pub fn decode_error(&mut self, topic: &str) {
        self.topic(topic).decode_errors.increment(1);
    }

    pub fn not_an_object(&mut self, topic: &str) {
        self.topic(topic).not_objects.increment(1);
    }

    /// Adds what a shard's engine counted per rule since its last report. The handles are looked
    /// up by name: shards report about once a second, and a reload may move rules.
    pub fn count_rules(&mut self, rules: &[(String, String, RuleCounts)]) {
        for (ruleset, rule, counts) in rules {
            let labels = [("ruleset", ruleset.clone()), ("rule", rule.clone())];
            counter!(names::RULE_EVALUATIONS, &labels).increment(counts.evaluations);
            counter!(names::RULE_MATCHES, &labels).increment(counts.matches);
            counter!(names::THROTTLE_SUPPRESSED, &labels).increment(counts.throttled);
            counter!(names::RULE_FIRINGS, &labels).increment(counts.firings);
        }
    }

    fn topic(&mut self, topic: &str) -> &TopicCounters {
        if !self.topics.contains_key(topic) {
            let counters = TopicCounters {
                consumed: counter!(names::RECORDS_CONSUMED, "topic" => topic.to_owned()),
                decode_errors: counter!(names::DECODE_ERRORS, "topic" => topic.to_owned()),
                not_objects: counter!(names::NOT_OBJECTS, "topic" => topic.to_owned()),
            };
            self.topics.insert(topic.to_owned(), counters);
        }
        &self.topics[topic]
    }
}

/// A condition that could not be evaluated (rare: the counter is looked up each time).
pub fn evaluation_error(error: &RuleError) {
    let labels = [
        ("ruleset", error.ruleset.clone()),
        ("rule", error.rule.clone()),
    ];
    counter!(names::EVALUATION_ERRORS, &labels).increment(1);
}

/// librdkafka's periodic statistics (`statistics.interval.ms`): lag and committed offset of every
/// partition this member fetches, and whether any broker connection is up.
pub fn record_statistics(statistics: &Statistics, readiness: &Readiness) {
    for (name, topic) in &statistics.topics {
        // Partition -1 is librdkafka's internal "unassigned" queue; `desired` marks ours.
        for partition in topic.partitions.values() {
            if partition.partition < 0 || !partition.desired {
                continue;
            }
            let labels = [
                ("topic", name.clone()),
                ("partition", partition.partition.to_string()),
            ];
            if partition.consumer_lag >= 0 {
                gauge!(names::CONSUMER_LAG, &labels).set(partition.consumer_lag as f64);
            }
            if partition.committed_offset >= 0 {
                gauge!(names::COMMITTED_OFFSET, &labels).set(partition.committed_offset as f64);
            }
        }
    }
    // Bootstrap entries (node id -1) only stand for the configured addresses.
    let up = statistics
        .brokers
        .values()
        .any(|broker| broker.nodeid >= 0 && broker.state == "UP");
    if up {
        readiness.pass(BROKER);
    } else {
        readiness.fail(BROKER, "no broker connection is up");
    }
}
