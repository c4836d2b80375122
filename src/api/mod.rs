//! The HTTP API on the API port: health, readiness, Prometheus metrics (and `/api/v2`, plus the Jaeger and
//! Tempo query APIs under `/jaeger` and `/tempo`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
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

/// Readiness and liveness of the process.
#[derive(Default)]
pub struct Health {
    /// The schema is migrated and the database was reachable at least once.
    pub schema_ready: AtomicBool,
    /// Why the ingest pipeline stopped for good while the server runs on (an error or a panic): the WAL
    /// then only fills, and only a restart recovers, so `/healthz` fails.
    pub pipeline_stopped: OnceLock<String>,
}

/// The router of the API port: health, readiness and metrics, and when `query` is given (an ingest-only
/// process leaves them out) the query API under `/api/v2`, the Jaeger and Tempo APIs of [`crate::compat`] and
/// the web UI at `/`.
pub fn router(state: ApiState, query: Option<crate::query::QueryOptions>) -> Router {
    let pool = state.pool.clone();
    let metrics_route = if query.is_some() { get(metrics_or_ui) } else { get(metrics) };
    let base = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", metrics_route)
        .with_state(state);
    match query {
        Some(options) => {
            // One state, so /api/v2 and the Jaeger and Tempo routes share one dimension cache.
            let shared = crate::query::QueryState::new(pool, options);
            base.nest("/api/v2", crate::query::router_for(shared.clone()))
                .merge(crate::compat::router_for(shared))
                .merge(crate::ui::router())
        }
        None => base,
    }
}

/// Alive: the parts a restart would recover are working. The ingest pipeline has not stopped and the WAL
/// still takes appends. The database is not part of it: restarting cannot bring PostgreSQL back, and the
/// WAL takes exports while it is away.
async fn healthz(State(state): State<ApiState>) -> impl IntoResponse {
    if let Some(why) = state.health.pipeline_stopped.get() {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: the ingest pipeline stopped: {why}\n"));
    }
    if let Some(Err(e)) = state.wal.as_ref().map(|w| w.check_writable()) {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: WAL: {e}\n"));
    }
    (StatusCode::OK, "ok\n".to_string())
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

/// `/metrics` is also the UI's metrics explorer: a browser opening it gets the UI, scrapers the exposition.
async fn metrics_or_ui(state: State<ApiState>, headers: HeaderMap) -> Response {
    if crate::ui::wants_html(&headers) {
        return crate::ui::index(headers).await;
    }
    metrics(state).await.into_response()
}

async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    let wal = state.wal.as_ref().and_then(|w| w.stats().ok()).map(|s| WalGauges {
        records: s.records,
        bytes: s.disk_bytes,
        oldest_age_secs: s.oldest_age().map_or(0.0, |d| d.as_secs_f64()),
    });
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.telemetry.render(wal))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(state: &ApiState, path: &str) -> (StatusCode, String) {
        let resp = router(state.clone(), None).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn healthz_fails_once_the_pipeline_stopped() {
        let state = ApiState::default();
        assert_eq!(get(&state, "/healthz").await, (StatusCode::OK, "ok\n".into()));
        state.health.pipeline_stopped.set("WAL: closed".into()).unwrap();
        let (status, body) = get(&state, "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("ingest pipeline stopped: WAL: closed"), "{body}");
    }

    #[tokio::test]
    async fn healthz_fails_once_the_wal_takes_no_appends() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Arc::new(wal::Wal::open(dir.path(), wal::WalOptions::default()).unwrap());
        let state = ApiState { wal: Some(wal.clone()), ..ApiState::default() };
        assert_eq!(get(&state, "/healthz").await.0, StatusCode::OK);
        wal.close();
        let (status, body) = get(&state, "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("WAL"), "{body}");
    }
}
