//! Conformance with the real ansible-rulebook 1.3.2 (tests/eda/README.md): every case's EDA rulebook
//! goes through `semaphore rules import`, its events through `semaphore rules test` on event time,
//! and the firings (rule and events) are compared with what ansible-rulebook fired, recorded by
//! `scripts/eda-record`. A case listed in tests/eda/deliberate.json must differ exactly as listed;
//! at least 95% of the cases must be identical. No ansible-rulebook is needed here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// When the first event of every case happens, on semaphore's event clock.
const START_MS: i64 = 1_767_225_600_000;
const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eda/cases");
const DELIBERATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eda/deliberate.json");

/// One firing: the rule and its events, sorted (compared as a multiset).
type Firing = (String, Vec<String>);

fn semaphore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(args)
        .output()
        .expect("semaphore runs")
}

/// A value in one spelling: object keys sorted, numbers as floats (`1` and `1.0` are the same).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            json!(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Number(n) => json!(n.as_f64()),
        other => other.clone(),
    }
}

fn firing(rule: &str, events: &[Value]) -> Firing {
    let mut events: Vec<String> = events.iter().map(|e| canonical(e).to_string()).collect();
    events.sort();
    (rule.to_owned(), events)
}

fn recorded(list: &Value) -> Vec<Firing> {
    list.as_array()
        .map(|firings| {
            let empty = Vec::new();
            firings
                .iter()
                .map(|f| {
                    let rule = f["rule"].as_str().unwrap_or_default();
                    firing(rule, f["events"].as_array().unwrap_or(&empty))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("a time in range")
        .to_rfc3339()
}

/// The case's events with `meta.timestamp` on the event clock, and the time of its last line.
fn timed_events(case: &Path, out: &Path) -> i64 {
    let text = std::fs::read_to_string(case.join("events.jsonl")).expect("events.jsonl");
    let mut now_ms = START_MS;
    let mut lines = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let item: Value = serde_json::from_str(line).expect("an events.jsonl line is JSON");
        let after = item["after"].as_f64().unwrap_or(0.0);
        now_ms += (after * 1000.0).round() as i64;
        if let Some(event) = item.get("event") {
            let timed = json!({"event": event, "meta": {"timestamp": now_ms}});
            lines.push_str(&format!("{timed}\n"));
        }
    }
    std::fs::write(out, lines).expect("timed events written");
    now_ms
}

/// semaphore's firings on the case, or why it could not run.
fn run_case(case: &Path, work: &Path) -> Result<Vec<Firing>, String> {
    let imported = work.join("rulebook.yml");
    let import = semaphore(&[
        "rules",
        "import",
        &case.join("rulebook.yml").to_string_lossy(),
        "-o",
        &imported.to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&import.stderr);
    if !import.status.success() {
        return Err(format!("rules import failed: {stderr}"));
    }
    let events = work.join("events.jsonl");
    let end_ms = timed_events(case, &events);
    let (start, until) = (rfc3339(START_MS), rfc3339(end_ms));
    let mut args = vec![
        "rules".to_owned(),
        "test".to_owned(),
        imported.to_string_lossy().into_owned(),
        "--events".to_owned(),
        events.to_string_lossy().into_owned(),
        "--start-time".to_owned(),
        start,
        "--until".to_owned(),
        until,
    ];
    if case.join("vars.yml").exists() {
        args.push("--vars".to_owned());
        args.push(case.join("vars.yml").to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let test = semaphore(&args);
    let stderr = String::from_utf8_lossy(&test.stderr);
    if !matches!(test.status.code(), Some(0 | 3)) {
        return Err(format!("rules test failed: {stderr}"));
    }
    String::from_utf8_lossy(&test.stdout)
        .lines()
        .map(|line| printed_firing(line).ok_or_else(|| format!("unexpected firing line {line}")))
        .collect()
}

/// A `rules test` firing line: the rule and the events its first action, `print_event`, printed.
fn printed_firing(line: &str) -> Option<Firing> {
    let fired: Value = serde_json::from_str(line).ok()?;
    let action = &fired["actions"][0];
    if action["type"] != "print_event" {
        return None;
    }
    let events: Vec<Value> = action["send"]["output"]
        .as_str()?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .ok()?;
    Some(firing(fired["rule"].as_str()?, &events))
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(CASES)
        .expect("tests/eda/cases")
        .map(|entry| entry.expect("a case").path())
        .filter(|path| path.join("rulebook.yml").exists())
        .collect();
    cases.sort();
    cases
}

#[test]
fn semaphore_fires_as_ansible_rulebook_did_on_every_case() {
    let deliberate: Value =
        serde_json::from_str(&std::fs::read_to_string(DELIBERATE).expect("deliberate.json"))
            .expect("deliberate.json is JSON");
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let help = semaphore(&["rules", "import", "--help"]);
    assert!(
        help.status.success(),
        "`semaphore rules import` does not exist yet (issue 14 item 1), and the conformance suite \
         needs it to translate the EDA rulebooks: {}",
        String::from_utf8_lossy(&help.stderr)
    );
    let work = tempfile::tempdir().expect("a scratch dir");
    let (mut identical, mut problems) = (0, Vec::new());
    for case in &cases {
        let name = case
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(case.join("expected.json")).expect("expected.json"),
        )
        .expect("expected.json is JSON");
        let expected = recorded(&expected["firings"]);
        let scratch = work.path().join(&name);
        std::fs::create_dir_all(&scratch).expect("case scratch dir");
        let got = match run_case(case, &scratch) {
            Ok(got) => got,
            Err(why) => {
                problems.push(format!("{name}: {why}"));
                continue;
            }
        };
        match deliberate.get(&name) {
            None if got == expected => identical += 1,
            None => problems.push(format!(
                "{name}: ansible-rulebook fired {expected:?}\n  semaphore fired {got:?}"
            )),
            Some(listed) => {
                let differs_as_listed = recorded(&listed["semaphore"]);
                if got == expected {
                    problems.push(format!(
                        "{name}: now agrees with ansible-rulebook; remove it from deliberate.json"
                    ));
                } else if got != differs_as_listed {
                    problems.push(format!(
                        "{name}: listed as a deliberate difference ({}), but semaphore fired {got:?}, not {differs_as_listed:?}",
                        listed["reason"]
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        identical * 100 >= cases.len() * 95,
        "{identical} of {} cases identical, fewer than 95%",
        cases.len()
    );
}
