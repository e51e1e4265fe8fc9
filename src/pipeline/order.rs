//! Firing order for `execution_strategy: sequential`: the firings of such a ruleset are sent one at a
//! time and in the order the engine produced them, even though each runs in its own task. Each firing
//! waits for its predecessor's "done" before it starts; parallel rulesets do not wait.

use std::collections::{HashMap, HashSet};

use tokio::sync::oneshot;

pub struct FiringOrder {
    sequential: HashSet<String>,
    /// Per sequential ruleset, the "done" of the latest firing handed out.
    last: HashMap<String, oneshot::Receiver<()>>,
}

/// Resolves when the previous firing of the ruleset has finished (at once for the first one and for
/// parallel rulesets).
pub struct Turn(Option<oneshot::Receiver<()>>);

/// Dropped when this firing is finished, letting the next one start.
pub struct Done(Option<oneshot::Sender<()>>);

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(next) = self.0.take() {
            // The successor may be gone already (aborted at shutdown); nothing waits then.
            let _ = next.send(());
        }
    }
}

impl FiringOrder {
    pub fn new(sequential: HashSet<String>) -> FiringOrder {
        FiringOrder {
            sequential,
            last: HashMap::new(),
        }
    }

    /// After a reload: a ruleset that became parallel stops waiting; one that became sequential
    /// starts its chain with its next firing.
    pub fn set_sequential(&mut self, sequential: HashSet<String>) {
        self.last.retain(|ruleset, _| sequential.contains(ruleset));
        self.sequential = sequential;
    }

    pub fn next(&mut self, ruleset: &str) -> (Turn, Done) {
        if !self.sequential.contains(ruleset) {
            return (Turn(None), Done(None));
        }
        let (sender, receiver) = oneshot::channel();
        let previous = self.last.insert(ruleset.to_owned(), receiver);
        (Turn(previous), Done(Some(sender)))
    }
}

impl Turn {
    pub async fn wait(self) {
        if let Some(previous) = self.0 {
            // An error only means the predecessor's task ended (finished or aborted): go on.
            let _ = previous.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn sequential_firings_run_in_order_and_parallel_ones_do_not_wait() {
        let mut order = FiringOrder::new(HashSet::from(["seq".to_owned()]));
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..5u64 {
            let (turn, done) = order.next("seq");
            let log = Arc::clone(&log);
            tasks.push(tokio::spawn(async move {
                turn.wait().await;
                // Later firings sleep less: without the ordering they would finish first.
                tokio::time::sleep(std::time::Duration::from_millis(50 - n * 10)).await;
                log.lock().unwrap().push(n);
                drop(done);
            }));
        }
        let (turn, _done) = order.next("par");
        assert!(turn.0.is_none());
        for task in tasks.into_iter().rev() {
            task.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_reload_changes_which_rulesets_wait() {
        let mut order = FiringOrder::new(HashSet::from(["a".to_owned()]));
        let (_, _a_done) = order.next("a");
        order.set_sequential(HashSet::from(["b".to_owned()]));
        assert!(order.next("a").0.0.is_none(), "a became parallel");
        let (first_b, _b_done) = order.next("b");
        assert!(first_b.0.is_none(), "b's chain starts with this firing");
        assert!(order.next("b").0.0.is_some(), "the next b waits for it");
    }
}
