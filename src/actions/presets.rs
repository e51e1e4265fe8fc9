//! Ready-made request shapes for the `webhook` action (`preset:`), built from a few arguments as
//! each service documents them: Slack incoming webhooks (`{"text"}`), Microsoft Teams workflows
//! (an Adaptive Card in a `message` envelope), Webex messages (`roomId` + `markdown`, bearer
//! token), PagerDuty Events API v2 (`routing_key`, `event_action`, `dedup_key`, `payload`) and the
//! ServiceNow Table API (an incident with `short_description`). A `body` mapping adds or overrides
//! top-level fields. It builds the URL, body and headers from the rendered arguments; which preset
//! takes which argument is the rulebook's (`rulebook::action::preset`), sending is `webhook`'s job.

use reqwest::Url;
use serde_json::{Map, Value, json};

use super::args::{Args, ArgsError, arg};
use super::context::FiringInfo;
use crate::rulebook::action::Preset;
use crate::rulebook::action::spec::WebhookFields;

/// PagerDuty's limits on `payload.summary` and `dedup_key`, in characters.
const PAGERDUTY_SUMMARY_MAX: usize = 1024;
const PAGERDUTY_DEDUP_KEY_MAX: usize = 255;
const PAGERDUTY_SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];
const SERVICENOW_INCIDENTS: &str = "api/now/table/incident";

/// The request a preset builds.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetRequest {
    pub url: Url,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

/// Builds the request from the webhook's arguments; `url` is the rendered `url`, if any.
pub fn build(
    preset: Preset,
    args: &Args,
    spec: &WebhookFields<Value>,
    url: Option<Url>,
    firing: &FiringInfo<'_>,
) -> Result<PresetRequest, ArgsError> {
    let url = match (url, preset.default_url()) {
        (Some(url), _) => url,
        (None, Some(default)) => {
            Url::parse(default).map_err(|e| args.invalid("url", e.to_string()))?
        }
        (None, None) => return Err(args.missing("url")),
    };
    let (url, mut body, headers) = match preset {
        Preset::Slack => (
            url,
            json!({"text": args.required_text(arg!(spec.text))?}),
            Vec::new(),
        ),
        Preset::Teams => (url, teams_card(args, spec)?, Vec::new()),
        Preset::Webex => {
            let body = json!({
                "roomId": args.required_text(arg!(spec.room_id))?,
                "markdown": args.required_text(arg!(spec.text))?,
            });
            (url, body, Vec::new())
        }
        Preset::PagerDuty => (url, pagerduty_event(args, spec, firing)?, Vec::new()),
        Preset::ServiceNow => {
            let body = json!({"short_description": args.required_text(arg!(spec.text))?});
            let accept = vec![("Accept".to_owned(), "application/json".to_owned())];
            (servicenow_url(url), body, accept)
        }
    };
    merge_extra_fields(args, spec, &mut body)?;
    Ok(PresetRequest { url, body, headers })
}

/// A Teams workflow ("post to a channel when a webhook request is received") takes an Adaptive
/// Card wrapped in a `message` with one attachment.
fn teams_card(args: &Args, spec: &WebhookFields<Value>) -> Result<Value, ArgsError> {
    let mut blocks = Vec::new();
    if let Some(title) = args.text(arg!(spec.title))? {
        blocks.push(json!({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true}));
    }
    blocks.push(
        json!({"type": "TextBlock", "text": args.required_text(arg!(spec.text))?, "wrap": true}),
    );
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
fn pagerduty_event(
    args: &Args,
    spec: &WebhookFields<Value>,
    firing: &FiringInfo<'_>,
) -> Result<Value, ArgsError> {
    let action = args
        .text(arg!(spec.event_action))?
        .unwrap_or_else(|| "trigger".into());
    let dedup_key = args.text(arg!(spec.dedup_key))?;
    let mut event = json!({
        "routing_key": args.required_text(arg!(spec.routing_key))?,
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
    let severity = args
        .text(arg!(spec.severity))?
        .unwrap_or_else(|| "error".into());
    if !PAGERDUTY_SEVERITIES.contains(&severity.as_str()) {
        return Err(args.invalid(
            "severity",
            format!("`{severity}` is not one of critical, error, warning, info"),
        ));
    }
    let mut payload = json!({
        "summary": truncate(&args.required_text(arg!(spec.text))?, PAGERDUTY_SUMMARY_MAX),
        "source": args.text(arg!(spec.source))?.unwrap_or_else(|| "semaphore".into()),
        "severity": severity,
    });
    for field in [arg!(spec.component), arg!(spec.group), arg!(spec.class)] {
        if let Some(value) = args.text(field)? {
            payload[field.key()] = Value::String(value);
        }
    }
    payload["custom_details"] = arg!(spec.custom_details)
        .value()
        .cloned()
        .unwrap_or_else(|| firing.event().clone());
    event["payload"] = payload;
    event["client"] = Value::String("semaphore".into());
    Ok(event)
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
fn merge_extra_fields(
    args: &Args,
    spec: &WebhookFields<Value>,
    body: &mut Value,
) -> Result<(), ArgsError> {
    let Some(extra) = arg!(spec.body).value() else {
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
