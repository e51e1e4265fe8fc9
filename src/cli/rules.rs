//! `semaphore rules check` and `semaphore rules test`: compile rulebooks and report every error with
//! its place; run events offline through the engine and print what would fire.

pub(super) mod dispatch;
mod import;
mod input;
mod reload;
mod run;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use std::sync::Arc;

use super::files::LoadError;
use crate::rulebook::Rulebook;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Parse and compile rulebooks; print every error and warning as FILE:LINE:COL with the source
    /// line.
    ///
    /// Exit status: 0 when every file is valid (warnings or not), 1 when any is not (or, with
    /// --strict, has warnings), 2 for usage errors.
    Check(CheckArgs),
    /// Run events from a JSON-lines file through a rulebook offline and print one JSON line per firing,
    /// with every action rendered but not sent.
    Test(test::TestArgs),
    /// Consume the rulebook's Kafka topics, evaluate every event and send the actions. Offsets are
    /// committed only after an event's actions finished or were dead-lettered.
    Run(run::RunArgs),
    /// Translate an ansible-rulebook (Event-Driven Ansible) rulebook into a semaphore rulebook,
    /// printed on stdout (or written with -o); warnings and errors go to stderr as FILE:LINE:COL.
    ///
    /// Exit status: 0 when translated (warnings or not), 1 when the rulebook cannot be translated
    /// (nothing is written), 2 for usage errors.
    Import(import::ImportArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rulebook files to check.
    #[arg(required = true)]
    pub rulebooks: Vec<PathBuf>,
    /// Treat warnings (valid but almost surely wrong conditions and vars) as errors, for CI.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub input: input::InputArgs,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
}

impl RulesCommand {
    pub fn log_verbosity(&self) -> u8 {
        match self {
            RulesCommand::Check(args) => args.verbose,
            RulesCommand::Test(args) => args.verbose,
            RulesCommand::Run(args) => args.verbose,
            RulesCommand::Import(args) => args.verbose,
        }
    }
}

pub fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Check(args) => Ok(check(&args)),
        RulesCommand::Test(args) => test::run(&args),
        RulesCommand::Run(args) => run::run(&args),
        RulesCommand::Import(args) => Ok(import::run(&args)),
    }
}

/// Loads a rulebook for `test` and `run`; an invalid one is reported on stderr and gives `None`.
/// Warnings are logged, one line each.
#[allow(clippy::print_stderr)] // the diagnostics are the command's output
fn load_or_report(
    path: &std::path::Path,
    input: &input::InputArgs,
) -> anyhow::Result<Option<Arc<Rulebook>>> {
    match input::load(path, input) {
        Ok(loaded) => {
            let translation = loaded.translation.iter().flat_map(|d| d.lines());
            for warning in translation.chain(loaded.book.warnings.lines()) {
                tracing::warn!("{warning}");
            }
            Ok(Some(Arc::new(loaded.book)))
        }
        Err(LoadError::Invalid(diagnostics)) => {
            eprint!("{diagnostics}");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let mut failed = false;
    for path in &args.rulebooks {
        failed |= !check_one(path, args);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks one file and reports it; whether it passed.
#[allow(clippy::print_stdout, clippy::print_stderr)] // the command's report
fn check_one(path: &std::path::Path, args: &CheckArgs) -> bool {
    let strict = args.strict;
    let (book, translation) = match input::load(path, &args.input) {
        Ok(loaded) => (loaded.book, loaded.translation),
        Err(LoadError::Invalid(diagnostics)) => {
            eprint!("{diagnostics}");
            eprintln!("{}: {}", path.display(), diagnostics.summary());
            return false;
        }
        Err(err @ (LoadError::Read { .. } | LoadError::Vars { .. })) => {
            eprintln!("error: {err}");
            return false;
        }
    };
    let warnings = match translation {
        Some(mut translated) => {
            eprint!("{translated}");
            translated.items.extend(book.warnings.items.iter().cloned());
            translated
        }
        None => book.warnings.clone(),
    };
    eprint!("{}", book.warnings);
    let warnings = &warnings;
    if strict && !warnings.items.is_empty() {
        eprintln!(
            "{}: {}, errors with --strict",
            path.display(),
            warnings.summary()
        );
        return false;
    }
    let rules: usize = book.rulesets.iter().map(|r| r.rules.len()).sum();
    let also = if warnings.items.is_empty() {
        String::new()
    } else {
        format!(", {}", warnings.summary())
    };
    println!(
        "{}: ok ({} rulesets, {rules} rules){also}",
        path.display(),
        book.rulesets.len()
    );
    true
}
