//! One alert as the demo shows it: where it came from (a webhook delivery or a record on the
//! alerts topic), the rule, and the payload folded into one readable line. Pure: it parses and
//! formats, and receives nothing itself.

use chrono::{DateTime, Local};
use serde_json::Value;

/// How the alert reached the demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// A `webhook` action posted it to the demo's receiver.
    Webhook,
    /// A `publish` action wrote it to this topic.
    Topic(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub received: DateTime<Local>,
    pub channel: Channel,
    /// The firing's idempotency key, which every action of one firing carries: it ties the
    /// webhook delivery and the record of one firing together.
    pub firing: Option<String>,
    /// The rule that fired, when the delivery says.
    pub rule: Option<String>,
    /// The body: JSON when it parses, else the text as a JSON string.
    pub body: Value,
}

/// The rule in an idempotency key: `topic/partition/offset/ruleset/rule` for a record's firing,
/// `ruleset/rule[/group]@time` for the clock's (names with separators percent-encoded).
fn rule_of(key: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = key?.split('/').collect();
    let rule = if parts.len() >= 5 {
        parts.get(4)
    } else {
        parts.get(1)
    }?;
    Some(unescape(rule.split(['@', ':']).next().unwrap_or(rule)))
}

impl Alert {
    /// A webhook delivery, with the `Idempotency-Key` header the webhook action sets.
    pub fn from_webhook(idempotency_key: Option<&str>, body: &[u8]) -> Alert {
        Alert {
            received: Local::now(),
            channel: Channel::Webhook,
            firing: idempotency_key.map(str::to_owned),
            rule: rule_of(idempotency_key),
            body: parse(body),
        }
    }

    /// A record of the alerts topic, with the `Idempotency-Key` header the publish action sets;
    /// its `alert` field names the kind.
    pub fn from_record(topic: &str, idempotency_key: Option<&str>, value: &[u8]) -> Alert {
        Alert {
            received: Local::now(),
            channel: Channel::Topic(topic.to_owned()),
            firing: idempotency_key.map(str::to_owned),
            rule: rule_of(idempotency_key),
            body: parse(value),
        }
    }

    /// Where it arrived, as the demo names it.
    pub fn via(&self) -> String {
        match &self.channel {
            Channel::Webhook => "webhook".to_owned(),
            Channel::Topic(topic) => topic.clone(),
        }
    }

    /// The rule, else the body's `alert` kind.
    pub fn name(&self) -> String {
        self.rule
            .clone()
            .or_else(|| text_field(&self.body, "alert"))
            .unwrap_or_else(|| "alert".to_owned())
    }

    /// What the incident is about: the body's `serial`, `uplink` and `mac`, those it has.
    pub fn subject(&self) -> Option<String> {
        let parts: Vec<String> = ["serial", "uplink", "mac"]
            .iter()
            .filter_map(|name| text_field(&self.body, name))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The body folded into one readable line, times in the local zone.
    pub fn details(&self) -> String {
        details(&self.body)
    }
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn text_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A chat message's `text` as it is; any other object as `key=value` pairs in its own order.
fn details(body: &Value) -> String {
    let text = match body {
        Value::Object(fields) => match fields.get("text").and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => fields
                .iter()
                .filter(|(key, _)| key.as_str() != "alert")
                .map(|(key, value)| format!("{key}={}", readable(key, value)))
                .collect::<Vec<_>>()
                .join(" "),
        },
        other => plain(other),
    };
    one_line(&text)
        .split(' ')
        .map(|word| rfc3339_local(word).unwrap_or_else(|| word.to_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Seconds since the epoch (`firstSeen`, `lastSeen`, ...) as a local time; other values as they are.
fn readable(key: &str, value: &Value) -> String {
    let lower = key.to_ascii_lowercase();
    let timeish = ["seen", "time", "at"]
        .iter()
        .any(|end| lower.ends_with(end));
    match value.as_i64() {
        Some(seconds) if timeish && (1_000_000_000..10_000_000_000).contains(&seconds) => {
            DateTime::from_timestamp(seconds, 0).map_or_else(|| plain(value), local)
        }
        _ => plain(value),
    }
}

/// A time for the demo's reader: the local clock time, with the date when it is not today.
fn local(time: DateTime<chrono::Utc>) -> String {
    let time = time.with_timezone(&Local);
    if time.date_naive() == Local::now().date_naive() {
        time.format("%H:%M:%S").to_string()
    } else {
        time.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A word that is an RFC 3339 time (a trailing comma or full stop kept) as a local time.
fn rfc3339_local(word: &str) -> Option<String> {
    let trimmed = word.trim_end_matches([',', '.', ';']);
    let time = DateTime::parse_from_rfc3339(trimmed).ok()?;
    Some(format!(
        "{}{}",
        local(time.to_utc()),
        &word[trimmed.len()..]
    ))
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reverses the percent-encoding of a key's part (`engine::document::idempotency_key`).
fn unescape(part: &str) -> String {
    [
        ("%2F", "/"),
        ("%23", "#"),
        ("%40", "@"),
        ("%3A", ":"),
        ("%25", "%"),
    ]
    .iter()
    .fold(part.to_owned(), |text, (code, c)| text.replace(code, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_webhook_shows_its_rule_and_text() {
        let alert = Alert::from_webhook(
            Some("meraki.uplinks.loss-latency/2/41/Uplink loss/High loss on an uplink%2Fwan"),
            br#"{"text": "Loss 12.5% on Q2AA-0001 wan1 towards 8.8.8.8 at 2026-01-01T10:00:00Z"}"#,
        );
        let line = format!("{} via {}: {}", alert.name(), alert.via(), alert.details());
        assert!(
            line.contains(
                "High loss on an uplink/wan via webhook: Loss 12.5% on Q2AA-0001 wan1 towards 8.8.8.8 at 2026-01-01 "
            ),
            "{line}"
        );
    }

    #[test]
    fn a_topic_record_shows_its_kind_and_fields() {
        let alert = Alert::from_record(
            "meraki.alerts",
            None,
            br#"{"alert": "sustained-latency", "serial": "Q2AA-0001", "uplink": "wan2", "latencyMs": "190.5"}"#,
        );
        assert!(
            format!("{} via {}: {}", alert.name(), alert.via(), alert.details())
                == "sustained-latency via meraki.alerts: serial=Q2AA-0001 uplink=wan2 latencyMs=190.5",
            "{}",
            alert.details()
        );
    }

    #[test]
    fn epoch_seconds_and_rfc3339_times_are_shown_as_local_times() {
        let first_seen = chrono::Utc::now().timestamp();
        let record = format!(
            r#"{{"alert": "new-client", "mac": "aa", "firstSeen": {first_seen}, "vlan": 1200000000}}"#
        );
        let alert = Alert::from_record("meraki.alerts", None, record.as_bytes());
        let expected = DateTime::from_timestamp(first_seen, 0)
            .expect("now")
            .with_timezone(&Local)
            .format("%H:%M:%S")
            .to_string();
        assert_eq!(
            alert.details(),
            format!("mac=aa firstSeen={expected} vlan=1200000000")
        );
        let webhook =
            Alert::from_webhook(None, br#"{"text": "Loss at 2020-01-01T10:00:00Z, again"}"#);
        let local = DateTime::parse_from_rfc3339("2020-01-01T10:00:00Z")
            .expect("valid")
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        assert_eq!(webhook.details(), format!("Loss at {local}, again"));
    }

    #[test]
    fn the_rule_and_subject_come_from_the_key_and_the_body() {
        let record = Alert::from_record(
            "meraki.alerts",
            Some(
                "meraki.uplinks.loss-latency/0/7#2/Uplink latency/Sustained latency on an uplink:resolved",
            ),
            br#"{"alert": "sustained-latency", "serial": "Q2", "uplink": "wan2"}"#,
        );
        assert_eq!(record.name(), "Sustained latency on an uplink");
        assert_eq!(record.subject().as_deref(), Some("Q2 wan2"));
        let clock =
            Alert::from_webhook(Some("Uplink health/Silent device/Q2@1768472400000"), b"{}");
        assert_eq!(clock.name(), "Silent device");
        assert_eq!(clock.subject(), None);
    }

    #[test]
    fn any_body_stays_on_one_line() {
        let alert = Alert::from_webhook(None, b"not json\nsecond line");
        assert_eq!(alert.name(), "alert");
        assert_eq!(alert.details(), "not json second line");
    }
}
