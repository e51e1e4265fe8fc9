//! Process settings: what the command line and the environment say about how to run, validated into
//! typed values. This module owns the Kafka connection flags shared by every command that talks to
//! Kafka ([`KafkaConnectionConfig`]), the flags for sending actions ([`ActionConfig`]), where local
//! state files go ([`default_dead_letter_dir`]), and is the only place where librdkafka
//! configuration keys are written ([`KafkaConnection::client_config`], [`KafkaConnection::consumer_config`]). It opens no
//! connections (that is `kafka`) and prints nothing (that is `cli`); secrets it reads are wrapped
//! in [`Secret`] so that they cannot reach a log line or `--help` by accident.

mod actions;
mod fetch_memory;
mod kafka;
mod librdkafka;
mod secret;
mod state_dir;

use std::path::PathBuf;

pub use actions::ActionConfig;
pub use fetch_memory::{DEFAULT_FETCH_MEMORY_MIB, FetchMemory};
pub use kafka::{
    KafkaConnection, KafkaConnectionConfig, OffsetReset, SaslMechanism, SecurityProtocol,
};
pub use secret::Secret;
pub use state_dir::default_dead_letter_dir;

/// A setting is missing, contradictory or unreadable. Messages name the flag and its environment
/// variables; they never contain a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no Kafka bootstrap servers: pass --bootstrap-servers or set SEMAPHORE_BOOTSTRAP_SERVERS (or BOOTSTRAP_SERVER)"
    )]
    MissingBootstrapServers,
    #[error("--fetch-memory {mib} MiB is too small: give at least 4 MiB")]
    FetchMemoryTooSmall { mib: u32 },
    #[error(
        "a Kafka API key is set but no API secret: pass --api-secret-file or set SEMAPHORE_KAFKA_API_SECRET (or CLUSTER_API_SECRET)"
    )]
    MissingApiSecret,
    #[error(
        "a Kafka API secret is set but no API key: pass --api-key or set SEMAPHORE_KAFKA_API_KEY (or CLUSTER_API_KEY)"
    )]
    MissingApiKey,
    #[error(
        "the Kafka API secret is given twice (--api-secret / SEMAPHORE_KAFKA_API_SECRET and --api-secret-file); keep one"
    )]
    ConflictingSecretSources,
    #[error("cannot read the Kafka API secret file {}: {source}", path.display())]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the Kafka API secret file {} is empty", path.display())]
    EmptySecretFile { path: PathBuf },
    #[error(
        "--security-protocol {protocol} needs an API key and secret (SASL username and password)"
    )]
    SaslWithoutCredentials { protocol: SecurityProtocol },
    #[error(
        "an API key and secret are set, but --security-protocol {protocol} does not use SASL, so they would be ignored"
    )]
    CredentialsWithoutSasl { protocol: SecurityProtocol },
    #[error("--sasl-mechanism {mechanism} is set without an API key and secret")]
    MechanismWithoutCredentials { mechanism: SaslMechanism },
    #[error(
        "--ssl-ca-location is set, but --security-protocol {protocol} does not use TLS, so it would be ignored"
    )]
    CaWithoutTls { protocol: SecurityProtocol },
    #[error("cannot read the CA file {} (--ssl-ca-location): {source}", path.display())]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the path {} is not valid UTF-8, which librdkafka requires", path.display())]
    NonUtf8Path { path: PathBuf },
    #[error(
        "-X expects KEY=VALUE (a librdkafka property); -X number {position} has no key or no '='"
    )]
    MalformedOverride { position: usize },
    #[error("librdkafka rejected the setting {key:?}: {reason}")]
    Rejected { key: String, reason: String },
    #[error(
        "no directory for dead letters the broker refuses: pass --dead-letter-dir or set SEMAPHORE_DEAD_LETTER_DIR (none of STATE_DIRECTORY, XDG_STATE_HOME and HOME is set to an absolute path)"
    )]
    NoStateDirectory,
    #[error(
        "--controller-url needs either --controller-token (SEMAPHORE_CONTROLLER_TOKEN) or both --controller-username and --controller-password (SEMAPHORE_CONTROLLER_USERNAME / _PASSWORD)"
    )]
    ControllerCredentials,
}
