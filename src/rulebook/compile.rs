//! Spec to model: validates a parsed rulebook and compiles its conditions (`compile_expr`) and
//! templates, collecting every error and warning of the file (each with a position) instead of
//! stopping at the first. Pure: no I/O.

use std::collections::HashSet;
use std::time::Duration;

use super::action::{Action, ActionKind, Scope, TemplateSet};
use super::de::{DeError, Located, from_node_all};
use super::diagnostic::Diagnostic;
use super::model::{
    ExecutionStrategy, KafkaSource, Offset, Rule, RuleCondition, Ruleset, Throttle, ThrottleMode,
};
use super::spec::{
    ExecutionStrategySpec, HostsSpec, OffsetSpec, RuleSpec, RulesetSpec, ThrottleSpec,
};
use super::yaml::{Node, NodeKind, Pos};
use super::{duration, fingerprint};
use crate::condition::Expr;
use jmespath::Rcvar;

/// ansible-rulebook's default for `default_events_ttl`.
const DEFAULT_EVENTS_TTL: Duration = Duration::from_secs(2 * 3600);

/// Compiles the rulesets of one file; `source` is the file text, used to place errors inside strings.
pub(super) struct Compiler<'a> {
    pub source: &'a str,
    pub templates: TemplateSet,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// The vars of the ruleset being compiled, which its conditions read.
    pub vars: Rcvar,
    /// Vars given on the command line (`--vars`, `--env-vars`), merged over every ruleset's own.
    pub extra_vars: &'a serde_json::Map<String, serde_json::Value>,
}

impl Compiler<'_> {
    pub fn rulesets(&mut self, root: &Node) -> Vec<Ruleset> {
        let NodeKind::Seq(items) = &root.kind else {
            self.errors.push(Diagnostic::new(
                root.pos,
                format!(
                    "a rulebook is a list of rulesets, found {}",
                    root.type_name()
                ),
            ));
            return Vec::new();
        };
        if items.is_empty() {
            self.errors
                .push(Diagnostic::new(root.pos, "the rulebook has no rulesets"));
        }
        let rulesets: Vec<Ruleset> = items.iter().filter_map(|node| self.ruleset(node)).collect();
        self.check_unique(
            rulesets
                .iter()
                .map(|r| (&r.name, items_pos(items, &r.name))),
            "ruleset",
        );
        self.check_targets(&rulesets);
        rulesets
    }

    fn ruleset(&mut self, node: &Node) -> Option<Ruleset> {
        let spec: RulesetSpec = match from_node_all(node) {
            Ok(spec) => spec,
            Err(errors) => {
                errors.into_iter().for_each(|err| self.push_de(node, err));
                self.vars = no_vars();
                // Still check the rules, so one bad ruleset key does not hide their errors.
                if let Some(NodeKind::Seq(rules)) = node.get("rules").map(|n| &n.kind) {
                    let no_vars = serde_json::Value::Null;
                    rules
                        .iter()
                        .for_each(|rule| drop(self.rule(rule, "?", 0, &no_vars)));
                }
                return None;
            }
        };
        let name = spec.name.value.clone();
        let context = fingerprint::ruleset_context(node);
        let mut vars_json = self.vars(spec.vars.as_ref());
        if let serde_json::Value::Object(vars) = &mut vars_json {
            vars.extend(self.extra_vars.clone());
        }
        self.vars = to_variable(&vars_json);
        let default_events_ttl =
            self.duration_or(spec.default_events_ttl.as_ref(), DEFAULT_EVENTS_TTL);
        let sources = spec
            .sources
            .iter()
            .filter_map(|s| self.source(&s.kafka))
            .collect();
        let rules: Vec<Rule> = spec
            .rules
            .iter()
            .filter_map(|rule| self.rule(rule, &name, context, &vars_json))
            .collect();
        if spec.rules.is_empty() {
            self.errors.push(Diagnostic::new(
                spec.name.pos,
                format!("ruleset `{name}` has no rules"),
            ));
        }
        let rule_names = rules
            .iter()
            .zip(&spec.rules)
            .map(|(rule, node)| (&rule.name, node.pos));
        self.check_unique(rule_names, "rule");
        let inhibit = self.inhibit(&spec.inhibit, &spec.rules);
        Some(Ruleset {
            vars: self.vars.clone(),
            vars_json,
            hosts: match spec.hosts {
                None => Vec::new(),
                Some(HostsSpec::One(host)) => vec![host],
                Some(HostsSpec::Many(hosts)) => hosts,
            },
            sources,
            rules,
            match_multiple_rules: spec.match_multiple_rules,
            default_events_ttl,
            execution_strategy: match spec.execution_strategy.unwrap_or_default() {
                ExecutionStrategySpec::Sequential => ExecutionStrategy::Sequential,
                ExecutionStrategySpec::Parallel => ExecutionStrategy::Parallel,
            },
            inhibit,
            name,
        })
    }

    fn source(&mut self, kafka: &Located<super::spec::KafkaSourceSpec>) -> Option<KafkaSource> {
        let spec = &kafka.value;
        let mut topics: Vec<String> = spec.topic.iter().cloned().collect();
        topics.extend(spec.topics.iter().cloned());
        if topics.is_empty() {
            self.errors.push(Diagnostic::new(
                kafka.pos,
                "a kafka source needs `topic` or `topics`",
            ));
            return None;
        }
        Some(KafkaSource {
            topics,
            group_id: spec.group_id.clone(),
            split_on: spec.split_on.clone(),
            offset: match spec.offset {
                Some(OffsetSpec::Latest) => Offset::Latest,
                Some(OffsetSpec::Earliest) | None => Offset::Earliest,
            },
        })
    }

    /// `context` is the fingerprint of the ruleset settings the rule depends on; `vars` the
    /// ruleset's, which its templates may name.
    fn rule(
        &mut self,
        node: &Node,
        ruleset: &str,
        context: u64,
        vars: &serde_json::Value,
    ) -> Option<Rule> {
        let spec: RuleSpec = match from_node_all(node) {
            Ok(spec) => spec,
            Err(errors) => {
                errors.into_iter().for_each(|err| self.push_de(node, err));
                return None;
            }
        };
        let label = format!("{ruleset}/{}", spec.name.value);
        let condition = self.condition(&spec.condition);
        let throttle = spec.throttle.as_ref().and_then(|t| self.throttle(t));
        let multi = condition
            .as_ref()
            .is_some_and(|c| !matches!(c, RuleCondition::Single(_)));
        if spec.throttle.is_some() && multi {
            let pos = spec.throttle.as_ref().map_or(node.pos, |t| t.pos);
            self.errors.push(Diagnostic::new(
                pos,
                "`throttle` works only with a single condition, as in ansible-rulebook",
            ));
        }
        let window = self.rule_window(&spec, multi, throttle.as_ref());
        let max_keys = self.max_keys(&spec);
        let actions = self.actions(node, &spec, &label, vars);
        Some(Rule {
            name: spec.name.value,
            enabled: spec.enabled,
            condition: condition?,
            throttle,
            window: window?,
            max_keys,
            actions: actions?,
            fingerprint: fingerprint::rule(context, node),
        })
    }

    fn actions(
        &mut self,
        node: &Node,
        spec: &RuleSpec,
        label: &str,
        vars: &serde_json::Value,
    ) -> Option<Vec<Action>> {
        let nodes: Vec<&Node> = match (&spec.action, &spec.actions) {
            (Some(_), Some(_)) => {
                self.errors.push(Diagnostic::new(
                    node.pos,
                    "a rule has `action` or `actions`, not both",
                ));
                return None;
            }
            (None, None) => {
                self.errors.push(Diagnostic::new(
                    spec.name.pos,
                    "a rule needs `action` or `actions`",
                ));
                return None;
            }
            (Some(one), None) => vec![one],
            (None, Some(list)) => list.iter().collect(),
        };
        if nodes.is_empty() {
            self.errors
                .push(Diagnostic::new(node.pos, "`actions` is empty"));
        }
        let mut actions = Vec::new();
        for (index, action_node) in nodes.into_iter().enumerate() {
            let scope = Scope {
                source: self.source,
                vars,
            };
            match Action::compile(
                action_node,
                &mut self.templates,
                &format!("{label}/{index}"),
                scope,
            ) {
                Ok(action) => actions.push(action),
                Err(errors) => self.errors.extend(errors),
            }
        }
        Some(actions)
    }

    fn throttle(&mut self, located: &Located<ThrottleSpec>) -> Option<Throttle> {
        let spec = &located.value;
        let modes = [
            &spec.once_within,
            &spec.once_after,
            &spec.group_after,
            &spec.accumulate_within,
        ];
        if modes.iter().filter(|m| m.is_some()).count() != 1 {
            self.errors.push(Diagnostic::new(
                located.pos,
                "`throttle` needs exactly one of `once_within`, `once_after`, `group_after`, `accumulate_within`",
            ));
            return None;
        }
        let group_by: Vec<Option<Expr>> = spec
            .group_by
            .iter()
            .map(|g| self.expr(&g.value, g.pos))
            .collect();
        let mode = if let Some(window) = &spec.once_within {
            ThrottleMode::OnceWithin(self.duration(window)?)
        } else if let Some(window) = &spec.once_after {
            ThrottleMode::OnceAfter(self.duration(window)?)
        } else if let Some(window) = &spec.group_after {
            ThrottleMode::GroupAfter(self.duration(window)?)
        } else {
            let window = spec
                .accumulate_within
                .as_ref()
                .and_then(|w| self.duration(w))?;
            let Some(threshold) = &spec.threshold else {
                self.errors.push(Diagnostic::new(
                    located.pos,
                    "`accumulate_within` needs a `threshold`",
                ));
                return None;
            };
            ThrottleMode::AccumulateWithin {
                window,
                threshold: threshold.value.max(1),
            }
        };
        Some(Throttle {
            mode,
            group_by: group_by.into_iter().collect::<Option<_>>()?,
        })
    }

    pub(super) fn duration(&mut self, value: &Located<serde_json::Value>) -> Option<Duration> {
        match duration::parse(&value.value) {
            Ok(d) => Some(d),
            Err(message) => {
                self.errors.push(Diagnostic::new(value.pos, message));
                None
            }
        }
    }

    fn duration_or(
        &mut self,
        value: Option<&Located<serde_json::Value>>,
        default: Duration,
    ) -> Duration {
        value.and_then(|v| self.duration(v)).unwrap_or(default)
    }

    pub(super) fn push_de(&mut self, node: &Node, err: DeError) {
        self.errors
            .push(Diagnostic::new(err.pos.unwrap_or(node.pos), err.message).with_width(err.width));
    }

    fn check_unique<'n>(&mut self, names: impl Iterator<Item = (&'n String, Pos)>, what: &str) {
        let mut seen = HashSet::new();
        for (name, pos) in names {
            if !seen.insert(name.clone()) {
                self.errors.push(Diagnostic::new(
                    pos,
                    format!("duplicate {what} name `{name}`"),
                ));
            }
        }
    }

    /// `set_fact`, `retract_fact` and `post_event` may name another ruleset: it must exist.
    fn check_targets(&mut self, rulesets: &[Ruleset]) {
        let names: Vec<&str> = rulesets.iter().map(|r| r.name.as_str()).collect();
        for action in rulesets
            .iter()
            .flat_map(|r| &r.rules)
            .flat_map(|rule| &rule.actions)
        {
            let engine = matches!(
                action.kind,
                ActionKind::SetFact | ActionKind::RetractFact | ActionKind::PostEvent
            );
            if let Some(target) = action.target.ruleset.as_deref().filter(|_| engine)
                && !names.contains(&target)
            {
                let hint = crate::condition::suggest::closest(target, &names)
                    .map(|n| format!(", did you mean `{n}`?"))
                    .unwrap_or_default();
                self.errors.push(Diagnostic::new(
                    action.pos,
                    format!("no ruleset named `{target}`{hint}"),
                ));
            }
        }
    }
}

fn items_pos(items: &[Node], name: &str) -> Pos {
    items
        .iter()
        .rev()
        .find_map(|item| {
            item.get("name")
                .filter(|n| n.kind == NodeKind::Str(name.to_owned()))
                .map(|n| n.pos)
        })
        .unwrap_or_default()
}

fn to_variable(value: &serde_json::Value) -> jmespath::Rcvar {
    std::sync::Arc::new(jmespath::Variable::try_from(value).unwrap_or(jmespath::Variable::Null))
}

/// The vars of a ruleset that has none.
pub(super) fn no_vars() -> Rcvar {
    to_variable(&serde_json::Value::Object(serde_json::Map::new()))
}
