//! The Meraki client against the simulator started in-process: every page read, the request rate
//! per organization during a 429 storm, retries of 5xx, of the front end's bare 429 and of slow
//! answers that time out, no retry of other 4xx, redirects only to allowed hosts, and the reference
//! examples decoded.

#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::time::Duration;

use semaphore::config::Secret;
use semaphore::meraki::client::RetryPolicy;
use semaphore::meraki::model::{
    Device, HistoryBucket, ManagementInterface, Network, Organization, UplinkSeries,
};
use semaphore::meraki::{ApiError, Client, ClientConfig};
use serde_json::{Map, Value};
use support::{KEY, config, start};

fn client(base_url: &str, allow: &[&str]) -> Client {
    client_with_timeout(base_url, allow, Duration::from_secs(10))
}

fn client_with_timeout(base_url: &str, allow: &[&str], request_timeout: Duration) -> Client {
    Client::new(ClientConfig {
        base_url: base_url.to_owned(),
        api_key: Some(Secret::new(KEY)),
        requests_per_second: NonZeroU32::new(10).expect("non-zero"),
        request_timeout,
        retry: RetryPolicy {
            min_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            ..RetryPolicy::default()
        },
        extra_hosts: allow.iter().map(|h| (*h).to_owned()).collect(),
    })
    .expect("valid client settings")
}

#[tokio::test]
async fn every_page_is_read() {
    let running = start(config(7, 7, 7, 400)).await;
    let client = client(&running.base_url, &[]);
    let mut orgs = client
        .pages::<Organization>(None, "organizations", &[("perPage", "3".to_owned())])
        .expect("valid path");
    let mut ids = Vec::new();
    while let Some(page) = orgs.next_page().await.expect("page") {
        ids.extend(page.into_iter().map(|o| o.id));
    }
    assert_eq!(ids.len(), 7);
    assert_eq!(orgs.pages_read(), 3);
    let network = &running.sim.estate().networks[0];
    let path = format!("networks/{}/clients", network.id);
    let mut pages = client
        .pages::<Map<String, Value>>(Some("x"), &path, &[("perPage", "3".to_owned())])
        .expect("valid path");
    let mut clients = HashSet::new();
    while let Some(page) = pages.next_page().await.expect("page") {
        clients.extend(
            page.into_iter()
                .map(|c| c["id"].as_str().expect("id").to_owned()),
        );
    }
    let expected = (network.clients.end - network.clients.start) as usize;
    assert_eq!(clients.len(), expected, "every client, once");
    assert_eq!(pages.pages_read() as usize, expected.div_ceil(3));
}

/// Requests of one organization in the busiest one-second window, and the average rate.
fn busiest_second(times: &[Duration]) -> (usize, f64) {
    let busiest = times
        .iter()
        .enumerate()
        .map(|(i, start)| {
            times[i..]
                .iter()
                .take_while(|t| **t < *start + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    let span = times
        .last()
        .copied()
        .unwrap_or_default()
        .saturating_sub(times[0]);
    (busiest, (times.len() - 1) as f64 / span.as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_completes_within_the_rate_limit() {
    // The simulator allows only 4 requests/s per org, so a client at 10/s meets a storm of 429s.
    let mut settings = config(1, 4, 30, 0);
    settings.rate_limit = 4;
    settings.burst = 4;
    let running = start(settings).await;
    let client = client(&running.base_url, &[]);
    let estate = running.sim.estate();
    let org = estate.orgs[0].id.clone();
    let serials: Vec<String> = estate.devices.iter().map(|d| d.serial.clone()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for serial in serials.clone() {
        let (client, org) = (client.clone(), org.clone());
        tasks.spawn(async move {
            let path = format!("devices/{serial}/managementInterface");
            client
                .get::<ManagementInterface>(Some(&org), &path, &[])
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task")
            .expect("every request completes despite the 429s");
    }
    let log = running.sim.requests();
    let rate_limited = log.iter().filter(|r| r.status == 429).count();
    assert!(rate_limited > 0, "the storm happened");
    assert_eq!(
        log.iter().filter(|r| r.status == 200).count(),
        serials.len()
    );
    let times: Vec<Duration> = log
        .iter()
        .filter(|r| r.org.as_deref() == Some(&org))
        .map(|r| r.at)
        .collect();
    let (busiest, average) = busiest_second(&times);
    assert!(busiest <= 11, "{busiest} requests in one second");
    assert!(average <= 10.5, "{average:.1} requests/s on average");
    assert_eq!(
        client
            .stats()
            .rate_limited
            .load(std::sync::atomic::Ordering::Relaxed) as usize,
        rate_limited
    );
}

#[tokio::test]
async fn server_errors_and_bare_429s_are_retried() {
    let mut settings = config(1, 2, 10, 0);
    settings.faults.server_error_every = Some(3);
    settings.faults.bare_429_every = Some(4);
    let running = start(settings).await;
    let client = client(&running.base_url, &[]);
    let org = running.sim.estate().orgs[0].id.clone();
    for device in &running.sim.estate().devices {
        let path = format!("devices/{}/managementInterface", device.serial);
        client
            .get::<ManagementInterface>(Some(&org), &path, &[])
            .await
            .expect("retried until it worked");
    }
    let log = running.sim.requests();
    assert!(log.iter().any(|r| r.status >= 500), "5xx were injected");
    assert!(
        log.iter().any(|r| r.status == 429),
        "bare 429s were injected"
    );
    let retries = client
        .stats()
        .retries
        .load(std::sync::atomic::Ordering::Relaxed) as usize;
    assert_eq!(
        retries,
        log.iter().filter(|r| r.status != 200).count(),
        "each failure was retried once"
    );
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let mut settings = config(1, 1, 1, 0);
    settings.faults.server_error_every = Some(1);
    let running = start(settings).await;
    let err = client(&running.base_url, &[])
        .get::<Vec<Organization>>(None, "organizations", &[])
        .await
        .expect_err("always 5xx");
    assert!(
        matches!(err, ApiError::RetriesExhausted { attempts: 5, .. }),
        "{err}"
    );
    assert_eq!(running.sim.requests().len(), 5);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let mut settings = config(3, 3, 3, 0);
    settings.faults.slow_every = Some(2);
    settings.faults.slow_for = Duration::from_secs(5);
    let running = start(settings).await;
    let client = client_with_timeout(&running.base_url, &[], Duration::from_millis(500));
    let started = std::time::Instant::now();
    for _ in 0..2 {
        let orgs: Vec<Organization> = client
            .get(None, "organizations", &[])
            .await
            .expect("retried after the timeout");
        assert_eq!(orgs.len(), 3);
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the slow answer was not waited for"
    );
    assert_eq!(
        client
            .stats()
            .retries
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    let running = start(config(1, 1, 1, 0)).await;
    let serial = running.sim.estate().devices[0].serial.clone();
    let path = format!("devices/{serial}/lossAndLatencyHistory");
    let err = client(&running.base_url, &[])
        .get::<Vec<HistoryBucket>>(
            Some("org"),
            &path,
            &[
                ("resolution", "61".to_owned()),
                ("ip", "8.8.8.8".to_owned()),
            ],
        )
        .await
        .expect_err("400");
    assert_eq!(err.status(), Some(400));
    assert!(
        err.to_string().contains("'resolution' must be one of"),
        "{err}"
    );
    assert_eq!(running.sim.requests().len(), 1, "sent once");
}

#[tokio::test]
async fn redirects_are_followed_with_the_key_only_to_allowed_hosts() {
    let mut settings = config(2, 2, 2, 0);
    settings.redirect_host = Some("localhost".into());
    let running = start(settings).await;
    let err = client(&running.base_url, &[])
        .get::<Vec<Organization>>(None, "organizations", &[])
        .await
        .expect_err("localhost is not a Meraki host");
    assert!(matches!(err, ApiError::Refused { .. }), "{err}");
    assert_eq!(
        running.sim.requests().len(),
        1,
        "the key never went to the other host"
    );
    let orgs: Vec<Organization> = client(&running.base_url, &["localhost"])
        .get(None, "organizations", &[])
        .await
        .expect("followed with the key");
    assert_eq!(orgs.len(), 2);
    let statuses: Vec<u16> = running.sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [307, 307, 200]);
}

#[test]
fn the_reference_examples_decode_with_their_nulls() {
    let read = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/meraki/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    };
    let orgs: Vec<Organization> = serde_json::from_str(&read("organizations.json")).expect("orgs");
    assert_eq!(orgs[0].id, "2930418");
    let networks: Vec<Network> =
        serde_json::from_str(&read("organization-networks.json")).expect("networks");
    assert_eq!(networks[4].product_types, ["camera"]);
    let devices: Vec<Device> =
        serde_json::from_str(&read("organization-devices.json")).expect("devices");
    assert_eq!(
        devices
            .iter()
            .filter(|d| d.product_type.as_deref() == Some("appliance"))
            .count(),
        5
    );
    let series: Vec<UplinkSeries> =
        serde_json::from_str(&read("organization-devices-uplinks-loss-and-latency.json"))
            .expect("series");
    let failing = series
        .iter()
        .find(|s| s.serial == "Q2XX-XXXX-0003")
        .expect("the failing uplink");
    // Measurements are kept as sent: `null` stays `null`.
    assert_eq!(
        failing.time_series[0].latency_ms,
        Some(serde_json::Value::Null)
    );
    assert_eq!(
        failing.time_series[4].loss_percent,
        Some(serde_json::Value::Null)
    );
    let history: Vec<HistoryBucket> =
        serde_json::from_str(&read("device-loss-and-latency-history.json")).expect("history");
    assert_eq!(
        history
            .iter()
            .filter(|b| b.loss_percent == Some(serde_json::Value::Null))
            .count(),
        1
    );
    // And an integer stays an integer.
    assert!(
        history
            .iter()
            .filter_map(|b| b.goodput.as_ref())
            .all(|g| g.is_u64() || g.is_null())
    );
    let mgmt: ManagementInterface =
        serde_json::from_str(&read("device-management-interface.json")).expect("mgmt");
    assert_eq!(mgmt.ddns_hostnames.len(), 3);
}
