//! One dead letter as it is published: where it goes, the key and value it carries, the headers
//! (the original ones, then semaphore's), and the stem of the spool files it would be kept in; and
//! the small dead letter that stands in for one the broker refused, pointing at its spool file.

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::Reason;
use super::spool::Spooled;
use crate::pipeline::SourceRecord;

/// A dead letter ready to publish. It borrows the key and value of what it reports.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    /// The dead-letter topic.
    pub topic: String,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// The original headers, then semaphore's (`semaphore.*`).
    pub headers: Vec<(String, Vec<u8>)>,
    /// `semaphore.error.kind`, also the metrics' `reason` label.
    pub kind: &'static str,
    pub error: &'a str,
    /// What is dead-lettered, for the log line: `record` or `timer firing`.
    pub what: &'static str,
    /// Where it came from, for the log line: `topic/partition@offset` or an idempotency key.
    pub origin: String,
    /// The stem of its spool files: one per dead letter, the same on every replay of it.
    pub spool_name: String,
}

impl<'a> Letter<'a> {
    /// The dead letter of `record`: its key, value and headers, plus what went wrong and where the
    /// record came from and, for actions, the rule.
    pub fn of_record(record: &'a SourceRecord, reason: &'a Reason, topic: String) -> Letter<'a> {
        let mut ours: Vec<(&str, String)> = vec![
            ("semaphore.error", reason.error().to_owned()),
            ("semaphore.error.kind", reason.kind().to_owned()),
            ("semaphore.source.topic", record.topic.clone()),
            ("semaphore.source.partition", record.partition.to_string()),
            ("semaphore.source.offset", record.offset.to_string()),
        ];
        let mut identity = format!(
            "{}\0{}\0{}\0{}",
            record.topic,
            record.partition,
            record.offset,
            reason.kind()
        );
        if let Reason::ActionFailed { rule, action, .. } = reason {
            ours.push(("semaphore.rule", rule.clone()));
            ours.push(("semaphore.action", action.clone()));
            identity.push_str(&format!("\0{rule}\0{action}"));
        }
        let mut headers = record.headers.clone();
        headers.extend(
            ours.into_iter()
                .map(|(k, v)| (k.to_owned(), v.into_bytes())),
        );
        let spool_name = format!(
            "{}-{}-{}-{}-{}",
            file_safe(&record.topic),
            record.partition,
            record.offset,
            reason.kind(),
            short_hash(identity.as_bytes())
        );
        Letter {
            topic,
            key: record.key.as_deref(),
            value: record.value.as_deref(),
            headers,
            kind: reason.kind(),
            error: reason.error(),
            what: "record",
            origin: format!("{}/{}@{}", record.topic, record.partition, record.offset),
            spool_name,
        }
    }

    /// The record to hand to the producer.
    pub fn message(&self) -> FutureRecord<'_, [u8], [u8]> {
        let headers = self
            .headers
            .iter()
            .fold(OwnedHeaders::new(), |headers, (key, value)| {
                headers.insert(Header {
                    key,
                    value: Some(value.as_slice()),
                })
            });
        let mut message = FutureRecord::to(&self.topic).headers(headers);
        if let Some(key) = self.key {
            message = message.key(key);
        }
        if let Some(value) = self.value {
            message = message.payload(value);
        }
        message
    }

    /// The value of the small dead letter that replaces this one after the broker refused it: a
    /// JSON document naming the spool file, with the value's size and SHA-256.
    pub fn spool_note(&self, spooled: &Spooled, refused: &str) -> Vec<u8> {
        json!({
            "spooled": {
                "file": spooled.file,
                "dir": spooled.dir.display().to_string(),
                "size": spooled.size,
                "sha256": spooled.sha256,
            },
            "error": self.error,
            "refused": refused,
        })
        .to_string()
        .into_bytes()
    }

    /// The small dead letter: the same key and headers, `note` as its value, and headers that name
    /// the spool file, the value's size and SHA-256, and why the broker refused the whole one.
    pub fn pointing_to<'n>(&self, spooled: &Spooled, refused: &str, note: &'n [u8]) -> Letter<'n>
    where
        'a: 'n,
    {
        let mut headers = self.headers.clone();
        for (key, value) in [
            ("semaphore.spooled.file", spooled.file.clone()),
            ("semaphore.spooled.size", spooled.size.to_string()),
            ("semaphore.spooled.sha256", spooled.sha256.clone()),
            ("semaphore.spooled.refused", refused.to_owned()),
        ] {
            headers.push((key.to_owned(), value.into_bytes()));
        }
        Letter {
            value: Some(note),
            headers,
            ..self.clone()
        }
    }
}

/// The SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// 16 hex digits of the SHA-256 of `bytes`: enough to tell dead letters of one record apart.
pub fn short_hash(bytes: &[u8]) -> String {
    sha256_hex(bytes)[..16].to_owned()
}

/// `text` as a file-name part: letters, digits, `.`, `_` and `-` kept, anything else `_`, at most
/// 100 characters (a topic name may have 249; the hash beside it keeps names unique).
pub fn file_safe(text: &str) -> String {
    text.chars()
        .take(100)
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SourceRecord {
        SourceRecord {
            topic: "meraki.uplinks".into(),
            partition: 3,
            offset: 18_422,
            key: Some(b"Q2XX".to_vec()),
            value: Some(vec![0xff, 0x00, 0x7b]),
            timestamp: None,
            headers: vec![("trace".into(), b"abc".to_vec())],
        }
    }

    fn header<'l>(letter: &'l Letter<'_>, key: &str) -> Option<&'l [u8]> {
        letter
            .headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    #[test]
    fn a_record_letter_keeps_the_record_and_says_where_it_came_from() {
        let record = record();
        let reason = Reason::Undecodable("payload is not valid UTF-8".into());
        let letter = Letter::of_record(&record, &reason, "meraki.uplinks.dlq".into());
        assert_eq!(letter.value, Some(&[0xff, 0x00, 0x7b][..]));
        assert_eq!(letter.key, Some(&b"Q2XX"[..]));
        assert_eq!(letter.headers[0], ("trace".to_owned(), b"abc".to_vec()));
        assert_eq!(
            header(&letter, "semaphore.error.kind"),
            Some(&b"decode"[..])
        );
        assert_eq!(
            header(&letter, "semaphore.source.offset"),
            Some(&b"18422"[..])
        );
        assert!(
            letter
                .spool_name
                .starts_with("meraki.uplinks-3-18422-decode-"),
            "{}",
            letter.spool_name
        );
    }

    #[test]
    fn two_rules_failing_on_one_record_get_two_spool_names() {
        let record = record();
        let failed = |rule: &str| Reason::ActionFailed {
            rule: rule.into(),
            action: "webhook".into(),
            error: "HTTP 500".into(),
        };
        let (first, second) = (failed("r/one"), failed("r/two"));
        let one = Letter::of_record(&record, &first, "d".into());
        let two = Letter::of_record(&record, &second, "d".into());
        assert_ne!(one.spool_name, two.spool_name);
        assert_eq!(
            one.spool_name,
            Letter::of_record(&record, &first, "d".into()).spool_name,
            "a replay spools to the same file"
        );
    }

    #[test]
    fn the_small_letter_names_the_spool_file_and_the_values_digest() {
        let record = record();
        let reason = Reason::Undecodable("not JSON".into());
        let letter = Letter::of_record(&record, &reason, "d".into());
        let spooled = Spooled {
            dir: "/var/lib/semaphore/dead-letters".into(),
            file: "x.value".into(),
            size: 3,
            sha256: sha256_hex(&[0xff, 0x00, 0x7b]),
        };
        let note = letter.spool_note(&spooled, "Broker: Message size too large");
        let small = letter.pointing_to(&spooled, "Broker: Message size too large", &note);
        assert_eq!(small.key, letter.key);
        assert_eq!(
            header(&small, "semaphore.spooled.file"),
            Some(&b"x.value"[..])
        );
        assert_eq!(
            header(&small, "semaphore.spooled.sha256"),
            Some(spooled.sha256.as_bytes())
        );
        let note: serde_json::Value = serde_json::from_slice(&note).expect("JSON");
        assert_eq!(note["spooled"]["size"], 3);
        assert_eq!(note["error"], "not JSON");
    }

    #[test]
    fn sha256_matches_the_standard_test_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_safe("a/b c.d_e-f"), "a_b_c.d_e-f");
        assert_eq!(file_safe(&"x".repeat(300)).len(), 100);
    }
}
