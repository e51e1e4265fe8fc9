//! Operating `semaphore publish` and keeping secrets out of logs, with real processes: `/metrics`
//! of `publish` against the simulator counts API calls, 429s, records and cycles and `/readyz` is
//! 200 after a delivered cycle; no secret (SASL password, webhook token, Meraki key) shows up at
//! -vv, librdkafka's debug output and --dry-run included; the example env file names only
//! variables the binary reads.

mod common;
#[path = "fixtures/operations.rs"]
mod ops;
#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;

use common::kafka::{bootstrap, fresh_topic, sasl_ssl};
use common::run::{RulesRun, produce_json, rulebook};
use common::unique_name;
use ops::{WAIT, free_addr, readyz, sample, scrape_until, sum};

#[tokio::test(flavor = "multi_thread")]
async fn publish_counts_api_calls_429s_records_and_cycles() {
    let mut config = support::config(1, 2, 4, 0);
    config.faults.bare_429_every = Some(4);
    let sim = support::start(config).await;
    let topic = fresh_topic("ops-publish").await;
    let addr = free_addr();
    let bootstrap = bootstrap();
    let mut command = support::semaphore(&[
        "publish",
        "loss-latency",
        "--base-url",
        &sim.base_url,
        "--bootstrap-servers",
        &bootstrap,
        "--topic",
        &topic,
        "--interval",
        "1s",
        "--backoff",
        "10ms",
        "--metrics-addr",
        &addr,
    ]);
    command
        .env("MERAKI_DASHBOARD_API_KEY", support::KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("publish starts");
    let text = scrape_until(&addr, "two cycles", |text| {
        sample(text, "semaphore_publish_cycles_total", &[("outcome", "ok")])
            .is_some_and(|cycles| cycles >= 2.0)
    })
    .await;
    let readiness = readyz(&addr).await;
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().expect("running").to_string()])
        .status();
    assert!(kill.is_ok_and(|s| s.success()));
    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("publish stops")
        .expect("publish ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    let calls = |endpoint, status| {
        sample(
            &text,
            "semaphore_meraki_api_calls_total",
            &[("endpoint", endpoint), ("status", status)],
        )
        .unwrap_or(0.0)
    };
    assert!(calls("organizations", "2xx") >= 2.0, "{text}");
    assert!(calls("organizations/{id}/networks", "2xx") >= 2.0, "{text}");
    let (_, limited) = sum(&text, "semaphore_meraki_rate_limited_total", &[]);
    let (_, answered_4xx) = sum(
        &text,
        "semaphore_meraki_api_calls_total",
        &[("status", "4xx")],
    );
    assert!(limited >= 1.0, "every 4th request is a 429: {text}");
    assert!(answered_4xx >= limited, "429s are 4xx answers: {text}");
    for endpoint in text.split("endpoint=\"").skip(1) {
        let value = endpoint.split('"').next().unwrap_or_default();
        let bounded = value
            .replace("{id}", "")
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '/');
        assert!(bounded, "an id in the endpoint label {value:?}");
    }
    let published = sample(
        &text,
        "semaphore_records_published_total",
        &[("sink", "kafka")],
    )
    .expect("records published");
    let first_cycle: f64 = stderr
        .lines()
        .find_map(|line| line.strip_prefix("cycle 1: "))
        .and_then(|line| line.split(" records").next())
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cycle 1 line in {stderr}"));
    let all_cycles: f64 = stderr
        .lines()
        .filter(|line| line.starts_with("cycle "))
        .filter_map(|line| {
            line.split(" records")
                .next()?
                .rsplit(' ')
                .next()?
                .parse::<f64>()
                .ok()
        })
        .sum();
    assert!(first_cycle > 0.0, "{stderr}");
    assert!(
        published >= first_cycle && published <= all_cycles,
        "{published} records published; cycle 1 had {first_cycle}, all cycles {all_cycles}"
    );
    assert!(
        sample(&text, "semaphore_publish_cycle_duration_seconds_count", &[])
            .is_some_and(|n| n >= 2.0)
    );
    let (status, body) = readiness.expect("/readyz answers");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["delivery"], "ok");
}

/// A webhook receiver that remembers the `Authorization` headers it got.
async fn token_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(seen): State<Arc<Mutex<Vec<String>>>>, headers: HeaderMap| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    seen.lock().expect("not poisoned").push(auth);
                },
            ),
        )
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_is_logged_at_the_highest_verbosity() {
    const TOKEN: &str = "whk-7f3a9c1e5b2d48e6a0c4";
    let sasl = sasl_ssl();
    let topic = fresh_topic("ops-secrets").await;
    let group = unique_name("ops-secrets");
    produce_json(
        &bootstrap(),
        &topic,
        &[("k".into(), br#"{"seq": 1}"#.to_vec())],
    )
    .await;
    let (url, seen) = token_receiver().await;
    let book = rulebook(&format!(
        r#"
- name: secrets
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: hook
      condition: event.seq == `1`
      action:
        webhook:
          url: "{url}"
          headers: {{Authorization: "Bearer {{{{ env.WEBHOOK_TOKEN }}}}"}}
          body: {{seq: "{{{{ event.seq }}}}"}}
"#
    ));
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(["rules", "run"])
        .arg(book.path())
        // librdkafka's own debug output too: `conf` dumps every client's settings, `security` the
        // SASL handshake.
        .args(["--bootstrap-servers", &sasl.bootstrap, "-vv"])
        .args(["-X", "debug=conf,security"])
        .env("SEMAPHORE_KAFKA_API_KEY", &sasl.username)
        .env("SEMAPHORE_KAFKA_API_SECRET", &sasl.password)
        .env("SEMAPHORE_KAFKA_SSL_CA_LOCATION", &sasl.ca_location)
        .env("WEBHOOK_TOKEN", TOKEN)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().expect("log reopens"))
        .spawn()
        .expect("semaphore starts");
    let deadline = Instant::now() + WAIT;
    while seen.lock().expect("not poisoned").is_empty() {
        assert!(Instant::now() < deadline, "the webhook never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("exits");
    let text = std::fs::read_to_string(log.path()).expect("log readable");
    assert!(status.success(), "{text}");
    assert_eq!(
        seen.lock().expect("not poisoned")[0],
        format!("Bearer {TOKEN}"),
        "the token was used"
    );
    assert!(
        text.lines().count() > 40 && text.contains("sasl.username"),
        "-vv logs plenty, librdkafka's settings too: {} lines\n{text}",
        text.lines().count()
    );
    for secret in [TOKEN, sasl.password.as_str()] {
        assert!(!text.contains(secret), "{secret} logged:\n{text}");
    }

    // --dry-run logs the rendered actions: the header is named, its value masked.
    let dry = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[
            "--dry-run",
            "-vv",
            "--group-id",
            &unique_name("ops-secrets-dry"),
        ],
        &[("WEBHOOK_TOKEN", TOKEN)],
    );
    let deadline = Instant::now() + WAIT;
    while !dry.log().contains("dry run: not sent") {
        assert!(Instant::now() < deadline, "no dry-run line: {}", dry.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, text) = dry.stop();
    assert!(status.success(), "{text}");
    assert!(text.contains("Authorization"), "{text}");
    assert!(!text.contains(TOKEN), "token logged by --dry-run:\n{text}");

    // publish at -vv with the Meraki key.
    let sim = support::start(support::config(1, 1, 2, 0)).await;
    let mut command = support::semaphore(&[
        "publish",
        "loss-latency",
        "--base-url",
        &sim.base_url,
        "--sink",
        "stdout",
        "-vv",
    ]);
    command.env("MERAKI_DASHBOARD_API_KEY", support::KEY);
    let output = support::output(command, WAIT).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("DEBUG"), "-vv logs debug lines: {stderr}");
    assert!(!stderr.contains(support::KEY), "API key logged:\n{stderr}");
}

/// The variables `examples/semaphore.env` sets or mentions (`NAME=` at a line start, commented or not).
fn example_env_names() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/semaphore.env");
    let text = std::fs::read_to_string(path).expect("examples/semaphore.env exists");
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches('#').trim();
            let (name, _) = line.split_once('=')?;
            let is_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            is_name.then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn the_example_env_file_names_only_variables_the_binary_reads() {
    let mut help = String::new();
    for command in [
        &["rules", "run", "--help"][..],
        &["publish", "loss-latency", "--help"],
        &["publish", "clients", "--help"],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_semaphore"))
            .args(command)
            .env_clear()
            .output()
            .expect("help runs");
        assert!(output.status.success());
        help.push_str(&String::from_utf8_lossy(&output.stdout));
    }
    let names = example_env_names();
    assert!(
        names.len() >= 20,
        "the example covers the settings: {names:?}"
    );
    for name in &names {
        // `[env: NAME=]` for flags; the original scripts' names and RUST_LOG are named in the text.
        assert!(
            help.contains(&format!("[env: {name}=")) || mentions(&help, name),
            "{name} is in examples/semaphore.env but no command reads it"
        );
    }
    for required in [
        "SEMAPHORE_METRICS_ADDR",
        "MERAKI_DASHBOARD_API_KEY",
        "SEMAPHORE_BOOTSTRAP_SERVERS",
    ] {
        assert!(names.iter().any(|n| n == required), "{required} missing");
    }
}

/// `name` as a whole word (not inside a longer variable name) in `text`.
fn mentions(text: &str, name: &str) -> bool {
    let is_name_char = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
    })
}
