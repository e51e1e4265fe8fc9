//! Reloading the silences file while `rules run` runs: a tracked task polls the file's content hash
//! about once a second and sends each new valid set over a bounded channel to the pipeline. A file
//! that became invalid or unreadable is logged and the previous set stays in force. It stops when
//! shutdown is requested or the pipeline is gone.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cli::files::{self, SilenceFileError};
use crate::shutdown::ShutdownSignal;
use crate::suppress::SilenceSet;
use crate::suppress::file;

const POLL: Duration = Duration::from_secs(1);

/// The first set (already loaded) and the task that sends later ones.
pub struct Watch {
    pub updates: mpsc::Receiver<Arc<SilenceSet>>,
    pub task: JoinHandle<()>,
}

/// Loads `path` once (an invalid file is an error at start, reported like `rules check`) and starts
/// watching it. Must run inside the runtime.
pub fn start(path: &Path, shutdown: ShutdownSignal) -> Result<Watch, SilenceFileError> {
    let source = files::read_silences(path)?;
    let loaded =
        file::parse(&path.display().to_string(), &source).map_err(SilenceFileError::Invalid)?;
    tracing::info!(
        file = %path.display(),
        silences = loaded.set.silences.len(),
        "silences loaded"
    );
    let (sender, updates) = mpsc::channel(1);
    sender
        .try_send(Arc::new(loaded.set))
        .expect("a new channel with capacity 1 has room for the first set");
    let task = tokio::spawn(poll(path.to_owned(), hash(&source), sender, shutdown));
    Ok(Watch { updates, task })
}

fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

async fn poll(
    path: PathBuf,
    mut seen: u64,
    sender: mpsc::Sender<Arc<SilenceSet>>,
    mut shutdown: ShutdownSignal,
) {
    loop {
        tokio::select! {
            _ = shutdown.requested() => return,
            _ = sender.closed() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        let read = tokio::time::timeout(POLL, tokio::fs::read_to_string(&path)).await;
        let source = match read {
            Ok(Ok(source)) => source,
            Ok(Err(err)) => {
                // Logged once per change of state, not every second.
                if seen != 0 {
                    tracing::error!(file = %path.display(), %err, "cannot read the silences file; keeping the previous silences");
                    seen = 0;
                }
                continue;
            }
            Err(_) => continue,
        };
        let current = hash(&source);
        if current == seen {
            continue;
        }
        seen = current;
        match file::parse(&path.display().to_string(), &source) {
            Ok(loaded) => {
                let count = loaded.set.silences.len();
                tokio::select! {
                    _ = shutdown.requested() => return,
                    sent = sender.send(Arc::new(loaded.set)) => if sent.is_err() { return },
                }
                tracing::info!(file = %path.display(), silences = count, "silences reloaded");
            }
            Err(diagnostics) => tracing::error!(
                file = %path.display(),
                errors = %diagnostics,
                "the silences file is invalid; keeping the previous silences"
            ),
        }
    }
}
