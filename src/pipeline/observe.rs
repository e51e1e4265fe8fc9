//! What `rules run` measures: records and decode errors per topic, the engine's per-rule counters
//! turned into Prometheus counters, evaluation latency, and librdkafka's statistics (lag, committed
//! offset, broker state) turned into gauges and readiness. Metric handles are registered once and
//! kept, so the per-record cost is an atomic add. Without `--metrics-addr` the `metrics` facade is a
//! no-op and so is all of this. The names live in [`crate::telemetry::metrics`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use metrics::{Counter, Histogram, counter, gauge, histogram};
use rdkafka::statistics::Statistics;

use crate::engine::{Engine, RuleCounts, RuleError};
use crate::rulebook::Rulebook;
use crate::telemetry::metrics as names;
use crate::telemetry::readiness::Readiness;

/// Readiness check: a broker connection is up.
pub const BROKER: &str = "broker";
/// Readiness check: this member owns at least one partition.
pub const PARTITIONS: &str = "partitions";

/// How often the engine's per-rule counters are copied into the metrics.
const RULE_FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Counters of one topic.
struct TopicCounters {
    consumed: Counter,
    decode_errors: Counter,
    not_objects: Counter,
}

/// Counters of one rule and the engine totals already added to them.
struct RuleCounters {
    evaluations: Counter,
    matches: Counter,
    throttled: Counter,
    firings: Counter,
    recorded: RuleCounts,
}

/// The pipeline's metric handles.
pub struct Observer {
    topics: HashMap<String, TopicCounters>,
    /// By ruleset, then rule, as in the rulebook.
    rules: Vec<Vec<RuleCounters>>,
    evaluation: Histogram,
    flushed_at: Instant,
}

impl Observer {
    pub fn new(book: &Rulebook, topics: &[String]) -> Observer {
        let mut observer = Observer {
            topics: HashMap::new(),
            rules: rules_of(book),
            evaluation: histogram!(names::EVALUATION_SECONDS),
            flushed_at: Instant::now(),
        };
        // Known topics show up with 0 at once, so a scrape before the first record sees them.
        for topic in topics {
            observer.topic(topic);
        }
        observer
    }

    /// Follows a reloaded rulebook: the engine's counters restart from 0 with it, and so do the
    /// handles' baselines. Call [`Self::flush_rules`] with the old engine state first.
    pub fn reload(&mut self, book: &Rulebook) {
        self.rules = rules_of(book);
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

    pub fn evaluated_in(&self, elapsed: Duration) {
        self.evaluation.record(elapsed.as_secs_f64());
    }

    /// Copies the engine's per-rule totals into the counters, at most once a second unless
    /// `force`d (at the end of the run).
    pub fn flush_rules(&mut self, engine: &Engine, force: bool) {
        if !force && self.flushed_at.elapsed() < RULE_FLUSH_EVERY {
            return;
        }
        self.flushed_at = Instant::now();
        let stats = engine.stats();
        for (r, ruleset) in self.rules.iter_mut().enumerate() {
            for (i, counters) in ruleset.iter_mut().enumerate() {
                counters.catch_up(stats.get(r, i));
            }
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

fn rules_of(book: &Rulebook) -> Vec<Vec<RuleCounters>> {
    book.rulesets
        .iter()
        .map(|ruleset| {
            ruleset
                .rules
                .iter()
                .map(|rule| rule_counters(&ruleset.name, &rule.name))
                .collect()
        })
        .collect()
}

impl RuleCounters {
    /// Adds what the engine counted since the last call. Saturating: an engine started afresh (a
    /// new rulebook) counts from 0 again.
    fn catch_up(&mut self, now: RuleCounts) {
        let before = self.recorded;
        let delta = |now: u64, before: u64| now.saturating_sub(before);
        self.evaluations
            .increment(delta(now.evaluations, before.evaluations));
        self.matches.increment(delta(now.matches, before.matches));
        self.throttled
            .increment(delta(now.throttled, before.throttled));
        self.firings.increment(delta(now.firings, before.firings));
        self.recorded = now;
    }
}

fn rule_counters(ruleset: &str, rule: &str) -> RuleCounters {
    let labels = [("ruleset", ruleset.to_owned()), ("rule", rule.to_owned())];
    RuleCounters {
        evaluations: counter!(names::RULE_EVALUATIONS, &labels),
        matches: counter!(names::RULE_MATCHES, &labels),
        throttled: counter!(names::THROTTLE_SUPPRESSED, &labels),
        firings: counter!(names::RULE_FIRINGS, &labels),
        recorded: RuleCounts::default(),
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
