//! What `rules test` shows for an action: exactly what the dispatcher would send, from the same
//! plans the dispatcher uses (URL, headers with credentials masked and body; argv, cwd and env;
//! topic, key, value and headers; the playbook command line and extra vars; the controller
//! requests; the text `print_event` and `debug` would write). Pure: nothing is sent, read or
//! written, and environment variables named by `auth` are not even read.

use serde_json::{Value, json};

use super::context::{DispatchSettings, FiringInfo};
use super::dispatch::{ActionError, template_kind};
use super::{ansible, command, controller, local, publish, webhook};
use crate::rulebook::action::{ActionKind, RenderedAction};

/// The action as it would be sent: `{"type": ..., <what is sent>, "lock"?: ...}`.
pub fn preview(
    action: &RenderedAction,
    firing: &FiringInfo<'_>,
    settings: &DispatchSettings,
) -> Result<Value, ActionError> {
    let args = &action.args;
    let mut shown = match action.kind {
        ActionKind::Webhook => webhook::preview(&webhook::plan(args, firing, settings)?),
        ActionKind::Command => command::preview(&command::plan(args, firing, settings)?),
        ActionKind::Publish => publish::preview(&publish::plan(args, firing, settings)?),
        ActionKind::RunPlaybook => ansible::preview(&ansible::plan(args, firing, settings)?),
        ActionKind::RunJobTemplate | ActionKind::RunWorkflowTemplate => {
            let plan = controller::plan(template_kind(action.kind), args, firing, settings)?;
            controller::preview(&plan, settings)
        }
        ActionKind::PrintEvent => json!({"output": local::print_event_text(args, firing)?}),
        ActionKind::Debug => json!({"output": local::debug_text(args, firing)?}),
        ActionKind::Shutdown => {
            let plan = local::shutdown_plan(args)?;
            json!({
                "delay_ms": plan.delay.as_millis(),
                "message": plan.message,
                "kind": format!("{:?}", plan.kind).to_lowercase(),
            })
        }
        ActionKind::None => json!({}),
        ActionKind::SetFact | ActionKind::RetractFact | ActionKind::PostEvent => {
            json!({"applied_by_engine": true, "args": args})
        }
    };
    shown["type"] = Value::String(action.kind.name().to_owned());
    if let Some(lock) = super::args::lock(action) {
        shown["lock"] = Value::String(lock);
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_preview_shows_argv_and_lock() {
        let events = [json!({"serial": "Q2"})];
        let firing = FiringInfo {
            ruleset: "rs",
            rule: "r",
            idempotency_key: "t/0/1/r",
            events: &events,
        };
        let action = RenderedAction {
            kind: ActionKind::Command,
            args: json!({"argv": ["echo", "; rm -rf /"], "lock": "Q2"}),
        };
        let shown = preview(&action, &firing, &DispatchSettings::default()).unwrap();
        assert_eq!(shown["type"], "command");
        assert_eq!(shown["argv"], json!(["echo", "; rm -rf /"]));
        assert_eq!(shown["lock"], "Q2");
        assert_eq!(shown["env"]["SEMAPHORE_IDEMPOTENCY_KEY"], "t/0/1/r");
    }
}
