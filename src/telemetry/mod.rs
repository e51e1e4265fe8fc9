//! Logging setup: human-readable lines on a terminal or JSON lines (with the fields of the current
//! span and its parents), on stderr, filtered by `-v` or `RUST_LOG`. The submodules hold the
//! operations endpoint: [`metrics`] (metric names and the Prometheus recorder), [`readiness`]
//! (named checks), [`http`] (`--metrics-addr`: `/metrics`, `/healthz`, `/readyz`), and [`redact`]
//! (masking credentials in logged values). This module does not decide what is logged or
//! measured, only where and how.

pub mod http;
pub mod metrics;
pub mod readiness;
pub mod redact;

use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging flags shared by every command, listed under their own "Logging" heading. The `-v` count
/// is per command (for `consume`, `-v` is the original consumer's spelling of `--print-value`), so it
/// is passed to [`init`] separately.
#[derive(Args, Clone, Debug, Default)]
pub struct LogConfig {
    /// Log filter, e.g. `debug` or `semaphore=trace,rdkafka=warn`; `RUST_LOG` works too.
    #[arg(
        long,
        env = "SEMAPHORE_LOG",
        global = true,
        help_heading = "Logging",
        value_name = "FILTER"
    )]
    pub log_level: Option<String>,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "SEMAPHORE_LOG_FORMAT", global = true,
          help_heading = "Logging", value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// The logging setup failed (an invalid `RUST_LOG`, or a subscriber was already installed).
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid RUST_LOG filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    #[error("could not install the log subscriber: {0}")]
    Install(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("could not set up the metrics recorder: {0}")]
    Metrics(String),
}

/// Installs the global subscriber. Logs go to stderr so that stdout stays machine-readable.
pub fn init(config: &LogConfig, verbose: u8) -> Result<(), TelemetryError> {
    let default_level = match verbose {
        0 => "warn,semaphore=info",
        1 => "info,semaphore=debug",
        _ => "debug,semaphore=trace",
    };
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|spec| !spec.is_empty());
    let spec = config.log_level.clone().or(from_env);
    let filter = EnvFilter::try_new(spec.as_deref().unwrap_or(default_level))?;
    // Colours only on a terminal: piped logs stay plain text for files and log collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let installed = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|err| TelemetryError::Install(err.to_string()))
}
