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

/// A rulebook whose one rule has `condition`, for the message of its first error.
fn condition_error(condition: &str) -> String {
    let source = format!(
        "- name: rs\n  rules:\n    - name: r\n      condition: \"{condition}\"\n      action:\n        debug:\n"
    );
    errors(&source)
}

#[test]
fn hints_say_how_to_write_literals_and_where_env_lives() {
    for (condition, hint) in [
        (
            "event.up == false",
            "`false` is not part of the document (event, events, meta, vars, facts); JMESPath writes the literal false in backticks: `false`",
        ),
        (
            "event.up == true",
            "JMESPath writes the literal true in backticks: `true`",
        ),
        (
            "event.ip == null",
            "JMESPath writes the literal null in backticks: `null`",
        ),
        (
            "event.up == True",
            "JMESPath writes the literal true in lowercase and backticks: `true`",
        ),
        (
            "event.ip == None",
            "JMESPath writes the literal null in lowercase and backticks: `null`",
        ),
        (
            "event.lossPercent > 5",
            "invalid JMESPath: Unexpected nud token -- found Number(5); a number is a JMESPath literal: write `5` in backticks",
        ),
        (
            "event.site == env.SITE",
            "`env` is not part of the document (event, events, meta, vars, facts); environment variables are not visible in conditions",
        ),
        (
            "event.status == down",
            "for the string, write 'down' in single quotes",
        ),
    ] {
        let text = condition_error(condition);
        assert!(text.contains(hint), "{condition}: {text}");
    }
}

#[test]
fn a_silence_on_meta_is_told_that_silences_match_the_firing() {
    let err = semaphore::condition::Expr::compile_for(
        "meta.topic == 'x'",
        semaphore::rulebook::FIRING_ROOTS,
    )
    .expect_err("meta is not part of a firing");
    assert!(
        err.to_string().ends_with(
            "a silence or inhibition matches the firing, not the record's meta: match on `event`, `ruleset`, `rule` or `status`"
        ),
        "{err}"
    );
}

#[test]
fn deep_or_huge_input_is_a_located_error_not_a_crash() {
    let ors = vec!["event.a"; 14_000].join(" || ");
    let parens = format!("{}event.a{}", "(".repeat(50_000), ")".repeat(50_000));
    let nots = format!("{}event.a", "!".repeat(20_000));
    let source = format!(
        "- name: rs\n  rules:\n    - name: ors\n      condition: \"{ors}\"\n      action:\n        debug:\n    - name: parens\n      condition: \"{parens}\"\n      action:\n        debug:\n    - name: nots\n      condition: \"{nots}\"\n      throttle: {{once_within: 1 minute, group_by: [\"{parens}\"]}}\n      action:\n        debug:\n          msg: \"{{{{ {} x {} }}}}\"\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let path = std::env::temp_dir().join(format!("semaphore-deep-{}.yml", std::process::id()));
    std::fs::write(&path, &source).unwrap();
    // A real process: a stack overflow would abort it instead of exiting 1.
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(["rules", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = path.display().to_string();
    let operators = "the expression has more than 128 operators";
    let brackets = "the expression nests brackets more than 32 deep";
    for expected in [
        format!("{file}:4:490: {operators}"),
        format!("{file}:8:51: {brackets}"),
        format!("{file}:12:147: {operators}"),
        format!("{file}:13:85: {brackets}"),
        format!("{file}: 5 errors"),
    ] {
        assert!(
            stderr.lines().any(|line| line.starts_with(&expected)),
            "{expected}: {}",
            &stderr[..stderr.len().min(2_000)]
        );
    }
    // The template's error points into the string, where minijinja gave up.
    let template_error =
        "invalid template: syntax error: template exceeds maximum recursion limits";
    assert!(
        stderr.lines().any(|line| {
            line.strip_prefix(&format!("{file}:16:"))
                .and_then(|rest| rest.split_once(": "))
                .is_some_and(|(col, message)| {
                    col.parse::<u32>().is_ok_and(|col| col > 16) && message == template_error
                })
        }),
        "{}",
        &stderr[..stderr.len().min(2_000)]
    );
    // A silences file with a matcher past the limit is refused, located, like any invalid one.
    let matcher = vec!["rule == 'x'"; 4_000].join(" || ");
    let silences = format!("- id: a\n  matcher: \"{matcher}\"\n  ends_at: 2030-01-01T00:00:00Z\n");
    let err = semaphore::suppress::file::parse("silences.yml", &silences)
        .expect_err("too long a matcher")
        .to_string();
    assert!(
        err.contains("silences.yml:2:"),
        "{}",
        &err[..err.len().min(500)]
    );
    assert!(
        err.contains("more than 128 operators"),
        "{}",
        &err[..err.len().min(500)]
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
            "book.yml:8:33: `cidr_contains()` expects CIDR network as its first argument, given \"10.0.0.0/33\": cidr_contains(string, string)"
        ),
        "{text}"
    );
}

#[test]
fn calls_are_held_to_their_signature_at_load() {
    let source = "- name: rs\n  rules:\n    - name: arity\n      condition: event.up && contains(event.tags)\n      action:\n        debug:\n    - name: literal\n      condition: length(`5`) > `1`\n      action:\n        debug:\n    - name: expref\n      condition: sort_by(event.items, name)[0].up\n      action:\n        debug:\n";
    assert_eq!(
        errors(source),
        "book.yml:4:30: `contains()` takes 2 arguments, given 1: contains(array|string, any)\n  |\n4 |       condition: event.up && contains(event.tags)\n  |                              ^\n\
         \nbook.yml:8:25: `length()` expects array|object|string as its first argument, given number `5`: length(array|object|string)\n  |\n8 |       condition: length(`5`) > `1`\n  |                         ^\n\
         \nbook.yml:12:39: `sort_by()` expects &expression as its second argument, given `name`, which is a value; write `&name`: sort_by(array, &expression)\n   |\n12 |       condition: sort_by(event.items, name)[0].up\n   |                                       ^\n"
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

fn window_rule(name: &str, body: &str) -> String {
    format!(
        "    - name: {name}\n      condition: event.x != `null`\n{body}      action: {{debug: {{}}}}\n"
    )
}

#[test]
fn window_blocks_are_checked_at_load_with_positions() {
    let source = String::from("- name: rs\n  rules:\n")
        + &window_rule(
            "typo",
            "      window:\n        group_by: [event.serial]\n        sise: 5 minutes\n",
        )
        + &window_rule(
            "duration",
            "      window:\n        size: 5 fortnights\n        fire_when: window.count > `1`\n",
        )
        + &window_rule(
            "field",
            "      window:\n        size: 5 minutes\n        value: event.x\n        fire_when: window.averge > `1`\n",
        )
        + &window_rule(
            "conflict",
            "      window:\n        absent_for: 5 minutes\n        change: event.status\n",
        );
    assert_eq!(
        errors(&source),
        "book.yml:7:9: unknown key `sise`, did you mean `size`?\n  |\n7 |         sise: 5 minutes\n  |         ^^^^\n\
         \nbook.yml:12:15: invalid duration `5 fortnights`: unknown unit `fortnights`; use ms, s, m, h, d or milliseconds, seconds, minutes, hours, days\n   |\n12 |         size: 5 fortnights\n   |               ^\n\
         \nbook.yml:20:27: this window has no `averge`; it has count, sum, avg, min, max, p50, p90, p95, p99, first_ms, last_ms\n   |\n20 |         fire_when: window.averge > `1`\n   |                           ^\n\
         \nbook.yml:25:9: a window has one of `absent_for`, `change`, `spike`, found `absent_for`, `change`\n   |\n25 |         absent_for: 5 minutes\n   |         ^\n"
    );
}

#[test]
fn window_forms_reject_keys_they_do_not_use() {
    let source = String::from("- name: rs\n  rules:\n")
        + &window_rule("no window", "      resolve_when: window.avg < `1`\n")
        + &window_rule(
            "absence size",
            "      window:\n        absent_for: 5 minutes\n        size: 1 minute\n",
        )
        + &window_rule(
            "spike",
            "      window:\n        size: 5 minutes\n        spike: {factor: 0.5}\n",
        )
        + &window_rule(
            "change field",
            "      window:\n        size: 5 minutes\n        fire_when: window.previous == 'up'\n",
        )
        + &window_rule("no fire_when", "      window:\n        size: 5 minutes\n")
        + &window_rule(
            "absence resolve",
            "      window:\n        absent_for: 5 minutes\n      resolve_when: window.count > `0`\n",
        )
        + &window_rule(
            "throttle",
            "      window:\n        change: event.s\n      throttle:\n        once_after: 1 minute\n",
        )
        + &window_rule(
            "avg without value",
            "      window:\n        size: 1 minute\n        fire_when: window.avg > `1`\n",
        );
    let text = errors(&source);
    for expected in [
        "book.yml:5:21: `resolve_when` needs a `window` on the rule",
        "book.yml:10:9: `absent_for` takes no `size`: it fires when a key gets no event at all",
        "book.yml:17:25: `factor` must be a number above 1, found 0.5",
        "book.yml:23:27: this window has no `previous`",
        "book.yml:28:9: a window with `size` needs `fire_when` (e.g. window.count >= `5`), or `spike`",
        "book.yml:34:21: an `absent_for` window resolves when the key reports again; it takes no `resolve_when`",
        "book.yml:41:9: with a `window`, `throttle` takes only `once_within` (the window's `group_by` applies)",
        "book.yml:47:27: this window has no `avg`; it has count, first_ms, last_ms",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(text.matches("book.yml:").count(), 8, "{text}");
}

#[test]
fn template_names_that_cannot_exist_are_errors_at_the_name() {
    let source = "- name: rs\n  vars: {loss_pct: 5}\n  rules:\n    - name: r\n      condition: event.x\n      action:\n        debug:\n          msg: \"loss {{ event.lossPercnt | rond }} on {{ evnt.serial }} over {{ vars.loss_pc }}\"\n";
    assert_eq!(
        errors(source),
        "book.yml:8:44: invalid template: there is no filter `rond`\n  |\n8 |           msg: \"loss {{ event.lossPercnt | rond }} on {{ evnt.serial }} over {{ vars.loss_pc }}\"\n  |                                            ^^^^\n\
         \nbook.yml:8:58: invalid template: `evnt` is not defined in templates (did you mean `event`?); they can use event, events, meta, vars, facts, rule, ruleset, idempotency_key, env, status, resolved, window\n  |\n8 |           msg: \"loss {{ event.lossPercnt | rond }} on {{ evnt.serial }} over {{ vars.loss_pc }}\"\n  |                                                          ^^^^\n\
         \nbook.yml:8:81: invalid template: `vars.loss_pc` is not a var of this ruleset (did you mean `vars.loss_pct`?); it has loss_pct\n  |\n8 |           msg: \"loss {{ event.lossPercnt | rond }} on {{ evnt.serial }} over {{ vars.loss_pc }}\"\n  |                                                                                 ^^^^^^^^^^^^\n"
    );
}

#[test]
fn rules_run_refuses_to_start_when_a_template_reads_an_unset_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args([
            "rules",
            "run",
            "rulebooks/high-loss.yml",
            "--bootstrap-servers",
            "127.0.0.1:9",
        ])
        .env_remove("SEMAPHORE_CHAT_WEBHOOK_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        "rulebooks/high-loss.yml:22:18: environment variable `SEMAPHORE_CHAT_WEBHOOK_URL` is not set; a template reads it"
    );
}

#[test]
fn every_wrong_key_of_an_action_is_reported_in_one_run() {
    let source = "- name: rs\n  rules:\n    - name: r\n      condition: event.x\n      action:\n        webhook:\n          url: http://127.0.0.1:1/\n          methd: POST\n          bdy: {}\n          retry: {attempts: 3, backof: 1s}\n";
    let rendered = errors(source);
    let located: Vec<&str> = rendered
        .lines()
        .filter(|line| line.starts_with("book.yml:"))
        .collect();
    assert_eq!(
        located,
        [
            "book.yml:8:11: unknown key `methd`, did you mean `method`?",
            "book.yml:9:11: unknown key `bdy`, did you mean `body`?",
            "book.yml:10:32: unknown key `backof`, did you mean `backoff`?",
        ],
        "{rendered}"
    );
}

#[test]
fn every_wrong_key_of_a_silence_is_reported_in_one_run() {
    let silences = "- id: a\n  matchr: \"rule == 'x'\"\n  ends_at: 2030-01-01T00:00:00Z\n  commnt: x\n- id: b\n  matcher: \"rule == 'x'\"\n  ends_att: 2030-01-01T00:00:00Z\n";
    let err = semaphore::suppress::file::parse("silences.yml", silences)
        .expect_err("invalid")
        .to_string();
    let located: Vec<&str> = err
        .lines()
        .filter(|line| line.starts_with("silences.yml:"))
        .collect();
    assert_eq!(
        located,
        [
            "silences.yml:2:3: unknown key `matchr`, did you mean `matcher`?",
            "silences.yml:4:3: unknown key `commnt`, did you mean `comment`?",
            "silences.yml:7:3: unknown key `ends_att`, did you mean `ends_at`?",
        ],
        "{err}"
    );
}

#[test]
fn yaml_limits_are_said_in_the_users_words() {
    let many = format!(
        "- name: rs\n  vars:\n    big: [{}]\n  rules: []\n",
        vec!["1"; 260_000].join(",")
    );
    let err = errors(&many);
    assert!(
        err.starts_with("book.yml:3:")
            && err.contains(": the YAML holds more than 250,000 values (lists, mappings and scalars, each use of an alias counted again)"),
        "{}",
        &err[..err.len().min(300)]
    );
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let previous = if i == 1 {
            "a".to_owned()
        } else {
            format!("b{}", i - 1)
        };
        laughs.push_str(&format!(
            "b{i}: &b{i} [{}]\n",
            vec![format!("*{previous}"); 9].join(", ")
        ));
    }
    let err = errors(&laughs);
    assert!(
        !err.contains("budget") && err.contains("more than 250,000 values"),
        "{}",
        &err[..err.len().min(300)]
    );
}

/// One rule per warning, and a var that looks like a template.
const WARNED: &str = "- name: rs\n  vars:\n    loss_pct: \"5\"\n    site: \"{{ env.SITE }}\"\n  rules:\n    - name: quoted\n      condition: event.uplinks[?status == \"down\"]\n      action:\n        debug:\n    - name: string var\n      condition: event.loss > vars.loss_pct\n      action:\n        debug:\n    - name: string literal\n      condition: event.loss >= '5'\n      action:\n        debug:\n    - name: negated\n      condition: \"!event.up\"\n      action:\n        debug:\n";

#[test]
fn warnings_are_located_and_say_the_fix() {
    let book = semaphore::rulebook::compile("book.yml", WARNED).expect("valid, with warnings");
    assert_eq!(
        book.warnings.to_string(),
        "book.yml:4:11: warning: `vars.site` looks like a template, but vars are not rendered: conditions and actions see the text \"{{ env.SITE }}\"; write the value itself (in an action argument the template works as it is)\n  |\n4 |     site: \"{{ env.SITE }}\"\n  |           ^\n\
         \nbook.yml:7:43: warning: \"down\" in double quotes is the field `down` of each element, not a string; for the string, write 'down'\n  |\n7 |       condition: event.uplinks[?status == \"down\"]\n  |                                           ^\n\
         \nbook.yml:11:31: warning: `vars.loss_pct` is the string \"5\": `>` compares numbers only, so this is never true; write `loss_pct: 5` in vars, without quotes\n   |\n11 |       condition: event.loss > vars.loss_pct\n   |                               ^\n\
         \nbook.yml:15:32: warning: '5' is a string: `>=` compares numbers only, so this is never true; write the number as `5`\n   |\n15 |       condition: event.loss >= '5'\n   |                                ^\n\
         \nbook.yml:19:19: warning: `!` applies to `event` alone: this reads `(!event).up`, which is never true; write `!(event.up)`\n   |\n19 |       condition: \"!event.up\"\n   |                   ^\n"
    );
    // The fixed rulebook has none.
    let fixed = WARNED
        .replace("\"5\"", "5")
        .replace("\"{{ env.SITE }}\"", "hq")
        .replace("\"down\"", "'down'")
        .replace("'5'", "`5`")
        .replace("\"!event.up\"", "\"!(event.up)\"");
    let book = semaphore::rulebook::compile("book.yml", &fixed).expect("valid");
    assert_eq!(book.warnings.to_string(), "");
}

/// `semaphore rules check` (with `extra` flags) on a file holding `source`.
fn check_file(name: &str, source: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, source).expect("the rulebook is written");
    Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .current_dir(dir.path())
        .args(["rules", "check"])
        .args(extra)
        .arg(name)
        .output()
        .expect("semaphore runs")
}

#[test]
fn check_prints_warnings_and_passes_unless_strict() {
    let output = check_file("book.yml", WARNED, &[]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, "book.yml: ok (1 rulesets, 4 rules), 5 warnings\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let located: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("book.yml:"))
        .collect();
    assert_eq!(located.len(), 5, "{stderr}");
    assert!(located[0].starts_with("book.yml:4:11: warning: `vars.site` looks like a template"));

    let strict = check_file("book.yml", WARNED, &["--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&strict.stdout), "");
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(
        stderr.contains("book.yml:19:19: warning: `!` applies to `event` alone"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("book.yml: 5 warnings, errors with --strict\n"),
        "{stderr}"
    );

    let clean = format!("- name: rs\n  rules:\n    - name: r\n{VALID_RULE}");
    let strict_clean = check_file("clean.yml", &clean, &["--strict"]);
    assert_eq!(strict_clean.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&strict_clean.stdout),
        "clean.yml: ok (1 rulesets, 1 rules)\n"
    );
    assert_eq!(String::from_utf8_lossy(&strict_clean.stderr), "");
}

#[test]
fn an_invalid_rulebook_shows_its_warnings_among_its_errors() {
    let source = WARNED.replace("event.loss >= '5'", "event.loss >=");
    let output = check_file("book.yml", &source, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let located: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("book.yml:") && !l.starts_with("book.yml: "))
        .collect();
    assert_eq!(located.len(), 5, "{stderr}");
    assert!(
        located[3].starts_with("book.yml:15:31: invalid JMESPath"),
        "{stderr}"
    );
    assert!(
        located[4].starts_with("book.yml:19:19: warning:"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("book.yml: 1 error, 4 warnings\n"),
        "{stderr}"
    );
}

#[test]
fn rules_run_logs_each_warning_on_one_line_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.yml");
    std::fs::write(&path, WARNED).unwrap();
    // No broker: the warnings are logged before it connects, then it gives up after a second.
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .args([
            "rules",
            "run",
            "book.yml",
            "--bootstrap-servers",
            "127.0.0.1:1",
        ])
        .args(["--connect-timeout", "1", "--no-state-topic"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "book.yml:4:11: warning: `vars.site` looks like a template",
        "book.yml:7:43: warning: \"down\" in double quotes",
        "book.yml:11:31: warning: `vars.loss_pct` is the string \"5\"",
        "book.yml:15:32: warning: '5' is a string",
        "book.yml:19:19: warning: `!` applies to `event` alone",
    ] {
        let line = stderr.lines().find(|line| line.contains(expected));
        let line = line.unwrap_or_else(|| panic!("no {expected:?} in:\n{stderr}"));
        assert!(line.contains("WARN"), "{line}");
    }
    // One line each: no source lines or carets in the log.
    assert!(!stderr.contains(" | "), "{stderr}");
}
