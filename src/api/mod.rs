//! The HTTP API on the API port: health, readiness, Prometheus metrics (and, later, `/api/v2`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

/// What the API handlers share.
#[derive(Clone, Default)]
pub struct ApiState {
    /// Readiness flags of the parts this process runs.
    pub health: Arc<Health>,
}

/// Readiness of the process: every flag must be up for `/readyz` to answer 200.
#[derive(Default)]
pub struct Health {
    /// The schema is migrated and the database was reachable at least once.
    pub schema_ready: AtomicBool,
}

/// The router of the API port.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<ApiState>) -> impl IntoResponse {
    if state.health.schema_ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: database schema not migrated yet\n".to_string())
    }
}

async fn metrics() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        format!(
            "# HELP ollyscale_build_info Build of this process.\n# TYPE ollyscale_build_info gauge\nollyscale_build_info{{version=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
}
