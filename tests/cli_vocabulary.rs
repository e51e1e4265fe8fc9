//! The command-line vocabulary of CONTRIBUTING.md, checked on clap's command tree (every command and
//! option as `semaphore` defines them) and once through the built binary: every option has a help
//! line, one concept has one flag everywhere, the old spellings still parse, logging and connection
//! options sit under their own headings, and `rules test` offers nothing only `rules run` uses.

use std::path::PathBuf;
use std::process::Command as Process;

use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, Parser};
use semaphore::cli::Cli;

/// The whole tree, built so that global options are copied into every subcommand.
fn tree() -> Command {
    let mut root = Cli::command();
    root.build();
    root
}

/// Every command under `command` (itself included) with its path, e.g. `rules run`; clap's own
/// `help` subcommands are not ours.
fn commands(command: &Command, path: &str, out: &mut Vec<(String, Command)>) {
    out.push((path.to_owned(), command.clone()));
    for sub in command
        .get_subcommands()
        .filter(|sub| sub.get_name() != "help")
    {
        let sub_path = format!("{path} {}", sub.get_name()).trim().to_owned();
        commands(sub, &sub_path, out);
    }
}

fn all_commands() -> Vec<(String, Command)> {
    let mut out = Vec::new();
    commands(&tree(), "", &mut out);
    out
}

/// The commands that run something (no subcommands of their own).
fn leaves() -> Vec<(String, Command)> {
    all_commands()
        .into_iter()
        .filter(|(_, command)| !command.has_subcommands())
        .collect()
}

fn named<'a>(commands: &'a [(String, Command)], path: &str) -> &'a Command {
    let found = commands.iter().find(|(p, _)| p == path);
    found.map_or_else(|| panic!("no command `{path}`"), |(_, command)| command)
}

fn find<'a>(command: &'a Command, long: &str) -> Option<&'a Arg> {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
}

fn env_of(arg: &Arg) -> Option<String> {
    arg.get_env().map(|env| env.to_string_lossy().into_owned())
}

fn parse(argv: &[&str]) -> ArgMatches {
    let mut full = vec!["semaphore"];
    full.extend_from_slice(argv);
    tree()
        .try_get_matches_from(full)
        .unwrap_or_else(|err| panic!("{argv:?} does not parse: {err}"))
}

/// The matches of the innermost subcommand.
fn leaf(mut matches: ArgMatches) -> ArgMatches {
    while let Some((_, sub)) = matches.remove_subcommand() {
        matches = sub;
    }
    matches
}

#[test]
fn every_command_and_option_has_a_help_line() {
    let mut missing = Vec::new();
    for (path, command) in all_commands() {
        let about = command.get_about().or(command.get_long_about());
        if !path.is_empty() && about.is_none_or(|text| text.to_string().trim().is_empty()) {
            missing.push(format!("command `{path}`"));
        }
        for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
            let help = arg.get_help().or(arg.get_long_help());
            if help.is_none_or(|text| text.to_string().trim().is_empty()) {
                missing.push(format!("`{path}` option {}", arg.get_id()));
            }
        }
    }
    assert!(missing.is_empty(), "no help line: {missing:#?}");
}

/// `<FILE>`, `<N>`, `<TOPIC>`: a value's placeholder says what kind of value it is, never a field name.
#[test]
fn value_placeholders_are_words_not_field_names() {
    for (path, command) in leaves() {
        for arg in command.get_arguments() {
            // Without a value name clap shows the field's name in capitals; flags show none.
            if !matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) {
                continue;
            }
            let names: Vec<String> = match arg.get_value_names() {
                Some(names) => names.iter().map(ToString::to_string).collect(),
                None => vec![arg.get_id().to_string()],
            };
            for name in names {
                assert!(!name.contains('_'), "`{path}` {}: <{name}>", arg.get_id());
            }
        }
    }
}

/// A concept recognised by the environment variable it reads must have its canonical flag.
#[test]
fn a_concept_read_from_one_variable_has_one_flag() {
    let by_env = [
        ("SEMAPHORE_GROUP_ID", "group", Some('g')),
        ("MERAKI_DASHBOARD_API_KEY", "meraki-api-key", None),
        ("SEMAPHORE_SILENCES", "silences", None),
        ("SEMAPHORE_KAFKA_API_KEY", "api-key", None),
        ("SEMAPHORE_OFFSET", "offset", Some('o')),
        ("SEMAPHORE_BOOTSTRAP_SERVERS", "bootstrap-servers", None),
    ];
    let mut seen = vec![0; by_env.len()];
    for (path, command) in leaves() {
        for arg in command.get_arguments() {
            let Some(env) = env_of(arg) else { continue };
            for (i, (wanted_env, long, short)) in by_env.iter().enumerate() {
                if env == *wanted_env {
                    seen[i] += 1;
                    assert_eq!(arg.get_long(), Some(*long), "`{path}` reads {env}");
                    assert_eq!(arg.get_short(), *short, "`{path}` --{long}");
                }
            }
        }
    }
    for ((env, _, _), count) in by_env.iter().zip(seen) {
        assert!(
            count > 0,
            "no command reads {env} any more: update the table"
        );
    }
}

#[test]
fn shared_concepts_use_the_same_flag_in_every_command() {
    let tree = leaves();
    // (flag, short, the commands that have the concept)
    let concepts: [(&str, Option<char>, &[&str]); 5] = [
        ("group", Some('g'), &["consume", "rules run"]),
        ("offset", Some('o'), &["consume", "rules run"]),
        (
            "topic",
            None,
            &[
                "consume",
                "rules run",
                "publish clients",
                "publish loss-latency",
            ],
        ),
        (
            "meraki-api-key",
            None,
            &["meraki-sim", "publish clients", "publish loss-latency"],
        ),
        (
            "silences",
            None,
            &[
                "rules test",
                "rules run",
                "silence add",
                "silence list",
                "silence expire",
            ],
        ),
    ];
    for (long, short, paths) in concepts {
        for path in paths {
            let command = named(&tree, path);
            let arg = find(command, long).unwrap_or_else(|| panic!("`{path}` has no --{long}"));
            assert_eq!(arg.get_short(), short, "`{path}` --{long}");
        }
    }
    // --api-key is the Kafka SASL user wherever it is a flag of its own.
    for (path, command) in &tree {
        if let Some(arg) = find(command, "api-key") {
            assert_eq!(
                env_of(arg).as_deref(),
                Some("SEMAPHORE_KAFKA_API_KEY"),
                "`{path}`"
            );
            assert_eq!(arg.get_help_heading(), Some("Kafka connection"), "`{path}`");
        }
    }
}

/// `-v` is more log detail everywhere except in `consume`, which keeps consumer.py's `-v`.
#[test]
fn v_is_log_detail_in_every_command_but_consume() {
    for (path, command) in leaves() {
        let v = command
            .get_arguments()
            .find(|arg| arg.get_short() == Some('v'));
        let Some(v) = v else {
            assert_eq!(path, "publish program", "`{path}` has no -v");
            continue;
        };
        if path == "consume" {
            assert_eq!(v.get_long(), Some("print-value"));
            continue;
        }

        assert_eq!(v.get_long(), Some("verbose"), "`{path}`");
        assert!(
            matches!(v.get_action(), ArgAction::Count),
            "`{path}` -v counts"
        );
        assert_eq!(v.get_help_heading(), Some("Logging"), "`{path}` -v");
    }
    let verbosity = |argv: &[&str]| {
        let mut full = vec!["semaphore"];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full)
            .unwrap_or_else(|err| panic!("{argv:?}: {err}"))
            .command
            .log_verbosity()
    };
    assert_eq!(verbosity(&["demo", "-vv"]), 2);
    assert_eq!(verbosity(&["meraki-sim", "-v"]), 1);
    assert_eq!(
        verbosity(&["silence", "list", "--silences", "s.yml", "-vv"]),
        2
    );
    assert_eq!(verbosity(&["rules", "run", "-v", "r.yml"]), 1);
    assert_eq!(verbosity(&["publish", "clients", "-vvv"]), 3);
    assert_eq!(verbosity(&["consume", "-v"]), 0);
    // `publish program` passes its flags, -v included, to the command it runs.
    let program = [
        "publish",
        "program",
        "--program",
        "publish_clients.py",
        "-vv",
    ];
    assert_eq!(verbosity(&program), 2);
}

#[test]
fn logging_and_connection_options_are_listed_apart() {
    for (path, command) in leaves() {
        for long in ["log-level", "log-format"] {
            let arg = find(&command, long).unwrap_or_else(|| panic!("`{path}` has no --{long}"));
            assert_eq!(arg.get_help_heading(), Some("Logging"), "`{path}` --{long}");
        }
        for arg in command.get_arguments() {
            let env = env_of(arg).unwrap_or_default();
            let kafka = env.starts_with("SEMAPHORE_KAFKA_") || arg.get_short() == Some('X');
            if kafka || arg.get_long() == Some("bootstrap-servers") {
                assert_eq!(
                    arg.get_help_heading(),
                    Some("Kafka connection"),
                    "`{path}` {}",
                    arg.get_id()
                );
            }
            let meraki = ["meraki-api-key", "base-url", "org", "request-timeout"];
            if path.starts_with("publish") && arg.get_long().is_some_and(|l| meraki.contains(&l)) {
                let heading = arg.get_help_heading();
                assert_eq!(
                    heading,
                    Some("Meraki Dashboard API"),
                    "`{path}` {}",
                    arg.get_id()
                );
            }
        }
    }
}

#[test]
fn old_spellings_still_parse() {
    let run = leaf(parse(&["rules", "run", "--group-id", "old", "r.yml"]));
    assert_eq!(
        run.get_one::<String>("group_id").map(String::as_str),
        Some("old")
    );
    let run = leaf(parse(&[
        "rules", "run", "-g", "new", "-o", "latest", "r.yml",
    ]));
    assert_eq!(
        run.get_one::<String>("group_id").map(String::as_str),
        Some("new")
    );

    let consume = leaf(parse(&["consume", "--group-id", "old"]));
    assert_eq!(
        consume.get_one::<String>("group").map(String::as_str),
        Some("old")
    );
    for (argv, printed) in [
        (&["consume", "-v", "True"][..], true),
        (&["consume", "--verbose", "False"], false),
        (&["consume", "--verbose"], true),
        (&["consume", "--print-value"], true),
    ] {
        let consume = leaf(parse(argv));
        assert_eq!(
            consume.get_one::<bool>("print_value"),
            Some(&printed),
            "{argv:?}"
        );
    }

    let sim = leaf(parse(&["meraki-sim", "--api-key", "k"]));
    assert!(sim.contains_id("api_key"), "meraki-sim --api-key is kept");
    let sim = leaf(parse(&["meraki-sim", "--meraki-api-key", "k"]));
    assert!(sim.contains_id("api_key"));

    for sub in ["list", "expire"] {
        let mut argv = vec!["silence", sub, "--file", "old.yml"];
        if sub == "expire" {
            argv.push("s-1");
        }
        let silence = leaf(parse(&argv));
        assert_eq!(
            silence.get_one::<PathBuf>("file"),
            Some(&PathBuf::from("old.yml")),
            "{sub}"
        );
    }
    let add = leaf(parse(&[
        "silence", "add", "--file", "f.yml", "-m", "true", "--for", "1h",
    ]));
    assert_eq!(
        add.get_one::<PathBuf>("file"),
        Some(&PathBuf::from("f.yml"))
    );
}

/// `rules run` flags that `rules test` may offer too: what shapes how a firing is rendered or
/// matched. Anything else `rules run` has (Kafka, state, dead letters, pacing) is not for offline.
const SHARED_WITH_TEST: &str = "help version log-level log-format verbose silences print-events \
    format vars env-vars inventory ansible-playbook controller-url controller-token \
    controller-username controller-password controller-ca-file";

#[test]
fn rules_test_offers_no_flag_only_rules_run_uses() {
    let tree = leaves();
    let (run, test) = (named(&tree, "rules run"), named(&tree, "rules test"));
    let offered: Vec<&str> = test
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .filter_map(Arg::get_long)
        .collect();
    for arg in run.get_arguments().filter_map(Arg::get_long) {
        if !SHARED_WITH_TEST
            .split_whitespace()
            .any(|shared| shared == arg)
        {
            assert!(
                !offered.contains(&arg),
                "rules test offers --{arg}, which only rules run uses"
            );
        }
    }
    assert!(
        find(test, "max-concurrent-actions").is_some_and(Arg::is_hide_set),
        "still accepted, not offered"
    );
}

/// The same, as a user sees it: the real binary's help text.
#[test]
fn the_binary_help_of_rules_test_lists_no_run_only_flag() {
    let output = Process::new(env!("CARGO_BIN_EXE_semaphore"))
        .args(["rules", "test", "--help"])
        .env_clear()
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("help is UTF-8");
    for flag in [
        "--max-concurrent-actions",
        "--group",
        "--bootstrap-servers",
        "--dry-run",
        "--state-topic",
    ] {
        assert!(
            !help.contains(flag),
            "rules test --help shows {flag}:\n{help}"
        );
    }
    let logging = help.find("\nLogging:\n").expect("a Logging heading");
    let level = help.find("--log-level").expect("--log-level is listed");
    assert!(level > logging, "--log-level is under Logging:\n{help}");
    assert!(
        help.contains("--silences"),
        "what test does use is still there"
    );
}
