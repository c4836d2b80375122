//! Stored traces read back: spans, their attributes, events, links, resources and scopes, and the same as
//! OTLP resource spans.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::waterfall::{SpanKey, waterfall};
use crate::query::dimension_cache::{DimensionCache, Dims};
use crate::query::error::ApiError;
use crate::query::params::{self};
use crate::query::record_attributes as attrs;
use crate::query::unix_nanos;
use crate::schema::attributes::{SPAN, SPAN_EVENT, SPAN_LINK};

/// One stored span and what hangs off it.
pub(super) struct SpanRow {
    pub(super) row_id: i64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) duration_ns: i64,
    pub(super) span_id: Vec<u8>,
    pub(super) parent: Option<Vec<u8>>,
    pub(super) trace_state: String,
    pub(super) flags: u32,
    pub(super) name: String,
    pub(super) kind: i16,
    pub(super) status_code: i16,
    pub(super) status_message: String,
    pub(super) dropped: [u32; 3],
    pub(super) resource_id: i64,
    pub(super) scope_id: i64,
    pub(super) attr_set_key: Option<i64>,
    pub(super) attributes: Option<String>,
}

fn span_row(row: &PgRow) -> Result<SpanRow, ApiError> {
    Ok(SpanRow {
        row_id: row.try_get("span_row_id")?,
        start: unix_nanos(row.try_get("start_time")?, row.try_get("start_time_nanos_fraction")?)?,
        end: unix_nanos(row.try_get("end_time")?, row.try_get("end_time_nanos_fraction")?)?,
        duration_ns: row.try_get("duration_ns")?,
        span_id: row.try_get("span_id")?,
        parent: row.try_get("parent_span_id")?,
        trace_state: row.try_get("trace_state")?,
        flags: row.try_get::<i32, _>("flags")? as u32,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        status_code: row.try_get("status_code")?,
        status_message: row.try_get("status_message")?,
        dropped: [
            row.try_get::<i32, _>("dropped_attributes_count")? as u32,
            row.try_get::<i32, _>("dropped_events_count")? as u32,
            row.try_get::<i32, _>("dropped_links_count")? as u32,
        ],
        resource_id: row.try_get("resource_id")?,
        scope_id: row.try_get("scope_id")?,
        attr_set_key: row.try_get("attr_set_key")?,
        attributes: row.try_get("attributes")?,
    })
}

pub(super) async fn load_spans(conn: &mut PgConnection, trace_id: &[u8; 16]) -> Result<Vec<SpanRow>, ApiError> {
    Ok(load_spans_of(conn, &[trace_id.to_vec()]).await?.1)
}

/// The spans of several traces, with the trace id of each.
pub(super) async fn load_spans_of(
    conn: &mut PgConnection,
    ids: &[Vec<u8>],
) -> Result<(Vec<Vec<u8>>, Vec<SpanRow>), ApiError> {
    // One descent of the (trace_id, start_time) index per trace (OFFSET 0 keeps each LATERAL a loop): a
    // generic plan of `trace_id = ANY($1)` built while a partition had no statistics scanned it whole.
    let rows = sqlx::query(
        "SELECT s.trace_id, s.span_row_id, s.start_time, s.start_time_nanos_fraction, s.end_time, \
         s.end_time_nanos_fraction, s.duration_ns, s.span_id, s.parent_span_id, s.trace_state, s.flags, s.name, \
         s.kind, s.status_code, s.status_message, s.dropped_attributes_count, s.dropped_events_count, \
         s.dropped_links_count, s.resource_id, s.scope_id, s.attr_set_key, s.attributes::text AS attributes \
         FROM unnest($1::bytea[]) AS u(id) \
         CROSS JOIN LATERAL (SELECT * FROM otel_spans_fact f WHERE f.trace_id = u.id OFFSET 0) s",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut trace_of = Vec::with_capacity(rows.len());
    let mut spans = Vec::with_capacity(rows.len());
    for row in &rows {
        trace_of.push(row.try_get("trace_id")?);
        spans.push(span_row(row)?);
    }
    Ok((trace_of, spans))
}

/// What [`attrs::fetch_records`] needs of each span.
pub(super) fn span_records(spans: &[SpanRow]) -> Vec<attrs::RecordRef<'_>> {
    spans
        .iter()
        .map(|s| attrs::RecordRef { owner: s.row_id, set: s.attr_set_key, row: s.attributes.as_deref() })
        .collect()
}

/// The resources and scopes of the spans, from the cache or the database.
pub(super) async fn load_dims(
    conn: &mut PgConnection,
    cache: &DimensionCache,
    spans: &[SpanRow],
) -> Result<Dims, ApiError> {
    let mut rids: Vec<i64> = spans.iter().map(|s| s.resource_id).collect();
    rids.sort_unstable();
    rids.dedup();
    let mut sids: Vec<i64> = spans.iter().map(|s| s.scope_id).collect();
    sids.sort_unstable();
    sids.dedup();
    cache.load(conn, &rids, &sids).await
}

/// The range of the spans' stored start times (the partition key of everything hanging off them).
pub(super) fn span_times(spans: &[SpanRow]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    attrs::time_range(spans.iter().map(|s| params::nanos_floor_ts(s.start)))
}

/// Events and links of the spans, as OTLP, by span row id (in their stored order).
pub(super) async fn load_events_links(
    conn: &mut PgConnection,
    spans: &[SpanRow],
) -> Result<(HashMap<i64, Vec<span::Event>>, HashMap<i64, Vec<span::Link>>), ApiError> {
    let row_ids: Vec<i64> = spans.iter().map(|s| s.row_id).collect();
    let times = span_times(spans);
    let (lo, hi) = times.unwrap_or((DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC));
    // Per-span probes, as for the spans themselves (see `load_spans_of`).
    let ev_rows = sqlx::query(
        "SELECT e.event_row_id, e.span_row_id, e.time, e.time_nanos_fraction, e.name, e.dropped_attributes_count \
         FROM unnest($1::bigint[]) AS u(id) CROSS JOIN LATERAL (SELECT * FROM otel_span_events x \
         WHERE x.span_row_id = u.id AND x.span_start_time BETWEEN $2 AND $3 OFFSET 0) e \
         ORDER BY e.span_row_id, e.event_index",
    )
    .bind(&row_ids)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await?;
    let ev_ids: Vec<i64> = ev_rows.iter().map(|r| r.try_get("event_row_id")).collect::<Result<_, _>>()?;
    let mut ev_attrs = attrs::fetch(conn, &SPAN_EVENT, &ev_ids, times).await?;
    let mut events: HashMap<i64, Vec<span::Event>> = HashMap::new();
    for r in &ev_rows {
        let id: i64 = r.try_get("event_row_id")?;
        events.entry(r.try_get("span_row_id")?).or_default().push(span::Event {
            time_unix_nano: unix_nanos(r.try_get("time")?, r.try_get("time_nanos_fraction")?)?,
            name: r.try_get("name")?,
            attributes: ev_attrs.remove(&id).unwrap_or_default(),
            dropped_attributes_count: r.try_get::<i32, _>("dropped_attributes_count")? as u32,
        });
    }
    let link_rows = sqlx::query(
        "SELECT l.link_row_id, l.span_row_id, l.trace_id, l.span_id, l.trace_state, l.flags, \
         l.dropped_attributes_count FROM unnest($1::bigint[]) AS u(id) CROSS JOIN LATERAL (SELECT * FROM \
         otel_span_links x WHERE x.span_row_id = u.id AND x.span_start_time BETWEEN $2 AND $3 OFFSET 0) l \
         ORDER BY l.span_row_id, l.link_index",
    )
    .bind(&row_ids)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await?;
    let link_ids: Vec<i64> = link_rows.iter().map(|r| r.try_get("link_row_id")).collect::<Result<_, _>>()?;
    let mut link_attrs = attrs::fetch(conn, &SPAN_LINK, &link_ids, times).await?;
    let mut links: HashMap<i64, Vec<span::Link>> = HashMap::new();
    for r in &link_rows {
        let id: i64 = r.try_get("link_row_id")?;
        links.entry(r.try_get("span_row_id")?).or_default().push(span::Link {
            trace_id: r.try_get("trace_id")?,
            span_id: r.try_get("span_id")?,
            trace_state: r.try_get("trace_state")?,
            attributes: link_attrs.remove(&id).unwrap_or_default(),
            dropped_attributes_count: r.try_get::<i32, _>("dropped_attributes_count")? as u32,
            flags: r.try_get::<i32, _>("flags")? as u32,
        });
    }
    Ok((events, links))
}

/// A stored trace as OTLP resource spans (resource, scope, then spans in waterfall order); empty when the
/// trace is unknown.
pub async fn load_otlp(
    conn: &mut PgConnection,
    cache: &DimensionCache,
    tid: &[u8; 16],
) -> Result<Vec<ResourceSpans>, ApiError> {
    Ok(load_otlp_many(conn, cache, &[*tid]).await?.pop().map(|(_, rs)| rs).unwrap_or_default())
}

/// Stored traces as OTLP resource spans, in the order of `tids`; unknown traces are left out. One query per
/// table for all of them (a search page's traces), not one round of queries per trace.
pub async fn load_otlp_many(
    conn: &mut PgConnection,
    cache: &DimensionCache,
    tids: &[[u8; 16]],
) -> Result<Vec<([u8; 16], Vec<ResourceSpans>)>, ApiError> {
    let ids: Vec<Vec<u8>> = tids.iter().map(|t| t.to_vec()).collect();
    let (trace_of, spans) = load_spans_of(conn, &ids).await?;
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let mut span_attrs = attrs::fetch_records(conn, &SPAN, &span_records(&spans), span_times(&spans)).await?;
    let (mut events, mut links) = load_events_links(conn, &spans).await?;
    let dims = load_dims(conn, cache, &spans).await?;
    let mut by_trace: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, t) in trace_of.iter().enumerate() {
        by_trace.entry(t.as_slice()).or_default().push(i);
    }
    let mut out = Vec::with_capacity(tids.len());
    for tid in tids {
        let Some(members) = by_trace.get(tid.as_slice()) else { continue };
        let keys: Vec<SpanKey> =
            members.iter().map(|&i| (spans[i].span_id.clone(), spans[i].parent.clone(), spans[i].start)).collect();
        // Waterfall positions of the trace's spans, as indexes into all of the spans.
        let order: Vec<(usize, usize)> = waterfall(&keys).into_iter().map(|(k, d)| (members[k], d)).collect();
        out.push((*tid, otlp_resource_spans(tid, &spans, &order, &mut span_attrs, &mut events, &mut links, &dims)));
    }
    Ok(out)
}

/// Resource spans as OTLP/JSON `{"resourceSpans": [...]}` (the shape of TracesData and of an export request).
pub fn otlp_json(resource_spans: Vec<ResourceSpans>) -> Result<Value, ApiError> {
    serde_json::to_value(ExportTraceServiceRequest { resource_spans }).map_err(|e| ApiError::internal(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
fn otlp_resource_spans(
    tid: &[u8; 16],
    spans: &[SpanRow],
    order: &[(usize, usize)],
    span_attrs: &mut HashMap<i64, Vec<KeyValue>>,
    events: &mut HashMap<i64, Vec<span::Event>>,
    links: &mut HashMap<i64, Vec<span::Link>>,
    dims: &Dims,
) -> Vec<ResourceSpans> {
    // resource -> scope -> spans, keeping waterfall order inside each scope.
    let mut grouped: BTreeMap<i64, BTreeMap<i64, Vec<Span>>> = BTreeMap::new();
    for &(i, _) in order {
        let s = &spans[i];
        grouped.entry(s.resource_id).or_default().entry(s.scope_id).or_default().push(Span {
            trace_id: tid.to_vec(),
            span_id: s.span_id.clone(),
            trace_state: s.trace_state.clone(),
            parent_span_id: s.parent.clone().unwrap_or_default(),
            flags: s.flags,
            name: s.name.clone(),
            kind: i32::from(s.kind),
            start_time_unix_nano: s.start,
            end_time_unix_nano: s.end,
            attributes: span_attrs.remove(&s.row_id).unwrap_or_default(),
            dropped_attributes_count: s.dropped[0],
            events: events.remove(&s.row_id).unwrap_or_default(),
            dropped_events_count: s.dropped[1],
            links: links.remove(&s.row_id).unwrap_or_default(),
            dropped_links_count: s.dropped[2],
            status: Some(Status { message: s.status_message.clone(), code: i32::from(s.status_code) }),
        });
    }
    grouped
        .into_iter()
        .map(|(rid, scopes)| {
            let (resource, schema_url) =
                dims.resources.get(&rid).map(|r| (Some(r.resource.clone()), r.schema_url.clone())).unwrap_or_default();
            ResourceSpans {
                resource,
                scope_spans: scopes
                    .into_iter()
                    .map(|(sid, spans)| {
                        let (scope, schema_url) = dims
                            .scopes
                            .get(&sid)
                            .map(|s| (Some(s.scope.clone()), s.schema_url.clone()))
                            .unwrap_or_default();
                        ScopeSpans { scope, spans, schema_url }
                    })
                    .collect(),
                schema_url,
            }
        })
        .collect()
}
