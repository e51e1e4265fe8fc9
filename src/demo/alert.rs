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
    /// The rule that fired, when the delivery says.
    pub rule: Option<String>,
    /// The body: JSON when it parses, else the text as a JSON string.
    pub body: Value,
}

impl Alert {
    /// A webhook delivery. The rule comes from the `Idempotency-Key` header, which the webhook
    /// action sets to `topic/partition/offset/ruleset/rule` (each name with its `/` encoded).
    pub fn from_webhook(idempotency_key: Option<&str>, body: &[u8]) -> Alert {
        let rule = idempotency_key
            .and_then(|key| key.split('/').nth(4))
            .map(unescape);
        Alert {
            received: Local::now(),
            channel: Channel::Webhook,
            rule,
            body: parse(body),
        }
    }

    /// A record of the alerts topic; its `alert` field names the kind.
    pub fn from_record(topic: &str, value: &[u8]) -> Alert {
        Alert {
            received: Local::now(),
            channel: Channel::Topic(topic.to_owned()),
            rule: None,
            body: parse(value),
        }
    }

    /// `HH:MM:SS ALERT via CHANNEL  RULE: DETAILS`, one line whatever the body holds.
    pub fn line(&self) -> String {
        let via = match &self.channel {
            Channel::Webhook => "webhook".to_owned(),
            Channel::Topic(topic) => topic.clone(),
        };
        let rule = self
            .rule
            .clone()
            .or_else(|| text_field(&self.body, "alert"))
            .unwrap_or_else(|| "alert".to_owned());
        format!(
            "{} ALERT via {via:<13} {rule}: {}",
            self.received.format("%H:%M:%S"),
            details(&self.body)
        )
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
                .map(|(key, value)| format!("{key}={}", plain(value)))
                .collect::<Vec<_>>()
                .join(" "),
        },
        other => plain(other),
    };
    one_line(&text)
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
        let line = alert.line();
        assert!(
            line.ends_with(
                "ALERT via webhook       High loss on an uplink/wan: Loss 12.5% on Q2AA-0001 wan1 towards 8.8.8.8 at 2026-01-01T10:00:00Z"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_topic_record_shows_its_kind_and_fields() {
        let alert = Alert::from_record(
            "meraki.alerts",
            br#"{"alert": "sustained-latency", "serial": "Q2AA-0001", "uplink": "wan2", "latencyMs": "190.5"}"#,
        );
        assert!(
            alert.line().ends_with(
                "ALERT via meraki.alerts sustained-latency: serial=Q2AA-0001 uplink=wan2 latencyMs=190.5"
            ),
            "{}",
            alert.line()
        );
    }

    #[test]
    fn any_body_stays_on_one_line() {
        let alert = Alert::from_webhook(None, b"not json\nsecond line");
        assert!(alert.line().ends_with("alert: not json second line"));
        assert!(!alert.line().contains('\n'));
    }
}
