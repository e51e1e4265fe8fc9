//! The bodies of the simulated endpoints, shaped like the spec's responses (the files in
//! `shared/meraki/`), with the filters, ranges and defaults of the real API: the paginated lists
//! (organizations, networks, devices, clients filtered by time window and the usual fields) with
//! their `Link` header, and the dispatch to the appliance endpoints in `measurements`. Routing,
//! keys and rate limits are checked before this.

use serde_json::Value;

use super::Sim;
use super::measurements;
use super::paging::{LinkBase, PageQuery, paginate};
use super::params::{Invalid, Params};
use super::people::{client_id, client_json, last_seen};

/// Paging cursors of lists ordered by serial: every serial sorts between them, so they stand for the
/// first and the last page.
pub(super) const SERIAL_SENTINELS: (&str, &str) = ("0000-0000-0000", "ZZZZ-ZZZZ-ZZZZ");

const PRODUCT_TYPES: [&str; 10] = [
    "appliance",
    "camera",
    "campusGateway",
    "cellularGateway",
    "secureConnect",
    "sensor",
    "switch",
    "systemsManager",
    "wireless",
    "wirelessController",
];

/// A route with its ids resolved.
#[derive(Clone, Copy)]
pub enum Route {
    Organizations,
    OrgNetworks(usize),
    OrgDevices(usize),
    OrgLossLatency(usize),
    OrgUplinkStatuses(usize),
    NetworkDevices(usize),
    NetworkClients(usize),
    ManagementInterface(usize),
    LossLatencyHistory(usize),
    /// `GET /networks/{id}`, `GET /devices/{serial}` and `organizations/{id}/inventoryDevices`:
    /// what the SDK's rate limiter ("smart flow") reads to learn which organization owns what.
    Network(usize),
    Device(usize),
    OrgInventory(usize),
}

/// What one request needs to build its body.
pub struct Request<'a> {
    pub sim: &'a Sim,
    pub params: &'a Params,
    /// `http://host/api/v1`, or empty for relative links.
    pub origin: String,
    /// The path after `/api/v1`.
    pub path: &'a str,
    pub now: i64,
}

/// The body and the `Link` header, or a 400 message.
pub type Answer = Result<(Value, Option<String>), Invalid>;

pub fn respond(request: &Request<'_>, route: Route) -> Answer {
    match route {
        Route::Organizations => organizations(request),
        Route::OrgNetworks(org) => networks(request, org),
        Route::OrgDevices(org) => devices(request, org),
        Route::OrgLossLatency(org) => measurements::loss_latency(request, org),
        Route::OrgUplinkStatuses(org) => measurements::uplink_statuses(request, org),
        Route::NetworkDevices(network) => {
            let estate = &request.sim.estate;
            let devices = estate.networks[network].devices.iter();
            let body = devices
                .map(|d| estate.device_json(&estate.devices[*d], false))
                .collect();
            Ok((Value::Array(body), None))
        }
        Route::NetworkClients(network) => clients(request, network),
        Route::ManagementInterface(device) => {
            Ok((measurements::management_interface(request, device), None))
        }
        Route::LossLatencyHistory(device) => measurements::history(request, device),
        Route::Network(network) => {
            let estate = &request.sim.estate;
            Ok((estate.network_json(&estate.networks[network]), None))
        }
        Route::Device(device) => {
            let estate = &request.sim.estate;
            Ok((estate.device_json(&estate.devices[device], true), None))
        }
        Route::OrgInventory(org) => inventory(request, org),
    }
}

/// `organizations/{id}/inventoryDevices`: the organization's devices as its inventory lists them,
/// by serial, 3 to 1000 per page (1000 by default).
fn inventory(request: &Request<'_>, org: usize) -> Answer {
    let query = request.params.page(3, 1000, 1000)?;
    let estate = &request.sim.estate;
    let items = estate.orgs[org].devices.iter().map(|d| &estate.devices[*d]);
    let render = |d: &&super::estate::Device| {
        let device = estate.device_json(d, true);
        serde_json::json!({
            "mac": device["mac"], "serial": device["serial"], "name": device["name"],
            "model": device["model"], "networkId": device["networkId"], "orderNumber": null,
            "claimedAt": "2026-01-01T00:00:00Z", "licenseExpirationDate": null,
            "tags": device["tags"], "productType": device["productType"], "details": []
        })
    };
    page_of(
        request,
        items,
        |d| d.serial.clone(),
        &query,
        SERIAL_SENTINELS,
        render,
    )
}

/// One page of `items` as a JSON list with its `Link` header.
pub(super) fn page_of<T>(
    request: &Request<'_>,
    items: impl Iterator<Item = T>,
    key: impl Fn(&T) -> String,
    query: &PageQuery,
    sentinels: (&str, &str),
    render: impl Fn(&T) -> Value,
) -> Answer {
    let page = paginate(items, &key, query);
    let base = LinkBase {
        origin: &request.origin,
        path: request.path,
        params: &request.params.pairs,
        sentinels,
    };
    let first = page.items.first().map(&key);
    let last = page.items.last().map(&key);
    let link = super::paging::link_header(
        &base,
        first.as_deref(),
        last.as_deref(),
        page.has_prev,
        page.has_next,
    );
    Ok((page.items.iter().map(render).collect(), Some(link)))
}

fn organizations(request: &Request<'_>) -> Answer {
    let query = request.params.page(3, 9000, 9000)?;
    let estate = &request.sim.estate;
    page_of(
        request,
        estate.orgs.iter(),
        |o| o.id.clone(),
        &query,
        ("0", "zzzzzzzz"),
        |o| estate.org_json(o),
    )
}

fn networks(request: &Request<'_>, org: usize) -> Answer {
    let query = request.params.page(3, 100_000, 1000)?;
    let wanted = checked_list(request.params, "productTypes", &PRODUCT_TYPES)?;
    let estate = &request.sim.estate;
    let items = estate.orgs[org]
        .networks
        .iter()
        .map(|n| &estate.networks[*n])
        .filter(|n| {
            wanted.is_empty()
                || super::estate::product_types(n.kind)
                    .iter()
                    .any(|p| wanted.contains(p))
        });
    page_of(
        request,
        items,
        |n| n.id.clone(),
        &query,
        ("0", "zzzzzzzz"),
        |n| estate.network_json(n),
    )
}

fn devices(request: &Request<'_>, org: usize) -> Answer {
    let query = request.params.page(3, 5000, 1000)?;
    let params = request.params;
    let products = checked_list(params, "productTypes", &PRODUCT_TYPES)?;
    let (networks, serials, models) = (
        params.list("networkIds"),
        params.list("serials"),
        params.list("models"),
    );
    let estate = &request.sim.estate;
    let items = estate.orgs[org]
        .devices
        .iter()
        .map(|d| &estate.devices[*d])
        .filter(|d| {
            let json = estate.device_json(d, true);
            let has = |list: &Vec<&str>, field: &str| {
                list.is_empty() || list.contains(&json[field].as_str().unwrap_or_default())
            };
            has(&products, "productType")
                && has(&networks, "networkId")
                && has(&serials, "serial")
                && has(&models, "model")
        });
    page_of(
        request,
        items,
        |d| d.serial.clone(),
        &query,
        SERIAL_SENTINELS,
        |d| estate.device_json(d, true),
    )
}

fn clients(request: &Request<'_>, network: usize) -> Answer {
    let params = request.params;
    let query = params.page(3, 5000, 10)?;
    if params.get("t1").is_some() {
        return Err("'t1' is not a parameter of this operation".to_owned());
    }
    let window = params.window(request.now, 2_678_400.0, 86_400.0)?;
    let statuses = checked_list(params, "statuses", &["Offline", "Online"])?;
    let connections = checked_list(params, "recentDeviceConnections", &["Wired", "Wireless"])?;
    let estate = &request.sim.estate;
    let net = &estate.networks[network];
    let partial = [
        "ip",
        "ip6",
        "ip6Local",
        "mac",
        "os",
        "pskGroup",
        "description",
        "namedVlan",
    ];
    let field_filters: Vec<(&str, String)> = partial
        .iter()
        .filter_map(|f| params.get(f).map(|v| (*f, v.to_lowercase())))
        .collect();
    let vlan = params.get("vlan");
    let needs_fields = !(field_filters.is_empty()
        && statuses.is_empty()
        && connections.is_empty()
        && vlan.is_none());
    let numbers = net
        .clients
        .clone()
        .filter(|n| last_seen(estate.seed, *n, request.now) >= window.start)
        .filter(|n| {
            if !needs_fields {
                return true;
            }
            let client = client_json(estate, net, *n, request.now);
            let text = |field: &str| client[field].as_str().unwrap_or_default().to_lowercase();
            field_filters
                .iter()
                .all(|(field, value)| text(field).contains(value.as_str()))
                && (statuses.is_empty()
                    || statuses.contains(&client["status"].as_str().unwrap_or_default()))
                && (connections.is_empty()
                    || connections.contains(
                        &client["recentDeviceConnection"]
                            .as_str()
                            .unwrap_or_default(),
                    ))
                && vlan.is_none_or(|v| client["vlan"] == v)
        });
    let render = |n: &u64| client_json(estate, net, *n, request.now);
    page_of(
        request,
        numbers,
        |n| client_id(*n),
        &query,
        ("a000000", "zzzzzzz"),
        render,
    )
}

/// An array parameter whose values must come from `allowed`.
fn checked_list<'a>(
    params: &'a Params,
    name: &str,
    allowed: &[&str],
) -> Result<Vec<&'a str>, Invalid> {
    let values = params.list(name);
    match values.iter().find(|v| !allowed.contains(v)) {
        Some(bad) => Err(format!(
            "'{name}' has an unknown value {bad:?}; expected one of: {}",
            allowed.join(", ")
        )),
        None => Ok(values),
    }
}
