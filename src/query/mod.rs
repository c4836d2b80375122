//! The query API under `/api/v2`: logs, traces, metrics, services, the service map and attributes, as JSON,
//! plus the OpenAPI document of all of it (`/api/v2/openapi.json`, built from the same route table as the
//! router). Read-only transactions with a statement timeout; every value bound, never spliced into SQL.
//!
//! Behaviour shared by the endpoints:
//! - Time windows: `from` / `to`, RFC 3339 or unix nanoseconds ([`crate::time::parse_time`]); required for
//!   searches, at most [`QueryOptions::max_window_nanos`] wide; `to` defaults to now. Service-level
//!   endpoints default to the last hour.
//! - Attribute filters: `attr` (record level) and `resource_attr`, `key op value` with op eq, ne (present with
//!   another value), gt, lt, gte, lte (numerically when the value is a number), contains, matches and
//!   not_matches (a regular expression matching the whole string value, [`pattern`]), exists; repeatable and
//!   ANDed. Each reads every home of an attribute ([`record_attributes`]), matching the value against every
//!   type it parses as.
//! - Paging: `limit` (default and maximum in [`QueryOptions`]) and an opaque keyset `cursor` ([`cursor`]);
//!   a page never repeats a row of an earlier one, also while data arrives.
//! - Errors ([`error`]): `{"error": {"code", "message"}}`; 400 names the parameter, 404 unknown id / service /
//!   metric, 401 without the configured bearer token, 503 while the database is unreachable (the pool
//!   reconnects by itself) or when a query exceeds the statement timeout.
//!
//! Modules: [`params`] (query parameters), [`cursor`] (keyset cursors), [`error`] (the one error shape),
//! [`record_attributes`] (attribute filters and fetching of stored records), [`attribute_keys`] (the
//! `/attributes` key and value listings), [`aggregate`] (metric bucket math, no database), one
//! module per resource, [`openapi`] (route table and document).
//!
//! Known costs: the service list, operations and service map merge the span rollups' rows of their window
//! (minute rows, and ten-minute slot rows once compacted); trace search reads about as many spans as the
//! page's traces have, whatever the window, except that an `eq` span attribute filter reads every matching
//! attribute row of the window, and every `_other` row of the window when its key has ever been stored in
//! `_other` (there is no index on unpromoted keys; `attribute_keys_in_other` tells); a metric series reads
//! every data point of the window and one pass over their attribute rows (series have no id of their own).

pub mod aggregate;
pub mod attribute_keys;
pub mod cursor;
pub mod dimension_cache;
pub mod error;
pub mod logs;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod pattern;
pub mod record_attributes;
pub mod services;
pub mod traces;

use crate::auth::BearerToken;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use sqlx::{PgPool, Postgres, Transaction};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::time::PgTime;
use error::ApiError;

/// Settings of the query API (the server's config fills them; `Default` is what tests and `serve` start from).
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub auth_token: Option<String>,
    /// Origins allowed by CORS (`*` for any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Widest time window a search may ask for, in nanoseconds.
    pub max_window_nanos: u64,
    /// Page size when `limit` is not given.
    pub default_limit: u32,
    /// Largest `limit` accepted.
    pub max_limit: u32,
    /// PostgreSQL statement_timeout of every API query.
    pub statement_timeout: Duration,
    /// How long to wait for a database connection before answering 503.
    pub acquire_timeout: Duration,
    /// Most data points a series query may read (beyond it: 400 asking for a narrower query).
    pub max_series_points: u32,
    /// Most matching spans the trace search reads per step of its newest-first scan (steps start smaller).
    pub trace_scan_chunk: u32,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            auth_token: None,
            cors_origins: Vec::new(),
            max_window_nanos: 7 * 24 * 3_600_000_000_000,
            default_limit: 100,
            max_limit: 1000,
            statement_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(3),
            max_series_points: 500_000,
            trace_scan_chunk: 2000,
        }
    }
}

/// What the query handlers share.
#[derive(Clone)]
pub struct QueryState {
    /// The database.
    pub pool: PgPool,
    /// The settings.
    pub options: Arc<QueryOptions>,
    /// Resources and scopes read so far.
    pub dims: Arc<dimension_cache::DimensionCache>,
}

impl QueryState {
    /// The state of handlers reading `pool`, with an empty dimension cache.
    pub fn new(pool: PgPool, options: QueryOptions) -> QueryState {
        QueryState { pool, options: Arc::new(options), dims: Arc::default() }
    }

    /// A read-only transaction for searches: statements planned with each request's values.
    pub async fn read_tx(&self) -> Result<Transaction<'static, Postgres>, ApiError> {
        self.begin(Planning::PerRequest).await
    }

    /// A read-only transaction for lookups by id: statements planned once per connection.
    pub async fn lookup_tx(&self) -> Result<Transaction<'static, Postgres>, ApiError> {
        self.begin(Planning::Cached).await
    }

    /// A read-only transaction with the statement timeout and the planning set (SET LOCAL semantics: they end
    /// with the transaction). Connection problems are 503s; the pool reconnects by itself when the database
    /// is back.
    async fn begin(&self, planning: Planning) -> Result<Transaction<'static, Postgres>, ApiError> {
        let ms = self.options.statement_timeout.as_millis().max(1);
        // One round trip for the transaction and its settings (the simple query protocol takes several
        // statements); every value is a number or a fixed word, none comes from a request. No JIT: the API's
        // statements are short, and compiling them took longer than running them (50 ms of a 0.5 s attribute
        // search in EXPLAIN ANALYZE; JIT starts above a cost that big windows pass).
        let begin = format!(
            "BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}; SET LOCAL jit = off; \
             SET LOCAL plan_cache_mode = {}",
            planning.plan_cache_mode()
        );
        tokio::time::timeout(self.options.acquire_timeout, self.pool.begin_with(sqlx::AssertSqlSafe(begin)))
            .await
            .map_err(|_| ApiError::Unavailable("timed out waiting for a database connection".into()))?
            .map_err(ApiError::unavailable)
    }
}

/// How PostgreSQL plans the statements of a read transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// A plan for each execution, with its values. After five runs of a prepared statement PostgreSQL may
    /// switch to a generic plan, which cannot see how common a value is or which partitions a window needs
    /// (the first-span probe of trace search took 150 ms with one against 3 ms with its values; a metric
    /// series' was ~25% slower). For searches.
    PerRequest,
    /// One generic plan per connection and statement, kept until the tables' statistics change. For lookups
    /// by id, whose best path never depends on the value: planning a trace's dozen statements took longer
    /// than running them, and a generic plan prunes the time partitions when it starts.
    Cached,
}

impl Planning {
    /// The `plan_cache_mode` setting.
    fn plan_cache_mode(self) -> &'static str {
        match self {
            Planning::PerRequest => "force_custom_plan",
            Planning::Cached => "force_generic_plan",
        }
    }
}

/// The `/api/v2` router (paths relative to the mount point): nest it with
/// `.nest("/api/v2", crate::query::router(pool, options))`.
pub fn router(pool: PgPool, options: QueryOptions) -> Router {
    router_for(QueryState::new(pool, options))
}

/// [`router`] over a given state, so that the compatibility routes can share it (and its dimension cache).
pub fn router_for(state: QueryState) -> Router {
    let cors = cors_layer(&state.options.cors_origins);
    let mut r = Router::new();
    for route in openapi::ROUTES {
        r = r.route(route.path, (route.handler)());
    }
    let r = r.fallback(not_found).route_layer(middleware::from_fn_with_state(state.clone(), auth)).with_state(state);
    match cors {
        Some(c) => r.layer(c),
        None => r,
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; see /api/v2/openapi.json".into())
}

/// The CORS layer for `origins` (none when empty).
pub(crate) fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
    )
}

/// The bearer-token check of every query endpoint (a route layer).
pub(crate) async fn auth(State(state): State<QueryState>, req: Request, next: Next) -> Response {
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !BearerToken::new(state.options.auth_token.as_deref()).allows(given) {
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
}

/// Stored time columns as API JSON: RFC 3339 with nanoseconds, plus the exact unix nanoseconds as a string
/// (JSON numbers lose precision beyond 2^53 in most clients).
pub(crate) fn time_fields(
    prefix: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
    fraction: i16,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Option<u64>, ApiError> {
    let nanos = at
        .map(|t| PgTime::from_datetime_and_fraction(t, fraction))
        .transpose()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out.insert(prefix.to_string(), nanos.map(|t| t.datetime().to_rfc3339_opts(SecondsFormat::Nanos, true)).into());
    out.insert(format!("{prefix}_unix_nano"), nanos.map(|t| t.unix_nanos().to_string()).into());
    Ok(nanos.map(|t| t.unix_nanos()))
}

/// The unix nanoseconds of a stored time (0 for NULL, OTLP's "unset").
pub(crate) fn unix_nanos(at: Option<chrono::DateTime<chrono::Utc>>, fraction: i16) -> Result<u64, ApiError> {
    at.map(|t| {
        PgTime::from_datetime_and_fraction(t, fraction)
            .map(|p| p.unix_nanos())
            .map_err(|e| ApiError::internal(e.to_string()))
    })
    .transpose()
    .map(|n| n.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API router mounts this one under /api/v2; both routers' paths answer.
    #[tokio::test]
    async fn nests_under_api_v2_next_to_the_api_router() {
        use axum::body::Body;
        use axum::http::{Request, StatusCode};
        use tower::ServiceExt;

        let app = crate::api::router(crate::api::ApiState::default(), Some(QueryOptions::default()));
        let call = |uri: &'static str| {
            let app = app.clone();
            async move { app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap() }
        };
        assert_eq!(call("/healthz").await.status(), StatusCode::OK);
        let doc = call("/api/v2/openapi.json").await;
        assert_eq!(doc.status(), StatusCode::OK);
        let body = axum::body::to_bytes(doc.into_body(), 1 << 22).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["servers"][0]["url"], "/api/v2");
        let missing = call("/api/v2/nope").await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(missing.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "not_found");
    }
}
