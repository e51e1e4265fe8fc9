//! The demo's webhook receiver: an HTTP server on 127.0.0.1 (a free port) that answers every POST
//! with 200 and hands the delivery on as an [`Alert`] through a bounded channel, so a slow reader
//! slows the webhook down instead of growing a queue. It does not print; the channel's reader does.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{Alert, DemoError};

/// The path the demo gives the rulebooks; every path is accepted.
const PATH: &str = "/alerts";
const ADDRESS: &str = "127.0.0.1:0";

pub struct Receiver {
    listener: TcpListener,
    address: SocketAddr,
    alerts: mpsc::Sender<Alert>,
}

impl Receiver {
    /// Listens on a free port of 127.0.0.1.
    pub async fn bind(alerts: mpsc::Sender<Alert>) -> Result<Self, DemoError> {
        let bind_error = |source| DemoError::Bind {
            address: ADDRESS.to_owned(),
            source,
        };
        let listener = TcpListener::bind(ADDRESS).await.map_err(bind_error)?;
        let address = listener.local_addr().map_err(bind_error)?;
        Ok(Self {
            listener,
            address,
            alerts,
        })
    }

    /// `http://127.0.0.1:PORT/alerts`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.address)
    }

    /// Serves until `shutdown` resolves, then finishes the requests in progress.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), DemoError> {
        let router = axum::Router::new()
            .fallback(receive)
            .with_state(self.alerts);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(DemoError::Serve)
    }
}

async fn receive(
    State(alerts): State<mpsc::Sender<Alert>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    match alerts.send(Alert::from_webhook(key, &body)).await {
        Ok(()) => StatusCode::OK,
        // The demo is stopping and nobody reads any more.
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}
