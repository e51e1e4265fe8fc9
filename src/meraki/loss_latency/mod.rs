//! `publish loss-latency`: for each organization, its networks (for names) and its appliances (any
//! MX or Z model, `productTypes[]=appliance`, every page), then uplink loss and latency — by
//! default one org-wide `devices/uplinksLossAndLatency` call, or per device from
//! `lossAndLatencyHistory` like the original. Each point becomes one flat record keyed by serial
//! (or by one fixed key, the original's `RECORD_KEY`): serial, networkId, uplink, ip, timestamp,
//! lossPercent, latencyMs, the device's dynamic DNS hostnames (as the original merged them) and
//! context (organizationId, networkName, model). Points without data (every metric `null`) are
//! published like the original did, unless `skip_empty_points`. Hostnames are cached for an hour;
//! points already published by an earlier cycle are skipped.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

mod record;

use record::{Point, Series};

use super::model::{Device, HistoryBucket, ManagementInterface, Network, UplinkSeries};
use super::schedule::{OrgContext, OrgPoller, PollError, for_each_bounded};
use super::sinks::Record;

/// Dynamic DNS names barely change; one call per appliance per hour is plenty.
const DDNS_TTL: Duration = Duration::from_secs(3600);

/// Where the numbers come from and which.
#[derive(Clone, Debug)]
pub struct LossLatencyOptions {
    /// `lossAndLatencyHistory` per appliance instead of the org-wide call.
    pub per_device: bool,
    /// Seconds back from now (the org-wide call allows at most 300).
    pub timespan: f64,
    /// Probe destination: a filter for the org-wide call, required per device.
    pub ip: Option<String>,
    /// Uplink: a filter for the org-wide call, `wan1` by default per device.
    pub uplink: Option<String>,
    /// Per device only: 60, 600, 3600 or 86400 seconds.
    pub resolution: u32,
    /// Fetch the dynamic DNS hostnames (one call per appliance per hour).
    pub ddns: bool,
    /// Requests in flight per organization.
    pub concurrency: usize,
    /// Leave out points whose metrics are all `null` (the original published them).
    pub skip_empty_points: bool,
    /// One key for every record instead of the serial (the original's `RECORD_KEY`).
    pub record_key: Option<String>,
}

/// The org-wide call's longest timespan, and the default.
pub const ORG_WIDE_TIMESPAN_S: f64 = 300.0;
/// Seconds per data point of the per-device call unless told otherwise.
pub const DEFAULT_RESOLUTION_S: u32 = 60;

impl Default for LossLatencyOptions {
    /// The org-wide call over its longest timespan, with dynamic DNS names.
    fn default() -> Self {
        LossLatencyOptions {
            per_device: false,
            timespan: ORG_WIDE_TIMESPAN_S,
            ip: None,
            uplink: None,
            resolution: DEFAULT_RESOLUTION_S,
            ddns: true,
            concurrency: super::DEFAULT_CONCURRENCY,
            skip_empty_points: false,
            record_key: None,
        }
    }
}

/// (serial, uplink, destination) of one series.
type SeriesKey = (String, String, String);
/// A device's dynamic DNS names and when they were fetched.
type CachedHostnames = (Instant, Arc<Map<String, Value>>);

/// The poller; its caches live across cycles.
pub struct LossLatencyPoller {
    options: LossLatencyOptions,
    hostnames: Mutex<HashMap<String, CachedHostnames>>,
    published: Mutex<HashMap<SeriesKey, DateTime<Utc>>>,
}

/// What the records of one organization share.
struct Inventory {
    org: String,
    networks: HashMap<String, String>,
    appliances: HashMap<String, Device>,
}

impl LossLatencyPoller {
    pub fn new(options: LossLatencyOptions) -> Self {
        Self {
            options,
            hostnames: Mutex::new(HashMap::new()),
            published: Mutex::new(HashMap::new()),
        }
    }

    async fn inventory(ctx: &OrgContext) -> Result<Inventory, PollError> {
        let org = ctx.org.id.clone();
        let mut networks = HashMap::new();
        let path = format!("organizations/{org}/networks");
        let mut pages = ctx.client.pages::<Network>(Some(&org), &path, &[])?;
        while let Some(page) = pages.next_page().await? {
            networks.extend(page.into_iter().map(|n| (n.id, n.name.unwrap_or_default())));
        }
        let mut appliances = HashMap::new();
        let path = format!("organizations/{org}/devices");
        let query = [
            ("productTypes[]", "appliance".to_owned()),
            ("perPage", "1000".to_owned()),
        ];
        let mut pages = ctx.client.pages::<Device>(Some(&org), &path, &query)?;
        while let Some(page) = pages.next_page().await? {
            appliances.extend(page.into_iter().map(|d| (d.serial.clone(), d)));
        }
        Ok(Inventory {
            org,
            networks,
            appliances,
        })
    }

    /// The device's `ddnsHostnames`, from the cache or the API; empty when the API has none.
    async fn hostnames(
        &self,
        ctx: &OrgContext,
        serial: &str,
    ) -> Result<Arc<Map<String, Value>>, PollError> {
        if !self.options.ddns {
            return Ok(Arc::default());
        }
        if let Some((at, names)) = lock(&self.hostnames).get(serial)
            && at.elapsed() < DDNS_TTL
        {
            return Ok(Arc::clone(names));
        }
        let path = format!("devices/{serial}/managementInterface");
        let names = match ctx
            .client
            .get::<ManagementInterface>(Some(&ctx.org.id), &path, &[])
            .await
        {
            Ok(mgmt) => Arc::new(mgmt.ddns_hostnames),
            Err(err) if matches!(err.status(), Some(400 | 404)) => Arc::default(),
            Err(err) => return Err(err.into()),
        };
        lock(&self.hostnames).insert(serial.to_owned(), (Instant::now(), Arc::clone(&names)));
        Ok(names)
    }

    /// Keeps the points newer than what earlier cycles published for the series.
    fn fresh(&self, key: SeriesKey, points: Vec<Point>) -> Vec<Point> {
        let mut published = lock(&self.published);
        let last = published.get(&key).copied();
        let fresh: Vec<Point> = points
            .into_iter()
            .filter(|point| last.is_none_or(|last| point.at > last))
            .collect();
        if let Some(newest) = fresh.iter().map(|point| point.at).max() {
            published.insert(key, newest);
        }
        fresh
    }

    async fn org_wide(
        self: Arc<Self>,
        ctx: OrgContext,
        inventory: Arc<Inventory>,
    ) -> Result<(), PollError> {
        let mut query = vec![("timespan", self.options.timespan.to_string())];
        query.extend(self.options.uplink.clone().map(|uplink| ("uplink", uplink)));
        query.extend(self.options.ip.clone().map(|ip| ("ip", ip)));
        let path = format!(
            "organizations/{}/devices/uplinksLossAndLatency",
            inventory.org
        );
        let rows: Vec<UplinkSeries> = ctx.client.get(Some(&ctx.org.id), &path, &query).await?;
        // One task per device, its series in turn, so that its hostnames are fetched once.
        let mut devices: BTreeMap<String, Vec<UplinkSeries>> = BTreeMap::new();
        for row in rows {
            devices.entry(row.serial.clone()).or_default().push(row);
        }
        for_each_bounded(devices, self.options.concurrency, |(serial, rows)| {
            let (poller, ctx, inventory) = (Arc::clone(&self), ctx.clone(), Arc::clone(&inventory));
            async move {
                let mut result = Ok(());
                for row in rows {
                    let uplink = row.uplink.unwrap_or_default();
                    let ip = row.ip.unwrap_or_default();
                    let points = row
                        .time_series
                        .iter()
                        .filter_map(Point::from_series)
                        .collect();
                    let network = row.network_id.as_deref();
                    let series = Series::new(&serial, network, uplink, ip, &inventory);
                    result = poller.emit_series(&ctx, series, points).await;
                    if result.is_err() {
                        break;
                    }
                }
                ctx.tolerate(&serial, result)
            }
        })
        .await
    }

    async fn per_device(
        self: Arc<Self>,
        ctx: OrgContext,
        inventory: Arc<Inventory>,
    ) -> Result<(), PollError> {
        let uplink = self
            .options
            .uplink
            .clone()
            .unwrap_or_else(|| "wan1".to_owned());
        let ip = self
            .options
            .ip
            .clone()
            .unwrap_or_else(|| "8.8.8.8".to_owned());
        let query = vec![
            ("ip", ip.clone()),
            ("uplink", uplink.clone()),
            ("timespan", self.options.timespan.to_string()),
            ("resolution", self.options.resolution.to_string()),
        ];
        let serials: Vec<String> = inventory.appliances.keys().cloned().collect();
        for_each_bounded(serials, self.options.concurrency, |serial| {
            let (poller, ctx, inventory) = (Arc::clone(&self), ctx.clone(), Arc::clone(&inventory));
            let (query, uplink, ip) = (query.clone(), uplink.clone(), ip.clone());
            async move {
                let path = format!("devices/{serial}/lossAndLatencyHistory");
                let fetched = ctx
                    .client
                    .get::<Vec<HistoryBucket>>(Some(&ctx.org.id), &path, &query)
                    .await;
                let result = match fetched {
                    Ok(buckets) => {
                        let points = buckets.iter().filter_map(Point::from_bucket).collect();
                        let series = Series::new(&serial, None, uplink, ip, &inventory);
                        poller.emit_series(&ctx, series, points).await
                    }
                    Err(err) => Err(err.into()),
                };
                ctx.tolerate(&serial, result)
            }
        })
        .await
    }

    async fn emit_series(
        &self,
        ctx: &OrgContext,
        series: Series,
        points: Vec<Point>,
    ) -> Result<(), PollError> {
        let key = (
            series.serial.clone(),
            series.uplink.clone(),
            series.ip.clone(),
        );
        let points: Vec<Point> = points
            .into_iter()
            .filter(|point| !(self.options.skip_empty_points && point.is_empty()))
            .collect();
        let points = self.fresh(key, points);
        if points.is_empty() {
            return Ok(());
        }
        let hostnames = self.hostnames(ctx, &series.serial).await?;
        for point in points {
            let value = series.record(&point, &hostnames);
            let key = self.options.record_key.as_ref().unwrap_or(&series.serial);
            ctx.emit(Record {
                key: key.clone(),
                value,
            })
            .await?;
        }
        Ok(())
    }
}

impl OrgPoller for LossLatencyPoller {
    async fn poll_org(self: Arc<Self>, ctx: OrgContext) -> Result<(), PollError> {
        let inventory = Arc::new(Self::inventory(&ctx).await?);
        ctx.progress.networks.fetch_add(
            inventory.networks.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        ctx.progress.devices.fetch_add(
            inventory.appliances.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        if self.options.per_device {
            self.per_device(ctx, inventory).await
        } else {
            self.org_wide(ctx, inventory).await
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_published_in_an_earlier_cycle_are_not_published_again() {
        let poller = LossLatencyPoller::new(LossLatencyOptions {
            per_device: false,
            timespan: 300.0,
            ip: None,
            uplink: None,
            resolution: 60,
            ddns: false,
            concurrency: 1,
            skip_empty_points: false,
            record_key: None,
        });
        let key = || ("Q".to_owned(), "wan1".to_owned(), "8.8.8.8".to_owned());
        let points = |minutes: &[u32]| -> Vec<Point> {
            minutes
                .iter()
                .filter_map(|m| {
                    Point::new(
                        Some(&format!("2026-01-15T09:{m:02}:00Z")),
                        Some(0.into()),
                        None,
                    )
                })
                .collect()
        };
        assert_eq!(poller.fresh(key(), points(&[55, 56, 57])).len(), 3);
        let again = poller.fresh(key(), points(&[56, 57, 58, 59]));
        let minutes: Vec<String> = again
            .iter()
            .map(|p| p.at.format("%M").to_string())
            .collect();
        assert_eq!(minutes, ["58", "59"]);
    }
}
