//! Flags for sending actions, shared by `rules run` (which sends) and `rules test` (which previews
//! exactly what would be sent): how many firings run at once, `ansible-playbook` and its inventory,
//! and the Ansible controller with its credentials. Secrets come from the environment or files and are
//! wrapped in [`Secret`]; the names follow ansible-rulebook's `--controller-*` flags.

use std::path::PathBuf;

use clap::Args;

use super::{ConfigError, Secret};
use crate::actions::context::{ControllerSettings, Credentials, DispatchSettings};
use crate::rulebook::Rulebook;

#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Actions")]
pub struct ActionConfig {
    /// Firings whose actions run at the same time; more wait (backpressure).
    #[arg(long, env = "SEMAPHORE_MAX_CONCURRENT_ACTIONS", default_value_t = 25)]
    pub max_concurrent_actions: usize,
    /// Inventory for `run_playbook` (`-i` of ansible-playbook) [default: localhost only].
    #[arg(short = 'i', long, env = "ANSIBLE_INVENTORY")]
    pub inventory: Option<PathBuf>,
    /// The ansible-playbook program.
    #[arg(
        long,
        env = "SEMAPHORE_ANSIBLE_PLAYBOOK",
        default_value = "ansible-playbook"
    )]
    pub ansible_playbook: PathBuf,
    /// Ansible Automation Platform / AWX controller for run_job_template and run_workflow_template.
    #[arg(long, env = "SEMAPHORE_CONTROLLER_URL")]
    pub controller_url: Option<String>,
    /// Controller OAuth token (prefer the environment variable).
    #[arg(long, env = "SEMAPHORE_CONTROLLER_TOKEN", hide_env_values = true, value_parser = Secret::from_arg)]
    pub controller_token: Option<Secret>,
    /// Controller user for basic authentication, with --controller-password.
    #[arg(long, env = "SEMAPHORE_CONTROLLER_USERNAME")]
    pub controller_username: Option<String>,
    /// Controller password (prefer the environment variable).
    #[arg(long, env = "SEMAPHORE_CONTROLLER_PASSWORD", hide_env_values = true, value_parser = Secret::from_arg)]
    pub controller_password: Option<Secret>,
    /// CA file for a controller with a private certificate authority; verification stays on.
    #[arg(long, env = "SEMAPHORE_CONTROLLER_CA_FILE")]
    pub controller_ca_file: Option<PathBuf>,
}

impl ActionConfig {
    /// Dispatch settings for `book`: each ruleset's `hosts` limit its playbooks.
    pub fn dispatch_settings(&self, book: &Rulebook) -> Result<DispatchSettings, ConfigError> {
        let mut settings = DispatchSettings {
            max_concurrent: self.max_concurrent_actions.max(1),
            controller: self.controller()?,
            ..DispatchSettings::default()
        };
        settings.playbook.program = self.ansible_playbook.clone();
        settings.playbook.inventory = self.inventory.clone();
        settings.playbook.ruleset_hosts = book
            .rulesets
            .iter()
            .filter(|ruleset| !ruleset.hosts.is_empty())
            .map(|ruleset| (ruleset.name.clone(), ruleset.hosts.clone()))
            .collect();
        Ok(settings)
    }

    fn controller(&self) -> Result<Option<ControllerSettings>, ConfigError> {
        let Some(url) = &self.controller_url else {
            return Ok(None);
        };
        let credentials = match (
            &self.controller_token,
            &self.controller_username,
            &self.controller_password,
        ) {
            (Some(token), None, None) => Credentials::Bearer(token.clone()),
            (None, Some(username), Some(password)) => Credentials::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            _ => return Err(ConfigError::ControllerCredentials),
        };
        let mut controller = ControllerSettings::new(url.clone(), credentials);
        controller.ca_file = self.controller_ca_file.clone();
        Ok(Some(controller))
    }
}
