//! Query APIs of other tracing backends, so that Grafana's Jaeger and Tempo data sources and the Jaeger UI
//! read ollyscale: Jaeger's v1 HTTP JSON and api_v3 under `/jaeger`, the part of Tempo's HTTP API Grafana
//! uses under `/tempo` (their paths collide with each other and with `/api/v2`, hence the prefixes).
//!
//! Every endpoint answers from the query code of `/api/v2` ([`crate::query`]): the one trace search
//! ([`crate::query::traces::find_traces`]), trace loading, the service rollups and the attribute listings,
//! behind the same bearer-token check. These modules only translate parameters and answers.
//!
//! Modules: [`params`] (the protocols' ids, times and durations), [`jaeger_model`] (OTLP to Jaeger's UI JSON),
//! [`jaeger_v1`], [`jaeger_metrics`] (the Jaeger UI's Monitor tab, from the span rollups), [`jaeger_v3`],
//! [`traceql`] (the TraceQL subset), [`tempopb`] (Tempo's protobuf messages), [`tempo`].

pub mod jaeger_metrics;
pub mod jaeger_model;
pub mod jaeger_v1;
pub mod jaeger_v3;
pub mod params;
pub mod tempo;
pub mod tempopb;
pub mod traceql;

use axum::Router;
use axum::extract::{Path, State};
use axum::middleware;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use serde_json::Value;
use sqlx::PgPool;

use crate::query::error::ApiError;
use crate::query::params::{AttrFilter, AttrScope, Op, Params};
use crate::query::traces::{self, TraceQuery};
use crate::query::{QueryOptions, QueryState};
use crate::schema::enums::{SPAN_KIND, STATUS_CODE};

/// The compatibility routes, `/jaeger/...` and `/tempo/...`: merge into the API port's router.
pub fn router(pool: PgPool, options: QueryOptions) -> Router {
    router_for(QueryState::new(pool, options))
}

/// [`router`] over a given state, shared with `/api/v2` ([`crate::query::router_for`]).
pub fn router_for(state: QueryState) -> Router {
    let cors = crate::query::cors_layer(&state.options.cors_origins);
    let r = Router::new()
        .nest("/jaeger", jaeger_v1::routes().merge(jaeger_v3::routes()).fallback(jaeger_v1::not_found))
        .nest("/tempo", tempo::routes().fallback(tempo::not_found))
        .route_layer(middleware::from_fn_with_state(state.clone(), crate::query::auth))
        .with_state(state);
    match cors {
        Some(c) => r.layer(c),
        None => r,
    }
}

/// The message of `err` that clients see; database details stay in the server log, as with `/api/v2`.
pub(crate) fn public_message(err: &ApiError) -> String {
    match err {
        ApiError::Internal(detail) => {
            tracing::error!(detail = %detail, "compat API internal error");
            err.to_string()
        }
        ApiError::Unavailable(detail) => {
            tracing::warn!(detail = %detail, "compat API: database unavailable");
            "the database is unreachable; retry later".to_string()
        }
        other => other.to_string(),
    }
}

/// The newest window of the widest width the server allows, for listings without a time range.
fn widest_window(st: &QueryState) -> Params {
    let to = crate::time::now_unix_nanos();
    let from = to.saturating_sub(st.options.max_window_nanos);
    Params::from_pairs(vec![("from".into(), from.to_string()), ("to".into(), to.to_string())])
}

/// Names of the services seen within the widest window, sorted (from the service rollups of `/api/v2`).
pub(crate) async fn service_names(st: &QueryState) -> Result<Vec<String>, ApiError> {
    let v = crate::query::services::list(State(st.clone()), widest_window(st)).await?.0;
    let mut names: Vec<String> = v["services"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    names.sort();
    names.dedup();
    Ok(names)
}

/// A service's operations within the widest window: (span name, OTLP kind value), by name; none for an
/// unknown service.
pub(crate) async fn operations(st: &QueryState, service: &str) -> Result<Vec<(String, i16)>, ApiError> {
    let v = match crate::query::services::operations(State(st.clone()), Path(service.to_owned()), widest_window(st))
        .await
    {
        Ok(v) => v.0,
        Err(ApiError::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut ops: Vec<(String, i16)> = v["operations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    let kind = o["kind"].as_str().and_then(|k| SPAN_KIND.value_of_short(k)).unwrap_or(0);
                    Some((o["name"].as_str()?.to_owned(), kind as i16))
                })
                .collect()
        })
        .unwrap_or_default();
    ops.sort();
    Ok(ops)
}

/// A span kind by its lowercase Jaeger/Tempo name (`server`, `client`, ...), or `unspecified`.
pub(crate) fn kind_value(name: &str) -> Option<i16> {
    let upper = name.trim().to_ascii_uppercase();
    SPAN_KIND.value_of_short(&upper).map(|v| v as i16)
}

/// A status code by name (`ok`, `error`, `unset`, any case).
pub(crate) fn status_value(name: &str) -> Option<i16> {
    let upper = name.trim().to_ascii_uppercase();
    STATUS_CODE.value_of_short(&upper).map(|v| v as i16)
}

/// Adds one Jaeger tag filter `key=value` to `q`, as Jaeger's own store reads it: on the same span as the
/// other conditions; `error` (true: status ERROR, false: any other status), `span.kind`, `span.status` and
/// `resource.<key>` are special; other keys are span attributes equal to the value.
pub(crate) fn apply_jaeger_tag(q: &mut TraceQuery, param: &str, key: &str, value: &str) -> Result<(), ApiError> {
    crate::query::params::text(param, key)?;
    crate::query::params::text(param, value)?;
    match key {
        "error" => match value.trim().to_ascii_lowercase().as_str() {
            "true" => q.status = Some(2),
            "false" => q.not_statuses.push(2),
            other => return Err(ApiError::bad(param, format!("error={other:?}: the error tag is true or false"))),
        },
        "span.kind" => {
            q.kind = Some(kind_value(value).ok_or_else(|| {
                ApiError::bad(param, format!("span.kind={value:?}: use server, client, producer, consumer or internal"))
            })?)
        }
        "span.status" => {
            q.status = Some(
                status_value(value)
                    .ok_or_else(|| ApiError::bad(param, format!("span.status={value:?}: use OK, ERROR or UNSET")))?,
            )
        }
        "scope.name" | "scope.version" => {
            return Err(ApiError::bad(
                param,
                format!("{key}: filtering on the instrumentation scope is not supported"),
            ));
        }
        _ => match key.strip_prefix("resource.") {
            Some("service.name") if q.service.is_none() => q.service = Some(value.to_owned()),
            Some(rkey) => q.attrs.push(AttrFilter {
                scope: AttrScope::Resource,
                key: rkey.to_owned(),
                op: Op::Eq,
                value: value.to_owned(),
            }),
            None => q.attrs.push(AttrFilter {
                scope: AttrScope::Record,
                key: key.to_owned(),
                op: Op::Eq,
                value: value.to_owned(),
            }),
        },
    }
    Ok(())
}

/// Adds every `key: value` of a JSON object of tags (Jaeger's `tags` and v3's `query.attributes`); values
/// that are not strings are compared by their JSON text.
pub(crate) fn apply_jaeger_tags_json(q: &mut TraceQuery, param: &str, text: &str) -> Result<(), ApiError> {
    let map: serde_json::Map<String, Value> = serde_json::from_str(text)
        .map_err(|e| ApiError::bad(param, format!("not a JSON object of tag names to values: {e}")))?;
    for (k, v) in &map {
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        apply_jaeger_tag(q, param, k, &value)?;
    }
    Ok(())
}

/// The traces of a search page, whole, as OTLP, in page order (a trace that has vanished since the search
/// is left out).
pub(crate) async fn load_traces(st: &QueryState, ids: &[Vec<u8>]) -> Result<Vec<Vec<ResourceSpans>>, ApiError> {
    let tids: Vec<crate::ids::TraceId> = ids.iter().filter_map(|id| crate::ids::trace_id_from_bytes(id).ok()).collect();
    let mut tx = st.lookup_tx().await?;
    let found = traces::load_otlp_many(&mut tx, &st.dims, &tids).await?;
    tx.commit().await?;
    Ok(found.into_iter().map(|(_, rs)| rs).filter(|rs| !rs.is_empty()).collect())
}

/// One stored trace as OTLP; 404 when unknown.
pub(crate) async fn load_trace(st: &QueryState, id: &crate::ids::TraceId) -> Result<Vec<ResourceSpans>, ApiError> {
    let mut tx = st.lookup_tx().await?;
    let rs = traces::load_otlp(&mut tx, &st.dims, id).await?;
    tx.commit().await?;
    if rs.is_empty() {
        return Err(ApiError::NotFound("trace not found".into()));
    }
    Ok(rs)
}
