//! `semaphore silence list`: the silences of a file as an aligned table for people (times in the
//! local time zone with its offset), as JSON for programs (`--output json`, times in UTC), or as
//! ids only (`--quiet`, to feed `silence expire`), after amtool's `silence query`. It only reads.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{FileArg, current};
use crate::suppress::{Silence, SilenceState};

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Include expired silences.
    #[arg(long)]
    pub all: bool,
    /// How to print the silences.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Print only the ids, one a line (e.g. for `silence expire $(silence list -q ...)`).
    #[arg(long, short = 'q', conflicts_with = "output")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns with a header; times in the local time zone.
    Table,
    /// One JSON array of objects; times in RFC 3339, UTC.
    Json,
}

const HEADER: [&str; 6] = ["ID", "STATE", "WHEN", "MATCHER", "CREATED BY", "COMMENT"];

#[allow(clippy::print_stdout)]
pub fn run(args: &ListArgs, now_ms: i64) -> anyhow::Result<ExitCode> {
    let Some((_, parsed)) = current(&args.file.file, false)? else {
        return Ok(ExitCode::FAILURE);
    };
    let shown: Vec<(&Silence, SilenceState)> = parsed
        .set
        .silences
        .iter()
        .map(|silence| (silence, silence.state(now_ms)))
        .filter(|(_, state)| args.all || *state != SilenceState::Expired)
        .collect();
    if args.quiet {
        for (silence, _) in &shown {
            println!("{}", silence.id);
        }
    } else if args.output == Output::Json {
        let rows: Vec<serde_json::Value> =
            shown.iter().map(|(s, state)| json_row(s, *state)).collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        let rows: Vec<[String; 6]> = shown
            .iter()
            .map(|(s, state)| table_row(s, *state))
            .collect();
        print!("{}", table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// A time for people: local zone with its offset, e.g. `2026-01-15 10:55:00 +01:00`.
fn local(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .unwrap_or_default()
}

fn utc(ms: Option<i64>) -> serde_json::Value {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or(serde_json::Value::Null, |t| {
            json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        })
}

fn when(silence: &Silence, state: SilenceState) -> String {
    match state {
        SilenceState::Active { until_ms: Some(t) } => format!("until {}", local(t)),
        SilenceState::Active { until_ms: None } => "no end".to_owned(),
        SilenceState::Pending { from_ms } => format!("from {}", local(from_ms)),
        SilenceState::Expired => silence
            .ends_at_ms
            .map(|t| format!("ended {}", local(t)))
            .unwrap_or_default(),
    }
}

fn table_row(silence: &Silence, state: SilenceState) -> [String; 6] {
    let or_dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".to_owned());
    [
        silence.id.clone(),
        state.name().to_owned(),
        when(silence, state),
        silence.matcher.source().to_owned(),
        or_dash(&silence.created_by),
        or_dash(&silence.comment),
    ]
}

/// The rows under the header, each column as wide as its widest cell (the last one not padded).
fn table(rows: &[[String; 6]]) -> String {
    let header = HEADER.map(str::to_owned);
    let all: Vec<&[String; 6]> = std::iter::once(&header).chain(rows).collect();
    let mut widths = [0; 6];
    for row in &all {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in all {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn json_row(silence: &Silence, state: SilenceState) -> serde_json::Value {
    let next_change = match state {
        SilenceState::Active { until_ms } => until_ms,
        SilenceState::Pending { from_ms } => Some(from_ms),
        SilenceState::Expired => None,
    };
    json!({
        "id": silence.id,
        "state": state.name(),
        "matcher": silence.matcher.source(),
        "starts_at": utc(silence.starts_at_ms),
        "ends_at": utc(silence.ends_at_ms),
        "recurring": silence.every.is_some(),
        "next_change": utc(next_change),
        "created_by": silence.created_by,
        "comment": silence.comment,
    })
}
