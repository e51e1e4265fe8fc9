//! `semaphore consume` as a user runs it: the built binary against the real test broker. Output
//! format, unusual keys and values, the stop conditions, errors, `--help` and Ctrl-C.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::kafka::{
    Delivered, TestRecord, bootstrap, fresh_topic, keyed_records, produce, sasl_ssl,
};
use common::unique_name;

/// No run of the binary in these tests may take longer than this.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings from the developer's shell must not change what the binary under test does.
const INHERITED_SETTINGS: [&str; 13] = [
    "BOOTSTRAP_SERVER",
    "CLUSTER_API_KEY",
    "CLUSTER_API_SECRET",
    "TOPIC",
    "RUST_LOG",
    "SEMAPHORE_LOG",
    "SEMAPHORE_BOOTSTRAP_SERVERS",
    "SEMAPHORE_KAFKA_API_KEY",
    "SEMAPHORE_KAFKA_API_SECRET",
    "SEMAPHORE_KAFKA_API_SECRET_FILE",
    "SEMAPHORE_KAFKA_SECURITY_PROTOCOL",
    "SEMAPHORE_KAFKA_SASL_MECHANISM",
    "SEMAPHORE_KAFKA_SSL_CA_LOCATION",
];

fn semaphore(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_semaphore"));
    command.args(args);
    for name in INHERITED_SETTINGS {
        command.env_remove(name);
    }
    command
}

/// `consume` on `topic` as a fresh group (unless `args` names one) against the PLAINTEXT listener.
fn consume(topic: &str, args: &[&str]) -> Command {
    let group = unique_name("cli-group");
    let bootstrap = bootstrap();
    let mut command = semaphore(&[
        "consume",
        "--topic",
        topic,
        "--bootstrap-servers",
        &bootstrap,
    ]);
    if !args.contains(&"-g") {
        command.args(["-g", &group]);
    }
    command.args(args);
    command
}

/// Runs to completion within [`RUN_TIMEOUT`], killing the process and failing otherwise.
fn run(mut command: Command) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn semaphore");
    let pid = child.id();
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match outcome.recv_timeout(RUN_TIMEOUT) {
        Ok(output) => output.expect("collect output"),
        Err(_) => {
            signal(pid, "KILL");
            panic!("semaphore did not finish within {RUN_TIMEOUT:?}");
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

fn stdout_lines(output: &Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn line(topic: &str, at: Delivered, key: &str, value: &str) -> String {
    format!(
        "Consumed record | topic: {topic}, partition: [{}], @offset: {} | key: {key}, value: {value}",
        at.partition, at.offset
    )
}

/// A key and a value to produce; `None` is null.
type KeyValue<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// Records all on partition 0, so that they are read in this order.
fn on_partition_zero(records: &[KeyValue<'_>]) -> Vec<TestRecord> {
    records
        .iter()
        .map(|(key, value)| TestRecord {
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            partition: Some(0),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_the_exact_line_for_each_record() {
    let topic = fresh_topic("cli-format").await;
    let long = "é".repeat(60);
    let at = produce(
        &topic,
        &on_partition_zero(&[
            (Some(b"k1"), Some(br#"{"n":1}"#)),
            (Some(b"k2"), Some(long.as_bytes())),
        ]),
    )
    .await;
    let lines = stdout_lines(&run(consume(&topic, &["--count", "2"])));
    let expected = [
        line(&topic, at[0], "k1", r#"{"n":1}"#),
        line(&topic, at[1], "k2", &"é".repeat(50)),
    ];
    assert_eq!(lines, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_key_prints_key_null() {
    let topic = fresh_topic("cli-null-key").await;
    let at = produce(&topic, &on_partition_zero(&[(None, Some(b"v"))])).await;
    let lines = stdout_lines(&run(consume(&topic, &["--count", "1"])));
    assert_eq!(lines, [line(&topic, at[0], "null", "v")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_non_utf8_and_control_characters_are_shown_safely() {
    let topic = fresh_topic("cli-unsafe").await;
    let records = [
        (Some(&b"k"[..]), Some(&b"not json {"[..])),
        (Some(&[0xff, 0x01][..]), Some(&[0xff, 0xfe, 0x00, 0x41][..])),
        (Some(b"k"), Some(b"a\nb\x1b[2J")),
    ];
    let at = produce(&topic, &on_partition_zero(&records)).await;
    let lines = stdout_lines(&run(consume(&topic, &["--count", "3"])));
    let expected = [
        line(&topic, at[0], "k", "not json {"),
        line(&topic, at[1], "0xff01", "0xfffe0041"),
        line(&topic, at[2], "k", r"a\nb\u{1b}[2J"),
    ];
    assert_eq!(lines, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_pretty_prints_json_and_shows_other_values_as_text() {
    let topic = fresh_topic("cli-verbose").await;
    let at = produce(
        &topic,
        &on_partition_zero(&[
            (Some(b"j"), Some(br#"{"a":1,"b":[true]}"#)),
            (Some(b"t"), Some(b"plain text")),
        ]),
    )
    .await;
    let lines = stdout_lines(&run(consume(&topic, &["--count", "2", "-v"])));
    let expected = [
        line(&topic, at[0], "j", r#"{"a":1,"b":[true]}"#),
        "{".into(),
        r#"  "a": 1,"#.into(),
        r#"  "b": ["#.into(),
        "    true".into(),
        "  ]".into(),
        "}".into(),
        line(&topic, at[1], "t", "plain text"),
        "plain text".into(),
    ];
    assert_eq!(lines, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_stops_after_n_records_without_waiting() {
    let topic = fresh_topic("cli-count").await;
    produce(&topic, &keyed_records(5)).await;
    let started = Instant::now();
    let lines = stdout_lines(&run(consume(&topic, &["--count", "2", "-t", "30"])));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped at the count, not after a poll timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_bounds_the_number_of_polls() {
    let topic = fresh_topic("cli-range").await;
    produce(&topic, &keyed_records(5)).await;
    let lines = stdout_lines(&run(consume(&topic, &["-r", "3", "-t", "10"])));
    assert_eq!(lines.len(), 3, "one record per poll: {lines:?}");

    let empty = fresh_topic("cli-range-empty").await;
    let started = Instant::now();
    let lines = stdout_lines(&run(consume(&empty, &["-r", "2", "-t", "1"])));
    let elapsed = started.elapsed();
    assert!(lines.is_empty(), "{lines:?}");
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(15),
        "two 1 s polls: {elapsed:?}"
    );
}

#[test]
fn unreachable_bootstrap_fails_within_the_timeout() {
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let address = format!("127.0.0.1:{closed_port}");
    let started = Instant::now();
    let output = run(semaphore(&[
        "consume",
        "--bootstrap-servers",
        &address,
        "-t",
        "2",
    ]));
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("error: cannot reach Kafka at {address} within 2s")),
        "{stderr}"
    );
    assert!(
        elapsed < Duration::from_secs(8),
        "gave up near the 2 s timeout: {elapsed:?}"
    );
}

#[test]
fn help_does_not_show_secret_env_values() {
    let mut command = semaphore(&["consume", "--help"]);
    command.envs([
        ("SEMAPHORE_KAFKA_API_KEY", "key-value-1"),
        ("SEMAPHORE_KAFKA_API_SECRET", "secret-value-2"),
        ("CLUSTER_API_SECRET", "secret-value-3"),
    ]);
    let help = stdout_lines(&run(command)).join("\n");
    assert!(
        help.contains("--api-secret") && help.contains("SEMAPHORE_KAFKA_API_SECRET"),
        "{help}"
    );
    for value in ["key-value-1", "secret-value-2", "secret-value-3"] {
        assert!(!help.contains(value), "{value} shown in --help");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_zero_and_commits() {
    let topic = fresh_topic("cli-sigint").await;
    let group = unique_name("cli-group");
    let old = produce(
        &topic,
        &on_partition_zero(&[(Some(b"old1"), Some(b"1")), (Some(b"old2"), Some(b"2"))]),
    )
    .await;

    let mut child = consume(&topic, &["-g", &group])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let first_run = read_lines_then_interrupt(&mut child, old.len());
    assert_eq!(
        first_run,
        [
            line(&topic, old[0], "old1", "1"),
            line(&topic, old[1], "old2", "2")
        ]
    );

    let new = produce(&topic, &on_partition_zero(&[(Some(b"new"), Some(b"3"))])).await;
    let lines = stdout_lines(&run(consume(&topic, &["-g", &group, "--count", "1"])));
    assert_eq!(
        lines,
        [line(&topic, new[0], "new", "3")],
        "the second run starts after the committed records"
    );
}

/// Reads `count` lines from a running `consume`, sends SIGINT and checks that it exits 0 in time.
fn read_lines_then_interrupt(child: &mut Child, count: usize) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .try_for_each(|l| sender.send(l))
    });
    let read: Vec<String> = (0..count)
        .map_while(|_| lines.recv_timeout(RUN_TIMEOUT).ok())
        .collect();
    signal(child.id(), "INT");
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            signal(child.id(), "KILL");
            panic!("consume did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "Ctrl-C is a clean exit");
    read
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_env_names_log_in_over_sasl_ssl() {
    let topic = fresh_topic("cli-sasl").await;
    let at = produce(
        &topic,
        &on_partition_zero(&[(Some(b"k"), Some(b"over tls"))]),
    )
    .await;
    let sasl = sasl_ssl();
    let mut command = semaphore(&["consume", "-g", &unique_name("cli-group"), "--count", "1"]);
    command.envs([
        ("BOOTSTRAP_SERVER", sasl.bootstrap.as_str()),
        ("CLUSTER_API_KEY", &sasl.username),
        ("CLUSTER_API_SECRET", &sasl.password),
        ("TOPIC", &topic),
        ("SEMAPHORE_KAFKA_SSL_CA_LOCATION", &sasl.ca_location),
    ]);
    assert_eq!(
        stdout_lines(&run(command)),
        [line(&topic, at[0], "k", "over tls")]
    );
}

#[test]
fn wrong_password_is_an_authentication_error_and_is_never_logged() {
    let sasl = sasl_ssl();
    let wrong = "wrong-password-value";
    let mut command = semaphore(&[
        "--log-level",
        "debug",
        "consume",
        "-X",
        "debug=security,broker,conf",
    ]);
    command.envs([
        ("SEMAPHORE_BOOTSTRAP_SERVERS", sasl.bootstrap.as_str()),
        ("SEMAPHORE_KAFKA_API_KEY", &sasl.username),
        ("SEMAPHORE_KAFKA_API_SECRET", wrong),
        ("SEMAPHORE_KAFKA_SSL_CA_LOCATION", &sasl.ca_location),
    ]);
    let output = run(command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "error: authentication failed at Kafka {}",
            sasl.bootstrap
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(wrong),
        "the password appeared in the output"
    );
}
