//! Actions: sending what a rule's firing rendered. The [`dispatch::Dispatcher`] runs a firing's
//! actions in order with bounded concurrency, timeouts and retries, one file per action kind
//! (webhook with its chat/ITSM presets, command, publish, run_playbook, controller job templates);
//! [`preview`] shows what would be sent without sending. The action model (kinds, templates,
//! rendering, which keys each kind takes) is the rulebook's (`rulebook::action`); this module does
//! not decide when a rule fires (the engine) or what happens to a record whose action failed (the
//! pipeline dead-letters it).

pub mod ansible;
pub mod args;
pub mod command;
pub mod context;
pub mod controller;
pub mod dispatch;
pub mod http;
pub mod local;
pub mod locks;
pub mod presets;
pub mod preview;
pub mod process;
pub mod publish;
pub mod retry;
pub mod webhook;
