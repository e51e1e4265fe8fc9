//! `semaphore publish` as a user runs it: the built binary against the simulator (in-process, fixed
//! clock) into the real test broker, every record consumed back and compared with what the
//! simulator serves (count and content), over the plain and the SASL_SSL listener; a Kafka delivery
//! failure reported with a non-zero exit.

mod common;
#[path = "fixtures/meraki/publishing.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod publishing;
#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::collections::HashMap;

use publishing::{RUN_TIMEOUT, consume, expected_points, publish, run_ok};
use serde_json::{Value, json};
use support::{KEY, RunningSim, config, get, output, semaphore, start};

fn assert_loss_latency_records(
    records: &[(String, Value)],
    expected: &HashMap<(String, String, String, String), (Value, Value)>,
) {
    assert_eq!(
        records.len(),
        expected.len(),
        "one record per point, those without data included"
    );
    let mut seen = std::collections::HashSet::new();
    for (key, record) in records {
        let text = |field: &str| {
            record[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} in {record}"))
                .to_owned()
        };
        let point = (
            text("serial"),
            text("uplink"),
            text("ip"),
            text("timestamp"),
        );
        assert_eq!(key, &point.0, "keyed by serial");
        let (loss, latency) = expected
            .get(&point)
            .unwrap_or_else(|| panic!("unexpected {record}"));
        assert_eq!(
            (&record["lossPercent"], &record["latencyMs"]),
            (loss, latency),
            "{record}"
        );
        for field in [
            "networkId",
            "networkName",
            "organizationId",
            "model",
            "activeDdnsHostname",
            "ddnsHostnameWan1",
        ] {
            assert!(
                record[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field} in {record}"
            );
        }
        assert!(seen.insert(point), "published twice: {record}");
    }
}

#[tokio::test]
async fn loss_latency_records_reach_kafka_complete_and_correct() {
    let sim = start(config(2, 12, 16, 0)).await;
    let topic = common::kafka::fresh_topic("meraki-ll").await;
    let expected = expected_points(&sim).await;
    assert!(expected.len() > 100, "a meaningful amount of data");
    let stderr = run_ok(publish("loss-latency", &sim, &topic, &[])).await;
    assert!(
        stderr.contains(&format!("{} records", expected.len())),
        "{stderr}"
    );
    // The organization list, then per org its networks, appliances and loss/latency, plus one
    // management interface per appliance for its hostnames.
    let calls = 1 + 2 * 3 + 16;
    assert!(stderr.contains(&format!(" {calls} API calls")), "{stderr}");
    let records = consume(&topic, expected.len()).await;
    assert_loss_latency_records(&records, &expected);
}

#[tokio::test]
async fn loss_latency_over_sasl_ssl_per_device_reaches_kafka() {
    let sim = start(config(1, 3, 3, 0)).await;
    let topic = common::kafka::fresh_topic("meraki-ll-device").await;
    let tls = common::kafka::sasl_ssl();
    let args = [
        "publish",
        "loss-latency",
        "--per-device",
        "--timespan",
        "600",
        "--base-url",
        sim.base_url.as_str(),
        "--bootstrap-servers",
        tls.bootstrap.as_str(),
        "--ssl-ca-location",
        tls.ca_location.as_str(),
        "--topic",
        topic.as_str(),
    ];
    let mut command = semaphore(&args);
    command
        .env("MERAKI_DASHBOARD_API_KEY", KEY)
        .env("CLUSTER_API_KEY", &tls.username)
        .env("CLUSTER_API_SECRET", &tls.password);
    run_ok(command).await;
    let mut expected = 0;
    for device in sim.sim.estate().devices.iter().filter(|d| {
        matches!(
            d.kind,
            semaphore::meraki::sim::estate::DeviceKind::Appliance(_)
        )
    }) {
        let url = format!(
            "{}/devices/{}/lossAndLatencyHistory?ip=8.8.8.8&uplink=wan1&timespan=600&resolution=60",
            sim.base_url, device.serial
        );
        let buckets: Vec<Value> =
            serde_json::from_str(&get(&url, Some(KEY)).await.2).expect("buckets");
        // Every bucket, those without data included.
        expected += buckets.len();
    }
    let records = consume(&topic, expected).await;
    assert_eq!(records.len(), expected);
    for (key, record) in &records {
        assert_eq!(
            (record["uplink"].as_str(), record["ip"].as_str()),
            (Some("wan1"), Some("8.8.8.8"))
        );
        assert_eq!(record["serial"].as_str(), Some(key.as_str()));
        assert!(
            record["goodput"].is_number() || record["latencyMs"].is_null(),
            "{record}"
        );
    }
}

/// Every client of every network that can have clients, from the simulator, by network id.
async fn expected_clients(sim: &RunningSim) -> HashMap<String, Vec<Value>> {
    let mut clients = HashMap::new();
    for network in &sim.sim.estate().networks {
        let url = format!(
            "{}/networks/{}/clients?perPage=5000&timespan=86400",
            sim.base_url, network.id
        );
        let list: Vec<Value> =
            serde_json::from_str(&get(&url, Some(KEY)).await.2).expect("clients");
        if !list.is_empty() {
            clients.insert(network.id.clone(), list);
        }
    }
    clients
}

#[tokio::test]
async fn clients_reach_kafka_one_message_per_network_in_the_original_shape() {
    let sim = start(config(2, 20, 4, 600)).await;
    let topic = common::kafka::fresh_topic("meraki-clients").await;
    let expected = expected_clients(&sim).await;
    run_ok(publish("clients", &sim, &topic, &["--per-page", "7"])).await;
    let records = consume(&topic, expected.len()).await;
    assert_eq!(
        records.len(),
        expected.len(),
        "one message per network with clients"
    );
    for (key, record) in &records {
        let clients = &expected[key];
        assert_eq!(record["network"], json!(key));
        let network =
            &sim.sim.estate().networks[sim.sim.estate().network(key).expect("known network")];
        assert_eq!(record["networkName"], json!(network.name));
        let payload = record["payload"].as_array().expect("payload list");
        assert_eq!(payload.len(), clients.len(), "every page of {key}");
        for (published, original) in payload.iter().zip(clients) {
            let mut enriched = original.clone();
            enriched["organizationId"] = json!(sim.sim.estate().orgs[network.org].id);
            enriched["networkName"] = json!(network.name);
            enriched["networkId"] = json!(key);
            assert_eq!(published, &enriched);
        }
    }
}

#[tokio::test]
async fn clients_per_client_with_the_original_filter_file() {
    let sim = start(config(1, 10, 2, 400)).await;
    let topic = common::kafka::fresh_topic("meraki-clients-filtered").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let filter = dir.path().join("filter.json");
    let spec = json!({"match": "any",
                      "conditions": [{"key": "os", "value": "PlayStation 4"}, {"key": "os", "value": "HP JetDirect"}],
                      "fuzzy": {"key": "description", "value": "printer"}});
    std::fs::write(&filter, spec.to_string()).expect("filter written");
    // With `fuzzy` set the original publishes every client, each with its verdict and scores.
    let wanted: Vec<Value> = expected_clients(&sim)
        .await
        .into_values()
        .flatten()
        .collect();
    let matching = |c: &Value| c["os"] == "PlayStation 4" || c["os"] == "HP JetDirect";
    assert!(wanted.iter().any(matching) && !wanted.iter().all(matching));
    run_ok(publish(
        "clients",
        &sim,
        &topic,
        &["--per-client", "--filter", filter.to_str().expect("UTF-8")],
    ))
    .await;
    let records = consume(&topic, wanted.len()).await;
    assert_eq!(records.len(), wanted.len());
    for (key, record) in &records {
        assert_eq!(record["mac"].as_str(), Some(key.as_str()), "keyed by MAC");
        assert_eq!(record["filter_config"], spec, "{record}");
        assert_eq!(
            record["conditional_match"],
            json!(matching(record)),
            "{record}"
        );
        let partial = record["fuzzy"]["partial"].as_u64().expect("fuzzy scores");
        if record["os"] == "HP JetDirect" {
            assert_eq!(partial, 100, "{record}");
        }
        if record["description"].is_null() {
            // The original scores str(None): fuzz.ratio("printer", "None") and partial_ratio.
            assert_eq!(
                record["fuzzy"],
                json!({"ratio": 36, "partial": 50}),
                "{record}"
            );
        }
    }
}

#[tokio::test]
async fn a_failed_kafka_delivery_is_reported_and_fails_the_run() {
    let sim = start(config(1, 2, 1, 100)).await;
    let topic = common::kafka::fresh_topic("meraki-too-large").await;
    let command = publish("clients", &sim, &topic, &["-X", "message.max.bytes=1000"]);
    let result = output(command, RUN_TIMEOUT).await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2 deliveries failed"), "{stderr}");
    assert!(stderr.contains("Kafka refused record N_"), "{stderr}");
}
