//! Which rulesets `rules run` may evaluate in parallel, one engine per shard of partitions, and
//! which must run on one worker that sees every partition. A ruleset is sharded unless it keeps
//! state that one partition's records cannot decide alone: an `all:` or `not_all` (its events may
//! come from several partitions), an inhibition (source and target firings may), facts (`set_fact`,
//! `retract_fact`, which every later event reads) or `post_event` (the posted event is evaluated
//! with everything else the ruleset saw). A ruleset that another ruleset's `set_fact`,
//! `retract_fact` or `post_event` names runs on the one worker too, next to its sender. Throttles
//! and windows are sharded: their keys live with the partition of the records that update them, as
//! they already do across the members of a consumer group. It decides; it runs nothing.

use crate::rulebook::action::ActionKind;
use crate::rulebook::{RuleCondition, Rulebook, Ruleset};

/// Why a ruleset runs on the one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneView {
    MultiEvent,
    Inhibition,
    Facts,
    PostEvent,
    /// Another ruleset's engine action names it.
    Target,
}

impl OneView {
    pub fn describe(self) -> &'static str {
        match self {
            OneView::MultiEvent => {
                "an all: or not_all condition may match events of several partitions"
            }
            OneView::Inhibition => "an inhibition may pair firings of several partitions",
            OneView::Facts => "set_fact/retract_fact: facts are read by events of every partition",
            OneView::PostEvent => "post_event: posted events meet events of every partition",
            OneView::Target => "another ruleset's set_fact/retract_fact/post_event names it",
        }
    }
}

/// The rulebook's rulesets by where they run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Evaluated by the shard that owns the record's partition.
    pub sharded: Vec<String>,
    /// Evaluated by the one worker that sees every record, with the reason.
    pub one_view: Vec<(String, OneView)>,
}

impl Placement {
    pub fn of(book: &Rulebook) -> Placement {
        let mut placement = Placement::default();
        for ruleset in &book.rulesets {
            let reason = needs_one_view(ruleset).or_else(|| targeted(book, &ruleset.name));
            match reason {
                Some(reason) => placement.one_view.push((ruleset.name.clone(), reason)),
                None => placement.sharded.push(ruleset.name.clone()),
            }
        }
        placement
    }

    pub fn one_view_names(&self) -> Vec<String> {
        self.one_view.iter().map(|(name, _)| name.clone()).collect()
    }

    /// Logs where each ruleset runs, so a user sees which ones do not scale with `--workers`.
    pub fn log(&self, workers: usize) {
        tracing::info!(
            workers,
            rulesets = ?self.sharded,
            "rulesets evaluated in parallel, each shard owning a share of the partitions"
        );
        for (name, reason) in &self.one_view {
            tracing::info!(
                ruleset = name,
                reason = reason.describe(),
                "ruleset evaluated on one worker that sees every partition"
            );
        }
    }
}

fn needs_one_view(ruleset: &Ruleset) -> Option<OneView> {
    if !ruleset.inhibit.is_empty() {
        return Some(OneView::Inhibition);
    }
    let multi = ruleset.rules.iter().any(|rule| {
        matches!(
            rule.condition,
            RuleCondition::All { .. } | RuleCondition::NotAll { .. }
        )
    });
    if multi {
        return Some(OneView::MultiEvent);
    }
    let kinds = || {
        ruleset
            .rules
            .iter()
            .flat_map(|r| &r.actions)
            .map(|a| a.kind)
    };
    if kinds().any(|k| k == ActionKind::PostEvent) {
        return Some(OneView::PostEvent);
    }
    kinds()
        .any(|k| matches!(k, ActionKind::SetFact | ActionKind::RetractFact))
        .then_some(OneView::Facts)
}

/// Whether some engine action of another ruleset names `name`.
fn targeted(book: &Rulebook, name: &str) -> Option<OneView> {
    book.rulesets
        .iter()
        .filter(|other| other.name != name)
        .flat_map(|other| other.rules.iter().flat_map(|r| &r.actions))
        .any(|action| action.target.ruleset.as_deref() == Some(name))
        .then_some(OneView::Target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(source: &str) -> Placement {
        Placement::of(&crate::rulebook::compile("b.yml", source).unwrap())
    }

    #[test]
    fn stateless_throttled_and_windowed_rulesets_are_sharded() {
        let p = placement(
            "- name: plain\n  rules:\n    - name: r\n      condition: event.x\n      action: {debug: {}}\n- name: throttled\n  rules:\n    - name: r\n      condition: event.x\n      throttle: {once_within: 1 minute, group_by: [event.d]}\n      action: {debug: {}}\n",
        );
        assert_eq!(p.sharded, vec!["plain".to_owned(), "throttled".to_owned()]);
        assert!(p.one_view.is_empty());
    }

    #[test]
    fn correlation_facts_and_posted_events_need_one_view_and_so_does_their_target() {
        let p = placement(
            "- name: corr\n  rules:\n    - name: r\n      condition:\n        all: [event.a, event.b]\n      action: {debug: {}}\n- name: poster\n  rules:\n    - name: r\n      condition: event.x\n      action: {post_event: {ruleset: sink, event: {y: 1}}}\n- name: sink\n  rules:\n    - name: r\n      condition: event.y\n      action: {debug: {}}\n- name: facts\n  rules:\n    - name: r\n      condition: event.z\n      action: {set_fact: {fact: {z: 1}}}\n- name: free\n  rules:\n    - name: r\n      condition: event.w\n      action: {debug: {}}\n",
        );
        assert_eq!(p.sharded, vec!["free".to_owned()]);
        assert_eq!(
            p.one_view,
            vec![
                ("corr".to_owned(), OneView::MultiEvent),
                ("poster".to_owned(), OneView::PostEvent),
                ("sink".to_owned(), OneView::Target),
                ("facts".to_owned(), OneView::Facts),
            ]
        );
    }
}
