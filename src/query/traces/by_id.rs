//! One trace by id: every span with what hangs off it for a waterfall (or as OTLP JSON), and the flat list of
//! a trace's spans.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde_json::{Map, Value, json};

use super::nanos_fields;
use super::stored::{
    SpanRow, load_dims, load_events_links, load_otlp, load_spans, otlp_json, span_records, span_times,
};
use super::waterfall::{SpanKey, waterfall};
use crate::ids;
use crate::query::QueryState;
use crate::query::error::ApiError;
use crate::query::params::{self, Params};
use crate::query::record_attributes as attrs;
use crate::schema::attributes::SPAN;
use crate::schema::enums::{SPAN_KIND, STATUS_CODE};

fn kind_name(k: i16) -> &'static str {
    SPAN_KIND.short_name(k.into()).unwrap_or("UNSPECIFIED")
}

fn status_name(c: i16) -> &'static str {
    STATUS_CODE.short_name(c.into()).unwrap_or("UNSET")
}

fn hex_or_null(b: &Option<Vec<u8>>) -> Value {
    b.as_ref().map(|b| Value::from(ids::to_hex(b))).unwrap_or(Value::Null)
}

fn span_base_json(trace_hex: &str, s: &SpanRow, service: Option<&str>, attributes: &[KeyValue]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("trace_id".into(), trace_hex.into());
    m.insert("span_id".into(), ids::to_hex(&s.span_id).into());
    m.insert("parent_span_id".into(), hex_or_null(&s.parent));
    m.insert("name".into(), s.name.clone().into());
    m.insert("kind".into(), kind_name(s.kind).into());
    m.insert("service_name".into(), service.into());
    nanos_fields("start_time", s.start, &mut m);
    nanos_fields("end_time", s.end, &mut m);
    m.insert("duration_ns".into(), s.duration_ns.into());
    m.insert("status".into(), json!({"code": status_name(s.status_code), "message": s.status_message}));
    m.insert("trace_state".into(), s.trace_state.clone().into());
    m.insert("flags".into(), s.flags.into());
    m.insert("attributes".into(), attrs::to_json(attributes));
    m.insert("dropped_attributes_count".into(), s.dropped[0].into());
    m
}

/// `GET /traces/{trace_id}`: every span with attributes, events, links, resource and scope, in waterfall
/// order; `format=otlp` answers an OTLP/JSON ExportTraceServiceRequest instead.
pub async fn by_id(
    State(st): State<QueryState>,
    Path(trace_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.allow(&["format"])?;
    let otlp = match p.one("format")? {
        None | Some("json") => false,
        Some("otlp") => true,
        Some(other) => {
            return Err(ApiError::bad("format", format!("{other:?} is not json or otlp")));
        }
    };
    let tid = params::trace_id("trace_id", &trace_id)?;
    let not_found = || ApiError::NotFound(format!("trace {} not found", ids::to_hex(&tid)));
    let mut tx = st.lookup_tx().await?;
    if otlp {
        let resource_spans = load_otlp(&mut tx, &st.dims, &tid).await?;
        tx.commit().await?;
        if resource_spans.is_empty() {
            return Err(not_found());
        }
        return Ok(Json(otlp_json(resource_spans)?));
    }
    let spans = load_spans(&mut tx, &tid).await?;
    if spans.is_empty() {
        return Err(not_found());
    }
    let span_attrs = attrs::fetch_records(&mut tx, &SPAN, &span_records(&spans), span_times(&spans)).await?;
    let (events, links) = load_events_links(&mut tx, &spans).await?;
    let dims = load_dims(&mut tx, &st.dims, &spans).await?;
    tx.commit().await?;

    let keys: Vec<SpanKey> = spans.iter().map(|s| (s.span_id.clone(), s.parent.clone(), s.start)).collect();
    let order = waterfall(&keys);
    let trace_hex = ids::to_hex(&tid);
    let mut out = Vec::with_capacity(spans.len());
    for (i, depth) in order {
        let s = &spans[i];
        let res = dims.resources.get(&s.resource_id);
        let sc = dims.scopes.get(&s.scope_id);
        let mut m = span_base_json(
            &trace_hex,
            s,
            res.and_then(|r| r.service_name.as_deref()),
            span_attrs.get(&s.row_id).map(Vec::as_slice).unwrap_or(&[]),
        );
        m.insert("depth".into(), depth.into());
        let evs: Vec<Value> = events
            .get(&s.row_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|e| {
                let mut em = Map::new();
                nanos_fields("time", e.time_unix_nano, &mut em);
                em.insert("name".into(), e.name.clone().into());
                em.insert("attributes".into(), attrs::to_json(&e.attributes));
                em.insert("dropped_attributes_count".into(), e.dropped_attributes_count.into());
                Value::Object(em)
            })
            .collect();
        m.insert("events".into(), evs.into());
        m.insert("dropped_events_count".into(), s.dropped[1].into());
        let lks: Vec<Value> = links
            .get(&s.row_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|l| {
                json!({
                    "trace_id": ids::to_hex(&l.trace_id),
                    "span_id": ids::to_hex(&l.span_id),
                    "trace_state": l.trace_state,
                    "flags": l.flags,
                    "attributes": attrs::to_json(&l.attributes),
                    "dropped_attributes_count": l.dropped_attributes_count,
                })
            })
            .collect();
        m.insert("links".into(), lks.into());
        m.insert("dropped_links_count".into(), s.dropped[2].into());
        m.insert(
            "resource".into(),
            match res {
                Some(r) => json!({
                    "service_name": r.service_name,
                    "service_namespace": r.service_namespace,
                    "schema_url": r.schema_url,
                    "attributes": attrs::to_json(&r.resource.attributes),
                    "dropped_attributes_count": r.resource.dropped_attributes_count,
                }),
                None => Value::Null,
            },
        );
        m.insert(
            "scope".into(),
            match sc {
                Some(sc) => json!({
                    "name": sc.scope.name,
                    "version": sc.scope.version,
                    "schema_url": sc.schema_url,
                    "attributes": attrs::to_json(&sc.scope.attributes),
                    "dropped_attributes_count": sc.scope.dropped_attributes_count,
                }),
                None => Value::Null,
            },
        );
        out.push(Value::Object(m));
    }
    let start = spans.iter().map(|s| s.start).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end).max().unwrap_or(0);
    let mut top = Map::new();
    top.insert("trace_id".into(), trace_hex.into());
    nanos_fields("start_time", start, &mut top);
    top.insert("duration_ns".into(), end.saturating_sub(start).into());
    top.insert("span_count".into(), spans.len().into());
    top.insert("spans".into(), out.into());
    Ok(Json(Value::Object(top)))
}

/// `GET /traces/{trace_id}/spans`: the spans of a trace with their attributes, by start time.
pub async fn spans(
    State(st): State<QueryState>,
    Path(trace_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.allow(&[])?;
    let tid = params::trace_id("trace_id", &trace_id)?;
    let mut tx = st.lookup_tx().await?;
    let mut spans = load_spans(&mut tx, &tid).await?;
    if spans.is_empty() {
        return Err(ApiError::NotFound(format!("trace {} not found", ids::to_hex(&tid))));
    }
    spans.sort_by(|a, b| (a.start, &a.span_id).cmp(&(b.start, &b.span_id)));
    let span_attrs = attrs::fetch_records(&mut tx, &SPAN, &span_records(&spans), span_times(&spans)).await?;
    let mut rids: Vec<i64> = spans.iter().map(|s| s.resource_id).collect();
    rids.sort_unstable();
    rids.dedup();
    let services: HashMap<i64, Option<String>> = sqlx::query_as::<_, (i64, Option<String>)>(
        "SELECT resource_id, service_name FROM otel_resources_dim WHERE resource_id = ANY($1)",
    )
    .bind(&rids)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    tx.commit().await?;
    let trace_hex = ids::to_hex(&tid);
    let out: Vec<Value> = spans
        .iter()
        .map(|s| {
            Value::Object(span_base_json(
                &trace_hex,
                s,
                services.get(&s.resource_id).and_then(|o| o.as_deref()),
                span_attrs.get(&s.row_id).map(Vec::as_slice).unwrap_or(&[]),
            ))
        })
        .collect();
    Ok(Json(json!({"trace_id": trace_hex, "spans": out})))
}
