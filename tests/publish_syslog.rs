//! `semaphore publish --sink syslog|both` as a user runs it: RFC 5424 messages with the record as
//! `key=value` pairs, received by a local UDP listener (alongside Kafka, with the original `-a`
//! flag) and a local TCP listener (octet-counted frames), one per record the simulator's data makes.

mod common;
#[path = "fixtures/meraki/publishing.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod publishing;
#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::Duration;

use publishing::{consume, expected_points, publish, run_ok};
use support::{KEY, config, semaphore, start};
use tokio::io::AsyncReadExt;

/// RFC 5424 header of a loss/latency message, then the key=value text.
fn assert_syslog_message(message: &str) {
    let fields: Vec<&str> = message.splitn(8, ' ').collect();
    assert_eq!(fields[0], "<14>1", "{message}");
    assert!(
        chrono::DateTime::parse_from_rfc3339(fields[1]).is_ok(),
        "{message}"
    );
    assert_eq!(
        (fields[3], fields[5], fields[6]),
        ("semaphore", "loss-latency", "-"),
        "{message}"
    );
    assert!(
        fields[7].starts_with("serial=Q2XX-") && fields[7].contains(" lossPercent="),
        "{message}"
    );
}

#[tokio::test]
async fn syslog_over_udp_alongside_kafka_with_the_original_action_flag() {
    let sim = start(config(1, 3, 3, 0)).await;
    let expected = expected_points(&sim).await.len();
    let topic = common::kafka::fresh_topic("meraki-both").await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("UDP listener");
    let server = format!("127.0.0.1:{}", socket.local_addr().expect("address").port());
    let receiver = tokio::spawn(async move {
        let mut messages = Vec::new();
        let mut buffer = vec![0; 65_536];
        while let Ok(Ok(size)) =
            tokio::time::timeout(Duration::from_secs(10), socket.recv(&mut buffer)).await
        {
            messages.push(String::from_utf8(buffer[..size].to_vec()).expect("UTF-8"));
        }
        messages
    });
    run_ok(publish(
        "loss-latency",
        &sim,
        &topic,
        &["-a", "both", "--syslog-server", &server],
    ))
    .await;
    let messages = receiver.await.expect("receiver");
    assert_eq!(messages.len(), expected);
    messages.iter().for_each(|m| assert_syslog_message(m));
    assert_eq!(
        consume(&topic, expected).await.len(),
        expected,
        "Kafka got them too"
    );
}

#[tokio::test]
async fn syslog_over_tcp_frames_each_message_with_its_length() {
    let sim = start(config(1, 3, 3, 0)).await;
    let expected = expected_points(&sim).await.len();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("TCP listener");
    let server = format!(
        "127.0.0.1:{}",
        listener.local_addr().expect("address").port()
    );
    let receiver = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("connection");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.expect("read");
        String::from_utf8(received).expect("UTF-8")
    });
    let args = [
        "publish",
        "loss-latency",
        "--base-url",
        sim.base_url.as_str(),
        "--sink",
        "syslog",
        "--syslog-server",
        server.as_str(),
        "--syslog-protocol",
        "tcp",
    ];
    let mut command = semaphore(&args);
    command.env("MERAKI_DASHBOARD_API_KEY", KEY);
    run_ok(command).await;
    let text = tokio::time::timeout(Duration::from_secs(10), receiver)
        .await
        .expect("closed")
        .expect("receiver");
    let mut rest = text.as_str();
    let mut count = 0;
    while !rest.is_empty() {
        let (length, after) = rest.split_once(' ').expect("octet count");
        let length: usize = length.parse().expect("a length");
        assert_syslog_message(&after[..length]);
        rest = &after[length..];
        count += 1;
    }
    assert_eq!(count, expected);
}
