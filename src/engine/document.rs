//! The two views of an event the rules see: the JMESPath document `{event, events, meta, vars, facts}`
//! for conditions, and the Jinja context for action templates (the same names plus `rule`, `ruleset`
//! and `env`).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use jmespath::{Rcvar, Variable};
use minijinja::Value as JinjaValue;

use crate::event::{Event, Origin};
use crate::rulebook::action::{FiringStatus, RenderContext};
use crate::rulebook::{Rule, Ruleset};

/// `events` outside multi-event conditions: shared, since the document is built for every event.
static NO_EVENTS: LazyLock<Rcvar> = LazyLock::new(|| Arc::new(Variable::Object(BTreeMap::new())));

/// The condition document for one event in one ruleset.
pub struct Document {
    base: Rcvar,
}

impl Document {
    /// The document conditions are evaluated on: `event` and `meta` as far as the rulebook's
    /// expressions read them.
    pub fn new(event: &Event, vars: &Rcvar, facts: &Rcvar) -> Document {
        Document::from_parts(event.payload.clone(), event.meta.clone(), vars, facts)
    }

    /// The document with the whole payload and meta, for showing values (`--explain`).
    pub fn whole(event: &Event, vars: &Rcvar, facts: &Rcvar) -> Document {
        Document::from_parts(event.whole_payload(), event.whole_meta(), vars, facts)
    }

    fn from_parts(payload: Rcvar, meta: Rcvar, vars: &Rcvar, facts: &Rcvar) -> Document {
        let mut root = BTreeMap::new();
        root.insert("event".to_owned(), payload);
        root.insert("events".to_owned(), NO_EVENTS.clone());
        root.insert("meta".to_owned(), meta);
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
        self.with_event(None, bound)
    }

    /// The document for another `event` (one waiting in an `all:` pool; `None`: this one), with
    /// earlier matches bound as `events.m_0`, `events.m_1`, ...
    pub fn with_event(&self, event: Option<&Rcvar>, bound: &[Option<Rcvar>]) -> Rcvar {
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
        if let Some(event) = event {
            root.insert("event".to_owned(), event.clone());
        }
        Arc::new(Variable::Object(root))
    }
}

/// A firing's idempotency key. For a record: `topic/partition/offset/ruleset/rule` (`#N` marks the
/// N-th element of a split batch, `+N` the N-th event posted while the record was evaluated). Without one (the clock's firings, offline events):
/// `ruleset/rule/group@time`, the group being the window's or throttle's key (left out when there is
/// none), the time the firing was due. A resolved notification adds `:resolved`, so that it is not
/// dropped as a duplicate of its firing. The same notification, replayed, gets the same key. Names
/// and the group have `%`, `/`, `#`, `@` and `:` percent-encoded, so that no two notifications
/// share a key however they are named.
pub fn idempotency_key(
    origin: Option<&Origin>,
    ruleset: &Ruleset,
    rule: &Rule,
    group: Option<&str>,
    status: FiringStatus,
    time_ms: i64,
) -> String {
    let (ruleset, rule) = (escape(&ruleset.name), escape(&rule.name));
    let base = match (origin, group) {
        (Some(origin), _) => {
            let mut element = origin
                .batch_index
                .map(|i| format!("#{i}"))
                .unwrap_or_default();
            if origin.posted > 0 {
                element.push_str(&format!("+{}", origin.posted));
            }
            let Origin {
                topic,
                partition,
                offset,
                ..
            } = origin;
            let topic = escape(topic);
            format!("{topic}/{partition}/{offset}{element}/{ruleset}/{rule}")
        }
        (None, Some(group)) => format!("{ruleset}/{rule}/{}@{time_ms}", escape(group)),
        (None, None) => format!("{ruleset}/{rule}@{time_ms}"),
    };
    match status {
        FiringStatus::Firing => base,
        FiringStatus::Resolved => format!("{base}:resolved"),
    }
}

/// Percent-encodes the characters that separate the parts of a key.
fn escape(part: &str) -> std::borrow::Cow<'_, str> {
    const SEPARATORS: &[char] = &['%', '/', '#', '@', ':'];
    if !part.contains(SEPARATORS) {
        return std::borrow::Cow::Borrowed(part);
    }
    let mut out = String::with_capacity(part.len() + 8);
    for c in part.chars() {
        if SEPARATORS.contains(&c) {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What names one alert of a window rule across its firing and resolved notifications (PagerDuty's
/// `dedup_key`): the ruleset, the rule and the group key.
pub fn alert_key(ruleset: &Ruleset, rule: &Rule, key: &str) -> String {
    format!("{}/{}/{key}", ruleset.name, rule.name)
}

/// Everything a firing's templates can read, before it becomes a Jinja context.
pub struct FiringDocument<'a> {
    pub ruleset: &'a Ruleset,
    pub rule: &'a Rule,
    pub events: &'a [Rcvar],
    pub meta: &'a Rcvar,
    pub facts: &'a serde_json::Map<String, serde_json::Value>,
    pub idempotency_key: &'a str,
    pub status: FiringStatus,
    /// A window rule's values.
    pub window: Option<&'a Rcvar>,
}

impl FiringDocument<'_> {
    /// The template context of one firing. `event` is the last matching event; `events` holds all
    /// of them as `m_0`, `m_1`, ... like ansible-rulebook. `status` is `firing` or `resolved`
    /// (`resolved` says the same as a boolean) and `window` holds a window rule's values.
    pub fn render_context<'e>(&self, env: &'e BTreeMap<String, String>) -> RenderContext<'e> {
        let named: BTreeMap<String, JinjaValue> = self
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("m_{i}"), JinjaValue::from_serialize(&**e)))
            .collect();
        let event = self
            .events
            .last()
            .map(|e| JinjaValue::from_serialize(&**e))
            .unwrap_or_default();
        RenderContext {
            value: minijinja::context! {
                event => event,
                events => named,
                meta => JinjaValue::from_serialize(&**self.meta),
                vars => JinjaValue::from_serialize(&self.ruleset.vars_json),
                facts => JinjaValue::from_serialize(self.facts),
                rule => self.rule.name.as_str(),
                ruleset => self.ruleset.name.as_str(),
                idempotency_key => self.idempotency_key,
                env => JinjaValue::from_serialize(env),
                status => self.status.name(),
                resolved => self.status == FiringStatus::Resolved,
                window => self.window.map(|w| JinjaValue::from_serialize(&**w)),
            },
            env,
        }
    }
}
