//! Where published records go: Kafka (delivery awaited, failures counted and reported), syslog
//! (RFC 5424 over UDP or TCP, the record as `key=value` pairs like the original publisher), both, or
//! a writer the caller hands in (stdout, as JSON lines that `semaphore rules test` reads). The
//! pollers send [`Record`]s through a bounded channel; [`drain`] feeds them to the [`Sink`] for one
//! cycle. Connection settings come from `config`; this module prints nothing on its own.

mod kafka;
mod syslog;

use std::io::Write;

use clap::ValueEnum;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::{ConfigError, KafkaConnection};
use kafka::KafkaSink;
use syslog::SyslogSink;
pub use syslog::{SyslogProtocol, SyslogTarget};

/// One message: the Kafka key (serial, network id or MAC) and a flat JSON object.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub key: String,
    pub value: Value,
}

/// `--sink`, with the original publisher's `-a syslog|kafka|both`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SinkKind {
    Kafka,
    Syslog,
    Both,
    Stdout,
}

impl SinkKind {
    pub fn uses_kafka(self) -> bool {
        matches!(self, Self::Kafka | Self::Both)
    }

    pub fn uses_syslog(self) -> bool {
        matches!(self, Self::Syslog | Self::Both)
    }
}

/// A sink could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    Kafka(#[from] crate::kafka::KafkaError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("--sink {sink} needs {what}")]
    Missing {
        sink: &'static str,
        what: &'static str,
    },
    #[error("invalid syslog server {text:?}: {reason}")]
    SyslogAddress { text: String, reason: String },
    #[error("syslog to {target} failed: {source}")]
    Syslog {
        target: String,
        source: std::io::Error,
    },
    #[error("cannot write records to stdout: {0}")]
    Output(std::io::Error),
}

/// What a sink needs to open.
pub struct SinkSettings {
    pub kind: SinkKind,
    pub topic: String,
    /// Create the Kafka topic when it does not exist.
    pub create_topic: bool,
    pub kafka: Option<KafkaConnection>,
    pub syslog: Option<SyslogTarget>,
    /// The syslog MSGID: which command the records come from.
    pub msgid: &'static str,
    /// Where `--sink stdout` writes.
    pub output: Option<Box<dyn Write + Send>>,
}

/// How one cycle's records fared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Records handed to the sink.
    pub records: u64,
    /// Deliveries that failed (a record failing in Kafka and syslog counts twice).
    pub failed: u64,
    /// The first failure, for the summary.
    pub first_failure: Option<String>,
}

impl DeliveryReport {
    fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.first_failure.is_none() {
            tracing::warn!(failure = %what, "a record was not delivered");
            self.first_failure = Some(what);
        }
    }
}

/// The open destinations.
pub struct Sink {
    kafka: Option<KafkaSink>,
    syslog: Option<SyslogSink>,
    output: Option<Box<dyn Write + Send>>,
}

impl Sink {
    /// Connects what `settings.kind` asks for; Kafka is checked (reachable, login, topic) first.
    pub async fn open(settings: SinkSettings) -> Result<Self, SinkError> {
        let kind = settings.kind;
        let kafka = match (kind.uses_kafka(), settings.kafka) {
            (true, Some(connection)) => {
                Some(KafkaSink::open(&connection, settings.topic, settings.create_topic).await?)
            }
            (true, None) => return Err(missing(kind, "Kafka bootstrap servers")),
            (false, _) => None,
        };
        let syslog = match (kind.uses_syslog(), settings.syslog) {
            (true, Some(target)) => Some(SyslogSink::open(target, settings.msgid).await?),
            (true, None) => return Err(missing(kind, "--syslog-server HOST[:PORT]")),
            (false, _) => None,
        };
        let output = match (kind, settings.output) {
            (SinkKind::Stdout, Some(output)) => Some(output),
            (SinkKind::Stdout, None) => return Err(missing(kind, "an output")),
            _ => None,
        };
        Ok(Self {
            kafka,
            syslog,
            output,
        })
    }

    async fn deliver(&mut self, record: Record, report: &mut DeliveryReport) {
        report.records += 1;
        if let Some(output) = &mut self.output
            && let Err(err) = write_line(output.as_mut(), &record)
        {
            report.fail(SinkError::Output(err).to_string());
        }
        if let Some(syslog) = &mut self.syslog
            && let Err(err) = syslog.send(&record).await
        {
            report.fail(err.to_string());
        }
        if let Some(kafka) = &mut self.kafka {
            kafka.send(&record, report).await;
        }
    }

    async fn finish(&mut self, report: &mut DeliveryReport) {
        if let Some(kafka) = &mut self.kafka {
            kafka.flush(report).await;
        }
        if let Some(output) = &mut self.output
            && let Err(err) = output.flush()
        {
            report.fail(SinkError::Output(err).to_string());
        }
    }
}

/// Feeds every record of one cycle to `sink` until the senders are gone, then waits for Kafka's
/// acknowledgements. Returns the sink for the next cycle.
pub async fn drain(mut sink: Sink, mut records: mpsc::Receiver<Record>) -> (Sink, DeliveryReport) {
    let mut report = DeliveryReport::default();
    while let Some(record) = records.recv().await {
        sink.deliver(record, &mut report).await;
    }
    sink.finish(&mut report).await;
    (sink, report)
}

fn missing(kind: SinkKind, what: &'static str) -> SinkError {
    let sink = match kind {
        SinkKind::Kafka => "kafka",
        SinkKind::Syslog => "syslog",
        SinkKind::Both => "both",
        SinkKind::Stdout => "stdout",
    };
    SinkError::Missing { sink, what }
}

/// One line as `rules test --events` reads it: the record as the event, its key in the meta.
fn write_line(output: &mut dyn Write, record: &Record) -> std::io::Result<()> {
    let mut meta = json!({ "key": record.key });
    if let Some(timestamp) = record.value.get("timestamp") {
        meta["timestamp"] = timestamp.clone();
    }
    let line = json!({ "event": record.value, "meta": meta });
    writeln!(output, "{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_lines_are_rules_test_events_with_the_key_in_meta() {
        let record = Record {
            key: "Q2XX".into(),
            value: json!({"serial": "Q2XX", "timestamp": "2026-01-15T09:55:00Z"}),
        };
        let mut out = Vec::new();
        write_line(&mut out, &record).expect("written");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"event\":{\"serial\":\"Q2XX\",\"timestamp\":\"2026-01-15T09:55:00Z\"},\
             \"meta\":{\"key\":\"Q2XX\",\"timestamp\":\"2026-01-15T09:55:00Z\"}}\n"
        );
    }

    #[tokio::test]
    async fn opening_a_sink_without_its_destination_names_the_missing_flag() {
        let settings = SinkSettings {
            kind: SinkKind::Syslog,
            topic: "t".into(),
            create_topic: false,
            kafka: None,
            syslog: None,
            msgid: "test",
            output: None,
        };
        let err = Sink::open(settings).await.err().expect("no syslog server");
        assert_eq!(
            err.to_string(),
            "--sink syslog needs --syslog-server HOST[:PORT]"
        );
    }
}
