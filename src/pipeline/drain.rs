//! The end of a run: intake has stopped; the engine shards leave the records still queued for them
//! unevaluated (they were not committed and are read again), report what they did evaluate and
//! their last state, and end; then in-flight work finishes, all within the drain deadline.
//! Whatever is still running at the deadline is abandoned and its records read again.

use super::Run;

impl Run {
    /// Stops the shards and takes their last reports, then waits for in-flight work, all up to the
    /// drain deadline, storing offsets as work finishes.
    pub(super) async fn drain(&mut self) {
        let deadline = tokio::time::Instant::now() + self.settings.drain_timeout;
        self.shards.stop();
        loop {
            match tokio::time::timeout_at(deadline, self.shards.next()).await {
                Ok(Some(report)) => self.handle_report(report),
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!("drain deadline passed before the engine shards ended");
                    break;
                }
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        self.shards.join(left).await;
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(done)) => self.finished(done),
                Ok(None) => break,
                Err(_) => {
                    self.summary.abandoned = self.tasks.len() as u64;
                    tracing::warn!(
                        abandoned = self.tasks.len(),
                        "drain deadline passed; unfinished records will be read again"
                    );
                    self.tasks.abort_all();
                    break;
                }
            }
        }
        self.source.store(&self.tracker.take_committable());
    }
}
