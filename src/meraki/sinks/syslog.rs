//! The syslog sink: RFC 5424 messages (facility user, severity informational, APP-NAME
//! `semaphore`, MSGID the command) whose text is the record as `key=value` pairs, as the original
//! publisher sent them through `logger`. UDP sends one datagram per message (RFC 5426); TCP frames
//! each message with its length (RFC 6587 octet counting) and reconnects once if the connection
//! dropped. A per-network clients record becomes one message per client, so that a datagram stays
//! small. Every send has a timeout.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use clap::ValueEnum;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

use super::{Record, SinkError};

/// Syslog's registered port.
const DEFAULT_PORT: u16 = 514;
/// `<PRI>` for facility user (1) and severity informational (6).
const PRIORITY: u8 = 14;
/// Connecting and each send.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SyslogProtocol {
    #[default]
    Udp,
    Tcp,
}

/// `--syslog-server HOST[:PORT]` (`[v6]:PORT` for IPv6) and the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogTarget {
    pub host: String,
    pub port: u16,
    pub protocol: SyslogProtocol,
}

impl FromStr for SyslogTarget {
    type Err = SinkError;

    fn from_str(text: &str) -> Result<Self, SinkError> {
        let invalid = |reason: &str| SinkError::SyslogAddress {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| invalid("missing ']'"))?;
            (host, after.strip_prefix(':'))
        } else if text.matches(':').count() == 1 {
            let (host, port) = text.split_once(':').ok_or_else(|| invalid("bad port"))?;
            (host, Some(port))
        } else {
            (text, None)
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match port {
            Some(port) => port
                .parse()
                .map_err(|_| invalid("the port is not a number"))?,
            None => DEFAULT_PORT,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            protocol: SyslogProtocol::Udp,
        })
    }
}

impl fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            SyslogProtocol::Udp => "udp",
            SyslogProtocol::Tcp => "tcp",
        };
        write!(f, "{protocol}://{}:{}", self.host, self.port)
    }
}

enum Transport {
    Udp(UdpSocket),
    Tcp(Option<TcpStream>),
}

pub(super) struct SyslogSink {
    target: SyslogTarget,
    transport: Transport,
    header_tail: String,
}

impl SyslogSink {
    pub(super) async fn open(target: SyslogTarget, msgid: &str) -> Result<Self, SinkError> {
        let transport = match target.protocol {
            SyslogProtocol::Udp => {
                let bind = if target.host.contains(':') {
                    "[::]:0"
                } else {
                    "0.0.0.0:0"
                };
                let socket = UdpSocket::bind(bind)
                    .await
                    .map_err(|e| failed(&target, e))?;
                with_timeout(socket.connect((target.host.as_str(), target.port)))
                    .await
                    .map_err(|e| failed(&target, e))?;
                Transport::Udp(socket)
            }
            SyslogProtocol::Tcp => Transport::Tcp(Some(connect(&target).await?)),
        };
        let header_tail = format!("{} semaphore {} {msgid} -", hostname(), std::process::id());
        Ok(Self {
            target,
            transport,
            header_tail,
        })
    }

    pub(super) async fn send(&mut self, record: &Record) -> Result<(), SinkError> {
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for pairs in messages(&record.value) {
            let message = format!("<{PRIORITY}>1 {timestamp} {} {pairs}", self.header_tail);
            self.send_one(&message).await?;
        }
        Ok(())
    }

    async fn send_one(&mut self, message: &str) -> Result<(), SinkError> {
        match &mut self.transport {
            Transport::Udp(socket) => with_timeout(socket.send(message.as_bytes()))
                .await
                .map(drop)
                .map_err(|e| failed(&self.target, e)),
            Transport::Tcp(stream) => {
                let frame = format!("{} {message}", message.len());
                if let Some(open) = stream
                    && write_frame(open, &frame).await.is_ok()
                {
                    return Ok(());
                }
                // The server may have closed an idle connection: connect again, once.
                *stream = None;
                let mut fresh = connect(&self.target).await?;
                write_frame(&mut fresh, &frame)
                    .await
                    .map_err(|e| failed(&self.target, e))?;
                *stream = Some(fresh);
                Ok(())
            }
        }
    }
}

async fn connect(target: &SyslogTarget) -> Result<TcpStream, SinkError> {
    with_timeout(TcpStream::connect((target.host.as_str(), target.port)))
        .await
        .map_err(|e| failed(target, e))
}

async fn write_frame(stream: &mut TcpStream, frame: &str) -> std::io::Result<()> {
    with_timeout(stream.write_all(frame.as_bytes())).await
}

async fn with_timeout<T>(
    operation: impl Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(SEND_TIMEOUT, operation)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

fn failed(target: &SyslogTarget, source: std::io::Error) -> SinkError {
    SinkError::Syslog {
        target: target.to_string(),
        source,
    }
}

/// The `key=value` texts of one record: one per client for a per-network clients record.
fn messages(value: &Value) -> Vec<String> {
    let Some(object) = value.as_object() else {
        return vec![value.to_string()];
    };
    let Some(Value::Array(clients)) = object.get("payload") else {
        return vec![key_values(object)];
    };
    let network: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| key.as_str() != "payload")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    clients
        .iter()
        .map(|client| {
            let mut merged = network.clone();
            if let Some(fields) = client.as_object() {
                merged.extend(fields.clone());
            }
            key_values(&merged)
        })
        .collect()
}

/// `key=value key=value`; text is bare unless it holds spaces, quotes or `=` (then JSON-quoted),
/// everything else is compact JSON.
fn key_values(object: &Map<String, Value>) -> String {
    let pairs: Vec<String> = object
        .iter()
        .map(|(key, value)| format!("{key}={}", shown(value)))
        .collect();
    pairs.join(" ")
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(text)
            if !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=') =>
        {
            text.clone()
        }
        other => other.to_string(),
    }
}

/// RFC 5424 HOSTNAME: printable ASCII without spaces, else the nil value.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic()) {
        "-".to_owned()
    } else {
        name.chars().take(255).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn records_become_key_value_text() {
        let record = json!({"serial": "Q2XX-0000-0001", "lossPercent": 12.5, "latencyMs": null,
                            "networkName": "Main Office", "tags": ["a"]});
        assert_eq!(
            messages(&record),
            vec![
                r#"serial=Q2XX-0000-0001 lossPercent=12.5 latencyMs=null networkName="Main Office" tags=["a"]"#
            ]
        );
    }

    #[test]
    fn a_network_record_becomes_one_message_per_client() {
        let record =
            json!({"payload": [{"mac": "a"}, {"mac": "b"}], "network": "N_1", "networkName": "x"});
        assert_eq!(
            messages(&record),
            vec![
                "network=N_1 networkName=x mac=a",
                "network=N_1 networkName=x mac=b"
            ]
        );
    }

    #[test]
    fn server_addresses_default_to_port_514() {
        let target: SyslogTarget = "logs.example".parse().expect("valid");
        assert_eq!((target.host.as_str(), target.port), ("logs.example", 514));
        let target: SyslogTarget = "10.0.0.1:1514".parse().expect("valid");
        assert_eq!((target.host.as_str(), target.port), ("10.0.0.1", 1514));
        let target: SyslogTarget = "[::1]:601".parse().expect("valid");
        assert_eq!((target.host.as_str(), target.port), ("::1", 601));
        assert!("host:port".parse::<SyslogTarget>().is_err());
    }
}
