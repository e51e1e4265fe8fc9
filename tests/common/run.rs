//! Driving `semaphore rules run` as a real process in tests: start it with a rulebook, stop it
//! gracefully (SIGTERM) or hard (SIGKILL), and read back what it left in Kafka: the group's committed
//! offsets and the records of a dead-letter topic.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::kafka::{BROKER_TIMEOUT, PARTITIONS, plaintext_connection};
use semaphore::config::OffsetReset;

/// A running `rules run` process; killed if the test panics first. Its stderr goes to a file, not
/// a pipe, so a chatty process never blocks on a full pipe.
pub struct RulesRun {
    child: Option<Child>,
    log: tempfile::NamedTempFile,
}

/// Writes `yaml` to a temporary rulebook file that lives as long as the returned handle.
pub fn rulebook(yaml: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".yml")
        .tempfile()
        .expect("temp file");
    file.write_all(yaml.as_bytes()).expect("write rulebook");
    file
}

impl RulesRun {
    /// Starts `semaphore rules run RULEBOOK --bootstrap-servers <test broker> ARGS` with `env` set.
    pub fn start(
        rulebook: &Path,
        bootstrap: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> RulesRun {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let stderr = log.reopen().expect("log file reopens");
        let child = Command::new(env!("CARGO_BIN_EXE_semaphore"))
            .args(["rules", "run"])
            .arg(rulebook)
            .args(["--bootstrap-servers", bootstrap])
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn,semaphore=info")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("semaphore starts");
        RulesRun {
            child: Some(child),
            log,
        }
    }

    /// What the process has written to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `kill -9`: no drain, no commit.
    pub fn kill_hard(mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL delivered");
            child.wait().expect("reaped");
        }
    }

    /// SIGTERM, then waits for the exit; returns the status and everything it wrote to stderr.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM delivered");
        let status = wait_with_timeout(child, Duration::from_secs(60));
        (status, self.log())
    }

    /// Waits for the process to exit by itself (e.g. a start-up error).
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, String) {
        let child = self.child.take().expect("running");
        let status = wait_with_timeout(child, timeout);
        (status, self.log())
    }
}

impl Drop for RulesRun {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_with_timeout(mut child: Child, timeout: Duration) -> ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("status readable") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("semaphore did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sum over partitions of (end offset - committed offset) for `group` on `topic`: 0 when the
/// group has committed everything.
pub fn lag(bootstrap: &str, group: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = connection_to(bootstrap)
        .consumer_config(group, OffsetReset::Earliest)
        .expect("valid settings")
        .create()
        .expect("consumer");
    let mut partitions = TopicPartitionList::new();
    for partition in 0..PARTITIONS as i32 {
        partitions.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(partitions, BROKER_TIMEOUT)
        .expect("committed offsets");
    committed
        .elements()
        .iter()
        .map(|element| {
            let (_, high) = consumer
                .fetch_watermarks(topic, element.partition(), BROKER_TIMEOUT)
                .expect("watermarks");
            let done = match element.offset() {
                Offset::Offset(offset) => offset,
                _ => 0,
            };
            high - done
        })
        .sum()
}

/// A PLAINTEXT connection to any broker (the tests that restart a broker run their own).
pub fn connection_to(bootstrap: &str) -> semaphore::config::KafkaConnection {
    let flags = semaphore::config::KafkaConnectionConfig {
        bootstrap_servers: Some(bootstrap.to_owned()),
        ..Default::default()
    };
    flags
        .resolve_with(|_| None)
        .expect("plaintext test settings are valid")
}

/// Produces JSON values with keys to `topic` on `bootstrap` and returns (partition, offset) per record.
pub async fn produce_json(
    bootstrap: &str,
    topic: &str,
    records: &[(String, Vec<u8>)],
) -> Vec<(i32, i64)> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = connection_to(bootstrap)
        .producer_config()
        .expect("valid")
        .create()
        .expect("producer");
    let mut deliveries = Vec::with_capacity(records.len());
    for chunk in records.chunks(5_000) {
        let in_flight: Vec<_> = chunk
            .iter()
            .map(|(key, value)| {
                producer
                    .send_result(
                        FutureRecord::to(topic)
                            .key(key.as_bytes())
                            .payload(value.as_slice()),
                    )
                    .map_err(|(err, _)| err)
                    .expect("queued")
            })
            .collect();
        for delivery in in_flight {
            let delivered = tokio::time::timeout(BROKER_TIMEOUT, delivery)
                .await
                .expect("delivered in time")
                .expect("producer alive")
                .map_err(|(err, _)| err)
                .expect("delivered");
            deliveries.push((delivered.partition, delivered.offset));
        }
    }
    deliveries
}

/// A dead letter as read back: its value and semaphore's headers.
#[derive(Debug)]
pub struct DeadLetter {
    pub value: Vec<u8>,
    pub headers: std::collections::HashMap<String, String>,
}

/// Reads `count` records from `topic` from the beginning (panics if fewer arrive in time).
pub fn dead_letters(topic: &str, count: usize) -> Vec<DeadLetter> {
    let consumer: BaseConsumer = plaintext_connection()
        .consumer_config(&super::unique_name("dlq-reader"), OffsetReset::Earliest)
        .expect("valid settings")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = std::time::Instant::now() + BROKER_TIMEOUT;
    let mut letters = Vec::new();
    while letters.len() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {count} dead letters arrived",
            letters.len()
        );
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.expect("readable");
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        letters.push(DeadLetter {
            value: message.payload().unwrap_or_default().to_vec(),
            headers,
        });
    }
    letters
}
