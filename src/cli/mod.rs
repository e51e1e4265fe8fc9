//! The command line: clap definitions and one file per command. This is the only module that prints to
//! stdout; everything it calls returns values or typed errors. It reads the user's rulebook and
//! silences files ([`files`]), so the core that parses them does no I/O. It does not hold product
//! logic.

mod consume;
mod demo;
mod duration;
pub mod files;
mod meraki_sim;
mod publish;
mod rules;
mod silence;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::telemetry::LogConfig;

/// Turns network telemetry on Apache Kafka into actions.
#[derive(Debug, Parser)]
#[command(name = "semaphore", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogConfig,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try semaphore with nothing installed: simulator, in-memory Kafka, publisher, the shipped
    /// rulebooks and a webhook receiver in one process, printing alerts as they fire.
    Demo(demo::DemoArgs),
    /// Read records from a Kafka topic and print them (the replacement for consumer.py).
    Consume(consume::ConsumeArgs),
    /// Check, test and run rulebooks.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Poll the Meraki Dashboard API and publish records to Kafka, syslog or stdout.
    #[command(subcommand)]
    Publish(publish::PublishCommand),
    /// Manage silences: mute firings by matcher for a time (docs/silences.md).
    #[command(subcommand)]
    Silence(silence::SilenceCommand),
    /// Serve a local Meraki Dashboard API simulator for demos and tests.
    MerakiSim(meraki_sim::MerakiSimArgs),
}

impl Command {
    /// How many `-v` flags raise the log level for this command; `consume` keeps consumer.py's `-v`
    /// (print the whole value) instead.
    pub fn log_verbosity(&self) -> u8 {
        match self {
            Command::Consume(_) => 0,
            Command::Demo(args) => args.log_verbosity(),
            Command::MerakiSim(args) => args.log_verbosity(),
            Command::Silence(command) => command.log_verbosity(),
            Command::Publish(command) => command.log_verbosity(),
            Command::Rules(command) => command.log_verbosity(),
        }
    }
}

/// Runs the parsed command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Consume(args) => consume::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Rules(command) => rules::run(command),
        Command::Publish(command) => publish::run(command),
        Command::MerakiSim(args) => meraki_sim::run(args),
        Command::Silence(command) => silence::run(command),
    }
}
