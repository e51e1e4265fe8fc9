//! Firing order for `execution_strategy: sequential`: the firings of such a ruleset are sent one at a
//! time and in the order the engine produced them, even though each runs in its own task and a
//! reload may hand later firings to another dispatcher. Each firing waits for its predecessor's
//! "done" before it starts; a firing of a parallel ruleset does not wait. The strategy is the
//! firing's own (its ruleset's, from the rulebook), so a reload that changes it needs nothing here.

use std::collections::HashMap;

use tokio::sync::oneshot;

use crate::rulebook::model::ExecutionStrategy;

#[derive(Default)]
pub struct FiringOrder {
    /// Per ruleset, the "done" of the latest sequential firing handed out.
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
    pub fn next(&mut self, ruleset: &str, strategy: ExecutionStrategy) -> (Turn, Done) {
        if strategy == ExecutionStrategy::Parallel {
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
        let mut order = FiringOrder::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..5u64 {
            let (turn, done) = order.next("seq", ExecutionStrategy::Sequential);
            let log = Arc::clone(&log);
            tasks.push(tokio::spawn(async move {
                turn.wait().await;
                // Later firings sleep less: without the ordering they would finish first.
                tokio::time::sleep(std::time::Duration::from_millis(50 - n * 10)).await;
                log.lock().unwrap().push(n);
                drop(done);
            }));
        }
        let (turn, _done) = order.next("par", ExecutionStrategy::Parallel);
        assert!(turn.0.is_none());
        for task in tasks.into_iter().rev() {
            task.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_reload_changes_which_rulesets_wait() {
        use ExecutionStrategy::{Parallel, Sequential};
        let mut order = FiringOrder::default();
        let (_, _a_done) = order.next("a", Sequential);
        let (_, _b_done) = order.next("b", Parallel);
        // After the reload, a is parallel and b sequential.
        assert!(order.next("a", Parallel).0.0.is_none(), "a became parallel");
        let (first_b, _b_done) = order.next("b", Sequential);
        assert!(first_b.0.is_none(), "b's chain starts with this firing");
        assert!(
            order.next("b", Sequential).0.0.is_some(),
            "the next b waits for it"
        );
    }
}
