//! Readiness: a small table of named checks (rulebook loaded, partitions assigned, broker reachable,
//! last publish cycle delivered) that the command's I/O layers set as they learn things, and that
//! `/readyz` reports. A process is ready when every check passes. It does not decide what a check
//! means or when it changes; the code that owns each fact does.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

/// Shared, cheap to clone; updated from any thread (librdkafka callbacks included).
#[derive(Clone, Debug)]
pub struct Readiness {
    checks: Arc<Mutex<Vec<Check>>>,
}

#[derive(Debug)]
struct Check {
    name: &'static str,
    /// `None` when it passes, else why it does not.
    failing: Option<String>,
}

/// A point-in-time view for `/readyz`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub ready: bool,
    /// Each check with "ok" or the reason it fails, in the order the checks were declared.
    pub checks: Vec<(&'static str, String)>,
}

impl Readiness {
    /// Every named check starts failing with "not checked yet".
    pub fn new(names: &[&'static str]) -> Readiness {
        let checks = names
            .iter()
            .map(|name| Check {
                name,
                failing: Some("not checked yet".to_owned()),
            })
            .collect();
        Readiness {
            checks: Arc::new(Mutex::new(checks)),
        }
    }

    /// Marks `name` as passing.
    pub fn pass(&self, name: &'static str) {
        self.set(name, None);
    }

    /// Marks `name` as failing because of `reason` (short, no secrets).
    pub fn fail(&self, name: &'static str, reason: impl Into<String>) {
        self.set(name, Some(reason.into()));
    }

    fn set(&self, name: &'static str, failing: Option<String>) {
        let mut checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(check) = checks.iter_mut().find(|check| check.name == name) {
            check.failing = failing;
        }
    }

    pub fn report(&self) -> Report {
        let checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        Report {
            ready: checks.iter().all(|check| check.failing.is_none()),
            checks: checks
                .iter()
                .map(|check| {
                    let state = check.failing.clone().unwrap_or_else(|| "ok".to_owned());
                    (check.name, state)
                })
                .collect(),
        }
    }
}

impl Report {
    /// `{"ready": false, "checks": {"partitions": "no partitions assigned", ...}}`
    pub fn to_json(&self) -> Value {
        let checks: Map<String, Value> = self
            .checks
            .iter()
            .map(|(name, state)| ((*name).to_owned(), Value::String(state.clone())))
            .collect();
        serde_json::json!({"ready": self.ready, "checks": checks})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_check_passes_and_the_failing_one_is_named() {
        let readiness = Readiness::new(&["rulebook", "partitions"]);
        assert!(!readiness.report().ready);
        readiness.pass("rulebook");
        let report = readiness.report();
        assert!(!report.ready);
        assert_eq!(
            report.to_json()["checks"]["partitions"],
            "not checked yet",
            "{report:?}"
        );
        readiness.pass("partitions");
        assert!(readiness.report().ready);
        readiness.fail("partitions", "no partitions assigned");
        let report = readiness.report();
        assert!(!report.ready);
        assert_eq!(report.to_json()["checks"]["rulebook"], "ok");
        assert_eq!(
            report.to_json()["checks"]["partitions"],
            "no partitions assigned"
        );
    }

    #[test]
    fn an_undeclared_check_changes_nothing() {
        let readiness = Readiness::new(&["broker"]);
        readiness.pass("other");
        assert!(!readiness.report().ready);
    }
}
