//! Rulebook reloads reaching the running pipeline: a [`Reload`] carries a rulebook that was already
//! fully checked, and a new dispatcher when the new rulebook needs one. The intake loop hands it to
//! every engine shard between the same two records of the stream, so every event is evaluated
//! entirely by the old or entirely by the new rulebook, and the shards log the report. Firings in flight finish with the dispatcher they started with. Watching the file,
//! checking the new rulebook and counting reloads are the caller's job (`cli::rules::reload`).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Dispatch, Run};
use crate::rulebook::Rulebook;

/// A checked rulebook to run from the next record on.
pub struct Reload {
    pub rulebook: Arc<Rulebook>,
    /// Set when the running dispatcher does not fit the new rulebook (execution strategies, hosts).
    pub dispatch: Option<Arc<dyn Dispatch>>,
}

impl Run {
    pub(super) fn apply_reload(&mut self, reload: Reload) {
        if let Some(dispatch) = reload.dispatch {
            self.dispatch = dispatch;
        }
        self.book = Arc::clone(&reload.rulebook);
        self.shards.reload(reload.rulebook);
        self.shards.placement().log(self.shards.workers());
    }
}

/// The next reload; never resolves when there is no channel or its sender is gone.
pub(super) async fn next(reloads: &mut Option<mpsc::Receiver<Reload>>) -> Reload {
    match reloads {
        Some(receiver) => match receiver.recv().await {
            Some(reload) => reload,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}
