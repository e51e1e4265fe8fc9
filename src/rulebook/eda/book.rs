//! The rulebook around the conditions: rulesets and rules checked key by key against what
//! ansible-rulebook 1.3.2 accepts, and written out as semaphore YAML (conditions under a comment with
//! the EDA original, throttles with `group_by`). Sources and actions are [`super::sources`]' and
//! [`super::actions`]'. Problems are collected as located diagnostics.

use super::super::diagnostic::Diagnostic;
use super::super::position;
use super::super::yaml::{Node, NodeKind, Pos};
use super::ast::Kind;
use super::emit::Emitter;
use super::out::Out;
use super::{ConditionError, Options, parse};

const RULESET_KEYS: &[&str] = &[
    "name",
    "hosts",
    "sources",
    "rules",
    "gather_facts",
    "default_events_ttl",
    "execution_strategy",
    "match_multiple_rules",
];
const RULE_KEYS: &[&str] = &[
    "name",
    "condition",
    "action",
    "actions",
    "enabled",
    "throttle",
];
const THROTTLE_KEYS: &[&str] = &[
    "once_within",
    "once_after",
    "accumulate_within",
    "threshold",
    "group_by_attributes",
];

pub struct Translator<'s> {
    pub source: &'s str,
    pub options: &'s Options,
    pub out: Out,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl<'s> Translator<'s> {
    pub fn new(source: &'s str, options: &'s Options) -> Self {
        Translator {
            source,
            options,
            out: Out::default(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn finish(self) -> (String, Vec<Diagnostic>, Vec<Diagnostic>) {
        (self.out.text(), self.errors, self.warnings)
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(pos, message));
    }

    pub fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.warnings.push(Diagnostic::warning(pos, message));
    }

    pub fn rulebook(&mut self, root: &Node) {
        self.out.comment(
            0,
            "Translated from an ansible-rulebook rulebook by `semaphore rules import`.",
        );
        match &root.kind {
            NodeKind::Seq(rulesets) if !rulesets.is_empty() => {
                rulesets.iter().for_each(|ruleset| self.ruleset(ruleset));
            }
            _ => self.error(root.pos, "an EDA rulebook is a non-empty list of rulesets"),
        }
    }

    /// Reports keys not in `known`, with the closest known one; the entries otherwise.
    pub fn entries<'n>(
        &mut self,
        node: &'n Node,
        known: &[&str],
        what: &str,
    ) -> &'n [(super::super::yaml::Key, Node)] {
        let Some(entries) = node.entries() else {
            self.error(
                node.pos,
                format!("{what} must be a mapping, found {}", node.type_name()),
            );
            return &[];
        };
        for (key, _) in entries {
            if !known.contains(&key.name.as_str()) {
                let hint = crate::condition::suggest::closest(&key.name, known)
                    .map(|k| format!(", did you mean `{k}`?"))
                    .unwrap_or_default();
                self.errors.push(
                    Diagnostic::new(key.pos, format!("unknown {what} key `{}`{hint}", key.name))
                        .with_width(key.name.chars().count()),
                );
            }
        }
        entries
    }

    fn ruleset(&mut self, node: &Node) {
        let entries = self.entries(node, RULESET_KEYS, "ruleset");
        if node.get("name").is_none() {
            self.error(node.pos, "a ruleset needs a `name`");
        }
        for key in ["hosts", "sources", "rules"] {
            if node.get(key).is_none() && node.entries().is_some() {
                self.error(node.pos, format!("an EDA ruleset needs `{key}`"));
            }
        }
        let mut settings = Out::default();
        for (key, value) in entries {
            match key.name.as_str() {
                "name"
                | "hosts"
                | "default_events_ttl"
                | "execution_strategy"
                | "match_multiple_rules" => {
                    if key.name == "default_events_ttl" {
                        self.duration(value);
                    }
                    settings.field(0, &key.name, value);
                }
                "gather_facts" if value.kind == NodeKind::Bool(true) => {
                    self.warn(
                        key.pos,
                        "gather_facts is not supported: dropped (host facts are not inserted)",
                    );
                }
                _ => {}
            }
        }
        if settings.lines.is_empty() {
            return;
        }
        self.out.dashed(0, settings);
        if let Some(sources) = node.get("sources") {
            self.sources(sources);
        }
        match node.get("rules").map(|r| &r.kind) {
            Some(NodeKind::Seq(rules)) => {
                self.out.line(2, "rules:");
                rules.iter().for_each(|rule| self.rule(rule));
            }
            Some(_) => self.error(node.pos, "`rules` must be a list"),
            None => {}
        }
    }

    fn rule(&mut self, node: &Node) {
        let entries = self.entries(node, RULE_KEYS, "rule");
        if node.get("name").is_none() {
            self.error(node.pos, "a rule needs a `name`");
        }
        let mut body = Out::default();
        for (key, value) in entries {
            match key.name.as_str() {
                "name" | "enabled" => body.field(0, &key.name, value),
                "condition" => self.condition(&mut body, value),
                "throttle" => self.throttle(&mut body, value),
                _ => {}
            }
        }
        match (node.get("action"), node.get("actions")) {
            (Some(_), Some(_)) => {
                self.error(node.pos, "a rule has `action` or `actions`, not both")
            }
            (Some(action), None) => self.actions(&mut body, std::slice::from_ref(action)),
            (
                None,
                Some(Node {
                    kind: NodeKind::Seq(list),
                    ..
                }),
            ) => self.actions(&mut body, list),
            (None, Some(other)) => self.error(other.pos, "`actions` must be a list"),
            (None, None) => self.error(node.pos, "a rule needs `action` or `actions`"),
        }
        match (node.get("condition"), node.get("throttle")) {
            (None, _) => self.error(node.pos, "a rule needs a `condition`"),
            (Some(condition), Some(throttle)) if condition.entries().is_some() => self.error(
                throttle.pos,
                "`throttle` works only with a single condition, as in ansible-rulebook",
            ),
            _ => {}
        }
        self.out.dashed(4, body);
    }

    fn condition(&mut self, out: &mut Out, node: &Node) {
        match &node.kind {
            NodeKind::Bool(b) => out.line(0, format!("condition: {b}")),
            NodeKind::Str(text) => {
                let mut emitter = Emitter::new(self.options.vars.as_ref());
                if let Some(js) = self.one(&mut emitter, text, node.pos, None) {
                    out.comment(0, &format!("EDA: {text}"));
                    out.literal(0, "condition: ", &js);
                }
            }
            NodeKind::Map(_) => self.multi(out, node),
            _ => self.error(
                node.pos,
                format!(
                    "a condition is a string or a mapping with all/any/not_all, found {}",
                    node.type_name()
                ),
            ),
        }
    }

    fn multi(&mut self, out: &mut Out, node: &Node) {
        let entries = self.entries(node, &["all", "any", "not_all", "timeout"], "condition");
        let lists: Vec<_> = entries
            .iter()
            .filter(|(k, _)| k.name != "timeout")
            .collect();
        let [(key, list)] = lists.as_slice() else {
            self.error(
                node.pos,
                "a condition mapping has one of all, any or not_all",
            );
            return;
        };
        let NodeKind::Seq(items) = &list.kind else {
            self.error(
                list.pos,
                format!("`{}` must be a list of conditions", key.name),
            );
            return;
        };
        let mut emitter = Emitter::new(self.options.vars.as_ref());
        out.line(0, "condition:");
        out.line(2, format!("{}:", key.name));
        for (index, item) in items.iter().enumerate() {
            let NodeKind::Str(text) = &item.kind else {
                self.error(item.pos, "each condition of the list is a string");
                continue;
            };
            if let Some(js) = self.one(&mut emitter, text, item.pos, Some(index)) {
                out.comment(4, &format!("EDA: {text}"));
                out.literal(4, "- ", &js);
            }
        }
        if let Some(timeout) = node.get("timeout") {
            self.duration(timeout);
            out.field(2, "timeout", timeout);
        }
    }

    /// One condition's JMESPath, or `None` after reporting why. In a list (at `index`), a leading
    /// `events.NAME <<` names the match (`m_INDEX`) for the conditions after it.
    fn one(
        &mut self,
        emitter: &mut Emitter,
        text: &str,
        pos: Pos,
        index: Option<usize>,
    ) -> Option<String> {
        let located =
            |err: &ConditionError| position::inside_scalar(self.source, pos, text, err.at);
        let parsed = parse::parse(text)
            .map_err(|err| {
                self.errors
                    .push(Diagnostic::new(located(&err), err.message.clone()))
            })
            .ok()?;
        let expr = match parsed.kind {
            Kind::Assign { name, condition } => {
                if let Some(index) = index {
                    emitter.names.insert(name, index);
                }
                *condition
            }
            _ => parsed,
        };
        let result = emitter.emit(&expr, true);
        for warning in std::mem::take(&mut emitter.warnings) {
            self.warnings
                .push(Diagnostic::warning(located(&warning), warning.message));
        }
        match result {
            Ok(js) => Some(js.text),
            Err(err) => {
                self.errors
                    .push(Diagnostic::new(located(&err), err.message));
                None
            }
        }
    }

    fn throttle(&mut self, out: &mut Out, node: &Node) {
        let entries = self.entries(node, THROTTLE_KEYS, "throttle");
        out.line(0, "throttle:");
        for (key, value) in entries {
            match key.name.as_str() {
                "group_by_attributes" => self.group_by(out, value),
                "threshold" => out.field(2, &key.name, value),
                _ => {
                    self.duration(value);
                    out.field(2, &key.name, value);
                }
            }
        }
        if node.get("group_by_attributes").is_none() && node.entries().is_some() {
            self.error(node.pos, "EDA's throttle needs `group_by_attributes`");
        }
    }

    /// Reports a duration semaphore cannot read (`10 minutes`, `30 seconds`, a number of seconds)
    /// at its place in the EDA file.
    fn duration(&mut self, node: &Node) {
        if let Err(message) = super::super::duration::parse(&node.to_json()) {
            self.error(node.pos, message);
        }
    }

    fn group_by(&mut self, out: &mut Out, node: &Node) {
        let NodeKind::Seq(items) = &node.kind else {
            self.error(node.pos, "`group_by_attributes` must be a list of paths");
            return;
        };
        let mut emitter = Emitter::new(None);
        out.line(2, "group_by:");
        for item in items {
            let text = match &item.kind {
                NodeKind::Str(text) => text,
                _ => {
                    self.error(item.pos, "each attribute is a path such as `event.serial`");
                    continue;
                }
            };
            match parse::parse(text) {
                Ok(expr) => match &expr.kind {
                    Kind::Path(path) => {
                        let js = emitter.path(path, 0).expr;
                        out.line(4, format!("- {}", super::out::scalar_text(&js)));
                    }
                    _ => self.error(item.pos, "each attribute is a path such as `event.serial`"),
                },
                Err(err) => {
                    let at = position::inside_scalar(self.source, item.pos, text, err.at);
                    self.error(at, err.message);
                }
            }
        }
    }
}
