//! End-to-end `semaphore rules run` benchmark against the real broker. In one invocation it:
//! 1. pre-produces Meraki-shaped uplink records (about 400 bytes, 6 partitions);
//! 2. measures a baseline: a plain rdkafka consumer reading the same records;
//! 3. runs the release binary with 20 rules (about 1 in 1,000 records matches; the action publishes
//!    to an alerts topic) and measures start-up to the first record, events/s until the group has
//!    committed everything, its CPU seconds (user + system, from the kernel's accounting in
//!    /proc/PID/stat) and events per CPU-second against the plain consumer's, and peak RSS;
//!    then the same with `--workers 1`, to show what the engine shards add;
//! 4. feeds 10,000 records/s for a while and reports end-to-end p50/p99 latency (record timestamp to
//!    alert acknowledged by the broker);
//! 5. runs a windowed rule that every record feeds (average loss per serial and uplink over 5
//!    minutes) twice over the same records: with its state saved to the changelog (the default) and
//!    with `--no-state-topic`, to show what durable state costs; before that (unless
//!    `BENCH_SKIP_MEMORY=1`), the 20-rule run with the default `--fetch-memory` and with
//!    librdkafka's own queue sizes, alternating twice, with events/s, CPU seconds and peak RSS.
//!
//! Run: `eval "$(scripts/kafka-test-broker.sh start)"; cargo bench --bench rules_run [-- RECORDS]`
//! (default 1,000,000 records). `BENCH_RULES_RUN_ARGS` adds arguments to every `rules run` (e.g.
//! `-X queued.max.messages.kbytes=65536` to compare queue sizes); `BENCH_SKIP_WORKERS_1=1` skips the
//! `--workers 1` run (for a binary that predates the flag).

#![allow(clippy::print_stdout, clippy::print_stderr)] // a benchmark reports on stdout

mod common;
#[path = "rules_run/runs.rs"]
mod runs;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use runs::{cpu_seconds, extra_args, memory_phase, timed_run};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const PARTITIONS: i32 = 6;
const RULES: usize = 20;

fn main() {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let bootstrap = std::env::var("KAFKA_BOOTSTRAP").unwrap_or_else(|_| {
        eprintln!(
            "KAFKA_BOOTSTRAP is not set: eval \"$(scripts/kafka-test-broker.sh start)\" first"
        );
        std::process::exit(2);
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let stamp = now_ms();
    let topic = format!("bench-uplinks-{stamp}");
    let alerts = format!("bench-alerts-{stamp}");
    runtime.block_on(create_topics(&bootstrap, &[&topic, &alerts]));

    let started = Instant::now();
    let bytes = runtime.block_on(produce(&bootstrap, &topic, 0, records, None));
    let produce_secs = started.elapsed().as_secs_f64();
    println!(
        "produced {records} records ({} bytes each on average) in {produce_secs:.1} s",
        bytes / records
    );

    let cpu_before = cpu_seconds("self");
    let baseline = runtime.block_on(baseline_consume(&bootstrap, &topic, records));
    let baseline_per_cpu = records as f64 / (cpu_seconds("self") - cpu_before);
    println!(
        "baseline: plain rdkafka consumer: {baseline:.0} records/s, {baseline_per_cpu:.0} records per CPU-second"
    );

    let rulebook = write_rulebook(&topic, &alerts);
    let group = format!("bench-group-{stamp}");
    let log = tempfile::NamedTempFile::new().expect("log file");
    let spawned = Instant::now();
    let mut child = spawn(&rulebook, &bootstrap, &group, &log, &[]);
    let first = wait_for_log(&log, "first record received", Duration::from_secs(60));
    let cpu_at_first = cpu_seconds(&child.id().to_string());
    println!(
        "start-up: {:.0} ms from spawn to the first record",
        first.map_or(f64::NAN, |t| (t - spawned).as_secs_f64() * 1000.0)
    );
    let done = wait_until_committed(&bootstrap, &group, &topic, Duration::from_secs(600));
    let cpu = cpu_seconds(&child.id().to_string()) - cpu_at_first;
    let secs = (done - first.unwrap_or(spawned)).as_secs_f64();
    let rate = records as f64 / secs;
    println!(
        "rules run: {rate:.0} events/s over {records} records ({RULES} rules), {:.2}x the baseline",
        rate / baseline
    );
    let per_cpu = records as f64 / cpu;
    println!(
        "rules run CPU: {cpu:.2} s (user + system) for the records, {per_cpu:.0} events per CPU-second, {:.2}x the baseline's",
        per_cpu / baseline_per_cpu
    );
    println!(
        "peak RSS of rules run at full speed: {} MiB",
        common::peak_rss_kib(&child.id().to_string()) / 1024
    );

    let latencies = runtime.block_on(latency_phase(&bootstrap, &topic, &alerts, records));
    report_latency(&latencies);
    println!(
        "peak RSS of rules run (after the latency phase): {} MiB",
        common::peak_rss_kib(&child.id().to_string()) / 1024
    );
    stop(&mut child);
    if std::env::var_os("BENCH_SKIP_WORKERS_1").is_none() {
        let one = timed_run(&bootstrap, &topic, &rulebook, &["--workers", "1"], records).rate;
        println!(
            "rules run --workers 1: {one:.0} events/s ({:.2}x the baseline; the default run is {:.2}x this)",
            one / baseline,
            rate / one
        );
    }

    let window = window_rulebook(&topic, &alerts);
    if std::env::var_os("BENCH_SKIP_MEMORY").is_none() {
        memory_phase(&bootstrap, &topic, &rulebook, records);
    }
    let durable = timed_run(&bootstrap, &topic, &window, &[], records).rate;
    let in_memory = timed_run(&bootstrap, &topic, &window, &["--no-state-topic"], records).rate;
    println!(
        "window rule, state in the changelog: {durable:.0} events/s; in memory only: {in_memory:.0} events/s ({:.2}x)",
        durable / in_memory
    );
}

fn window_rulebook(topic: &str, alerts: &str) -> tempfile::NamedTempFile {
    let yaml = format!(
        "- name: bench-window\n  sources:\n    - kafka: {{topic: {topic}, offset: earliest}}\n  execution_strategy: parallel\n  rules:\n    - name: sustained loss\n      condition: event.lossPercent != `null`\n      window:\n        group_by: [event.serial, event.uplink]\n        size: 5 minutes\n        value: event.lossPercent\n        fire_when: window.avg > `50`\n      action:\n        publish:\n          topic: {alerts}\n          value: {{serial: \"{{{{ event.serial }}}}\"}}\n"
    );
    let mut file = tempfile::Builder::new()
        .suffix(".yml")
        .tempfile()
        .expect("temp file");
    file.write_all(yaml.as_bytes()).expect("rulebook written");
    file
}

fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

async fn create_topics(bootstrap: &str, names: &[&str]) {
    let admin: AdminClient<_> = client(bootstrap).create().expect("admin");
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, PARTITIONS, TopicReplication::Fixed(1)))
        .collect();
    for result in admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .expect("create topics")
    {
        result.expect("topic created");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Produces `count` records starting at sequence `first`; with `rate`, paced to that many per second.
async fn produce(
    bootstrap: &str,
    topic: &str,
    first: usize,
    count: usize,
    rate: Option<u32>,
) -> usize {
    let producer: FutureProducer = client(bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    let mut bytes = 0;
    let started = Instant::now();
    for seq in first..first + count {
        let value = record(seq);
        bytes += value.len();
        let key = format!("Q2XX-{:04}-{:04}", (seq / 6) % 1000, seq % 1000);
        loop {
            match producer.send_result(FutureRecord::to(topic).key(&key).payload(&value)) {
                Ok(_) => break,
                Err((_, _)) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64((seq - first) as f64 / f64::from(rate));
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flushed");
    bytes
}

/// About 400 bytes, as `publish loss-latency` writes; every 1,000th record has 42 % loss.
fn record(seq: usize) -> Vec<u8> {
    let loss = if seq % 1000 == 999 {
        42.0
    } else {
        (seq % 300) as f64 / 100.0
    };
    serde_json::to_vec(&serde_json::json!({
        "organizationId": "2930418", "organizationName": "Example Org",
        "networkId": format!("N_{}", seq % 5000), "networkName": format!("Branch office {}", seq % 5000),
        "serial": format!("Q2XX-{:04}-{:04}", (seq / 6) % 1000, seq % 1000), "model": "MX68",
        "uplink": if seq.is_multiple_of(2) { "wan1" } else { "wan2" }, "ip": "8.8.8.8",
        "timestamp": "2026-01-15T09:55:00Z", "lossPercent": loss, "latencyMs": 20.0 + (seq % 800) as f64 / 10.0,
        "dynamicDns": {"enabled": true, "url": format!("branch-{}-abcdefgh.dynamic-m.com", seq % 5000)},
        "publicIp": "203.0.113.10", "status": "active", "seq": seq,
    }))
    .expect("serialisable")
}

async fn baseline_consume(bootstrap: &str, topic: &str, records: usize) -> f64 {
    let consumer: StreamConsumer = client(bootstrap)
        .set("group.id", format!("bench-baseline-{}", now_ms()))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut seen = 0;
    let mut started = None;
    while seen < records {
        let message = consumer.recv().await.expect("record");
        started.get_or_insert_with(Instant::now);
        std::hint::black_box(message.payload());
        seen += 1;
    }
    seen as f64 / started.map_or(1.0, |s| s.elapsed().as_secs_f64())
}

fn write_rulebook(topic: &str, alerts: &str) -> tempfile::NamedTempFile {
    let mut yaml = format!(
        "- name: bench\n  sources:\n    - kafka: {{topic: {topic}, offset: earliest}}\n  execution_strategy: parallel\n  match_multiple_rules: true\n  rules:\n"
    );
    for n in 0..RULES {
        let condition = match n {
            0 => "event.lossPercent > `40`".to_owned(),
            _ => format!(
                "event.latencyMs > `{}` && event.uplink == 'wan{}'",
                5_000 + n,
                1 + n % 2
            ),
        };
        yaml.push_str(&format!("    - name: rule {n}\n      condition: \"{condition}\"\n      action:\n        publish:\n          topic: {alerts}\n          key: \"{{{{ event.serial }}}}\"\n          value: {{seq: \"{{{{ event.seq }}}}\", source_ms: \"{{{{ meta.timestamp }}}}\"}}\n"));
    }
    let mut file = tempfile::Builder::new()
        .suffix(".yml")
        .tempfile()
        .expect("temp file");
    file.write_all(yaml.as_bytes()).expect("rulebook written");
    file
}

fn spawn(
    rulebook: &tempfile::NamedTempFile,
    bootstrap: &str,
    group: &str,
    log: &tempfile::NamedTempFile,
    args: &[&str],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(["rules", "run"])
        .arg(rulebook.path())
        .args(["--bootstrap-servers", bootstrap, "--group-id", group])
        .args(args)
        .args(extra_args())
        .env("RUST_LOG", "warn,semaphore::pipeline=info")
        .stdout(Stdio::null())
        .stderr(log.reopen().expect("log reopens"))
        .spawn()
        .expect("semaphore starts")
}

fn wait_for_log(log: &tempfile::NamedTempFile, needle: &str, timeout: Duration) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::fs::read_to_string(log.path()).is_ok_and(|text| text.contains(needle)) {
            return Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn wait_until_committed(bootstrap: &str, group: &str, topic: &str, timeout: Duration) -> Instant {
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let deadline = Instant::now() + timeout;
    loop {
        let mut list = TopicPartitionList::new();
        for partition in 0..PARTITIONS {
            list.add_partition(topic, partition);
        }
        let committed = consumer
            .committed_offsets(list, Duration::from_secs(10))
            .expect("committed");
        let lag: i64 = committed
            .elements()
            .iter()
            .map(|e| {
                let (_, high) = consumer
                    .fetch_watermarks(topic, e.partition(), Duration::from_secs(10))
                    .expect("watermarks");
                high - if let Offset::Offset(o) = e.offset() {
                    o
                } else {
                    0
                }
            })
            .sum();
        if lag == 0 {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "lag still {lag}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// 10,000 records/s for 10 s with the run caught up; latency of each alert.
async fn latency_phase(bootstrap: &str, topic: &str, alerts: &str, first: usize) -> Vec<i64> {
    let consumer: StreamConsumer = client(bootstrap)
        .set("group.id", format!("bench-alerts-{}", now_ms()))
        .set("auto.offset.reset", "latest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[alerts]).expect("subscribe");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let count = 100_000;
    let producing = tokio::spawn({
        let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
        async move { produce(&bootstrap, &topic, first, count, Some(10_000)).await }
    });
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while latencies.len() < count / 1000 && Instant::now() < deadline {
        let Ok(Ok(message)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await
        else {
            continue;
        };
        let value: serde_json::Value =
            serde_json::from_slice(message.payload().unwrap_or_default()).unwrap_or_default();
        if let (Some(source), Some(alert)) =
            (value["source_ms"].as_i64(), message.timestamp().to_millis())
        {
            latencies.push(alert - source);
        }
    }
    producing.await.expect("producer task");
    latencies
}

fn report_latency(latencies: &[i64]) {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(-1)
    };
    println!(
        "latency at 10,000 events/s ({} alerts): p50 {} ms, p99 {} ms, max {} ms",
        sorted.len(),
        at(0.5),
        at(0.99),
        sorted.last().copied().unwrap_or(-1)
    );
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
