//! The one place that writes librdkafka configuration keys: a validated [`KafkaConnection`] becomes
//! an `rdkafka::ClientConfig` for a plain client (metadata, admin, producer) or a group consumer.
//! TLS certificate verification is librdkafka's default (on) and nothing here turns it off; only an
//! explicit `-X` can, and that is logged as a warning. It does not create clients; the `kafka`
//! module does.

use rdkafka::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError as RdKafkaError;

use super::{ConfigError, FetchMemory, KafkaConnection, OffsetReset};

/// `client.id`, so that broker logs and quotas can tell semaphore's connections apart.
const CLIENT_ID: &str = "semaphore";

/// How often a monitored consumer reports statistics: often enough for a lag gauge and a readiness
/// probe, rare enough that parsing the JSON costs nothing measurable.
pub const STATISTICS_INTERVAL_MS: &str = "5000";

/// librdkafka's default `receive.message.max.bytes`: the largest fetch response a consumer accepts,
/// so no record it hands out is larger.
const RECEIVE_MESSAGE_MAX_BYTES: u64 = 100_000_000;
/// Room for the headers semaphore adds to a record it dead-letters (error, source, rule).
const DEAD_LETTER_HEADROOM: u64 = 64 * 1024;
/// The largest `message.max.bytes` librdkafka accepts.
const MESSAGE_MAX_BYTES_LIMIT: u64 = 1_000_000_000;

/// `-X` settings that weaken TLS, with the value that does so.
const TLS_WEAKENING: [(&str, &str); 2] = [
    ("enable.ssl.certificate.verification", "false"),
    ("ssl.endpoint.identification.algorithm", "none"),
];

impl KafkaConnection {
    /// Settings for a client that is not in a consumer group: metadata checks, admin, producers.
    pub fn client_config(&self) -> Result<ClientConfig, ConfigError> {
        self.build(&[])
    }

    /// Settings for a group consumer. Offsets are stored by the application only after a record was
    /// handled (`enable.auto.offset.store=false`), and the stored offsets are committed in the
    /// background every second (librdkafka's default is 5 s: after a crash, everything handled since
    /// the last commit runs again, so a short interval means fewer duplicates) and on close.
    pub fn consumer_config(
        &self,
        group_id: &str,
        offset_reset: OffsetReset,
    ) -> Result<ClientConfig, ConfigError> {
        self.build(&consumer_keys(group_id, offset_reset, None))
    }

    /// A group consumer that also emits librdkafka's statistics (lag, committed offsets, broker
    /// states) every [`STATISTICS_INTERVAL_MS`], for the `rules run` metrics and readiness, and whose
    /// prefetch queues are sized by `memory`. `-X` still wins for every key.
    pub fn monitored_consumer_config(
        &self,
        group_id: &str,
        offset_reset: OffsetReset,
        memory: FetchMemory,
    ) -> Result<ClientConfig, ConfigError> {
        let sized = memory.keys();
        let mut keys = consumer_keys(group_id, offset_reset, Some(STATISTICS_INTERVAL_MS));
        keys.extend(sized.iter().map(|(key, value)| (*key, value.as_str())));
        self.build(&keys)
    }

    /// Settings for a consumer outside any group that reads one partition from the beginning to its
    /// end (restoring state): nothing is committed, and reaching the end is reported as an event.
    pub fn reader_config(&self) -> Result<ClientConfig, ConfigError> {
        self.build(&[
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "true"),
            ("group.id", "semaphore-state-reader"),
        ])
    }

    /// Settings for a producer whose records must not be lost or duplicated by retries: every
    /// in-sync replica acknowledges (`acks=all`) and the idempotent producer keeps order on retry.
    /// A short linger batches bursts (alerts, dead letters, published records) without adding latency
    /// a person could notice.
    pub fn producer_config(&self) -> Result<ClientConfig, ConfigError> {
        self.build(&producer_keys())
    }

    /// The largest dead letter: any record the consumer can fetch (up to its
    /// `receive.message.max.bytes`, librdkafka's default or `-X`), plus room for semaphore's headers.
    /// The dead-letter producer's `message.max.bytes` and the `max.message.bytes` of a dead-letter
    /// topic semaphore creates are set to it.
    pub fn dead_letter_max_bytes(&self) -> u64 {
        let fetchable = self
            .overrides
            .iter()
            .rev()
            .find(|(key, _)| key == "receive.message.max.bytes")
            .and_then(|(_, value)| value.parse::<u64>().ok())
            .unwrap_or(RECEIVE_MESSAGE_MAX_BYTES);
        (fetchable + DEAD_LETTER_HEADROOM).min(MESSAGE_MAX_BYTES_LIMIT)
    }

    /// [`Self::producer_config`] for dead letters: its `message.max.bytes` is
    /// [`Self::dead_letter_max_bytes`] (librdkafka's default, 1 MB, refuses a bigger record before
    /// sending it), so that the size of a record never keeps it out of the dead-letter topic. An
    /// explicit `-X message.max.bytes` still wins.
    pub fn dead_letter_producer_config(&self) -> Result<ClientConfig, ConfigError> {
        let max_bytes = self.dead_letter_max_bytes().to_string();
        let mut keys: Vec<(&str, &str)> = producer_keys().to_vec();
        keys.push(("message.max.bytes", &max_bytes));
        self.build(&keys)
    }

    /// Connection keys, then the role's keys, then `-X` overrides; validated by librdkafka before
    /// returning.
    fn build(&self, role: &[(&str, &str)]) -> Result<ClientConfig, ConfigError> {
        let mut config = ClientConfig::new();
        config
            .set_log_level(log_level())
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", CLIENT_ID)
            .set("security.protocol", self.security_protocol.as_str());
        if let Some(credentials) = &self.credentials {
            config
                .set("sasl.mechanisms", credentials.mechanism.as_str())
                .set("sasl.username", &credentials.username)
                .set("sasl.password", credentials.password.expose());
        }
        if let Some(ca) = &self.ssl_ca_location {
            config.set("ssl.ca.location", ca);
        }
        for (key, value) in role {
            config.set(*key, *value);
        }
        for (key, value) in &self.overrides {
            warn_if_tls_weakened(key, value);
            config.set(key, value);
        }
        config.create_native_config().map_err(rejected)?;
        Ok(config)
    }
}

/// The keys of every producer.
fn producer_keys() -> [(&'static str, &'static str); 5] {
    [
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("linger.ms", "5"),
        ("compression.type", "zstd"),
        ("message.timeout.ms", "30000"),
    ]
}

/// The keys of every group consumer, plus `statistics.interval.ms` when statistics are wanted.
fn consumer_keys<'a>(
    group_id: &'a str,
    offset_reset: OffsetReset,
    statistics_ms: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut keys = vec![
        ("group.id", group_id),
        ("auto.offset.reset", offset_reset.as_str()),
        ("enable.auto.offset.store", "false"),
        ("enable.auto.commit", "true"),
        ("auto.commit.interval.ms", "1000"),
        // A member that died without leaving (kill -9, a lost host) holds its partitions until
        // this expires; librdkafka's 45 s default leaves them unread that long.
        ("session.timeout.ms", "10000"),
        ("heartbeat.interval.ms", "3000"),
        // When the local queue is full librdkafka waits this long before fetching again; its 1 s
        // default let a consumer slower than the broker run dry for half of every second (measured:
        // `rules run` at 104k events/s with 1 s, the evaluating thread busy throughout with 50 ms).
        ("fetch.queue.backoff.ms", "50"),
    ];
    keys.extend(statistics_ms.map(|ms| ("statistics.interval.ms", ms)));
    keys
}

fn warn_if_tls_weakened(key: &str, value: &str) {
    let weakens = TLS_WEAKENING
        .iter()
        .any(|(weak_key, weak_value)| key == *weak_key && value.eq_ignore_ascii_case(weak_value));
    if weakens {
        tracing::warn!(key, value, "TLS certificate verification is weakened by -X");
    }
}

/// librdkafka's own message, without the rejected value (it may be a secret).
fn rejected(err: RdKafkaError) -> ConfigError {
    match err {
        RdKafkaError::ClientConfig(_, reason, key, _value) => ConfigError::Rejected { key, reason },
        other => ConfigError::Rejected {
            key: String::new(),
            reason: other.to_string(),
        },
    }
}

/// librdkafka only formats the lines that the tracing filter will keep.
fn log_level() -> RDKafkaLogLevel {
    use tracing::Level;
    if tracing::enabled!(target: "librdkafka", Level::DEBUG) {
        RDKafkaLogLevel::Debug
    } else if tracing::enabled!(target: "librdkafka", Level::INFO) {
        RDKafkaLogLevel::Info
    } else if tracing::enabled!(target: "librdkafka", Level::WARN) {
        RDKafkaLogLevel::Warning
    } else {
        RDKafkaLogLevel::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{KafkaConnectionConfig, Secret};

    fn connection(flags: KafkaConnectionConfig) -> KafkaConnection {
        flags.resolve_with(|_| None).expect("test flags are valid")
    }

    fn plain() -> KafkaConnectionConfig {
        KafkaConnectionConfig {
            bootstrap_servers: Some("127.0.0.1:9092".into()),
            ..Default::default()
        }
    }

    #[test]
    fn plain_connection_sets_bootstrap_and_plaintext() {
        let config = connection(plain()).client_config().expect("valid");
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9092"));
        assert_eq!(config.get("security.protocol"), Some("PLAINTEXT"));
        assert_eq!(config.get("sasl.username"), None);
        assert_eq!(config.get("group.id"), None);
    }

    #[test]
    fn api_key_gives_sasl_ssl_plain_like_confluent_cloud() {
        let flags = KafkaConnectionConfig {
            api_key: Some("KEY".into()),
            api_secret: Some(Secret::new("SECRET")),
            ..plain()
        };
        let config = connection(flags).client_config().expect("valid");
        assert_eq!(config.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(config.get("sasl.mechanisms"), Some("PLAIN"));
        assert_eq!(config.get("sasl.username"), Some("KEY"));
        assert_eq!(config.get("sasl.password"), Some("SECRET"));
        assert_eq!(
            config.get("enable.ssl.certificate.verification"),
            None,
            "verification stays librdkafka's default"
        );
    }

    #[test]
    fn consumer_config_stores_offsets_only_after_handling() {
        let config = connection(plain())
            .consumer_config("g1", OffsetReset::Latest)
            .expect("valid");
        assert_eq!(config.get("group.id"), Some("g1"));
        assert_eq!(config.get("auto.offset.reset"), Some("latest"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(config.get("statistics.interval.ms"), None);
    }

    #[test]
    fn a_monitored_consumer_emits_statistics_unless_overridden() {
        let config = connection(plain())
            .monitored_consumer_config("g1", OffsetReset::Latest, FetchMemory::mib(16).unwrap())
            .expect("valid");
        assert_eq!(config.get("statistics.interval.ms"), Some("5000"));
        assert_eq!(config.get("queued.max.messages.kbytes"), Some("8192"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
        let flags = KafkaConnectionConfig {
            librdkafka: vec!["statistics.interval.ms=1000".into()],
            ..plain()
        };
        let config = connection(flags)
            .monitored_consumer_config("g1", OffsetReset::Latest, FetchMemory::mib(64).unwrap())
            .expect("valid");
        assert_eq!(config.get("statistics.interval.ms"), Some("1000"));
        assert_eq!(config.get("queued.max.messages.kbytes"), Some("32768"));
        // The smallest budget is one librdkafka accepts.
        let smallest = FetchMemory::mib(4).unwrap();
        assert!(
            connection(plain())
                .monitored_consumer_config("g1", OffsetReset::Latest, smallest)
                .is_ok()
        );
    }

    #[test]
    fn the_dead_letter_producer_takes_any_record_a_consumer_can_fetch() {
        let config = connection(plain())
            .dead_letter_producer_config()
            .expect("valid");
        assert_eq!(config.get("message.max.bytes"), Some("100065536"));
        assert_eq!(config.get("acks"), Some("all"));
        let plain_producer = connection(plain()).producer_config().expect("valid");
        assert_eq!(plain_producer.get("message.max.bytes"), None);
    }

    #[test]
    fn the_dead_letter_size_follows_the_consumers_fetch_limit_up_to_librdkafkas_bound() {
        let with = |setting: &str| {
            connection(KafkaConnectionConfig {
                librdkafka: vec![setting.into()],
                ..plain()
            })
            .dead_letter_max_bytes()
        };
        assert_eq!(with("receive.message.max.bytes=2000000"), 2_065_536);
        assert_eq!(with("receive.message.max.bytes=2147483647"), 1_000_000_000);
        let explicit = connection(KafkaConnectionConfig {
            librdkafka: vec!["message.max.bytes=5000".into()],
            ..plain()
        })
        .dead_letter_producer_config()
        .expect("valid");
        assert_eq!(explicit.get("message.max.bytes"), Some("5000"), "-X wins");
    }

    #[test]
    fn overrides_apply_last() {
        let flags = KafkaConnectionConfig {
            librdkafka: vec!["client.id=custom".into(), "auto.offset.reset=latest".into()],
            ..plain()
        };
        let config = connection(flags)
            .consumer_config("g1", OffsetReset::Earliest)
            .expect("valid");
        assert_eq!(config.get("client.id"), Some("custom"));
        assert_eq!(config.get("auto.offset.reset"), Some("latest"));
    }

    #[test]
    fn unknown_librdkafka_key_is_rejected_by_name_without_its_value() {
        let flags = KafkaConnectionConfig {
            librdkafka: vec!["no.such.key=hunter2".into()],
            ..plain()
        };
        let err = connection(flags)
            .client_config()
            .expect_err("librdkafka rejects unknown keys");
        let text = err.to_string();
        assert!(text.contains("no.such.key"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn config_debug_never_shows_the_password() {
        let flags = KafkaConnectionConfig {
            api_key: Some("KEY".into()),
            api_secret: Some(Secret::new("hunter2")),
            ..plain()
        };
        let config = connection(flags).client_config().expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
