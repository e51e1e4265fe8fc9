//! `semaphore demo` as a real process: on librdkafka's mock cluster it prints alerts from its webhook
//! receiver and says the cluster is a mock; its alerts come over the whole run, one line per
//! incident naming where it was sent, with readable times; against the test broker it creates the
//! topics, prints alerts and commits what it consumed; SIGINT stops it cleanly with exit 0.

mod common;

use std::fs;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use semaphore::kafka::check_topic;

/// Longest a demo run may take in these tests, start-up and stop included, on a loaded machine.
const EXIT_TIMEOUT: Duration = Duration::from_secs(90);
const MOCK_NOTICE: &str = "librdkafka's in-memory mock cluster";
/// An incident of the loss rulebook: the rule comes from the webhook's Idempotency-Key.
const WEBHOOK_ALERT: &str = " ALERT High loss on an uplink: Loss ";

/// A running demo; stdout and stderr go to files so that a chatty run never blocks on a pipe.
struct Demo {
    child: Option<Child>,
    stdout: tempfile::NamedTempFile,
    stderr: tempfile::NamedTempFile,
}

impl Demo {
    fn start(args: &[&str]) -> Demo {
        let stdout = tempfile::NamedTempFile::new().expect("stdout file");
        let stderr = tempfile::NamedTempFile::new().expect("stderr file");
        let child = Command::new(env!("CARGO_BIN_EXE_semaphore"))
            .arg("demo")
            .args(args)
            // A developer's broker settings must not turn the mock runs into real ones.
            .env_remove("SEMAPHORE_BOOTSTRAP_SERVERS")
            .env_remove("BOOTSTRAP_SERVER")
            .env("RUST_LOG", "warn,semaphore=info")
            .stdin(Stdio::null())
            .stdout(stdout.reopen().expect("stdout reopens"))
            .stderr(stderr.reopen().expect("stderr reopens"))
            .spawn()
            .expect("semaphore starts");
        Demo {
            child: Some(child),
            stdout,
            stderr,
        }
    }

    fn output(&self) -> (String, String) {
        (
            fs::read_to_string(self.stdout.path()).unwrap_or_default(),
            fs::read_to_string(self.stderr.path()).unwrap_or_default(),
        )
    }

    /// Polls stdout until it contains `needle`; false after `timeout`.
    fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.output().0.contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn interrupt(&self) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGINT delivered");
    }

    /// Waits for the exit; returns the status, stdout and stderr.
    fn wait(mut self, timeout: Duration) -> (ExitStatus, String, String) {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("status readable") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let (out, err) = self.output();
                panic!("the demo did not exit within {timeout:?}\n{out}\n{err}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let (out, err) = self.output();
        (status, out, err)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn webhook_alerts(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|line| line.contains(WEBHOOK_ALERT) && line.contains("[sent to webhook"))
        .count()
}

#[test]
fn the_demo_shows_each_incident_once_over_its_run_with_readable_times() {
    // Polls every 5 s: one simulated minute each, so a minute of the run is twelve of incidents.
    let (status, out, err) =
        Demo::start(&["--duration", "60s", "--interval", "5s"]).wait(EXIT_TIMEOUT);
    assert!(status.success(), "{status}\n{out}\n{err}");
    let alerts: Vec<&str> = out.lines().filter(|l| l.contains(" ALERT ")).collect();
    assert!(!alerts.is_empty(), "{out}\n{err}");
    for line in &alerts {
        assert!(!line.contains("ALERT via"), "one delivery per line: {line}");
        assert!(
            line.ends_with(']') && line.contains("  [sent to "),
            "{line}"
        );
    }
    // The webhook and the record of one loss firing are one line.
    assert!(
        alerts.iter().any(
            |l| l.contains(WEBHOOK_ALERT) && l.ends_with("[sent to webhook and meraki.alerts]")
        ),
        "{out}"
    );
    // An incident is one line: no rule and uplink twice (the run is shorter than an incident's quiet gap).
    let mut seen = std::collections::BTreeSet::new();
    for line in alerts.iter().filter(|l| l.contains(WEBHOOK_ALERT)) {
        let subject = line
            .split("% on ")
            .nth(1)
            .and_then(|rest| rest.split(" towards ").next());
        assert!(seen.insert(subject), "{subject:?} shown twice:\n{out}");
    }
    // Alerts keep coming after the first polls.
    let third = out
        .lines()
        .position(|l| l.contains("publish loss-latency: cycle 3,"))
        .expect("three polls");
    let later = out
        .lines()
        .skip(third)
        .filter(|l| l.contains(" ALERT "))
        .count();
    assert!(later >= 1, "nothing after the first polls:\n{out}");
    // Times are clock times, not seconds since 1970.
    let first_seen: Vec<&str> = alerts
        .iter()
        .filter_map(|l| l.split("firstSeen=").nth(1))
        .collect();
    assert!(!first_seen.is_empty(), "{out}");
    for value in first_seen {
        let time = value.split_whitespace().next().unwrap_or_default();
        assert!(
            time.len() == 8 && time.as_bytes()[2] == b':',
            "firstSeen={time}"
        );
    }
    assert!(out.contains("incidents shown"), "{out}");
}

#[test]
fn the_demo_runs_on_the_mock_cluster_and_prints_alerts_from_its_receiver() {
    let (status, out, err) = Demo::start(&["--duration", "10s"]).wait(EXIT_TIMEOUT);
    assert!(status.success(), "{status}\n{out}\n{err}");
    assert!(out.contains(MOCK_NOTICE), "{out}");
    assert!(
        out.contains("for trying semaphore only; nothing is stored"),
        "{out}"
    );
    assert!(webhook_alerts(&out) >= 1, "no webhook alert:\n{out}\n{err}");
    assert!(out.contains("demo stopped after"), "{out}");
}

#[test]
fn sigint_stops_the_demo_cleanly() {
    let demo = Demo::start(&[]);
    let alerted = demo.wait_for(WEBHOOK_ALERT, Duration::from_secs(60));
    let (out, err) = demo.output();
    assert!(alerted, "no alert before the signal:\n{out}\n{err}");
    demo.interrupt();
    let signalled = Instant::now();
    let (status, out, err) = demo.wait(EXIT_TIMEOUT);
    assert!(status.success(), "{status}\n{out}\n{err}");
    assert!(
        err.contains("stopping: draining and committing"),
        "the signal was not what stopped it:\n{err}"
    );
    assert!(out.contains("offsets committed"), "{out}");
    assert!(
        signalled.elapsed() < Duration::from_secs(30),
        "stopping took {:?}",
        signalled.elapsed()
    );
}

#[test]
fn the_demo_on_a_real_broker_creates_the_topics_prints_alerts_and_commits() {
    let bootstrap = common::kafka::bootstrap();
    // One publishing cycle: everything published is consumed well before the end, so a clean
    // stop leaves no lag.
    let (status, out, err) = Demo::start(&[
        "--bootstrap-servers",
        &bootstrap,
        "--duration",
        "12s",
        "--interval",
        "1h",
    ])
    .wait(EXIT_TIMEOUT);
    assert!(status.success(), "{status}\n{out}\n{err}");
    assert!(!out.contains(MOCK_NOTICE), "{out}");
    assert!(out.contains(&format!("the broker at {bootstrap}")), "{out}");
    assert!(webhook_alerts(&out) >= 1, "no webhook alert:\n{out}\n{err}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let connection = common::kafka::plaintext_connection();
    for topic in [
        "meraki.uplinks.loss-latency",
        "meraki.clients",
        "meraki.alerts",
    ] {
        let info = runtime
            .block_on(check_topic(&connection, topic, Duration::from_secs(30)))
            .unwrap_or_else(|err| panic!("{topic}: {err}"));
        assert_eq!(info.partitions, 6, "{topic} was created by the demo");
    }
    let lag = common::run::lag(
        &bootstrap,
        "semaphore-demo.semaphore-uplink-loss",
        "meraki.uplinks.loss-latency",
    );
    assert_eq!(lag, 0, "the loss rulebook committed everything it consumed");
}
