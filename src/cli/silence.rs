//! `semaphore silence add|list|expire`: manage the silences file that `rules run` and `rules test`
//! read with `--silences`. Every change validates the whole new file before it replaces the old one
//! (temporary file and rename), so a running `rules run` never reads a broken or partial file.

pub mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::files::{self, SilenceFileError};
use crate::rulebook::FIRING_ROOTS;
use crate::rulebook::de::Located;
use crate::rulebook::duration;
use crate::suppress::file::{self, SilenceFile};
use crate::suppress::silence::SilenceSpec;
use crate::suppress::{SilenceSet, SilenceState};

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Add a silence and print its id. The matcher is JMESPath on the firing:
    /// {ruleset, rule, event, events, vars, status}.
    Add(AddArgs),
    /// List active and pending silences (--all: expired ones too).
    List(ListArgs),
    /// End a silence now.
    Expire(ExpireArgs),
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// The silences file (created by `add` when missing).
    #[arg(long, env = "SEMAPHORE_SILENCES")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("end").required(true).args(["duration", "until"])))]
pub struct AddArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// JMESPath matcher, e.g. "event.networkId == 'N_1' && rule == 'High loss'".
    #[arg(long = "match", value_name = "EXPR")]
    pub matcher: String,
    /// How long from now, e.g. 2h, 30 minutes.
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// End time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    #[arg(long)]
    pub comment: Option<String>,
    #[arg(long)]
    pub created_by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Include expired silences.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ExpireArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// The id `add` printed (see `list`).
    pub id: String,
}

pub fn run(command: SilenceCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    match command {
        SilenceCommand::Add(args) => add(&args, now),
        SilenceCommand::List(args) => list(&args, now.timestamp_millis()),
        SilenceCommand::Expire(args) => expire(&args, now),
    }
}

/// Loads the silences for `rules run`/`rules test`; an invalid file is reported on stderr and gives `None`.
#[allow(clippy::print_stderr)] // the diagnostics are the command's output
pub fn load_or_report(path: &Path) -> anyhow::Result<Option<Arc<SilenceSet>>> {
    match files::load_silences(path) {
        Ok(loaded) => Ok(Some(Arc::new(loaded.set))),
        Err(SilenceFileError::Invalid(diagnostics)) => {
            eprint!("{diagnostics}");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// The current file and its text; a missing file is an empty one. `None`: invalid, reported.
#[allow(clippy::print_stderr)]
fn current(path: &Path) -> anyhow::Result<Option<(String, SilenceFile)>> {
    let source = match std::fs::read_to_string(path) {
        Ok(source) => source,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    match file::parse(&path.display().to_string(), &source) {
        Ok(parsed) => Ok(Some((source, parsed))),
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            eprintln!("{}: not changed; fix the file first", path.display());
            Ok(None)
        }
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn located(value: String) -> Located<String> {
    Located {
        pos: Default::default(),
        value,
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn add(args: &AddArgs, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<ExitCode> {
    if let Err(err) = crate::condition::Expr::compile_for(&args.matcher, FIRING_ROOTS) {
        eprintln!(
            "error: --match: {err}\n  {}\n  {}^",
            args.matcher,
            " ".repeat(err.offset())
        );
        return Ok(ExitCode::FAILURE);
    }
    let ends_at = match (&args.duration, &args.until) {
        (Some(text), _) => {
            let length = duration::parse(&serde_json::Value::String(text.clone()))
                .map_err(|message| anyhow::anyhow!("--for: {message}"))?;
            now + chrono::TimeDelta::from_std(length).context("--for is too long")?
        }
        (None, Some(text)) => chrono::DateTime::parse_from_rfc3339(text)
            .with_context(|| format!("--until {text:?} is not RFC 3339"))?
            .to_utc(),
        (None, None) => anyhow::bail!("give --for or --until"),
    };
    anyhow::ensure!(ends_at > now, "the silence would end before it starts");
    let path = &args.file.file;
    let Some((source, mut parsed)) = current(path)? else {
        return Ok(ExitCode::FAILURE);
    };
    let id = new_id(&parsed, now);
    let spec = SilenceSpec {
        id: located(id.clone()),
        matcher: located(args.matcher.clone()),
        starts_at: Some(located(rfc3339(now))),
        ends_at: Some(located(rfc3339(ends_at))),
        every: None,
        comment: args.comment.clone(),
        created_by: args.created_by.clone(),
    };
    // Appending keeps the file as written, comments included; a flow-style list cannot be appended to.
    let mut appended = source.clone();
    if !appended.is_empty() && !appended.ends_with('\n') {
        appended.push('\n');
    }
    appended.push_str(&file::render_entry(&spec));
    let count = parsed.specs.len();
    let text = match file::parse("new", &appended) {
        Ok(new) if new.specs.len() == count + 1 => appended,
        _ => {
            parsed.specs.push(spec);
            file::render(&parsed.specs)
        }
    };
    write_checked(path, &text)?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// `s-YYYYMMDD-HHMMSS-XXXX`: readable, sortable, and unique within the file.
fn new_id(parsed: &SilenceFile, now: chrono::DateTime<chrono::Utc>) -> String {
    let stamp = now.format("%Y%m%d-%H%M%S");
    let seed = now.timestamp_subsec_nanos() ^ std::process::id().rotate_left(16);
    (0..)
        .map(|n: u32| format!("s-{stamp}-{:04x}", seed.wrapping_add(n) & 0xffff))
        .find(|id| parsed.specs.iter().all(|s| s.id.value != *id))
        .unwrap_or_else(|| format!("s-{stamp}"))
}

/// Writes only text that parses back as a valid silences file.
fn write_checked(path: &Path, text: &str) -> anyhow::Result<()> {
    file::parse(&path.display().to_string(), text).map_err(|diagnostics| {
        anyhow::anyhow!("internal error: the new file is invalid:\n{diagnostics}")
    })?;
    files::write_silences(path, text)?;
    Ok(())
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn list(args: &ListArgs, now_ms: i64) -> anyhow::Result<ExitCode> {
    let loaded = match files::load_silences(&args.file.file) {
        Ok(loaded) => loaded,
        Err(SilenceFileError::Invalid(diagnostics)) => {
            eprint!("{diagnostics}");
            return Ok(ExitCode::FAILURE);
        }
        Err(err) => return Err(err.into()),
    };
    let time =
        |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, rfc3339);
    println!("ID\tSTATE\tWHEN\tMATCHER\tCOMMENT\tCREATED BY");
    for silence in &loaded.set.silences {
        let state = silence.state(now_ms);
        let when = match state {
            SilenceState::Active { until_ms: Some(t) } => format!("until {}", time(t)),
            SilenceState::Active { until_ms: None } => "no end".to_owned(),
            SilenceState::Pending { from_ms } => format!("from {}", time(from_ms)),
            SilenceState::Expired => silence
                .ends_at_ms
                .map(|t| format!("ended {}", time(t)))
                .unwrap_or_default(),
        };
        if state == SilenceState::Expired && !args.all {
            continue;
        }
        println!(
            "{}\t{}\t{when}\t{}\t{}\t{}",
            silence.id,
            state.name(),
            silence.matcher.source(),
            silence.comment.as_deref().unwrap_or("-"),
            silence.created_by.as_deref().unwrap_or("-"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn expire(args: &ExpireArgs, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<ExitCode> {
    let path = &args.file.file;
    let Some((_, mut parsed)) = current(path)? else {
        return Ok(ExitCode::FAILURE);
    };
    let Some(index) = parsed.specs.iter().position(|s| s.id.value == args.id) else {
        let ids: Vec<&str> = parsed.specs.iter().map(|s| s.id.value.as_str()).collect();
        let hint = crate::condition::suggest::closest(&args.id, &ids)
            .map(|id| format!(", did you mean `{id}`?"))
            .unwrap_or_default();
        eprintln!(
            "error: no silence `{}` in {}{hint}",
            args.id,
            path.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    if parsed.set.silences[index].state(now.timestamp_millis()) == SilenceState::Expired {
        println!("{} had already expired", args.id);
        return Ok(ExitCode::SUCCESS);
    }
    let spec = &mut parsed.specs[index];
    let stamp = rfc3339(now);
    // A pending silence ends before it ever starts.
    if parsed.set.silences[index]
        .starts_at_ms
        .is_some_and(|s| s > now.timestamp_millis())
    {
        spec.starts_at = Some(located(stamp.clone()));
    }
    spec.ends_at = Some(located(stamp));
    write_checked(path, &file::render(&parsed.specs))?;
    println!("{} expired", args.id);
    Ok(ExitCode::SUCCESS)
}
