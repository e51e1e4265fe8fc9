//! `--explain` support: for one rule and one event, whether it matched and why, in words. Built only
//! when tracing is on; it re-evaluates sub-expressions and changes no state.

use crate::condition;
use crate::rulebook::RuleCondition;

use super::Document;

/// What happened to one rule for one event, recorded when tracing is on (`rules test --explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTrace {
    pub ruleset: String,
    pub rule: String,
    pub matched: bool,
    pub reason: String,
}

pub fn trace(
    ruleset: &str,
    rule: &crate::rulebook::Rule,
    doc: &Document,
    matched: bool,
    fired: bool,
) -> RuleTrace {
    let reason = match &rule.condition {
        RuleCondition::Single(expr) => condition::explain(expr, doc.base()),
        RuleCondition::Any(exprs)
        | RuleCondition::All {
            conditions: exprs, ..
        }
        | RuleCondition::NotAll {
            conditions: exprs, ..
        } => exprs
            .iter()
            .enumerate()
            .map(|(n, expr)| format!("[{n}] {}", condition::explain(expr, doc.base())))
            .collect::<Vec<_>>()
            .join("; "),
    };
    let reason = match (matched, fired, &rule.condition) {
        (true, false, RuleCondition::Single(_)) if rule.window.is_some() => {
            format!("{reason} (counted in the window; no firing or resolve now)")
        }
        (true, false, RuleCondition::Single(_)) => format!("{reason} (held back by throttle)"),
        (false, _, RuleCondition::All { .. }) => {
            format!("waiting for all sub-conditions: {reason}")
        }
        _ => reason,
    };
    RuleTrace {
        ruleset: ruleset.to_owned(),
        rule: rule.name.clone(),
        matched,
        reason,
    }
}
