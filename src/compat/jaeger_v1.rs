//! Jaeger's v1 HTTP JSON API (`/jaeger/api/...`), what Grafana's Jaeger data source and every Jaeger UI
//! call: services, operations, trace search, trace by id and dependencies, in the envelope
//! `{data, total, limit, offset, errors}`. Errors use the same envelope with `data: null` and
//! `errors: [{code, msg}]`, as Jaeger writes them (Content-Type text/plain, body JSON). The Monitor tab's
//! metrics, routed here too, are in [`super::jaeger_metrics`].

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{jaeger_model, params as cp};
use crate::query::QueryState;
use crate::query::error::ApiError;
use crate::query::params::{Params, Window};
use crate::query::traces::{self, TraceQuery};

/// Default search range when `start` is missing: two days back from `end`, as Jaeger does.
const DEFAULT_LOOKBACK: u64 = 2 * 24 * 3_600_000_000_000;
/// Default dependencies lookback: a day.
const DEFAULT_DEPENDENCIES_LOOKBACK: u64 = 24 * 3_600_000_000_000;
/// Default number of traces of a search, as Jaeger.
const DEFAULT_LIMIT: u32 = 100;

/// The v1 routes, relative to `/jaeger`.
pub fn routes() -> Router<QueryState> {
    Router::new()
        .route("/api/services", get(services))
        .route("/api/services/{service}/operations", get(service_operations))
        .route("/api/operations", get(operations))
        .route("/api/traces", get(search))
        .route("/api/traces/{trace_id}", get(by_id))
        .route("/api/dependencies", get(dependencies))
        .merge(super::jaeger_metrics::routes())
}

/// Any other path under `/jaeger`: 404 in Jaeger's envelope.
pub async fn not_found() -> JaegerError {
    JaegerError(ApiError::NotFound("no such Jaeger endpoint; see docs/grafana.md for the supported ones".into()))
}

/// An error in Jaeger's envelope.
pub struct JaegerError(ApiError);

impl From<ApiError> for JaegerError {
    fn from(e: ApiError) -> Self {
        JaegerError(e)
    }
}

impl IntoResponse for JaegerError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = json!({
            "data": null, "total": 0, "limit": 0, "offset": 0,
            "errors": [{"code": status.as_u16(), "msg": super::public_message(&self.0)}],
        });
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body.to_string()).into_response()
    }
}

/// A successful answer: `data`, `total` (set by the listings), no errors.
pub(crate) fn envelope(data: Value, total: usize, errors: Value) -> Response {
    let body = json!({"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors});
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn services(State(st): State<QueryState>) -> Result<Response, JaegerError> {
    let names = super::service_names(&st).await?;
    let n = names.len();
    Ok(envelope(names.into(), n, Value::Null))
}

async fn service_operations(
    State(st): State<QueryState>,
    Path(service): Path<String>,
) -> Result<Response, JaegerError> {
    crate::query::params::text("service", &service)?;
    let mut names: Vec<String> = super::operations(&st, &service).await?.into_iter().map(|(n, _)| n).collect();
    names.dedup();
    let n = names.len();
    Ok(envelope(names.into(), n, Value::Null))
}

async fn operations(State(st): State<QueryState>, p: Params) -> Result<Response, JaegerError> {
    let service = p.one("service")?.ok_or_else(|| ApiError::bad("service", "parameter 'service' is required"))?;
    let kind = match p.one("spanKind")? {
        None => None,
        Some(k) => Some(super::kind_value(k).filter(|k| *k > 0).ok_or_else(|| {
            ApiError::bad("spanKind", format!("{k:?} is not server, client, producer, consumer or internal"))
        })?),
    };
    let ops: Vec<Value> = super::operations(&st, service)
        .await?
        .into_iter()
        .filter(|(_, k)| kind.is_none_or(|want| *k == want))
        .map(|(name, k)| json!({"name": name, "spanKind": jaeger_model::kind_name(i32::from(k)).unwrap_or("")}))
        .collect();
    let n = ops.len();
    Ok(envelope(ops.into(), n, Value::Null))
}

/// `GET /api/traces`: search, or with `traceID` parameters, those traces (missing ones as errors).
async fn search(State(st): State<QueryState>, p: Params) -> Result<Response, JaegerError> {
    let wanted = p.all("traceID");
    if !wanted.is_empty() {
        let mut data = Vec::new();
        let mut errors = Vec::new();
        for text in wanted {
            let id = cp::trace_id("traceID", text)?;
            match super::load_trace(&st, &id).await {
                Ok(rs) => data.extend(jaeger_model::trace(&rs)),
                Err(ApiError::NotFound(_)) => errors.push(json!({"msg": "trace not found", "traceID": text})),
                Err(e) => return Err(e.into()),
            }
        }
        let errors = if errors.is_empty() { Value::Null } else { errors.into() };
        return Ok(envelope(data.into(), 0, errors));
    }
    let q = search_query(&st, &p)?;
    let page = traces::find_traces(&st, &q).await?;
    let ids: Vec<Vec<u8>> = page.traces.iter().map(|t| t.trace_id.clone()).collect();
    // A trace without spans crashes Grafana's sort: `trace` leaves such a trace out.
    let data: Vec<Value> =
        super::load_traces(&st, &ids).await?.iter().filter_map(|rs| jaeger_model::trace(rs)).collect();
    Ok(envelope(data.into(), 0, Value::Null))
}

/// The search of `GET /api/traces`'s parameters.
fn search_query(st: &QueryState, p: &Params) -> Result<TraceQuery, ApiError> {
    let end = match p.one("end")? {
        Some(v) => cp::epoch("end", v, 1_000)?,
        None => crate::time::now_unix_nanos(),
    };
    let start = match p.one("start")? {
        Some(v) => cp::epoch("start", v, 1_000)?,
        None => end.saturating_sub(DEFAULT_LOOKBACK),
    };
    // The end is inclusive in Jaeger: a span starting at that microsecond matches.
    let window = cp::window(start, end.saturating_add(1_000), st.options.max_window_nanos, "end")?;
    let limit = match p.one("limit")? {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .trim()
            .parse::<u32>()
            .map_err(|_| ApiError::bad("limit", format!("unable to parse param 'limit': {v:?}")))?,
    };
    let limit = if limit == 0 { DEFAULT_LIMIT } else { limit.min(st.options.max_limit) };
    let mut q = TraceQuery::new(window, limit);
    q.service = p.one("service")?.map(str::to_owned);
    q.name = p.one("operation")?.map(str::to_owned);
    q.min_duration = p.one("minDuration")?.map(|v| cp::go_duration("minDuration", v)).transpose()?;
    q.max_duration = p.one("maxDuration")?.map(|v| cp::go_duration("maxDuration", v)).transpose()?;
    if let (Some(min), Some(max)) = (q.min_duration, q.max_duration)
        && max < min
    {
        return Err(ApiError::bad("maxDuration", "'maxDuration' should be greater than 'minDuration'"));
    }
    for t in p.all("tags") {
        super::apply_jaeger_tags_json(&mut q, "tags", t)?;
    }
    for t in p.all("tag") {
        let (k, v) = t.split_once(':').ok_or_else(|| ApiError::bad("tag", format!("{t:?} is not key:value")))?;
        super::apply_jaeger_tag(&mut q, "tag", k, v)?;
    }
    Ok(q)
}

/// `GET /api/traces/{traceID}`: `start` and `end` are hints Jaeger may use to narrow its read; Grafana sends
/// them in milliseconds rather than microseconds, so they are ignored (a trace is found by id alone).
async fn by_id(State(st): State<QueryState>, Path(trace_id): Path<String>) -> Result<Response, JaegerError> {
    let id = cp::trace_id("traceID", &trace_id)?;
    let rs = super::load_trace(&st, &id).await?;
    let trace = jaeger_model::trace(&rs).ok_or_else(|| ApiError::NotFound("trace not found".into()))?;
    Ok(envelope(json!([trace]), 0, Value::Null))
}

/// `GET /api/dependencies?endTs=&lookback=` (milliseconds): service-to-service calls from the service map
/// rollups, `[{parent, child, callCount}]`; `service` keeps the edges it is part of.
async fn dependencies(State(st): State<QueryState>, p: Params) -> Result<Response, JaegerError> {
    let end = match p.one("endTs")? {
        Some(v) => cp::epoch("endTs", v, 1_000_000)?,
        None => crate::time::now_unix_nanos(),
    };
    let lookback = match p.one("lookback")? {
        Some(v) => cp::epoch("lookback", v, 1_000_000)?,
        None => DEFAULT_DEPENDENCIES_LOOKBACK,
    };
    let w: Window = cp::window(end.saturating_sub(lookback), end, st.options.max_window_nanos, "endTs")?;
    let service = p.one("service")?;
    let pairs = vec![("from".to_string(), w.from.to_string()), ("to".to_string(), w.to.to_string())];
    let map = crate::query::services::map(State(st.clone()), Params::from_pairs(pairs)).await?.0;
    let data: Vec<Value> = map["edges"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|e| e["target_type"] == "service")
        .filter(|e| service.is_none_or(|s| e["source"] == s || e["target"] == s))
        .map(|e| json!({"parent": e["source"], "child": e["target"], "callCount": e["call_count"]}))
        .collect();
    Ok(envelope(data.into(), 0, Value::Null))
}
