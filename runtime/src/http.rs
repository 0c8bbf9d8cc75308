//! The operator's HTTP endpoint (feature `http`): `/metrics` (Prometheus text format),
//! `/healthz` (liveness) and `/readyz` (readiness), served by axum on `PMP_METRICS_ADDR`.
//!
//! [`serve`] installs the Prometheus recorder as the process's `metrics` recorder (once; a
//! second server shares it) and answers:
//!
//! - `GET /metrics`: every `pmp_*` metric (see [`observe::metrics`](crate::observe::metrics));
//!   `pmp_consumer_handler_duration_seconds` as a histogram with buckets from 1 ms to 30 s.
//! - `GET /healthz`: 200 when [`Health::liveness`] passes, else 503; the body names each
//!   component and its state.
//! - `GET /readyz`: the same for [`Health::readiness`].
//!
//! The server runs on the caller's Tokio runtime until [`MetricsServer::shutdown`] or drop.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::oneshot;

use crate::health::{Health, Report};
use crate::observe::metrics::CONSUMER_HANDLER_DURATION;

/// The environment variable naming the listen address, e.g. `0.0.0.0:9464`.
pub const METRICS_ADDR_ENV: &str = "PMP_METRICS_ADDR";

/// Handler-duration buckets, seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// `PMP_METRICS_ADDR` is not a socket address.
    #[error("{METRICS_ADDR_ENV}={value:?} is not an address like 0.0.0.0:9464")]
    BadAddress {
        /// The value found.
        value: String,
    },
    /// Binding the address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Another `metrics` recorder is installed already.
    #[error("cannot install the Prometheus recorder: {0}")]
    Recorder(String),
}

/// A running server; stops on [`shutdown`](Self::shutdown) or drop.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MetricsServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use.
pub fn prometheus() -> Result<PrometheusHandle, HttpError> {
    if let Some(h) = PROMETHEUS.get() {
        return Ok(h.clone());
    }
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(CONSUMER_HANDLER_DURATION.to_owned()),
            DURATION_BUCKETS,
        )
        .map_err(|e| HttpError::Recorder(e.to_string()))?;
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    // Two racing first calls: the loser's set fails; then the winner's handle is used.
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            let _ = PROMETHEUS.set(handle);
        }
        Err(e) => {
            if PROMETHEUS.get().is_none() {
                return Err(HttpError::Recorder(e.to_string()));
            }
        }
    }
    PROMETHEUS
        .get()
        .cloned()
        .ok_or_else(|| HttpError::Recorder("recorder not installed".into()))
}

/// Serve on the address in `PMP_METRICS_ADDR`; `Ok(None)` when it is unset or empty.
pub async fn serve_from_env(health: Health) -> Result<Option<MetricsServer>, HttpError> {
    let value = match std::env::var(METRICS_ADDR_ENV) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => return Ok(None),
    };
    let addr = value
        .trim()
        .parse()
        .map_err(|_| HttpError::BadAddress { value })?;
    serve(addr, health).await.map(Some)
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `addr` (port 0 picks a free one).
pub async fn serve(addr: SocketAddr, health: Health) -> Result<MetricsServer, HttpError> {
    let prometheus = prometheus()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| HttpError::Bind { addr, source })?;
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route(
            "/healthz",
            get(|State(s): State<AppState>| async move { report(s.health.liveness()) }),
        )
        .route(
            "/readyz",
            get(|State(s): State<AppState>| async move { report(s.health.readiness()) }),
        )
        .with_state(AppState { health, prometheus });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    Ok(MetricsServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

#[derive(Clone)]
struct AppState {
    health: Health,
    prometheus: PrometheusHandle,
}

async fn metrics_text(State(s): State<AppState>) -> impl IntoResponse {
    s.prometheus.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.prometheus.render(),
    )
}

fn report(r: Report) -> impl IntoResponse {
    let status = if r.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, r.to_string())
}
