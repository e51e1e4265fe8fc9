//! `run_job_template` and `run_workflow_template` against a local HTTP server that implements the
//! AWX / Automation Platform controller endpoints they use (template lookup by name and
//! organization, `launch/`, job status) and records what it was sent.

#[path = "fixtures/actions/jobs.rs"]
mod jobs;
#[path = "fixtures/actions/recorder.rs"]
mod recorder;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use recorder::{Recorder, Reply, Seen, start};
use semaphore::actions::context::{ControllerSettings, Credentials, DispatchSettings, Sinks};
use semaphore::actions::dispatch::{Dispatcher, FiringOutcome};
use semaphore::config::Secret;
use semaphore::rulebook::action::ActionKind;
use serde_json::{Value, json};

/// How the fake controller behaves.
struct Controller {
    /// Statuses a job reports on successive polls; the last one repeats.
    statuses: Vec<&'static str>,
    /// Answer the first launch with this status instead of 201.
    first_launch_status: Option<u16>,
    /// Answer the first status poll only after this long.
    first_poll_delay: Duration,
}

impl Controller {
    fn statuses(statuses: &[&'static str]) -> Controller {
        Controller {
            statuses: statuses.to_vec(),
            first_launch_status: None,
            first_poll_delay: Duration::ZERO,
        }
    }
}

/// Starts the fake controller: template `Restart uplink` (id 7) and workflow `Recover site`
/// (id 9) in organization `NetOps`; launched jobs get ids 100, 101, ... Status polls of all jobs
/// are counted together, so `statuses` can fail a first job and let a relaunch succeed.
async fn controller(behaviour: Controller) -> Recorder {
    let calls: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    start(move |seen: &Seen, _| {
        let count = {
            let mut calls = calls.lock().expect("not poisoned");
            let key = if is_poll(&seen.path) {
                "poll".to_owned()
            } else {
                format!("{} {}", seen.method, seen.path)
            };
            let count = calls.entry(key).or_default();
            *count += 1;
            *count
        };
        respond(&behaviour, seen, count)
    })
    .await
}

fn respond(behaviour: &Controller, seen: &Seen, count: usize) -> Reply {
    let found = |id: u64, name: &str| {
        let wanted = format!("name={}&organization__name=NetOps", name.replace(' ', "+"));
        if seen.query == wanted {
            json!({"count": 1, "results": [{"id": id, "name": name}]})
        } else {
            json!({"count": 0, "results": []})
        }
    };
    let status = |count: usize| behaviour.statuses[(count - 1).min(behaviour.statuses.len() - 1)];
    let job = 99 + count as u64;
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/api/v2/job_templates/") => Reply::json(200, &found(7, "Restart uplink")),
        ("GET", "/api/v2/workflow_job_templates/") => Reply::json(200, &found(9, "Recover site")),
        ("POST", "/api/v2/job_templates/7/launch/") => match behaviour.first_launch_status {
            Some(code) if count == 1 => Reply::status(code),
            _ => Reply::json(201, &json!({"job": job, "id": job, "type": "job"})),
        },
        ("POST", "/api/v2/workflow_job_templates/9/launch/") => {
            Reply::json(201, &json!({"workflow_job": 55, "id": 55}))
        }
        ("GET", path) if is_poll(path) => {
            let reply = Reply::json(200, &json!({"status": status(count)}));
            if count == 1 {
                reply.after(behaviour.first_poll_delay)
            } else {
                reply
            }
        }
        _ => Reply::json(404, &json!({"detail": "Not found."})),
    }
}

fn is_poll(path: &str) -> bool {
    path.starts_with("/api/v2/jobs/") || path.starts_with("/api/v2/workflow_jobs/")
}

fn settings(server: &Recorder, credentials: Credentials) -> DispatchSettings {
    let mut settings = jobs::settings(&[]);
    let mut controller = ControllerSettings::new(server.url.clone(), credentials);
    controller.poll_interval = Duration::from_millis(20);
    controller.job_timeout = Duration::from_secs(10);
    settings.controller = Some(controller);
    settings
}

fn token() -> Credentials {
    Credentials::Bearer(Secret::new("controller-token"))
}

async fn run(settings: DispatchSettings, kind: ActionKind, args: Value) -> FiringOutcome {
    let dispatcher = Dispatcher::new(settings, Sinks::default());
    tokio::time::timeout(
        Duration::from_secs(60),
        dispatcher.run(jobs::job(vec![(kind, args)])),
    )
    .await
    .expect("the firing ends")
}

fn requests(server: &Recorder) -> Vec<String> {
    server
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect()
}

/// How many times a template was launched.
fn launches(server: &Recorder) -> usize {
    requests(server)
        .iter()
        .filter(|r| r.ends_with("/launch/"))
        .count()
}

fn restart_uplink() -> Value {
    json!({
        "name": "Restart uplink",
        "organization": "NetOps",
        "job_args": {"extra_vars": {"threshold": 5}, "limit": "edge-1", "job_tags": "restart"},
    })
}

#[tokio::test]
async fn a_job_template_is_looked_up_launched_and_followed_until_it_succeeds() {
    let server = controller(Controller::statuses(&["pending", "running", "successful"])).await;
    let outcome = run(
        settings(&server, token()),
        ActionKind::RunJobTemplate,
        restart_uplink(),
    )
    .await;
    assert_eq!(outcome, FiringOutcome::Done);
    assert_eq!(
        requests(&server),
        [
            "GET /api/v2/job_templates/",
            "POST /api/v2/job_templates/7/launch/",
            "GET /api/v2/jobs/100/",
            "GET /api/v2/jobs/100/",
            "GET /api/v2/jobs/100/",
        ]
    );
    let seen = server.seen();
    assert_eq!(
        seen[0].query,
        "name=Restart+uplink&organization__name=NetOps"
    );
    assert!(
        seen.iter()
            .all(|s| s.header("authorization") == Some("Bearer controller-token"))
    );
    assert_eq!(seen[1].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[1].json(),
        json!({
            "extra_vars": {"threshold": 5, "ansible_eda": {"ruleset": "rs", "rule": "r", "event": jobs::event()}},
            "limit": "edge-1",
            "job_tags": "restart",
        })
    );
}

#[tokio::test]
async fn a_failed_job_fails_the_firing_with_its_status() {
    let server = controller(Controller::statuses(&["running", "failed"])).await;
    let outcome = run(
        settings(&server, token()),
        ActionKind::RunJobTemplate,
        restart_uplink(),
    )
    .await;
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 0,
            action: "run_job_template",
            reason: format!(
                "job 100 of job template \"Restart uplink\" ended with status failed ({}/api/v2/jobs/100/)",
                server.url
            ),
        }
    );
}

#[tokio::test]
async fn retries_relaunch_a_failed_job() {
    let server = controller(Controller::statuses(&["failed", "successful"])).await;
    let mut args = restart_uplink();
    args["retries"] = json!(1);
    args["delay"] = json!("10 ms");
    let outcome = run(settings(&server, token()), ActionKind::RunJobTemplate, args).await;
    assert_eq!(outcome, FiringOutcome::Done);
    assert_eq!(launches(&server), 2);
}

#[tokio::test]
async fn a_workflow_template_uses_the_workflow_endpoints_and_basic_auth() {
    let server = controller(Controller::statuses(&["successful"])).await;
    let credentials = Credentials::Basic {
        username: "eda".into(),
        password: Secret::new("s3cret"),
    };
    let args = json!({"name": "Recover site", "organization": "NetOps", "include_events": false});
    let outcome = run(
        settings(&server, credentials),
        ActionKind::RunWorkflowTemplate,
        args,
    )
    .await;
    assert_eq!(outcome, FiringOutcome::Done);
    assert_eq!(
        requests(&server),
        [
            "GET /api/v2/workflow_job_templates/",
            "POST /api/v2/workflow_job_templates/9/launch/",
            "GET /api/v2/workflow_jobs/55/",
        ]
    );
    let seen = server.seen();
    // base64("eda:s3cret")
    assert_eq!(
        seen[0].header("authorization"),
        Some("Basic ZWRhOnMzY3JldA==")
    );
    assert_eq!(
        seen[1].json(),
        json!({}),
        "include_events: false sends no ansible_eda"
    );
}

#[tokio::test]
async fn without_wait_the_launch_is_enough() {
    let server = controller(Controller::statuses(&["failed"])).await;
    let mut args = restart_uplink();
    args["wait"] = json!(false);
    let outcome = run(settings(&server, token()), ActionKind::RunJobTemplate, args).await;
    assert_eq!(outcome, FiringOutcome::Done);
    assert_eq!(requests(&server).len(), 2, "lookup and launch, no polling");
}

#[tokio::test]
async fn an_unavailable_controller_is_retried_per_request() {
    let server = controller(Controller {
        first_launch_status: Some(503),
        ..Controller::statuses(&["successful"])
    })
    .await;
    let outcome = run(
        settings(&server, token()),
        ActionKind::RunJobTemplate,
        restart_uplink(),
    )
    .await;
    assert_eq!(outcome, FiringOutcome::Done);
    assert_eq!(launches(&server), 2);
}

#[tokio::test]
async fn an_unknown_template_fails_without_launching() {
    let server = controller(Controller::statuses(&["successful"])).await;
    let args = json!({"name": "Reboot everything", "organization": "NetOps"});
    let outcome = run(settings(&server, token()), ActionKind::RunJobTemplate, args).await;
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 0,
            action: "run_job_template",
            reason: "job template \"Reboot everything\" not found in organization \"NetOps\" on the controller".into(),
        }
    );
    assert_eq!(requests(&server), ["GET /api/v2/job_templates/"]);
}

#[tokio::test]
async fn without_a_controller_the_action_fails() {
    let outcome = run(
        jobs::settings(&[]),
        ActionKind::RunJobTemplate,
        restart_uplink(),
    )
    .await;
    assert_eq!(
        outcome,
        FiringOutcome::Failed {
            action_index: 0,
            action: "run_job_template",
            reason: "`run_job_template` needs a controller, and none is configured (URL and credentials)".into(),
        }
    );
}

#[tokio::test]
async fn job_status_is_polled_at_the_configured_interval() {
    let server = controller(Controller::statuses(&["pending", "running", "successful"])).await;
    let outcome = run(
        settings(&server, token()),
        ActionKind::RunJobTemplate,
        restart_uplink(),
    )
    .await;
    assert_eq!(outcome, FiringOutcome::Done);
    let polls: Vec<_> = server
        .seen()
        .into_iter()
        .filter(|s| s.path == "/api/v2/jobs/100/")
        .collect();
    assert_eq!(polls.len(), 3);
    for pair in polls.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(20),
            "polled again after {gap:?}"
        );
    }
}

#[tokio::test]
async fn a_status_request_that_times_out_is_retried() {
    let server = controller(Controller {
        first_poll_delay: Duration::from_secs(5),
        ..Controller::statuses(&["successful"])
    })
    .await;
    let mut settings = settings(&server, token());
    settings.timeout = Duration::from_millis(300);
    let outcome = run(settings, ActionKind::RunJobTemplate, restart_uplink()).await;
    assert_eq!(outcome, FiringOutcome::Done);
    let polls = requests(&server)
        .iter()
        .filter(|r| r.starts_with("GET /api/v2/jobs/"))
        .count();
    assert_eq!(polls, 2, "the timed-out poll and its retry");
}
