//! Dead letters of firings that no record caused (an `absent_for` window, a `group_after` group, a
//! `not_all` timeout, an event posted by an action): there is no original record to publish, so
//! the letter's value is the firing itself as JSON, its key the firing's idempotency key, and its
//! headers name the ruleset, rule, group key, due time, action and error (kind `timer_action`).
//! Without `--dead-letter-topic` it goes to the dead-letter topic of its ruleset's first source
//! topic, the topic the ruleset was reading when its clock ran out.

use serde_json::{Value, json};

use super::letter::{Letter, file_safe, short_hash};
use crate::engine::Firing;
use crate::pipeline::ActionFailure;
use crate::rulebook::Rulebook;
use crate::telemetry::redact;

/// `semaphore.error.kind` of these letters.
pub const KIND: &str = "timer_action";

/// What a timer firing's dead letter needs, taken before the firing goes to the dispatcher.
#[derive(Debug, Clone)]
pub struct TimerFiring {
    pub topic: String,
    pub ruleset: String,
    pub rule: String,
    pub group_key: Option<String>,
    /// When the window, group or timeout ended, in epoch milliseconds.
    pub due_ms: i64,
    pub idempotency_key: String,
    /// The firing as JSON.
    pub document: Vec<u8>,
}

impl TimerFiring {
    pub fn of(firing: &Firing, topic: String) -> TimerFiring {
        TimerFiring {
            topic,
            ruleset: firing.ruleset.clone(),
            rule: firing.rule.clone(),
            group_key: firing.group_key.clone(),
            due_ms: firing.time_ms,
            idempotency_key: firing.idempotency_key.clone(),
            document: document(firing).to_string().into_bytes(),
        }
    }

    /// The dead letter for this firing whose action failed as `failure` says.
    pub fn letter<'a>(&'a self, failure: &'a ActionFailure) -> Letter<'a> {
        let mut headers: Vec<(&str, String)> = vec![
            ("semaphore.error", failure.reason.clone()),
            ("semaphore.error.kind", KIND.to_owned()),
            ("semaphore.ruleset", self.ruleset.clone()),
            ("semaphore.rule", format!("{}/{}", self.ruleset, self.rule)),
            ("semaphore.action", failure.action.clone()),
            ("semaphore.due", rfc3339(self.due_ms)),
            ("semaphore.idempotency_key", self.idempotency_key.clone()),
        ];
        if let Some(group_key) = &self.group_key {
            headers.push(("semaphore.group_key", group_key.clone()));
        }
        let identity = format!("{}\0{}", self.idempotency_key, failure.action);
        Letter {
            topic: self.topic.clone(),
            key: Some(self.idempotency_key.as_bytes()),
            value: Some(&self.document),
            headers: headers
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.into_bytes()))
                .collect(),
            kind: KIND,
            error: &failure.reason,
            what: "timer firing",
            origin: self.idempotency_key.clone(),
            spool_name: format!(
                "timer-{}-{}-{}",
                file_safe(&self.ruleset),
                self.due_ms,
                short_hash(identity.as_bytes())
            ),
        }
    }
}

/// The dead-letter topic of a firing without a record: the configured one, else
/// `<first source topic of its ruleset>.dlq`, else (a ruleset without sources reads every topic)
/// `<first topic read>.dlq` (and `<ruleset>.dlq` when nothing is read, as in a test).
pub fn topic_for(
    configured: Option<&str>,
    book: &Rulebook,
    ruleset: &str,
    consumed: &[String],
) -> String {
    if let Some(topic) = configured {
        return topic.to_owned();
    }
    let own = book
        .rulesets
        .iter()
        .find(|r| r.name == ruleset)
        .and_then(|r| r.sources.iter().flat_map(|s| &s.topics).next());
    let topic = own.or(consumed.first()).map_or(ruleset, String::as_str);
    format!("{topic}.dlq")
}

/// The firing as its dead letter's value: names, status, times, group key, the matching events
/// and its actions with credentials masked as in the logs.
fn document(firing: &Firing) -> Value {
    let events: Vec<Value> = firing
        .events
        .iter()
        .map(|event| serde_json::to_value(&**event).unwrap_or_default())
        .collect();
    let actions: Vec<Value> = firing
        .actions
        .iter()
        .map(|action| match action {
            Ok(rendered) => json!({
                "type": rendered.kind.name(),
                "args": redact::loggable(&rendered.args),
            }),
            Err(err) => json!({"error": err.to_string()}),
        })
        .collect();
    json!({
        "ruleset": firing.ruleset,
        "rule": firing.rule,
        "status": firing.status.name(),
        "group_key": firing.group_key,
        "due": rfc3339(firing.time_ms),
        "due_ms": firing.time_ms,
        "idempotency_key": firing.idempotency_key,
        "events": events,
        "actions": actions,
    })
}

fn rfc3339(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms).map_or_else(
        || epoch_ms.to_string(),
        |time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(yaml: &str) -> Rulebook {
        crate::rulebook::compile("book.yml", yaml).expect("valid rulebook")
    }

    const TWO_RULESETS: &str = r#"
- name: watched
  sources:
    - kafka: {topics: [other, devices]}
  rules:
    - name: r
      condition: event.a == `1`
      action: {debug: {}}
- name: everywhere
  rules:
    - name: r
      condition: event.a == `1`
      action: {debug: {}}
"#;

    #[test]
    fn the_topic_follows_the_rulesets_first_source_unless_one_is_configured() {
        let book = book(TWO_RULESETS);
        let consumed = ["devices".to_owned(), "other".to_owned()];
        let topic = |configured, ruleset| topic_for(configured, &book, ruleset, &consumed);
        assert_eq!(topic(None, "watched"), "other.dlq");
        assert_eq!(topic(None, "everywhere"), "devices.dlq");
        assert_eq!(topic(Some("all.dlq"), "watched"), "all.dlq");
        assert_eq!(topic_for(None, &book, "everywhere", &[]), "everywhere.dlq");
    }

    #[test]
    fn due_times_are_utc_with_milliseconds() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
