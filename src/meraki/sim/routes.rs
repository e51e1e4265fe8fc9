//! The simulator's one HTTP handler, in the order the real service answers: the redirect switch,
//! injected faults, the method, the API key (401), the route and its ids (404), the organization's
//! rate limit (429 + `Retry-After`), the parameters (400), then the body. Every answer carries
//! `Content-Type: application/json; charset=utf-8` (HTML for the front end's errors) and an
//! `X-Request-Id`, and is written to the request log.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::json;

use super::Sim;
use super::endpoints::{Request, Route, respond};
use super::estate::{Estate, mix};
use super::guard::{Fault, authorize};
use super::params::Params;

const API_PREFIX: &str = "/api/v1";
const JSON: &str = "application/json; charset=utf-8";
const NGINX_429: &str = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// An answer before the common headers are added.
struct Reply {
    status: StatusCode,
    content_type: &'static str,
    body: String,
    headers: Vec<(header::HeaderName, String)>,
}

impl Reply {
    fn json(status: StatusCode, body: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: JSON,
            body: body.to_string(),
            headers: Vec::new(),
        }
    }

    fn errors(status: StatusCode, message: &str) -> Self {
        Self::json(status, &json!({ "errors": [message] }))
    }

    fn html(status: StatusCode, body: String) -> Self {
        Self {
            status,
            content_type: "text/html",
            body,
            headers: Vec::new(),
        }
    }

    fn with(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

pub(super) async fn handle(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let number = sim.sequence.fetch_add(1, Ordering::Relaxed) + 1;
    let (org, reply) = answer(&sim, number, &method, &uri, &headers).await;
    sim.log(org, uri.path(), reply.status.as_u16());
    let request_id = format!("{:016x}{:016x}", mix(sim.config.seed, &[number]), number);
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = reply.status;
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    for (name, value) in
        std::iter::once((header::HeaderName::from_static("x-request-id"), request_id))
            .chain(reply.headers)
    {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    response
}

/// The answer and the organization whose budget the request spent.
async fn answer(
    sim: &Sim,
    number: u64,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> (Option<String>, Reply) {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    if let Some(reply) = redirect(sim, host, uri) {
        return (None, reply);
    }
    match sim.config.faults.pick(number) {
        Some(Fault::ServerError(status)) => {
            return (
                None,
                Reply::html(
                    status,
                    format!(
                        "<html>\n<head><title>{status}</title></head>\n<body>\n<center><h1>{status}</h1></center>"
                    ),
                ),
            );
        }
        Some(Fault::Bare429) => {
            return (
                None,
                Reply::html(StatusCode::TOO_MANY_REQUESTS, NGINX_429.to_owned()),
            );
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    if method != Method::GET {
        return (
            None,
            Reply::errors(StatusCode::METHOD_NOT_ALLOWED, "Only GET is simulated"),
        );
    }
    if let Err(message) = authorize(headers, sim.config.api_key.expose()) {
        return (None, Reply::errors(StatusCode::UNAUTHORIZED, message));
    }
    let Some(path) = uri.path().strip_prefix(API_PREFIX) else {
        return (None, Reply::errors(StatusCode::NOT_FOUND, "Not found"));
    };
    let Some(route) = route(&sim.estate, path) else {
        return (None, Reply::errors(StatusCode::NOT_FOUND, "Not found"));
    };
    let org = org_of(&sim.estate, route).map(|o| sim.estate.orgs[o].id.clone());
    if let Some(org) = &org
        && let Err(seconds) = sim.buckets.take(org)
    {
        let reply = Reply::errors(
            StatusCode::TOO_MANY_REQUESTS,
            "API rate limit exceeded for organization",
        );
        return (
            Some(org.clone()),
            reply.with(header::RETRY_AFTER, seconds.to_string()),
        );
    }
    let params = Params::parse(uri.query());
    let origin = if sim.config.absolute_links {
        format!("http://{host}{API_PREFIX}")
    } else {
        String::new()
    };
    let request = Request {
        sim,
        params: &params,
        origin,
        path,
        now: sim.now(),
    };
    let reply = match respond(&request, route) {
        Ok((body, link)) => {
            let reply = Reply::json(StatusCode::OK, &body);
            match link {
                Some(link) => reply.with(header::LINK, link),
                None => reply,
            }
        }
        Err(message) => Reply::errors(StatusCode::BAD_REQUEST, &message),
    };
    (org, reply)
}

/// With `--redirect-host`, requests to any other host name are sent there (307), as the legacy
/// API sent them to shard hosts.
fn redirect(sim: &Sim, host: &str, uri: &Uri) -> Option<Reply> {
    let target = sim.config.redirect_host.as_deref()?;
    let (name, port) = host.rsplit_once(':').unwrap_or((host, ""));
    if name.eq_ignore_ascii_case(target) {
        return None;
    }
    let port = if port.is_empty() {
        String::new()
    } else {
        format!(":{port}")
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("http://{target}{port}{path}");
    Some(
        Reply::html(
            StatusCode::TEMPORARY_REDIRECT,
            format!(
                "<html><body>You are being <a href=\"{location}\">redirected</a>.</body></html>"
            ),
        )
        .with(header::LOCATION, location),
    )
}

/// The route of a path after `/api/v1`, with its ids looked up; `None` is a 404.
fn route(estate: &Estate, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let route = match segments.as_slice() {
        ["organizations"] => Route::Organizations,
        ["organizations", id, "networks"] => Route::OrgNetworks(estate.org(id)?),
        ["organizations", id, "devices"] => Route::OrgDevices(estate.org(id)?),
        ["organizations", id, "devices", "uplinksLossAndLatency"] => {
            Route::OrgLossLatency(estate.org(id)?)
        }
        ["organizations", id, "appliance", "uplink", "statuses"] => {
            Route::OrgUplinkStatuses(estate.org(id)?)
        }
        // The SDK's rate limiter reads the older path; its `getOrganizationInventoryDevices` the
        // current one.
        ["organizations", id, "inventoryDevices"]
        | ["organizations", id, "inventory", "devices"] => Route::OrgInventory(estate.org(id)?),
        ["networks", id] => Route::Network(estate.network(id)?),
        ["devices", serial] => Route::Device(estate.device(serial)?),
        ["networks", id, "devices"] => Route::NetworkDevices(estate.network(id)?),
        ["networks", id, "clients"] => Route::NetworkClients(estate.network(id)?),
        ["devices", serial, "managementInterface"] => {
            Route::ManagementInterface(estate.device(serial)?)
        }
        ["devices", serial, "lossAndLatencyHistory"] => {
            Route::LossLatencyHistory(estate.device(serial)?)
        }
        _ => return None,
    };
    Some(route)
}

/// The organization that owns what the route reads; the list of organizations has none.
fn org_of(estate: &Estate, route: Route) -> Option<usize> {
    match route {
        Route::Organizations => None,
        Route::OrgNetworks(org)
        | Route::OrgDevices(org)
        | Route::OrgLossLatency(org)
        | Route::OrgUplinkStatuses(org)
        | Route::OrgInventory(org) => Some(org),
        Route::Network(network)
        | Route::NetworkDevices(network)
        | Route::NetworkClients(network) => Some(estate.networks[network].org),
        Route::Device(device)
        | Route::ManagementInterface(device)
        | Route::LossLatencyHistory(device) => Some(estate.devices[device].org),
    }
}
