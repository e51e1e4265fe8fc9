//! The operations endpoint of `rules run` and `publish`: `--metrics-addr ADDR` serves `/metrics`
//! (Prometheus text), `/healthz` (200 while the process serves) and `/readyz` (200 when every
//! [`Readiness`] check passes, else 503 with a JSON body naming the failing checks). The server runs
//! in one tracked task that [`Server::stop`] ends; the command decides when (after its drain, so
//! that the last numbers stay scrapeable while it finishes). What is measured and what "ready"
//! means is decided elsewhere.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::TelemetryError;
use super::metrics::Metrics;
use super::readiness::Readiness;

/// How long in-flight scrapes may take once the server is told to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// The `--metrics-addr` flag shared by `rules run` and `publish`.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Operations")]
pub struct MetricsArgs {
    /// Serve Prometheus /metrics, /healthz and /readyz on ADDR (e.g. 127.0.0.1:9464); off without it.
    #[arg(long, env = "SEMAPHORE_METRICS_ADDR", value_name = "ADDR")]
    pub metrics_addr: Option<String>,
}

/// The running endpoint.
pub struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    readiness: Readiness,
}

impl MetricsArgs {
    /// Installs the recorder and starts serving, or does nothing without `--metrics-addr`. Call
    /// inside the runtime, before the work that records metrics starts.
    pub async fn start(&self, readiness: &Readiness) -> Result<Option<Server>, TelemetryError> {
        let Some(addr) = &self.metrics_addr else {
            return Ok(None);
        };
        let listener =
            TcpListener::bind(addr.as_str())
                .await
                .map_err(|source| TelemetryError::Listen {
                    addr: addr.clone(),
                    source,
                })?;
        let metrics = Metrics::install()?;
        Server::spawn(listener, metrics, readiness.clone()).map(Some)
    }
}

impl Server {
    fn spawn(
        listener: TcpListener,
        metrics: Metrics,
        readiness: Readiness,
    ) -> Result<Server, TelemetryError> {
        let addr = listener
            .local_addr()
            .map_err(|source| TelemetryError::Listen {
                addr: "the metrics address".to_owned(),
                source,
            })?;
        let app = Router::new()
            .route("/metrics", get(render_metrics))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(ready))
            .with_state(AppState { metrics, readiness });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
                // A dropped sender means the command is gone: stop too.
                let _ = stopped.await;
            });
            if let Err(err) = serving.await {
                tracing::warn!(%err, "the metrics endpoint stopped");
            }
        });
        tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
        Ok(Server { addr, stop, task })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight scrapes finish (briefly) and ends the task.
    pub async fn stop(self) {
        let Server { stop, mut task, .. } = self;
        let _ = stop.send(());
        if tokio::time::timeout(STOP_TIMEOUT, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn render_metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    let report = state.readiness.report();
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report.to_json())).into_response()
}
