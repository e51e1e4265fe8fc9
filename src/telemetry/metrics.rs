//! The Prometheus recorder behind the `metrics` facade: the name of every metric semaphore records,
//! its help text and histogram buckets, and the rendering of the text exposition for `/metrics`.
//! The I/O layers (`pipeline`, `actions`, `meraki`, `cli`) record through these names; nothing is
//! recorded (the facade is a no-op) unless a command was started with `--metrics-addr`. Serving the
//! text is [`super::http`]'s job. Labels are bounded by construction: topics, rulesets, rules,
//! action kinds, outcomes and reason kinds, never serials, MACs, keys or payload values.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::TelemetryError;

/// Records read from Kafka, by `topic`.
pub const RECORDS_CONSUMED: &str = "semaphore_records_consumed_total";
/// Records whose value is not UTF-8 JSON, by `topic`.
pub const DECODE_ERRORS: &str = "semaphore_decode_errors_total";
/// Records whose value is JSON but not an object, by `topic`.
pub const NOT_OBJECTS: &str = "semaphore_records_not_objects_total";
/// Conditions evaluated, by `ruleset` and `rule`.
pub const RULE_EVALUATIONS: &str = "semaphore_rule_evaluations_total";
/// Conditions that matched (before throttling), by `ruleset` and `rule`.
pub const RULE_MATCHES: &str = "semaphore_rule_matches_total";
/// Firings (actions started), by `ruleset` and `rule`.
pub const RULE_FIRINGS: &str = "semaphore_rule_firings_total";
/// Matches held back or suppressed by a throttle, by `ruleset` and `rule`.
pub const THROTTLE_SUPPRESSED: &str = "semaphore_throttle_suppressed_total";
/// Conditions that could not be evaluated (counted as no match), by `ruleset` and `rule`.
pub const EVALUATION_ERRORS: &str = "semaphore_evaluation_errors_total";
/// Engine time per record, in seconds.
pub const EVALUATION_SECONDS: &str = "semaphore_evaluation_duration_seconds";
/// Actions finished, by `action` (kind) and `outcome` (ok, retried, failed).
pub const ACTIONS: &str = "semaphore_actions_total";
/// Attempts of an action repeated after a transient failure, by `action`.
pub const ACTION_RETRIES: &str = "semaphore_action_retries_total";
/// Dead letters written to a dead-letter topic, by `reason` (decode, not_an_object, action,
/// timer_action).
pub const DEAD_LETTERS: &str = "semaphore_dead_letters_total";
/// Dead letters the broker refused for good whose value went to the dead-letter directory, by
/// `reason`.
pub const DEAD_LETTERS_SPOOLED: &str = "semaphore_dead_letters_spooled_total";
/// Records not yet read, by `topic` and `partition` (librdkafka's statistics).
pub const CONSUMER_LAG: &str = "semaphore_consumer_lag";
/// The group's committed offset, by `topic` and `partition`.
pub const COMMITTED_OFFSET: &str = "semaphore_committed_offset";
/// Meraki Dashboard API requests, by `endpoint` (path with ids replaced) and `status` (2xx, 4xx,
/// 5xx, error for a transport failure).
pub const MERAKI_API_CALLS: &str = "semaphore_meraki_api_calls_total";
/// 429 answers of the Dashboard API, by `endpoint`.
pub const MERAKI_RATE_LIMITED: &str = "semaphore_meraki_rate_limited_total";
/// Records delivered by `publish`, by `sink` (kafka, syslog, stdout).
pub const RECORDS_PUBLISHED: &str = "semaphore_records_published_total";
/// Records `publish` could not deliver, by `sink`.
pub const PUBLISH_FAILURES: &str = "semaphore_publish_failures_total";
/// Duration of one `publish` cycle, in seconds.
pub const CYCLE_SECONDS: &str = "semaphore_publish_cycle_duration_seconds";
/// Completed `publish` cycles, by `outcome` (ok, failed).
pub const CYCLES: &str = "semaphore_publish_cycles_total";

/// Engine time per record: most events take microseconds; the upper buckets catch pathological
/// conditions (fuzzy matching, huge batches).
const EVALUATION_BUCKETS: [f64; 12] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025, 0.1,
    1.0,
];
/// A publish cycle takes from under a second (one small org) to many minutes (per-device polling).
const CYCLE_BUCKETS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];

/// The installed recorder; render it for a scrape.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the Prometheus recorder as the process's global recorder and describes every metric.
    /// Fails if a recorder is installed already.
    pub fn install() -> Result<Metrics, TelemetryError> {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(EVALUATION_SECONDS.to_owned()),
                &EVALUATION_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(CYCLE_SECONDS.to_owned()), &CYCLE_BUCKETS)
            })
            .map_err(|err| TelemetryError::Metrics(err.to_string()))?;
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder)
            .map_err(|err| TelemetryError::Metrics(err.to_string()))?;
        describe();
        Ok(Metrics { handle })
    }

    /// The text exposition format. Upkeep first: it folds recent histogram samples in and
    /// publishes the descriptions, and nothing else runs it.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe() {
    describe_counter!(RECORDS_CONSUMED, "Records read from Kafka, by topic.");
    describe_counter!(
        DECODE_ERRORS,
        "Records whose value is not UTF-8 JSON (dead-lettered), by topic."
    );
    describe_counter!(
        NOT_OBJECTS,
        "Records whose value is JSON but not an object (dead-lettered), by topic."
    );
    describe_counter!(RULE_EVALUATIONS, "Rule conditions evaluated.");
    describe_counter!(
        RULE_MATCHES,
        "Rule conditions that matched, before throttling."
    );
    describe_counter!(RULE_FIRINGS, "Rule firings: actions started.");
    describe_counter!(
        THROTTLE_SUPPRESSED,
        "Matches held back or suppressed by a throttle."
    );
    describe_counter!(
        EVALUATION_ERRORS,
        "Conditions that could not be evaluated; each counts as no match."
    );
    describe_histogram!(
        EVALUATION_SECONDS,
        Unit::Seconds,
        "Engine time per record (all rulesets)."
    );
    describe_counter!(
        ACTIONS,
        "Actions finished, by kind and outcome: ok, retried (ok after retries), failed (after its retries)."
    );
    describe_counter!(
        ACTION_RETRIES,
        "Action attempts repeated after a transient failure."
    );
    describe_counter!(
        DEAD_LETTERS,
        "Dead letters written to a dead-letter topic, by reason: decode, not_an_object, action or timer_action."
    );
    describe_counter!(
        DEAD_LETTERS_SPOOLED,
        "Dead letters the broker refused for good (too large, invalid, not allowed) whose value was kept in the dead-letter directory, by reason."
    );
    describe_gauge!(
        CONSUMER_LAG,
        "Records in the partition not yet read by this member (librdkafka statistics)."
    );
    describe_gauge!(
        COMMITTED_OFFSET,
        "Offset committed by the consumer group (librdkafka statistics)."
    );
    describe_counter!(
        MERAKI_API_CALLS,
        "Meraki Dashboard API requests, by endpoint and status class."
    );
    describe_counter!(
        MERAKI_RATE_LIMITED,
        "Meraki Dashboard API answers 429 Too Many Requests."
    );
    describe_counter!(RECORDS_PUBLISHED, "Records delivered by publish, by sink.");
    describe_counter!(
        PUBLISH_FAILURES,
        "Records publish could not deliver, by sink."
    );
    describe_histogram!(
        CYCLE_SECONDS,
        Unit::Seconds,
        "Duration of one publish cycle."
    );
    describe_counter!(CYCLES, "Publish cycles finished, by outcome: ok or failed.");
}
