//! `semaphore publish program`: stand in for the original `start_publishing.sh` loop, which ran
//! the Python program named by `PUBLISHER_PROGRAM` every `PUBLISHER_TIMER` seconds. The program's
//! name picks the command (`publish_clients.py` is `clients`, `latency_loss_logging.py` is
//! `loss-latency`); the remaining arguments are that command's own flags, and `PUBLISHER_TIMER` is
//! read as its `--interval` already. This file only maps the name and re-reads the command line;
//! running is `publish`'s.

use std::path::Path;

use clap::error::ErrorKind;
use clap::{Args, Parser};

use super::PublishCommand;

/// The original programs and the commands that replace them.
const PROGRAMS: [(&str, &str); 2] = [
    ("publish_clients.py", "clients"),
    ("latency_loss_logging.py", "loss-latency"),
];

#[derive(Debug, Clone, Args)]
pub struct ProgramArgs {
    /// Which command to run, named by the script it stands in for: publish_clients.py runs
    /// `publish clients`, latency_loss_logging.py runs `publish loss-latency` (a path to either is
    /// fine, and so are the command names). PUBLISHER_PROGRAM is read when the flag is not given.
    #[arg(long, env = "PUBLISHER_PROGRAM", value_name = "PROGRAM")]
    program: String,
    /// The flags of the command it runs, e.g. `-f filter.json` (see `semaphore publish clients
    /// --help`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

/// The command line re-read as `semaphore publish COMMAND ARGS...`.
#[derive(Debug, Parser)]
#[command(name = "semaphore publish")]
struct Resolved {
    #[command(subcommand)]
    command: PublishCommand,
}

impl ProgramArgs {
    /// The `clients` or `loss-latency` command this stands for, with its flags parsed.
    pub fn resolve(&self) -> Result<PublishCommand, clap::Error> {
        let name = Path::new(&self.program)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let Some((_, command)) = PROGRAMS
            .iter()
            .find(|(program, command)| name == *program || name == *command)
        else {
            let message = format!(
                "PUBLISHER_PROGRAM / --program {:?} is none of publish_clients.py, latency_loss_logging.py, clients, loss-latency\n",
                self.program
            );
            return Err(clap::Error::raw(ErrorKind::InvalidValue, message));
        };
        let argv = ["semaphore publish", command]
            .into_iter()
            .chain(self.args.iter().map(String::as_str));
        Resolved::try_parse_from(argv).map(|resolved| resolved.command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(name: &str, args: &[&str]) -> ProgramArgs {
        ProgramArgs {
            program: name.to_owned(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        }
    }

    #[test]
    fn the_original_program_names_pick_the_command_and_keep_its_flags() {
        let clients = program("./publish_clients.py", &["-f", "/tmp/filter.json"]).resolve();
        match clients.expect("resolves") {
            PublishCommand::Clients(args) => {
                assert_eq!(args.filter.as_deref(), Some(Path::new("/tmp/filter.json")));
            }
            other => panic!("expected clients, got {other:?}"),
        }
        let loss = program(
            "/opt/semaphore/library/latency_loss_logging.py",
            &["-a", "kafka"],
        );
        assert!(matches!(
            loss.resolve().expect("resolves"),
            PublishCommand::LossLatency(_)
        ));
        assert!(matches!(
            program("loss-latency", &[]).resolve().expect("resolves"),
            PublishCommand::LossLatency(_)
        ));
    }

    #[test]
    fn other_programs_and_bad_flags_are_usage_errors() {
        let unknown = program("./consumer.py", &[])
            .resolve()
            .expect_err("not a publisher");
        assert!(unknown.to_string().contains("consumer.py"), "{unknown}");
        assert!(
            program("publish_clients.py", &["--no-such-flag"])
                .resolve()
                .is_err()
        );
        assert!(program("program", &[]).resolve().is_err());
    }
}
