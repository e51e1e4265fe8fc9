//! The dispatcher's scheduling and outcomes, observed through real processes that log when they
//! start and end: `sequential` rulesets run one firing at a time, `parallel` ones overlap up to
//! the bound, a shared `lock` serialises, a failing action stops its firing and is reported, and
//! the local actions (`print_event`, `debug`, `shutdown`, `none`, engine actions) do their part.

#[path = "fixtures/actions/jobs.rs"]
mod jobs;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use semaphore::actions::context::{ShutdownKind, ShutdownRequest, Sinks};
use semaphore::actions::dispatch::{Dispatcher, FiringOutcome};
use semaphore::rulebook::action::{ActionKind, RenderError};
use semaphore::rulebook::model::ExecutionStrategy;
use serde_json::{Value, json};

/// A command that logs `start NAME`, sleeps, then logs `end NAME` to `log`.
fn logged_sleep(log: &Path, name: &str, lock: Option<&str>) -> (ActionKind, Value) {
    let script = "echo \"start $1\" >> \"$2\"; sleep 0.3; echo \"end $1\" >> \"$2\"";
    let mut args = json!({"argv": ["sh", "-c", script, "sh", name, log]});
    if let Some(lock) = lock {
        args["lock"] = json!(lock);
    }
    (ActionKind::Command, args)
}

/// The most firings that were between `start` and `end` at the same time.
fn max_overlap(log: &Path) -> usize {
    let text = std::fs::read_to_string(log).expect("log");
    let (mut running, mut most) = (0_usize, 0_usize);
    for line in text.lines() {
        if line.starts_with("start") {
            running += 1;
            most = most.max(running);
        } else {
            running -= 1;
        }
    }
    most
}

/// Runs `count` firings of one ruleset at once, each a [`logged_sleep`] with lock `lock(i)`.
async fn run_concurrently(
    dispatcher: &Dispatcher,
    log: &Path,
    count: usize,
    strategy: ExecutionStrategy,
    lock: impl Fn(usize) -> Option<String>,
) -> Vec<FiringOutcome> {
    let mut firings = tokio::task::JoinSet::new();
    for i in 0..count {
        let mut job = jobs::job(vec![logged_sleep(
            log,
            &format!("f{i}"),
            lock(i).as_deref(),
        )]);
        job.strategy = strategy;
        let dispatcher = dispatcher.clone();
        firings.spawn(async move { dispatcher.run(job).await });
    }
    tokio::time::timeout(Duration::from_secs(60), firings.join_all())
        .await
        .expect("firings end")
}

#[tokio::test]
async fn a_sequential_ruleset_runs_one_firing_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("log");
    let dispatcher = Dispatcher::new(jobs::settings(&[]), Sinks::default());
    let outcomes = run_concurrently(&dispatcher, &log, 3, ExecutionStrategy::Sequential, |_| {
        None
    })
    .await;
    assert!(
        outcomes.iter().all(|o| *o == FiringOutcome::Done),
        "{outcomes:?}"
    );
    assert_eq!(max_overlap(&log), 1);
}

#[tokio::test]
async fn a_parallel_ruleset_overlaps_firings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("log");
    let dispatcher = Dispatcher::new(jobs::settings(&[]), Sinks::default());
    let outcomes =
        run_concurrently(&dispatcher, &log, 3, ExecutionStrategy::Parallel, |_| None).await;
    assert!(
        outcomes.iter().all(|o| *o == FiringOutcome::Done),
        "{outcomes:?}"
    );
    assert_eq!(max_overlap(&log), 3);
}

#[tokio::test]
async fn concurrency_is_bounded_by_max_concurrent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("log");
    let mut settings = jobs::settings(&[]);
    settings.max_concurrent = 2;
    let dispatcher = Dispatcher::new(settings, Sinks::default());
    let outcomes =
        run_concurrently(&dispatcher, &log, 5, ExecutionStrategy::Parallel, |_| None).await;
    assert_eq!(outcomes.len(), 5);
    assert_eq!(max_overlap(&log), 2);
}

#[tokio::test]
async fn actions_sharing_a_lock_run_one_at_a_time_and_other_locks_do_not_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = dir.path().join("shared");
    let distinct = dir.path().join("distinct");
    let dispatcher = Dispatcher::new(jobs::settings(&[]), Sinks::default());
    let same = |_| Some("Q2XX-1".to_owned());
    run_concurrently(&dispatcher, &shared, 3, ExecutionStrategy::Parallel, same).await;
    assert_eq!(max_overlap(&shared), 1);
    let own = |i: usize| Some(format!("device-{i}"));
    run_concurrently(&dispatcher, &distinct, 3, ExecutionStrategy::Parallel, own).await;
    assert_eq!(max_overlap(&distinct), 3);
}

#[tokio::test]
async fn a_failing_action_stops_the_firing_and_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let after = dir.path().join("after");
    let job = jobs::job(vec![
        (ActionKind::None, Value::Null),
        (
            ActionKind::Command,
            json!({"argv": ["sh", "-c", "echo 'no route' >&2; exit 1"], "retry": {"attempts": 1}}),
        ),
        (ActionKind::Command, json!({"argv": ["touch", after]})),
    ]);
    let outcome = Dispatcher::new(jobs::settings(&[]), Sinks::default())
        .run(job)
        .await;
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 1,
            action: "command",
            reason: "`sh` exited with exit status: 1: no route".into(),
        }
    );
    assert!(!after.exists(), "the action after the failure did not run");
}

#[tokio::test]
async fn an_action_that_could_not_be_rendered_fails_the_firing() {
    let mut job = jobs::job(vec![(ActionKind::None, Value::Null)]);
    job.actions
        .push(Err(RenderError::MissingEnv("CHAT_URL".into())));
    let outcome = Dispatcher::new(jobs::settings(&[]), Sinks::default())
        .run(job)
        .await;
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 1,
            action: "render",
            reason:
                "the arguments could not be rendered: environment variable `CHAT_URL` is not set"
                    .into(),
        }
    );
}

#[tokio::test]
async fn print_event_and_debug_write_to_the_output_and_engine_actions_are_done() {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sinks = Sinks {
        output: buffer.clone(),
        ..Sinks::default()
    };
    let job = jobs::job(vec![
        (ActionKind::SetFact, json!({"fact": {"seen": true}})),
        (ActionKind::PrintEvent, json!({"var_root": "serial"})),
        (
            ActionKind::Debug,
            json!({"msg": ["loss 7.5%", "second line"]}),
        ),
        (ActionKind::PostEvent, json!({"event": {"x": 1}})),
    ]);
    let outcome = Dispatcher::new(jobs::settings(&[]), sinks).run(job).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let written = String::from_utf8(buffer.lock().expect("not poisoned").clone()).expect("UTF-8");
    assert_eq!(written, "\"Q2XX-1\"\nloss 7.5%\nsecond line\n");
}

#[tokio::test]
async fn shutdown_calls_the_hook_after_its_delay() {
    let requests: Arc<Mutex<Vec<(ShutdownRequest, Instant)>>> = Arc::default();
    let seen = Arc::clone(&requests);
    let sinks = Sinks {
        shutdown: Some(Arc::new(move |request| {
            seen.lock()
                .expect("not poisoned")
                .push((request, Instant::now()));
        })),
        ..Sinks::default()
    };
    let job = jobs::job(vec![(
        ActionKind::Shutdown,
        json!({"delay": "300 ms", "message": "maintenance window"}),
    )]);
    let started = Instant::now();
    let outcome = Dispatcher::new(jobs::settings(&[]), sinks).run(job).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let requests = requests.lock().expect("not poisoned");
    assert_eq!(requests.len(), 1);
    let (request, at) = &requests[0];
    assert!(*at - started >= Duration::from_millis(300));
    assert_eq!(
        *request,
        ShutdownRequest {
            ruleset: "rs".into(),
            rule: "r".into(),
            message: Some("maintenance window".into()),
            kind: ShutdownKind::Graceful,
        }
    );
}

#[tokio::test]
async fn shutdown_without_a_hook_fails() {
    let job = jobs::job(vec![(ActionKind::Shutdown, json!({"kind": "now"}))]);
    let outcome = Dispatcher::new(jobs::settings(&[]), Sinks::default())
        .run(job)
        .await;
    assert!(
        matches!(
            outcome,
            FiringOutcome::Failed {
                action: "shutdown",
                ..
            }
        ),
        "{outcome:?}"
    );
}
