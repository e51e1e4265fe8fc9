//! Jinja templates in action arguments (minijinja with Python-compatible methods). Every string in an
//! action's arguments is compiled once at load into a [`TemplateValue`]; rendering fills in the firing's
//! context. A string that is exactly one `{{ expression }}` renders to a native JSON value (number, list,
//! object), like ansible-rulebook's native Jinja. Undefined variables are errors, and so is a referenced
//! environment variable that is not set; the error names the variable. Names that cannot resolve are
//! load errors ([`super::template_check`]). It renders; it does not send anything.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{Environment, UndefinedBehavior, Value as JinjaValue};
use serde_json::Value;

use super::template_check::{Known, NameError, Scope, undefined_path};
use crate::rulebook::position::inside_scalar;
use crate::rulebook::{Node, NodeKind};

/// Compiled templates of one rulebook, addressed by name.
#[derive(Debug)]
pub struct TemplateSet {
    env: Environment<'static>,
    /// Environment variables the templates read, with the first string that reads each.
    env_reads: BTreeMap<String, crate::rulebook::Pos>,
    known: Known,
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
    /// Its variables with their attribute chains, to name the one that is undefined.
    paths: BTreeSet<String>,
}

/// A template that does not compile or names what cannot exist, with the place in the rulebook (in
/// the string, where the string's form allows).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSyntaxError {
    pub pos: crate::rulebook::Pos,
    /// Characters the caret covers.
    pub width: usize,
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
        env.add_filter(NATIVE_FILTER, native_json);
        TemplateSet {
            env,
            env_reads: BTreeMap::new(),
            known: Known::default(),
        }
    }
}

impl TemplateSet {
    /// Compiles every string under `node`; `label` names the templates (it shows in render errors).
    pub fn compile(
        &mut self,
        node: &Node,
        label: &str,
        scope: Scope<'_>,
    ) -> Result<TemplateValue, Vec<TemplateSyntaxError>> {
        let mut errors = Vec::new();
        let value = self.compile_node(node, label, scope, &mut errors);
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
        scope: Scope<'_>,
        errors: &mut Vec<TemplateSyntaxError>,
    ) -> TemplateValue {
        match &node.kind {
            NodeKind::Str(text) if text.contains("{{") || text.contains("{%") => {
                let name = format!("{label}@{}:{}", node.pos.line, node.pos.col);
                match self.add(&name, text, node.pos, scope) {
                    Ok(value) => value,
                    Err(found) => {
                        errors.extend(found.into_iter().map(|error| TemplateSyntaxError {
                            pos: inside_scalar(scope.source, node.pos, text, error.offset),
                            width: error.width,
                            message: error.message,
                        }));
                        TemplateValue::Literal(Value::Null)
                    }
                }
            }
            NodeKind::Seq(items) => TemplateValue::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.compile_node(item, &format!("{label}[{i}]"), scope, errors)
                    })
                    .collect(),
            ),
            NodeKind::Map(entries) => TemplateValue::Object(
                entries
                    .iter()
                    .map(|(key, value)| {
                        let label = format!("{label}.{}", key.name);
                        let child = self.compile_node(value, &label, scope, errors);
                        (key.name.clone(), child)
                    })
                    .collect(),
            ),
            _ => TemplateValue::Literal(node.to_json()),
        }
    }

    /// Compiles one string; errors are (character offset into `text`, message).
    fn add(
        &mut self,
        name: &str,
        text: &str,
        pos: crate::rulebook::Pos,
        scope: Scope<'_>,
    ) -> Result<TemplateValue, Vec<NameError>> {
        let native = single_expression(text);
        let source = match native {
            // JSON keeps the value's type through the string round trip.
            Some(expr) => format!("{{{{ ({expr}) | {NATIVE_FILTER} }}}}"),
            None => text.to_owned(),
        };
        let syntax = |err: minijinja::Error| {
            vec![NameError {
                offset: syntax_offset(&err, text, native),
                width: 1,
                message: describe(&err),
            }]
        };
        self.env
            .add_template_owned(name.to_owned(), source)
            .map_err(syntax)?;
        let template = self.env.get_template(name).map_err(syntax)?;
        let variables: BTreeSet<String> =
            template.undeclared_variables(false).into_iter().collect();
        let paths: BTreeSet<String> = template.undeclared_variables(true).into_iter().collect();
        let unknown = self.known.check(&self.env, text, &variables, &paths, scope);
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let env_vars: Vec<String> = paths
            .iter()
            .filter_map(|var| var.strip_prefix("env.").map(str::to_owned))
            .collect();
        for var in &env_vars {
            self.env_reads.entry(var.clone()).or_insert(pos);
        }
        let reference = TemplateRef {
            name: name.to_owned(),
            env_vars,
            paths,
        };
        Ok(match native {
            Some(_) => TemplateValue::Native(reference),
            None => TemplateValue::Text(reference),
        })
    }

    /// Every environment variable any template reads, with where it is first read. Their values are
    /// treated as secrets.
    pub fn env_reads(&self) -> &BTreeMap<String, crate::rulebook::Pos> {
        &self.env_reads
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
                message: match err.kind() {
                    minijinja::ErrorKind::UndefinedError => {
                        undefined_message(&err, reference, &context.value)
                    }
                    _ => describe(&err),
                },
            })
    }
}

/// Renders a whole-string expression as JSON. Unlike `tojson` it refuses an undefined value, which
/// would otherwise become `null` without a word (strict mode lets filters take undefined).
const NATIVE_FILTER: &str = "_semaphore_native";

fn native_json(value: JinjaValue) -> Result<String, minijinja::Error> {
    if value.is_undefined() {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            "the expression is undefined",
        ));
    }
    serde_json::to_string(&value).map_err(|err| {
        minijinja::Error::new(minijinja::ErrorKind::BadSerialization, err.to_string())
    })
}

/// The expression inside `{{ ... }}` when that is the whole string.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let nested = inner.contains("{{") || inner.contains("}}") || inner.contains("{%");
    (!nested).then_some(inner.trim())
}

/// Names the undefined variable: the path around where minijinja points (it points at the attribute
/// steps, a default filter elsewhere may guard other paths), else the first undefined path.
fn undefined_message(
    err: &minijinja::Error,
    reference: &TemplateRef,
    context: &JinjaValue,
) -> String {
    let pointed = err
        .range()
        .zip(err.template_source())
        .and_then(|(range, source)| path_ending_at(source, range.end))
        // A loop variable or a filter's name is not in the context: only paths from its variables.
        .filter(|path| {
            let root = path.split('.').next().unwrap_or_default();
            reference
                .paths
                .iter()
                .any(|known| known.split('.').next() == Some(root))
        });
    let named = pointed
        .and_then(|path| undefined_path(&BTreeSet::from([path]), context))
        .or_else(|| undefined_path(&reference.paths, context));
    match named {
        Some(path) => format!("`{path}` is undefined"),
        None => describe(err),
    }
}

/// The dotted path that ends at byte `end` of `source`, if the text there is one.
fn path_ending_at(source: &str, end: usize) -> Option<String> {
    let before = source.get(..end)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map(|(i, _)| i)?;
    let path = before[start..].trim_matches('.');
    let valid = !path.is_empty() && path.split('.').all(|step| !step.is_empty());
    valid.then(|| path.to_owned())
}

/// Where in the user's text a syntax error is: minijinja's range, shifted back over the `{{ (`
/// that a native expression is wrapped in; the start when it cannot say.
fn syntax_offset(err: &minijinja::Error, text: &str, native: Option<&str>) -> usize {
    let Some(range) = err.range() else { return 0 };
    let start = match native {
        Some(expr) => {
            let wrapped_start = "{{ (".len();
            let expr_start = text.find(expr).unwrap_or(0);
            (range.start + expr_start).saturating_sub(wrapped_start)
        }
        None => range.start,
    };
    text.get(..start.min(text.len()))
        .map_or(0, |prefix| prefix.chars().count())
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
#[path = "template_tests.rs"]
mod tests;
