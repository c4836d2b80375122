//! Jaeger's api_v3 over HTTP (`/jaeger/api/v3/...`), what the current Jaeger UI calls for services,
//! operations and search: OTLP JSON traces under `result`, trace summaries, and errors as
//! `{"error": {"httpCode", "message"}}`. Parameters are accepted in camelCase and in the snake_case
//! aliases Grafana sends; times are RFC 3339 with nanoseconds.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{jaeger_model, params as cp};
use crate::ids;
use crate::query::QueryState;
use crate::query::error::ApiError;
use crate::query::params::Params;
use crate::query::traces::{self, TraceQuery};

/// Default number of traces of a search, as Jaeger.
const DEFAULT_LIMIT: u32 = 100;

/// The v3 routes, relative to `/jaeger`.
pub fn routes() -> Router<QueryState> {
    Router::new()
        .route("/api/v3/services", get(services))
        .route("/api/v3/operations", get(operations))
        .route("/api/v3/traces", get(search))
        .route("/api/v3/traces/{trace_id}", get(by_id))
        .route("/api/v3/trace-summaries", get(summaries))
}

/// An error in api_v3's shape.
pub struct V3Error(ApiError);

impl From<ApiError> for V3Error {
    fn from(e: ApiError) -> Self {
        V3Error(e)
    }
}

impl IntoResponse for V3Error {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = json!({"error": {"httpCode": status.as_u16(), "message": super::public_message(&self.0)}});
        (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
    }
}

fn answer(body: Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// The value of the first of `names` given (camelCase first, then its aliases); giving two is an error.
fn pick<'a>(p: &'a Params, names: &[&str]) -> Result<Option<(String, &'a str)>, ApiError> {
    let mut found = None;
    for n in names {
        if let Some(v) = p.one(n)? {
            if found.is_some() {
                return Err(ApiError::bad(*n, format!("given together with its alias {}", names[0])));
            }
            found = Some(((*n).to_string(), v));
        }
    }
    Ok(found)
}

async fn services(State(st): State<QueryState>) -> Result<Response, V3Error> {
    Ok(answer(json!({"services": super::service_names(&st).await?})))
}

async fn operations(State(st): State<QueryState>, p: Params) -> Result<Response, V3Error> {
    let (_, service) = pick(&p, &["service"])?.ok_or_else(|| ApiError::bad("service", "is required"))?;
    let kind = match pick(&p, &["spanKind", "span_kind"])? {
        None => None,
        Some((name, k)) => Some(super::kind_value(k).filter(|k| *k > 0).ok_or_else(|| {
            ApiError::bad(name, format!("{k:?} is not server, client, producer, consumer or internal"))
        })?),
    };
    let ops: Vec<Value> = super::operations(&st, service)
        .await?
        .into_iter()
        .filter(|(_, k)| kind.is_none_or(|want| *k == want))
        .map(|(name, k)| json!({"name": name, "spanKind": jaeger_model::kind_name(i32::from(k)).unwrap_or("internal")}))
        .collect();
    Ok(answer(json!({"operations": ops})))
}

/// `GET /api/v3/traces/{trace_id}`: `{"result": TracesData}`; the time range is a hint and not needed.
async fn by_id(State(st): State<QueryState>, Path(trace_id): Path<String>) -> Result<Response, V3Error> {
    let id = cp::trace_id("trace_id", &trace_id)?;
    let resource_spans = super::load_trace(&st, &id).await?;
    Ok(answer(json!({"result": traces::otlp_json(resource_spans)?})))
}

/// The search of the `query.*` parameters.
fn search_query(st: &QueryState, p: &Params) -> Result<TraceQuery, ApiError> {
    let min = pick(p, &["query.startTimeMin", "query.start_time_min"])?
        .ok_or_else(|| ApiError::bad("query.startTimeMin", "is required"))?;
    let max = pick(p, &["query.startTimeMax", "query.start_time_max"])?
        .ok_or_else(|| ApiError::bad("query.startTimeMax", "is required"))?;
    let from = cp::rfc3339(&min.0, min.1)?;
    let to = cp::rfc3339(&max.0, max.1)?;
    let window = cp::window(from, to, st.options.max_window_nanos, &max.0)?;
    let limit = match pick(p, &["query.searchDepth", "query.search_depth", "query.num_traces"])? {
        None => DEFAULT_LIMIT,
        Some((name, v)) => match v.trim().parse::<u32>() {
            Ok(0) => DEFAULT_LIMIT,
            Ok(n) => n.min(st.options.max_limit),
            Err(_) => return Err(ApiError::bad(name, format!("{v:?} is not a non-negative integer"))),
        },
    };
    let mut q = TraceQuery::new(window, limit);
    q.service = pick(p, &["query.serviceName", "query.service_name"])?.map(|(_, v)| v.to_owned());
    q.name = pick(p, &["query.operationName", "query.operation_name"])?.map(|(_, v)| v.to_owned());
    let duration = |names: &[&str]| -> Result<Option<u64>, ApiError> {
        pick(p, names)?.map(|(n, v)| cp::go_duration(&n, v)).transpose()
    };
    q.min_duration = duration(&["query.durationMin", "query.duration_min"])?;
    q.max_duration = duration(&["query.durationMax", "query.duration_max"])?;
    if let (Some(lo), Some(hi)) = (q.min_duration, q.max_duration)
        && hi < lo
    {
        return Err(ApiError::bad("query.durationMax", "must not be less than query.durationMin"));
    }
    if let Some((name, attrs)) = pick(p, &["query.attributes"])? {
        super::apply_jaeger_tags_json(&mut q, &name, attrs)?;
    }
    Ok(q)
}

/// `GET /api/v3/traces`: every matching trace, merged into one TracesData; 404 when none matches.
async fn search(State(st): State<QueryState>, p: Params) -> Result<Response, V3Error> {
    let q = search_query(&st, &p)?;
    let page = traces::find_traces(&st, &q).await?;
    let ids: Vec<Vec<u8>> = page.traces.iter().map(|t| t.trace_id.clone()).collect();
    let all: Vec<_> = super::load_traces(&st, &ids).await?.into_iter().flatten().collect();
    if all.is_empty() {
        return Err(ApiError::NotFound("No traces found".into()).into());
    }
    Ok(answer(json!({"result": traces::otlp_json(all)?})))
}

/// `GET /api/v3/trace-summaries`: one summary per matching trace (an empty list when none matches).
async fn summaries(State(st): State<QueryState>, p: Params) -> Result<Response, V3Error> {
    let mut q = search_query(&st, &p)?;
    q.service_stats = true;
    let page = traces::find_traces(&st, &q).await?;
    let out: Vec<Value> = page
        .traces
        .iter()
        .map(|t| {
            let services: Vec<Value> = t
                .service_stats
                .iter()
                .map(|(name, spans, errors)| json!({"name": name, "spanCount": spans, "errorSpanCount": errors}))
                .collect();
            json!({
                "traceId": ids::to_hex(&t.trace_id),
                "rootServiceName": t.root_service.clone().unwrap_or_default(),
                "rootOperationName": t.root_name.clone().unwrap_or_default(),
                "minStartTimeUnixNano": t.start_ns.to_string(),
                "maxEndTimeUnixNano": (t.start_ns + t.duration_ns).to_string(),
                "spanCount": t.span_count,
                "errorSpanCount": t.error_count,
                "orphanSpanCount": t.orphan_count,
                "services": services,
            })
        })
        .collect();
    Ok(answer(json!({"summaries": out})))
}
