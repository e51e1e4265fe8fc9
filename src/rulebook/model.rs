//! The compiled rulebook: validated, with conditions and templates compiled, and the warnings found
//! on the way. These are the only rulebook types that reach the event path; they hold no YAML and no
//! raw text to re-parse (the warnings keep the file's text to show their lines).

use std::time::Duration;

use jmespath::Rcvar;

use super::Diagnostics;
use super::action::{Action, TemplateSet};
use crate::condition::Expr;
use crate::event::Reads;

/// A whole rulebook file, ready to evaluate events.
#[derive(Debug)]
pub struct Rulebook {
    pub rulesets: Vec<Ruleset>,
    pub templates: TemplateSet,
    /// Valid but almost surely wrong (a double-quoted "string" in a filter, `!event.x`, ...):
    /// `rules check` prints them, `rules run` logs them at start.
    pub warnings: Diagnostics,
    /// What the rules' conditions, group keys and windows read of an event (its payload, and
    /// whether its meta), for the decoder: found at load by walking their expressions.
    pub reads: Reads,
}

#[derive(Debug)]
pub struct Ruleset {
    pub name: String,
    pub hosts: Vec<String>,
    pub sources: Vec<KafkaSource>,
    /// `vars` as a JMESPath value for conditions and as JSON for templates.
    pub vars: Rcvar,
    pub vars_json: serde_json::Value,
    pub rules: Vec<Rule>,
    pub match_multiple_rules: bool,
    /// How long partial multi-event matches are kept (ansible-rulebook's default: 2 hours).
    pub default_events_ttl: Duration,
    pub execution_strategy: ExecutionStrategy,
    /// Inhibition: while a source rule fires, its targets are suppressed (see `suppress`).
    pub inhibit: Vec<Inhibit>,
}

/// The top-level names of the firing document that silence matchers and `equal` expressions see.
pub const FIRING_ROOTS: &[&str] = &["ruleset", "rule", "event", "events", "vars", "status"];

/// While `source` fires, firings of `targets` with the same `equal` values are suppressed.
#[derive(Debug, Clone)]
pub struct Inhibit {
    pub source: String,
    pub targets: Vec<String>,
    /// JMESPath on the firing document; each must give the same value on source and target.
    pub equal: Vec<Expr>,
    /// How long a source firing counts as active unless it resolves earlier.
    pub active_for: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStrategy {
    Sequential,
    Parallel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    Earliest,
    Latest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSource {
    pub topics: Vec<String>,
    pub group_id: Option<String>,
    pub offset: Offset,
    /// A top-level list field whose elements become one event each; the record's other fields go to
    /// `meta.batch`.
    pub split_on: Option<String>,
}

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub enabled: bool,
    pub condition: RuleCondition,
    pub throttle: Option<Throttle>,
    pub window: Option<Window>,
    /// Group keys kept for the window or throttle; the least recently updated goes first.
    pub max_keys: usize,
    pub actions: Vec<Action>,
    /// What the rule means, positions left out: its definition and the settings of its ruleset that
    /// it depends on (vars, sources, ...). A reload keeps the state of a rule whose fingerprint (and
    /// name and ruleset name) did not change.
    pub fingerprint: u64,
}

impl Rule {
    /// Whether the rule remembers something between events (a throttle, a window, a correlation of
    /// several events): the state a changelog saves.
    pub fn keeps_state(&self) -> bool {
        self.throttle.is_some()
            || self.window.is_some()
            || matches!(
                self.condition,
                RuleCondition::All { .. } | RuleCondition::NotAll { .. }
            )
    }
}

/// A rule's condition, with ansible-rulebook's multi-event forms.
#[derive(Debug)]
pub enum RuleCondition {
    Single(Expr),
    /// Every sub-condition, each met by a different event, within `timeout`.
    All {
        conditions: Vec<Expr>,
        /// Per sub-condition, its part that does not read `events` (see
        /// [`Expr::independent_of`]): which events may wait for the others. `None`: any event.
        admit: Vec<Option<Expr>>,
        timeout: Option<Duration>,
    },
    /// The first event that meets any sub-condition.
    Any(Vec<Expr>),
    /// Fires when the sub-conditions are not all met within `timeout` of the first.
    NotAll {
        conditions: Vec<Expr>,
        timeout: Duration,
    },
}

#[derive(Debug)]
pub struct Throttle {
    pub mode: ThrottleMode,
    pub group_by: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleMode {
    /// Fire on the first match per group, then stay quiet for the window.
    OnceWithin(Duration),
    /// ansible-rulebook's: one window per rule, opened by its first match; when it ends the rule
    /// fires once, with the first match of each group.
    OnceAfter(Duration),
    /// semaphore's: one window per group, opened by the group's first match; when it ends the rule
    /// fires for that group with all of its (unique) matches.
    GroupAfter(Duration),
    /// Fire when `threshold` matches per group arrive within the window.
    AccumulateWithin { window: Duration, threshold: u64 },
}

/// A window rule: events that meet the condition feed per-key state; the rule fires per key.
#[derive(Debug)]
pub struct Window {
    pub group_by: Vec<Expr>,
    pub form: WindowForm,
    /// Sliding window length: the aggregate span, the `change` count span, or half of `spike`'s.
    pub size: Option<Duration>,
    /// The number aggregated (avg, min, max, sum, percentiles); without it only `count` exists.
    pub value: Option<Expr>,
    /// Over `{event, meta, vars, facts, window}`; required for `Threshold`, optional otherwise.
    pub fire_when: Option<Expr>,
    pub resolve_when: Option<Expr>,
    /// Whether a condition reads a percentile, so that values are sorted only when needed.
    pub percentiles: bool,
}

#[derive(Debug)]
pub enum WindowForm {
    /// Count and aggregates over `size`, tested by `fire_when`.
    Threshold,
    /// A key that was seen gets no event for this long.
    Absence(Duration),
    /// The value of this expression differs from the key's previous one.
    Change(Expr),
    /// The window's value (the average of `value`, else the count) against the previous window's.
    Spike { factor: f64, down: bool },
}
