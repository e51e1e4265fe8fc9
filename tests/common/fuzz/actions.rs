//! Generated actions: every kind of docs/actions.md with templated arguments, timeouts and
//! retries, and (with [`Rng::mischief`]) unknown kinds, wrong presets and wrong values.

use super::Rng;
use super::grammar::{duration, template};
use super::yaml::Yaml;

fn templated(rng: &mut Rng) -> Yaml {
    Yaml::quoted(template(rng))
}

/// One action: `{kind: arguments}`.
pub fn action(rng: &mut Rng) -> Yaml {
    let (kind, args) = match rng.below(13) {
        0 | 1 => ("webhook", webhook(rng)),
        2 => ("command", command(rng)),
        3 => {
            let args = vec![
                ("topic", Yaml::plain("out")),
                ("key", templated(rng)),
                ("value", templated(rng)),
            ];
            ("publish", Yaml::map(args))
        }
        4 => {
            let extra = Yaml::map(vec![("x", templated(rng))]);
            let verbosity = Yaml::plain(*rng.choose(&["0", "4"], &["5", "-1"]));
            let args = vec![
                ("name", Yaml::plain("p.yml")),
                ("extra_vars", extra),
                ("verbosity", verbosity),
            ];
            ("run_playbook", Yaml::map(args))
        }
        5 => {
            let job_args = Yaml::map(vec![("extra_vars", Yaml::map(vec![("x", templated(rng))]))]);
            let args = vec![
                ("name", templated(rng)),
                ("organization", Yaml::plain("Default")),
                ("job_args", job_args),
            ];
            (
                *rng.pick(&["run_job_template", "run_workflow_template"]),
                Yaml::map(args),
            )
        }
        6 => ("debug", Yaml::map(vec![("msg", templated(rng))])),
        7 => {
            let root = Yaml::plain(*rng.choose(&["uplinks.0", "a", "{a: b}"], &["[]", "5"]));
            (
                "print_event",
                Yaml::map(vec![("pretty", Yaml::plain("true")), ("var_root", root)]),
            )
        }
        8 => ("none", Yaml::plain(*rng.pick(&["{}", "", "null"]))),
        9 => {
            let kind = Yaml::plain(*rng.choose(&["graceful", "now"], &["later"]));
            (
                "shutdown",
                Yaml::map(vec![("delay", Yaml::plain(duration(rng))), ("kind", kind)]),
            )
        }
        10 => (
            "set_fact",
            Yaml::map(vec![("fact", Yaml::map(vec![("x", templated(rng))]))]),
        ),
        11 => {
            let event = Yaml::map(vec![("a", templated(rng)), ("posted", Yaml::plain("true"))]);
            ("post_event", Yaml::map(vec![("event", event)]))
        }
        _ => {
            let kind = *rng.choose(&["retract_fact"], &["webhok", "shell", ""]);
            (
                kind,
                Yaml::map(vec![("fact", Yaml::map(vec![("x", templated(rng))]))]),
            )
        }
    };
    Yaml::Map(vec![(kind.to_owned(), args)])
}

fn command(rng: &mut Rng) -> Yaml {
    let argv = Yaml::Seq(vec![Yaml::plain("echo"), templated(rng)]);
    let env = Yaml::map(vec![("A", templated(rng))]);
    let timeout = Yaml::plain(duration(rng));
    Yaml::map(vec![("argv", argv), ("env", env), ("timeout", timeout)])
}

fn webhook(rng: &mut Rng) -> Yaml {
    let url = *rng.choose(
        &[
            "http://127.0.0.1:9/hook",
            "{{ env.SEMAPHORE_FUZZ_UNSET }}",
            "https://example.com/{{ event.serial }}",
        ],
        &["ftp://x", "not a url", ""],
    );
    let mut entries = vec![("url", Yaml::quoted(url))];
    if rng.one_in(2) {
        // Presets that take `url` and `text`; the others need their own keys.
        let preset = *rng.choose(
            &["slack", "teams"],
            &["webex", "pagerduty", "servicenow", "discord"],
        );
        entries.push(("preset", Yaml::plain(preset)));
        entries.push(("text", templated(rng)));
    } else {
        entries.push(("body", Yaml::map(vec![("text", templated(rng))])));
    }
    if rng.one_in(3) {
        entries.push(("headers", Yaml::map(vec![("X-Serial", templated(rng))])));
    }
    if rng.one_in(3) {
        let attempts = Yaml::plain(*rng.choose(&["1", "3"], &["0", "-1", "1000000"]));
        let retry = Yaml::map(vec![
            ("attempts", attempts),
            ("backoff", Yaml::plain(duration(rng))),
        ]);
        entries.push(("retry", retry));
    }
    if rng.one_in(4) {
        entries.push(("auth", Yaml::plain("{bearer_env: SEMAPHORE_FUZZ_TOKEN}")));
    }
    Yaml::map(entries)
}
