//! Ready-made request shapes for the `webhook` action (`preset:`), built from a few arguments as
//! each service documents them: Slack incoming webhooks (`{"text"}`), Microsoft Teams workflows
//! (an Adaptive Card in a `message` envelope), Webex messages (`roomId` + `markdown`, bearer
//! token), PagerDuty Events API v2 (`routing_key`, `event_action`, `dedup_key`, `payload`) and the
//! ServiceNow Table API (an incident with `short_description`). A `body` mapping adds or overrides
//! top-level fields. It builds the URL, body and headers; sending is `webhook`'s job.

use reqwest::Url;
use serde_json::{Map, Value, json};

use super::args::{Args, ArgsError};
use super::context::FiringInfo;
use super::{ActionKind, RenderedAction};
use crate::engine::FiringStatus;

/// PagerDuty's limits on `payload.summary` and `dedup_key`, in characters.
const PAGERDUTY_SUMMARY_MAX: usize = 1024;
const PAGERDUTY_DEDUP_KEY_MAX: usize = 255;
const PAGERDUTY_SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];
const SERVICENOW_INCIDENTS: &str = "api/now/table/incident";

/// A `preset:` of the webhook action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Slack,
    Teams,
    Webex,
    PagerDuty,
    ServiceNow,
}

/// The request a preset builds.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetRequest {
    pub url: Url,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Slack,
        Preset::Teams,
        Preset::Webex,
        Preset::PagerDuty,
        Preset::ServiceNow,
    ];

    /// Every argument some preset takes; a webhook without `preset` takes none of them.
    pub const ALL_KEYS: [&'static str; 12] = [
        "text",
        "title",
        "room_id",
        "routing_key",
        "event_action",
        "dedup_key",
        "severity",
        "source",
        "component",
        "group",
        "class",
        "custom_details",
    ];

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|preset| preset.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Slack => "slack",
            Preset::Teams => "teams",
            Preset::Webex => "webex",
            Preset::PagerDuty => "pagerduty",
            Preset::ServiceNow => "servicenow",
        }
    }

    /// The preset arguments this preset takes.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Preset::Slack | Preset::ServiceNow => &["text"],
            Preset::Teams => &["text", "title"],
            Preset::Webex => &["text", "room_id"],
            Preset::PagerDuty => &[
                "text",
                "routing_key",
                "event_action",
                "dedup_key",
                "severity",
                "source",
                "component",
                "group",
                "class",
                "custom_details",
            ],
        }
    }

    /// The preset arguments without which the request makes no sense.
    pub fn required_keys(self) -> &'static [&'static str] {
        match self {
            Preset::Slack | Preset::Teams | Preset::ServiceNow => &["text"],
            Preset::Webex => &["room_id", "text"],
            Preset::PagerDuty => &["routing_key"],
        }
    }

    /// The service's fixed endpoint, for the presets that have one (`url` may still override it).
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            Preset::Webex => Some("https://webexapis.com/v1/messages"),
            Preset::PagerDuty => Some("https://events.pagerduty.com/v2/enqueue"),
            Preset::Slack | Preset::Teams | Preset::ServiceNow => None,
        }
    }

    /// Webex and ServiceNow reject anonymous requests: an `auth` argument is required.
    pub fn needs_auth(self) -> bool {
        matches!(self, Preset::Webex | Preset::ServiceNow)
    }

    /// Builds the request from the webhook's arguments; `url` is the rendered `url`, if any.
    pub fn build(
        self,
        args: &Args<'_>,
        url: Option<Url>,
        firing: &FiringInfo<'_>,
    ) -> Result<PresetRequest, ArgsError> {
        let url = match (url, self.default_url()) {
            (Some(url), _) => url,
            (None, Some(default)) => {
                Url::parse(default).map_err(|e| args.invalid("url", e.to_string()))?
            }
            (None, None) => return Err(args.missing("url")),
        };
        let (url, mut body, headers) = match self {
            Preset::Slack => (
                url,
                json!({"text": args.required_text("text")?}),
                Vec::new(),
            ),
            Preset::Teams => (url, teams_card(args)?, Vec::new()),
            Preset::Webex => {
                let body = json!({
                    "roomId": args.required_text("room_id")?,
                    "markdown": args.required_text("text")?,
                });
                (url, body, Vec::new())
            }
            Preset::PagerDuty => (url, pagerduty_event(args, firing)?, Vec::new()),
            Preset::ServiceNow => {
                let body = json!({"short_description": args.required_text("text")?});
                let accept = vec![("Accept".to_owned(), "application/json".to_owned())];
                (servicenow_url(url), body, accept)
            }
        };
        merge_extra_fields(args, &mut body)?;
        Ok(PresetRequest { url, body, headers })
    }
}

/// A Teams workflow ("post to a channel when a webhook request is received") takes an Adaptive
/// Card wrapped in a `message` with one attachment.
fn teams_card(args: &Args<'_>) -> Result<Value, ArgsError> {
    let mut blocks = Vec::new();
    if let Some(title) = args.text("title")? {
        blocks.push(json!({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true}));
    }
    blocks.push(json!({"type": "TextBlock", "text": args.required_text("text")?, "wrap": true}));
    Ok(json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": blocks,
            },
        }],
    }))
}

/// An Events API v2 alert event. `trigger` carries a payload; `acknowledge` and `resolve` name an
/// earlier alert by its `dedup_key`, which must then be given. A trigger's default `dedup_key` is
/// the firing's idempotency key, so a replayed firing updates the same alert instead of opening a
/// second one.
fn pagerduty_event(args: &Args<'_>, firing: &FiringInfo<'_>) -> Result<Value, ArgsError> {
    let action = args
        .text("event_action")?
        .unwrap_or_else(|| "trigger".into());
    let dedup_key = args.text("dedup_key")?;
    let mut event = json!({
        "routing_key": args.required_text("routing_key")?,
        "event_action": action,
    });
    match action.as_str() {
        "trigger" => {}
        "acknowledge" | "resolve" => {
            let key = dedup_key.ok_or_else(|| {
                args.invalid(
                    "dedup_key",
                    format!("is required with event_action {action}"),
                )
            })?;
            event["dedup_key"] = Value::String(truncate(&key, PAGERDUTY_DEDUP_KEY_MAX));
            return Ok(event);
        }
        other => {
            return Err(args.invalid(
                "event_action",
                format!("`{other}` is not one of trigger, acknowledge, resolve"),
            ));
        }
    }
    let dedup_key = dedup_key.unwrap_or_else(|| firing.idempotency_key.to_owned());
    event["dedup_key"] = Value::String(truncate(&dedup_key, PAGERDUTY_DEDUP_KEY_MAX));
    let severity = args.text("severity")?.unwrap_or_else(|| "error".into());
    if !PAGERDUTY_SEVERITIES.contains(&severity.as_str()) {
        return Err(args.invalid(
            "severity",
            format!("`{severity}` is not one of critical, error, warning, info"),
        ));
    }
    let mut payload = json!({
        "summary": truncate(&args.required_text("text")?, PAGERDUTY_SUMMARY_MAX),
        "source": args.text("source")?.unwrap_or_else(|| "semaphore".into()),
        "severity": severity,
    });
    for key in ["component", "group", "class"] {
        if let Some(value) = args.text(key)? {
            payload[key] = Value::String(value);
        }
    }
    payload["custom_details"] = args
        .get("custom_details")
        .cloned()
        .unwrap_or_else(|| firing.event().clone());
    event["payload"] = payload;
    event["client"] = Value::String("semaphore".into());
    Ok(event)
}

/// Adapts a rendered preset webhook to a window rule's firing. PagerDuty: the alert's `dedup_key`
/// defaults to `alert_key` (ruleset, rule and group key, the same for the trigger and its resolve) and
/// a resolved firing sends `event_action: resolve` unless the rule set another action. Slack, Teams,
/// Webex and ServiceNow: a resolved firing's text starts with "Resolved: ". Other actions are left as
/// they are.
pub fn for_window_firing(action: &mut RenderedAction, status: FiringStatus, alert_key: &str) {
    if action.kind != ActionKind::Webhook {
        return;
    }
    let resolved = status == FiringStatus::Resolved;
    let Some(args) = action.args.as_object_mut() else {
        return;
    };
    let preset = args
        .get("preset")
        .and_then(Value::as_str)
        .and_then(Preset::from_name);
    match preset {
        Some(Preset::PagerDuty) => {
            args.entry("dedup_key")
                .or_insert_with(|| Value::String(alert_key.to_owned()));
            let action = args.get("event_action").and_then(Value::as_str);
            if resolved && action.is_none_or(|a| a == "trigger") {
                args.insert("event_action".into(), Value::String("resolve".into()));
            }
        }
        Some(Preset::Slack | Preset::Teams | Preset::Webex | Preset::ServiceNow) if resolved => {
            if let Some(Value::String(text)) = args.get_mut("text") {
                *text = format!("Resolved: {text}");
            }
        }
        _ => {}
    }
}

/// `url` is the instance (`https://example.service-now.com`); the Table API path is added unless
/// the URL already points into the API.
fn servicenow_url(mut url: Url) -> Url {
    if !url.path().contains("/api/now/") {
        let path = format!(
            "{}/{SERVICENOW_INCIDENTS}",
            url.path().trim_end_matches('/')
        );
        url.set_path(&path);
    }
    url
}

/// A `body` mapping next to a preset adds fields to (or overrides fields of) the preset's body.
fn merge_extra_fields(args: &Args<'_>, body: &mut Value) -> Result<(), ArgsError> {
    let Some(extra) = args.get("body") else {
        return Ok(());
    };
    let (Value::Object(extra), Value::Object(body)) = (extra, body) else {
        return Err(args.invalid(
            "body",
            "with a preset, `body` must be a mapping of extra fields",
        ));
    };
    body.extend(
        extra
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Map<_, _>>(),
    );
    Ok(())
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_key_is_listed_for_validation() {
        for preset in Preset::ALL {
            for key in preset.keys() {
                assert!(Preset::ALL_KEYS.contains(key), "{key} of {}", preset.name());
            }
            assert_eq!(Preset::from_name(preset.name()), Some(preset));
        }
    }

    fn webhook(args: Value) -> RenderedAction {
        RenderedAction {
            kind: ActionKind::Webhook,
            args,
        }
    }

    #[test]
    fn window_firings_adapt_chat_texts_and_pagerduty_events_to_their_status() {
        let mut slack = webhook(json!({"preset": "slack", "url": "u", "text": "loss"}));
        for_window_firing(&mut slack, FiringStatus::Resolved, "k");
        assert_eq!(slack.args["text"], "Resolved: loss");
        let mut firing = webhook(json!({"preset": "slack", "url": "u", "text": "loss"}));
        for_window_firing(&mut firing, FiringStatus::Firing, "k");
        assert_eq!(firing.args["text"], "loss");

        let mut resolve = webhook(json!({"preset": "pagerduty", "routing_key": "r"}));
        for_window_firing(&mut resolve, FiringStatus::Resolved, "rs/rule/[1]");
        assert_eq!(resolve.args["event_action"], "resolve");
        assert_eq!(resolve.args["dedup_key"], "rs/rule/[1]");
        // The rule's own choices win.
        let mut own = webhook(
            json!({"preset": "pagerduty", "routing_key": "r", "event_action": "acknowledge", "dedup_key": "mine"}),
        );
        for_window_firing(&mut own, FiringStatus::Resolved, "rs/rule/[1]");
        assert_eq!(own.args["event_action"], "acknowledge");
        assert_eq!(own.args["dedup_key"], "mine");
    }

    #[test]
    fn servicenow_url_gets_the_table_api_path_once() {
        let instance = Url::parse("https://example.service-now.com").unwrap();
        assert_eq!(
            servicenow_url(instance).as_str(),
            "https://example.service-now.com/api/now/table/incident"
        );
        let full = Url::parse("https://x.service-now.com/api/now/table/incident").unwrap();
        assert_eq!(servicenow_url(full.clone()), full);
    }
}
