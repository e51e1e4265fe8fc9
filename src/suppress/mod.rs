//! Notification hygiene after a rule fired, with Alertmanager's meaning: **inhibition** (while a source
//! rule fires for, say, a network, its target rules are muted for the same network) and **silences**
//! (a matcher on the firing plus a time range or a weekly maintenance window). [`Suppressor`] decides,
//! for one firing at event time `now_ms`, whether it is suppressed and why. It is pure: the engine
//! calls it, [`file`] parses the silences file's text, and reading the file is the commands' job. It
//! does not decide what a suppressed firing still does; the engine does (engine actions still apply).

pub mod edit;
pub mod file;
mod inhibit;
pub mod schedule;
pub mod silence;

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::{Rcvar, Variable};

use crate::rulebook::Rulebook;
use crate::rulebook::model::Inhibit;
pub use inhibit::{Inhibitions, MAX_KEYS_PER_INHIBIT};
pub use silence::{Silence, SilenceSet, SilenceState};

/// Why a firing was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressReason {
    Silenced {
        id: String,
    },
    Inhibited {
        by_rule: String,
    },
    /// A resolve whose firing was not sent: nobody was told of the problem, so nobody is told it ended.
    FiringNotSent,
}

impl SuppressReason {
    /// A bounded metric label.
    pub fn label(&self) -> &'static str {
        match self {
            SuppressReason::Silenced { .. } => "silenced",
            SuppressReason::Inhibited { .. } => "inhibited",
            SuppressReason::FiringNotSent => "firing_not_sent",
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SuppressReason::Silenced { id } => {
                serde_json::json!({"reason": "silenced", "silence": id})
            }
            SuppressReason::Inhibited { by_rule } => {
                serde_json::json!({"reason": "inhibited", "by_rule": by_rule})
            }
            SuppressReason::FiringNotSent => serde_json::json!({"reason": "firing_not_sent"}),
        }
    }
}

/// A firing that was suppressed, as reported in the engine's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    pub ruleset: String,
    pub rule: String,
    pub reason: SuppressReason,
    pub time_ms: i64,
    pub idempotency_key: String,
}

/// Whether a firing opens or closes a problem: the engine's notion, which inhibition follows.
use crate::rulebook::action::FiringStatus;

/// What suppression sees of one firing.
pub struct FiringView<'a> {
    pub ruleset: &'a str,
    pub rule: &'a str,
    pub events: &'a [Rcvar],
    pub vars: &'a Rcvar,
    pub status: FiringStatus,
}

impl FiringView<'_> {
    /// `{ruleset, rule, event, events: {m_0, ...}, vars, status}`; `event` is the last matching event.
    pub fn document(&self) -> Rcvar {
        let string = |s: &str| Arc::new(Variable::String(s.to_owned()));
        let events: BTreeMap<String, Rcvar> = self
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("m_{i}"), e.clone()))
            .collect();
        let mut root = BTreeMap::new();
        root.insert("ruleset".to_owned(), string(self.ruleset));
        root.insert("rule".to_owned(), string(self.rule));
        let last = self.events.last().cloned();
        root.insert(
            "event".to_owned(),
            last.unwrap_or_else(|| Arc::new(Variable::Null)),
        );
        root.insert("events".to_owned(), Arc::new(Variable::Object(events)));
        root.insert("vars".to_owned(), self.vars.clone());
        root.insert("status".to_owned(), string(self.status.name()));
        Arc::new(Variable::Object(root))
    }
}

/// The decision for one firing, with any matcher or `equal` expression that failed on it.
#[derive(Debug, Default)]
pub struct Decision {
    pub reason: Option<SuppressReason>,
    pub errors: Vec<String>,
}

/// Silences plus the inhibition state of every ruleset of a rulebook.
#[derive(Debug)]
pub struct Suppressor {
    silences: Arc<SilenceSet>,
    inhibitions: Vec<Inhibitions>,
}

impl Suppressor {
    /// No silences yet; the rulebook's `inhibit` blocks, per ruleset.
    pub fn new(book: &Rulebook) -> Suppressor {
        Suppressor {
            silences: Arc::new(SilenceSet::default()),
            inhibitions: book
                .rulesets
                .iter()
                .map(|r| Inhibitions::new(&r.inhibit))
                .collect(),
        }
    }

    /// Follows a reloaded rulebook: a ruleset whose name and inhibit rules are unchanged keeps its
    /// inhibition state; any other starts empty. Silences are kept.
    pub fn reload(&mut self, old: &Rulebook, new: &Rulebook) {
        let mut previous: Vec<Option<Inhibitions>> = std::mem::take(&mut self.inhibitions)
            .into_iter()
            .map(Some)
            .collect();
        self.inhibitions = new
            .rulesets
            .iter()
            .map(|ruleset| {
                old.rulesets
                    .iter()
                    .position(|o| {
                        o.name == ruleset.name && same_inhibits(&o.inhibit, &ruleset.inhibit)
                    })
                    .and_then(|index| previous.get_mut(index).and_then(Option::take))
                    .unwrap_or_else(|| Inhibitions::new(&ruleset.inhibit))
            })
            .collect();
    }

    /// Replaces the silences (a reloaded file); inhibition state is kept.
    pub fn set_silences(&mut self, silences: Arc<SilenceSet>) {
        self.silences = silences;
    }

    pub fn silences(&self) -> &SilenceSet {
        &self.silences
    }

    /// Inhibition keys evicted over all rulesets so far.
    pub fn evicted(&self) -> u64 {
        self.inhibitions.iter().map(Inhibitions::evicted).sum()
    }

    /// Decides for a firing of ruleset number `ruleset` at `now_ms`, then records it as a possible
    /// inhibition source. As in Alertmanager, inhibition is checked before silences, and a firing
    /// inhibits others even when it is itself silenced or inhibited.
    pub fn decide(&mut self, ruleset: usize, firing: &FiringView<'_>, now_ms: i64) -> Decision {
        let inhibits = self.inhibitions.get(ruleset).is_some_and(|i| !i.is_empty());
        // Most rulebooks use neither: skip building the document.
        if !inhibits && self.silences.silences.is_empty() {
            return Decision::default();
        }
        let doc = firing.document();
        let mut errors = Vec::new();
        let mut decision = Decision::default();
        if let Some(inhibitions) = self.inhibitions.get_mut(ruleset) {
            decision.reason = inhibitions
                .inhibited_by(firing.rule, &doc, now_ms, &mut errors)
                .map(|by_rule| SuppressReason::Inhibited { by_rule });
            inhibitions.record(firing.rule, &doc, firing.status, now_ms, &mut errors);
        }
        decision.errors = errors.iter().map(|e| format!("inhibit: {e}")).collect();
        if decision.reason.is_none() {
            let (id, failed) = self.silences.silenced_by(&doc, now_ms);
            decision.reason = id.map(|id| SuppressReason::Silenced { id: id.to_owned() });
            decision.errors.extend(
                failed
                    .into_iter()
                    .map(|(id, e)| format!("silence {id}: {e}")),
            );
        }
        decision
    }
}

fn same_inhibits(old: &[Inhibit], new: &[Inhibit]) -> bool {
    let sources = |rule: &Inhibit| {
        rule.equal
            .iter()
            .map(|e| e.source().to_owned())
            .collect::<Vec<_>>()
    };
    old.len() == new.len()
        && old.iter().zip(new).all(|(a, b)| {
            a.source == b.source
                && a.targets == b.targets
                && a.active_for == b.active_for
                && sources(a) == sources(b)
        })
}

#[cfg(test)]
mod tests;
