//! `to_epoch` and `now`: JMESPath access to `condition::time`.

use jmespath::{Rcvar, Variable};
use serde_json::Number;

use super::{BadArgument, quoted, text};
use crate::condition::time;

/// `to_epoch(t)`: seconds since the Unix epoch (fraction kept) of an RFC 3339 / ISO 8601 timestamp;
/// a timestamp without an offset is UTC, a date alone is midnight UTC, a number is returned unchanged.
pub(super) fn to_epoch(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    if let Some(Variable::Number(seconds)) = args.first().map(|value| &**value) {
        return Ok(Variable::Number(seconds.clone()));
    }
    Ok(seconds(epoch(text(args, 0)?)?))
}

/// `now()`: the clock the engine sets with `with_clock`, in epoch seconds (system time if unset).
pub(super) fn now(_args: &[Rcvar]) -> Result<Variable, BadArgument> {
    Ok(seconds(time::now()))
}

pub(super) fn epoch(text: &str) -> Result<f64, BadArgument> {
    time::parse_epoch(text).ok_or_else(|| {
        let expected = "timestamp (RFC 3339 / ISO 8601) or epoch seconds";
        BadArgument::new(0, expected, quoted(text))
    })
}

/// JSON has no NaN or infinity: a non-finite clock reads as null.
fn seconds(value: f64) -> Variable {
    Number::from_f64(value).map_or(Variable::Null, Variable::Number)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, eval};
    use super::super::with_clock;
    use serde_json::json;

    #[test]
    fn to_epoch_reads_timestamps_and_passes_numbers_through() {
        let data = r#"{"ts": "2026-11-25T11:00:00.25+01:00", "epoch": 1795600800, "frac": 1.5}"#;
        let cases = [
            ("to_epoch(ts)", json!(1_795_600_800.25)),
            ("to_epoch('2026-11-25T10:00:00Z')", json!(1_795_600_800.0)),
            ("to_epoch('2026-11-25 10:00:00')", json!(1_795_600_800.0)),
            ("to_epoch('2026-11-25')", json!(1_795_564_800.0)),
            ("to_epoch(epoch)", json!(1_795_600_800)),
            ("to_epoch(frac)", json!(1.5)),
            (
                "to_epoch(ts) > to_epoch('2026-11-25T09:59:59Z')",
                json!(true),
            ),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, data), expected, "{expression}");
        }
    }

    #[test]
    fn to_epoch_names_what_it_cannot_read() {
        let message = error("to_epoch('next tuesday')", "{}");
        let expected = concat!(
            "Argument 0 expects type timestamp (RFC 3339 / ISO 8601) or epoch seconds, ",
            r#"given "next tuesday""#
        );
        assert!(message.contains(expected), "{message}");
        let message = error("to_epoch('1795600800')", "{}");
        assert!(message.contains(r#"given "1795600800""#), "{message}");
        let message = error("to_epoch(`null`)", "{}");
        assert!(
            message.contains("expects type string|number, given null"),
            "{message}"
        );
    }

    #[test]
    fn now_reads_the_evaluation_clock() {
        let data = r#"{"due": "2026-11-25T10:00:00Z"}"#;
        let overdue = "now() >= to_epoch(due)";
        with_clock(1_795_600_800.0, || {
            assert_eq!(eval("now()", "{}"), json!(1_795_600_800.0));
            assert_eq!(eval(overdue, data), json!(true));
        });
        with_clock(1_795_600_799.5, || {
            assert_eq!(eval(overdue, data), json!(false))
        });
        with_clock(f64::NAN, || assert_eq!(eval("now()", "{}"), json!(null)));
    }

    #[test]
    fn now_takes_no_arguments() {
        let message = error("now(`1`)", "{}");
        assert!(
            message.contains("Too many arguments: expected 0, found 1"),
            "{message}"
        );
    }
}
