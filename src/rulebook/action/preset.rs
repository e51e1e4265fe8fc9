//! The `preset:` argument tables of the webhook action (which preset takes which arguments, which
//! it needs, its fixed endpoint) and the shaping of a rendered preset webhook for a window rule's
//! resolved notification. Building the HTTP request from the arguments is the sender's
//! (`actions::presets`).

use serde_json::Value;

use super::{ActionKind, FiringStatus, Notice, RenderedAction};

/// A `preset:` of the webhook action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Slack,
    Teams,
    Webex,
    PagerDuty,
    ServiceNow,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Slack,
        Preset::Teams,
        Preset::Webex,
        Preset::PagerDuty,
        Preset::ServiceNow,
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

    /// The preset arguments this preset takes (fields of [`WebhookFields`]).
    ///
    /// [`WebhookFields`]: super::spec::WebhookFields
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
}

/// Adapts a rendered preset webhook to a window rule's notification. PagerDuty: the alert's `dedup_key`
/// defaults to `alert_key` (ruleset, rule and group key, the same for the trigger and its resolve) and
/// a resolved firing sends `event_action: resolve` unless the rule set another action. Slack, Teams,
/// Webex and ServiceNow: a resolved firing's text starts with "Resolved: ". Other actions are left as
/// they are.
pub fn shape_for_notice(action: &mut RenderedAction, notice: Notice<'_>) {
    if action.kind != ActionKind::Webhook {
        return;
    }
    let resolved = notice.status == FiringStatus::Resolved;
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
                .or_insert_with(|| Value::String(notice.alert_key.to_owned()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_preset_key_is_a_webhook_field() {
        let fields = super::super::spec::WebhookFields::<serde_json::Value>::PRESET_KEYS;
        for preset in Preset::ALL {
            for key in preset.keys() {
                assert!(fields.contains(key), "{key} of {}", preset.name());
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

    fn notice(status: FiringStatus, alert_key: &str) -> Notice<'_> {
        Notice { status, alert_key }
    }

    #[test]
    fn window_firings_adapt_chat_texts_and_pagerduty_events_to_their_status() {
        let mut slack = webhook(json!({"preset": "slack", "url": "u", "text": "loss"}));
        shape_for_notice(&mut slack, notice(FiringStatus::Resolved, "k"));
        assert_eq!(slack.args["text"], "Resolved: loss");
        let mut firing = webhook(json!({"preset": "slack", "url": "u", "text": "loss"}));
        shape_for_notice(&mut firing, notice(FiringStatus::Firing, "k"));
        assert_eq!(firing.args["text"], "loss");

        let mut resolve = webhook(json!({"preset": "pagerduty", "routing_key": "r"}));
        shape_for_notice(&mut resolve, notice(FiringStatus::Resolved, "rs/rule/[1]"));
        assert_eq!(resolve.args["event_action"], "resolve");
        assert_eq!(resolve.args["dedup_key"], "rs/rule/[1]");
        // The rule's own choices win.
        let mut own = webhook(
            json!({"preset": "pagerduty", "routing_key": "r", "event_action": "acknowledge", "dedup_key": "mine"}),
        );
        shape_for_notice(&mut own, notice(FiringStatus::Resolved, "rs/rule/[1]"));
        assert_eq!(own.args["event_action"], "acknowledge");
        assert_eq!(own.args["dedup_key"], "mine");
    }
}
