//! The actions that stay inside the process, as ansible-rulebook defines them: `print_event`
//! (the matching event(s), optionally re-rooted with `var_root`, compact or `pretty`), `debug`
//! (`msg` lines, one `var`, or the whole firing) written to the output sink, and `shutdown`
//! (after its `delay`, default 60 s, unless `kind: now`, the shutdown hook is called with the
//! `message`). The text is built by pure functions, so `rules test` shows exactly what would be
//! written.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::args::{Args, ArgsError, arg, text_or_json};
use super::context::{FiringInfo, Output, ShutdownHook, ShutdownKind, ShutdownRequest};
use crate::rulebook::action::spec::{DebugSpec, PrintEventSpec, ShutdownSpec};

/// ansible-rulebook's default pause before a graceful `shutdown`.
const DEFAULT_SHUTDOWN_DELAY: Duration = Duration::from_secs(60);

/// Why a local action failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot write the {action} output: {source}")]
    Write {
        action: &'static str,
        source: std::io::Error,
    },
    #[error("`shutdown` has no shutdown hook to call in this command")]
    NoShutdownHook,
}

/// A decided `shutdown`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShutdownPlan {
    pub delay: Duration,
    pub message: Option<String>,
    pub kind: ShutdownKind,
}

/// The text `print_event` writes: one JSON document per matching event.
pub fn print_event_text(args: &Value, firing: &FiringInfo<'_>) -> Result<String, ArgsError> {
    let (args, spec): (Args, PrintEventSpec<Value>) = Args::parse("print_event", args)?;
    let pretty = args.flag(arg!(spec.pretty))?.unwrap_or(false);
    let root = arg!(spec.var_root).value();
    let mut text = String::new();
    for event in firing.events {
        let shown = match root {
            Some(root) => reroot(&args, event, root)?,
            None => event.clone(),
        };
        text.push_str(&render(&shown, pretty));
        text.push('\n');
    }
    Ok(text)
}

/// The text `debug` writes: the `msg` lines, `var` and its value, or the whole firing.
pub fn debug_text(args: &Value, firing: &FiringInfo<'_>) -> Result<String, ArgsError> {
    let (args, spec): (Args, DebugSpec<Value>) = Args::parse("debug", args)?;
    match (arg!(spec.msg).value(), args.text(arg!(spec.var))?) {
        (Some(_), Some(_)) => Err(args.invalid("msg", "`msg` and `var` are mutually exclusive")),
        (Some(Value::Array(lines)), None) => {
            Ok(lines.iter().map(|line| text_or_json(line) + "\n").collect())
        }
        (Some(msg), None) => Ok(text_or_json(msg) + "\n"),
        (None, Some(var)) => {
            let value = lookup(&debug_scope(firing), &var)
                .cloned()
                .unwrap_or(Value::Null);
            Ok(format!("{var}: {}\n", render(&value, true)))
        }
        (None, None) => Ok(render(&debug_scope(firing), true) + "\n"),
    }
}

pub fn shutdown_plan(args: &Value) -> Result<ShutdownPlan, ArgsError> {
    let (args, spec): (Args, ShutdownSpec<Value>) = Args::parse("shutdown", args)?;
    let kind = match args.text(arg!(spec.kind))?.as_deref() {
        None | Some("graceful") => ShutdownKind::Graceful,
        Some("now") => ShutdownKind::Now,
        Some(other) => {
            return Err(args.invalid("kind", format!("`{other}` is not graceful or now")));
        }
    };
    let delay = match kind {
        ShutdownKind::Now => Duration::ZERO,
        ShutdownKind::Graceful => args
            .duration(arg!(spec.delay))?
            .unwrap_or(DEFAULT_SHUTDOWN_DELAY),
    };
    Ok(ShutdownPlan {
        delay,
        message: args.text(arg!(spec.message))?,
        kind,
    })
}

/// Writes `text` to the output sink in one piece, so concurrent firings do not interleave.
pub fn write(output: &Output, action: &'static str, text: &str) -> Result<(), LocalError> {
    let mut out = output
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| LocalError::Write { action, source })
}

/// Waits for the delay, then asks the process to stop.
pub async fn shutdown(
    plan: &ShutdownPlan,
    hook: Option<&ShutdownHook>,
    firing: &FiringInfo<'_>,
) -> Result<(), LocalError> {
    let hook = hook.ok_or(LocalError::NoShutdownHook)?;
    tracing::warn!(
        ruleset = firing.ruleset,
        rule = firing.rule,
        message = plan.message,
        delay_ms = plan.delay.as_millis(),
        "shutdown action fired"
    );
    tokio::time::sleep(plan.delay).await;
    hook(ShutdownRequest {
        ruleset: firing.ruleset.to_owned(),
        rule: firing.rule.to_owned(),
        message: plan.message.clone(),
        kind: plan.kind,
    });
    Ok(())
}

/// What `debug` can show: the rule, the ruleset, `event` and `events`.
fn debug_scope(firing: &FiringInfo<'_>) -> Value {
    let events: Map<String, Value> = firing
        .events
        .iter()
        .enumerate()
        .map(|(i, event)| (format!("m_{i}"), event.clone()))
        .collect();
    json!({"ruleset": firing.ruleset, "rule": firing.rule, "event": firing.event(), "events": events})
}

/// `var_root: a.b` shows the value at that path; `var_root: {a.b: name}` shows it as `{name: value}`.
fn reroot(args: &Args, event: &Value, root: &Value) -> Result<Value, ArgsError> {
    match root {
        Value::String(path) => Ok(lookup(event, path).cloned().unwrap_or(Value::Null)),
        Value::Object(map) if map.len() == 1 => {
            let (path, name) = map
                .iter()
                .next()
                .ok_or_else(|| args.invalid("var_root", "is empty"))?;
            let value = lookup(event, path).cloned().unwrap_or(Value::Null);
            Ok(json!({ text_or_json(name): value }))
        }
        _ => Err(args.invalid("var_root", "expected a dotted path or {path: name}")),
    }
}

/// A dotted path (`a.b.0.c`) inside a JSON value; list items by index.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|part| !part.is_empty())
        .try_fold(value, |current, part| match current {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

fn render(value: &Value, pretty: bool) -> String {
    let rendered = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    // Serialising a `Value` cannot fail; fall back to the compact form regardless.
    rendered.unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firing(events: &[Value]) -> FiringInfo<'_> {
        FiringInfo {
            ruleset: "rs",
            rule: "r",
            idempotency_key: "k",
            events,
        }
    }

    #[test]
    fn print_event_prints_each_event_rerooted() {
        let events = [json!({"a": {"b": 1}}), json!({"a": {"b": 2}})];
        let text = print_event_text(&json!({"var_root": "a"}), &firing(&events)).unwrap();
        assert_eq!(text, "{\"b\":1}\n{\"b\":2}\n");
        let named =
            print_event_text(&json!({"var_root": {"a.b": "n"}}), &firing(&events[..1])).unwrap();
        assert_eq!(named, "{\"n\":1}\n");
    }

    #[test]
    fn debug_shows_msg_lines_or_a_var() {
        let events = [json!({"serial": "Q2"})];
        let f = firing(&events);
        assert_eq!(debug_text(&json!({"msg": ["a", 1]}), &f).unwrap(), "a\n1\n");
        assert_eq!(
            debug_text(&json!({"var": "event.serial"}), &f).unwrap(),
            "event.serial: \"Q2\"\n"
        );
        assert!(debug_text(&json!({"msg": "x", "var": "event"}), &f).is_err());
        assert!(debug_text(&Value::Null, &f).unwrap().contains("\"m_0\""));
    }

    #[test]
    fn shutdown_now_has_no_delay() {
        let plan = shutdown_plan(&json!({"kind": "now", "delay": 30})).unwrap();
        assert_eq!(plan.delay, Duration::ZERO);
        assert_eq!(
            shutdown_plan(&Value::Null).unwrap().delay,
            DEFAULT_SHUTDOWN_DELAY
        );
    }
}
