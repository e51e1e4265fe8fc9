//! Events as the engine sees them: a parsed payload, its metadata (`meta`: topic, partition, offset,
//! key, timestamp, headers for Kafka records; anything the caller gives for offline tests), the
//! event time used by throttles and windows, and its typed [`Origin`]: the record it came from, set
//! by whoever built the event and never read back out of `meta`. Decoding from bytes lives here
//! too; transport does not.

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::{Rcvar, Variable};

mod json;

/// One event on its way through the engine.
#[derive(Debug, Clone)]
pub struct Event {
    pub payload: Rcvar,
    pub meta: Rcvar,
    /// Milliseconds since the Unix epoch, from `meta.timestamp` when the source gave one.
    pub time_ms: Option<i64>,
    /// The record the event came from; `None` for an event with no source position (an offline
    /// event without topic, partition and offset).
    pub origin: Option<Origin>,
}

/// Where an event's record sits in its source: what idempotency keys, the changelog's partition
/// ownership and replay detection are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The element of a batched record split by the source's `split_on`.
    pub batch_index: Option<usize>,
    /// 0 for the record's own event; N for the N-th event `post_event` posted while the record was
    /// evaluated (posted events share their cause's record), so that they are told apart.
    pub posted: u32,
}

/// The metadata of a Kafka record.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Meta {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    /// Record timestamp, milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub headers: BTreeMap<String, String>,
}

impl Meta {
    /// Built field by field: this runs for every record, and going through serde costs more.
    pub fn to_variable(&self) -> Variable {
        let string = |s: &str| Arc::new(Variable::String(s.to_owned()));
        let number = |n: i64| Arc::new(Variable::Number(n.into()));
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), string(value)))
            .collect();
        let fields = [
            ("topic", string(&self.topic)),
            ("partition", number(i64::from(self.partition))),
            ("offset", number(self.offset)),
            (
                "key",
                self.key
                    .as_deref()
                    .map_or_else(|| Arc::new(Variable::Null), string),
            ),
            (
                "timestamp",
                self.timestamp
                    .map_or_else(|| Arc::new(Variable::Null), number),
            ),
            ("headers", Arc::new(Variable::Object(headers))),
        ];
        Variable::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

/// A record payload that is not a JSON document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("payload is not valid UTF-8 (byte {valid_up_to})")]
    NotUtf8 { valid_up_to: usize },
    #[error("payload is not valid JSON: {0}")]
    NotJson(String),
    /// Rules read an event's fields, so a number, string, list or null could never match.
    #[error(
        "payload is JSON but not an object (it is {found}); rules read the fields of an object"
    )]
    NotAnObject { found: &'static str },
}

impl Event {
    /// Decodes a JSON payload; `meta` comes from the transport.
    pub fn decode(payload: &[u8], meta: &Meta) -> Result<Event, DecodeError> {
        let payload = decode_payload(payload)?;
        Ok(Event {
            payload: Arc::new(payload),
            meta: Arc::new(meta.to_variable()),
            time_ms: meta.timestamp,
            origin: Some(Origin {
                topic: meta.topic.clone(),
                partition: meta.partition,
                offset: meta.offset,
                batch_index: None,
                posted: 0,
            }),
        })
    }

    /// An offline event (`rules test`): the payload goes through the decoder `rules run` uses, so
    /// the two cannot read a record differently; `meta` as for [`Event::from_json`].
    pub fn decode_offline(payload: &[u8], meta: serde_json::Value) -> Result<Event, DecodeError> {
        let payload = decode_payload(payload)?;
        Ok(Event {
            payload: Arc::new(payload),
            time_ms: meta.get("timestamp").and_then(timestamp_ms),
            origin: origin_of(&meta),
            meta: Arc::new(Variable::try_from(meta).unwrap_or(Variable::Null)),
        })
    }

    /// An event from already-parsed JSON; `meta.timestamp` may be epoch
    /// milliseconds or an RFC 3339 string. The given `topic`, `partition` and `offset` (all three)
    /// are the event's origin, as if it had been read from that record.
    pub fn from_json(payload: serde_json::Value, meta: serde_json::Value) -> Event {
        let time_ms = meta.get("timestamp").and_then(timestamp_ms);
        let origin = origin_of(&meta);
        Event {
            payload: Arc::new(Variable::try_from(payload).unwrap_or(Variable::Null)),
            meta: Arc::new(Variable::try_from(meta).unwrap_or(Variable::Null)),
            time_ms,
            origin,
        }
    }
}

fn origin_of(meta: &serde_json::Value) -> Option<Origin> {
    Some(Origin {
        topic: meta.get("topic")?.as_str()?.to_owned(),
        partition: i32::try_from(meta.get("partition")?.as_i64()?).ok()?,
        offset: meta.get("offset")?.as_i64()?,
        batch_index: None,
        posted: 0,
    })
}

/// A record's value as an event payload: a JSON object.
fn decode_payload(payload: &[u8]) -> Result<Variable, DecodeError> {
    // serde_json checks UTF-8 as it parses; the separate check only names the failure.
    let payload = json::from_slice(payload).map_err(|err| match std::str::from_utf8(payload) {
        Err(utf8) => DecodeError::NotUtf8 {
            valid_up_to: utf8.valid_up_to(),
        },
        Ok(_) => DecodeError::NotJson(err.to_string()),
    })?;
    match not_an_object(&payload) {
        Some(found) => Err(DecodeError::NotAnObject { found }),
        None => Ok(payload),
    }
}

/// What a decoded payload is, when it is not an object.
fn not_an_object(payload: &Variable) -> Option<&'static str> {
    match payload {
        Variable::Object(_) => None,
        Variable::Null => Some("null"),
        Variable::Bool(_) => Some("a boolean"),
        Variable::Number(_) => Some("a number"),
        Variable::String(_) => Some("a string"),
        Variable::Array(_) => Some("a list"),
        Variable::Expref(_) => Some("an expression"),
    }
}

/// An offline `meta.timestamp`: epoch milliseconds or an RFC 3339 time.
pub fn timestamp_ms(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_json_and_keeps_meta() {
        let meta = Meta {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            key: Some("Q2".into()),
            timestamp: Some(1_700_000_000_000),
            headers: BTreeMap::new(),
        };
        let event = Event::decode(br#"{"lossPercent": 3}"#, &meta).unwrap();
        assert_eq!(event.time_ms, Some(1_700_000_000_000));
        let origin = event.origin.as_ref().unwrap();
        assert_eq!(
            (origin.topic.as_str(), origin.partition, origin.offset),
            ("t", 2, 7)
        );
        assert_eq!(
            event.meta.as_object().unwrap()["partition"].as_number(),
            Some(2.0)
        );
    }

    #[test]
    fn rejects_non_utf8_and_non_json_payloads() {
        let meta = Meta::default();
        assert_eq!(
            Event::decode(b"\xff\xfe", &meta).unwrap_err(),
            DecodeError::NotUtf8 { valid_up_to: 0 }
        );
        assert!(matches!(
            Event::decode(b"{nope", &meta),
            Err(DecodeError::NotJson(_))
        ));
    }

    #[test]
    fn json_that_is_not_an_object_is_its_own_error() {
        let meta = Meta::default();
        for (payload, found) in [
            (&b"42"[..], "a number"),
            (b"\"text\"", "a string"),
            (b"[1, 2]", "a list"),
            (b"null", "null"),
            (b"true", "a boolean"),
        ] {
            assert_eq!(
                Event::decode(payload, &meta).unwrap_err(),
                DecodeError::NotAnObject { found },
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
        assert!(Event::decode(b"{}", &meta).is_ok());
    }

    #[test]
    fn offline_timestamps_accept_millis_and_rfc3339() {
        let a = Event::from_json(
            serde_json::json!({}),
            serde_json::json!({"timestamp": 1000}),
        );
        let b = Event::from_json(
            serde_json::json!({}),
            serde_json::json!({"timestamp": "1970-01-01T00:00:01Z"}),
        );
        assert_eq!(a.time_ms, Some(1000));
        assert_eq!(b.time_ms, Some(1000));
    }

    #[test]
    fn offline_events_have_an_origin_only_with_topic_partition_and_offset() {
        let full = serde_json::json!({"topic": "t", "partition": 1, "offset": 9});
        let origin = Event::from_json(serde_json::json!({}), full)
            .origin
            .unwrap();
        assert_eq!(
            (origin.topic.as_str(), origin.partition, origin.offset),
            ("t", 1, 9)
        );
        let topic_only = serde_json::json!({"topic": "t"});
        assert!(
            Event::from_json(serde_json::json!({}), topic_only)
                .origin
                .is_none()
        );
    }
}
