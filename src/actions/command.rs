//! The `command` action: an argv list, each element already rendered, run directly (no shell, so
//! a value such as `; rm -rf /` from an event stays one literal argument), with `cwd`, extra `env`,
//! a timeout and the retry policy. The firing is described to the program through
//! `SEMAPHORE_RULESET`, `SEMAPHORE_RULE` and `SEMAPHORE_IDEMPOTENCY_KEY`. Running and killing the
//! process is [`process`]'s job.
//!
//! [`process`]: super::process

use std::path::PathBuf;

use serde_json::{Value, json};

use super::args::{Args, ArgsError, arg};
use super::context::{DispatchSettings, FiringInfo};
use super::process::{self, ProcessError, Program};
use super::retry::{Exhausted, RetryPolicy, with_retry};
use crate::rulebook::action::spec::CommandSpec;

/// The program run by one command action, fully decided.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandPlan {
    pub program: Program,
    pub retry: RetryPolicy,
}

/// Decides the program from the rendered arguments.
pub fn plan(
    args: &Value,
    firing: &FiringInfo<'_>,
    settings: &DispatchSettings,
) -> Result<CommandPlan, ArgsError> {
    let (args, spec): (Args, CommandSpec<Value>) = Args::parse("command", args)?;
    let argv = args
        .text_list(arg!(spec.argv))?
        .ok_or_else(|| args.missing("argv"))?;
    if argv.first().is_none_or(|program| program.trim().is_empty()) {
        return Err(args.invalid("argv", "must start with the program to run"));
    }
    let mut env = args.text_map(arg!(spec.env))?;
    env.extend([
        ("SEMAPHORE_RULESET".to_owned(), firing.ruleset.to_owned()),
        ("SEMAPHORE_RULE".to_owned(), firing.rule.to_owned()),
        (
            "SEMAPHORE_IDEMPOTENCY_KEY".to_owned(),
            firing.idempotency_key.to_owned(),
        ),
    ]);
    Ok(CommandPlan {
        program: Program {
            argv,
            cwd: args.text(arg!(spec.cwd))?.map(PathBuf::from),
            env,
            timeout: args
                .duration(arg!(spec.timeout))?
                .unwrap_or(settings.timeout),
        },
        retry: settings.retry.with_spec(&args, spec.retry.as_ref())?,
    })
}

/// Runs the program until it exits 0, retrying failures under the plan's policy.
pub async fn run(plan: &CommandPlan, output_limit: usize) -> Result<(), Exhausted<ProcessError>> {
    with_retry(&plan.retry, "command", || {
        process::run(&plan.program, output_limit)
    })
    .await
}

/// The program as `rules test` shows it.
pub fn preview(plan: &CommandPlan) -> Value {
    let env: serde_json::Map<String, Value> = plan
        .program
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "argv": plan.program.argv,
        "cwd": plan.program.cwd,
        "env": env,
        "timeout_ms": plan.program.timeout.as_millis(),
        "attempts": plan.retry.attempts,
    })
}
