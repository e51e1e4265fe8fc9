//! Shutdown: turns SIGINT (Ctrl-C) and SIGTERM into a [`ShutdownSignal`] that a command can await
//! or `select!` on, and lets code ask for the same graceful stop ([`Shutdown::request`]). The first
//! signal asks for a graceful stop; a second one ends the process at once (exit 128 + signal
//! number), for when draining hangs. It does not decide what draining means or how long it may
//! take; commands do.

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the process is stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownReason {
    /// SIGINT, usually Ctrl-C.
    Interrupt,
    /// SIGTERM, from a service manager or `kill`.
    Terminate,
    /// [`Shutdown::request`] was called.
    Requested,
}

/// Listening for signals could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShutdownError {
    #[error("cannot listen for {signal}: {source}")]
    Listen {
        signal: &'static str,
        source: std::io::Error,
    },
}

/// Owns the signal listener task. Dropping it stops listening; signals already seen stay visible.
#[derive(Debug)]
pub struct Shutdown {
    state: watch::Sender<Option<ShutdownReason>>,
    listener: JoinHandle<()>,
}

/// A cheap, cloneable view of the shutdown state.
#[derive(Clone, Debug)]
pub struct ShutdownSignal {
    state: watch::Receiver<Option<ShutdownReason>>,
}

impl Shutdown {
    /// Starts listening for SIGINT and SIGTERM. Must be called inside a Tokio runtime.
    pub fn listen() -> Result<Self, ShutdownError> {
        let interrupt = listen_for(SignalKind::interrupt(), "SIGINT")?;
        let terminate = listen_for(SignalKind::terminate(), "SIGTERM")?;
        let (state, _) = watch::channel(None);
        let listener = tokio::spawn(listen_loop(interrupt, terminate, state.clone()));
        Ok(Self { state, listener })
    }

    /// A handle to await the shutdown on.
    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal {
            state: self.state.subscribe(),
        }
    }

    /// Asks for a graceful stop, as a signal would. Does nothing if a stop was already asked for.
    pub fn request(&self) {
        request(&self.state, ShutdownReason::Requested);
    }
}

impl Drop for Shutdown {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl ShutdownSignal {
    /// Resolves when a stop is asked for (at once if it already was). Cancellation-safe, for
    /// `select!`. Never resolves if the [`Shutdown`] was dropped before any stop was asked for.
    pub async fn requested(&mut self) -> ShutdownReason {
        let reason = self
            .state
            .wait_for(Option::is_some)
            .await
            .map(|reason| *reason);
        match reason {
            Ok(Some(reason)) => reason,
            // The sender is gone (`Ok(None)` cannot happen: `wait_for` returns once the reason is
            // set).
            Ok(None) | Err(_) => std::future::pending().await,
        }
    }

    /// The reason, if a stop was asked for.
    pub fn reason(&self) -> Option<ShutdownReason> {
        *self.state.borrow()
    }
}

fn listen_for(kind: SignalKind, name: &'static str) -> Result<Signal, ShutdownError> {
    signal(kind).map_err(|source| ShutdownError::Listen {
        signal: name,
        source,
    })
}

/// Records the first signal; exits the process on the second.
async fn listen_loop(
    mut interrupt: Signal,
    mut terminate: Signal,
    state: watch::Sender<Option<ShutdownReason>>,
) {
    loop {
        let (reason, signal_number) = tokio::select! {
            Some(()) = interrupt.recv() => (ShutdownReason::Interrupt, 2),
            Some(()) = terminate.recv() => (ShutdownReason::Terminate, 15),
            else => return,
        };
        if !request(&state, reason) {
            tracing::warn!(?reason, "second stop signal: exiting without draining");
            std::process::exit(128 + signal_number);
        }
        tracing::info!(
            ?reason,
            "stopping: draining and committing; send the signal again to exit at once"
        );
    }
}

/// Sets the reason unless one is set already; returns whether it was set now.
fn request(state: &watch::Sender<Option<ShutdownReason>>, reason: ShutdownReason) -> bool {
    state.send_if_modified(|current| {
        let first = current.is_none();
        if first {
            *current = Some(reason);
        }
        first
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn request_wakes_every_signal_handle_once_with_the_first_reason() {
        let shutdown = Shutdown::listen().expect("listen");
        let mut early = shutdown.signal();
        assert_eq!(early.reason(), None);
        let waiter = tokio::spawn(async move { early.requested().await });
        shutdown.request();
        shutdown.request();
        let reason = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(reason, ShutdownReason::Requested);
        let mut late = shutdown.signal();
        assert_eq!(
            late.requested().await,
            ShutdownReason::Requested,
            "a handle made later sees it at once"
        );
    }

    #[tokio::test]
    async fn dropped_shutdown_never_fires() {
        let shutdown = Shutdown::listen().expect("listen");
        let mut signal = shutdown.signal();
        drop(shutdown);
        let waited = tokio::time::timeout(Duration::from_millis(100), signal.requested()).await;
        assert!(
            waited.is_err(),
            "no stop was asked for, so none is reported"
        );
        assert_eq!(signal.reason(), None);
    }
}
