//! One step of the engine: an input event (with the events it posts) or a move of the clock. A
//! [`Step`] carries what every rule evaluation of the step needs besides the mutable state: the
//! rulebook, the step's time, the outcome so far and the events posted for later in the step. This
//! module owns the order of work: posted events after their cause, rulesets in order, rules in order
//! until one matches (unless `match_multiple_rules`; a throttled rule and a fact see `consumes`
//! and [`Arrival`]).

use std::collections::VecDeque;

use super::{
    Document, EngineState, Match, Outcome, RuleAt, RuleCondition, RuleError, RuleState,
    WindowFiring, routing, trace,
};
use crate::event::Event;
use crate::rulebook::action::FiringStatus;
use crate::rulebook::duration::millis;
use crate::rulebook::{Rule, Rulebook};

/// Events a single input may cause through `post_event` before the engine calls it a loop.
const MAX_POSTED_PER_EVENT: usize = 1_000;

/// An event to evaluate in this step: the input, or one posted by `post_event` or `set_fact` for
/// the named ruleset (by index; `None`: every ruleset the sources route it to).
pub(super) struct Posted {
    pub target: Option<usize>,
    pub event: Event,
    pub arrival: Arrival,
}

/// How an event entered the engine, which decides whether a match consumes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Arrival {
    /// An input or a posted event: the first rule that matches it consumes it, unless
    /// `match_multiple_rules`.
    Event,
    /// A fact set by `set_fact`: every rule sees it, since ansible-rulebook keeps facts when
    /// rules match them.
    Fact,
}

pub(super) struct Step<'a> {
    pub book: &'a Rulebook,
    pub now: i64,
    pub outcome: Outcome,
    pub posted: VecDeque<Posted>,
    /// How many events were posted in this step so far, to number them ([`crate::event::Origin::posted`]).
    pub posted_count: u32,
}

impl<'a> Step<'a> {
    pub fn new(book: &'a Rulebook, now: i64, outcome: Outcome) -> Step<'a> {
        Step {
            book,
            now,
            outcome,
            posted: VecDeque::new(),
            posted_count: 0,
        }
    }

    /// A condition or window value that could not be evaluated; it counts as no match.
    pub fn error(&mut self, at: RuleAt, message: String) {
        let ruleset = &self.book.rulesets[at.ruleset];
        self.outcome.errors.push(RuleError {
            ruleset: ruleset.name.clone(),
            rule: ruleset.rules[at.rule].name.clone(),
            message,
        });
    }
}

impl EngineState {
    /// `event` and then every event it posts, each through the rulesets it is for.
    pub(super) fn process(&mut self, step: &mut Step<'_>, event: Event) {
        let book = step.book;
        step.posted.push_back(Posted {
            target: None,
            event,
            arrival: Arrival::Event,
        });
        let mut handled = 0;
        while let Some(Posted {
            target,
            event,
            arrival,
        }) = step.posted.pop_front()
        {
            handled += 1;
            if handled > MAX_POSTED_PER_EVENT {
                step.outcome.errors.push(RuleError {
                    ruleset: String::new(),
                    rule: String::new(),
                    message: format!("more than {MAX_POSTED_PER_EVENT} events posted for one input; dropped the rest to stop a post_event loop"),
                });
                break;
            }
            for (index, ruleset) in book.rulesets.iter().enumerate() {
                // Posted events go straight to their ruleset; inputs follow the sources.
                let route = match target {
                    Some(t) if t == index => routing::Route::Whole,
                    Some(_) => routing::Route::Skip,
                    None if self.skips(index) => routing::Route::Skip,
                    None => routing::route(ruleset, &event),
                };
                match route {
                    routing::Route::Skip => {}
                    routing::Route::Whole => self.evaluate_ruleset(step, index, &event, arrival),
                    routing::Route::Split(events) => events.iter().for_each(|element| {
                        self.evaluate_ruleset(step, index, element, arrival);
                    }),
                }
            }
        }
    }

    /// Fires what the clock closed by `step.now`: absences, `once_after` windows, `not_all` timeouts,
    /// each stamped with the time it was due.
    pub(super) fn advance(&mut self, step: &mut Step<'_>) {
        let book = step.book;
        for (r, ruleset) in book.rulesets.iter().enumerate() {
            for (i, rule) in ruleset.rules.iter().enumerate() {
                let at = RuleAt {
                    ruleset: r,
                    rule: i,
                };
                let closed = closed_by_clock(rule, &mut self.rulesets[r].rules[i], step.now);
                for (found, due_ms) in closed {
                    self.fire(step, at, found, due_ms);
                }
            }
        }
        // Events posted by timer firings are evaluated like any other input, one level deep.
        for posted in std::mem::take(&mut step.posted) {
            let target = posted.target;
            for index in (0..book.rulesets.len()).filter(|i| target.is_none_or(|t| t == *i)) {
                self.evaluate_ruleset(step, index, &posted.event, posted.arrival);
                step.posted.clear();
            }
        }
    }

    fn evaluate_ruleset(&mut self, step: &mut Step<'_>, r: usize, event: &Event, arrival: Arrival) {
        let book = step.book;
        let ruleset = &book.rulesets[r];
        let facts = self.rulesets[r].facts.variable().clone();
        let doc = Document::new(event, &ruleset.vars, &facts);
        // `--explain` shows values as a full decode has them, not as far as the rules read.
        let explained = self
            .tracing
            .then(|| Document::whole(event, &ruleset.vars, &facts));
        for (i, rule) in ruleset.rules.iter().enumerate() {
            if !rule.enabled {
                continue;
            }
            let at = RuleAt {
                ruleset: r,
                rule: i,
            };
            let (matched, fired) = if rule.window.is_some() {
                self.window_event(step, at, &doc, event)
            } else {
                let (matched, firings) = self.evaluate_rule(step, at, &doc, event, arrival);
                let fired = !firings.is_empty();
                for events in firings {
                    let found = Match {
                        events,
                        trigger: Some(event),
                        group: None,
                        window: None,
                    };
                    self.fire(step, at, found, step.now);
                }
                (matched, fired)
            };
            if let Some(explained) = &explained {
                let trace = trace::trace(ruleset.name.as_str(), rule, explained, matched, fired);
                step.outcome.trace.push(trace);
            }
            // A window's matches feed the window: none of them is held back by a throttle.
            self.stats
                .evaluated(r, i, matched, fired || rule.window.is_some());
            if matched && arrival == Arrival::Event && consumes(ruleset.match_multiple_rules, rule)
            {
                // Consumed: it leaves the `all:` matches of the earlier rules, as in ansible-rulebook.
                // Pools hold the whole payload (not the part the conditions read), so that is the
                // one to withdraw; it is built only when an earlier rule has a pool.
                let mut pooled = None;
                for state in &mut self.rulesets[r].rules[..i] {
                    if let RuleState::All(pool) = state {
                        pool.withdraw(pooled.get_or_insert_with(|| event.whole_payload()));
                    }
                }
                break;
            }
        }
    }
}

/// Whether a rule that matched an event keeps the later rules from seeing it: always without
/// `match_multiple_rules`, and with it for a throttled rule, as in ansible-rulebook (whose throttle
/// consumes what it matches, fired or held back).
fn consumes(match_multiple_rules: bool, rule: &Rule) -> bool {
    !match_multiple_rules || (rule.throttle.is_some() && rule.window.is_none())
}

/// What the clock closed by `now` for one rule, each match with the time it was due.
fn closed_by_clock(rule: &Rule, state: &mut RuleState, now: i64) -> Vec<(Match<'static>, i64)> {
    let clock_match = |events, group, window| Match {
        events,
        trigger: None,
        group,
        window,
    };
    match (state, &rule.condition, &rule.throttle, &rule.window) {
        (RuleState::Window(state), _, _, Some(window)) => state
            .due(window, now)
            .into_iter()
            .map(|silent| {
                let window = WindowFiring {
                    status: FiringStatus::Firing,
                    window: silent.window,
                    key: silent.key,
                };
                let events = vec![silent.last_event];
                (clock_match(events, None, Some(window)), silent.deadline_ms)
            })
            .collect(),
        (RuleState::Throttle(state), _, Some(throttle), _) => state
            .due(throttle.mode, now)
            .into_iter()
            .map(|due| (clock_match(due.events, due.key, None), due.due_ms))
            .collect(),
        (RuleState::NotAll(state), RuleCondition::NotAll { timeout, .. }, _, _) => state
            .due(now, millis(*timeout))
            .into_iter()
            .map(|(due_ms, events)| (clock_match(events, None, None), due_ms))
            .collect(),
        _ => Vec::new(),
    }
}
