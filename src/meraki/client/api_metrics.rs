//! The Dashboard API metrics: requests by endpoint and status class, and 429s. An endpoint is the
//! request path below the base URL with every id (organization, network, serial, anything with a
//! digit) replaced by `{id}`, so the label stays bounded however many organizations are polled.
//! Counting calls for the cycle summary is [`super::ApiStats`]'s job, not this one's.

use reqwest::Url;

use super::Reply;

use crate::telemetry::metrics::{MERAKI_API_CALLS, MERAKI_RATE_LIMITED};

/// Collections whose next path segment is an id, whatever it looks like.
const ID_AFTER: [&str; 4] = ["organizations", "networks", "devices", "clients"];

/// `organizations/{id}/networks` for `/api/v1/organizations/123456/networks`.
pub(super) fn endpoint(base: &Url, url: &Url) -> String {
    let path = url.path();
    let relative = path
        .strip_prefix(base.path())
        .unwrap_or(path)
        .trim_matches('/');
    let mut previous = "";
    let mut parts = Vec::new();
    for segment in relative.split('/') {
        let is_id =
            ID_AFTER.contains(&previous) || segment.bytes().any(|byte| byte.is_ascii_digit());
        parts.push(if is_id { "{id}" } else { segment });
        previous = segment;
    }
    parts.join("/")
}

/// One request (with its redirect hops) ended with a reply, or without an answer.
pub(super) fn record_call(endpoint: &str, outcome: &Result<Reply, reqwest::Error>) {
    let class = match outcome {
        Ok(reply) => match reply.status.as_u16() {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        },
        Err(_) => "error",
    };
    metrics::counter!(MERAKI_API_CALLS, "endpoint" => endpoint.to_owned(), "status" => class)
        .increment(1);
}

pub(super) fn record_rate_limited(endpoint: &str) {
    metrics::counter!(MERAKI_RATE_LIMITED, "endpoint" => endpoint.to_owned()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str) -> String {
        let base = Url::parse("https://api.meraki.com/api/v1/").expect("valid");
        endpoint(&base, &base.join(path).expect("joins"))
    }

    #[test]
    fn ids_serials_and_networks_become_placeholders() {
        assert_eq!(kind("organizations"), "organizations");
        assert_eq!(
            kind("organizations/549236/networks"),
            "organizations/{id}/networks"
        );
        assert_eq!(
            kind("devices/Q2XX-ABCD-EFGH/lossAndLatencyHistory"),
            "devices/{id}/lossAndLatencyHistory"
        );
        assert_eq!(kind("networks/L_6461/clients"), "networks/{id}/clients");
        assert_eq!(
            kind("organizations/1/appliance/uplinks/statuses"),
            "organizations/{id}/appliance/uplinks/statuses"
        );
    }
}
