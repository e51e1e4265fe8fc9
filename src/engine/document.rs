//! The two views of an event the rules see: the JMESPath document `{event, events, meta, vars, facts}`
//! for conditions, and the Jinja context for action templates (the same names plus `rule`, `ruleset`
//! and `env`).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use jmespath::{Rcvar, Variable};
use minijinja::Value as JinjaValue;

use crate::event::Event;
use crate::rulebook::action::{FiringStatus, RenderContext};
use crate::rulebook::{Rule, Ruleset};

/// `events` outside multi-event conditions: shared, since the document is built for every event.
static NO_EVENTS: LazyLock<Rcvar> = LazyLock::new(|| Arc::new(Variable::Object(BTreeMap::new())));

/// The condition document for one event in one ruleset.
pub struct Document {
    base: Rcvar,
}

impl Document {
    pub fn new(event: &Event, vars: &Rcvar, facts: &Rcvar) -> Document {
        let mut root = BTreeMap::new();
        root.insert("event".to_owned(), event.payload.clone());
        root.insert("events".to_owned(), NO_EVENTS.clone());
        root.insert("meta".to_owned(), event.meta.clone());
        root.insert("vars".to_owned(), vars.clone());
        root.insert("facts".to_owned(), facts.clone());
        Document {
            base: Arc::new(Variable::Object(root)),
        }
    }

    pub fn base(&self) -> &Rcvar {
        &self.base
    }

    /// The document with a window rule's `window` value, for `fire_when` and `resolve_when`.
    pub fn with_window(&self, window: &Rcvar) -> Rcvar {
        let Some(root) = self.base.as_object() else {
            return self.base.clone();
        };
        let mut root = root.clone();
        root.insert("window".to_owned(), window.clone());
        Arc::new(Variable::Object(root))
    }

    /// The document with earlier matches bound as `events.m_0`, `events.m_1`, ...
    pub fn with_events(&self, bound: &[Option<Rcvar>]) -> Rcvar {
        let Some(root) = self.base.as_object() else {
            return self.base.clone();
        };
        let events = bound
            .iter()
            .enumerate()
            .filter_map(|(i, event)| event.as_ref().map(|e| (format!("m_{i}"), e.clone())))
            .collect();
        let mut root = root.clone();
        root.insert("events".to_owned(), Arc::new(Variable::Object(events)));
        Arc::new(Variable::Object(root))
    }
}

/// `topic/partition/offset/rule` for records (`#N` marks the N-th element of a split batch); events
/// without a source position (offline, posted) use the ruleset, rule and time instead.
pub fn idempotency_key(meta: &Rcvar, ruleset: &str, rule: &str, time_ms: i64) -> String {
    let field = |name: &str| meta.as_object().and_then(|m| m.get(name)).cloned();
    let topic = field("topic").and_then(|t| t.as_string().cloned());
    let number = |name: &str| field(name).and_then(|v| v.as_number()).map(|n| n as i64);
    match (topic, number("partition"), number("offset")) {
        (Some(topic), Some(partition), Some(offset)) => {
            let element = number("batch_index")
                .map(|i| format!("#{i}"))
                .unwrap_or_default();
            format!("{topic}/{partition}/{offset}{element}/{rule}")
        }
        _ => format!("{ruleset}/{rule}@{time_ms}"),
    }
}

/// A window rule's idempotency key: the record's as for other rules, else the rule, group key and
/// time (several keys can go silent at the same moment); `:resolved` marks the resolved notification,
/// which must not be dropped as a duplicate of the firing.
pub fn window_idempotency_key(
    meta: &Rcvar,
    ruleset: &Ruleset,
    rule: &Rule,
    key: &str,
    status: FiringStatus,
    time_ms: i64,
) -> String {
    let base = idempotency_key(meta, &ruleset.name, &rule.name, time_ms);
    let base = if base.ends_with(&format!("@{time_ms}")) {
        format!("{}/{rule}/{key}@{time_ms}", ruleset.name, rule = rule.name)
    } else {
        base
    };
    match status {
        FiringStatus::Firing => base,
        FiringStatus::Resolved => format!("{base}:resolved"),
    }
}

/// What names one alert of a window rule across its firing and resolved notifications (PagerDuty's
/// `dedup_key`): the ruleset, the rule and the group key.
pub fn alert_key(ruleset: &Ruleset, rule: &Rule, key: &str) -> String {
    format!("{}/{}/{key}", ruleset.name, rule.name)
}

/// The template context of one firing. `event` is the last matching event; `events` holds all of them
/// as `m_0`, `m_1`, ... like ansible-rulebook. `status` is `firing` or `resolved` (`resolved` says the
/// same as a boolean) and `window` holds a window rule's values.
#[allow(clippy::too_many_arguments)] // every name a template can read
pub fn render_context<'a>(
    ruleset: &Ruleset,
    rule: &Rule,
    events: &[Rcvar],
    meta: &Rcvar,
    facts: &serde_json::Map<String, serde_json::Value>,
    idempotency_key: &str,
    env: &'a BTreeMap<String, String>,
    status: FiringStatus,
    window: Option<&Rcvar>,
) -> RenderContext<'a> {
    let named: BTreeMap<String, JinjaValue> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("m_{i}"), JinjaValue::from_serialize(&**e)))
        .collect();
    let event = events
        .last()
        .map(|e| JinjaValue::from_serialize(&**e))
        .unwrap_or_default();
    RenderContext {
        value: minijinja::context! {
            event => event,
            events => named,
            meta => JinjaValue::from_serialize(&**meta),
            vars => JinjaValue::from_serialize(&ruleset.vars_json),
            facts => JinjaValue::from_serialize(facts),
            rule => rule.name.as_str(),
            ruleset => ruleset.name.as_str(),
            idempotency_key => idempotency_key,
            env => JinjaValue::from_serialize(env),
            status => status.name(),
            resolved => status == FiringStatus::Resolved,
            window => window.map(|w| JinjaValue::from_serialize(&**w)),
        },
        env,
    }
}
