//! Unit tests of flag validation in `kafka.rs`; the environment is passed in, never mutated.

use std::collections::HashMap;

use super::*;

fn resolve(
    flags: &KafkaConnectionConfig,
    env: &[(&str, &str)],
) -> Result<KafkaConnection, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    flags.resolve_with(|name| env.get(name).cloned())
}

fn with_bootstrap() -> KafkaConnectionConfig {
    KafkaConnectionConfig {
        bootstrap_servers: Some("broker:9092".into()),
        ..Default::default()
    }
}

#[test]
fn missing_bootstrap_servers_names_flag_and_variables() {
    let err = resolve(&KafkaConnectionConfig::default(), &[]).expect_err("no bootstrap");
    assert!(matches!(err, ConfigError::MissingBootstrapServers));
    let text = err.to_string();
    assert!(
        text.contains("--bootstrap-servers") && text.contains("BOOTSTRAP_SERVER"),
        "{text}"
    );
}

#[test]
fn seed_bootstrap_variable_is_a_fallback() {
    let connection = resolve(
        &KafkaConnectionConfig::default(),
        &[("BOOTSTRAP_SERVER", "seed:9092")],
    )
    .expect("valid");
    assert_eq!(connection.bootstrap_servers(), "seed:9092");
    let connection =
        resolve(&with_bootstrap(), &[("BOOTSTRAP_SERVER", "seed:9092")]).expect("valid");
    assert_eq!(
        connection.bootstrap_servers(),
        "broker:9092",
        "the flag wins over the seed name"
    );
}

#[test]
fn seed_credentials_mean_sasl_ssl_plain() {
    let env = [("CLUSTER_API_KEY", "KEY"), ("CLUSTER_API_SECRET", "SECRET")];
    let connection = resolve(&with_bootstrap(), &env).expect("valid");
    assert_eq!(connection.security_protocol, SecurityProtocol::SaslSsl);
    let credentials = connection
        .credentials
        .expect("credentials from the seed names");
    assert_eq!(credentials.mechanism, SaslMechanism::Plain);
    assert_eq!(credentials.username, "KEY");
    assert_eq!(credentials.password.expose(), "SECRET");
}

#[test]
fn key_without_secret_is_an_error() {
    let flags = KafkaConnectionConfig {
        api_key: Some("KEY".into()),
        ..with_bootstrap()
    };
    assert!(matches!(
        resolve(&flags, &[]),
        Err(ConfigError::MissingApiSecret)
    ));
}

#[test]
fn secret_without_key_is_an_error() {
    let flags = KafkaConnectionConfig {
        api_secret: Some(Secret::new("S")),
        ..with_bootstrap()
    };
    assert!(matches!(
        resolve(&flags, &[]),
        Err(ConfigError::MissingApiKey)
    ));
}

#[test]
fn secret_file_is_read_and_its_newline_dropped() {
    let path = std::env::temp_dir().join(format!("semaphore-secret-test-{}", std::process::id()));
    std::fs::write(&path, "s3cret\n").expect("write the secret file");
    let flags = KafkaConnectionConfig {
        api_key: Some("KEY".into()),
        api_secret_file: Some(path.clone()),
        ..with_bootstrap()
    };
    let resolved = resolve(&flags, &[]);
    std::fs::remove_file(&path).expect("remove the secret file");
    let credentials = resolved.expect("valid").credentials.expect("credentials");
    assert_eq!(credentials.password.expose(), "s3cret");
}

#[test]
fn secret_value_and_file_together_are_an_error() {
    let flags = KafkaConnectionConfig {
        api_key: Some("KEY".into()),
        api_secret: Some(Secret::new("S")),
        api_secret_file: Some("/nonexistent".into()),
        ..with_bootstrap()
    };
    assert!(matches!(
        resolve(&flags, &[]),
        Err(ConfigError::ConflictingSecretSources)
    ));
}

#[test]
fn sasl_protocol_without_credentials_is_an_error() {
    let flags = KafkaConnectionConfig {
        security_protocol: Some(SecurityProtocol::SaslSsl),
        ..with_bootstrap()
    };
    assert!(matches!(
        resolve(&flags, &[]),
        Err(ConfigError::SaslWithoutCredentials { .. })
    ));
}

#[test]
fn credentials_with_a_non_sasl_protocol_are_an_error() {
    let flags = KafkaConnectionConfig {
        security_protocol: Some(SecurityProtocol::Ssl),
        ..with_bootstrap()
    };
    let env = [("CLUSTER_API_KEY", "KEY"), ("CLUSTER_API_SECRET", "SECRET")];
    assert!(matches!(
        resolve(&flags, &env),
        Err(ConfigError::CredentialsWithoutSasl { .. })
    ));
}

#[test]
fn scram_mechanism_is_passed_through() {
    let flags = KafkaConnectionConfig {
        api_key: Some("KEY".into()),
        api_secret: Some(Secret::new("S")),
        sasl_mechanism: Some(SaslMechanism::ScramSha512),
        ..with_bootstrap()
    };
    let credentials = resolve(&flags, &[])
        .expect("valid")
        .credentials
        .expect("credentials");
    assert_eq!(credentials.mechanism, SaslMechanism::ScramSha512);
}

#[test]
fn missing_ca_file_is_a_settings_error() {
    let flags = KafkaConnectionConfig {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_ca_location: Some("/nonexistent/ca.pem".into()),
        ..with_bootstrap()
    };
    let err = resolve(&flags, &[]).expect_err("no such file");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

#[test]
fn malformed_override_names_its_position_not_its_text() {
    let flags = KafkaConnectionConfig {
        librdkafka: vec!["a=b".into(), "sasl.password:hunter2".into()],
        ..with_bootstrap()
    };
    let err = resolve(&flags, &[]).expect_err("no '='");
    assert!(matches!(
        err,
        ConfigError::MalformedOverride { position: 2 }
    ));
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn debug_redacts_key_secret_and_override_values() {
    let flags = KafkaConnectionConfig {
        api_key: Some("MYKEY".into()),
        api_secret: Some(Secret::new("hunter2")),
        librdkafka: vec!["sasl.password=hunter3".into()],
        ..with_bootstrap()
    };
    let flags_debug = format!("{flags:?}");
    let connection_debug = format!("{:?}", resolve(&flags, &[]).expect("valid"));
    for text in [flags_debug, connection_debug] {
        for secret in ["MYKEY", "hunter2", "hunter3"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(
            text.contains("sasl.password"),
            "override keys stay visible: {text}"
        );
    }
}
