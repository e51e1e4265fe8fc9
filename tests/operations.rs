//! Operating semaphore, against the real broker and real processes: `/metrics` scraped during a
//! `rules run` moves exactly as the records say (per topic, per rule, actions ok and failed against
//! a failing webhook on 127.0.0.1, dead letters, lag and committed offsets); `/readyz` turns 200
//! once partitions are assigned and is 503 for a member left without partitions; `publish` against
//! the simulator counts API calls, 429s, records and cycles; JSON logs carry the record span; no
//! secret shows up in -vv logs; the example env file names only variables the binary reads.

mod common;
#[path = "fixtures/meraki/support.rs"]
#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde_json::Value;

use common::kafka::{bootstrap, fresh_topic, plaintext_connection, sasl_ssl};
use common::run::{RulesRun, produce_json, rulebook};
use common::unique_name;
use common::webhook::Receiver;

const WAIT: Duration = Duration::from_secs(90);

/// A port nobody listens on right now.
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("bound").to_string()
}

async fn get(url: &str) -> Option<(u16, String)> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    let response = http.get(url).send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

async fn scrape(addr: &str) -> String {
    match get(&format!("http://{addr}/metrics")).await {
        Some((200, text)) => text,
        other => panic!("/metrics on {addr}: {other:?}"),
    }
}

async fn readyz(addr: &str) -> Option<(u16, Value)> {
    let (status, body) = get(&format!("http://{addr}/readyz")).await?;
    Some((
        status,
        serde_json::from_str(&body).expect("/readyz answers JSON"),
    ))
}

/// The value of the sample `name{labels}` (labels in any order), if present.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let wanted = metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            wanted.then(|| value.parse().ok()).flatten()
        })
}

/// Sum of every sample of `name` whose labels include `labels`.
fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> (usize, f64) {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let wanted = metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            wanted.then(|| value.parse::<f64>().ok()).flatten()
        })
        .fold((0, 0.0), |(n, total), value| (n + 1, total + value))
}

/// Scrapes until `done` holds for the text, or fails with the last scrape.
async fn scrape_until(addr: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = scrape(addr).await;
        if done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn counting_rulebook(topic: &str, group: &str) -> String {
    format!(
        r#"
- name: ops
  match_multiple_rules: true
  sources:
    - kafka: {{topic: {topic}, group_id: {group}, offset: earliest}}
  rules:
    - name: small
      condition: event.seq < `5`
      action:
        webhook:
          url: "{{{{ env.OK_URL }}}}"
          body: {{seq: "{{{{ event.seq }}}}"}}
    - name: large
      condition: event.seq >= `5`
      action:
        webhook:
          url: "{{{{ env.FAIL_URL }}}}"
          body: {{seq: "{{{{ event.seq }}}}"}}
          timeout: 5 s
          retry: {{attempts: 2, backoff: 10 ms}}
    - name: never
      condition: event.seq == `-1`
      action:
        debug: {{}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_records_rules_actions_dead_letters_and_lag() {
    let topic = fresh_topic("ops-metrics").await;
    let group = unique_name("ops-metrics");
    let ok = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.fail_with(500);
    let mut records: Vec<(String, Vec<u8>)> = (0..10)
        .map(|seq| {
            let value = serde_json::json!({"seq": seq}).to_string();
            (format!("k{seq}"), value.into_bytes())
        })
        .collect();
    records.push(("bad1".into(), b"{\"seq\": oops".to_vec()));
    records.push(("bad2".into(), vec![0xff, 0xfe]));
    produce_json(&bootstrap(), &topic, &records).await;

    let book = rulebook(&counting_rulebook(&topic, &group));
    let addr = free_addr();
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[
            "--metrics-addr",
            &addr,
            "--log-format",
            "json",
            "-X",
            "statistics.interval.ms=500",
        ],
        &[("OK_URL", &ok.url), ("FAIL_URL", &failing.url)],
    );
    let rule = |name: &'static str| [("ruleset", "ops"), ("rule", name)];
    let text = scrape_until(&addr, "every dead letter and a lag of 0", |text| {
        let (partitions, lag) = sum(text, "semaphore_consumer_lag", &[("topic", &topic)]);
        let (_, committed) = sum(text, "semaphore_committed_offset", &[("topic", &topic)]);
        sample(
            text,
            "semaphore_dead_letters_total",
            &[("reason", "action")],
        ) == Some(5.0)
            && sample(
                text,
                "semaphore_dead_letters_total",
                &[("reason", "decode")],
            ) == Some(2.0)
            && sample(text, "semaphore_rule_evaluations_total", &rule("never")) == Some(10.0)
            && partitions >= 1
            && lag == 0.0
            && committed == 12.0
    })
    .await;

    let topic_label = [("topic", topic.as_str())];
    assert_eq!(
        sample(&text, "semaphore_records_consumed_total", &topic_label),
        Some(12.0)
    );
    assert_eq!(
        sample(&text, "semaphore_decode_errors_total", &topic_label),
        Some(2.0)
    );
    for (name, matches) in [("small", 5.0), ("large", 5.0), ("never", 0.0)] {
        assert_eq!(
            sample(&text, "semaphore_rule_evaluations_total", &rule(name)),
            Some(10.0),
            "{name}"
        );
        assert_eq!(
            sample(&text, "semaphore_rule_matches_total", &rule(name)),
            Some(matches),
            "{name}"
        );
        assert_eq!(
            sample(&text, "semaphore_rule_firings_total", &rule(name)),
            Some(matches),
            "{name}"
        );
    }
    let action = |outcome| [("action", "webhook"), ("outcome", outcome)];
    assert_eq!(
        sample(&text, "semaphore_actions_total", &action("ok")),
        Some(5.0)
    );
    assert_eq!(
        sample(&text, "semaphore_actions_total", &action("failed")),
        Some(5.0)
    );
    assert_eq!(
        sample(
            &text,
            "semaphore_action_retries_total",
            &[("action", "webhook")]
        ),
        Some(5.0),
        "two attempts each: one retry per failed firing"
    );
    assert_eq!(
        sample(&text, "semaphore_evaluation_duration_seconds_count", &[]),
        Some(10.0),
        "one evaluation per decodable record"
    );
    assert!(text.contains("# HELP semaphore_consumer_lag"), "{text}");
    assert!(!text.contains("k1\""), "no record keys in labels");

    let (status, log) = run.stop();
    assert!(status.success(), "exit {status}: {log}");
    // JSON logs: the dead-letter line carries the record's span, the failure its rule.
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let dead = lines
        .iter()
        .find(|line| line["fields"]["message"] == "record dead-lettered")
        .unwrap_or_else(|| panic!("no dead-letter line in {log}"));
    assert_eq!(dead["span"]["name"], "record", "{dead}");
    assert_eq!(dead["span"]["topic"], topic.as_str(), "{dead}");
    assert!(dead["span"]["offset"].is_u64(), "{dead}");
    assert!(dead["span"]["partition"].is_u64(), "{dead}");
    let failed = lines
        .iter()
        .find(|line| line["fields"]["message"] == "action failed")
        .unwrap_or_else(|| panic!("no action failure line in {log}"));
    assert_eq!(failed["span"]["rule"], "large", "{failed}");
    assert_eq!(failed["spans"][0]["name"], "record", "{failed}");
}

/// A topic with a single partition: two members of a group cannot both own one.
async fn one_partition_topic(prefix: &str) -> String {
    let name = unique_name(prefix);
    let admin: AdminClient<DefaultClientContext> = plaintext_connection()
        .client_config()
        .expect("valid settings")
        .create()
        .expect("admin client");
    let options = AdminOptions::new().operation_timeout(Some(WAIT));
    let topic = NewTopic::new(&name, 1, TopicReplication::Fixed(1));
    for result in admin
        .create_topics([&topic], &options)
        .await
        .expect("create_topics")
    {
        result.unwrap_or_else(|(topic, code)| panic!("creating {topic}: {code}"));
    }
    name
}

/// Polls `/readyz` until `done` holds; returns every answer seen.
async fn readyz_until(addr: &str, done: impl Fn(u16, &Value) -> bool) -> Vec<(u16, Value)> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        if let Some((status, body)) = readyz(addr).await {
            let finished = done(status, &body);
            seen.push((status, body));
            if finished {
                return seen;
            }
        }
        assert!(
            Instant::now() < deadline,
            "readiness never settled: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_needs_assigned_partitions() {
    let topic = one_partition_topic("ops-ready").await;
    let group = unique_name("ops-ready");
    let book = rulebook(&counting_rulebook(&topic, &group));
    let first_addr = free_addr();
    let first = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--metrics-addr", &first_addr],
        &[],
    );
    let seen = readyz_until(&first_addr, |status, _| status == 200).await;
    let (status, body) = &seen[0];
    assert_eq!(
        *status, 503,
        "not ready before the group assigned partitions"
    );
    assert_eq!(body["ready"], false);
    assert_ne!(body["checks"]["partitions"], "ok", "{body}");
    let (_, ready) = seen.last().expect("at least one answer");
    assert_eq!(ready["checks"]["rulebook"], "ok");
    assert_eq!(ready["checks"]["broker"], "ok");
    let health = get(&format!("http://{first_addr}/healthz")).await;
    assert_eq!(health.map(|(status, _)| status), Some(200));

    // A second member gets nothing of a one-partition topic: it serves, but is not ready.
    let second_addr = free_addr();
    let second = RulesRun::start(
        book.path(),
        &bootstrap(),
        &["--metrics-addr", &second_addr],
        &[],
    );
    let deadline = Instant::now() + WAIT;
    loop {
        let a = readyz(&first_addr).await;
        let b = readyz(&second_addr).await;
        if let (Some((a_status, a_body)), Some((b_status, b_body))) = (&a, &b) {
            let (idle, busy) = if *a_status == 503 {
                ((a_status, a_body), b_status)
            } else {
                ((b_status, b_body), a_status)
            };
            if *idle.0 == 503
                && idle.1["checks"]["partitions"] == "no partitions assigned"
                && *busy == 200
            {
                assert_eq!(idle.1["checks"]["broker"], "ok");
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "never one ready and one idle member: {a:?} {b:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, log) = second.stop();
    assert!(status.success(), "exit {status}: {log}");
    let (status, log) = first.stop();
    assert!(status.success(), "exit {status}: {log}");
}

#[test]
fn a_metrics_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("bound").to_string();
    let book = rulebook(&counting_rulebook("ops-unused", "ops-unused"));
    let run = RulesRun::start(book.path(), &bootstrap(), &["--metrics-addr", &addr], &[]);
    let (status, log) = run.wait(Duration::from_secs(30));
    assert!(!status.success(), "{log}");
    assert!(log.contains(&format!("cannot listen on {addr}:")), "{log}");
}

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
