//! The Kafka connection flags ([`KafkaConnectionConfig`]) shared by every command that talks to
//! Kafka, and their validation into a [`KafkaConnection`]: seed environment names as fallbacks, the
//! secret from the environment or a file, and the Confluent Cloud default (an API key means
//! SASL_SSL + PLAIN). Turning a `KafkaConnection` into librdkafka keys is `librdkafka.rs`'s job;
//! connecting is the `kafka` module's.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{ConfigError, Secret};

/// The seed's environment names, read only when neither the flag nor its `SEMAPHORE_*` variable is
/// set.
const SEED_BOOTSTRAP_ENV: &str = "BOOTSTRAP_SERVER";
const SEED_API_KEY_ENV: &str = "CLUSTER_API_KEY";
const SEED_API_SECRET_ENV: &str = "CLUSTER_API_SECRET";

/// How to reach and log in to Kafka. Flatten it into every command that talks to Kafka.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Kafka connection")]
pub struct KafkaConnectionConfig {
    /// Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]. BOOTSTRAP_SERVER is read too.
    #[arg(long, env = "SEMAPHORE_BOOTSTRAP_SERVERS", value_name = "SERVERS")]
    pub bootstrap_servers: Option<String>,
    /// SASL username (the API key on Confluent Cloud). CLUSTER_API_KEY is read too. With a key the
    /// connection uses SASL_SSL and PLAIN unless --security-protocol / --sasl-mechanism say
    /// otherwise.
    #[arg(
        long,
        env = "SEMAPHORE_KAFKA_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
    /// SASL password (the API secret on Confluent Cloud). CLUSTER_API_SECRET is read too. Prefer
    /// the environment or --api-secret-file: a value on the command line is visible in the process
    /// list.
    #[arg(
        long,
        env = "SEMAPHORE_KAFKA_API_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        value_parser = Secret::from_arg
    )]
    pub api_secret: Option<Secret>,
    /// File holding the SASL password (the API secret); a trailing newline is ignored.
    #[arg(long, env = "SEMAPHORE_KAFKA_API_SECRET_FILE", value_name = "PATH")]
    pub api_secret_file: Option<PathBuf>,
    /// Security protocol [default: SASL_SSL with an API key, else PLAINTEXT].
    #[arg(
        long,
        env = "SEMAPHORE_KAFKA_SECURITY_PROTOCOL",
        value_enum,
        value_name = "PROTOCOL",
        ignore_case = true
    )]
    pub security_protocol: Option<SecurityProtocol>,
    /// SASL mechanism used with the API key and secret [default: PLAIN].
    #[arg(
        long,
        env = "SEMAPHORE_KAFKA_SASL_MECHANISM",
        value_enum,
        value_name = "MECHANISM",
        ignore_case = true
    )]
    pub sasl_mechanism: Option<SaslMechanism>,
    /// PEM file of the CA that signed the brokers' certificates, for a private CA. Certificates are
    /// always verified; without this file the system's trust store is used.
    #[arg(long, env = "SEMAPHORE_KAFKA_SSL_CA_LOCATION", value_name = "PATH")]
    pub ssl_ca_location: Option<PathBuf>,
    /// Extra librdkafka property KEY=VALUE, repeatable. Applied last, so it overrides everything
    /// above.
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub librdkafka: Vec<String>,
}

/// Kafka's `security.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SecurityProtocol {
    #[value(name = "PLAINTEXT")]
    Plaintext,
    #[value(name = "SSL")]
    Ssl,
    #[value(name = "SASL_PLAINTEXT")]
    SaslPlaintext,
    #[value(name = "SASL_SSL")]
    SaslSsl,
}

/// Kafka's `sasl.mechanisms`, the ones librdkafka has built in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

/// Where a consumer group starts on a partition that has no committed offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OffsetReset {
    #[default]
    Earliest,
    Latest,
}

/// Validated connection settings, ready to become an `rdkafka::ClientConfig`.
#[derive(Clone)]
pub struct KafkaConnection {
    pub(super) bootstrap_servers: String,
    pub(super) security_protocol: SecurityProtocol,
    pub(super) credentials: Option<Credentials>,
    pub(super) ssl_ca_location: Option<String>,
    /// `-X` settings in the order given; later ones win.
    pub(super) overrides: Vec<(String, String)>,
}

/// SASL login. The username (an API key) is not secret, but it is still kept out of `Debug` output.
#[derive(Clone)]
pub(super) struct Credentials {
    pub(super) mechanism: SaslMechanism,
    pub(super) username: String,
    pub(super) password: Secret,
}

impl KafkaConnectionConfig {
    /// Validates the flags, reading the seed's environment names and the secret file as needed.
    pub fn resolve(&self) -> Result<KafkaConnection, ConfigError> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    /// [`resolve`](Self::resolve) with the environment passed in, so that tests need not mutate the
    /// process.
    pub fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<KafkaConnection, ConfigError> {
        let lookup = |name: &str| env(name).filter(|value| !value.is_empty());
        let bootstrap_servers = non_empty(self.bootstrap_servers.clone())
            .or_else(|| lookup(SEED_BOOTSTRAP_ENV))
            .map(|servers| servers.trim().to_owned())
            .filter(|servers| !servers.is_empty())
            .ok_or(ConfigError::MissingBootstrapServers)?;
        let username = non_empty(self.api_key.clone()).or_else(|| lookup(SEED_API_KEY_ENV));
        let password = match self.secret_from_flags()? {
            Some(secret) => Some(secret),
            None => lookup(SEED_API_SECRET_ENV).map(Secret::new),
        };
        let login = match (username, password) {
            (Some(username), Some(password)) => Some((username, password)),
            (Some(_), None) => return Err(ConfigError::MissingApiSecret),
            (None, Some(_)) => return Err(ConfigError::MissingApiKey),
            (None, None) => None,
        };
        let security_protocol = self.security_protocol.unwrap_or(match login {
            Some(_) => SecurityProtocol::SaslSsl,
            None => SecurityProtocol::Plaintext,
        });
        Ok(KafkaConnection {
            bootstrap_servers,
            security_protocol,
            credentials: self.credentials(security_protocol, login)?,
            ssl_ca_location: self.ca_location(security_protocol)?,
            overrides: parse_overrides(&self.librdkafka)?,
        })
    }

    /// The secret from `--api-secret` (or its variable) or from `--api-secret-file`, never both.
    fn secret_from_flags(&self) -> Result<Option<Secret>, ConfigError> {
        let from_value = self.api_secret.clone().filter(|secret| !secret.is_empty());
        match (from_value, &self.api_secret_file) {
            (Some(_), Some(_)) => Err(ConfigError::ConflictingSecretSources),
            (Some(secret), None) => Ok(Some(secret)),
            (None, Some(path)) => read_secret_file(path).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn credentials(
        &self,
        protocol: SecurityProtocol,
        login: Option<(String, Secret)>,
    ) -> Result<Option<Credentials>, ConfigError> {
        match (protocol.uses_sasl(), login) {
            (true, Some((username, password))) => Ok(Some(Credentials {
                mechanism: self.sasl_mechanism.unwrap_or(SaslMechanism::Plain),
                username,
                password,
            })),
            (true, None) => Err(ConfigError::SaslWithoutCredentials { protocol }),
            (false, Some(_)) => Err(ConfigError::CredentialsWithoutSasl { protocol }),
            (false, None) => match self.sasl_mechanism {
                Some(mechanism) => Err(ConfigError::MechanismWithoutCredentials { mechanism }),
                None => Ok(None),
            },
        }
    }

    fn ca_location(&self, protocol: SecurityProtocol) -> Result<Option<String>, ConfigError> {
        let Some(path) = &self.ssl_ca_location else {
            return Ok(None);
        };
        if !protocol.uses_tls() {
            return Err(ConfigError::CaWithoutTls { protocol });
        }
        // Checked here so that a typo is a clear settings error, not a TLS failure at connect time.
        std::fs::File::open(path).map_err(|source| ConfigError::CaFile {
            path: path.clone(),
            source,
        })?;
        let utf8 = path
            .to_str()
            .ok_or_else(|| ConfigError::NonUtf8Path { path: path.clone() })?;
        Ok(Some(utf8.to_owned()))
    }
}

impl KafkaConnection {
    /// The bootstrap servers, for error messages and logs.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }
}

impl SecurityProtocol {
    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    /// The librdkafka value.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }
}

impl SaslMechanism {
    /// The librdkafka value.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl OffsetReset {
    /// The librdkafka value of `auto.offset.reset`.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Earliest => "earliest",
            Self::Latest => "latest",
        }
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Redacted by hand: the derive would print the API secret.
impl fmt::Debug for KafkaConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaConnectionConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_secret", &self.api_secret)
            .field("api_secret_file", &self.api_secret_file)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("librdkafka_keys", &override_keys(&self.librdkafka))
            .finish()
    }
}

/// By hand: `-X` values may be secrets, so only their keys are shown.
impl fmt::Debug for KafkaConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let override_keys: Vec<&str> = self.overrides.iter().map(|(key, _)| key.as_str()).collect();
        f.debug_struct("KafkaConnection")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("security_protocol", &self.security_protocol)
            .field("credentials", &self.credentials)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("librdkafka_keys", &override_keys)
            .finish()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("mechanism", &self.mechanism)
            .field("username", &"<redacted>")
            .field("password", &self.password)
            .finish()
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
        path: path.to_owned(),
        source,
    })?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(ConfigError::EmptySecretFile {
            path: path.to_owned(),
        });
    }
    Ok(Secret::new(secret))
}

/// Splits `-X KEY=VALUE` arguments. The error names the position, never the text, which may hold a
/// secret.
fn parse_overrides(args: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    args.iter()
        .enumerate()
        .map(|(index, arg)| match arg.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.to_owned()))
            }
            _ => Err(ConfigError::MalformedOverride {
                position: index + 1,
            }),
        })
        .collect()
}

/// The keys of `-X` arguments; values may be secrets (`-X sasl.password=...`), so `Debug` shows
/// keys only.
fn override_keys(args: &[String]) -> Vec<&str> {
    args.iter()
        .map(|arg| arg.split_once('=').map_or("<malformed>", |(key, _)| key))
        .collect()
}

#[cfg(test)]
#[path = "kafka_tests.rs"]
mod tests;
