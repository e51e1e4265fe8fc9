//! `semaphore rules test RULEBOOK --events FILE.jsonl`: offline evaluation. Each input line is an event
//! object, or `{"event": {...}, "meta": {...}}` to give meta such as `timestamp`. Firings go to stdout
//! as JSON lines; `--explain` adds one line per event and rule saying whether it matched and why; the
//! summary and input errors go to stderr. Event time drives windows and timers; at the end of input
//! time stops at the last event's, unless `--until` moves it on so that pending timers fire.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};

use crate::actions::context::{DispatchSettings, FiringInfo};
use crate::actions::preview::preview;
use crate::config::ActionConfig;
use crate::engine::{Engine, Firing, Outcome};
use crate::event::{self, Event, Needed};

/// Nothing is sent offline, so how many firings' actions run at once is not offered here; it is still
/// accepted, so that one set of flags can serve `rules run` and `rules test`.
#[derive(Debug, Args)]
#[command(mut_arg("max_concurrent_actions", |arg| arg.hide(true)))]
pub struct TestArgs {
    /// The rulebook to test.
    pub rulebook: PathBuf,
    /// Events, one JSON document per line; `-` reads standard input.
    #[arg(long, short = 'e', value_name = "FILE")]
    pub events: PathBuf,
    /// Also print, for every event and rule, whether it matched and why not.
    #[arg(long)]
    pub explain: bool,
    /// Engine clock for events without `meta.timestamp` before the first one that has it (RFC 3339).
    /// Later events without a timestamp reuse the last one seen, so results never depend on the wall clock.
    #[arg(long, default_value = "2026-01-01T00:00:00Z", value_name = "TIME")]
    pub start_time: String,
    /// Silences file (docs/silences.md): matching firings are reported as suppressed, not fired.
    #[arg(long, env = "SEMAPHORE_SILENCES", value_name = "FILE")]
    pub silences: Option<PathBuf>,
    /// After the last event, move the clock to this time (RFC 3339) so that timers due by then fire
    /// (`absent_for` windows, `once_after`/`group_after` throttles, `not_all` timeouts); their firings have
    /// `line: null`. Without it, time stops at the last event's.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Print each event on stderr (`event LINE: JSON`) before it is evaluated (EDA's --print-events).
    #[arg(long)]
    pub print_events: bool,
    #[command(flatten)]
    pub input: super::input::InputArgs,
    /// More log detail (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, help_heading = "Logging")]
    pub verbose: u8,
    /// Settings that shape what actions would send (controller, inventory), as for `rules run`.
    #[command(flatten)]
    pub actions: Box<ActionConfig>,
}

/// Counters for the summary line.
#[derive(Default)]
struct Summary {
    events: usize,
    firings: BTreeMap<String, usize>,
    errors: usize,
    bad_lines: usize,
    /// Actions that could not be rendered or built into what `rules run` would send.
    action_errors: usize,
    throttled: u64,
    /// By reason label (`silenced`, `inhibited`).
    suppressed: BTreeMap<&'static str, usize>,
    /// A timer still pending at the end (see `--until`).
    next_timer_ms: Option<i64>,
}

fn rfc3339_ms(flag: &str, text: &str) -> anyhow::Result<i64> {
    Ok(chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("{flag} {text:?} is not RFC 3339"))?
        .timestamp_millis())
}

#[allow(clippy::print_stderr)] // the command's own diagnostics
pub fn run(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let Some(book) = super::load_or_report(&args.rulebook, &args.input)? else {
        return Ok(ExitCode::FAILURE);
    };
    let env: BTreeMap<String, String> = std::env::vars().collect();
    for line in super::run::unset_env(&book, &args.rulebook) {
        eprintln!("{line} (the actions that use it cannot be rendered here either)");
    }
    let secrets = secret_values(book.templates.env_reads().keys(), &env);
    let dispatch = DispatchSettings::from_config(&args.actions, &book)?;
    let mut engine = Engine::new(Arc::clone(&book), env);
    if let Some(path) = &args.silences {
        let Some(silences) = crate::cli::silence::load_or_report(path)? else {
            return Ok(ExitCode::FAILURE);
        };
        engine.suppressor_mut().set_silences(silences);
    }
    engine.set_tracing(args.explain);
    let mut clock = rfc3339_ms("--start-time", &args.start_time)?;
    let until = args
        .until
        .as_deref()
        .map(|text| rfc3339_ms("--until", text))
        .transpose()?;

    let reader = open(&args.events)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut summary = Summary::default();
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("reading {}", args.events.display()))?;
        let parsed = std::str::from_utf8(&line)
            .map_err(|err| format!("not valid UTF-8 (byte {})", err.valid_up_to() + 1))
            .map(|text| text.trim_end_matches('\r'));
        if parsed.as_ref().is_ok_and(|text| text.trim().is_empty()) {
            continue;
        }
        let event = match parsed.and_then(|text| parse_line(text, &book.reads.payload)) {
            Ok(event) => event,
            Err(message) => {
                summary.bad_lines += 1;
                eprintln!("{}:{}: {message}", args.events.display(), index + 1);
                continue;
            }
        };
        clock = event.time_ms.unwrap_or(clock);
        summary.events += 1;
        if args.print_events {
            super::input::print_event(&(index + 1).to_string(), &event);
        }
        let outcome = engine.process(event, clock);
        let context = ReportContext {
            line: Some(index + 1),
            secrets: &secrets,
            dispatch: &dispatch,
            args,
        };
        report(&mut out, &context, &outcome, &mut summary)?;
    }
    if let Some(until) = until {
        let outcome = engine.advance(until);
        let context = ReportContext {
            line: None,
            secrets: &secrets,
            dispatch: &dispatch,
            args,
        };
        report(&mut out, &context, &outcome, &mut summary)?;
    }
    summary.next_timer_ms = engine.next_deadline_ms();
    out.flush()?;
    eprintln!("{}", summary_line(&summary));
    let clean = summary.bad_lines == 0 && summary.errors == 0 && summary.action_errors == 0;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(RAN_WITH_ERRORS)
    })
}

/// The exit code when every event was read but something went wrong on the way: an unreadable line,
/// an evaluation error or an action that could not be rendered. 1 is for a rulebook or silences file
/// that does not load, 2 for wrong arguments (clap's).
const RAN_WITH_ERRORS: u8 = 3;

fn open(path: &PathBuf) -> anyhow::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(BufReader::new(file)))
}

/// An event line: an object, or the `{"event": ..., "meta": ...}` wrapper (only those two keys). The
/// event itself goes through `rules run`'s decoder.
fn parse_line(line: &str, reads: &Needed) -> Result<Event, String> {
    let fields: serde_json::Map<String, Value> = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err("an event must be a JSON object".into()),
        Err(err) => return Err(format!("not valid JSON: {err}")),
    };
    let wrapped =
        fields.contains_key("event") && fields.keys().all(|k| k == "event" || k == "meta");
    if !wrapped {
        return decode(line.as_bytes(), json!({}), reads);
    }
    let parts: WrappedLine<'_> =
        serde_json::from_str(line).map_err(|err| format!("not valid JSON: {err}"))?;
    let meta = fields.get("meta").cloned().unwrap_or_else(|| json!({}));
    if !meta.is_object() {
        return Err("`meta` must be a JSON object".into());
    }
    // A time that does not parse would silently become the default clock: say so instead.
    if let Some(given) = meta.get("timestamp").filter(|t| !t.is_null())
        && event::timestamp_ms(given).is_none()
    {
        return Err(format!(
            "`meta.timestamp` {given} is neither epoch milliseconds nor an RFC 3339 time"
        ));
    }
    decode(parts.event.get().as_bytes(), meta, reads)
}

/// The wrapper's event, as the bytes it was written with.
#[derive(serde::Deserialize)]
struct WrappedLine<'a> {
    #[serde(borrow)]
    event: &'a serde_json::value::RawValue,
}

fn decode(payload: &[u8], meta: Value, reads: &Needed) -> Result<Event, String> {
    Event::decode_offline_reading(payload, meta, reads).map_err(|err| match err {
        event::DecodeError::NotAnObject { .. } => format!("the event {err}"),
        other => other.to_string(),
    })
}

/// What every report line of one event needs besides the outcome.
struct ReportContext<'a> {
    /// The input line's number (1-based, as in error messages); `None` for firings of `--until`.
    line: Option<usize>,
    secrets: &'a BTreeSet<String>,
    dispatch: &'a DispatchSettings,
    args: &'a TestArgs,
}

#[allow(clippy::print_stderr)]
fn report(
    out: &mut impl Write,
    context: &ReportContext<'_>,
    outcome: &Outcome,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let line_number = context.line;
    let place = line_number.map_or_else(|| "end".to_owned(), |line| line.to_string());
    for trace in &outcome.trace {
        let line = json!({
            "line": line_number,
            "ruleset": trace.ruleset,
            "rule": trace.rule,
            "matched": trace.matched,
            "reason": trace.reason,
        });
        writeln!(out, "{line}")?;
    }
    for firing in &outcome.firings {
        *summary
            .firings
            .entry(format!("{}/{}", firing.ruleset, firing.rule))
            .or_default() += 1;
        let (mut line, action_errors) = firing_json(line_number, firing, context.dispatch);
        summary.action_errors += action_errors;
        mask(&mut line, context.secrets);
        writeln!(out, "{line}")?;
    }
    for suppressed in &outcome.suppressed {
        *summary
            .suppressed
            .entry(suppressed.reason.label())
            .or_default() += 1;
        let line = json!({
            "ruleset": suppressed.ruleset,
            "rule": suppressed.rule,
            "line": line_number,
            "time": chrono::DateTime::from_timestamp_millis(suppressed.time_ms).map(|t| t.to_rfc3339()),
            "idempotency_key": suppressed.idempotency_key,
            "suppressed": suppressed.reason.to_json(),
        });
        writeln!(out, "{line}")?;
    }
    for error in &outcome.errors {
        summary.errors += 1;
        eprintln!(
            "{}:{}: rule {}/{}: {}",
            context.args.events.display(),
            place,
            error.ruleset,
            error.rule,
            error.message
        );
    }
    summary.throttled += outcome.throttled;
    Ok(())
}

/// A firing with each action's rendered arguments and, under `send`, exactly what `rules run` would
/// send (request, argv, record), with credentials masked; and how many actions could not be built.
fn firing_json(
    line_number: Option<usize>,
    firing: &Firing,
    dispatch: &DispatchSettings,
) -> (Value, usize) {
    let events: Vec<Value> = firing
        .events
        .iter()
        .map(|e| serde_json::to_value(&**e).unwrap_or_default())
        .collect();
    let info = FiringInfo {
        ruleset: &firing.ruleset,
        rule: &firing.rule,
        idempotency_key: &firing.idempotency_key,
        events: &events,
    };
    let mut errors = 0;
    let actions: Vec<Value> = firing
        .actions
        .iter()
        .map(|action| match action {
            Ok(rendered) => {
                let send = preview(rendered, &info, dispatch).unwrap_or_else(|err| {
                    errors += 1;
                    json!({"error": err.to_string()})
                });
                json!({"type": rendered.kind.name(), "args": rendered.args, "send": send})
            }
            Err(err) => {
                errors += 1;
                json!({"error": err.to_string()})
            }
        })
        .collect();
    let shown = json!({
        "ruleset": firing.ruleset,
        "rule": firing.rule,
        "line": line_number,
        "status": firing.status.name(),
        "time": chrono::DateTime::from_timestamp_millis(firing.time_ms).map(|t| t.to_rfc3339()),
        "idempotency_key": firing.idempotency_key,
        "events": firing.events.len(),
        "actions": actions,
    });
    (shown, errors)
}

/// Values of the environment variables the templates read, long enough to be worth hiding.
fn secret_values<'a>(
    names: impl Iterator<Item = &'a String>,
    env: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    names
        .filter_map(|name| env.get(name))
        .filter(|value| value.chars().count() >= 4)
        .cloned()
        .collect()
}

/// Replaces secret values inside every string of `value`.
fn mask(value: &mut Value, secrets: &BTreeSet<String>) {
    match value {
        Value::String(text) => {
            for secret in secrets {
                if text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), "********");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| mask(item, secrets)),
        Value::Object(map) => map.values_mut().for_each(|item| mask(item, secrets)),
        _ => {}
    }
}

fn summary_line(summary: &Summary) -> String {
    let total: usize = summary.firings.values().sum();
    let per_rule: Vec<String> = summary
        .firings
        .iter()
        .map(|(rule, n)| format!("{rule}: {n}"))
        .collect();
    let mut line = format!("events: {}, firings: {total}", summary.events);
    if !per_rule.is_empty() {
        line.push_str(&format!(" ({})", per_rule.join(", ")));
    }
    let suppressed: usize = summary.suppressed.values().sum();
    line.push_str(&format!(", suppressed: {suppressed}"));
    if suppressed > 0 {
        let by_reason: Vec<String> = summary
            .suppressed
            .iter()
            .map(|(reason, n)| format!("{reason}: {n}"))
            .collect();
        line.push_str(&format!(" ({})", by_reason.join(", ")));
    }
    line.push_str(&format!(
        ", throttled: {}, evaluation errors: {}, actions not rendered: {}, unreadable lines: {}",
        summary.throttled, summary.errors, summary.action_errors, summary.bad_lines
    ));
    if let Some(next) = summary
        .next_timer_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        line.push_str(&format!(
            ", next timer: {} (see --until)",
            next.to_rfc3339()
        ));
    }
    line
}
