//! Connects the pipeline to the action dispatcher: placeholder until the dispatcher lands.

use std::sync::Arc;

use crate::config::KafkaConnection;
use crate::engine::Firing;
use crate::pipeline::{ActionFailure, Dispatch, DispatchFuture};
use crate::rulebook::Rulebook;
use crate::shutdown::Shutdown;

struct LogOnly;

impl Dispatch for LogOnly {
    fn dispatch(&self, firing: Firing) -> DispatchFuture {
        Box::pin(async move {
            let failed = firing
                .actions
                .iter()
                .find_map(|a| a.as_ref().err().map(|e| e.to_string()));
            match failed {
                Some(reason) => Err(ActionFailure {
                    action: "render".into(),
                    reason,
                }),
                None => Ok(()),
            }
        })
    }
}

pub fn for_rulebook(
    _book: &Arc<Rulebook>,
    _connection: &KafkaConnection,
    _shutdown: &Shutdown,
) -> anyhow::Result<Arc<dyn Dispatch>> {
    Ok(Arc::new(LogOnly))
}
