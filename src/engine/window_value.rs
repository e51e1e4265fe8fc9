//! The `window` value conditions and templates see: aggregates over a key's current span (count,
//! sum, avg, min, max, nearest-rank percentiles), the `change` and `spike` fields, absence times, and
//! the group key. Pure functions of a [`WindowKey`]; they change nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::{Rcvar, Variable};

use super::window::WindowKey;
use crate::rulebook::duration::millis;
use crate::rulebook::{Window, WindowForm};

fn number(n: f64) -> Rcvar {
    Arc::new(
        serde_json::Number::from_f64(n)
            .map(Variable::Number)
            .unwrap_or(Variable::Null),
    )
}

fn integer(n: i64) -> Rcvar {
    Arc::new(Variable::Number(n.into()))
}

/// The `window` object: aggregates over the current span, plus the form's own fields. Returns
/// whether a spike condition holds.
pub(super) fn window_value(
    window: &Window,
    entry: &WindowKey,
    changed: Option<&serde_json::Value>,
) -> (Rcvar, bool) {
    let current_from = window.size.map(|s| entry.last_ms.saturating_sub(millis(s)));
    let current = current_samples(window, entry);
    let mut fields = aggregates(&current, window.value.is_some(), window.percentiles);
    fields.insert("last_ms".into(), integer(entry.last_ms));
    let mut spiking = false;
    match &window.form {
        WindowForm::Change(_) => {
            fields.insert("changes".into(), integer(current.len() as i64));
            let json = |v: Option<&serde_json::Value>| {
                Arc::new(
                    v.and_then(|v| Variable::try_from(v.clone()).ok())
                        .unwrap_or(Variable::Null),
                )
            };
            fields.insert("previous".into(), json(changed));
            fields.insert("current".into(), json(entry.current.as_ref()));
        }
        WindowForm::Spike { factor, down } => {
            let previous: Vec<f64> = entry
                .samples
                .iter()
                .filter(|(t, _)| current_from.is_some_and(|from| *t <= from))
                .map(|(_, v)| *v)
                .collect();
            let level = |values: &[f64]| match window.value {
                Some(_) if values.is_empty() => None,
                Some(_) => Some(values.iter().sum::<f64>() / values.len() as f64),
                None => Some(values.len() as f64),
            };
            let now_values: Vec<f64> = current.iter().map(|(_, v)| *v).collect();
            let baseline = if previous.is_empty() {
                None
            } else {
                level(&previous)
            };
            let ratio = match (level(&now_values), baseline) {
                (Some(now), Some(base)) if base != 0.0 => Some(now / base),
                _ => None,
            };
            spiking = ratio.is_some_and(|r| {
                if *down {
                    r <= 1.0 / factor
                } else {
                    r >= *factor
                }
            });
            let opt = |v: Option<f64>| v.map_or_else(|| Arc::new(Variable::Null), number);
            fields.insert("baseline".into(), opt(baseline));
            fields.insert("ratio".into(), opt(ratio));
        }
        WindowForm::Threshold | WindowForm::Absence(_) => {}
    }
    (Arc::new(Variable::Object(fields)), spiking)
}

/// The samples inside the current window (for `spike`, the later half of what is kept).
pub(super) fn current_samples(window: &Window, entry: &WindowKey) -> Vec<(i64, f64)> {
    let from = window.size.map(|s| entry.last_ms.saturating_sub(millis(s)));
    entry
        .samples
        .iter()
        .filter(|(t, _)| from.is_none_or(|from| *t > from))
        .copied()
        .collect()
}

/// count, first_ms, and with values: sum, avg, min, max and (when asked) p50, p90, p95, p99.
pub(super) fn aggregates(
    samples: &[(i64, f64)],
    values: bool,
    percentiles: bool,
) -> BTreeMap<String, Rcvar> {
    let mut fields = BTreeMap::new();
    fields.insert("count".into(), integer(samples.len() as i64));
    let null = || Arc::new(Variable::Null);
    fields.insert(
        "first_ms".into(),
        samples.first().map_or_else(null, |(t, _)| integer(*t)),
    );
    if !values || samples.is_empty() {
        for name in ["sum", "avg", "min", "max", "p50", "p90", "p95", "p99"] {
            fields.insert(name.into(), null());
        }
        return fields;
    }
    let sum: f64 = samples.iter().map(|(_, v)| v).sum();
    let min = samples
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::INFINITY, f64::min);
    let max = samples
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    fields.insert("sum".into(), number(sum));
    fields.insert("avg".into(), number(sum / samples.len() as f64));
    fields.insert("min".into(), number(min));
    fields.insert("max".into(), number(max));
    let mut sorted: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
    if percentiles {
        sorted.sort_by(f64::total_cmp);
    }
    for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0)] {
        let value = if percentiles {
            number(nearest_rank(&sorted, p))
        } else {
            null()
        };
        fields.insert(name.into(), value);
    }
    fields
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn absence_value(entry: &WindowKey, now_ms: i64) -> Rcvar {
    let mut fields = BTreeMap::new();
    fields.insert("last_ms".into(), integer(entry.last_ms));
    fields.insert(
        "silent_ms".into(),
        integer(now_ms.saturating_sub(entry.last_ms)),
    );
    Arc::new(Variable::Object(fields))
}

/// Adds `key`: the group key's values, as a list.
pub(super) fn with_key(value: &Rcvar, key: &str) -> Rcvar {
    let mut fields = value.as_object().cloned().unwrap_or_default();
    let parsed = serde_json::from_str::<serde_json::Value>(key)
        .ok()
        .and_then(|v| Variable::try_from(v).ok())
        .unwrap_or(Variable::Null);
    fields.insert("key".into(), Arc::new(parsed));
    Arc::new(Variable::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&sorted, 50.0), 5.0);
        assert_eq!(nearest_rank(&sorted, 90.0), 9.0);
        assert_eq!(nearest_rank(&sorted, 95.0), 10.0);
        assert_eq!(nearest_rank(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn aggregates_skip_percentiles_unless_asked_and_are_null_without_values() {
        let samples = [(1, 3.0), (2, 1.0), (3, 2.0)];
        let with = aggregates(&samples, true, true);
        assert_eq!(with["p50"].as_number(), Some(2.0));
        assert_eq!(with["avg"].as_number(), Some(2.0));
        assert_eq!(with["min"].as_number(), Some(1.0));
        let without = aggregates(&samples, true, false);
        assert!(without["p50"].is_null());
        let counts = aggregates(&samples, false, true);
        assert_eq!(counts["count"].as_number(), Some(3.0));
        assert!(counts["avg"].is_null());
    }
}
