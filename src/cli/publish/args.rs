//! The flags every `semaphore publish` command shares: reaching the Meraki API, where records go,
//! how often to poll, and the Kafka connection. Every flag a deployment sets reads an environment
//! variable too; the original scripts' names (`MERAKI_DASHBOARD_API_KEY`, `TOPIC`,
//! `LOGGING_SERVER`, `PUBLISHER_TIMER`) are read when the `SEMAPHORE_*` one is not set. Secrets
//! never show in `--help`.

use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::cli::duration;
use crate::config::{KafkaConnectionConfig, Secret};
use crate::meraki::DEFAULT_CONCURRENCY;
use crate::meraki::client::{ClientConfig, DEFAULT_BASE_URL, MAX_REQUESTS_PER_SECOND, RetryPolicy};
use crate::meraki::clients::MAX_PER_PAGE;
use crate::meraki::schedule::Schedule;
use crate::meraki::sinks::{SinkKind, SyslogProtocol, SyslogTarget};
use crate::telemetry::http::MetricsArgs;

/// Flags shared by `publish loss-latency` and `publish clients`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub meraki: MerakiArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Boxed to keep the command enum small; read once.
    #[command(flatten)]
    pub kafka: Box<KafkaConnectionConfig>,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
}

/// Reaching the Dashboard API.
#[derive(Debug, Args)]
#[command(next_help_heading = "Meraki Dashboard API")]
pub struct MerakiArgs {
    /// Dashboard API key. Prefer the environment: a value on the command line shows in the process list.
    #[arg(long, env = "MERAKI_DASHBOARD_API_KEY", hide_env_values = true, value_name = "KEY", value_parser = Secret::from_arg)]
    pub meraki_api_key: Option<Secret>,
    /// API base URL (regional: https://api.meraki.ca/api/v1, .cn, .in, https://api.gov-meraki.com/api/v1).
    #[arg(long, env = "SEMAPHORE_MERAKI_BASE_URL", default_value = DEFAULT_BASE_URL, value_name = "URL")]
    pub base_url: String,
    /// Only these organization ids (repeat, or comma-separated) [default: every organization the key sees].
    #[arg(
        long = "org",
        env = "SEMAPHORE_MERAKI_ORGS",
        value_delimiter = ',',
        value_name = "ID"
    )]
    pub orgs: Vec<String>,
    /// Requests per second per organization, at most 10 (Meraki's budget, shared with every other application).
    #[arg(long, env = "SEMAPHORE_MERAKI_RATE_LIMIT", default_value_t = NonZeroU32::new(MAX_REQUESTS_PER_SECOND).expect("10 is not zero"),
          value_parser = parse_rate, value_name = "N")]
    pub rate_limit: NonZeroU32,
    /// Requests in flight per organization (networks or devices read at once).
    #[arg(long, env = "SEMAPHORE_MERAKI_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64), value_name = "N")]
    pub concurrency: u16,
    /// Organizations read at once (Meraki also limits each source IP to 100 requests/s).
    #[arg(long, env = "SEMAPHORE_MERAKI_ORG_CONCURRENCY", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000), value_name = "N")]
    pub org_concurrency: u16,
    /// Timeout of one request, body included.
    #[arg(long, env = "SEMAPHORE_MERAKI_TIMEOUT", default_value = "30s", value_parser = duration::parse, value_name = "DURATION")]
    pub request_timeout: Duration,
    /// Attempts per request for 5xx answers, transport errors and 429s without Retry-After.
    #[arg(long, env = "SEMAPHORE_MERAKI_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20), value_name = "N")]
    pub max_attempts: u32,
    /// First retry delay; it doubles per attempt (plus jitter) up to 60 s.
    #[arg(long, env = "SEMAPHORE_MERAKI_BACKOFF", default_value = "1s", value_parser = duration::parse, value_name = "DURATION")]
    pub backoff: Duration,
    /// Longest Retry-After honoured; longer ones are cut to this.
    #[arg(long, env = "SEMAPHORE_MERAKI_MAX_RETRY_AFTER", default_value = "60s", value_parser = duration::parse, value_name = "DURATION")]
    pub max_retry_after: Duration,
    /// A host besides Meraki's that redirects and page links may lead to, with the API key (repeatable).
    #[arg(
        long = "allow-host",
        env = "SEMAPHORE_MERAKI_ALLOW_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub allow_hosts: Vec<String>,
}

/// Where records go and how often.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output and schedule")]
pub struct OutputArgs {
    /// Where records go; `-a` is the original publisher's spelling.
    #[arg(long, short = 'a', visible_alias = "action", env = "SEMAPHORE_SINK", value_enum, default_value_t = SinkKind::Kafka)]
    pub sink: SinkKind,
    /// Kafka topic. TOPIC is read too. [default: meraki.uplinks.loss-latency or meraki.clients]
    #[arg(long, env = "SEMAPHORE_TOPIC", value_name = "TOPIC")]
    pub topic: Option<String>,
    /// Create the topic (6 partitions) if it does not exist; needs the right to create topics.
    #[arg(long, env = "SEMAPHORE_CREATE_TOPIC")]
    pub create_topic: bool,
    /// Syslog server HOST[:PORT] (port 514 by default). LOGGING_SERVER is read too.
    #[arg(long, env = "SEMAPHORE_SYSLOG_SERVER", value_name = "HOST[:PORT]")]
    pub syslog_server: Option<String>,
    /// Syslog transport.
    #[arg(long, env = "SEMAPHORE_SYSLOG_PROTOCOL", value_enum, value_name = "PROTOCOL", default_value_t = SyslogProtocol::Udp)]
    pub syslog_protocol: SyslogProtocol,
    /// Poll again every DURATION (e.g. 60s, 5m) until stopped; once without it. PUBLISHER_TIMER (seconds) is read too.
    #[arg(long, env = "SEMAPHORE_INTERVAL", value_parser = duration::parse, value_name = "DURATION")]
    pub interval: Option<Duration>,
    /// Random delay added to each interval [default: a tenth of --interval].
    #[arg(long, env = "SEMAPHORE_JITTER", value_parser = duration::parse, value_name = "DURATION")]
    pub jitter: Option<Duration>,
}

impl MerakiArgs {
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            base_url: self.base_url.clone(),
            api_key: self.meraki_api_key.clone(),
            requests_per_second: self.rate_limit,
            request_timeout: self.request_timeout,
            retry: RetryPolicy {
                max_attempts: self.max_attempts,
                max_retry_after: self.max_retry_after,
                min_backoff: self.backoff,
                ..RetryPolicy::default()
            },
            extra_hosts: self.allow_hosts.clone(),
        }
    }
}

impl OutputArgs {
    pub fn topic(&self, default: &str) -> String {
        self.topic
            .clone()
            .or_else(|| seed_env("TOPIC"))
            .unwrap_or_else(|| default.to_owned())
    }

    pub fn syslog(&self) -> anyhow::Result<Option<SyslogTarget>> {
        let Some(text) = self
            .syslog_server
            .clone()
            .or_else(|| seed_env("LOGGING_SERVER"))
        else {
            return Ok(None);
        };
        let mut target: SyslogTarget = text.parse()?;
        target.protocol = self.syslog_protocol;
        Ok(Some(target))
    }

    pub fn schedule(&self) -> anyhow::Result<Schedule> {
        let interval = match (self.interval, seed_env("PUBLISHER_TIMER")) {
            (Some(interval), _) => Some(interval),
            (None, Some(seconds)) => Some(
                duration::parse(&seconds)
                    .map_err(anyhow::Error::msg)
                    .context("PUBLISHER_TIMER")?,
            ),
            (None, None) => None,
        };
        let jitter = self
            .jitter
            .unwrap_or_else(|| interval.unwrap_or_default() / 10);
        Ok(Schedule { interval, jitter })
    }
}

/// The original scripts' environment, for `--help` of each command.
pub const LOSS_LATENCY_ENV: &str = "\
The original scripts' environment is read when neither the flag nor its SEMAPHORE_* variable is set:
  MERAKI_DASHBOARD_API_KEY  --meraki-api-key          MERAKI_TIMESPAN   --timespan (seconds)
  RECORD_KEY                --record-key              TOPIC             --topic
  BOOTSTRAP_SERVER          --bootstrap-servers       CLUSTER_API_KEY   --api-key
  CLUSTER_API_SECRET        --api-secret              LOGGING_SERVER    --syslog-server (port 514)
  PUBLISHER_TIMER           --interval (seconds)      PUBLISHER_PROGRAM `semaphore publish program`
SR_URL, SR_API_KEY and SR_API_SECRET (schema registry) are not used: the original defined them but
published plain JSON, as semaphore does. See docs/publish.md for the migration table.";

/// The same for `publish clients`, which reads MERAKI_PERPAGE and keys records by network.
pub const CLIENTS_ENV: &str = "\
The original scripts' environment is read when neither the flag nor its SEMAPHORE_* variable is set:
  MERAKI_DASHBOARD_API_KEY  --meraki-api-key          MERAKI_TIMESPAN   --timespan (seconds)
  MERAKI_PERPAGE            --per-page                TOPIC             --topic
  BOOTSTRAP_SERVER          --bootstrap-servers       CLUSTER_API_KEY   --api-key
  CLUSTER_API_SECRET        --api-secret              LOGGING_SERVER    --syslog-server (port 514)
  PUBLISHER_TIMER           --interval (seconds)      PUBLISHER_PROGRAM `semaphore publish program`
Records are keyed by network id (by MAC with --per-client), as publish_clients.py keyed them;
RECORD_KEY does not apply. SR_URL, SR_API_KEY and SR_API_SECRET are not used (the original did not
use them either). See docs/publish.md for the migration table.";

/// A non-blank variable of the original scripts' environment.
pub fn seed_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// The flag's value, else the original's variable `name` parsed by `parse`; a bad value is an
/// error that names the variable.
pub fn or_seed_env<T>(
    flag: Option<T>,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> anyhow::Result<Option<T>> {
    match (flag, seed_env(name)) {
        (Some(value), _) => Ok(Some(value)),
        (None, Some(text)) => parse(&text)
            .map(Some)
            .map_err(|err| anyhow::anyhow!("{name}={text}: {err}")),
        (None, None) => Ok(None),
    }
}

/// Clients per page, 3 to 5000, as `--per-page` takes it.
pub fn per_page(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ 3..=MAX_PER_PAGE) => Ok(n),
        _ => Err(format!("expected 3 to {MAX_PER_PAGE} clients per page")),
    }
}

fn parse_rate(text: &str) -> Result<NonZeroU32, String> {
    match text.parse::<u32>() {
        Ok(rate @ 1..=MAX_REQUESTS_PER_SECOND) => {
            NonZeroU32::new(rate).ok_or_else(|| "must be at least 1".to_owned())
        }
        _ => Err(format!(
            "expected 1 to {MAX_REQUESTS_PER_SECOND} requests per second"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_cannot_exceed_merakis_budget() {
        assert!(parse_rate("10").is_ok());
        assert!(parse_rate("11").is_err());
        assert!(parse_rate("0").is_err());
    }
}
