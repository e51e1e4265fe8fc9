//! The `run_playbook` action: runs the real `ansible-playbook` (argv, no shell) on a playbook
//! path or collection name, with `-i` the configured inventory (or a generated one holding only
//! `localhost` with `ansible_connection=local`), `--extra-vars @file` holding the action's
//! `extra_vars` plus ansible-rulebook's `ansible_eda: {ruleset, rule, event | events}`, `-v`
//! verbosity and `--limit` (the action's, else the ruleset's `hosts`). The exit status decides.
//! Each attempt gets a private temporary directory for these files, removed afterwards. Retries
//! follow ansible-rulebook (`retry`, `retries`, `delay`; none by default).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::args::{Args, ArgsError, arg};
use super::context::{DispatchSettings, FiringInfo};
use super::process::{self, ProcessError, Program};
use super::retry::{Exhausted, RetryPolicy, Retryable, with_retry};
use crate::rulebook::action::spec::RunPlaybookSpec;

/// ansible-playbook takes `-v` up to `-vvvvv`; ansible-rulebook documents 1 to 4.
const MAX_VERBOSITY: u64 = 4;

/// Why a playbook run failed.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("cannot prepare the run directory {}: {source}", path.display())]
    RunDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// One playbook run, fully decided; the run directory is filled in per attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookPlan {
    pub program: PathBuf,
    pub playbook: String,
    /// `None`: the generated localhost inventory.
    pub inventory: Option<PathBuf>,
    pub limit: Option<String>,
    pub verbosity: u8,
    /// Everything `--extra-vars` passes, `ansible_eda` included.
    pub extra_vars: Value,
    pub timeout: std::time::Duration,
    pub retry: RetryPolicy,
}

/// Decides the run from the rendered arguments.
pub fn plan(
    args: &Value,
    firing: &FiringInfo<'_>,
    settings: &DispatchSettings,
) -> Result<PlaybookPlan, ArgsError> {
    let (args, spec): (Args, RunPlaybookSpec<Value>) = Args::parse("run_playbook", args)?;
    let verbosity = args.count(arg!(spec.verbosity))?.unwrap_or(0);
    if verbosity > MAX_VERBOSITY {
        return Err(args.invalid("verbosity", format!("must be 0 to {MAX_VERBOSITY}")));
    }
    let mut extra_vars = args
        .object(arg!(spec.extra_vars))?
        .cloned()
        .unwrap_or_default();
    extra_vars.insert("ansible_eda".into(), firing.ansible_eda());
    let limit = match args.text(arg!(spec.limit))? {
        Some(limit) => Some(limit),
        None => ruleset_limit(settings, firing.ruleset),
    };
    let playbook = settings.playbook.clone();
    Ok(PlaybookPlan {
        program: playbook.program,
        playbook: args.required_text(arg!(spec.name))?,
        inventory: playbook.inventory,
        limit,
        verbosity: u8::try_from(verbosity).unwrap_or(u8::MAX),
        extra_vars: Value::Object(extra_vars),
        timeout: args
            .duration(arg!(spec.timeout))?
            .unwrap_or(playbook.timeout),
        retry: settings.retry.with_ansible(
            &args,
            arg!(spec.retry),
            arg!(spec.retries),
            arg!(spec.delay),
        )?,
    })
}

/// Runs the playbook until it exits 0, retrying under the plan's policy.
pub async fn run(plan: &PlaybookPlan, output_limit: usize) -> Result<(), Exhausted<PlaybookError>> {
    with_retry(&plan.retry, "run_playbook", || attempt(plan, output_limit)).await
}

/// The run as `rules test` shows it (`RUN_DIR` stands for the per-attempt directory).
pub fn preview(plan: &PlaybookPlan) -> Value {
    json!({
        "argv": plan.argv(Path::new("RUN_DIR")),
        "extra_vars": plan.extra_vars,
        "timeout_ms": plan.timeout.as_millis(),
        "attempts": plan.retry.attempts,
    })
}

impl PlaybookPlan {
    fn argv(&self, run_dir: &Path) -> Vec<String> {
        let inventory = match &self.inventory {
            Some(path) => path.clone(),
            None => run_dir.join("inventory.yml"),
        };
        let mut argv = vec![
            self.program.display().to_string(),
            "-i".to_owned(),
            inventory.display().to_string(),
            "--extra-vars".to_owned(),
            format!("@{}", run_dir.join("extra_vars.json").display()),
        ];
        if self.verbosity > 0 {
            argv.push(format!("-{}", "v".repeat(usize::from(self.verbosity))));
        }
        if let Some(limit) = &self.limit {
            argv.extend(["--limit".to_owned(), limit.clone()]);
        }
        argv.push(self.playbook.clone());
        argv
    }
}

async fn attempt(plan: &PlaybookPlan, output_limit: usize) -> Result<(), PlaybookError> {
    let run_dir = create_run_dir().await?;
    let result = run_in(plan, &run_dir, output_limit).await;
    if let Err(err) = tokio::fs::remove_dir_all(&run_dir).await {
        tracing::warn!(dir = %run_dir.display(), error = %err, "cannot remove the playbook run directory");
    }
    result
}

async fn run_in(
    plan: &PlaybookPlan,
    run_dir: &Path,
    output_limit: usize,
) -> Result<(), PlaybookError> {
    write(
        &run_dir.join("extra_vars.json"),
        plan.extra_vars.to_string(),
    )
    .await?;
    if plan.inventory.is_none() {
        write(
            &run_dir.join("inventory.yml"),
            local_inventory().to_string(),
        )
        .await?;
    }
    let program = Program {
        argv: plan.argv(run_dir),
        cwd: None,
        // Colour codes would only clutter the captured output.
        env: vec![("ANSIBLE_NOCOLOR".into(), "1".into())],
        timeout: plan.timeout,
    };
    process::run(&program, output_limit).await?;
    Ok(())
}

/// Only `localhost`, reached without SSH, with the Python that runs ansible-playbook itself (JSON
/// is valid YAML, which the inventory plugin reads).
fn local_inventory() -> Value {
    json!({"all": {"hosts": {"localhost": {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }}}})
}

/// The ruleset's `hosts` as a limit; `all` (or nothing) limits nothing.
fn ruleset_limit(settings: &DispatchSettings, ruleset: &str) -> Option<String> {
    let hosts = settings.playbook.ruleset_hosts.get(ruleset)?;
    let all = hosts.is_empty() || hosts.iter().any(|h| h == "all");
    (!all).then(|| hosts.join(","))
}

/// A fresh directory only this user can read: extra vars may hold rendered secrets.
async fn create_run_dir() -> Result<PathBuf, PlaybookError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = format!(
        "semaphore-playbook-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let path = std::env::temp_dir().join(name);
    let mut builder = tokio::fs::DirBuilder::new();
    builder.mode(0o700);
    builder
        .create(&path)
        .await
        .map_err(|source| PlaybookError::RunDir {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

async fn write(path: &Path, contents: String) -> Result<(), PlaybookError> {
    tokio::fs::write(path, contents)
        .await
        .map_err(|source| PlaybookError::RunDir {
            path: path.to_owned(),
            source,
        })
}

impl Retryable for PlaybookError {
    fn is_transient(&self) -> bool {
        match self {
            PlaybookError::RunDir { .. } => false,
            PlaybookError::Process(err) => err.is_transient(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_has_inventory_vars_verbosity_limit_then_the_playbook() {
        let mut settings = DispatchSettings::default();
        settings
            .playbook
            .ruleset_hosts
            .insert("rs".into(), vec!["edge".into(), "core".into()]);
        let events = [json!({"serial": "Q2"})];
        let firing = FiringInfo {
            ruleset: "rs",
            rule: "r",
            idempotency_key: "t/0/1/r",
            events: &events,
        };
        let args = json!({"name": "site.yml", "verbosity": 2, "extra_vars": {"a": 1}});
        let plan = plan(&args, &firing, &settings).unwrap();
        assert_eq!(
            plan.argv(Path::new("/run")),
            [
                "ansible-playbook",
                "-i",
                "/run/inventory.yml",
                "--extra-vars",
                "@/run/extra_vars.json",
                "-vv",
                "--limit",
                "edge,core",
                "site.yml"
            ]
        );
        assert_eq!(
            plan.extra_vars,
            json!({"a": 1, "ansible_eda": {"ruleset": "rs", "rule": "r", "event": {"serial": "Q2"}}})
        );
        assert_eq!(plan.retry.attempts, 1);
    }
}
