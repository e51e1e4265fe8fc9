//! How `rules check`, `test` and `run` read a rulebook: as written for semaphore, or for
//! ansible-rulebook (`--format eda`, or detected), through the same translator as `rules import`;
//! and EDA's variable flags, `--vars FILE` and `--env-vars A,B`, merged over every ruleset's `vars`
//! (ruleset vars < `--vars` < `--env-vars`, as EDA lets the environment win over the file).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::{Map, Value};

use crate::cli::files::LoadError;
use crate::rulebook::eda::{self, Options};
use crate::rulebook::yaml::{self, NodeKind};
use crate::rulebook::{self, Diagnostic, Diagnostics, Pos, Rulebook};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// ansible-rulebook's when a source is named like an EDA plugin (`ansible.eda.kafka`) or has
    /// `filters`, or (rulesets with `hosts` and `sources`) a condition is EDA, not JMESPath.
    Auto,
    Eda,
    Semaphore,
}

#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// The rulebook's language: `eda` translates an ansible-rulebook rulebook as `rules import` does.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// Variables from a YAML or JSON mapping (types kept), as `vars.*` in conditions and templates;
    /// they override the rulesets' own `vars`.
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// Environment variables to pass as vars (strings), comma-separated; they override --vars.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub env_vars: Vec<String>,
}

/// A compiled rulebook and, for an EDA one, the translation's warnings (located in the EDA file).
pub struct Loaded {
    pub book: Rulebook,
    pub translation: Option<Diagnostics>,
}

/// Reads, translates when needed, and compiles the rulebook at `path`.
pub fn load(path: &Path, input: &InputArgs) -> Result<Loaded, LoadError> {
    let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    compile(path, &source, input)
}

/// Compiles rulebook text read from `path` (also what a reload of `rules run` does).
pub fn compile(path: &Path, source: &str, input: &InputArgs) -> Result<Loaded, LoadError> {
    let vars = vars(input)?;
    let file = path.display().to_string();
    let is_eda = match input.format {
        Format::Auto => eda::looks_like_eda(source),
        Format::Eda => true,
        Format::Semaphore => false,
    };
    if !is_eda {
        let book = rulebook::compile_with_vars(&file, source, &vars).map_err(LoadError::Invalid)?;
        return Ok(Loaded {
            book,
            translation: None,
        });
    }
    let options = Options {
        vars: Some(vars.clone()),
    };
    let translation = eda::translate(&file, source, &options).map_err(LoadError::Invalid)?;
    let translated = format!("{file} (translated from ansible-rulebook)");
    let book = rulebook::compile_with_vars(&translated, &translation.text, &vars)
        .map_err(LoadError::Invalid)?;
    Ok(Loaded {
        book,
        translation: Some(translation.warnings),
    })
}

/// The vars of `--vars` and `--env-vars`, the latter winning.
pub fn vars(input: &InputArgs) -> Result<Map<String, Value>, LoadError> {
    let mut vars = match &input.vars {
        Some(path) => vars_file(path)?,
        None => Map::new(),
    };
    for name in input.env_vars.iter().filter(|n| !n.is_empty()) {
        let value = std::env::var(name).map_err(|_| LoadError::Vars {
            message: format!("--env-vars: the environment variable {name} is not set"),
        })?;
        vars.insert(name.clone(), Value::String(value));
    }
    Ok(vars)
}

fn vars_file(path: &Path) -> Result<Map<String, Value>, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: file.clone(),
        source,
    })?;
    let located = |pos: Pos, message: String| {
        LoadError::Invalid(Diagnostics {
            file: file.clone(),
            source: text.clone(),
            items: vec![Diagnostic::new(pos, message)],
        })
    };
    let node = yaml::parse(&text).map_err(|err| located(err.pos, err.message))?;
    match (&node.kind, node.to_json()) {
        (NodeKind::Map(_), Value::Object(vars)) => Ok(vars),
        (NodeKind::Null, _) => Ok(Map::new()),
        _ => Err(located(
            node.pos,
            format!(
                "--vars: the file must hold a mapping, found {}",
                node.type_name()
            ),
        )),
    }
}

/// `--print-events`: the event on stderr as `event LABEL: JSON`, before it is evaluated.
#[allow(clippy::print_stderr)] // what the flag asks for
pub fn print_event(label: &str, event: &crate::event::Event) {
    let json = serde_json::to_string(&*event.whole_payload()).unwrap_or_default();
    eprintln!("event {label}: {json}");
}
