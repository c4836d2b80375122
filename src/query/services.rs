//! Services: the service list with RED metrics, a service's operations, and the service map, read from the
//! span rollups the writer keeps (migrations/0009, normalize::rollup): a window covers every minute it touches,
//! and every ten-minute slot it touches where compaction has folded the minutes into slot rows
//! (migrations/0010, write::compact); rates are over the time covered. Latency percentiles are histogram
//! estimates within 4.5% of the exact nearest-rank value.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::QueryState;
use super::error::ApiError;
use super::params::{self, Params, Window};
use crate::latency::Histogram;
use crate::normalize::rollup::{Calls, cut, minute, slot};
use crate::schema::enums::SPAN_KIND;

/// Parameters of the services and service map endpoints.
pub const PARAMS: &[&str] = &["from", "to", "namespace"];
/// Parameters of the operations endpoint.
pub const OPERATION_PARAMS: &[&str] = &["from", "to"];
/// Parameters of a service's time series.
pub const SERIES_PARAMS: &[&str] = &["from", "to", "step"];
/// One minute, the rollups' finest time, in nanoseconds.
const MINUTE: u64 = 60_000_000_000;
/// Default window when none is given: the last hour.
const DEFAULT_WINDOW: u64 = 3_600_000_000_000;

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

/// p50, p95 and p99 of a histogram, `null` when it is empty.
fn percentiles(h: &Histogram) -> [Value; 3] {
    [0.5, 0.95, 0.99].map(|q| h.quantile(q).map_or(Value::Null, Value::from))
}

/// The rollup rows a window covers, as ` AND ...` conditions on `bucket` and `minutes`: the minute rows of every
/// minute it touches, and the slot rows of every slot it touches.
fn push_buckets(qb: &mut QueryBuilder<Postgres>, w: &Window) {
    qb.push(" AND bucket >= ").push_bind(params::nanos_floor_ts(slot(w.from)));
    qb.push(" AND bucket < ").push_bind(w.to_ts());
    qb.push(" AND (minutes > 1 OR bucket >= ").push_bind(params::nanos_floor_ts(minute(w.from))).push(")");
}

/// Where the covered time starts: the window's start, or the bucket of a slot row that starts before it.
fn covered_from(w: &Window, rows: &[PgRow]) -> Result<u64, ApiError> {
    let mut from = w.from;
    for row in rows {
        if row.try_get::<i16, _>("minutes")? == 1 {
            continue;
        }
        from = from.min(super::unix_nanos(row.try_get("bucket")?, 0)?);
    }
    Ok(from)
}

/// Seconds the rows cover, for rates.
fn covered_secs(w: &Window, from: u64) -> f64 {
    w.to.saturating_sub(from).max(1) as f64 / 1e9
}

fn window_json(w: &Window, covered_from: u64) -> Value {
    json!({
        "from_unix_nano": w.from.to_string(),
        "to_unix_nano": w.to.to_string(),
        "covered_from_unix_nano": covered_from.to_string(),
    })
}

/// `GET /services`: every service seen in the window, with request rate, error rate and latency percentiles
/// of its entry spans (SERVER, CONSUMER or root).
pub async fn list(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(PARAMS)?;
    let w = window(&p, &st)?;
    let namespace = p.one("namespace")?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT bucket, minutes, service_name, span_count, request_count, error_count, latency, latency_min_ns, \
         latency_max_ns FROM otel_service_rollups WHERE TRUE",
    );
    push_buckets(&mut qb, &w);
    if let Some(n) = namespace {
        qb.push(" AND service_namespace = ").push_bind(n.to_owned());
    }
    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    // Services seen since the window's start but idle in it are listed with zeros.
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT DISTINCT service_name FROM otel_resources_dim WHERE service_name IS NOT NULL AND last_seen >= ",
    );
    qb.push_bind(w.from_ts());
    if let Some(n) = namespace {
        qb.push(" AND service_namespace = ").push_bind(n.to_owned());
    }
    let seen: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
    tx.commit().await?;

    #[derive(Default)]
    struct Stats {
        spans: i64,
        requests: i64,
        errors: i64,
        latency: Histogram,
    }
    let mut services: BTreeMap<String, Stats> = seen.into_iter().map(|s| (cut(&s), Stats::default())).collect();
    for row in &rows {
        let s = services.entry(row.try_get("service_name")?).or_default();
        s.spans += row.try_get::<i64, _>("span_count")?;
        s.requests += row.try_get::<i64, _>("request_count")?;
        s.errors += row.try_get::<i64, _>("error_count")?;
        s.latency.merge_row(row)?;
    }
    let covered = covered_from(&w, &rows)?;
    let secs = covered_secs(&w, covered);
    let mut out = Vec::with_capacity(services.len());
    for (name, s) in services {
        let [p50, p95, p99] = percentiles(&s.latency);
        out.push(json!({
            "name": name,
            "span_count": s.spans,
            "request_count": s.requests,
            "error_count": s.errors,
            "request_rate": s.requests as f64 / secs,
            "error_rate": if s.requests > 0 { s.errors as f64 / s.requests as f64 } else { 0.0 },
            "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
        }));
    }
    Ok(Json(json!({"window": window_json(&w, covered), "services": out})))
}

/// 404 unless some resource ever had `service` as its name.
async fn known_service(tx: &mut sqlx::Transaction<'static, Postgres>, service: &str) -> Result<(), ApiError> {
    let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM otel_resources_dim WHERE service_name = $1 LIMIT 1")
        .bind(service)
        .fetch_optional(&mut **tx)
        .await?;
    match known {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("service {service:?} not found"))),
    }
}

/// `GET /services/{service}/series`: the service's requests, request rate, errors and latency percentiles per
/// time bucket (`step`, whole minutes, default about 60 buckets). A ten-minute slot row that compaction made
/// counts in the bucket where the slot starts, so steps under ten minutes show compacted time in bursts.
pub async fn series(
    State(st): State<QueryState>,
    Path(service): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.allow(SERIES_PARAMS)?;
    params::text("service", &service)?;
    let w = window(&p, &st)?;
    let step = params::step(&p, &w, MINUTE, MINUTE)?;
    let mut tx = st.read_tx().await?;
    known_service(&mut tx, &service).await?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT bucket, minutes, request_count, error_count, latency, latency_min_ns, latency_max_ns \
         FROM otel_service_rollups WHERE service_name = ",
    );
    qb.push_bind(cut(&service));
    push_buckets(&mut qb, &w);
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let n = w.width().div_ceil(step) as usize;
    let mut buckets: Vec<Calls> = (0..n).map(|_| Calls::default()).collect();
    for row in &rows {
        let at = super::unix_nanos(row.try_get("bucket")?, 0)?;
        // Rows starting before the window (the slot or minute it begins in) count in its first bucket.
        let i = ((at.saturating_sub(w.from)) / step) as usize;
        let Some(b) = buckets.get_mut(i.min(n.saturating_sub(1))) else { continue };
        b.count += row.try_get::<i64, _>("request_count")?;
        b.errors += row.try_get::<i64, _>("error_count")?;
        b.latency.merge_row(row)?;
    }
    let secs = step as f64 / 1e9;
    let points: Vec<Value> = buckets
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let [p50, p95, p99] = percentiles(&c.latency);
            json!({
                "start_unix_nano": (w.from + i as u64 * step).to_string(),
                "request_count": c.count,
                "request_rate": c.count as f64 / secs,
                "error_count": c.errors,
                "error_rate": if c.count > 0 { c.errors as f64 / c.count as f64 } else { 0.0 },
                "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
            })
        })
        .collect();
    let covered = covered_from(&w, &rows)?;
    Ok(Json(json!({"service": service, "step_ns": step, "window": window_json(&w, covered), "points": points})))
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
    known_service(&mut tx, &service).await?;
    let rows = operation_rows(&mut tx, &[cut(&service)], None, &w).await?;
    tx.commit().await?;
    let mut ops: BTreeMap<(String, i16), Calls> = BTreeMap::new();
    for row in &rows {
        let op = ops.entry((row.try_get("span_name")?, row.try_get("span_kind")?)).or_default();
        op.count += row.try_get::<i64, _>("span_count")?;
        op.errors += row.try_get::<i64, _>("error_count")?;
        op.latency.merge_row(row)?;
    }
    let mut ops: Vec<((String, i16), Calls)> = ops.into_iter().collect();
    // Busiest first; the map's order (name, kind) breaks ties.
    ops.sort_by_key(|(_, c)| std::cmp::Reverse(c.count));
    let covered = covered_from(&w, &rows)?;
    let secs = covered_secs(&w, covered);
    let mut out = Vec::with_capacity(ops.len());
    for ((name, kind), c) in ops {
        let [p50, p95, p99] = percentiles(&c.latency);
        out.push(json!({
            "name": name,
            "kind": SPAN_KIND.short_name(kind.into()).unwrap_or("UNSPECIFIED"),
            "count": c.count,
            "error_count": c.errors,
            "rate": c.count as f64 / secs,
            "error_rate": if c.count > 0 { c.errors as f64 / c.count as f64 } else { 0.0 },
            "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
        }));
    }
    Ok(Json(json!({"service": service, "window": window_json(&w, covered), "operations": out})))
}

/// The operation rollup rows of `services` (names as stored, see [`cut`]) that `w` covers, only of the span
/// `kinds` when given: `bucket`, `minutes`, `service_name`, `span_name`, `span_kind`, `span_count`,
/// `error_count` and the latency columns. Read by the operations endpoint and by Jaeger's Monitor metrics.
pub(crate) async fn operation_rows(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    services: &[String],
    kinds: Option<&[i16]>,
    w: &Window,
) -> Result<Vec<PgRow>, ApiError> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT bucket, minutes, service_name, span_name, span_kind, span_count, error_count, latency, \
         latency_min_ns, latency_max_ns FROM otel_operation_rollups WHERE service_name = ANY(",
    );
    qb.push_bind(services.to_vec()).push(")");
    if let Some(kinds) = kinds {
        qb.push(" AND span_kind = ANY(").push_bind(kinds.to_vec()).push(")");
    }
    push_buckets(&mut qb, w);
    Ok(qb.build().fetch_all(&mut **tx).await?)
}

/// `GET /service-map`: service-to-service edges from parent/child spans in different services, and edges
/// from services to databases (`db.system.name` / `db.system`) and messaging systems (`messaging.system`)
/// from their CLIENT and PRODUCER spans; calls, errors and latency of the callee (or client) span.
pub async fn map(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(PARAMS)?;
    let w = window(&p, &st)?;
    let namespace = p.one("namespace")?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT bucket, minutes, source, target, target_type, call_count, error_count, latency, latency_min_ns, \
         latency_max_ns FROM otel_service_edges WHERE TRUE",
    );
    push_buckets(&mut qb, &w);
    if let Some(n) = namespace {
        qb.push(" AND (source_namespace = ").push_bind(n.to_owned());
        qb.push(" OR target_namespace = ").push_bind(n.to_owned()).push(")");
    }
    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut edges: BTreeMap<(String, String, &'static str), Calls> = BTreeMap::new();
    for row in &rows {
        let ty = match row.try_get::<String, _>("target_type")?.as_str() {
            "database" => "database",
            "messaging" => "messaging",
            _ => "service",
        };
        let e = edges.entry((row.try_get("source")?, row.try_get("target")?, ty)).or_default();
        e.count += row.try_get::<i64, _>("call_count")?;
        e.errors += row.try_get::<i64, _>("error_count")?;
        e.latency.merge_row(row)?;
    }

    let mut nodes: BTreeMap<(String, &'static str), ()> = BTreeMap::new();
    let mut out = Vec::with_capacity(edges.len());
    for ((source, target, ty), e) in edges {
        nodes.insert((source.clone(), "service"), ());
        nodes.insert((target.clone(), ty), ());
        let [p50, p95, p99] = percentiles(&e.latency);
        out.push(json!({
            "source": source, "target": target, "target_type": ty,
            "call_count": e.count, "error_count": e.errors,
            "p50_ns": p50, "p95_ns": p95, "p99_ns": p99,
        }));
    }
    let nodes: Vec<Value> = nodes.into_keys().map(|(name, ty)| json!({"name": name, "type": ty})).collect();
    let covered = covered_from(&w, &rows)?;
    Ok(Json(json!({"window": window_json(&w, covered), "nodes": nodes, "edges": out})))
}
