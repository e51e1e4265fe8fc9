//! `semaphore publish`: placeholder until the Meraki publisher lands.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PublishCommand {
    /// Uplink loss and latency of every appliance (not built yet).
    LossLatency,
}

pub fn run(_command: PublishCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`semaphore publish` is not built yet")
}
