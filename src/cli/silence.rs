//! `semaphore silence add|list|expire`: manage the silences file that `rules run` and `rules test`
//! read with `--silences`. Every change validates the whole new file before it replaces the old one
//! (temporary file and rename), so a running `rules run` never reads a broken or partial file.

mod list;
pub mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::files::{self, SilenceFileError};
use crate::rulebook::FIRING_ROOTS;
use crate::rulebook::de::Located;
use crate::suppress::file::{self, SilenceFile};
use crate::suppress::silence::SilenceSpec;
use crate::suppress::{SilenceSet, SilenceState, edit};
pub use list::ListArgs;

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Add a silence and print its id. The matcher is JMESPath on the firing:
    /// {ruleset, rule, event, events, vars, status}.
    Add(AddArgs),
    /// List active and pending silences as a table (--all: expired ones too).
    List(ListArgs),
    /// End one or more silences now; they stay in the file as expired.
    Expire(ExpireArgs),
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// The silences file (created by `add` when missing); the one `rules run --silences` reads.
    #[arg(
        long = "silences",
        visible_alias = "file",
        value_name = "FILE",
        env = "SEMAPHORE_SILENCES"
    )]
    pub file: PathBuf,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
}

/// How long a silence lasts when neither `--duration` nor `--until` is given (amtool's default).
const DEFAULT_DURATION: &str = "1h";

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// JMESPath matcher on the firing, e.g. "event.networkId == 'N_1' && rule == 'High loss'".
    #[arg(long = "match", short = 'm', value_name = "EXPR")]
    pub matcher: String,
    /// How long from now: 90s, 30m, 2h (or `2 days`). Default: 1h.
    #[arg(
        long,
        short = 'd',
        visible_alias = "for",
        value_name = "DURATION",
        conflicts_with = "until"
    )]
    pub duration: Option<String>,
    /// End at this time instead (RFC 3339, e.g. 2026-01-16T08:00:00+01:00).
    #[arg(long, visible_alias = "end", value_name = "TIME")]
    pub until: Option<String>,
    /// Why the silence exists (a ticket, a maintenance); shown by `list`.
    #[arg(long, short = 'c')]
    pub comment: Option<String>,
    /// Who added it; shown by `list`. Default: the login name ($USER).
    #[arg(long, short = 'a', visible_alias = "created-by", env = "USER")]
    pub author: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExpireArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// The ids `add` printed (see `list`; `list --quiet` prints only ids).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
}

impl SilenceCommand {
    /// How many `-v` flags raise the log level.
    pub fn log_verbosity(&self) -> u8 {
        match self {
            SilenceCommand::Add(args) => args.file.verbose,
            SilenceCommand::List(args) => args.file.verbose,
            SilenceCommand::Expire(args) => args.file.verbose,
        }
    }
}

pub fn run(command: SilenceCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    match command {
        SilenceCommand::Add(args) => add(&args, now),
        SilenceCommand::List(args) => list::run(&args, now.timestamp_millis()),
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
        Err(err) => Err(one_line(&err)),
    }
}

/// The error as one line: its message already names the OS error, which `{:#}` would repeat.
fn one_line(err: &SilenceFileError) -> anyhow::Error {
    match err {
        SilenceFileError::Read { path, source }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::anyhow!("no silences file {path} (`semaphore silence add` creates it)")
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// The current file and its text; `missing_ok`: a missing file is an empty one. `None`: invalid,
/// reported.
#[allow(clippy::print_stderr)]
fn current(path: &Path, missing_ok: bool) -> anyhow::Result<Option<(String, SilenceFile)>> {
    let source = match files::read_silences(path) {
        Ok(source) => source,
        Err(SilenceFileError::Read { source, .. })
            if missing_ok && source.kind() == std::io::ErrorKind::NotFound =>
        {
            String::new()
        }
        Err(err) => return Err(one_line(&err)),
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

/// `--duration`: the CLI's duration forms (`90s`, `30m`, `2h`), or a rulebook duration (`2 days`).
fn parse_duration(text: &str) -> anyhow::Result<chrono::TimeDelta> {
    let length = super::duration::positive(text).or_else(|message| {
        crate::rulebook::duration::parse(&serde_json::Value::String(text.to_owned()))
            .map_err(|_| anyhow::anyhow!("--duration: {message}"))
    })?;
    chrono::TimeDelta::from_std(length).context("--duration is too long")
}

fn ends_at(
    args: &AddArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let ends_at = match &args.until {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .with_context(|| format!("--until {text:?} is not RFC 3339"))?
            .to_utc(),
        None => {
            let text = args.duration.as_deref().unwrap_or(DEFAULT_DURATION);
            now.checked_add_signed(parse_duration(text)?)
                .context("--duration is too long")?
        }
    };
    anyhow::ensure!(ends_at > now, "the silence would end before it starts");
    Ok(ends_at)
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
    let ends_at = ends_at(args, now)?;
    let path = &args.file.file;
    let Some((source, mut parsed)) = current(path, true)? else {
        return Ok(ExitCode::FAILURE);
    };
    let id = new_id(&parsed, now);
    let author = args.author.clone().filter(|a| !a.trim().is_empty());
    let spec = SilenceSpec {
        id: located(id.clone()),
        matcher: located(args.matcher.clone()),
        starts_at: Some(located(rfc3339(now))),
        ends_at: Some(located(rfc3339(ends_at))),
        every: None,
        comment: args.comment.clone(),
        created_by: author,
    };
    // Appending keeps the file as written, comments included; a flow-style list cannot be appended to.
    let mut appended = source.clone();
    if !appended.is_empty() && !appended.ends_with('\n') {
        appended.push('\n');
    }
    appended.push_str(&file::render_entry(&spec));
    parsed.specs.push(spec);
    let text = same_entries(appended, &parsed.specs).unwrap_or_else(|| file::render(&parsed.specs));
    write_checked(path, &text)?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// `text` when it parses to exactly `specs` (compared in their rendered form).
fn same_entries(text: String, specs: &[SilenceSpec]) -> Option<String> {
    let new = file::parse("new", &text).ok()?;
    (file::render(&new.specs) == file::render(specs)).then_some(text)
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
    files::write_silences(path, text).map_err(|err| one_line(&err))
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn expire(args: &ExpireArgs, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<ExitCode> {
    let path = &args.file.file;
    let Some((mut source, mut parsed)) = current(path, false)? else {
        return Ok(ExitCode::FAILURE);
    };
    let known: Vec<&str> = parsed.specs.iter().map(|s| s.id.value.as_str()).collect();
    let unknown: Vec<&String> = args
        .ids
        .iter()
        .filter(|id| !known.contains(&id.as_str()))
        .collect();
    if !unknown.is_empty() {
        for id in unknown {
            let hint = crate::condition::suggest::closest(id, &known)
                .map(|id| format!(", did you mean `{id}`?"))
                .unwrap_or_default();
            eprintln!("error: no silence `{id}` in {}{hint}", path.display());
        }
        eprintln!("{}: not changed", path.display());
        return Ok(ExitCode::FAILURE);
    }
    let mut messages = Vec::new();
    for id in &args.ids {
        let Some(index) = parsed.specs.iter().position(|s| s.id.value == *id) else {
            continue;
        };
        if parsed.set.silences[index].state(now.timestamp_millis()) == SilenceState::Expired {
            messages.push(format!("{id} had already expired"));
            continue;
        }
        (source, parsed) = expire_one(&source, &parsed, index, now)?;
        messages.push(format!("{id} expired"));
    }
    write_checked(path, &source)?;
    for message in messages {
        println!("{message}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `source` with entry `index` ended at `now` (and, when pending, started then too), edited in
/// place so that the file keeps its comments; when the editor cannot place the change, the file is
/// rendered from its entries instead. The result is parsed again, for the next id's positions.
fn expire_one(
    source: &str,
    parsed: &SilenceFile,
    index: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(String, SilenceFile)> {
    let stamp = rfc3339(now);
    let pending = parsed.set.silences[index]
        .starts_at_ms
        .is_some_and(|s| s > now.timestamp_millis());
    let keys: &[&str] = if pending {
        &["starts_at", "ends_at"]
    } else {
        &["ends_at"]
    };
    let mut expected = parsed.specs.clone();
    if pending {
        expected[index].starts_at = Some(located(stamp.clone()));
    }
    expected[index].ends_at = Some(located(stamp.clone()));
    let text = edited(source, index, keys, &stamp)
        .and_then(|text| same_entries(text, &expected))
        .unwrap_or_else(|| file::render(&expected));
    let reparsed = file::parse("edited", &text).map_err(|diagnostics| {
        anyhow::anyhow!("internal error: the new file is invalid:\n{diagnostics}")
    })?;
    Ok((text, reparsed))
}

/// `keys` of entry `index` set to `value` one after the other, each placed in the text as the
/// previous edit left it.
fn edited(source: &str, index: usize, keys: &[&str], value: &str) -> Option<String> {
    let mut text = source.to_owned();
    for key in keys {
        let parsed = file::parse("edit", &text).ok()?;
        let spec = parsed.specs.get(index)?;
        let field = if *key == "starts_at" {
            &spec.starts_at
        } else {
            &spec.ends_at
        };
        text = edit::set_field(&text, spec, key, field.as_ref(), value)?;
    }
    Some(text)
}
