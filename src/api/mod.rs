//! The HTTP API on the API port: health, readiness, Prometheus metrics (and `/api/v2`, plus the Jaeger and
//! Tempo query APIs under `/jaeger` and `/tempo`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use sqlx::PgPool;

use crate::telemetry::{Telemetry, WalGauges};

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// Readiness flags of the parts this process runs.
    pub health: Arc<Health>,
    /// The WAL, when this process ingests.
    pub wal: Option<Arc<wal::Wal>>,
    /// The server's own metrics.
    pub telemetry: Arc<Telemetry>,
    /// The database.
    pub pool: PgPool,
}

impl Default for ApiState {
    fn default() -> Self {
        ApiState {
            health: Arc::default(),
            wal: None,
            telemetry: Arc::default(),
            // Never connects by itself: only handlers that need the database touch it.
            pool: sqlx::postgres::PgPoolOptions::new().connect_lazy_with(sqlx::postgres::PgConnectOptions::new()),
        }
    }
}

/// Readiness of the process.
#[derive(Default)]
pub struct Health {
    /// The schema is migrated and the database was reachable at least once.
    pub schema_ready: AtomicBool,
}

/// The router of the API port: health, readiness and metrics, and the query API under `/api/v2` (with the
/// Jaeger and Tempo APIs of [`crate::compat`]) when `query` is given (an ingest-only process leaves it out).
pub fn router(state: ApiState, query: Option<crate::query::QueryOptions>) -> Router {
    let pool = state.pool.clone();
    let base = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state);
    match query {
        Some(options) => base
            .nest("/api/v2", crate::query::router(pool.clone(), options.clone()))
            .merge(crate::compat::router(pool, options)),
        None => base,
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to ingest: the WAL is open and more than 10% of its budget is free, so load balancers move
/// senders away before exports are refused. An API-only process: the schema is there.
async fn readyz(State(state): State<ApiState>) -> impl IntoResponse {
    match &state.wal {
        Some(wal) => match wal.stats() {
            Ok(s) if s.bytes.saturating_add(s.budget_bytes / 10) < s.budget_bytes => {
                (StatusCode::OK, "ready\n".to_string())
            }
            Ok(s) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: WAL nearly full ({} of {} bytes)\n", s.bytes, s.budget_bytes),
            ),
            Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: WAL: {e}\n")),
        },
        None if state.health.schema_ready.load(Ordering::Acquire) => (StatusCode::OK, "ready\n".to_string()),
        None => (StatusCode::SERVICE_UNAVAILABLE, "not ready: database schema not migrated yet\n".to_string()),
    }
}

async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    let wal = state.wal.as_ref().and_then(|w| w.stats().ok()).map(|s| WalGauges {
        records: s.records,
        bytes: s.disk_bytes,
        oldest_age_secs: s.oldest_age().map_or(0.0, |d| d.as_secs_f64()),
    });
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.telemetry.render(wal))
}
