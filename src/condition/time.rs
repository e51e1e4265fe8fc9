//! Time for conditions: reading timestamps as seconds since the Unix epoch, and the clock that `now()`
//! reads during an evaluation.
//!
//! The clock is a thread-local value set around one evaluation by [`with_clock`], so conditions stay
//! pure functions of (document, time) while the JMESPath function signature has no room for a time
//! parameter. This module does not expose anything to JMESPath itself; `condition::functions` does.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

thread_local! {
    static CLOCK: Cell<Option<f64>> = const { Cell::new(None) };
}

/// Evaluates `f` with `now()` returning `now` (seconds since the Unix epoch) on this thread. The
/// engine passes its clock this way so that evaluation stays pure and deterministic (time as a
/// parameter).
pub fn with_clock<R>(now: f64, f: impl FnOnce() -> R) -> R {
    /// Restores the outer clock even when `f` unwinds: no evaluation leaks its time to the next.
    struct Restore(Option<f64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CLOCK.set(self.0);
        }
    }
    let _restore = Restore(CLOCK.replace(Some(now)));
    f()
}

/// The time set by [`with_clock`]; the system clock outside of it (the engine always sets a clock, so
/// that fallback only serves ad-hoc callers).
pub(super) fn now() -> f64 {
    CLOCK.get().unwrap_or_else(system_now)
}

fn system_now() -> f64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => elapsed.as_secs_f64(),
        Err(before_epoch) => -before_epoch.duration().as_secs_f64(),
    }
}

/// ISO 8601 forms beyond RFC 3339 that carry an offset (`+0100`, `+01`, or no seconds); `%#z`
/// also takes `Z`.
const WITH_OFFSET: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M%#z",
];

/// Forms without an offset, read as UTC (Meraki and most collectors emit UTC).
const WITHOUT_OFFSET: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Seconds since the Unix epoch, fraction kept, for an RFC 3339 / ISO 8601 date-time or a bare date
/// (midnight UTC); `None` when `text` is none of these.
pub(super) fn parse_epoch(text: &str) -> Option<f64> {
    // chrono skips whitespace before numbers; a padded value is malformed data, as for Python's
    // `fromisoformat`, not a timestamp.
    if text.trim() != text {
        return None;
    }
    let with_offset = DateTime::parse_from_rfc3339(text).ok().or_else(|| {
        WITH_OFFSET
            .iter()
            .find_map(|format| DateTime::parse_from_str(text, format).ok())
    });
    match with_offset {
        Some(datetime) => Some(epoch_seconds(&datetime)),
        None => parse_utc(text).map(|naive| epoch_seconds(&naive.and_utc().fixed_offset())),
    }
}

fn parse_utc(text: &str) -> Option<NaiveDateTime> {
    WITHOUT_OFFSET
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
        })
}

fn epoch_seconds(datetime: &DateTime<FixedOffset>) -> f64 {
    datetime.timestamp() as f64 + f64::from(datetime.timestamp_subsec_nanos()) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_25_10H: f64 = 1_795_600_800.0;

    #[test]
    fn reads_rfc3339_and_iso8601_forms() {
        let cases = [
            ("2026-11-25T10:00:00Z", NOV_25_10H),
            ("2026-11-25t10:00:00z", NOV_25_10H),
            ("2026-11-25T11:30:00+01:30", NOV_25_10H),
            ("2026-11-25T05:00:00-05:00", NOV_25_10H),
            ("2026-11-25T11:00:00+0100", NOV_25_10H),
            ("2026-11-25T11:00:00+01", NOV_25_10H),
            ("2026-11-25T10:00:00.250Z", NOV_25_10H + 0.25),
            ("2026-11-25T10:00:00.123456789Z", NOV_25_10H + 0.123_456_789),
            ("2026-11-25 10:00:00Z", NOV_25_10H),
            ("2026-11-25 10:00:00", NOV_25_10H),
            ("2026-11-25T10:00:00", NOV_25_10H),
            ("2026-11-25T10:00:00.5", NOV_25_10H + 0.5),
            ("2026-11-25T10:00", NOV_25_10H),
            ("2026-11-25T10:00Z", NOV_25_10H),
            ("2026-11-25", NOV_25_10H - 36_000.0),
            ("1970-01-01T00:00:00Z", 0.0),
            ("1969-12-31T23:59:59.5Z", -0.5),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_epoch(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for text in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30T00:00:00Z",
            "2026-11-25T25:00:00Z",
            "1795600800",
            "25/11/2026",
            " 2026-11-25",
            "2026-11-25T10:00:00Z ",
            "2026-11-25T10:00:00Zjunk",
        ] {
            assert_eq!(parse_epoch(text), None, "{text:?}");
        }
    }

    #[test]
    fn with_clock_sets_now_and_restores_the_outer_clock() {
        with_clock(10.0, || {
            assert_eq!(now(), 10.0);
            assert_eq!(with_clock(20.5, now), 20.5);
            assert_eq!(now(), 10.0);
        });
        assert_eq!(CLOCK.get(), None);
    }

    #[test]
    fn with_clock_restores_after_a_panic() {
        let unwound = std::panic::catch_unwind(|| with_clock(1.0, || panic!("evaluation failed")));
        assert!(unwound.is_err());
        assert_eq!(CLOCK.get(), None);
    }

    #[test]
    fn now_without_a_clock_is_the_system_time() {
        let before = system_now();
        let read = now();
        assert!(read >= before && read - before < 60.0);
    }
}
