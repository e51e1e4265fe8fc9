//! Every action example in `docs/actions.md` loads as part of a rulebook, renders for an event, and
//! yields the request `rules test` would show, so the reference cannot drift from the code.

use std::collections::BTreeMap;
use std::sync::Arc;

use semaphore::actions::context::{DispatchSettings, FiringInfo};
use semaphore::actions::preview::preview;
use semaphore::engine::Engine;
use semaphore::event::Event;
use serde_json::json;

const REFERENCE: &str = include_str!("../docs/actions.md");

/// The YAML blocks of the reference that are action lists (not the playbook shown for contrast).
fn action_examples() -> Vec<&'static str> {
    REFERENCE
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.starts_with("- ") && !block.contains("hosts: all"))
        .collect()
}

fn rulebook(actions: &str) -> String {
    let indented: String = actions
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        "- name: rs\n  vars: {{webex_room: ROOM, loss_pct: 5}}\n  rules:\n    - name: r\n      condition: true\n      actions:\n{indented}"
    )
}

#[test]
fn every_example_loads_renders_and_previews() {
    let examples = action_examples();
    assert!(
        examples.len() >= 10,
        "found only {} examples",
        examples.len()
    );
    let env: BTreeMap<String, String> =
        ["NOC_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TEAMS_WORKFLOW_URL"]
            .into_iter()
            .map(|name| {
                (
                    name.to_owned(),
                    "https://hooks.example.com/T0/B0/x".to_owned(),
                )
            })
            .chain([("PAGERDUTY_ROUTING_KEY".to_owned(), "R0UTING".to_owned())])
            .collect();
    let event = json!({
        "serial": "Q2XX-1", "uplink": "wan1", "lossPercent": 7.5, "networkId": "N_1",
        "uplinks": [{"interface": "wan1"}],
    });
    for example in examples {
        let source = rulebook(example);
        let book = semaphore::rulebook::compile("actions.md", &source)
            .unwrap_or_else(|d| panic!("example does not load:\n{example}\n{d}"));
        let mut engine = Engine::new(Arc::new(book), env.clone());
        let outcome = engine.process(Event::from_json(event.clone(), json!({})), 0);
        let firing = &outcome.firings[0];
        let events = [event.clone()];
        let info = FiringInfo {
            ruleset: &firing.ruleset,
            rule: &firing.rule,
            idempotency_key: &firing.idempotency_key,
            events: &events,
        };
        for action in &firing.actions {
            let action = action
                .as_ref()
                .unwrap_or_else(|e| panic!("example does not render:\n{example}\n{e}"));
            let shown = preview(action, &info, &DispatchSettings::default()).unwrap_or_else(|e| {
                panic!(
                    "example is not a valid {}:\n{example}\n{e}",
                    action.kind.name()
                )
            });
            assert_eq!(shown["type"], action.kind.name());
        }
    }
}
