//! The one value parser of every duration flag (`--interval`, `--timespan`, `--drain-timeout`,
//! `consume --timeout`, ...), so that they all take the same forms: a bare number of seconds
//! (`90`, `0.5`) or a number with a unit (`500ms`, `90s`, `5m`, `1h`). It owns only the text form;
//! each flag keeps its own range check, since what is sensible differs per flag.

use std::time::Duration;

/// `90`, `0.5`, `500ms`, `90s`, `1.5m`, `2h`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let amount: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90, 90s, 5m or 1h"))?;
    let seconds = match unit.trim() {
        "" | "s" => amount,
        "ms" => amount / 1000.0,
        "m" => amount * 60.0,
        "h" => amount * 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use ms, s, m or h (or a number of seconds)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("{text:?}: {err}"))
}

/// [`parse`], refusing zero: for waits that must wait.
pub fn positive(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        Duration::ZERO => Err(format!("{text:?}: must be more than 0 seconds")),
        duration => Ok(duration),
    }
}

/// [`parse`] as fractional seconds, for flags whose value is handed on as seconds.
pub fn seconds(text: &str) -> Result<f64, String> {
    parse(text).map(|duration| duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_issue_is_accepted() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("2m"), Ok(120.0));
    }

    #[test]
    fn other_text_is_refused_with_the_forms_it_takes() {
        assert!(parse("soon").is_err_and(|e| e.contains("90s, 5m or 1h")));
        assert!(parse("5 weeks").is_err());
        assert!(parse("-1").is_err());
        assert!(positive("0s").is_err());
        assert_eq!(positive("1s"), Ok(Duration::from_secs(1)));
    }

    /// The command line as `semaphore` parses it.
    fn parses(argv: &[&str]) -> Result<super::super::Cli, clap::Error> {
        use clap::Parser as _;
        super::super::Cli::try_parse_from(std::iter::once("semaphore").chain(argv.iter().copied()))
    }

    #[test]
    fn every_duration_flag_takes_the_same_forms() {
        for form in ["90", "90s", "5m", "1h"] {
            let lines: [&[&str]; 6] = [
                &["rules", "run", "rb.yml", "--drain-timeout", form],
                &["rules", "run", "rb.yml", "--connect-timeout", form],
                &["consume", "--timeout", form],
                &["publish", "clients", "--timespan", form],
                &[
                    "publish",
                    "loss-latency",
                    "--per-device",
                    "--timespan",
                    form,
                ],
                &["publish", "clients", "--interval", form],
            ];
            for argv in lines {
                assert!(parses(argv).is_ok(), "{argv:?}");
            }
        }
        match parses(&["rules", "run", "rb.yml", "--drain-timeout", "30s"]).map(|cli| cli.command) {
            Ok(super::super::Command::Rules(super::super::rules::RulesCommand::Run(args))) => {
                assert_eq!((args.drain_timeout, args.connect_timeout), (30.0, 10.0));
            }
            other => panic!("expected rules run, got {other:?}"),
        }
    }
}
