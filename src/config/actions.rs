//! Flags for sending actions, shared by `rules run` (which sends) and `rules test` (which previews
//! exactly what would be sent): how many firings run at once, `ansible-playbook` and its inventory,
//! and the Ansible controller with its credentials. Secrets come from the environment or files and are
//! wrapped in [`Secret`]; the names follow ansible-rulebook's `--controller-*` flags. Turning them
//! into the dispatcher's settings is `actions::context`'s ([`DispatchSettings::from_config`]).
//!
//! [`DispatchSettings::from_config`]: crate::actions::context::DispatchSettings::from_config

use std::path::PathBuf;

use clap::Args;

use super::Secret;

#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Actions")]
pub struct ActionConfig {
    /// Firings whose actions run at the same time; more wait (backpressure).
    #[arg(
        long,
        env = "SEMAPHORE_MAX_CONCURRENT_ACTIONS",
        default_value_t = 25,
        value_name = "N"
    )]
    pub max_concurrent_actions: usize,
    /// Inventory for `run_playbook` (`-i` of ansible-playbook) [default: localhost only].
    #[arg(short = 'i', long, env = "ANSIBLE_INVENTORY", value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// The ansible-playbook program.
    #[arg(
        long,
        env = "SEMAPHORE_ANSIBLE_PLAYBOOK",
        default_value = "ansible-playbook",
        value_name = "PROGRAM"
    )]
    pub ansible_playbook: PathBuf,
    /// Ansible Automation Platform / AWX controller for run_job_template and run_workflow_template.
    #[arg(long, env = "SEMAPHORE_CONTROLLER_URL", value_name = "URL")]
    pub controller_url: Option<String>,
    /// Controller OAuth token (prefer the environment variable).
    #[arg(long, env = "SEMAPHORE_CONTROLLER_TOKEN", hide_env_values = true, value_name = "TOKEN", value_parser = Secret::from_arg)]
    pub controller_token: Option<Secret>,
    /// Controller user for basic authentication, with --controller-password.
    #[arg(long, env = "SEMAPHORE_CONTROLLER_USERNAME", value_name = "USER")]
    pub controller_username: Option<String>,
    /// Controller password (prefer the environment variable).
    #[arg(long, env = "SEMAPHORE_CONTROLLER_PASSWORD", hide_env_values = true, value_name = "PASSWORD", value_parser = Secret::from_arg)]
    pub controller_password: Option<Secret>,
    /// CA file for a controller with a private certificate authority; verification stays on.
    #[arg(long, env = "SEMAPHORE_CONTROLLER_CA_FILE", value_name = "FILE")]
    pub controller_ca_file: Option<PathBuf>,
}
