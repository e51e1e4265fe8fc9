//! The `semaphore` binary: parse the command line, set up logging, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use semaphore::cli::{self, Cli};

/// Decoding an event allocates a small object per JSON value; mimalloc makes that markedly cheaper
/// than the system allocator (see `cargo bench --bench engine`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = semaphore::telemetry::init(&cli.log, cli.command.log_verbosity()) {
        #[allow(clippy::print_stderr)] // logging is not up, so stderr is the only channel left
        {
            eprintln!("error: {err}");
        }
        return ExitCode::from(2);
    }
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            #[allow(clippy::print_stderr)] // the final, user-facing error line
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}
