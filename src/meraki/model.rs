//! The fields semaphore reads from Dashboard API responses, decoded tolerantly: live data differs
//! from the spec, so `null` is accepted wherever a value may be missing, ids may be numbers or
//! strings, lists may be `null`, and the v0 names `startTs`/`endTs` are read like
//! `startTime`/`endTime`. Unknown fields are ignored. Measurements (loss, latency, goodput, jitter)
//! are kept as the JSON values the API sent, so that a record carries `6581` where the API said
//! `6581` (not `6581.0`) and `null` where it said `null`. Client records are not modelled here: they
//! are published as the API sends them (`serde_json` maps).

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// `GET /organizations` item.
#[derive(Clone, Debug, Deserialize)]
pub struct Organization {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
}

/// `GET /organizations/{id}/networks` item.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default, deserialize_with = "text")]
    pub organization_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "words")]
    pub product_types: Vec<String>,
}

/// `GET /organizations/{id}/devices` item.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[serde(deserialize_with = "id")]
    pub serial: String,
    #[serde(default, deserialize_with = "text")]
    pub network_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub product_type: Option<String>,
}

/// `GET /devices/{serial}/managementInterface`; only the dynamic DNS names are used.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementInterface {
    #[serde(default, deserialize_with = "string_map")]
    pub ddns_hostnames: Map<String, Value>,
}

/// One row of `GET /organizations/{id}/devices/uplinksLossAndLatency`: a device, an uplink and a
/// probe destination.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UplinkSeries {
    #[serde(deserialize_with = "id")]
    pub serial: String,
    #[serde(default, deserialize_with = "text")]
    pub network_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub uplink: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub ip: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub time_series: Vec<SeriesPoint>,
}

/// One point of an [`UplinkSeries`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesPoint {
    #[serde(default, deserialize_with = "text")]
    pub ts: Option<String>,
    #[serde(default, deserialize_with = "sent")]
    pub loss_percent: Option<Value>,
    #[serde(default, deserialize_with = "sent")]
    pub latency_ms: Option<Value>,
}

/// One bucket of `GET /devices/{serial}/lossAndLatencyHistory`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryBucket {
    #[serde(default, alias = "startTs", deserialize_with = "text")]
    pub start_time: Option<String>,
    #[serde(default, alias = "endTs", deserialize_with = "text")]
    pub end_time: Option<String>,
    #[serde(default, deserialize_with = "sent")]
    pub loss_percent: Option<Value>,
    #[serde(default, deserialize_with = "sent")]
    pub latency_ms: Option<Value>,
    #[serde(default, deserialize_with = "sent")]
    pub goodput: Option<Value>,
    #[serde(default, deserialize_with = "sent")]
    pub jitter: Option<Value>,
}

/// An id that may arrive as a string or a number.
fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id (string or number), found {other}"
        ))),
    }
}

/// Optional text; numbers and booleans become their text, anything else is absent.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    })
}

/// A value exactly as sent: `None` only when the field is missing (`null` is `Some(Null)`).
fn sent<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A list of words: a JSON list of strings, one space-separated string, or `null`.
fn words<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| item.as_str().map(|s| s.trim().to_owned()))
            .collect(),
        Value::String(text) => text.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    })
}

/// A list of `T`, `null` being empty.
fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// An object of strings; `null` members and a `null` object are dropped.
fn string_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Map<String, Value>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Object(map) => map.into_iter().filter(|(_, v)| v.is_string()).collect(),
        _ => Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_the_live_data_variations() {
        let network: Network = serde_json::from_str(
            r#"{"id": 12, "organizationId": "1", "name": null, "productTypes": null}"#,
        )
        .expect("decodes");
        assert_eq!(network.id, "12");
        assert_eq!(network.name, None);
        assert!(network.product_types.is_empty());
        let bucket: HistoryBucket = serde_json::from_str(
            r#"{"startTs": "2021-01-29T21:49:00Z", "lossPercent": 1.5, "latencyMs": null, "goodput": 6581}"#,
        )
        .expect("decodes");
        assert_eq!(bucket.start_time.as_deref(), Some("2021-01-29T21:49:00Z"));
        assert_eq!(bucket.loss_percent, Some(serde_json::json!(1.5)));
        assert_eq!(bucket.latency_ms, Some(Value::Null));
        assert_eq!(bucket.jitter, None);
        // An integer stays an integer: `6581`, not `6581.0`.
        assert_eq!(
            bucket.goodput.map(|g| g.to_string()).as_deref(),
            Some("6581")
        );
        let series: UplinkSeries =
            serde_json::from_str(r#"{"serial": "Q", "timeSeries": null}"#).expect("decodes");
        assert!(series.time_series.is_empty());
        let mgmt: ManagementInterface = serde_json::from_str(
            r#"{"ddnsHostnames": {"activeDdnsHostname": "a.dynamic-m.com", "ddnsHostnameWan2": null}}"#,
        )
        .expect("decodes");
        assert_eq!(mgmt.ddns_hostnames.len(), 1);
    }
}
