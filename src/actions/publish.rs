//! The `publish` action: one Kafka record (topic, key, value, headers) produced through the
//! producer the caller configured, successful only once the broker acknowledged it (the delivery
//! report, awaited under a timeout). The default value is the firing: `{"event", "rule", "ruleset",
//! "idempotency_key"}` (plus `events` when several matched), and every record carries the
//! `Idempotency-Key` header. Producer settings are `config`'s; this module sets none.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};

use super::args::{Args, ArgsError, arg, text_or_json};
use super::context::{DispatchSettings, FiringInfo};
use super::retry::{Exhausted, RetryPolicy, Retryable, with_retry};
use super::webhook::IDEMPOTENCY_HEADER;
use crate::rulebook::action::spec::PublishSpec;

/// Why a record was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("no Kafka producer is configured for `publish`")]
    NoProducer,
    #[error("publishing to topic {topic} failed: {source}")]
    Delivery { topic: String, source: KafkaError },
    #[error("the broker did not acknowledge the record for topic {topic} within {timeout:?}")]
    Timeout { topic: String, timeout: Duration },
    #[error("the producer stopped before reporting delivery to topic {topic}")]
    Canceled { topic: String },
}

/// The record of one publish action, fully decided.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan {
    pub topic: String,
    pub key: Option<String>,
    pub value: String,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

/// Decides the record from the rendered arguments.
pub fn plan(
    args: &Value,
    firing: &FiringInfo<'_>,
    settings: &DispatchSettings,
) -> Result<PublishPlan, ArgsError> {
    let (args, spec): (Args, PublishSpec<Value>) = Args::parse("publish", args)?;
    let topic = args.required_text(arg!(spec.topic))?;
    if topic.trim().is_empty() {
        return Err(args.invalid("topic", "is empty"));
    }
    let value = match arg!(spec.value).value() {
        Some(value) => text_or_json(value),
        None => default_value(firing).to_string(),
    };
    let mut headers = args.text_map(arg!(spec.headers))?;
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(IDEMPOTENCY_HEADER))
    {
        headers.push((
            IDEMPOTENCY_HEADER.to_owned(),
            firing.idempotency_key.to_owned(),
        ));
    }
    Ok(PublishPlan {
        topic,
        key: arg!(spec.key).value().map(text_or_json),
        value,
        headers,
        timeout: args
            .duration(arg!(spec.timeout))?
            .unwrap_or(settings.timeout),
        retry: settings.retry.with_spec(&args, spec.retry.as_ref())?,
    })
}

/// Produces the record and waits for the broker's acknowledgement, retrying under the plan's
/// policy.
pub async fn publish(
    plan: &PublishPlan,
    producer: Option<&FutureProducer>,
) -> Result<(), Exhausted<PublishError>> {
    let Some(producer) = producer else {
        return Err(Exhausted {
            error: PublishError::NoProducer,
            attempts: 0,
        });
    };
    with_retry(&plan.retry, "publish", || produce_once(plan, producer)).await
}

/// The record as `rules test` shows it.
pub fn preview(plan: &PublishPlan) -> Value {
    let headers: serde_json::Map<String, Value> = plan
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "topic": plan.topic,
        "key": plan.key,
        "value": plan.value,
        "headers": headers,
        "timeout_ms": plan.timeout.as_millis(),
        "attempts": plan.retry.attempts,
    })
}

async fn produce_once(plan: &PublishPlan, producer: &FutureProducer) -> Result<(), PublishError> {
    let headers = plan
        .headers
        .iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            })
        });
    let mut record = FutureRecord::<str, str>::to(&plan.topic)
        .payload(&plan.value)
        .headers(headers);
    if let Some(key) = &plan.key {
        record = record.key(key);
    }
    let delivery = producer
        .send_result(record)
        .map_err(|(source, _)| PublishError::Delivery {
            topic: plan.topic.clone(),
            source,
        })?;
    let report = tokio::time::timeout(plan.timeout, delivery)
        .await
        .map_err(|_| PublishError::Timeout {
            topic: plan.topic.clone(),
            timeout: plan.timeout,
        })?
        .map_err(|_| PublishError::Canceled {
            topic: plan.topic.clone(),
        })?;
    let delivered = report.map_err(|(source, _)| PublishError::Delivery {
        topic: plan.topic.clone(),
        source,
    })?;
    tracing::debug!(
        topic = plan.topic,
        partition = delivered.partition,
        offset = delivered.offset,
        "record acknowledged"
    );
    Ok(())
}

fn default_value(firing: &FiringInfo<'_>) -> Value {
    let mut value = json!({
        "event": firing.event(),
        "rule": firing.rule,
        "ruleset": firing.ruleset,
        "idempotency_key": firing.idempotency_key,
    });
    if firing.events.len() > 1 {
        value["events"] = Value::from(firing.events.to_vec());
    }
    value
}

impl Retryable for PublishError {
    /// Errors that another attempt cannot fix: no producer, a record too large, no permission.
    fn is_transient(&self) -> bool {
        match self {
            PublishError::NoProducer => false,
            PublishError::Delivery { source, .. } => !matches!(
                source.rdkafka_error_code(),
                Some(
                    RDKafkaErrorCode::MessageSizeTooLarge
                        | RDKafkaErrorCode::InvalidMessageSize
                        | RDKafkaErrorCode::TopicAuthorizationFailed
                        | RDKafkaErrorCode::ClusterAuthorizationFailed
                        | RDKafkaErrorCode::InvalidTopic
                )
            ),
            PublishError::Timeout { .. } | PublishError::Canceled { .. } => true,
        }
    }
}
