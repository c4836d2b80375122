//! Trace search: the query, its page of trace summaries, and the newest-first scan that finds them.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::filters::{AttrForm, SpanFilters};
use super::scan::Scan;
use super::{nanos_fields, nanos_sql};
use crate::ids;
use crate::query::error::ApiError;
use crate::query::params::{self, AttrFilter, Op, Params, Window};
use crate::query::{QueryState, cursor};

/// Parameters of the trace search.
pub const SEARCH_PARAMS: &[&str] = &[
    "from",
    "to",
    "service",
    "namespace",
    "name",
    "kind",
    "status",
    "min_duration",
    "max_duration",
    "attr",
    "resource_attr",
    "limit",
    "cursor",
];

/// A trace search, whatever protocol asked for it: a trace matches when one of its spans passes every span
/// condition (Jaeger's semantics); traces come newest first by their first matching span.
#[derive(Debug, Clone)]
pub struct TraceQuery {
    /// Spans starting in this window.
    pub window: Window,
    /// `service.name` of the span's resource.
    pub service: Option<String>,
    /// `service.namespace` of the span's resource.
    pub namespace: Option<String>,
    /// Span name.
    pub name: Option<String>,
    /// Span names the span may not have.
    pub not_names: Vec<String>,
    /// Regular expressions the span name must match ([`Op::Matches`]) or not match ([`Op::NotMatches`]) as a
    /// whole ([`crate::query::pattern`]).
    pub name_patterns: Vec<(Op, String)>,
    /// Span kind (the span_kinds value).
    pub kind: Option<i16>,
    /// Span kinds the span may not have.
    pub not_kinds: Vec<i16>,
    /// Status code (the status_codes value).
    pub status: Option<i16>,
    /// Status codes the span may not have.
    pub not_statuses: Vec<i16>,
    /// Shortest span duration, in nanoseconds (inclusive).
    pub min_duration: Option<u64>,
    /// Longest span duration, in nanoseconds (inclusive).
    pub max_duration: Option<u64>,
    /// Span and resource attribute filters.
    pub attrs: Vec<AttrFilter>,
    /// Most traces on the page.
    pub limit: u32,
    /// Start after this cursor (from [`TracePage::next_cursor`]).
    pub cursor: Option<String>,
    /// Also return up to this many matching spans per trace ([`TraceSummary::matched`]).
    pub matched_spans: u32,
    /// Also count spans per service and orphan spans ([`TraceSummary::service_stats`]).
    pub service_stats: bool,
}

impl TraceQuery {
    /// A search of `window` with no conditions.
    pub fn new(window: Window, limit: u32) -> TraceQuery {
        TraceQuery {
            window,
            service: None,
            namespace: None,
            name: None,
            not_names: Vec::new(),
            name_patterns: Vec::new(),
            kind: None,
            not_kinds: Vec::new(),
            status: None,
            not_statuses: Vec::new(),
            min_duration: None,
            max_duration: None,
            attrs: Vec::new(),
            limit,
            cursor: None,
            matched_spans: 0,
            service_stats: false,
        }
    }
}

/// One page of a trace search.
#[derive(Debug, Clone)]
pub struct TracePage {
    /// The traces, newest first.
    pub traces: Vec<TraceSummary>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// What a search tells about a found trace (all its spans, inside the window or not).
#[derive(Debug, Clone, Default)]
pub struct TraceSummary {
    /// The trace id.
    pub trace_id: Vec<u8>,
    /// Service of the root span (the first span without a parent, else the first span).
    pub root_service: Option<String>,
    /// Name of the root span.
    pub root_name: Option<String>,
    /// Earliest span start, unix nanoseconds.
    pub start_ns: u64,
    /// Latest span end minus earliest start, nanoseconds.
    pub duration_ns: u64,
    /// Number of spans.
    pub span_count: i64,
    /// Spans with status ERROR.
    pub error_count: i64,
    /// Service names, sorted.
    pub services: Vec<String>,
    /// With [`TraceQuery::service_stats`]: (service, spans, error spans), by service.
    pub service_stats: Vec<(String, i64, i64)>,
    /// With [`TraceQuery::service_stats`]: spans whose parent is not in the trace.
    pub orphan_count: i64,
    /// With [`TraceQuery::matched_spans`]: matching spans, by start time.
    pub matched: Vec<MatchedSpan>,
}

/// A span that passed a search's conditions.
#[derive(Debug, Clone)]
pub struct MatchedSpan {
    /// The span id.
    pub span_id: Vec<u8>,
    /// The span name.
    pub name: String,
    /// Start, unix nanoseconds.
    pub start_ns: u64,
    /// Duration, nanoseconds.
    pub duration_ns: u64,
}

impl TraceSummary {
    /// The `/api/v2` JSON of the summary.
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("trace_id".into(), ids::to_hex(&self.trace_id).into());
        m.insert("root_service".into(), self.root_service.clone().into());
        m.insert("root_name".into(), self.root_name.clone().into());
        nanos_fields("start_time", self.start_ns, &mut m);
        m.insert("duration_ns".into(), self.duration_ns.into());
        m.insert("span_count".into(), self.span_count.into());
        m.insert("error_count".into(), self.error_count.into());
        m.insert("services".into(), self.services.clone().into());
        Value::Object(m)
    }
}

/// `GET /traces/search`: traces with at least one span matching every filter (Jaeger semantics: the span
/// filters apply to one span), as summaries, ordered by their first matching span's start, newest first.
pub async fn search(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(SEARCH_PARAMS)?;
    let window =
        params::window(&p, true, st.options.max_window_nanos)?.ok_or_else(|| ApiError::bad("from", "is required"))?;
    let mut q = TraceQuery::new(window, params::limit(&p, st.options.default_limit, st.options.max_limit)?);
    q.service = p.one("service")?.map(str::to_owned);
    q.namespace = p.one("namespace")?.map(str::to_owned);
    q.name = p.one("name")?.map(str::to_owned);
    q.kind = params::span_kind(&p)?;
    q.status = params::status_code(&p)?;
    q.min_duration = params::duration(&p, "min_duration")?;
    q.max_duration = params::duration(&p, "max_duration")?;
    q.attrs = params::attr_filters(&p)?;
    q.cursor = p.one("cursor")?.map(str::to_owned);
    let page = find_traces(&st, &q).await?;
    let out: Vec<Value> = page.traces.iter().map(TraceSummary::to_json).collect();
    Ok(Json(json!({"traces": out, "next_cursor": page.next_cursor})))
}

/// THE trace search (`/api/v2`, Jaeger and Tempo call it): one page of the traces matching `q`, found by
/// the newest-first scan of [`super::scan`].
pub async fn find_traces(st: &QueryState, q: &TraceQuery) -> Result<TracePage, ApiError> {
    let limit = q.limit.max(1);
    let mut f = SpanFilters {
        window: q.window,
        resources: None,
        name: q.name.clone(),
        not_names: q.not_names.clone(),
        name_patterns: q.name_patterns.clone(),
        kind: q.kind,
        not_kinds: q.not_kinds.clone(),
        status: q.status,
        not_statuses: q.not_statuses.clone(),
        min_d: q.min_duration,
        max_d: q.max_duration,
        attrs: q.attrs.clone(),
    };
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let mut tx = st.read_tx().await?;
    if q.service.is_some() || q.namespace.is_some() {
        f.resources = Some(service_resources(&mut tx, q.service.as_deref(), q.namespace.as_deref()).await?);
    }
    let deadline = std::time::Instant::now() + st.options.statement_timeout;
    let scan = Scan::new(&f, after, limit, st.options.trace_scan_chunk);
    let page = scan.run(&mut tx, deadline).await?;
    let more = page.len() > limit as usize;
    let page = &page[..page.len().min(limit as usize)];
    let trace_ids: Vec<Vec<u8>> = page.iter().map(|(_, id)| id.clone()).collect();
    let mut found = summaries(&mut tx, &trace_ids, q.service_stats).await?;
    if q.matched_spans > 0 && !trace_ids.is_empty() {
        for (id, spans) in matching_spans(&mut tx, &f, &trace_ids, q.matched_spans).await? {
            if let Some(s) = found.get_mut(&id) {
                s.matched = spans;
            }
        }
    }
    tx.commit().await?;

    let traces: Vec<TraceSummary> = trace_ids.iter().filter_map(|id| found.remove(id)).collect();
    let next_cursor = match (more, page.last()) {
        (true, Some((t, id))) => Some(cursor::encode("traces", &[t.timestamp_micros().into(), ids::to_hex(id).into()])),
        _ => None,
    };
    Ok(TracePage { traces, next_cursor })
}

/// A page cursor's (first matching span's start, trace id) of the last trace of the page before.
fn decode_cursor(c: &str) -> Result<(DateTime<Utc>, Vec<u8>), ApiError> {
    let key = cursor::decode("traces", c)?;
    let micros = cursor::int(&key, 0)?;
    let tid = ids::parse_trace_id(&cursor::string(&key, 1)?).map_err(|_| ApiError::bad("cursor", "damaged cursor"))?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(|| ApiError::bad("cursor", "damaged cursor"))?;
    Ok((at, tid.to_vec()))
}

/// The resources of a service and/or namespace.
async fn service_resources(
    conn: &mut PgConnection,
    service: Option<&str>,
    namespace: Option<&str>,
) -> Result<Vec<i64>, ApiError> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT resource_id FROM otel_resources_dim WHERE TRUE");
    if let Some(s) = service {
        qb.push(" AND service_name = ").push_bind(s.to_owned());
    }
    if let Some(n) = namespace {
        qb.push(" AND service_namespace = ").push_bind(n.to_owned());
    }
    Ok(qb.build_query_scalar().fetch_all(&mut *conn).await?)
}

/// Summaries of whole traces (all their spans, inside the window or not); with `stats`, also spans per
/// service and orphan spans.
async fn summaries(
    conn: &mut PgConnection,
    trace_ids: &[Vec<u8>],
    stats: bool,
) -> Result<HashMap<Vec<u8>, TraceSummary>, ApiError> {
    if trace_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let start = nanos_sql("s.start_time");
    let end = nanos_sql("s.end_time");
    // One probe of the trace index per trace (OFFSET 0 keeps the LATERAL a loop): `trace_id = ANY($1)` over a
    // partition without statistics was estimated at half of its rows and read whole.
    let sql = format!(
        "SELECT s.trace_id, count(*) AS span_count, count(*) FILTER (WHERE s.status_code = 2) AS error_count, \
         min({start}) AS start_ns, max({end}) AS end_ns, \
         (array_agg(s.name ORDER BY s.parent_span_id IS NOT NULL, {start}, s.span_id))[1] AS root_name, \
         (array_agg(r.service_name ORDER BY s.parent_span_id IS NOT NULL, {start}, s.span_id))[1] AS root_service, \
         array_agg(DISTINCT r.service_name) FILTER (WHERE r.service_name IS NOT NULL) AS services \
         FROM unnest($1::bytea[]) AS t(id) \
         CROSS JOIN LATERAL (SELECT * FROM otel_spans_fact s WHERE s.trace_id = t.id OFFSET 0) s \
         JOIN otel_resources_dim r ON r.resource_id = s.resource_id GROUP BY s.trace_id"
    );
    // Only column names are formatted in; the ids are bound.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(trace_ids).fetch_all(&mut *conn).await?;
    let mut out = HashMap::new();
    for row in rows {
        let id: Vec<u8> = row.try_get("trace_id")?;
        let start_ns: i64 = row.try_get("start_ns")?;
        let end_ns: i64 = row.try_get("end_ns")?;
        let mut services: Vec<String> = row.try_get::<Option<Vec<String>>, _>("services")?.unwrap_or_default();
        services.sort();
        out.insert(
            id.clone(),
            TraceSummary {
                trace_id: id,
                root_service: row.try_get("root_service")?,
                root_name: row.try_get("root_name")?,
                start_ns: start_ns.max(0) as u64,
                duration_ns: (end_ns - start_ns).max(0) as u64,
                span_count: row.try_get("span_count")?,
                error_count: row.try_get("error_count")?,
                services,
                service_stats: Vec::new(),
                orphan_count: 0,
                matched: Vec::new(),
            },
        );
    }
    if stats {
        // A span is an orphan when its parent id names no span of the trace (a probe of the trace id index).
        let rows = sqlx::query(
            "SELECT s.trace_id, coalesce(r.service_name, '') AS service, count(*) AS spans, \
             count(*) FILTER (WHERE s.status_code = 2) AS errors, \
             count(*) FILTER (WHERE s.parent_span_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM otel_spans_fact p \
               WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)) AS orphans \
             FROM unnest($1::bytea[]) AS t(id) \
             CROSS JOIN LATERAL (SELECT * FROM otel_spans_fact s WHERE s.trace_id = t.id OFFSET 0) s \
             JOIN otel_resources_dim r ON r.resource_id = s.resource_id GROUP BY s.trace_id, 2 ORDER BY 2",
        )
        .bind(trace_ids)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            if let Some(t) = out.get_mut(&row.try_get::<Vec<u8>, _>("trace_id")?) {
                t.service_stats.push((row.try_get("service")?, row.try_get("spans")?, row.try_get("errors")?));
                t.orphan_count += row.try_get::<i64, _>("orphans")?;
            }
        }
    }
    Ok(out)
}

/// Up to `per_trace` spans of each trace passing the search's span conditions, by start time.
async fn matching_spans(
    conn: &mut PgConnection,
    f: &SpanFilters,
    trace_ids: &[Vec<u8>],
    per_trace: u32,
) -> Result<HashMap<Vec<u8>, Vec<MatchedSpan>>, ApiError> {
    let start = nanos_sql("s.start_time");
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT t.id AS trace_id, m.* FROM unnest(");
    qb.push_bind(trace_ids.to_vec()).push(format_args!(
        "::bytea[]) AS t(id) CROSS JOIN LATERAL (SELECT s.span_id, s.name, {start} AS start_ns, s.duration_ns \
         FROM otel_spans_fact s WHERE s.trace_id = t.id AND "
    ));
    f.push(&mut qb, true, AttrForm::Probe);
    qb.push(" ORDER BY s.start_time, s.span_id LIMIT ").push_bind(i64::from(per_trace)).push(") m");
    let mut out: HashMap<Vec<u8>, Vec<MatchedSpan>> = HashMap::new();
    for row in qb.build().fetch_all(&mut *conn).await? {
        out.entry(row.try_get("trace_id")?).or_default().push(MatchedSpan {
            span_id: row.try_get("span_id")?,
            name: row.try_get("name")?,
            start_ns: row.try_get::<i64, _>("start_ns")?.max(0) as u64,
            duration_ns: row.try_get::<i64, _>("duration_ns")?.max(0) as u64,
        });
    }
    Ok(out)
}
