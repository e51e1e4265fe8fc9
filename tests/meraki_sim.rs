//! The Meraki simulator over HTTP, as the client and other tools see it: response shapes checked
//! against the official OpenAPI subset (tests/fixtures/meraki, copied from the team's `meraki/`
//! folder), pagination links that keep every query parameter, 401/404/400 answers, the
//! per-organization limiter's 429 + Retry-After, and the fault switches.

#[path = "fixtures/meraki/schema.rs"]
mod schema;
#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::collections::HashSet;

use schema::violations;
use serde_json::Value;
use support::{KEY, config, get, start};

#[test]
fn the_schema_check_accepts_the_reference_examples_and_rejects_wrong_shapes() {
    let examples = [
        (
            "/organizations",
            include_str!("fixtures/meraki/organizations.json"),
        ),
        (
            "/organizations/{organizationId}/networks",
            include_str!("fixtures/meraki/organization-networks.json"),
        ),
        (
            "/organizations/{organizationId}/devices",
            include_str!("fixtures/meraki/organization-devices.json"),
        ),
        (
            "/networks/{networkId}/devices",
            include_str!("fixtures/meraki/network-devices.json"),
        ),
        (
            "/networks/{networkId}/clients",
            include_str!("fixtures/meraki/network-clients.json"),
        ),
        (
            "/devices/{serial}/managementInterface",
            include_str!("fixtures/meraki/device-management-interface.json"),
        ),
        (
            "/devices/{serial}/lossAndLatencyHistory",
            include_str!("fixtures/meraki/device-loss-and-latency-history.json"),
        ),
        (
            "/organizations/{organizationId}/devices/uplinksLossAndLatency",
            include_str!("fixtures/meraki/organization-devices-uplinks-loss-and-latency.json"),
        ),
        (
            "/organizations/{organizationId}/appliance/uplink/statuses",
            include_str!("fixtures/meraki/organization-appliance-uplink-statuses.json"),
        ),
    ];
    for (template, text) in examples {
        let body: Value = serde_json::from_str(text).expect("example is JSON");
        assert_eq!(
            violations(template, &body),
            Vec::<String>::new(),
            "{template}"
        );
    }
    let mut wrong: Value = serde_json::from_str(examples[0].1).expect("JSON");
    wrong[0]["id"] = Value::from(2930418);
    wrong[0]["extra"] = Value::from(true);
    wrong[0]["name"] = Value::Null;
    assert_eq!(
        violations("/organizations", &wrong).len(),
        3,
        "{:?}",
        violations("/organizations", &wrong)
    );
}

#[tokio::test]
async fn every_simulated_endpoint_matches_the_openapi_subset() {
    let running = start(config(2, 20, 30, 300)).await;
    let estate = running.sim.estate();
    let org = &estate.orgs[0].id;
    let network = &estate.networks[estate.orgs[0].networks[0]].id;
    let appliance = estate
        .devices
        .iter()
        .find(|d| d.org == 0)
        .expect("an appliance")
        .serial
        .clone();
    let calls = [
        ("/organizations", "/organizations".to_owned()),
        (
            "/organizations/{organizationId}/networks",
            format!("/organizations/{org}/networks"),
        ),
        (
            "/organizations/{organizationId}/devices",
            format!("/organizations/{org}/devices"),
        ),
        (
            "/organizations/{organizationId}/devices/uplinksLossAndLatency",
            format!("/organizations/{org}/devices/uplinksLossAndLatency"),
        ),
        (
            "/organizations/{organizationId}/appliance/uplink/statuses",
            format!("/organizations/{org}/appliance/uplink/statuses"),
        ),
        (
            "/networks/{networkId}/devices",
            format!("/networks/{network}/devices"),
        ),
        (
            "/networks/{networkId}/clients",
            format!("/networks/{network}/clients?perPage=1000"),
        ),
        (
            "/devices/{serial}/managementInterface",
            format!("/devices/{appliance}/managementInterface"),
        ),
        (
            "/devices/{serial}/lossAndLatencyHistory",
            format!("/devices/{appliance}/lossAndLatencyHistory?ip=8.8.8.8&timespan=3600"),
        ),
    ];
    for (template, path) in calls {
        let (status, headers, body) = get(&format!("{}{path}", running.base_url), Some(KEY)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            headers["content-type"], "application/json; charset=utf-8",
            "{path}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
        let body: Value = serde_json::from_str(&body).expect("JSON body");
        let items = body.as_array().map_or(1, Vec::len);
        assert!(items > 0, "{path} answered an empty list");
        assert_eq!(violations(template, &body), Vec::<String>::new(), "{path}");
    }
}

/// Follows `rel=next` from `url`, checking that each link keeps `required` parameters; returns the
/// ids (by `key`) of every item.
async fn walk(url: &str, key: &str, required: &[&str]) -> (Vec<String>, usize) {
    let (mut ids, mut pages, mut next) = (Vec::new(), 0, Some(url.to_owned()));
    while let Some(url) = next.take() {
        let (status, headers, body) = get(&url, Some(KEY)).await;
        assert_eq!(status, 200, "{url}: {body}");
        pages += 1;
        let items: Vec<Value> = serde_json::from_str(&body).expect("a list");
        ids.extend(
            items
                .iter()
                .map(|item| item[key].as_str().expect("key").to_owned()),
        );
        let link = headers["link"].to_str().expect("ASCII link");
        for part in link.split(", ") {
            for param in required {
                assert!(part.contains(param), "{part} lost {param}");
            }
        }
        next = link
            .split(", ")
            .find(|part| part.ends_with("rel=next"))
            .map(|part| part[1..part.find('>').expect("closing >")].to_owned());
    }
    (ids, pages)
}

#[tokio::test]
async fn pagination_links_keep_every_query_parameter_and_cover_every_item_once() {
    let running = start(config(1, 10, 12, 500)).await;
    let estate = running.sim.estate();
    let org = &estate.orgs[0].id;
    let url = format!(
        "{}/organizations/{org}/devices?perPage=3&productTypes%5B%5D=appliance",
        running.base_url
    );
    let (serials, pages) = walk(
        &url,
        "serial",
        &["perPage=3", "productTypes%5B%5D=appliance"],
    )
    .await;
    assert_eq!(serials.len(), 12, "every appliance");
    assert_eq!(pages, 4);
    let network = estate
        .networks
        .iter()
        .max_by_key(|n| n.clients.end - n.clients.start)
        .expect("a network");
    let url = format!(
        "{}/networks/{}/clients?perPage=7&timespan=86400&statuses%5B%5D=Online&statuses%5B%5D=Offline",
        running.base_url, network.id
    );
    let (ids, pages) = walk(
        &url,
        "id",
        &[
            "perPage=7",
            "timespan=86400",
            "statuses%5B%5D=Offline",
            "statuses%5B%5D=Online",
        ],
    )
    .await;
    let expected = (network.clients.end - network.clients.start) as usize;
    assert_eq!(ids.len(), expected);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        expected,
        "no client twice"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by id");
    assert_eq!(pages, expected.div_ceil(7));
}

#[tokio::test]
async fn relative_links_are_relative_to_the_api_prefix() {
    let mut settings = config(5, 5, 0, 0);
    settings.absolute_links = false;
    let running = start(settings).await;
    let (_, headers, _) = get(
        &format!("{}/organizations?perPage=3", running.base_url),
        Some(KEY),
    )
    .await;
    let link = headers["link"].to_str().expect("ASCII");
    assert!(
        link.contains("</organizations?perPage=3&startingAfter=500002>; rel=next"),
        "{link}"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_with_the_apis_message() {
    let running = start(config(1, 1, 1, 1)).await;
    let url = format!("{}/organizations", running.base_url);
    let (status, _, body) = get(&url, None).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"errors":["Missing API key"]}"#)
    );
    let (status, _, body) = get(&url, Some("wrong")).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"errors":["Invalid API key"]}"#)
    );
    let legacy = reqwest::Client::new()
        .get(&url)
        .header("X-Cisco-Meraki-API-Key", KEY)
        .send()
        .await
        .expect("answers");
    assert_eq!(legacy.status(), 200, "the legacy header is accepted");
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let running = start(config(1, 1, 1, 1)).await;
    for path in [
        "/organizations/1/networks",
        "/networks/N_404/clients",
        "/devices/Q2XX-9999-9999/managementInterface",
        "/nothing",
    ] {
        let (status, _, body) = get(&format!("{}{path}", running.base_url), Some(KEY)).await;
        assert_eq!(
            (status, body.as_str()),
            (404, r#"{"errors":["Not found"]}"#),
            "{path}"
        );
    }
}

#[tokio::test]
async fn out_of_range_parameters_are_400() {
    let running = start(config(1, 1, 1, 10)).await;
    let estate = running.sim.estate();
    let (org, network) = (&estate.orgs[0].id, &estate.networks[0].id);
    let serial = &estate.devices[0].serial;
    let cases = [
        "/organizations?perPage=2".to_owned(),
        format!("/networks/{network}/clients?perPage=5001"),
        format!("/networks/{network}/clients?timespan=2678401"),
        format!("/organizations/{org}/devices/uplinksLossAndLatency?timespan=301"),
        format!(
            "/organizations/{org}/devices/uplinksLossAndLatency?timespan=60&t0=2026-01-15T09:00:00Z"
        ),
        format!("/organizations/{org}/devices?productTypes[]=toaster"),
        format!("/devices/{serial}/lossAndLatencyHistory"),
        format!("/devices/{serial}/lossAndLatencyHistory?ip=8.8.8.8&resolution=61"),
        format!("/devices/{serial}/lossAndLatencyHistory?ip=8.8.8.8&uplink=wan9"),
    ];
    for path in cases {
        let (status, _, body) = get(&format!("{}{path}", running.base_url), Some(KEY)).await;
        assert_eq!(status, 400, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).expect("JSON errors");
        assert!(
            body["errors"][0].as_str().is_some_and(|m| !m.is_empty()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_per_org_limiter_answers_429_with_retry_after() {
    let running = start(config(2, 2, 2, 2)).await;
    let estate = running.sim.estate();
    let url = |org: &str| format!("{}/organizations/{org}/networks", running.base_url);
    let first = url(&estate.orgs[0].id);
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let first = first.clone();
        burst.spawn(async move { get(&first, Some(KEY)).await });
    }
    let mut limited = 0;
    while let Some(answer) = burst.join_next().await {
        let (status, headers, body) = answer.expect("request task");
        if status == 429 {
            limited += 1;
            let retry_after: u64 = headers["retry-after"]
                .to_str()
                .expect("ASCII")
                .parse()
                .expect("whole seconds");
            assert!(retry_after >= 1);
            assert_eq!(
                body,
                r#"{"errors":["API rate limit exceeded for organization"]}"#
            );
        }
    }
    // 30 requests at once against a burst of 20: about 10 are limited (fewer if the bucket refilled).
    assert!((5..=10).contains(&limited), "{limited} limited");
    let (status, _, _) = get(&url(&estate.orgs[1].id), Some(KEY)).await;
    assert_eq!(status, 200, "another organization has its own budget");
}

#[tokio::test]
async fn fault_switches_inject_html_errors_and_redirects() {
    let mut settings = config(1, 1, 1, 1);
    settings.faults.server_error_every = Some(2);
    settings.faults.bare_429_every = Some(3);
    settings.redirect_host = Some("localhost".into());
    let running = start(settings).await;
    let on_localhost = format!("http://localhost:{}/api/v1/organizations", running.port);
    let answers = [
        get(&on_localhost, Some(KEY)).await,
        get(&on_localhost, Some(KEY)).await,
        get(&on_localhost, Some(KEY)).await,
    ];
    assert_eq!(answers[0].0, 200);
    assert!((500..=503).contains(&answers[1].0), "{}", answers[1].0);
    assert!(answers[1].2.starts_with("<html>"));
    assert_eq!(answers[2].0, 429);
    assert!(
        !answers[2].1.contains_key("retry-after"),
        "the front end's 429 has no Retry-After"
    );
    let (status, headers, _) = get(
        &format!("{}/organizations?perPage=3", running.base_url),
        Some(KEY),
    )
    .await;
    assert_eq!(status, 307);
    assert_eq!(
        headers["location"],
        format!(
            "http://localhost:{}/api/v1/organizations?perPage=3",
            running.port
        )
        .as_str()
    );
}
