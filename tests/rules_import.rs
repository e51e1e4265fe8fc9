//! `semaphore rules import` and EDA rulebooks given to `rules check` and `rules test`, through the real
//! binary. The firings expected from tests/fixtures/eda/conditions.yml were recorded by running that
//! file with the real ansible-rulebook 1.3.2 on tests/fixtures/eda/events.jsonl (`--vars` holding
//! `min_a: 1`, `--env-vars SITE` with `SITE=up`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/eda")
        .join(name)
}

fn semaphore(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_semaphore"));
    command.args(args).env_remove("SITE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("semaphore runs")
}

fn temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("semaphore-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Rule name to the `i` of the events it fired on, from `rules test`'s JSON lines.
fn firings(stdout: &[u8]) -> BTreeMap<String, Vec<i64>> {
    let mut fired: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for line in text(stdout).lines() {
        let firing: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let msg = firing["actions"][0]["args"]["msg"]
            .as_str()
            .expect("debug msg")
            .to_owned();
        let index = msg
            .rsplit(' ')
            .next()
            .and_then(|i| i.parse().ok())
            .expect("index");
        fired
            .entry(firing["rule"].as_str().expect("rule").to_owned())
            .or_default()
            .push(index);
    }
    fired
}

#[test]
fn rules_test_on_an_eda_rulebook_fires_where_ansible_rulebook_fired() {
    let vars = temp("min-a.yml", "min_a: 1\n");
    let book = fixture("conditions.yml");
    let events = fixture("events.jsonl");
    let output = semaphore(
        &[
            "rules",
            "test",
            book.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--format",
            "eda",
            "--vars",
            vars.to_str().unwrap(),
            "--env-vars",
            "SITE",
        ],
        &[("SITE", "up")],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let recorded: &[(&str, &[i64])] = &[
        ("arith", &[0]),
        ("contains-scalar", &[2]),
        ("grouping", &[3]),
        ("missing-ne", &[3, 4]),
        ("negative-index", &[0]),
        ("not-bool", &[2, 3, 4]),
        ("not-in", &[2, 4]),
        ("not-select", &[0, 2, 4]),
        ("not-selectattr", &[0, 4]),
        ("null-defined", &[0, 2]),
        ("quoted-key", &[0]),
        ("regex", &[0, 4]),
        ("select-scalar", &[0]),
        ("vars", &[0]),
        ("wrong-type", &[0, 3, 4]),
    ];
    let expected: BTreeMap<String, Vec<i64>> = recorded
        .iter()
        .map(|(rule, fired)| (rule.to_string(), fired.to_vec()))
        .collect();
    assert_eq!(firings(&output.stdout), expected);
    // The same without --format: detected, since conditions such as `event.a > 0` are EDA, not
    // JMESPath.
    let auto = semaphore(
        &[
            "rules",
            "test",
            book.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--vars",
            vars.to_str().unwrap(),
            "--env-vars",
            "SITE",
        ],
        &[("SITE", "up")],
    );
    assert_eq!(firings(&auto.stdout), expected, "{}", text(&auto.stderr));
}

#[test]
fn import_prints_a_rulebook_that_rules_check_accepts() {
    let book = fixture("conditions.yml");
    let output = semaphore(&["rules", "import", book.to_str().unwrap()], &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let translated = text(&output.stdout);
    assert!(
        translated.contains("      # EDA: event.s != \"up\"\n      condition: |-\n"),
        "{translated}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("warning: source `jsonl` has no semaphore equivalent: dropped"),
        "{stderr}"
    );
    let written = temp("translated.yml", &translated);
    let check = semaphore(
        &[
            "rules",
            "check",
            "--format",
            "semaphore",
            written.to_str().unwrap(),
        ],
        &[],
    );
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("ok (16 rulesets, 16 rules)"),
        "{}",
        text(&check.stdout)
    );

    let out = std::env::temp_dir().join(format!("semaphore-import-o-{}.yml", std::process::id()));
    let to_file = semaphore(
        &[
            "rules",
            "import",
            book.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(to_file.status.success());
    assert!(to_file.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).expect("written"), translated);
}

#[test]
fn a_bad_eda_condition_is_a_located_error_with_the_line_and_a_caret() {
    let book = temp(
        "bad.yml",
        "- name: r\n  hosts: all\n  sources:\n    - ansible.eda.kafka: {topic: t}\n  rules:\n    - name: a\n      condition: event.lossPercent >> 5\n      action:\n        print_event:\n",
    );
    let path = book.display().to_string();
    for args in [
        vec!["rules", "import", &path],
        vec!["rules", "check", &path],
    ] {
        let output = semaphore(&args, &[]);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "{path}:7:37: expected a value, a path or `(`, found `>`\n  |\n7 |       condition: event.lossPercent >> 5\n  |                                     ^\n"
            )),
            "{stderr}"
        );
        assert!(output.stdout.is_empty() || args[1] == "check");
    }
}

#[test]
fn a_semaphore_rulebook_with_an_eda_condition_is_told_the_jmespath() {
    let book = temp(
        "mixed.yml",
        "- name: r\n  vars: {limit: 5}\n  rules:\n    - name: a\n      condition: event.lossPercent > 5 and event.uplink is defined\n      action:\n        print_event:\n",
    );
    let output = semaphore(&["rules", "check", book.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("this is ansible-rulebook syntax: in JMESPath write: event.lossPercent > `5` && has(event, 'uplink')"),
        "{stderr}"
    );
}

#[test]
fn print_events_shows_each_event_and_cli_vars_override_ruleset_vars() {
    let book = temp(
        "ruleset-vars.yml",
        "- name: r\n  vars: {limit: 50, site: lab}\n  rules:\n    - name: a\n      condition: event.loss > vars.limit && event.site == vars.site\n      action:\n        debug:\n          msg: \"{{ vars.limit }} {{ vars.site }}\"\n",
    );
    let events = temp(
        "events.jsonl",
        "{\"loss\": 7, \"site\": \"hq\"}\n{\"loss\": 70, \"site\": \"lab\"}\n",
    );
    let vars = temp("cli-vars.json", "{\"limit\": 5, \"site\": \"branch\"}");
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "rules",
            "test",
            book.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
        ];
        args.extend(extra);
        semaphore(&args, env)
    };
    let plain = run(&[], &[]);
    assert_eq!(
        text(&plain.stdout).lines().count(),
        1,
        "{}",
        text(&plain.stderr)
    );
    assert!(text(&plain.stdout).contains("\"msg\":\"50 lab\""));
    // --vars wins over the ruleset's vars, --env-vars over --vars.
    let cli = run(
        &[
            "--vars",
            vars.to_str().unwrap(),
            "--env-vars",
            "site",
            "--print-events",
        ],
        &[("site", "hq")],
    );
    let stdout = text(&cli.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"msg\":\"5 hq\""), "{stdout}");
    let stderr = text(&cli.stderr);
    assert!(
        stderr.contains(
            "event 1: {\"loss\":7,\"site\":\"hq\"}\nevent 2: {\"loss\":70,\"site\":\"lab\"}\n"
        ),
        "{stderr}"
    );
    let unset = run(&["--env-vars", "NOT_SET_ANYWHERE"], &[]);
    assert_eq!(unset.status.code(), Some(1));
    assert!(
        text(&unset.stderr)
            .contains("--env-vars: the environment variable NOT_SET_ANYWHERE is not set"),
        "{}",
        text(&unset.stderr)
    );
}

#[test]
fn the_documented_meraki_example_fires_as_ansible_rulebook_did() {
    // ansible-rulebook 1.3.2 on the same events (its Kafka source swapped for a file replay, the
    // playbook for a debug): high loss Q2XX-0001 wan1; down and high loss for Q2XX-0002 wan1, then
    // wan2. The second high-loss event of Q2XX-0001 is throttled; cellular and a record without
    // lossPercent do not match.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/eda");
    let arg = |name: &str| root.join(name).display().to_string();
    let output = semaphore(
        &[
            "rules",
            "test",
            &arg("uplink-loss.eda.yml"),
            "--vars",
            &arg("uplink-loss.vars.yml"),
            "--events",
            &arg("uplink-loss.events.jsonl"),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let fired: Vec<(u64, String)> = text(&output.stdout)
        .lines()
        .map(|line| {
            let firing: serde_json::Value = serde_json::from_str(line).expect("JSON");
            (
                firing["line"].as_u64().expect("line"),
                firing["rule"].as_str().expect("rule").to_owned(),
            )
        })
        .collect();
    let high = "High loss on a WAN uplink".to_owned();
    let down = "Uplink down".to_owned();
    assert_eq!(
        fired,
        [
            (2, high.clone()),
            (6, down.clone()),
            (6, high.clone()),
            (7, down),
            (7, high)
        ]
    );
    assert!(
        text(&output.stderr).contains("throttled: 1"),
        "{}",
        text(&output.stderr)
    );
}
