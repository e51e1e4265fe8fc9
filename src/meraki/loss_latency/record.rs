//! The records of `publish loss-latency`: one flat JSON object per non-null point, with the
//! series' context (serial, network, organization, model, uplink, destination), the point
//! (timestamp in RFC 3339, lossPercent, latencyMs, and goodput/jitter from the per-device call) and
//! the device's dynamic DNS hostnames. A point whose metrics are all `null`, or whose time cannot
//! be read, is no record.

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
        record.insert("lossPercent".into(), json!(point.loss_percent));
        record.insert("latencyMs".into(), json!(point.latency_ms));
        record.extend(point.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        record.extend(hostnames.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(record)
    }
}

/// One non-null measurement.
pub(super) struct Point {
    pub(super) at: DateTime<Utc>,
    loss_percent: Option<f64>,
    latency_ms: Option<f64>,
    /// `goodput` and `jitter`, which only the per-device call has.
    extra: Map<String, Value>,
}

impl Point {
    pub(super) fn new(
        ts: Option<&str>,
        loss_percent: Option<f64>,
        latency_ms: Option<f64>,
    ) -> Option<Self> {
        if loss_percent.is_none() && latency_ms.is_none() {
            return None;
        }
        let at = DateTime::parse_from_rfc3339(ts?).ok()?.with_timezone(&Utc);
        Some(Self {
            at,
            loss_percent,
            latency_ms,
            extra: Map::new(),
        })
    }

    pub(super) fn from_series(point: &SeriesPoint) -> Option<Self> {
        Self::new(point.ts.as_deref(), point.loss_percent, point.latency_ms)
    }

    pub(super) fn from_bucket(bucket: &HistoryBucket) -> Option<Self> {
        let mut point = Self::new(
            bucket.start_time.as_deref(),
            bucket.loss_percent,
            bucket.latency_ms,
        )?;
        for (name, value) in [("goodput", bucket.goodput), ("jitter", bucket.jitter)] {
            if let Some(value) = value {
                point.extra.insert(name.to_owned(), json!(value));
            }
        }
        Some(point)
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
        let point = Point::new(Some("2026-01-15T09:56:00Z"), Some(12.5), None).expect("a point");
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
    fn null_points_and_bad_timestamps_are_skipped() {
        assert!(Point::new(Some("2026-01-15T09:56:00Z"), None, None).is_none());
        assert!(Point::new(Some("yesterday"), Some(1.0), None).is_none());
        assert!(Point::new(None, Some(1.0), None).is_none());
    }
}
