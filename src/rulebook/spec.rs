//! The raw rulebook input, as written: serde structs named `*Spec`, every one with `deny_unknown_fields`.
//! Values that need a later stage (conditions, action lists, vars) stay as located [`Node`]s; nothing
//! here is validated beyond shape. The compiler turns these into the types in [`super::model`].

use serde::Deserialize;
use serde_json::Value;

use super::de::Located;
use super::yaml::Node;

/// One ruleset: a named group of rules with its event sources and variables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesetSpec {
    pub name: Located<String>,
    /// Ansible host pattern for `run_playbook`; accepted for ansible-rulebook compatibility.
    #[serde(default)]
    pub hosts: Option<HostsSpec>,
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub vars: Option<Node>,
    pub rules: Vec<Node>,
    #[serde(default)]
    pub match_multiple_rules: bool,
    #[serde(default)]
    pub default_events_ttl: Option<Located<Value>>,
    #[serde(default)]
    pub execution_strategy: Option<ExecutionStrategySpec>,
    #[serde(default)]
    pub inhibit: Vec<Located<InhibitSpec>>,
}

/// One `inhibit` entry: while `source` fires, `targets` with the same `equal` values are muted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitSpec {
    pub source: Located<String>,
    pub targets: Vec<Located<String>>,
    #[serde(default)]
    pub equal: Vec<Located<String>>,
    #[serde(default, rename = "for")]
    pub active_for: Option<Located<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum HostsSpec {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStrategySpec {
    #[default]
    Sequential,
    Parallel,
}

/// An event source. Only Kafka exists; the key names the plugin as in ansible-rulebook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub kafka: Located<KafkaSourceSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceSpec {
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub offset: Option<OffsetSpec>,
    /// Split a batched record: each element of this top-level list becomes one event.
    #[serde(default)]
    pub split_on: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetSpec {
    Earliest,
    Latest,
}

/// One rule. `condition` and the actions are kept raw: each has several shapes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: Located<String>,
    pub condition: Node,
    #[serde(default)]
    pub action: Option<Node>,
    #[serde(default)]
    pub actions: Option<Vec<Node>>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub throttle: Option<Located<ThrottleSpec>>,
    /// Aggregate matching events per group key over time (see [`WindowSpec`]).
    #[serde(default)]
    pub window: Option<Located<WindowSpec>>,
    /// With `window`: when a firing key recovers; the actions then run again with `status: resolved`.
    #[serde(default)]
    pub resolve_when: Option<Located<String>>,
    /// Group keys kept for `window` and `throttle` before the least recently updated one goes.
    #[serde(default)]
    pub max_keys: Option<Located<u64>>,
}

fn enabled_by_default() -> bool {
    true
}

/// `all:` / `any:` / `not_all:` with an optional `timeout:`; exactly one of the three lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiConditionSpec {
    #[serde(default)]
    pub all: Option<Vec<Located<String>>>,
    #[serde(default)]
    pub any: Option<Vec<Located<String>>>,
    #[serde(default)]
    pub not_all: Option<Vec<Located<String>>>,
    #[serde(default)]
    pub timeout: Option<Located<Value>>,
}

/// ansible-rulebook's throttle block; `group_by_attributes` is accepted as the EDA spelling of `group_by`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    #[serde(default)]
    pub once_within: Option<Located<Value>>,
    #[serde(default)]
    pub once_after: Option<Located<Value>>,
    #[serde(default)]
    pub group_after: Option<Located<Value>>,
    #[serde(default)]
    pub accumulate_within: Option<Located<Value>>,
    #[serde(default)]
    pub threshold: Option<Located<u64>>,
    #[serde(default, alias = "group_by_attributes")]
    pub group_by: Vec<Located<String>>,
}

/// A rule's `window` block: one of four forms, chosen by the keys present. `size` + `fire_when` is a
/// frequency or aggregate window; `absent_for` fires for a key gone quiet; `change` fires when a value
/// differs from the key's previous one; `spike` compares the current window with the previous one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    #[serde(default, alias = "group_by_attributes")]
    pub group_by: Vec<Located<String>>,
    #[serde(default)]
    pub size: Option<Located<Value>>,
    #[serde(default)]
    pub value: Option<Located<String>>,
    #[serde(default)]
    pub fire_when: Option<Located<String>>,
    #[serde(default)]
    pub absent_for: Option<Located<Value>>,
    #[serde(default)]
    pub change: Option<Located<String>>,
    #[serde(default)]
    pub spike: Option<Located<SpikeSpec>>,
}

/// `spike: {factor: 3}` (the window's value at least 3x the previous window's) or
/// `spike: {factor: 2, direction: down}` (at most half of it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeSpec {
    pub factor: Located<f64>,
    #[serde(default)]
    pub direction: Option<DirectionSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionSpec {
    Up,
    Down,
}
