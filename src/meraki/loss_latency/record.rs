//! The records of `publish loss-latency`: one flat JSON object per point, with the series' context
//! (serial, network, organization, model, uplink, destination), the point (timestamp in RFC 3339,
//! lossPercent, latencyMs, and goodput/jitter from the per-device call, each the JSON value the API
//! sent) and the device's dynamic DNS hostnames. A point whose metrics are all `null` (the device
//! reported nothing that minute) is a record too, as the original published it; whether to publish
//! it is the poller's choice. A point whose time cannot be read is no record.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::Inventory;
use crate::meraki::model::{HistoryBucket, SeriesPoint};

/// The fields every record of one series shares.
pub(super) struct Series {
    pub(super) serial: String,
    pub(super) uplink: String,
    pub(super) ip: String,
    context: Map<String, Value>,
}

impl Series {
    pub(super) fn new(
        serial: &str,
        network: Option<&str>,
        uplink: String,
        ip: String,
        inventory: &Inventory,
    ) -> Self {
        let device = inventory.appliances.get(serial);
        let network_id = network
            .map(str::to_owned)
            .or_else(|| device.and_then(|d| d.network_id.clone()));
        let network_name = network_id
            .as_ref()
            .and_then(|id| inventory.networks.get(id));
        let mut context = Map::new();
        context.insert("serial".into(), json!(serial));
        context.insert("networkId".into(), json!(network_id));
        context.insert("networkName".into(), json!(network_name));
        context.insert("organizationId".into(), json!(inventory.org));
        context.insert("model".into(), json!(device.and_then(|d| d.model.clone())));
        context.insert(
            "deviceName".into(),
            json!(device.and_then(|d| d.name.clone())),
        );
        context.insert("uplink".into(), json!(uplink));
        context.insert("ip".into(), json!(ip));
        Self {
            serial: serial.to_owned(),
            uplink,
            ip,
            context,
        }
    }

    pub(super) fn record(&self, point: &Point, hostnames: &Map<String, Value>) -> Value {
        let mut record = self.context.clone();
        record.insert(
            "timestamp".into(),
            json!(point.at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        );
        record.extend(point.metrics.iter().map(|(k, v)| (k.clone(), v.clone())));
        record.extend(hostnames.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(record)
    }
}

/// One measurement, its values as the API sent them.
pub(super) struct Point {
    pub(super) at: DateTime<Utc>,
    /// `lossPercent` and `latencyMs` (`null` when missing), and `goodput` and `jitter` when the
    /// response has them (only the per-device call does).
    metrics: Map<String, Value>,
}

impl Point {
    pub(super) fn new(
        ts: Option<&str>,
        loss_percent: Option<Value>,
        latency_ms: Option<Value>,
    ) -> Option<Self> {
        let at = DateTime::parse_from_rfc3339(ts?).ok()?.with_timezone(&Utc);
        let mut metrics = Map::new();
        metrics.insert("lossPercent".into(), loss_percent.unwrap_or(Value::Null));
        metrics.insert("latencyMs".into(), latency_ms.unwrap_or(Value::Null));
        Some(Self { at, metrics })
    }

    pub(super) fn from_series(point: &SeriesPoint) -> Option<Self> {
        Self::new(
            point.ts.as_deref(),
            point.loss_percent.clone(),
            point.latency_ms.clone(),
        )
    }

    pub(super) fn from_bucket(bucket: &HistoryBucket) -> Option<Self> {
        let mut point = Self::new(
            bucket.start_time.as_deref(),
            bucket.loss_percent.clone(),
            bucket.latency_ms.clone(),
        )?;
        for (name, value) in [("goodput", &bucket.goodput), ("jitter", &bucket.jitter)] {
            if let Some(value) = value {
                point.metrics.insert(name.to_owned(), value.clone());
            }
        }
        Some(point)
    }

    /// Every metric is `null`: the device did not report this minute.
    pub(super) fn is_empty(&self) -> bool {
        self.metrics.values().all(Value::is_null)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::meraki::model::Device;

    fn inventory() -> Inventory {
        let device: Device = serde_json::from_value(json!({
            "serial": "Q2XX-0000-0001", "networkId": "N_1", "model": "MX68", "name": "Branch MX"
        }))
        .expect("device");
        Inventory {
            org: "2930418".into(),
            networks: HashMap::from([("N_1".to_owned(), "Main Office".to_owned())]),
            appliances: HashMap::from([("Q2XX-0000-0001".to_owned(), device)]),
        }
    }

    #[test]
    fn a_point_becomes_a_flat_record_with_context_and_hostnames() {
        let series = Series::new(
            "Q2XX-0000-0001",
            None,
            "wan1".into(),
            "8.8.8.8".into(),
            &inventory(),
        );
        let point =
            Point::new(Some("2026-01-15T09:56:00Z"), Some(json!(12.5)), None).expect("a point");
        let hostnames = json!({"activeDdnsHostname": "mx-1.dynamic-m.com"});
        let record = series.record(&point, hostnames.as_object().expect("object"));
        assert_eq!(
            record,
            json!({"serial": "Q2XX-0000-0001", "networkId": "N_1", "networkName": "Main Office",
                   "organizationId": "2930418", "model": "MX68", "deviceName": "Branch MX",
                   "uplink": "wan1", "ip": "8.8.8.8", "timestamp": "2026-01-15T09:56:00Z",
                   "lossPercent": 12.5, "latencyMs": null, "activeDdnsHostname": "mx-1.dynamic-m.com"})
        );
    }

    #[test]
    fn bad_timestamps_are_no_point_and_all_null_points_are_empty() {
        assert!(Point::new(Some("yesterday"), Some(json!(1.0)), None).is_none());
        assert!(Point::new(None, Some(json!(1.0)), None).is_none());
        let silent = Point::new(Some("2026-01-15T09:56:00Z"), Some(Value::Null), None);
        assert!(silent.expect("a point without data is a point").is_empty());
        let outage = Point::new(Some("2026-01-15T09:56:00Z"), Some(json!(100)), None);
        assert!(!outage.expect("a point").is_empty());
    }

    #[test]
    fn per_device_values_keep_their_json_type() {
        let bucket: HistoryBucket = serde_json::from_value(json!({
            "startTime": "2026-01-15T09:56:00Z", "endTime": "2026-01-15T09:57:00Z",
            "lossPercent": 0, "latencyMs": 20.5, "goodput": 6581, "jitter": null
        }))
        .expect("bucket");
        let point = Point::from_bucket(&bucket).expect("a point");
        let series = Series::new(
            "Q2XX-0000-0001",
            None,
            "wan1".into(),
            "8.8.8.8".into(),
            &inventory(),
        );
        let text = series.record(&point, &Map::new()).to_string();
        for field in [
            r#""lossPercent":0,"#,
            r#""latencyMs":20.5,"#,
            r#""goodput":6581,"#,
            r#""jitter":null"#,
        ] {
            assert!(text.contains(field), "{field} in {text}");
        }
    }
}
