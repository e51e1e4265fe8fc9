//! `semaphore consume`: read a topic as a consumer group and print one line per record, the
//! replacement for the seed's `consumer.py`. This file owns the flags, the stop conditions
//! (`--range`, `--count`, Ctrl-C) and the output format; Kafka access is `kafka`, connection
//! settings are `config`, signals are `shutdown`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::duration;
use crate::config::{KafkaConnection, KafkaConnectionConfig, OffsetReset};
use crate::kafka::{self, Consumer, Record};
use crate::shutdown::{Shutdown, ShutdownSignal};

/// The value is cut to this many characters (not bytes) on the record line.
const VALUE_HEAD_CHARS: usize = 50;
/// How long committing and leaving the group may take on the way out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Blocking Kafka calls that outlived their own timeout must not keep the process alive past this.
const RUNTIME_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Flags of `semaphore consume`.
#[derive(Debug, Args)]
#[command(after_help = "\
Each record prints one line:
  Consumed record | topic: T, partition: [P], @offset: O | key: K, value: <first 50 characters>
A missing key or value prints `null`; control characters are escaped (\\n); bytes that are not
UTF-8 are shown as hex (0x...). Offsets are committed after printing and on exit, so the next run
of the same group continues after the last printed record.

Stops after --range polls, after --count records, or on Ctrl-C / SIGTERM (exit 0 after committing),
whichever comes first; without --range and --count it runs until stopped.")]
pub struct ConsumeArgs {
    /// Topic to read.
    #[arg(long, env = "TOPIC", default_value = "topic_0")]
    topic: String,
    /// Consumer group; its committed offsets decide where reading continues.
    #[arg(short, long, visible_alias = "group-id", default_value = "group_1")]
    group: String,
    /// Where the group starts on a partition it has no committed offset for.
    #[arg(short, long, value_enum, default_value_t = OffsetReset::Earliest)]
    offset: OffsetReset,
    /// How long one poll waits for a record (5, 0.5, 5s, 1m); also the limit for reaching Kafka at
    /// start.
    #[arg(short, long, value_name = "DURATION", default_value = "5s", value_parser = duration::positive)]
    timeout: Duration,
    /// Number of polls: each returns one record as soon as there is one, or nothing after
    /// --timeout. At most N records are printed and at most N x --timeout is spent waiting.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    range: Option<u64>,
    /// Stop after printing N records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// After each line, print the whole value: pretty-printed if it is JSON, else as text. Takes
    /// an optional true/false. `-v` and `--verbose` are consumer.py's spelling (`-v True`,
    /// `-v False`); here they do not change the log level.
    #[arg(short = 'v', long = "print-value", visible_alias = "verbose", num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_name = "BOOL", value_parser = parse_flag)]
    print_value: bool,
    /// Boxed to keep `Command` small (clippy::large_enum_variant); the settings are large and read
    /// once.
    #[command(flatten)]
    kafka: Box<KafkaConnectionConfig>,
}

/// Runs `semaphore consume` to completion; exit 0 also when stopped by a signal.
pub fn run(args: ConsumeArgs) -> anyhow::Result<ExitCode> {
    let connection = args.kafka.resolve()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(consume(&args, &connection));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN_GRACE);
    outcome.map(|()| ExitCode::SUCCESS)
}

async fn consume(args: &ConsumeArgs, connection: &KafkaConnection) -> anyhow::Result<()> {
    let shutdown = Shutdown::listen()?;
    let mut stop = shutdown.signal();
    let info = tokio::select! {
        checked = kafka::check_topic(connection, &args.topic, args.timeout) => checked?,
        _ = stop.requested() => return Ok(()),
    };
    tracing::info!(
        topic = info.topic,
        partitions = info.partitions,
        group = args.group,
        bootstrap = connection.bootstrap_servers(),
        "consuming"
    );
    let consumer = Consumer::subscribe(connection, &args.group, args.offset, &[&args.topic])?;
    let printed = print_records(&consumer, args, &mut stop).await;
    // Close even after an error, so that what was printed is committed and the group is left
    // cleanly.
    let closed = consumer.close(CLOSE_TIMEOUT).await;
    printed?;
    Ok(closed?)
}

/// Polls until a stop condition holds. A record's offset is stored only once its line is written.
async fn print_records(
    consumer: &Consumer,
    args: &ConsumeArgs,
    stop: &mut ShutdownSignal,
) -> anyhow::Result<()> {
    let (mut polls, mut printed) = (0_u64, 0_u64);
    while args.range.is_none_or(|range| polls < range)
        && args.count.is_none_or(|count| printed < count)
    {
        polls += 1;
        let received = tokio::select! {
            received = consumer.recv(args.timeout) => received?,
            _ = stop.requested() => return Ok(()),
        };
        let Some(record) = received else {
            tracing::debug!(
                timeout_s = args.timeout.as_secs_f64(),
                "no record within the poll timeout"
            );
            continue;
        };
        match write_record(&record, args.print_value) {
            Ok(()) => consumer.mark_handled(&record)?,
            // The reader went away (`| head`): stop as on Ctrl-C; this record was not shown.
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(err) => return Err(err).context("cannot write to stdout"),
        }
        printed += 1;
    }
    Ok(())
}

/// The only place this command writes to stdout.
fn write_record(record: &Record, print_value: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", record_line(record))?;
    if print_value && let Some(value) = &record.value {
        writeln!(out, "{}", full_value(value))?;
    }
    out.flush()
}

fn record_line(record: &Record) -> String {
    format!(
        "Consumed record | topic: {}, partition: [{}], @offset: {} | key: {}, value: {}",
        record.topic,
        record.partition,
        record.offset,
        shown(record.key.as_deref(), usize::MAX),
        shown(record.value.as_deref(), VALUE_HEAD_CHARS),
    )
}

/// Bytes as one safe line of at most `max_chars` source characters: `null`, escaped text, or `0x`
/// hex.
fn shown(bytes: Option<&[u8]>, max_chars: usize) -> String {
    let Some(bytes) = bytes else {
        return "null".to_owned();
    };
    match std::str::from_utf8(bytes) {
        Ok(text) => text
            .chars()
            .take(max_chars)
            .flat_map(escape_control)
            .collect(),
        Err(_) => hex(bytes).chars().take(max_chars).collect(),
    }
}

/// The whole value for `--print-value`: pretty JSON, else text with line breaks kept, else hex.
fn full_value(value: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(value) {
        return serde_json::to_string_pretty(&json).unwrap_or_else(|_| hex(value));
    }
    match std::str::from_utf8(value) {
        Ok(text) => text
            .chars()
            .flat_map(|c| {
                if c == '\n' || c == '\t' {
                    vec![c]
                } else {
                    escape_control(c)
                }
            })
            .collect(),
        Err(_) => hex(value),
    }
}

/// Control characters (newlines, terminal escapes) are shown as escapes so that one record stays
/// one line and cannot drive the terminal.
fn escape_control(c: char) -> Vec<char> {
    if c.is_control() {
        c.escape_default().collect()
    } else {
        vec![c]
    }
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("0x{digits}")
}

/// `true`/`false` in the spellings Python and shells use; consumer.py took `-v True`.
fn parse_flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: Option<&[u8]>, value: Option<&[u8]>) -> Record {
        Record {
            topic: "t".into(),
            partition: 3,
            offset: 42,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            headers: Vec::new(),
        }
    }

    #[test]
    fn line_has_the_seed_format() {
        let line = record_line(&record(Some(b"k1"), Some(br#"{"a":1}"#)));
        assert_eq!(
            line,
            r#"Consumed record | topic: t, partition: [3], @offset: 42 | key: k1, value: {"a":1}"#
        );
    }

    #[test]
    fn missing_key_and_value_print_null() {
        let line = record_line(&record(None, None));
        assert!(line.ends_with("| key: null, value: null"), "{line}");
    }

    #[test]
    fn value_is_cut_to_fifty_characters_not_bytes() {
        let value = "é".repeat(60);
        let line = record_line(&record(None, Some(value.as_bytes())));
        assert!(
            line.ends_with(&format!("value: {}", "é".repeat(50))),
            "{line}"
        );
    }

    #[test]
    fn non_utf8_is_hex_and_control_characters_are_escaped() {
        assert_eq!(shown(Some(&[0xff, 0x00, 0x10]), 50), "0xff0010");
        assert_eq!(shown(Some(b"a\nb\x1b[31m"), 50), "a\\nb\\u{1b}[31m");
    }

    #[test]
    fn verbose_value_is_pretty_json_or_text() {
        assert_eq!(full_value(br#"{"a":[1]}"#), "{\n  \"a\": [\n    1\n  ]\n}");
        assert_eq!(full_value(b"plain\ntext"), "plain\ntext");
        assert_eq!(full_value(&[0xc3, 0x28]), "0xc328");
    }

    #[derive(Debug, clap::Parser)]
    struct Consume {
        #[command(flatten)]
        args: ConsumeArgs,
    }

    fn verbose(argv: &[&str]) -> Result<bool, clap::Error> {
        use clap::Parser as _;
        let argv = std::iter::once("consume").chain(argv.iter().copied());
        Consume::try_parse_from(argv).map(|parsed| parsed.args.print_value)
    }

    #[test]
    fn verbose_takes_the_originals_true_and_false_or_nothing() {
        assert!(!verbose(&[]).expect("parses"));
        assert!(verbose(&["-v"]).expect("parses"));
        assert!(verbose(&["-v", "True"]).expect("parses"));
        assert!(!verbose(&["-v", "False"]).expect("parses"));
        assert!(!verbose(&["--verbose", "false", "--topic", "t"]).expect("parses"));
        assert!(verbose(&["-v", "--topic", "t"]).expect("parses"));
        assert!(verbose(&["-v", "maybe"]).is_err());
    }

    #[test]
    fn timeout_takes_every_duration_form() {
        let timeout = |text: &str| {
            use clap::Parser as _;
            Consume::try_parse_from(["consume", "--timeout", text]).map(|p| p.args.timeout)
        };
        assert_eq!(timeout("5s").expect("parses"), Duration::from_secs(5));
        assert_eq!(timeout("0.5").expect("parses"), Duration::from_millis(500));
        assert_eq!(timeout("1m").expect("parses"), Duration::from_secs(60));
        assert!(timeout("0").is_err());
    }
}
