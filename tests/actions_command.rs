//! The `command` action with real processes: template-rendered arguments reach the program
//! literally (no shell), `cwd` and `env` apply, a timeout kills the program and what it started,
//! and a non-zero exit fails the firing with stderr in the reason.

#[path = "fixtures/actions/jobs.rs"]
mod jobs;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use semaphore::actions::context::Sinks;
use semaphore::actions::dispatch::{Dispatcher, FiringJob, FiringOutcome};
use semaphore::engine::Engine;
use semaphore::event::Event;
use semaphore::rulebook::action::ActionKind;
use semaphore::rulebook::model::ExecutionStrategy;
use serde_json::{Value, json};

/// A program that writes each of its arguments after the first, NUL-terminated, to the file named
/// by the first, so that the test sees exactly the argv it got.
fn argv_recorder(dir: &Path) -> String {
    let path = dir.join("record-argv");
    std::fs::write(
        &path,
        "#!/bin/sh\nout=\"$1\"\nshift\nprintf '%s\\0' \"$@\" > \"$out\"\n",
    )
    .expect("write the script");
    let mut permissions = std::fs::metadata(&path).expect("metadata").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&path, permissions).expect("chmod");
    path.display().to_string()
}

/// Compiles `yaml`, feeds it `event`, and turns the single firing into a dispatcher job.
fn fire(yaml: &str, event: Value) -> FiringJob {
    let book = semaphore::rulebook::compile("t.yml", yaml).unwrap_or_else(|d| panic!("{d}"));
    let mut engine = Engine::new(Arc::new(book), BTreeMap::new());
    let mut outcome = engine.process(Event::from_json(event, json!({})), 0);
    assert_eq!(outcome.firings.len(), 1, "one firing");
    let firing = outcome.firings.remove(0);
    FiringJob {
        ruleset: firing.ruleset,
        rule: firing.rule,
        idempotency_key: firing.idempotency_key,
        strategy: ExecutionStrategy::Sequential,
        events: firing
            .events
            .iter()
            .map(|e| serde_json::to_value(&**e).expect("JSON"))
            .collect(),
        actions: firing.actions,
    }
}

async fn run(job: FiringJob) -> FiringOutcome {
    let dispatcher = Dispatcher::new(jobs::settings(&[]), Sinks::default());
    tokio::time::timeout(Duration::from_secs(60), dispatcher.run(job))
        .await
        .expect("the firing ends")
}

fn reason(outcome: FiringOutcome) -> String {
    match outcome {
        FiringOutcome::Failed {
            action: "command",
            reason,
            ..
        } => reason,
        other => panic!("expected the command to fail, got {other:?}"),
    }
}

#[tokio::test]
async fn rendered_event_values_arrive_as_single_literal_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = argv_recorder(dir.path());
    let out = dir.path().join("argv");
    let yaml = format!(
        r#"
- name: rs
  rules:
    - name: r
      condition: event.serial == 'Q2XX-1'
      action:
        command:
          argv: ["{script}", "{out}", "{{{{ event.note }}}}", "serial={{{{ event.serial }}}}", "{{{{ event.lossPercent }}}}", "$HOME", "*"]
"#,
        out = out.display()
    );
    assert_eq!(run(fire(&yaml, jobs::event())).await, FiringOutcome::Done);
    let written = std::fs::read(&out).expect("the script wrote its argv");
    let args: Vec<&[u8]> = written
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    let expected: [&[u8]; 5] = [
        b"; rm -rf / && echo $HOME",
        b"serial=Q2XX-1",
        b"7.5",
        b"$HOME",
        b"*",
    ];
    assert_eq!(args, expected);
}

#[tokio::test]
async fn cwd_env_and_the_firing_variables_reach_the_program() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = json!({
        "argv": ["sh", "-c", "printf '%s|%s|%s' \"$PWD\" \"$SITE\" \"$SEMAPHORE_IDEMPOTENCY_KEY\" > out"],
        "cwd": dir.path(),
        "env": {"SITE": "branch-12"},
    });
    let outcome = run(jobs::job(vec![(ActionKind::Command, args)])).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let written = std::fs::read_to_string(dir.path().join("out")).expect("output file");
    let cwd = dir.path().canonicalize().expect("canonical");
    assert_eq!(
        written,
        format!("{}|branch-12|alerts/0/42/r", cwd.display())
    );
}

#[tokio::test]
async fn a_timeout_kills_the_program_and_what_it_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("child.pid");
    let args = json!({
        "argv": ["sh", "-c", "sleep 30 & echo $! > child.pid; wait"],
        "cwd": dir.path(),
        "timeout": "500 ms",
        "retry": {"attempts": 1},
    });
    let started = Instant::now();
    let reason = reason(run(jobs::job(vec![(ActionKind::Command, args)])).await);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reason, "`sh` did not finish within 500ms and was killed");
    let pid = std::fs::read_to_string(&pid_file).expect("pid written");
    let proc_dir = Path::new("/proc").join(pid.trim());
    // The grandchild is gone once reaped by init; allow it a moment.
    for _ in 0..50 {
        let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        if state.is_empty() || state.contains(") Z ") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the background `sleep` (pid {}) survived the timeout",
        pid.trim()
    );
}

#[tokio::test]
async fn a_non_zero_exit_fails_with_stderr_in_the_reason() {
    let args = json!({
        "argv": ["sh", "-c", "echo 'some output'; echo 'device unreachable' >&2; exit 3"],
        "retry": {"attempts": 1},
    });
    let reason = reason(run(jobs::job(vec![(ActionKind::Command, args)])).await);
    assert_eq!(
        reason,
        "`sh` exited with exit status: 3: device unreachable"
    );
}

#[tokio::test]
async fn failures_are_retried_under_the_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Fails until it has run twice: the third attempt succeeds.
    let args = json!({
        "argv": ["sh", "-c", "echo x >> runs; [ $(wc -l < runs) -ge 3 ]"],
        "cwd": dir.path(),
    });
    let outcome = run(jobs::job(vec![(ActionKind::Command, args)])).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let runs = std::fs::read_to_string(dir.path().join("runs")).expect("runs");
    assert_eq!(runs.lines().count(), 3);
}

#[tokio::test]
async fn a_program_that_cannot_start_fails_at_once() {
    let args = json!({"argv": ["/nonexistent/program", "x"]});
    let started = Instant::now();
    let reason = reason(run(jobs::job(vec![(ActionKind::Command, args)])).await);
    assert!(
        reason.starts_with("cannot start `/nonexistent/program`: No such file or directory"),
        "{reason}"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "not retried");
}
