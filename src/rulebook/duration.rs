//! Durations as rulebooks write them: `10 minutes`, `30 s`, `2h`, `1.5 hours`, `500 milliseconds`, or a
//! bare number of seconds. ansible-rulebook's spelled-out units all work, plus the short forms.

use std::time::Duration;

use serde_json::Value;

/// Parses a duration from a YAML scalar; the error says what was expected.
pub fn parse(value: &Value) -> Result<Duration, String> {
    match value {
        Value::Number(n) => n.as_f64().and_then(seconds).ok_or_else(|| {
            format!("invalid duration {n}: expected a non-negative number of seconds")
        }),
        Value::String(text) => parse_text(text),
        other => Err(format!(
            "invalid duration {other}: expected text like `10 minutes`, `30 s` or `2h`"
        )),
    }
}

/// A duration in whole milliseconds, the unit of the engine's clock; saturates instead of wrapping.
pub fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn parse_text(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let invalid =
        || format!("invalid duration `{text}`: expected text like `10 minutes`, `30 s` or `2h`");
    let amount: f64 = number.parse().map_err(|_| invalid())?;
    let factor = unit_seconds(unit.trim()).ok_or_else(|| {
        format!(
            "invalid duration `{text}`: unknown unit `{}`; use ms, s, m, h, d or milliseconds, seconds, minutes, hours, days",
            unit.trim()
        )
    })?;
    seconds(amount * factor).ok_or_else(invalid)
}

fn unit_seconds(unit: &str) -> Option<f64> {
    let factor = match unit.to_ascii_lowercase().as_str() {
        "ms" | "millisecond" | "milliseconds" => 0.001,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        _ => return None,
    };
    Some(factor)
}

fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spelled_out_and_short_units() {
        assert_eq!(parse(&json!("10 minutes")), Ok(Duration::from_secs(600)));
        assert_eq!(parse(&json!("30 s")), Ok(Duration::from_secs(30)));
        assert_eq!(parse(&json!("2h")), Ok(Duration::from_secs(7200)));
        assert_eq!(parse(&json!("1 day")), Ok(Duration::from_secs(86_400)));
        assert_eq!(
            parse(&json!("500 milliseconds")),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(parse(&json!("1.5 hours")), Ok(Duration::from_secs(5400)));
        assert_eq!(parse(&json!(45)), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn rejects_unknown_units_and_garbage() {
        assert!(
            parse(&json!("10 fortnights"))
                .unwrap_err()
                .contains("unknown unit `fortnights`")
        );
        assert!(parse(&json!("soon")).is_err());
        assert!(parse(&json!(-5)).is_err());
        assert!(parse(&json!([1])).is_err());
    }
}
