//! Every integration test, in one binary with a module per area (one link instead of one per file).
//! The areas run against real components: the Kafka broker `scripts/test` starts, HTTP servers on
//! 127.0.0.1, real processes (the `semaphore` binary, `ansible-playbook`, `openssl`). `common` holds
//! the broker helpers, `fixtures` what several areas share.

mod common;
mod fixtures;

mod actions_ansible;
mod actions_command;
mod actions_controller;
mod actions_dispatch;
mod actions_docs;
mod actions_publish;
mod actions_webhook;
mod consume_cli;
mod demo;
mod engine;
mod engine_state;
mod kafka_harness;
mod meraki_client;
mod meraki_sim;
mod operations;
mod operations_publish;
mod properties;
mod publish_cli;
mod publish_kafka;
mod publish_syslog;
mod rulebook_errors;
mod rules_run_delivery;
mod rules_run_failures;
mod rules_run_reload;
mod rules_run_state;
mod shipped_rulebooks;
mod silence_cli;
mod silence_run;
mod state_changelog;
mod suppress;
mod windows;
