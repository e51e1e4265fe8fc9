//! Whole EDA rulebooks translated: the text compiles with semaphore's loader, keeps each condition's
//! original as a comment, maps sources, throttles and actions, and locates what it cannot translate.

use super::{Options, translate};

pub(super) const UPLINK: &str = r#"
- name: Uplink loss
  hosts: all
  sources:
    - name: meraki
      ansible.eda.kafka:
        host: kafka.example.net
        port: 9092
        topic: meraki.uplinks.loss-latency
        group_id: eda-uplinks
        offset: latest
        security_protocol: SASL_SSL
      filters:
        - eda.builtin.insert_hosts_to_meta:
            host_path: serial
    - ansible.eda.range:
        limit: 5
  rules:
    - name: High loss
      condition: event.lossPercent > 5 and event.uplink in ["wan1", "wan2"]
      throttle:
        once_within: 10 minutes
        group_by_attributes:
          - event.serial
          - event.uplink
      action:
        run_playbook:
          name: playbooks/bounce.yml
          extra_vars:
            serial: "{{ event.serial }}"
          json_mode: true
    - name: Both uplinks down
      condition:
        all:
          - events.first << event.lossPercent == 100
          - event.lossPercent == 100 and event.serial == events.first.serial
        timeout: 2 minutes
      actions:
        - debug:
            msg: "{{ events.m_0.serial }} is offline"
        - print_event:
            pretty: true
"#;

#[test]
fn an_eda_rulebook_becomes_a_semaphore_rulebook_that_compiles() {
    let translation = translate("eda.yml", UPLINK, &Options::default()).expect("translates");
    let text = &translation.text;
    let book = crate::rulebook::compile("out.yml", text).unwrap_or_else(|d| panic!("{d}\n{text}"));
    assert_eq!(book.rulesets.len(), 1);
    assert_eq!(book.rulesets[0].rules.len(), 2);
    assert!(
        text.contains("# EDA: event.lossPercent > 5 and event.uplink in [\"wan1\", \"wan2\"]\n"),
        "{text}"
    );
    assert!(
        text.contains("event.lossPercent > `5` && contains(`[\"wan1\",\"wan2\"]`, event.uplink)"),
        "{text}"
    );
    assert!(text.contains("event.serial == events.m_0.serial"), "{text}");
    assert!(
        text.contains("group_by:\n          - event.serial\n          - event.uplink"),
        "{text}"
    );
    assert!(
        text.contains("topic: meraki.uplinks.loss-latency"),
        "{text}"
    );
    assert!(!text.contains("json_mode"), "{text}");
    let warnings: Vec<String> = translation.warnings.lines().collect();
    assert_eq!(
        warnings,
        [
            "eda.yml:7:9: warning: `host` is a connection setting in semaphore: pass --bootstrap-servers HOST:PORT to `rules run`",
            "eda.yml:8:9: warning: `port` is a connection setting in semaphore: pass --bootstrap-servers HOST:PORT to `rules run`",
            "eda.yml:12:9: warning: `security_protocol` is a connection setting in semaphore: pass -X security.protocol=VALUE (--api-key/--api-secret set SASL_SSL) to `rules run`",
            "eda.yml:14:9: warning: source filters are not supported: dropped (semaphore reads each Kafka record as one JSON event)",
            "eda.yml:16:7: warning: source `ansible.eda.range` has no semaphore equivalent: dropped (semaphore reads Kafka; `rules test --events FILE` replays events)",
            "eda.yml:31:11: warning: `json_mode` of run_playbook is not supported: dropped (ansible-playbook's own output is kept)",
        ]
    );
}

#[test]
fn untranslatable_parts_are_located_errors_with_the_source_line() {
    let source = "- name: r\n  hosts: all\n  sources: []\n  rules:\n    - name: a\n      condition: event.x is foo\n      action:\n        run_module:\n          name: ansible.builtin.ping\n";
    let err = translate("bad.yml", source, &Options::default()).expect_err("invalid");
    let rendered = err.to_string();
    assert!(
        rendered.contains("bad.yml:6:29: expected `defined`, `match`, `search`, `regex`, `select` or `selectattr` after `is`, found `foo`\n  |\n6 |       condition: event.x is foo\n  |                             ^\n"),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "bad.yml:8:9: run_module is not supported: put the module in a one-task playbook"
        ),
        "{rendered}"
    );
}

#[test]
fn unknown_keys_get_a_suggestion() {
    let source = "- name: r\n  hosts: all\n  sources: []\n  rules:\n    - name: a\n      condtion: event.x == 1\n      action:\n        none:\n";
    let err = translate("k.yml", source, &Options::default()).expect_err("invalid");
    let lines: Vec<String> = err.lines().collect();
    assert!(
        lines.contains(
            &"k.yml:6:7: unknown rule key `condtion`, did you mean `condition`?".to_owned()
        ),
        "{lines:?}"
    );
}

#[test]
fn eda_rulebooks_are_told_from_semaphore_ones() {
    assert!(super::looks_like_eda(UPLINK));
    let by_condition = "- name: r\n  hosts: all\n  sources: []\n  rules:\n    - name: a\n      condition: event.x > 5\n      action: {none: {}}\n";
    assert!(super::looks_like_eda(by_condition));
    let no_hosts = by_condition.replace("  hosts: all\n", "");
    assert!(!super::looks_like_eda(&no_hosts));
    let semaphore = "- name: r\n  hosts: all\n  sources:\n    - kafka: {topic: t}\n  rules:\n    - name: a\n      condition: event.x > `5`\n      action: {none: {}}\n";
    assert!(!super::looks_like_eda(semaphore));
    let mixed = "- name: r\n  vars: {limit: 5}\n  rules:\n    - name: a\n      condition: event.x > 5\n      action: {none: {}}\n";
    assert!(!super::looks_like_eda(mixed));
    let err = crate::rulebook::compile("m.yml", mixed).expect_err("not JMESPath");
    assert!(
        err.to_string()
            .contains("this is ansible-rulebook syntax: in JMESPath write: event.x > `5`"),
        "{err}"
    );
}

#[test]
fn select_values_from_vars_are_inlined_when_known() {
    let source = "- name: r\n  hosts: all\n  sources: []\n  rules:\n    - name: a\n      condition: event.ports is select('>', vars.min)\n      action:\n        none:\n";
    assert!(translate("v.yml", source, &Options::default()).is_err());
    let vars = serde_json::json!({"min": 1024}).as_object().cloned();
    let translation = translate("v.yml", source, &Options { vars }).expect("translates");
    assert!(
        translation
            .text
            .contains("to_array(event.ports)[?@ > `1024`] != `[]`"),
        "{}",
        translation.text
    );
    // Known vars also give their type, so comparisons need no string fallback.
    let source = source.replace(
        "event.ports is select('>', vars.min)",
        "event.port > vars.min",
    );
    let vars = serde_json::json!({"min": 1024}).as_object().cloned();
    let translation = translate("v.yml", &source, &Options { vars }).expect("translates");
    assert!(
        translation
            .text
            .contains("\n        event.port > vars.min\n"),
        "{}",
        translation.text
    );
}

#[test]
fn vars_not_given_and_templates_in_strings_are_warned_about() {
    let source = "- name: r\n  hosts: all\n  sources: []\n  rules:\n    - name: a\n      condition: event.x > vars.limit and event.site == \"{{ site }}\"\n      action:\n        none:\n";
    let vars = serde_json::json!({"other": 1}).as_object().cloned();
    let translation = translate("w.yml", source, &Options { vars }).expect("translates");
    let lines: Vec<String> = translation.warnings.lines().collect();
    assert_eq!(
        lines,
        [
            "w.yml:6:28: warning: `vars.limit` is not given (--vars, --env-vars): ansible-rulebook refuses to load without it; here it is missing, so the test is false",
            "w.yml:6:57: warning: EDA renders `{{ }}` in condition strings with the vars; semaphore compares the text as written: compare with `vars.NAME` instead",
        ]
    );
    // Without any vars (rules import), references stay references, silently.
    let imported = translate(
        "w.yml",
        &source.replace(" and event.site == \"{{ site }}\"", ""),
        &Options::default(),
    )
    .expect("translates");
    assert!(imported.warnings.items.is_empty());
}

#[test]
fn every_shared_action_and_multi_condition_translates_and_compiles() {
    let source = r#"- name: all actions
  hosts: [web, db]
  execution_strategy: parallel
  default_events_ttl: 30 minutes
  sources:
    - ansible.eda.kafka:
        topics: [a, b]
        group_id: g
        offset: earliest
  rules:
    - name: any
      condition:
        any:
          - event.kind == "a"
          - event.kind == "b"
      actions:
        - run_playbook: {name: p.yml, extra_vars: {x: 1}, verbosity: 2, retries: 1, delay: 5, lock: "{{ event.host }}"}
        - run_job_template: {name: jt, organization: Default, job_args: {limit: all}, include_events: false}
        - run_workflow_template: {name: wt, organization: Default}
        - debug: {msg: "hello {{ event.kind }}"}
        - debug:
        - print_event: {pretty: true, var_root: kind}
        - set_fact: {fact: {seen: true}}
        - retract_fact: {fact: {seen: true}, partial: false}
        - post_event: {event: {kind: c}}
        - shutdown: {delay: 5, message: bye, kind: graceful}
        - none:
    - name: heartbeat
      enabled: false
      condition:
        not_all:
          - event.kind == "ping"
          - event.kind == "pong"
        timeout: 1 minute
      action:
        none:
    - name: flapping
      condition: event.kind == "down"
      throttle:
        accumulate_within: 5 minutes
        threshold: 3
        group_by_attributes: [event.host]
      action:
        none:
"#;
    let translation = translate("a.yml", source, &Options::default()).expect("translates");
    assert!(
        translation.warnings.items.is_empty(),
        "{}",
        translation.warnings
    );
    let book = crate::rulebook::compile("a.yml", &translation.text)
        .unwrap_or_else(|d| panic!("{d}\n{}", translation.text));
    let ruleset = &book.rulesets[0];
    assert_eq!(ruleset.hosts, ["web", "db"]);
    assert_eq!(ruleset.rules[0].actions.len(), 11);
    assert!(
        translation
            .text
            .contains("topics:\n          - a\n          - b"),
        "{}",
        translation.text
    );
    assert!(
        translation.text.contains("      not_all:\n"),
        "{}",
        translation.text
    );
    assert!(
        translation.text.contains("threshold: 3"),
        "{}",
        translation.text
    );
    let throttled_all = source.replace("        timeout: 1 minute\n", "        timeout: 1 minute\n      throttle: {once_within: 1 minute, group_by_attributes: [event.host]}\n");
    let err = translate("a.yml", &throttled_all, &Options::default()).expect_err("refused");
    let lines: Vec<String> = err.lines().collect();
    assert_eq!(
        lines,
        ["a.yml:35:17: `throttle` works only with a single condition, as in ansible-rulebook"]
    );
}
