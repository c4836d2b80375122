//! Services: the service list with RED metrics, a service's operations, and the service map.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::QueryState;
use super::error::ApiError;
use super::params::{self, Params, SPAN_KINDS, Window};

/// Parameters of the services and service map endpoints.
pub const PARAMS: &[&str] = &["from", "to", "namespace"];
/// Parameters of the operations endpoint.
pub const OPERATION_PARAMS: &[&str] = &["from", "to"];
/// Default window when none is given: the last hour.
const DEFAULT_WINDOW: u64 = 3_600_000_000_000;
/// How long before the window a parent span may start and still pair with a child inside it.
const PARENT_LOOKBACK: u64 = 3_600_000_000_000;

/// The window of these endpoints: optional, default the last hour.
fn window(p: &Params, st: &QueryState) -> Result<Window, ApiError> {
    match params::window(p, false, st.options.max_window_nanos)? {
        Some(w) => Ok(w),
        None => {
            let to = crate::time::now_unix_nanos();
            Ok(Window { from: to.saturating_sub(DEFAULT_WINDOW), to })
        }
    }
}

/// `request` spans: where work enters a service (SERVER, CONSUMER, or a trace root).
const ENTRY: &str = "(s.kind IN (2, 5) OR s.parent_span_id IS NULL)";

fn percentiles(row: &PgRow, col: &str) -> Result<[Value; 3], ApiError> {
    let p: Option<Vec<f64>> = row.try_get(col)?;
    let at = |i: usize| p.as_ref().and_then(|v| v.get(i)).map(|x| Value::from(x.round() as i64)).unwrap_or(Value::Null);
    Ok([at(0), at(1), at(2)])
}

fn window_json(w: &Window) -> Value {
    json!({"from_unix_nano": w.from.to_string(), "to_unix_nano": w.to.to_string()})
}

/// `GET /services`: every service seen in the window, with request rate, error rate and latency percentiles
/// of its entry spans (SERVER, CONSUMER or root).
pub async fn list(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(PARAMS)?;
    let w = window(&p, &st)?;
    let namespace = p.one("namespace")?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "WITH stats AS (SELECT r.service_name, count(*) AS spans, \
         count(*) FILTER (WHERE {ENTRY}) AS requests, \
         count(*) FILTER (WHERE {ENTRY} AND s.status_code = 2) AS errors, \
         percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY s.duration_ns) FILTER (WHERE {ENTRY}) AS p \
         FROM otel_spans_fact s JOIN otel_resources_dim r ON r.resource_id = s.resource_id \
         WHERE r.service_name IS NOT NULL AND s.start_time >= "
    ));
    qb.push_bind(w.from_ts());
    qb.push(" AND s.start_time < ").push_bind(w.to_ts());
    if let Some(n) = namespace {
        qb.push(" AND r.service_namespace = ").push_bind(n.to_owned());
    }
    qb.push(
        " GROUP BY r.service_name), seen AS (SELECT DISTINCT service_name FROM otel_resources_dim \
         WHERE service_name IS NOT NULL AND last_seen >= ",
    );
    qb.push_bind(w.from_ts());
    if let Some(n) = namespace {
        qb.push(" AND service_namespace = ").push_bind(n.to_owned());
    }
    qb.push(
        ") SELECT service_name, COALESCE(spans, 0) AS spans, COALESCE(requests, 0) AS requests, \
         COALESCE(errors, 0) AS errors, p FROM seen FULL JOIN stats USING (service_name) ORDER BY service_name",
    );
    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let secs = w.width() as f64 / 1e9;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let requests: i64 = row.try_get("requests")?;
        let errors: i64 = row.try_get("errors")?;
        let [p50, p95, p99] = percentiles(row, "p")?;
        out.push(json!({
            "name": row.try_get::<String, _>("service_name")?,
            "span_count": row.try_get::<i64, _>("spans")?,
            "request_count": requests,
            "error_count": errors,
            "request_rate": requests as f64 / secs,
            "error_rate": if requests > 0 { errors as f64 / requests as f64 } else { 0.0 },
            "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
        }));
    }
    Ok(Json(json!({"window": window_json(&w), "services": out})))
}

/// `GET /services/{service}/operations`: the service's span names and kinds with count, errors and latency.
pub async fn operations(
    State(st): State<QueryState>,
    Path(service): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.allow(OPERATION_PARAMS)?;
    params::text("service", &service)?;
    let w = window(&p, &st)?;
    let mut tx = st.read_tx().await?;
    let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM otel_resources_dim WHERE service_name = $1 LIMIT 1")
        .bind(&service)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(ApiError::NotFound(format!("service {service:?} not found")));
    }
    let rows = sqlx::query(
        "SELECT s.name, s.kind, count(*) AS spans, count(*) FILTER (WHERE s.status_code = 2) AS errors, \
         percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY s.duration_ns) AS p \
         FROM otel_spans_fact s WHERE s.resource_id IN \
         (SELECT resource_id FROM otel_resources_dim WHERE service_name = $1) \
         AND s.start_time >= $2 AND s.start_time < $3 GROUP BY s.name, s.kind ORDER BY count(*) DESC, s.name, s.kind",
    )
    .bind(&service)
    .bind(w.from_ts())
    .bind(w.to_ts())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let secs = w.width() as f64 / 1e9;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let count: i64 = row.try_get("spans")?;
        let errors: i64 = row.try_get("errors")?;
        let kind: i16 = row.try_get("kind")?;
        let [p50, p95, p99] = percentiles(row, "p")?;
        out.push(json!({
            "name": row.try_get::<String, _>("name")?,
            "kind": SPAN_KINDS.get(kind as usize).copied().unwrap_or("UNSPECIFIED"),
            "count": count,
            "error_count": errors,
            "rate": count as f64 / secs,
            "error_rate": if count > 0 { errors as f64 / count as f64 } else { 0.0 },
            "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
        }));
    }
    Ok(Json(json!({"service": service, "window": window_json(&w), "operations": out})))
}

/// SQL text of a span's string attribute `key` (promoted or unpromoted), NULL when absent.
fn push_span_attr_text(qb: &mut QueryBuilder<Postgres>, key: &str) {
    qb.push(
        "COALESCE((SELECT a.value FROM otel_span_attrs_string a WHERE a.span_row_id = s.span_row_id \
         AND a.start_time = s.start_time AND a.key_id = (SELECT key_id FROM attribute_keys WHERE key = ",
    );
    qb.push_bind(key.to_owned());
    qb.push(")), (SELECT o.attributes ->> ");
    qb.push_bind(key.to_owned());
    qb.push(
        " FROM otel_span_attrs_other o WHERE o.span_row_id = s.span_row_id AND o.start_time = s.start_time \
         AND jsonb_typeof(o.attributes -> ",
    );
    qb.push_bind(key.to_owned());
    qb.push(") = 'string'))");
}

#[derive(Default)]
struct Edge {
    calls: i64,
    errors: i64,
    p: [Value; 3],
}

/// `GET /service-map`: service-to-service edges from parent/child spans in different services, and edges
/// from services to databases (`db.system.name` / `db.system`) and messaging systems (`messaging.system`)
/// from their CLIENT and PRODUCER spans; calls, errors and latency of the callee (or client) span.
pub async fn map(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(PARAMS)?;
    let w = window(&p, &st)?;
    let namespace = p.one("namespace")?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT rp.service_name AS source, rc.service_name AS target, count(*) AS calls, \
         count(*) FILTER (WHERE s.status_code = 2) AS errors, \
         percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY s.duration_ns) AS p \
         FROM otel_spans_fact s JOIN otel_spans_fact ps ON ps.trace_id = s.trace_id AND ps.span_id = s.parent_span_id \
         JOIN otel_resources_dim rc ON rc.resource_id = s.resource_id \
         JOIN otel_resources_dim rp ON rp.resource_id = ps.resource_id \
         WHERE rc.service_name IS NOT NULL AND rp.service_name IS NOT NULL \
         AND rc.service_name <> rp.service_name AND s.start_time >= ",
    );
    qb.push_bind(w.from_ts());
    qb.push(" AND s.start_time < ").push_bind(w.to_ts());
    qb.push(" AND ps.start_time >= ").push_bind(params::nanos_floor_ts(w.from.saturating_sub(PARENT_LOOKBACK)));
    qb.push(" AND ps.start_time < ").push_bind(w.to_ts());
    if let Some(n) = namespace {
        qb.push(" AND (rc.service_namespace = ").push_bind(n.to_owned());
        qb.push(" OR rp.service_namespace = ").push_bind(n.to_owned());
        qb.push(")");
    }
    qb.push(" GROUP BY 1, 2");

    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    let mut edges: BTreeMap<(String, String, &'static str), Edge> = BTreeMap::new();
    for row in &rows {
        edges.insert(
            (row.try_get("source")?, row.try_get("target")?, "service"),
            Edge { calls: row.try_get("calls")?, errors: row.try_get("errors")?, p: percentiles(row, "p")? },
        );
    }

    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT source, system_type, system, count(*) AS calls, count(*) FILTER (WHERE status_code = 2) AS errors, \
         percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ns) AS p FROM (\
         SELECT r.service_name AS source, s.status_code, s.duration_ns, \
         CASE WHEN s.kind = 3 THEN ",
    );
    qb.push("COALESCE(");
    push_span_attr_text(&mut qb, "db.system.name");
    qb.push(", ");
    push_span_attr_text(&mut qb, "db.system");
    qb.push(") END AS db, ");
    push_span_attr_text(&mut qb, "messaging.system");
    qb.push(
        " AS mq FROM otel_spans_fact s JOIN otel_resources_dim r ON r.resource_id = s.resource_id \
         WHERE r.service_name IS NOT NULL AND s.kind IN (3, 4) AND s.start_time >= ",
    );
    qb.push_bind(w.from_ts());
    qb.push(" AND s.start_time < ").push_bind(w.to_ts());
    if let Some(n) = namespace {
        qb.push(" AND r.service_namespace = ").push_bind(n.to_owned());
    }
    qb.push(
        ") c CROSS JOIN LATERAL (VALUES ('database', c.db), ('messaging', c.mq)) AS v(system_type, system) \
         WHERE system IS NOT NULL GROUP BY 1, 2, 3",
    );
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    for row in &rows {
        let ty: String = row.try_get("system_type")?;
        let ty = if ty == "database" { "database" } else { "messaging" };
        edges.insert(
            (row.try_get("source")?, row.try_get("system")?, ty),
            Edge { calls: row.try_get("calls")?, errors: row.try_get("errors")?, p: percentiles(row, "p")? },
        );
    }

    let mut nodes: BTreeMap<(String, &'static str), ()> = BTreeMap::new();
    let mut out = Vec::with_capacity(edges.len());
    for ((source, target, ty), e) in edges {
        nodes.insert((source.clone(), "service"), ());
        nodes.insert((target.clone(), ty), ());
        let [p50, p95, p99] = e.p;
        out.push(json!({
            "source": source, "target": target, "target_type": ty,
            "call_count": e.calls, "error_count": e.errors,
            "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
        }));
    }
    let nodes: Vec<Value> = nodes.into_keys().map(|(name, ty)| json!({"name": name, "type": ty})).collect();
    Ok(Json(json!({"window": window_json(&w), "nodes": nodes, "edges": out})))
}
