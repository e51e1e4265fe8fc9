//! The rendered error messages of `rules check`, as the user sees them: every error of a file at
//! once, each at FILE:LINE:COL with the source line and a caret.

use std::process::Command;

fn errors(source: &str) -> String {
    semaphore::rulebook::compile("book.yml", source)
        .expect_err("the rulebook should be rejected")
        .to_string()
}

const VALID_RULE: &str =
    "      condition: event.lossPercent > `5`\n      action:\n        debug:\n";

#[test]
fn every_error_of_a_file_is_reported_with_line_column_and_caret() {
    let source = format!(
        "- name: one\n  rules:\n    - name: typo\n      condtion: event.x\n      action:\n        debug:\n    - name: bad jmespath\n      condition: event.x >\n      action:\n        debug:\n    - name: bad action\n      condition: event.x\n      action:\n        webhok:\n          url: http://x\n    - name: fine\n{VALID_RULE}"
    );
    assert_eq!(
        errors(&source),
        "book.yml:4:7: unknown key `condtion`, did you mean `condition`?\n  |\n4 |       condtion: event.x\n  |       ^^^^^^^^\n\
         \nbook.yml:8:27: invalid JMESPath: Unexpected nud token -- found Eof\n  |\n8 |       condition: event.x >\n  |                           ^\n\
         \nbook.yml:14:9: unknown action `webhok`, did you mean `webhook`?\n   |\n14 |         webhok:\n   |         ^^^^^^\n"
    );
}

#[test]
fn double_quoted_strings_in_conditions_are_caught() {
    let source = "- name: rs\n  rules:\n    - name: r\n      condition: event.status == \"down\"\n      action:\n        debug:\n";
    assert_eq!(
        errors(source),
        "book.yml:4:34: `down` is not part of the document (event, events, meta, vars, facts); for the string, write 'down' in single quotes\n  |\n4 |       condition: event.status == \"down\"\n  |                                  ^\n"
    );
}

#[test]
fn unknown_functions_and_bad_literals_fail_at_load() {
    let source = "- name: rs\n  rules:\n    - name: r\n      condition: \"regex_serch(event.os, 'x')\"\n      action:\n        debug:\n    - name: s\n      condition: \"cidr_contains('10.0.0.0/33', event.ip)\"\n      action:\n        debug:\n";
    let text = errors(source);
    assert!(
        text.contains(
            "book.yml:4:19: unknown function `regex_serch()`, did you mean `regex_search()`?"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "book.yml:8:33: cidr_contains: argument 0 expects CIDR network, given \"10.0.0.0/33\""
        ),
        "{text}"
    );
}

#[test]
fn yaml_syntax_and_duplicate_keys_are_located() {
    let text = errors("- name: a\n  name: b\n  rules: []\n");
    assert!(text.starts_with("book.yml:2:"), "{text}");
    assert!(text.to_lowercase().contains("duplicate"), "{text}");
}

#[test]
fn structural_mistakes_have_clear_messages() {
    let source = "- name: rs\n  rules:\n    - name: no action\n      condition: event.x\n    - name: two kinds\n      condition:\n        all: [event.a]\n        any: [event.b]\n      action: {debug: {}}\n    - name: throttle\n      condition: event.x\n      throttle:\n        once_within: 10 fortnights\n      action: {debug: {}}\n";
    let text = errors(source);
    assert!(
        text.contains("book.yml:3:13: a rule needs `action` or `actions`"),
        "{text}"
    );
    assert!(
        text.contains(
            "book.yml:7:9: a condition mapping has exactly one of `all`, `any`, `not_all`"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "book.yml:13:22: invalid duration `10 fortnights`: unknown unit `fortnights`"
        ),
        "{text}"
    );
}

#[test]
fn check_exits_1_on_errors_0_when_valid_and_2_on_usage() {
    let dir = std::env::temp_dir().join(format!("semaphore-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.yml");
    let bad = dir.join("bad.yml");
    std::fs::write(
        &good,
        format!("- name: rs\n  rules:\n    - name: r\n{VALID_RULE}"),
    )
    .unwrap();
    std::fs::write(&bad, "- name: rs\n  rulez: []\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_semaphore");
    let run = |args: &[&std::path::Path]| {
        Command::new(bin)
            .arg("rules")
            .arg("check")
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&[&good]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok (1 rulesets, 1 rules)"));
    let failed = run(&[&good, &bad]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("bad.yml:2:3: unknown key `rulez`, did you mean `rules`?"),
        "{stderr}"
    );
    let usage = Command::new(bin).args(["rules", "check"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
