//! ansible-rulebook (Event-Driven Ansible) rulebooks translated into semaphore rulebooks: the EDA
//! YAML is read into the located tree of [`super::yaml`], every condition is parsed with EDA's
//! grammar ([`parse`]) and emitted as JMESPath with EDA's answers ([`emit`]), sources, throttles and
//! actions are mapped ([`book`]), and the result is semaphore rulebook text that
//! [`super::compile`] accepts, each condition under a comment holding the original. Whatever has no
//! equivalent is a located error or warning saying what to write instead. Pure: text in, text out;
//! reading files and choosing the format are the CLI's.

mod actions;
mod ast;
mod book;
mod emit;
mod emit_lists;
mod lex;
mod operand;
mod out;
mod parse;
mod parse_call;
mod sources;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_book;
#[cfg(test)]
mod tests_props;

use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::yaml::{self, Node, NodeKind};

pub use parse::MAX_DEPTH;

/// A problem in one condition, at a character offset of its text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    pub at: usize,
    pub message: String,
}

impl ConditionError {
    pub fn new(at: usize, message: impl Into<String>) -> Self {
        ConditionError {
            at,
            message: message.into(),
        }
    }
}

/// What the translation may know beforehand: the vars EDA would substitute (`--vars`,
/// `--env-vars`); `select` values that are vars paths need them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub vars: Option<Map<String, Value>>,
}

/// A translated rulebook: semaphore rulebook text and the warnings, located in the EDA file.
#[derive(Debug, Clone)]
pub struct Translation {
    pub text: String,
    pub warnings: Diagnostics,
}

/// Translates EDA rulebook text; `file` names it in messages. Errors come with the warnings.
pub fn translate(file: &str, source: &str, options: &Options) -> Result<Translation, Diagnostics> {
    let located = |items: Vec<Diagnostic>| Diagnostics {
        file: file.to_owned(),
        source: source.to_owned(),
        items,
    };
    let root =
        yaml::parse(source).map_err(|err| located(vec![Diagnostic::new(err.pos, err.message)]))?;
    let mut translator = book::Translator::new(source, options);
    translator.rulebook(&root);
    let (text, mut errors, mut warnings) = translator.finish();
    warnings.sort_by_key(|d| d.pos);
    if !errors.is_empty() {
        errors.extend(warnings);
        errors.sort_by_key(|d| d.pos);
        return Err(located(errors));
    }
    Ok(Translation {
        text,
        warnings: located(warnings),
    })
}

/// One EDA condition as JMESPath, or why it is not valid EDA.
pub fn condition(text: &str) -> Result<String, ConditionError> {
    let expr = parse::parse(text)?;
    let mut emitter = emit::Emitter::new(None);
    Ok(emitter.emit(&expr, true)?.text)
}

/// Whether rulebook text is written for ansible-rulebook rather than semaphore: a source named like an
/// EDA plugin (`ansible.eda.kafka`, `eda.builtin.range`) or with `filters`; or, in a rulebook whose
/// rulesets all have `hosts` and `sources` (EDA requires them) and that uses nothing only semaphore has
/// (`vars`, `inhibit`, a `kafka` source, `window`, ...), a condition that is not JMESPath but is EDA.
pub fn looks_like_eda(source: &str) -> bool {
    let Ok(root) = yaml::parse(source) else {
        return false;
    };
    let NodeKind::Seq(rulesets) = &root.kind else {
        return false;
    };
    let keys = |node: &Node| -> Vec<String> {
        node.entries()
            .map(|e| e.iter().map(|(k, _)| k.name.clone()).collect())
            .unwrap_or_default()
    };
    let sources: Vec<&Node> = rulesets
        .iter()
        .flat_map(|r| r.get("sources").map(items).unwrap_or_default())
        .collect();
    let rules: Vec<&Node> = rulesets
        .iter()
        .flat_map(|r| r.get("rules").map(items).unwrap_or_default())
        .collect();
    let eda_source = sources
        .iter()
        .any(|s| keys(s).iter().any(|k| k.contains('.') || k == "filters"));
    let semaphore_only = rulesets
        .iter()
        .flat_map(keys)
        .any(|k| k == "vars" || k == "inhibit")
        || sources.iter().flat_map(|s| keys(s)).any(|k| k == "kafka")
        || rules
            .iter()
            .flat_map(|r| keys(r))
            .any(|k| matches!(k.as_str(), "window" | "resolve_when" | "max_keys"));
    // ansible-rulebook requires `hosts` and `sources`: without them, a condition in EDA's syntax is
    // more likely a semaphore rulebook's mistake, which the JMESPath error explains.
    let eda_shaped = rulesets
        .iter()
        .all(|r| r.get("hosts").is_some() && r.get("sources").is_some());
    eda_source
        || eda_shaped
            && !semaphore_only
            && rules
                .iter()
                .any(|rule| rule.get("condition").is_some_and(eda_condition))
}

fn items(node: &Node) -> Vec<&Node> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn eda_condition(node: &Node) -> bool {
    let texts: Vec<&str> = match &node.kind {
        NodeKind::Str(text) => vec![text],
        NodeKind::Map(entries) => entries
            .iter()
            .flat_map(|(_, list)| items(list))
            .filter_map(|item| match &item.kind {
                NodeKind::Str(text) => Some(text.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    // `Expr::compile` bounds the input before JMESPath's recursive parser sees it.
    texts
        .iter()
        .any(|text| crate::condition::Expr::compile(text).is_err() && parse::parse(text).is_ok())
}
