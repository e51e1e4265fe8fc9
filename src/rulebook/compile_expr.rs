//! The conditions of a rule (one expression, or `all`/`any`/`not_all`) and the `vars` they read:
//! every expression is compiled, its error located inside the YAML string, and its warnings
//! (`condition::lint`, which sees the ruleset's vars) kept for `rules check`. A var that looks like a
//! template is warned about too: vars are taken as written.

use super::compile::Compiler;
use super::de::{Located, from_node_all};
use super::diagnostic::Diagnostic;
use super::model::RuleCondition;
use super::position;
use super::spec::MultiConditionSpec;
use super::yaml::{Node, NodeKind, Pos};
use crate::condition::{CompileError, Expr, lint};

impl Compiler<'_> {
    pub(super) fn vars(&mut self, node: Option<&Node>) -> serde_json::Value {
        match node {
            None => serde_json::Value::Object(serde_json::Map::new()),
            Some(node) if node.entries().is_some() => {
                self.templates_in_vars(node, "vars");
                node.to_json()
            }
            Some(node) => {
                self.errors.push(Diagnostic::new(
                    node.pos,
                    format!("`vars` must be a mapping, found {}", node.type_name()),
                ));
                serde_json::Value::Null
            }
        }
    }

    pub(super) fn condition(&mut self, node: &Node) -> Option<RuleCondition> {
        match &node.kind {
            NodeKind::Str(_) | NodeKind::Bool(_) => self.expr_node(node).map(RuleCondition::Single),
            NodeKind::Map(_) => self.multi_condition(node),
            _ => {
                self.errors.push(Diagnostic::new(
                    node.pos,
                    format!("a condition is a JMESPath string or a mapping with all/any/not_all, found {}", node.type_name()),
                ));
                None
            }
        }
    }

    fn multi_condition(&mut self, node: &Node) -> Option<RuleCondition> {
        let spec: MultiConditionSpec = match from_node_all(node) {
            Ok(spec) => spec,
            Err(errors) => {
                errors.into_iter().for_each(|err| self.push_de(node, err));
                return None;
            }
        };
        let timeout = spec.timeout.as_ref().and_then(|t| self.duration(t));
        match (spec.all, spec.any, spec.not_all) {
            (Some(all), None, None) => {
                let conditions = self.exprs(&all)?;
                let admit = conditions
                    .iter()
                    .map(|c| c.independent_of("events"))
                    .collect();
                Some(RuleCondition::All {
                    conditions,
                    admit,
                    timeout,
                })
            }
            (None, Some(any), None) => Some(RuleCondition::Any(self.exprs(&any)?)),
            (None, None, Some(not_all)) => {
                let Some(timeout) = timeout else {
                    self.errors
                        .push(Diagnostic::new(node.pos, "`not_all` needs a `timeout`"));
                    return None;
                };
                Some(RuleCondition::NotAll {
                    conditions: self.exprs(&not_all)?,
                    timeout,
                })
            }
            _ => {
                self.errors.push(Diagnostic::new(
                    node.pos,
                    "a condition mapping has exactly one of `all`, `any`, `not_all`",
                ));
                None
            }
        }
    }

    fn exprs(&mut self, items: &[Located<String>]) -> Option<Vec<Expr>> {
        if items.is_empty() {
            self.errors.push(Diagnostic::new(
                Pos::default(),
                "the condition list is empty",
            ));
        }
        let compiled: Vec<Option<Expr>> = items
            .iter()
            .map(|item| self.expr(&item.value, item.pos))
            .collect();
        compiled.into_iter().collect()
    }

    fn expr_node(&mut self, node: &Node) -> Option<Expr> {
        match &node.kind {
            NodeKind::Str(text) => self.expr(text, node.pos),
            NodeKind::Bool(b) => self.expr(&format!("`{b}`"), node.pos),
            _ => None,
        }
    }

    pub(super) fn expr(&mut self, text: &str, pos: Pos) -> Option<Expr> {
        self.checked(Expr::compile(text), text, pos)
    }

    /// The compiled expression, its error or warnings recorded at their place in the file.
    pub(super) fn checked(
        &mut self,
        compiled: Result<Expr, CompileError>,
        text: &str,
        pos: Pos,
    ) -> Option<Expr> {
        match compiled {
            Ok(expr) => {
                for found in lint(&expr, &self.vars) {
                    let at = position::inside_scalar(self.source, pos, text, found.offset);
                    self.warnings.push(Diagnostic::warning(at, found.message));
                }
                Some(expr)
            }
            Err(err) => {
                let at = position::inside_scalar(self.source, pos, text, err.offset());
                let hint = match (&err, super::eda::condition(text)) {
                    (CompileError::Syntax { .. }, Ok(js)) => {
                        format!("; this is ansible-rulebook syntax: in JMESPath write: {js}")
                    }
                    _ => String::new(),
                };
                self.errors
                    .push(Diagnostic::new(at, format!("{err}{hint}")));
                None
            }
        }
    }

    /// `{{ env.SITE }}` in vars reaches conditions and templates as that text, never rendered.
    fn templates_in_vars(&mut self, node: &Node, path: &str) {
        match &node.kind {
            NodeKind::Str(text) if looks_like_template(text) => {
                self.warnings.push(Diagnostic::warning(
                    node.pos,
                    format!(
                        "`{path}` looks like a template, but vars are not rendered: conditions and \
                         actions see the text {text:?}; write the value itself (in an action \
                         argument the template works as it is)"
                    ),
                ));
            }
            NodeKind::Map(entries) => {
                for (key, value) in entries {
                    self.templates_in_vars(value, &format!("{path}.{}", key.name));
                }
            }
            NodeKind::Seq(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.templates_in_vars(item, &format!("{path}[{index}]"));
                }
            }
            _ => {}
        }
    }
}

fn looks_like_template(text: &str) -> bool {
    let between = |open: &str, close: &str| {
        text.find(open)
            .is_some_and(|start| text[start..].contains(close))
    };
    between("{{", "}}") || between("{%", "%}")
}
