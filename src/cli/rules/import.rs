//! `semaphore rules import EDA.yml [-o FILE]`: an ansible-rulebook rulebook translated by
//! `rulebook::eda` into semaphore's format. The translation is compiled before it is written, so
//! what is printed is a rulebook `rules check` accepts; diagnostics go to stderr, located in the EDA
//! file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::rulebook::eda::{self, Options};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ansible-rulebook rulebook to translate.
    pub rulebook: PathBuf,
    /// Write the translation to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Variables EDA would substitute (YAML or JSON). `vars.*` references stay references; known
    /// values give shorter comparisons (their type is known) and `select` values from vars.
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// Environment variables passed as vars, comma-separated; they override --vars.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub env_vars: Vec<String>,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
}

#[allow(clippy::print_stdout, clippy::print_stderr)] // the translation and its diagnostics
pub fn run(args: &ImportArgs) -> ExitCode {
    let path = args.rulebook.display().to_string();
    let source = match std::fs::read_to_string(&args.rulebook) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("error: cannot read {path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let input = super::input::InputArgs {
        format: super::input::Format::Eda,
        vars: args.vars.clone(),
        env_vars: args.env_vars.clone(),
    };
    let vars = match super::input::vars(&input) {
        Ok(vars) => vars,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let options = Options { vars: Some(vars) };
    let translation = match eda::translate(&path, &source, &options) {
        Ok(translation) => translation,
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            eprintln!("{path}: {}, not translated", diagnostics.summary());
            return ExitCode::FAILURE;
        }
    };
    eprint!("{}", translation.warnings);
    // Values are passed through as written (action arguments, for one); semaphore's compiler
    // checks them, located in the translation.
    let translated = format!("{path} (translated)");
    if let Err(diagnostics) = crate::rulebook::compile(&translated, &translation.text) {
        eprint!("{diagnostics}");
        eprintln!(
            "{path}: the translation is not a valid semaphore rulebook ({}), not written",
            diagnostics.summary()
        );
        return ExitCode::FAILURE;
    }
    match &args.output {
        Some(file) => {
            if let Err(err) = std::fs::write(file, &translation.text) {
                eprintln!("error: cannot write {}: {err}", file.display());
                return ExitCode::FAILURE;
            }
        }
        None => print!("{}", translation.text),
    }
    let summary = translation.warnings.summary();
    if !summary.is_empty() {
        eprintln!("{path}: translated, {summary}");
    }
    ExitCode::SUCCESS
}
