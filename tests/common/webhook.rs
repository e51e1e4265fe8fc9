//! A webhook receiver on 127.0.0.1 for `rules run` tests: it records every request's
//! `Idempotency-Key` header and JSON body, and can be told to answer with an error status or to
//! hang, to exercise retries and dead letters.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub key: String,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Shared {
    deliveries: Mutex<Vec<Delivery>>,
    /// 0 answers 200 at once; any other status is returned as is; 1 means "never answer".
    status: AtomicU16,
}

/// A running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    shared: Arc<Shared>,
    pub url: String,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr: SocketAddr = listener.local_addr().expect("bound address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            shared,
            url: format!("http://{addr}/hook"),
        }
    }

    /// Answer every later request with `status` (e.g. 500).
    pub fn fail_with(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Never answer later requests (the client's timeout fires).
    pub fn hang(&self) {
        self.shared.status.store(1, Ordering::SeqCst);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().expect("not poisoned").clone()
    }

    /// How many times each idempotency key arrived.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for delivery in self.deliveries() {
            *counts.entry(delivery.key).or_default() += 1;
        }
        counts
    }

    /// Waits until `done` holds for the deliveries so far, or panics after `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Delivery]) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.deliveries()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; {} deliveries so far",
                self.deliveries().len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    shared
        .deliveries
        .lock()
        .expect("not poisoned")
        .push(Delivery { key, body });
    match shared.status.load(Ordering::SeqCst) {
        0 => StatusCode::OK,
        1 => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }
        code => StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
