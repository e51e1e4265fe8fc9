//! The simulated endpoints about appliances and their uplinks: org-wide loss/latency rows (one per
//! device, uplink and destination, minute points ending two minutes before the window's end, as
//! the API's do), the per-device history on its resolution grid, uplink statuses and management
//! interfaces with dynamic DNS names.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::endpoints::{Answer, Request, SERIAL_SENTINELS, page_of};
use super::estate::{Device, DeviceKind, mix};
use super::series::{destinations, goodput_and_jitter, sample, uplinks};

/// The org-wide call's points end this long before now, as the API's do.
const DATA_LAG_SECONDS: i64 = 120;

fn appliances<'a>(
    request: &'a Request<'_>,
    org: usize,
) -> impl Iterator<Item = (&'a Device, &'static str)> + 'a {
    let estate = &request.sim.estate;
    estate.orgs[org]
        .devices
        .iter()
        .filter_map(move |d| match estate.devices[*d].kind {
            DeviceKind::Appliance(model) => Some((&estate.devices[*d], model)),
            _ => None,
        })
}

pub(super) fn loss_latency(request: &Request<'_>, org: usize) -> Answer {
    let window = request.params.window(request.now, 300.0, 300.0)?;
    let uplink_filter = request.params.get("uplink");
    if let Some(uplink) = uplink_filter {
        request
            .params
            .one_of("uplink", &["cellular", "wan1", "wan2", "wan3"], uplink)?;
    }
    let ip_filter = request.params.get("ip");
    let seed = request.sim.estate.seed;
    let (first, last) = (
        (window.start - DATA_LAG_SECONDS).div_euclid(60) + 1,
        (window.end - DATA_LAG_SECONDS).div_euclid(60),
    );
    let mut rows = Vec::new();
    for (device, _) in appliances(request, org) {
        for uplink in uplinks(seed, device.number)
            .into_iter()
            .filter(|u| uplink_filter.is_none_or(|f| f == *u))
        {
            for ip in destinations(seed, device.number, uplink)
                .into_iter()
                .filter(|ip| ip_filter.is_none_or(|f| f == ip))
            {
                let points: Vec<Value> = (first..=last)
                    .map(|minute| {
                        let (loss, latency) = sample(seed, device.number, uplink, &ip, minute);
                        json!({"ts": time(minute * 60), "lossPercent": loss, "latencyMs": latency})
                    })
                    .collect();
                let network = &request.sim.estate.networks[device.network].id;
                rows.push(json!({"networkId": network, "serial": device.serial, "uplink": uplink, "ip": ip, "timeSeries": points}));
            }
        }
    }
    Ok((Value::Array(rows), None))
}

pub(super) fn uplink_statuses(request: &Request<'_>, org: usize) -> Answer {
    let query = request.params.page(3, 1000, 1000)?;
    let (networks, serials) = (
        request.params.list("networkIds"),
        request.params.list("serials"),
    );
    let estate = &request.sim.estate;
    let items = appliances(request, org).filter(|(d, _)| {
        (networks.is_empty() || networks.contains(&estate.networks[d.network].id.as_str()))
            && (serials.is_empty() || serials.contains(&d.serial.as_str()))
    });
    let now = time(request.now);
    let render = |(device, model): &(&Device, &str)| {
        let seed = estate.seed;
        let links: Vec<Value> = uplinks(seed, device.number)
            .into_iter()
            .map(|uplink| uplink_status(seed, device.number, uplink))
            .collect();
        json!({"networkId": estate.networks[device.network].id, "serial": device.serial, "model": model,
               "lastReportedAt": now, "highAvailability": {"enabled": false, "role": "primary"}, "uplinks": links})
    };
    page_of(
        request,
        items,
        |(d, _)| d.serial.clone(),
        &query,
        SERIAL_SENTINELS,
        render,
    )
}

fn uplink_status(seed: u64, device: u64, uplink: &str) -> Value {
    if mix(seed, &[device, 5]).is_multiple_of(10) && uplink != "wan1" {
        return json!({"interface": uplink, "status": "not connected", "ip": null, "gateway": null, "publicIp": null,
                      "primaryDns": null, "secondaryDns": null, "ipAssignedBy": null});
    }
    let host = 1 + mix(seed, &[device, 6]) % 250;
    json!({"interface": uplink, "status": "active", "ip": format!("192.0.2.{host}"), "gateway": "192.0.2.1",
           "publicIp": format!("203.0.113.{host}"), "primaryDns": "198.51.100.53", "secondaryDns": "198.51.100.54",
           "ipAssignedBy": "dhcp"})
}

pub(super) fn management_interface(request: &Request<'_>, device: usize) -> Value {
    let device = &request.sim.estate.devices[device];
    let wan = |enabled: &str, vlan: u64| {
        json!({"wanEnabled": enabled, "usingStaticIp": false, "staticIp": "192.0.2.10", "staticSubnetMask": "255.255.255.0",
               "staticGatewayIp": "192.0.2.1", "staticDns": ["198.51.100.53", "198.51.100.54"], "vlan": vlan, "vrf": {"name": "Mgmt-vrf"}})
    };
    if !matches!(device.kind, DeviceKind::Appliance(_)) {
        return json!({"wan1": wan("not configured", 1)});
    }
    let name = format!("synthetic-mx-{}", device.number);
    json!({
        "ddnsHostnames": {"activeDdnsHostname": format!("{name}.dynamic-m.com"),
                          "ddnsHostnameWan1": format!("{name}-1.dynamic-m.com"),
                          "ddnsHostnameWan2": format!("{name}-2.dynamic-m.com")},
        "wan1": wan("enabled", 1),
        "wan2": wan("enabled", 2)
    })
}

pub(super) fn history(request: &Request<'_>, device: usize) -> Answer {
    let device = &request.sim.estate.devices[device];
    if !matches!(device.kind, DeviceKind::Appliance(_)) {
        return Err(
            "Loss and latency history is only available for MX, MG and Z devices".to_owned(),
        );
    }
    let params = request.params;
    let ip = params.get("ip").ok_or("'ip' is required")?;
    let resolution = params.one_of("resolution", &["60", "600", "3600", "86400"], "60")?;
    let resolution: i64 = resolution
        .parse()
        .map_err(|_| "'resolution' must be an integer")?;
    let uplink = params.one_of(
        "uplink",
        &["cellular", "wan1", "wan2", "wan3", "wan4"],
        "wan1",
    )?;
    let window = params.window(request.now, 2_678_400.0, 86_400.0)?;
    let seed = request.sim.estate.seed;
    let mut start = window.start.div_euclid(resolution) * resolution;
    let mut buckets = Vec::new();
    while start + resolution <= window.end {
        let minute = start.div_euclid(60);
        let (loss, latency) = sample(seed, device.number, uplink, ip, minute);
        let (goodput, jitter) = goodput_and_jitter(seed, device.number, minute, latency);
        buckets.push(json!({"startTime": time(start), "endTime": time(start + resolution), "lossPercent": loss,
                            "latencyMs": latency, "goodput": goodput, "jitter": jitter}));
        start += resolution;
    }
    Ok((Value::Array(buckets), None))
}

fn time(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}
