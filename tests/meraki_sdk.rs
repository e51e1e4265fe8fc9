//! The official Python SDK (PyPI `meraki`, installed by scripts/install-deps into
//! ~/.cache/semaphore/meraki-sdk) against `semaphore meraki-sim` with both on their default settings:
//! the SDK must page through every list with its own link handling and find the lookups its rate
//! limiter makes, and what it reads page by page must be what one large page holds.

#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::{KEY, get, output, semaphore};
use tokio::io::AsyncBufReadExt;

const SIZE: [&str; 8] = [
    "--orgs",
    "4",
    "--networks",
    "10",
    "--devices",
    "8",
    "--clients",
    "60",
];

fn sdk_python() -> PathBuf {
    let venv = std::env::var_os("SEMAPHORE_MERAKI_SDK_VENV").map_or_else(
        || {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/semaphore/meraki-sdk")
        },
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-deps (it installs the meraki SDK)",
        python.display()
    );
    python
}

/// The ids in one page of up to 1000, which the SDK must have read across pages of 3.
async fn one_page(base_url: &str, path: &str, field: &str) -> Vec<String> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{path}{separator}perPage=1000");
    let (status, headers, body) = get(&url, Some(KEY)).await;
    assert_eq!(status, 200, "{url}: {body}");
    let link = headers
        .get("link")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("");
    assert!(
        !link.contains("rel=next"),
        "one page holds everything: {link}"
    );
    let items: Vec<Value> = serde_json::from_str(&body).expect("a JSON list");
    items
        .iter()
        .map(|item| item[field].as_str().expect("an id").to_owned())
        .collect()
}

fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_official_sdk_pages_through_the_simulator_with_its_defaults() {
    let python = sdk_python();
    let mut sim = semaphore(&[
        "meraki-sim",
        "--listen",
        "127.0.0.1:0",
        "--clock",
        "2026-01-15T10:00:00Z",
    ]);
    sim.args(SIZE)
        .env("MERAKI_DASHBOARD_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = sim.spawn().expect("the simulator starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let base_url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the simulator prints its URL in time")
        .expect("stdout readable")
        .expect("a first line");

    // A fresh HOME: the SDK caches which organization owns what for a week under ~/.meraki, and
    // the lookups that fill that cache are part of what is tested.
    let home = tempfile::tempdir().expect("temp dir");
    let mut walk = tokio::process::Command::new(python);
    walk.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/meraki/sdk_walk.py"
    ))
    .arg(&base_url)
    .env("HOME", home.path())
    .env("MERAKI_DASHBOARD_API_KEY", KEY)
    .env_remove("MERAKI_PYTHON_SDK_CALLER")
    .kill_on_drop(true);
    let result = output(walk, Duration::from_secs(300)).await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "the SDK failed:\n{stderr}");
    let read: Value = serde_json::from_slice(&result.stdout).expect("the walk prints JSON");

    let orgs = one_page(&base_url, "/organizations", "id").await;
    assert_eq!(ids(&read["orgs"]), orgs, "organizations");
    assert_eq!(orgs.len(), 4);
    let mut clients_seen = 0;
    for org in &orgs {
        let networks = one_page(&base_url, &format!("/organizations/{org}/networks"), "id").await;
        assert_eq!(ids(&read["networks"][org]), networks, "networks of {org}");
        let appliances = format!("/organizations/{org}/devices?productTypes[]=appliance");
        let serials = one_page(&base_url, &appliances, "serial").await;
        assert_eq!(ids(&read["devices"][org]), serials, "appliances of {org}");
        let inventory = one_page(
            &base_url,
            &format!("/organizations/{org}/inventoryDevices"),
            "serial",
        )
        .await;
        assert_eq!(
            ids(&read["inventory"][org]),
            inventory,
            "inventory of {org}"
        );
        for network in &networks {
            let Some(read_clients) = read["clients"].get(network) else {
                continue;
            };
            let path = format!("/networks/{network}/clients?timespan=86400");
            let clients = one_page(&base_url, &path, "id").await;
            assert_eq!(ids(read_clients), clients, "clients of {network}");
            clients_seen += clients.len();
            assert_eq!(read["lookups"][network], Value::String(org.clone()));
        }
        for serial in &serials {
            assert!(read["lookups"][serial].is_string(), "GET /devices/{serial}");
            assert!(
                read["history"][serial].as_u64() > Some(0),
                "history of {serial}"
            );
        }
    }
    assert!(
        clients_seen > 3 * 4,
        "several pages of clients were read: {clients_seen}"
    );

    // Every request the SDK made was answered, its rate limiter's own lookups included (their
    // failures it would swallow): one network per organization to learn the owner, then the
    // organization's inventory.
    let answers = read["answers"].as_array().expect("answers");
    let failed: Vec<&Value> = answers.iter().filter(|a| a["status"] != 200).collect();
    assert!(failed.is_empty(), "answers other than 200: {failed:?}");
    for org in &orgs {
        let inventory = format!("/organizations/{org}/inventoryDevices");
        assert!(
            answers.iter().any(|a| a["path"] == inventory.as_str()),
            "the SDK's limiter read {inventory}"
        );
    }
    child.start_kill().expect("the simulator stops");
}
