//! Masking for logs: action arguments shown by `rules run --dry-run` keep their shape but lose what
//! is a credential in practice: header values, the path and query of URLs (Slack, Teams and other
//! webhook URLs carry their token there) and any field named like a secret. It does not decide what
//! is logged, only what a logged value may show.

use reqwest::Url;
use serde_json::{Map, Value};

const MASK: &str = "***";
/// Field names (lowercase, substrings) whose values are credentials.
const SECRET_NAMES: [&str; 6] = [
    "token",
    "password",
    "secret",
    "authorization",
    "api_key",
    "apikey",
];

/// A copy of `value` with credentials masked.
pub fn loggable(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (name.clone(), field(name, value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(loggable).collect()),
        other => other.clone(),
    }
}

fn field(name: &str, value: &Value) -> Value {
    let lower = name.to_ascii_lowercase();
    if SECRET_NAMES.iter().any(|secret| lower.contains(secret)) {
        return Value::String(MASK.to_owned());
    }
    match (lower.as_str(), value) {
        ("headers", Value::Object(headers)) => Value::Object(
            headers
                .keys()
                .map(|header| (header.clone(), Value::String(MASK.to_owned())))
                .collect::<Map<_, _>>(),
        ),
        ("url", Value::String(url)) => Value::String(text_origin(url)),
        _ => loggable(value),
    }
}

/// `https://hooks.example.com/…`, or the mask for something that is not a URL.
fn text_origin(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => url_origin(&url),
        Err(_) => MASK.to_owned(),
    }
}

/// The origin of a URL (`https://hooks.example.com/…`): paths and queries of webhook URLs often
/// are the credential.
pub fn url_origin(url: &Url) -> String {
    let origin = url.origin().ascii_serialization();
    if url.path() == "/" && url.query().is_none() {
        origin
    } else {
        format!("{origin}/…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhook_urls_are_shown_as_their_origin() {
        let url = Url::parse("https://hooks.slack.com/services/T0/B0/secret?x=1").unwrap();
        assert_eq!(url_origin(&url), "https://hooks.slack.com/…");
        let bare = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(url_origin(&bare), "http://127.0.0.1:8080");
    }

    #[test]
    fn headers_urls_and_secret_fields_are_masked_and_the_rest_kept() {
        let args = json!({
            "url": "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
            "headers": {"Authorization": "Bearer abc123", "X-Trace": "1"},
            "body": {"text": "uplink down", "api_token": "abc123"},
            "extra_vars": [{"password": "abc123", "host": "r1"}],
        });
        let shown = loggable(&args);
        assert!(!shown.to_string().contains("abc123"), "{shown}");
        assert!(!shown.to_string().contains("XXXXSECRET"), "{shown}");
        assert_eq!(shown["url"], "https://hooks.slack.com/…");
        assert_eq!(shown["headers"]["X-Trace"], MASK);
        assert_eq!(shown["body"]["text"], "uplink down");
        assert_eq!(shown["extra_vars"][0]["host"], "r1");
    }
}
