//! Silences: a JMESPath matcher on the firing document with a time range and, for maintenance
//! windows, a weekly [`Schedule`]. This file owns the raw `*Spec` input, its validation into a
//! [`Silence`], and whether a silence is active, pending or expired at a given time. Reading and
//! writing the file is [`super::file`]'s job.

use jmespath::Rcvar;
use serde::Deserialize;

use super::schedule::{Schedule, ScheduleError};
use crate::condition::{EvalError, Expr};
use crate::rulebook::de::Located;
use crate::rulebook::yaml::Pos;
use crate::rulebook::{Diagnostic, FIRING_ROOTS};

/// One entry of the silences file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceSpec {
    pub id: Located<String>,
    pub matcher: Located<String>,
    #[serde(default)]
    pub starts_at: Option<Located<String>>,
    #[serde(default)]
    pub ends_at: Option<Located<String>>,
    #[serde(default)]
    pub every: Option<Located<ScheduleSpec>>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
}

/// `every:`: a weekly maintenance window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    #[serde(default)]
    pub days: Option<Located<DaysSpec>>,
    pub from: Located<String>,
    pub to: Located<String>,
    #[serde(default)]
    pub timezone: Option<Located<String>>,
}

/// `days: weekdays` or `days: [sat, sun]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DaysSpec {
    One(String),
    Many(Vec<String>),
}

impl DaysSpec {
    pub fn names(&self) -> Vec<String> {
        match self {
            DaysSpec::One(name) => vec![name.clone()],
            DaysSpec::Many(names) => names.clone(),
        }
    }
}

/// A validated silence.
#[derive(Debug, Clone)]
pub struct Silence {
    pub id: String,
    pub matcher: Expr,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: Option<i64>,
    pub every: Option<Schedule>,
    pub comment: Option<String>,
    pub created_by: Option<String>,
}

/// Where a silence stands at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilenceState {
    /// Silencing now, until `until_ms` (none: no end).
    Active { until_ms: Option<i64> },
    /// Not yet: the next start.
    Pending { from_ms: i64 },
    /// Over for good; ignored.
    Expired,
}

impl SilenceState {
    pub fn name(self) -> &'static str {
        match self {
            SilenceState::Active { .. } => "active",
            SilenceState::Pending { .. } => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    /// Validates one entry; `source` is the file text, used to place matcher errors inside the string.
    pub fn compile(spec: &SilenceSpec, source: &str) -> Result<Silence, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        if spec.id.value.trim().is_empty() {
            errors.push(Diagnostic::new(spec.id.pos, "`id` is empty"));
        }
        let matcher = Expr::compile_for(&spec.matcher.value, FIRING_ROOTS)
            .map_err(|err| {
                let pos = crate::rulebook::position::inside_scalar(
                    source,
                    spec.matcher.pos,
                    &spec.matcher.value,
                    err.offset(),
                );
                errors.push(Diagnostic::new(pos, err.to_string()));
            })
            .ok();
        let mut time = |field: &Option<Located<String>>| {
            let located = field.as_ref()?;
            match chrono::DateTime::parse_from_rfc3339(located.value.trim()) {
                Ok(t) => Some(t.timestamp_millis()),
                Err(err) => {
                    errors.push(Diagnostic::new(
                        located.pos,
                        format!(
                            "`{}` is not an RFC 3339 time ({err}), e.g. 2026-01-17T22:00:00+01:00",
                            located.value
                        ),
                    ));
                    None
                }
            }
        };
        let starts_at_ms = time(&spec.starts_at);
        let ends_at_ms = time(&spec.ends_at);
        let every = spec.every.as_ref().and_then(|every| {
            schedule(&every.value)
                .map_err(|(pos, message)| errors.push(Diagnostic::new(pos, message)))
                .ok()
        });
        if spec.every.is_none() && spec.ends_at.is_none() {
            errors.push(Diagnostic::new(
                spec.id.pos,
                "a silence needs `ends_at`, or `every` for a recurring window",
            ));
        }
        if let (Some(start), Some(end), Some(at)) = (starts_at_ms, ends_at_ms, &spec.ends_at)
            && end < start
        {
            errors.push(Diagnostic::new(at.pos, "`ends_at` is before `starts_at`"));
        }
        match matcher {
            Some(matcher) if errors.is_empty() => Ok(Silence {
                id: spec.id.value.clone(),
                matcher,
                starts_at_ms,
                ends_at_ms,
                every,
                comment: spec.comment.clone(),
                created_by: spec.created_by.clone(),
            }),
            _ => Err(errors),
        }
    }

    pub fn state(&self, now_ms: i64) -> SilenceState {
        if self.ends_at_ms.is_some_and(|end| end <= now_ms) {
            return SilenceState::Expired;
        }
        if let Some(start) = self.starts_at_ms.filter(|start| *start > now_ms) {
            return SilenceState::Pending { from_ms: start };
        }
        let Some(schedule) = &self.every else {
            return SilenceState::Active {
                until_ms: self.ends_at_ms,
            };
        };
        let limit = |t: i64| self.ends_at_ms.map_or(t, |end| end.min(t));
        if let Some((_, end)) = schedule.window_at(now_ms) {
            return SilenceState::Active {
                until_ms: Some(limit(end)),
            };
        }
        match schedule.next_window(now_ms) {
            Some((start, _)) if self.ends_at_ms.is_none_or(|end| start < end) => {
                SilenceState::Pending { from_ms: start }
            }
            _ => SilenceState::Expired,
        }
    }

    pub fn is_active(&self, now_ms: i64) -> bool {
        matches!(self.state(now_ms), SilenceState::Active { .. })
    }
}

fn schedule(spec: &ScheduleSpec) -> Result<Schedule, (Pos, String)> {
    let days = spec
        .days
        .as_ref()
        .map_or_else(|| vec!["daily".to_owned()], |d| d.value.names());
    let timezone = spec.timezone.as_ref();
    Schedule::new(
        &days,
        &spec.from.value,
        &spec.to.value,
        timezone.map(|t| t.value.as_str()),
    )
    .map_err(|err| {
        // Point at the field that is wrong.
        let pos = match &err {
            ScheduleError::Day(_) | ScheduleError::NoDays => {
                spec.days.as_ref().map_or(spec.from.pos, |d| d.pos)
            }
            ScheduleError::Time(text) if *text == spec.from.value => spec.from.pos,
            ScheduleError::TimeZone(_) => timezone.map_or(spec.from.pos, |t| t.pos),
            ScheduleError::Time(_) | ScheduleError::Empty(_) => spec.to.pos,
        };
        (pos, err.to_string())
    })
}

/// The validated silences of one file.
#[derive(Debug, Clone, Default)]
pub struct SilenceSet {
    pub silences: Vec<Silence>,
}

impl SilenceSet {
    /// The id of the first silence active at `now_ms` whose matcher is true on `doc`. A matcher that
    /// cannot be evaluated counts as no match; its error is returned for the caller to report.
    pub fn silenced_by(
        &self,
        doc: &Rcvar,
        now_ms: i64,
    ) -> (Option<&str>, Vec<(String, EvalError)>) {
        let mut errors = Vec::new();
        for silence in self.silences.iter().filter(|s| s.is_active(now_ms)) {
            match silence.matcher.is_true(doc) {
                Ok(true) => return (Some(&silence.id), errors),
                Ok(false) => {}
                Err(err) => errors.push((silence.id.clone(), err)),
            }
        }
        (None, errors)
    }
}
