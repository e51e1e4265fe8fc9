//! Recurring maintenance windows: "on these weekdays, from HH:MM to HH:MM, in this time zone". A window
//! belongs to the day it starts on; when `to` is not after `from` it ends on the next day. Local times
//! are turned into instants per day, so a window on a daylight-saving change day is an hour shorter or
//! longer in real time. A local time that does not exist (the skipped hour) moves to the end of the gap;
//! one that exists twice (the repeated hour) starts a window at its first and ends it at its second
//! occurrence, so a window never shrinks. This module knows nothing about silences or files.

use chrono::{Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

const MINUTES_PER_DAY: u32 = 24 * 60;

/// A weekly recurring window in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Indexed by days from Monday.
    days: [bool; 7],
    /// Minutes after local midnight; `to` may be 1440 (`24:00`).
    from: u32,
    to: u32,
    tz: Tz,
}

/// Why a schedule is invalid; the caller adds the place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "unknown day `{0}`: use mon, tue, wed, thu, fri, sat, sun (or full names), `weekdays`, `weekends` or `daily`"
    )]
    Day(String),
    #[error("`{0}` is not a time of day: write HH:MM, 00:00 to 24:00")]
    Time(String),
    #[error(
        "`from` and `to` are both {0}: the window would be empty; use 00:00 to 24:00 for whole days"
    )]
    Empty(String),
    #[error("unknown time zone `{0}`: use an IANA name such as Europe/Zurich or America/New_York")]
    TimeZone(String),
    #[error("`days` is empty")]
    NoDays,
}

impl Schedule {
    /// `days` are names (`sat`, `sunday`) or one of `weekdays`, `weekends`, `daily`; `timezone` is
    /// an IANA name (UTC when absent).
    pub fn new(
        days: &[String],
        from: &str,
        to: &str,
        timezone: Option<&str>,
    ) -> Result<Schedule, ScheduleError> {
        let from_minutes = minutes(from, false)?;
        let to_minutes = minutes(to, true)?;
        if from_minutes == to_minutes {
            return Err(ScheduleError::Empty(from.to_owned()));
        }
        let tz = match timezone {
            None => Tz::UTC,
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| ScheduleError::TimeZone(name.to_owned()))?,
        };
        Ok(Schedule {
            days: day_set(days)?,
            from: from_minutes,
            to: to_minutes,
            tz,
        })
    }

    /// The window that contains `t_ms`, as `(start_ms, end_ms)`.
    pub fn window_at(&self, t_ms: i64) -> Option<(i64, i64)> {
        let today = self.local_date(t_ms)?;
        [today.pred_opt()?, today]
            .into_iter()
            .filter_map(|day| self.window_on(day))
            .find(|(start, end)| *start <= t_ms && t_ms < *end)
    }

    /// The first window that has not ended by `t_ms` (the current one, or the next).
    pub fn next_window(&self, t_ms: i64) -> Option<(i64, i64)> {
        let today = self.local_date(t_ms)?;
        (0..9)
            .filter_map(|offset| today.pred_opt()?.checked_add_days(Days::new(offset)))
            .filter_map(|day| self.window_on(day))
            .find(|(_, end)| *end > t_ms)
    }

    fn local_date(&self, t_ms: i64) -> Option<NaiveDate> {
        let utc = chrono::DateTime::<Utc>::from_timestamp_millis(t_ms)?;
        Some(utc.with_timezone(&self.tz).date_naive())
    }

    /// The window that starts on local date `day`, if `day` is one of the schedule's days.
    fn window_on(&self, day: NaiveDate) -> Option<(i64, i64)> {
        if !self.days[day.weekday().num_days_from_monday() as usize] {
            return None;
        }
        let start = self.instant(day, self.from, Edge::Start)?;
        let end_day = if self.to > self.from {
            day
        } else {
            day.succ_opt()?
        };
        let end = self.instant(end_day, self.to, Edge::End)?;
        Some((start, end))
    }

    /// The instant of local `minutes` after midnight of `day`, resolving DST gaps and repeats.
    fn instant(&self, day: NaiveDate, minutes: u32, edge: Edge) -> Option<i64> {
        let (day, minutes) = if minutes >= MINUTES_PER_DAY {
            (day.succ_opt()?, minutes - MINUTES_PER_DAY)
        } else {
            (day, minutes)
        };
        let local = day.and_time(NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0)?);
        // A gap is at most a few hours; step to its end a minute at a time.
        (0..=MINUTES_PER_DAY as i64).find_map(|shift| {
            let at = local.checked_add_signed(chrono::TimeDelta::minutes(shift))?;
            resolve(self.tz, at, edge)
        })
    }
}

#[derive(Clone, Copy)]
enum Edge {
    Start,
    End,
}

fn resolve(tz: Tz, local: NaiveDateTime, edge: Edge) -> Option<i64> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.timestamp_millis()),
        LocalResult::Ambiguous(first, second) => Some(match edge {
            Edge::Start => first.timestamp_millis(),
            Edge::End => second.timestamp_millis(),
        }),
        LocalResult::None => None,
    }
}

/// `HH:MM` as minutes after midnight; `24:00` only where `allow_end_of_day`.
fn minutes(text: &str, allow_end_of_day: bool) -> Result<u32, ScheduleError> {
    let bad = || ScheduleError::Time(text.to_owned());
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let total = h * 60 + m;
    let valid =
        m < 60 && (total < MINUTES_PER_DAY || (allow_end_of_day && total == MINUTES_PER_DAY));
    if valid { Ok(total) } else { Err(bad()) }
}

fn day_set(names: &[String]) -> Result<[bool; 7], ScheduleError> {
    let mut days = [false; 7];
    for name in names {
        match name.trim().to_ascii_lowercase().as_str() {
            "daily" | "every day" => days = [true; 7],
            "weekdays" => days[..5].iter_mut().for_each(|d| *d = true),
            "weekends" | "weekend" => days[5..].iter_mut().for_each(|d| *d = true),
            other => {
                let day: chrono::Weekday = other
                    .parse()
                    .map_err(|_| ScheduleError::Day(name.clone()))?;
                days[day.num_days_from_monday() as usize] = true;
            }
        }
    }
    if days.iter().any(|d| *d) {
        Ok(days)
    } else {
        Err(ScheduleError::NoDays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn schedule(days: &[&str], from: &str, to: &str, tz: &str) -> Schedule {
        let days: Vec<String> = days.iter().map(|d| d.to_string()).collect();
        Schedule::new(&days, from, to, Some(tz)).unwrap()
    }

    #[test]
    fn a_window_crossing_midnight_belongs_to_its_start_day() {
        let s = schedule(&["sat"], "22:00", "02:00", "UTC");
        // Saturday 2026-01-17.
        assert!(s.window_at(ms("2026-01-17T21:59:59Z")).is_none());
        assert_eq!(
            s.window_at(ms("2026-01-17T22:00:00Z")),
            Some((ms("2026-01-17T22:00:00Z"), ms("2026-01-18T02:00:00Z")))
        );
        assert!(s.window_at(ms("2026-01-18T01:59:00Z")).is_some());
        assert!(s.window_at(ms("2026-01-18T02:00:00Z")).is_none());
        // Sunday night is not a Saturday window.
        assert!(s.window_at(ms("2026-01-18T23:00:00Z")).is_none());
        // Friday night neither.
        assert!(s.window_at(ms("2026-01-16T23:00:00Z")).is_none());
    }

    #[test]
    fn weekday_sets_and_names() {
        let s = schedule(&["weekdays"], "00:00", "24:00", "UTC");
        assert!(s.window_at(ms("2026-01-16T23:59:00Z")).is_some(), "friday");
        assert!(
            s.window_at(ms("2026-01-17T12:00:00Z")).is_none(),
            "saturday"
        );
        assert!(s.window_at(ms("2026-01-19T00:00:00Z")).is_some(), "monday");
        let weekend = schedule(&["Saturday", "sun"], "08:00", "09:00", "UTC");
        assert!(weekend.window_at(ms("2026-01-18T08:30:00Z")).is_some());
        assert!(weekend.window_at(ms("2026-01-19T08:30:00Z")).is_none());
        let err = Schedule::new(&["caturday".into()], "1:00", "2:00", None).unwrap_err();
        assert_eq!(err, ScheduleError::Day("caturday".into()));
        assert_eq!(
            Schedule::new(&[], "1:00", "2:00", None).unwrap_err(),
            ScheduleError::NoDays
        );
    }

    #[test]
    fn bad_times_and_zones_are_refused() {
        let days = vec!["daily".to_owned()];
        assert!(matches!(
            Schedule::new(&days, "25:00", "02:00", None),
            Err(ScheduleError::Time(_))
        ));
        assert!(matches!(
            Schedule::new(&days, "24:00", "02:00", None),
            Err(ScheduleError::Time(_))
        ));
        assert!(matches!(
            Schedule::new(&days, "10:00", "10:00", None),
            Err(ScheduleError::Empty(_))
        ));
        assert!(matches!(
            Schedule::new(&days, "10:00", "11:00", Some("Europe/Zurch")),
            Err(ScheduleError::TimeZone(_))
        ));
    }

    #[test]
    fn zurich_spring_forward_shortens_a_night_window() {
        // 2026-03-29 02:00 CET becomes 03:00 CEST; 02:00 local does not exist and moves to 03:00 CEST.
        let s = schedule(&["sat"], "22:00", "02:00", "Europe/Zurich");
        let window = s.window_at(ms("2026-03-28T21:30:00Z")).unwrap();
        assert_eq!(
            window,
            (
                ms("2026-03-28T22:00:00+01:00"),
                ms("2026-03-29T03:00:00+02:00")
            )
        );
        assert_eq!(window.1 - window.0, 4 * 3_600_000);
        assert!(s.window_at(ms("2026-03-29T01:00:00Z")).is_none());
    }

    #[test]
    fn zurich_fall_back_lengthens_a_night_window() {
        // 2026-10-25 03:00 CEST becomes 02:00 CET: 02:00-02:59 happen twice; the window ends at the second.
        let s = schedule(&["sat"], "22:00", "02:00", "Europe/Zurich");
        let window = s.window_at(ms("2026-10-24T21:00:00Z")).unwrap();
        assert_eq!(
            window,
            (
                ms("2026-10-24T22:00:00+02:00"),
                ms("2026-10-25T02:00:00+01:00")
            )
        );
        assert_eq!(window.1 - window.0, 5 * 3_600_000);
        // 02:30 CEST (first occurrence) is inside, 02:30 CET (second) is not.
        assert!(s.window_at(ms("2026-10-25T02:30:00+02:00")).is_some());
        assert!(s.window_at(ms("2026-10-25T02:30:00+01:00")).is_none());
    }

    #[test]
    fn new_york_dst_days_and_a_start_inside_the_gap() {
        let s = schedule(&["sun"], "01:00", "03:00", "America/New_York");
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT: one real hour.
        let spring = s.window_at(ms("2026-03-08T06:30:00Z")).unwrap();
        assert_eq!(
            spring,
            (ms("2026-03-08T06:00:00Z"), ms("2026-03-08T07:00:00Z"))
        );
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:00 EDT to 03:00 EST is three hours.
        let fall = s.window_at(ms("2026-11-01T07:30:00Z")).unwrap();
        assert_eq!(
            fall,
            (ms("2026-11-01T05:00:00Z"), ms("2026-11-01T08:00:00Z"))
        );
        // A window that starts in the skipped hour starts when the gap ends.
        let gap = schedule(&["sun"], "02:30", "04:00", "America/New_York");
        let window = gap.window_at(ms("2026-03-08T07:10:00Z")).unwrap();
        assert_eq!(
            window,
            (
                ms("2026-03-08T03:00:00-04:00"),
                ms("2026-03-08T04:00:00-04:00")
            )
        );
    }

    #[test]
    fn next_window_looks_ahead_across_the_week() {
        let s = schedule(&["sat"], "22:00", "02:00", "Europe/Zurich");
        // From Monday 2026-01-12 the next window is Saturday the 17th.
        assert_eq!(
            s.next_window(ms("2026-01-12T10:00:00Z")),
            Some((
                ms("2026-01-17T22:00:00+01:00"),
                ms("2026-01-18T02:00:00+01:00")
            ))
        );
        // Inside a window, the next window is the current one.
        assert_eq!(
            s.next_window(ms("2026-01-18T00:30:00Z")),
            s.window_at(ms("2026-01-18T00:30:00Z"))
        );
    }
}
