//! `semaphore rules check` and `semaphore rules test`: compile rulebooks and report every error with
//! its place; run events offline through the engine and print what would fire.

pub(super) mod dispatch;
mod reload;
mod run;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use std::sync::Arc;

use super::files::{LoadError, load_rulebook};
use crate::rulebook::Rulebook;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Parse and compile rulebooks; print every error as FILE:LINE:COL with the source line.
    ///
    /// Exit status: 0 when every file is valid, 1 when any is not, 2 for usage errors.
    Check(CheckArgs),
    /// Run events from a JSON-lines file through a rulebook offline and print one JSON line per firing,
    /// with every action rendered but not sent.
    Test(test::TestArgs),
    /// Consume the rulebook's Kafka topics, evaluate every event and send the actions. Offsets are
    /// committed only after an event's actions finished or were dead-lettered.
    Run(run::RunArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rulebook files to check.
    #[arg(required = true)]
    pub rulebooks: Vec<PathBuf>,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl RulesCommand {
    pub fn log_verbosity(&self) -> u8 {
        match self {
            RulesCommand::Check(args) => args.verbose,
            RulesCommand::Test(args) => args.verbose,
            RulesCommand::Run(args) => args.verbose,
        }
    }
}

pub fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Check(args) => Ok(check(&args)),
        RulesCommand::Test(args) => test::run(&args),
        RulesCommand::Run(args) => run::run(&args),
    }
}

/// Loads a rulebook for `test` and `run`; an invalid one is reported on stderr and gives `None`.
#[allow(clippy::print_stderr)] // the diagnostics are the command's output
fn load_or_report(path: &std::path::Path) -> anyhow::Result<Option<Arc<Rulebook>>> {
    match load_rulebook(path) {
        Ok(book) => Ok(Some(Arc::new(book))),
        Err(LoadError::Invalid(diagnostics)) => {
            eprint!("{diagnostics}");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)] // the command's report
fn check(args: &CheckArgs) -> ExitCode {
    let mut failed = false;
    for path in &args.rulebooks {
        match load_rulebook(path) {
            Ok(book) => {
                let rules: usize = book.rulesets.iter().map(|r| r.rules.len()).sum();
                println!(
                    "{}: ok ({} rulesets, {rules} rules)",
                    path.display(),
                    book.rulesets.len()
                );
            }
            Err(LoadError::Invalid(diagnostics)) => {
                failed = true;
                eprint!("{diagnostics}");
                let count = diagnostics.items.len();
                eprintln!(
                    "{}: {count} error{}",
                    path.display(),
                    if count == 1 { "" } else { "s" }
                );
            }
            Err(err @ LoadError::Read { .. }) => {
                failed = true;
                eprintln!("error: {err}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
