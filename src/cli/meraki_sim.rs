//! `semaphore meraki-sim`: placeholder until the simulator lands.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct MerakiSimArgs {}

pub fn run(_args: MerakiSimArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`semaphore meraki-sim` is not built yet")
}
