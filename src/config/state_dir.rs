//! Where `rules run` keeps files on the local disk: the dead-letter directory, for records the
//! broker refused to take as dead letters. The default follows the places a service manager or a
//! desktop session already provides for an application's state, so that no flag is needed.

use std::path::PathBuf;

use super::ConfigError;

/// The subdirectory of the state directory that holds spooled dead letters.
const DEAD_LETTERS: &str = "dead-letters";

/// The dead-letter directory when `--dead-letter-dir` is not given: `dead-letters` under
/// systemd's `$STATE_DIRECTORY` (set by a unit's `StateDirectory=`), else under
/// `$XDG_STATE_HOME/semaphore`, else under `$HOME/.local/state/semaphore` (the XDG default).
/// `env` reads the environment, so that tests need not change the process's.
pub fn default_dead_letter_dir(
    env: impl Fn(&str) -> Option<String>,
) -> Result<PathBuf, ConfigError> {
    let absolute = |name: &str| {
        env(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    // systemd joins several StateDirectory= entries with ':'; the first is the unit's own.
    let systemd = env("STATE_DIRECTORY")
        .and_then(|dirs| dirs.split(':').next().map(PathBuf::from))
        .filter(|path| path.is_absolute());
    let base = systemd
        .or_else(|| absolute("XDG_STATE_HOME").map(|dir| dir.join("semaphore")))
        .or_else(|| absolute("HOME").map(|home| home.join(".local/state/semaphore")))
        .ok_or(ConfigError::NoStateDirectory)?;
    Ok(base.join(DEAD_LETTERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<PathBuf, ConfigError> {
        default_dead_letter_dir(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn a_systemd_state_directory_comes_first() {
        let dir = with(&[
            (
                "STATE_DIRECTORY",
                "/var/lib/semaphore/uplinks:/var/lib/other",
            ),
            ("XDG_STATE_HOME", "/home/op/.state"),
            ("HOME", "/home/op"),
        ]);
        assert_eq!(
            dir.expect("found"),
            PathBuf::from("/var/lib/semaphore/uplinks/dead-letters")
        );
    }

    #[test]
    fn then_the_xdg_state_home_then_its_default_under_home() {
        let xdg = with(&[("XDG_STATE_HOME", "/home/op/.state"), ("HOME", "/home/op")]);
        assert_eq!(
            xdg.expect("found"),
            PathBuf::from("/home/op/.state/semaphore/dead-letters")
        );
        let home = with(&[
            ("XDG_STATE_HOME", "relative/is/ignored"),
            ("HOME", "/home/op"),
        ]);
        assert_eq!(
            home.expect("found"),
            PathBuf::from("/home/op/.local/state/semaphore/dead-letters")
        );
    }

    #[test]
    fn without_any_of_them_the_flag_is_asked_for() {
        let err = with(&[]).expect_err("nowhere to go");
        assert!(err.to_string().contains("--dead-letter-dir"), "{err}");
    }
}
