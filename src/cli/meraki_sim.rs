//! `semaphore meraki-sim`: serve the Meraki Dashboard API simulator until Ctrl-C / SIGTERM. This
//! file owns the flags and the start-up lines (the base URL on stdout, so that scripts can read the
//! port of `--listen 127.0.0.1:0`; a description on stderr); the simulator itself is
//! `meraki::sim`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;

use crate::config::Secret;
use crate::meraki::sim::{self, EstateSize, Faults, SimConfig, Simulator};
use crate::shutdown::Shutdown;

#[derive(Debug, Args)]
#[command(after_help = "\
Serves GET /api/v1/organizations, .../networks, .../devices, .../devices/uplinksLossAndLatency,
.../appliance/uplink/statuses, .../inventoryDevices, /networks/{id}, /networks/{id}/devices,
/networks/{id}/clients, /devices/{serial}, /devices/{serial}/managementInterface and
/devices/{serial}/lossAndLatencyHistory: what semaphore and the official Python SDK (with its
default settings) call.
The same --seed and sizes always give the same estate; loss and latency follow the clock (or --clock).
Example:
  export MERAKI_DASHBOARD_API_KEY=$(openssl rand -hex 20)
  semaphore meraki-sim --listen 127.0.0.1:8080 &
  semaphore publish loss-latency --base-url http://127.0.0.1:8080/api/v1 --sink stdout")]
pub struct MerakiSimArgs {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(
        long,
        env = "SEMAPHORE_SIM_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    listen: String,
    /// The Dashboard API key the simulator accepts (Bearer or X-Cisco-Meraki-API-Key).
    #[arg(long = "meraki-api-key", visible_alias = "api-key", env = "MERAKI_DASHBOARD_API_KEY", hide_env_values = true, value_name = "KEY", value_parser = Secret::from_arg)]
    api_key: Option<Secret>,
    /// Seed of the generated estate.
    #[arg(
        long,
        env = "SEMAPHORE_SIM_SEED",
        default_value_t = 1,
        value_name = "N"
    )]
    seed: u64,
    /// Organizations in the estate.
    #[arg(long, default_value_t = 2, value_name = "N")]
    orgs: u64,
    /// Networks, spread over the organizations (every tenth camera-only).
    #[arg(long, default_value_t = 10, value_name = "N")]
    networks: u64,
    /// Appliances (MX, Z), spread over the networks; each network also gets an access point or camera.
    #[arg(long, default_value_t = 20, value_name = "N")]
    devices: u64,
    /// Clients, spread over the networks that can have them.
    #[arg(long, default_value_t = 200, value_name = "N")]
    clients: u64,
    /// Requests per second per organization before 429.
    #[arg(long, default_value_t = 10, value_name = "N")]
    rate_limit: u32,
    /// Requests an organization may send at once above the rate.
    #[arg(long, default_value_t = 20, value_name = "N")]
    burst: u32,
    /// Answer every N-th request with a 500/502/503 (HTML body).
    #[arg(long, value_name = "N")]
    inject_5xx_every: Option<u64>,
    /// Answer every N-th request with a 429 without Retry-After (HTML body).
    #[arg(long, value_name = "N")]
    inject_429_every: Option<u64>,
    /// Delay every N-th answer by --slow-for.
    #[arg(long, value_name = "N")]
    slow_every: Option<u64>,
    /// How long each --slow-every answer is held back.
    #[arg(long, default_value = "5s", value_parser = super::duration::parse, value_name = "DURATION")]
    slow_for: Duration,
    /// Emit absolute page links on the host asked, as the real API does. By default links are
    /// relative to /api/v1, which both semaphore and the official Python SDK follow (the SDK
    /// mangles absolute links to hosts other than Meraki's).
    #[arg(long)]
    absolute_links: bool,
    /// Relative page links: the default, kept for scripts that pass it.
    #[arg(long, hide = true, conflicts_with = "absolute_links")]
    relative_links: bool,
    /// Redirect (307) every request for another host name to this one, like the legacy shard redirects.
    #[arg(long, value_name = "HOST")]
    redirect_host: Option<String>,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    verbose: u8,
    /// A fixed current time (RFC 3339), for repeatable answers.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    clock: Option<DateTime<Utc>>,
}

impl MerakiSimArgs {
    /// How many `-v` flags raise the log level.
    pub fn log_verbosity(&self) -> u8 {
        self.verbose
    }
}

pub fn run(args: MerakiSimArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: MerakiSimArgs) -> anyhow::Result<()> {
    let api_key = args
        .api_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .context("no API key to accept: pass --api-key or set MERAKI_DASHBOARD_API_KEY")?;
    let size = EstateSize {
        orgs: args.orgs,
        networks: args.networks,
        devices: args.devices,
        clients: args.clients,
    };
    let config = SimConfig {
        seed: args.seed,
        size,
        api_key: api_key.clone(),
        rate_limit: args.rate_limit,
        burst: args.burst,
        faults: Faults {
            server_error_every: args.inject_5xx_every,
            bare_429_every: args.inject_429_every,
            slow_every: args.slow_every,
            slow_for: args.slow_for,
        },
        absolute_links: args.absolute_links,
        redirect_host: args.redirect_host,
        clock: args.clock,
    };
    let simulator = Simulator::new(config)?;
    let listener = sim::bind(&args.listen).await?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    announce(&format!("http://{address}/api/v1"), size)?;
    let shutdown = Shutdown::listen()?;
    let mut stop = shutdown.signal();
    simulator
        .serve(listener, async move {
            stop.requested().await;
        })
        .await?;
    Ok(())
}

fn announce(base_url: &str, size: EstateSize) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{base_url}")
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    let _ = writeln!(
        io::stderr().lock(),
        "Meraki API simulator on {base_url}: {} orgs, {} networks, {} appliances, {} clients; stop with Ctrl-C",
        size.orgs,
        size.networks,
        size.devices,
        size.clients
    );
    Ok(())
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| format!("{text:?} is not an RFC 3339 time: {err}"))
}
