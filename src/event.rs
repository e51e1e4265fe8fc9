//! Events as the engine sees them: a parsed payload, its metadata (`meta`: topic, partition, offset,
//! key, timestamp, headers for Kafka records; anything the caller gives for offline tests), the
//! event time used by throttles and windows, and its typed [`Origin`]: the record it came from, set
//! by whoever built the event and never read back out of `meta`. Decoding from bytes lives here
//! too, whole or only as far as a rulebook's expressions read ([`Reads`]); what was left out is
//! built from the kept bytes and metadata on first use. Transport does not live here.

use std::sync::{Arc, LazyLock, OnceLock};

use jmespath::{Rcvar, Variable};

mod decode;
mod json;
pub(crate) mod lookup;
mod meta;
mod needed;
mod prune;

pub use meta::Meta;
pub use needed::{Needed, Reads};

/// One event on its way through the engine.
#[derive(Debug, Clone)]
pub struct Event {
    /// What conditions read: the whole payload, or, when decoded for a rulebook, only the parts its
    /// conditions, group keys and windows read. Anything that keeps or shows the event (state,
    /// firings, templates, `--explain`) takes [`Event::whole_payload`] instead.
    pub payload: Rcvar,
    /// Like `payload`: null when decoded for a rulebook that reads no `meta`; the metadata itself
    /// is [`Event::whole_meta`].
    pub meta: Rcvar,
    /// Milliseconds since the Unix epoch, from `meta.timestamp` when the source gave one.
    pub time_ms: Option<i64>,
    /// The record the event came from; `None` for an event with no source position (an offline
    /// event without topic, partition and offset).
    pub origin: Option<Origin>,
    /// What was left out of `payload` and `meta`, to build once if something needs it; `None` when
    /// both are whole. Shared by the event's clones.
    deferred: Option<Arc<Deferred>>,
}

#[derive(Debug, Default)]
struct Deferred {
    /// The payload's bytes, when it was decoded only in part.
    bytes: Option<Box<[u8]>>,
    payload: OnceLock<Rcvar>,
    /// The record's metadata, when no expression reads it.
    meta: Option<Meta>,
    meta_value: OnceLock<Rcvar>,
}

/// `meta` of an event whose rulebook does not read it: shared, as it stands in for every record's.
static UNREAD: LazyLock<Rcvar> = LazyLock::new(|| Arc::new(Variable::Null));

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
    /// An event whose payload and meta are whole.
    pub fn new(payload: Rcvar, meta: Rcvar, time_ms: Option<i64>, origin: Option<Origin>) -> Event {
        Event {
            payload,
            meta,
            time_ms,
            origin,
            deferred: None,
        }
    }

    /// Decodes a JSON payload whole; `meta` comes from the transport.
    pub fn decode(payload: &[u8], meta: &Meta) -> Result<Event, DecodeError> {
        Event::decode_reading(payload, meta.clone(), &Reads::everything())
    }

    /// Decodes a JSON payload, building only what `reads` says is read (what a rulebook's
    /// expressions read, [`crate::rulebook::Rulebook::reads`]); the rest is checked now and built on
    /// demand. The same payloads are rejected, with the same errors, as by [`Event::decode`].
    pub fn decode_reading(payload: &[u8], meta: Meta, reads: &Reads) -> Result<Event, DecodeError> {
        let (payload, bytes) = decode::payload(payload, &reads.payload)?;
        let origin = Some(Origin {
            topic: meta.topic.clone(),
            partition: meta.partition,
            offset: meta.offset,
            batch_index: None,
            posted: 0,
        });
        let time_ms = meta.timestamp;
        let (meta, meta_left_out) = if reads.meta {
            (Arc::new(meta.to_variable()), None)
        } else {
            (UNREAD.clone(), Some(meta))
        };
        let deferred = (bytes.is_some() || meta_left_out.is_some()).then(|| {
            Arc::new(Deferred {
                bytes,
                meta: meta_left_out,
                ..Deferred::default()
            })
        });
        Ok(Event {
            payload,
            meta,
            time_ms,
            origin,
            deferred,
        })
    }

    /// An offline event (`rules test`): the payload goes through the decoder `rules run` uses, so
    /// the two cannot read a record differently; `meta` as for [`Event::from_json`].
    pub fn decode_offline(payload: &[u8], meta: serde_json::Value) -> Result<Event, DecodeError> {
        Event::decode_offline_reading(payload, meta, &Needed::Whole)
    }

    /// [`Event::decode_offline`], building only what `reads` says is read of the payload, like
    /// [`Event::decode_reading`].
    pub fn decode_offline_reading(
        payload: &[u8],
        meta: serde_json::Value,
        reads: &Needed,
    ) -> Result<Event, DecodeError> {
        let (payload, bytes) = decode::payload(payload, reads)?;
        Ok(Event {
            payload,
            time_ms: meta.get("timestamp").and_then(timestamp_ms),
            origin: origin_of(&meta),
            meta: Arc::new(Variable::try_from(meta).unwrap_or(Variable::Null)),
            deferred: bytes.map(|bytes| {
                Arc::new(Deferred {
                    bytes: Some(bytes),
                    ..Deferred::default()
                })
            }),
        })
    }

    /// An event from already-parsed JSON; `meta.timestamp` may be epoch
    /// milliseconds or an RFC 3339 string. The given `topic`, `partition` and `offset` (all three)
    /// are the event's origin, as if it had been read from that record.
    pub fn from_json(payload: serde_json::Value, meta: serde_json::Value) -> Event {
        let time_ms = meta.get("timestamp").and_then(timestamp_ms);
        let origin = origin_of(&meta);
        Event::new(
            Arc::new(Variable::try_from(payload).unwrap_or(Variable::Null)),
            Arc::new(Variable::try_from(meta).unwrap_or(Variable::Null)),
            time_ms,
            origin,
        )
    }

    /// The whole payload, exactly as [`Event::decode`] builds it: decoded from the kept bytes on
    /// the first call when only part of it was, then shared.
    pub fn whole_payload(&self) -> Rcvar {
        let Some((deferred, bytes)) = self
            .deferred
            .as_ref()
            .and_then(|d| Some((d, d.bytes.as_ref()?)))
        else {
            return self.payload.clone();
        };
        let whole = deferred.payload.get_or_init(|| {
            // The bytes decoded once already, through the same checks, so this cannot fail; if it
            // did, the part decoded is still the best there is.
            json::from_slice(bytes).map_or_else(|_| self.payload.clone(), Arc::new)
        });
        whole.clone()
    }

    /// The whole `meta`, exactly as [`Event::decode`] builds it: built on the first call when no
    /// expression read it, then shared.
    pub fn whole_meta(&self) -> Rcvar {
        let Some((deferred, meta)) = self
            .deferred
            .as_ref()
            .and_then(|d| Some((d, d.meta.as_ref()?)))
        else {
            return self.meta.clone();
        };
        let whole = deferred
            .meta_value
            .get_or_init(|| Arc::new(meta.to_variable()));
        whole.clone()
    }

    /// Whether the payload holds only part of the record (the rest is built on demand).
    pub fn is_partial(&self) -> bool {
        self.deferred.as_ref().is_some_and(|d| d.bytes.is_some())
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
    use std::collections::BTreeMap;

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
