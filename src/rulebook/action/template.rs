//! Jinja templates in action arguments (minijinja with Python-compatible methods). Every string in an
//! action's arguments is compiled once at load into a [`TemplateValue`]; rendering fills in the firing's
//! context. A string that is exactly one `{{ expression }}` renders to a native JSON value (number, list,
//! object), like ansible-rulebook's native Jinja. Undefined variables are errors, and so is a referenced
//! environment variable that is not set. It renders; it does not send anything.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{Environment, UndefinedBehavior, Value as JinjaValue};
use serde_json::Value;

use crate::rulebook::{Node, NodeKind};

/// Compiled templates of one rulebook, addressed by name.
#[derive(Debug)]
pub struct TemplateSet {
    env: Environment<'static>,
    env_names: BTreeSet<String>,
}

/// An action argument: literal JSON with compiled templates at its string leaves.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateValue {
    Literal(Value),
    /// Renders to a string.
    Text(TemplateRef),
    /// Renders `{{ expr }}` to its native JSON value.
    Native(TemplateRef),
    Array(Vec<TemplateValue>),
    Object(Vec<(String, TemplateValue)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRef {
    name: String,
    /// Environment variables the template reads, checked before rendering for a clear error.
    env_vars: Vec<String>,
}

/// A template that does not compile, with the place inside the rulebook.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSyntaxError {
    pub node: crate::rulebook::Pos,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("environment variable `{0}` is not set")]
    MissingEnv(String),
    #[error("template `{template}`: {message}")]
    Template { template: String, message: String },
}

/// The values a template may use, built once per firing.
pub struct RenderContext<'a> {
    pub value: JinjaValue,
    pub env: &'a BTreeMap<String, String>,
}

impl Default for TemplateSet {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        minijinja_contrib::add_to_environment(&mut env);
        TemplateSet {
            env,
            env_names: BTreeSet::new(),
        }
    }
}

impl TemplateSet {
    /// Compiles every string under `node`; `label` names the templates (it shows in render errors).
    pub fn compile(
        &mut self,
        node: &Node,
        label: &str,
    ) -> Result<TemplateValue, Vec<TemplateSyntaxError>> {
        let mut errors = Vec::new();
        let value = self.compile_node(node, label, &mut errors);
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(errors)
        }
    }

    fn compile_node(
        &mut self,
        node: &Node,
        label: &str,
        errors: &mut Vec<TemplateSyntaxError>,
    ) -> TemplateValue {
        match &node.kind {
            NodeKind::Str(text) if text.contains("{{") || text.contains("{%") => {
                let name = format!("{label}@{}:{}", node.pos.line, node.pos.col);
                match self.add(&name, text) {
                    Ok(value) => value,
                    Err(message) => {
                        errors.push(TemplateSyntaxError {
                            node: node.pos,
                            message,
                        });
                        TemplateValue::Literal(Value::Null)
                    }
                }
            }
            NodeKind::Seq(items) => TemplateValue::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.compile_node(item, &format!("{label}[{i}]"), errors))
                    .collect(),
            ),
            NodeKind::Map(entries) => TemplateValue::Object(
                entries
                    .iter()
                    .map(|(key, value)| {
                        let child =
                            self.compile_node(value, &format!("{label}.{}", key.name), errors);
                        (key.name.clone(), child)
                    })
                    .collect(),
            ),
            _ => TemplateValue::Literal(node.to_json()),
        }
    }

    fn add(&mut self, name: &str, text: &str) -> Result<TemplateValue, String> {
        let native = single_expression(text);
        let source = match native {
            // `tojson` keeps the value's type through the string round trip.
            Some(expr) => format!("{{{{ ({expr}) | tojson }}}}"),
            None => text.to_owned(),
        };
        self.env
            .add_template_owned(name.to_owned(), source)
            .map_err(|err| describe(&err))?;
        let template = self.env.get_template(name).map_err(|err| describe(&err))?;
        let env_vars: Vec<String> = template
            .undeclared_variables(true)
            .into_iter()
            .filter_map(|var| var.strip_prefix("env.").map(str::to_owned))
            .collect();
        self.env_names.extend(env_vars.iter().cloned());
        let reference = TemplateRef {
            name: name.to_owned(),
            env_vars,
        };
        Ok(match native {
            Some(_) => TemplateValue::Native(reference),
            None => TemplateValue::Text(reference),
        })
    }

    /// Every environment variable any template reads: their values are treated as secrets.
    pub fn env_names(&self) -> &BTreeSet<String> {
        &self.env_names
    }

    /// Renders a compiled value in `context`.
    pub fn render(
        &self,
        value: &TemplateValue,
        context: &RenderContext<'_>,
    ) -> Result<Value, RenderError> {
        match value {
            TemplateValue::Literal(v) => Ok(v.clone()),
            TemplateValue::Text(reference) => {
                self.render_text(reference, context).map(Value::String)
            }
            TemplateValue::Native(reference) => {
                let text = self.render_text(reference, context)?;
                serde_json::from_str(&text).map_err(|err| RenderError::Template {
                    template: reference.name.clone(),
                    message: format!("the expression did not produce JSON: {err}"),
                })
            }
            TemplateValue::Array(items) => items
                .iter()
                .map(|item| self.render(item, context))
                .collect(),
            TemplateValue::Object(entries) => entries
                .iter()
                .map(|(key, item)| Ok((key.clone(), self.render(item, context)?)))
                .collect::<Result<serde_json::Map<_, _>, _>>()
                .map(Value::Object),
        }
    }

    fn render_text(
        &self,
        reference: &TemplateRef,
        context: &RenderContext<'_>,
    ) -> Result<String, RenderError> {
        if let Some(missing) = reference
            .env_vars
            .iter()
            .find(|var| !context.env.contains_key(*var))
        {
            return Err(RenderError::MissingEnv(missing.clone()));
        }
        let template =
            self.env
                .get_template(&reference.name)
                .map_err(|err| RenderError::Template {
                    template: reference.name.clone(),
                    message: describe(&err),
                })?;
        template
            .render(&context.value)
            .map_err(|err| RenderError::Template {
                template: reference.name.clone(),
                message: describe(&err),
            })
    }
}

/// The expression inside `{{ ... }}` when that is the whole string.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let nested = inner.contains("{{") || inner.contains("}}") || inner.contains("{%");
    (!nested).then_some(inner.trim())
}

fn describe(err: &minijinja::Error) -> String {
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::yaml;

    fn compile(yaml_text: &str) -> (TemplateSet, TemplateValue) {
        let mut set = TemplateSet::default();
        let node = yaml::parse(yaml_text).unwrap();
        let value = set.compile(&node, "t").unwrap();
        (set, value)
    }

    fn render(
        set: &TemplateSet,
        value: &TemplateValue,
        env: &BTreeMap<String, String>,
    ) -> Result<Value, RenderError> {
        let context = RenderContext {
            value: minijinja::context! {
                event => serde_json::json!({"serial": "Q2-1", "loss": 7.5, "tags": ["a", "b"]}),
            },
            env,
        };
        set.render(value, &context)
    }

    #[test]
    fn a_single_expression_keeps_its_json_type() {
        let (set, value) = compile(
            "{loss: '{{ event.loss }}', tags: '{{ event.tags }}', text: 'x {{ event.loss }}'}",
        );
        let rendered = render(&set, &value, &BTreeMap::new()).unwrap();
        assert_eq!(
            rendered,
            serde_json::json!({"loss": 7.5, "tags": ["a", "b"], "text": "x 7.5"})
        );
    }

    #[test]
    fn python_methods_and_jinja_filters_work() {
        let (set, value) = compile(
            "'{{ event.serial.lower() }} {{ event.tags | join(\", \") }} {{ event.nope | default(\"n/a\") }}'",
        );
        assert_eq!(
            render(&set, &value, &BTreeMap::new()).unwrap(),
            serde_json::json!("q2-1 a, b n/a")
        );
    }

    #[test]
    fn undefined_values_are_errors_not_empty_strings() {
        let (set, value) = compile("'{{ event.missing.deeper }}'");
        assert!(render(&set, &value, &BTreeMap::new()).is_err());
    }

    #[test]
    fn an_unset_environment_variable_is_named_in_the_error() {
        let (set, value) = compile("'{{ env.CHAT_URL }}/post'");
        let err = render(&set, &value, &BTreeMap::new()).unwrap_err();
        assert_eq!(err, RenderError::MissingEnv("CHAT_URL".into()));
        let env = BTreeMap::from([("CHAT_URL".to_owned(), "http://127.0.0.1:1".to_owned())]);
        let context = RenderContext {
            value: minijinja::context! { env => &env },
            env: &env,
        };
        assert_eq!(
            set.render(&value, &context).unwrap(),
            serde_json::json!("http://127.0.0.1:1/post")
        );
    }

    #[test]
    fn syntax_errors_are_reported_at_load_with_the_node_position() {
        let mut set = TemplateSet::default();
        let node = yaml::parse("a: ok\nb: '{{ event.x | }}'\n").unwrap();
        let errors = set.compile(&node, "t").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].node.line, 2);
        assert!(
            errors[0].message.contains("syntax error"),
            "{}",
            errors[0].message
        );
    }
}
