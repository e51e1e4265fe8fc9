//! `run_playbook` with the real `ansible-playbook` (PyPI ansible-core, installed by
//! `scripts/install-deps`; `scripts/test` tells these tests where it is): the playbook receives
//! `ansible_eda` with the event, runs on localhost without an inventory, honours the ruleset's
//! hosts as a limit, and a failing or hanging playbook fails the firing.

#[path = "fixtures/actions/jobs.rs"]
mod jobs;

use std::path::{Path, PathBuf};
use std::time::Duration;

use semaphore::actions::context::{DispatchSettings, Sinks};
use semaphore::actions::dispatch::{Dispatcher, FiringOutcome};
use semaphore::rulebook::action::ActionKind;
use serde_json::{Value, json};

const PLAYBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/actions/write-event.yml"
);
const INVENTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/actions/inventory.yml"
);

/// `SEMAPHORE_TEST_ANSIBLE_PLAYBOOK`, else `ansible-playbook` on `PATH`, else the venv
/// `scripts/install-deps` creates. Missing everywhere is a failure with instructions.
fn ansible_playbook() -> PathBuf {
    if let Some(path) = std::env::var_os("SEMAPHORE_TEST_ANSIBLE_PLAYBOOK") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("ansible-playbook"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let venv = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".cache/semaphore/ansible/bin/ansible-playbook"));
    on_path
        .into_iter()
        .chain(venv)
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("ansible-playbook not found: run scripts/install-deps (or scripts/test), or set SEMAPHORE_TEST_ANSIBLE_PLAYBOOK")
        })
}

fn settings() -> DispatchSettings {
    let mut settings = jobs::settings(&[]);
    settings.playbook.program = ansible_playbook();
    settings
}

async fn run(settings: DispatchSettings, args: Value) -> FiringOutcome {
    let dispatcher = Dispatcher::new(settings, Sinks::default());
    let job = jobs::job(vec![(ActionKind::RunPlaybook, args)]);
    tokio::time::timeout(Duration::from_secs(300), dispatcher.run(job))
        .await
        .expect("the firing ends")
}

fn written(dir: &Path, host: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{host}.json")))
        .unwrap_or_else(|err| panic!("the playbook wrote nothing for {host}: {err}"));
    serde_json::from_str(&text).expect("JSON")
}

#[tokio::test]
async fn the_playbook_receives_the_event_as_ansible_eda_on_localhost() {
    let out = tempfile::tempdir().expect("tempdir");
    let args = json!({"name": PLAYBOOK, "extra_vars": {"out_dir": out.path()}, "verbosity": 1});
    assert_eq!(run(settings(), args).await, FiringOutcome::Done);
    assert_eq!(
        written(out.path(), "localhost"),
        json!({"ruleset": "rs", "rule": "r", "event": jobs::event()})
    );
}

#[tokio::test]
async fn the_ruleset_hosts_limit_a_run_on_the_configured_inventory() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut settings = settings();
    settings.playbook.inventory = Some(INVENTORY.into());
    settings
        .playbook
        .ruleset_hosts
        .insert("rs".into(), vec!["core-1".into()]);
    let args = json!({"name": PLAYBOOK, "extra_vars": {"out_dir": out.path()}});
    assert_eq!(run(settings, args).await, FiringOutcome::Done);
    assert_eq!(written(out.path(), "core-1")["event"], jobs::event());
    assert!(
        !out.path().join("edge-1.json").exists(),
        "edge-1 is outside the limit"
    );
}

#[tokio::test]
async fn a_failing_playbook_fails_the_firing_with_its_output() {
    let out = tempfile::tempdir().expect("tempdir");
    let args = json!({
        "name": PLAYBOOK,
        "extra_vars": {"out_dir": out.path(), "fail_with": "router unreachable"},
    });
    let outcome = run(settings(), args).await;
    let FiringOutcome::Failed {
        action: "run_playbook",
        reason,
        ..
    } = outcome
    else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert!(reason.contains("exited with exit status: 2"), "{reason}");
    assert!(reason.contains("router unreachable"), "{reason}");
    assert!(!out.path().join("localhost.json").exists());
}

#[tokio::test]
async fn a_playbook_past_its_timeout_is_killed() {
    let out = tempfile::tempdir().expect("tempdir");
    let args = json!({
        "name": PLAYBOOK,
        "extra_vars": {"out_dir": out.path(), "pause_seconds": 120},
        "timeout": "8 s",
    });
    let outcome = run(settings(), args).await;
    let FiringOutcome::Failed { reason, .. } = outcome else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert!(
        reason.ends_with("did not finish within 8s and was killed"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_missing_playbook_is_a_failure() {
    let args = json!({"name": "/nonexistent/site.yml"});
    let outcome = run(settings(), args).await;
    assert!(
        matches!(&outcome, FiringOutcome::Failed { action: "run_playbook", reason, .. } if reason.contains("/nonexistent/site.yml")),
        "{outcome:?}"
    );
}
