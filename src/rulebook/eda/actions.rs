//! EDA actions to semaphore actions. Most have the same name and arguments; arguments semaphore does
//! not have are dropped with a warning saying what to do instead, and `run_module`, which semaphore
//! cannot run, is an error pointing to `run_playbook`.

use super::super::yaml::{Key, Node, NodeKind};
use super::book::Translator;
use super::out::Out;

/// An action: the arguments kept as they are, and those dropped with the reason.
struct Mapping {
    name: &'static str,
    kept: &'static [&'static str],
    dropped: &'static [(&'static str, &'static str)],
}

const FEEDBACK: &str = "feeding playbook results back into the engine is not supported; post_event or set_fact from a later rule instead";

const ACTIONS: &[Mapping] = &[
    Mapping {
        name: "run_playbook",
        kept: &[
            "name",
            "extra_vars",
            "verbosity",
            "retry",
            "retries",
            "delay",
            "lock",
        ],
        dropped: &[
            ("json_mode", "ansible-playbook's own output is kept"),
            ("copy_files", "the playbook runs from its own directory"),
            ("set_facts", FEEDBACK),
            ("post_events", FEEDBACK),
            ("ruleset", FEEDBACK),
            ("var_root", "give the values in extra_vars with templates"),
        ],
    },
    Mapping {
        name: "run_job_template",
        kept: CONTROLLER_KEPT,
        dropped: CONTROLLER_DROPPED,
    },
    Mapping {
        name: "run_workflow_template",
        kept: CONTROLLER_KEPT,
        dropped: CONTROLLER_DROPPED,
    },
    Mapping {
        name: "debug",
        kept: &["msg", "var"],
        dropped: &[],
    },
    Mapping {
        name: "print_event",
        kept: &["pretty", "var_root"],
        dropped: &[],
    },
    Mapping {
        name: "set_fact",
        kept: &["fact", "ruleset"],
        dropped: &[],
    },
    Mapping {
        name: "retract_fact",
        kept: &["fact", "ruleset", "partial"],
        dropped: &[],
    },
    Mapping {
        name: "post_event",
        kept: &["event", "ruleset"],
        dropped: &[],
    },
    Mapping {
        name: "shutdown",
        kept: &["delay", "message", "kind"],
        dropped: &[],
    },
    Mapping {
        name: "none",
        kept: &[],
        dropped: &[],
    },
];

const CONTROLLER_KEPT: &[&str] = &[
    "name",
    "organization",
    "job_args",
    "include_events",
    "retry",
    "retries",
    "delay",
    "lock",
];

const CONTROLLER_DROPPED: &[(&str, &str)] = &[
    ("set_facts", FEEDBACK),
    ("post_events", FEEDBACK),
    ("ruleset", FEEDBACK),
    (
        "var_root",
        "give the values in job_args.extra_vars with templates",
    ),
    (
        "labels",
        "labels are not sent; the job's name says which rule launched it",
    ),
    ("add_event_uuid_label", "labels are not sent"),
];

impl Translator<'_> {
    pub(super) fn actions(&mut self, out: &mut Out, actions: &[Node]) {
        out.line(0, "actions:");
        for node in actions {
            let entries = node.entries().unwrap_or_default();
            let [(key, args)] = entries else {
                self.error(
                    node.pos,
                    "an action is a mapping with one key, the action's name",
                );
                continue;
            };
            if let Some(action) = self.action(key, args) {
                out.item(2, &action);
            }
        }
    }

    fn action(&mut self, key: &Key, args: &Node) -> Option<Node> {
        if key.name == "run_module" {
            self.error(
                key.pos,
                "run_module is not supported: put the module in a one-task playbook (`hosts: all`, `tasks: [{MODULE: ARGS}]`) and use run_playbook",
            );
            return None;
        }
        let Some(mapping) = ACTIONS.iter().find(|m| m.name == key.name) else {
            let names: Vec<&str> = ACTIONS.iter().map(|m| m.name).collect();
            let hint = crate::condition::suggest::closest(&key.name, &names)
                .map(|n| format!(", did you mean `{n}`?"))
                .unwrap_or_default();
            self.error(key.pos, format!("unknown EDA action `{}`{hint}", key.name));
            return None;
        };
        let kept = match &args.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Map(entries) => self.arguments(mapping, entries),
            _ => {
                self.error(
                    args.pos,
                    format!("the arguments of `{}` are a mapping", key.name),
                );
                return None;
            }
        };
        let value = Node {
            pos: args.pos,
            kind: NodeKind::Map(kept),
        };
        Some(Node {
            pos: key.pos,
            kind: NodeKind::Map(vec![(key.clone(), value)]),
        })
    }

    fn arguments(&mut self, mapping: &Mapping, entries: &[(Key, Node)]) -> Vec<(Key, Node)> {
        let mut kept = Vec::new();
        for (key, value) in entries {
            let name = key.name.as_str();
            if mapping.kept.contains(&name) {
                kept.push((key.clone(), value.clone()));
            } else if let Some((_, why)) = mapping.dropped.iter().find(|(k, _)| *k == name) {
                self.warn(
                    key.pos,
                    format!(
                        "`{}` of {} is not supported: dropped ({why})",
                        name, mapping.name
                    ),
                );
            } else {
                self.error(
                    key.pos,
                    format!("`{}` has no argument `{name}`", mapping.name),
                );
            }
        }
        kept
    }
}
