//! Traces: search (trace summaries), one trace with everything for a waterfall (or as OTLP JSON), and the
//! flat list of a trace's spans.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::{Map, Value, json};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::error::ApiError;
use super::params::{self, AttrFilter, AttrScope, Op, Params, Window};
use super::record_attributes as attrs;
use super::{QueryState, cursor, unix_nanos};
use crate::ids;
use crate::schema::attributes::{RESOURCE, SCOPE, SPAN, SPAN_EVENT, SPAN_LINK};
use crate::schema::enums::{SPAN_KIND, STATUS_CODE};

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

/// SQL of a stored time as exact unix nanoseconds.
fn nanos_sql(col: &str) -> String {
    format!("((EXTRACT(EPOCH FROM {col}) * 1000000)::bigint * 1000 + {col}_nanos_fraction)")
}

/// Most resources of a service walked one by one in a trace search; beyond, the time index is walked.
const MAX_RESOURCE_WALKS: usize = 64;

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
#[derive(Debug, Clone)]
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

/// The span filters of a trace search; a trace matches when one of its spans passes them all.
struct SpanFilters {
    window: Window,
    /// The resources of the `service` and `namespace` filters, when there are such filters.
    resources: Option<Vec<i64>>,
    name: Option<String>,
    not_names: Vec<String>,
    kind: Option<i16>,
    not_kinds: Vec<i16>,
    status: Option<i16>,
    not_statuses: Vec<i16>,
    min_d: Option<u64>,
    max_d: Option<u64>,
    attrs: Vec<AttrFilter>,
}

/// How [`SpanFilters::push`] writes the span attribute filters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AttrForm {
    /// `IN (the window's matching spans)`: for conditions on many spans.
    Set,
    /// Correlated probes of each span's attribute rows: for conditions on a few spans.
    Probe,
    /// As `Probe`, leaving out the attribute filter at this index (already known to hold).
    ProbeBut(usize),
}

impl SpanFilters {
    /// `s.start_time >= ... AND ...` on span alias `s`; without `window`, the time window is left out.
    fn push(&self, qb: &mut QueryBuilder<Postgres>, window: bool, form: AttrForm) {
        self.push_with(qb, window, form, true);
    }

    /// [`Self::push`], leaving out the resource condition when `resources` is false.
    fn push_with(&self, qb: &mut QueryBuilder<Postgres>, window: bool, form: AttrForm, resources: bool) {
        qb.push("TRUE");
        if window {
            self.push_window(qb);
        }
        if let Some(ids) = self.resources.as_ref().filter(|_| resources) {
            qb.push(" AND s.resource_id = ANY(").push_bind(ids.clone()).push(")");
        }
        if let Some(n) = &self.name {
            qb.push(" AND s.name = ").push_bind(n.clone());
        }
        if !self.not_names.is_empty() {
            qb.push(" AND s.name <> ALL(").push_bind(self.not_names.clone()).push(")");
        }
        if let Some(k) = self.kind {
            qb.push(" AND s.kind = ").push_bind(k);
        }
        if !self.not_kinds.is_empty() {
            qb.push(" AND s.kind <> ALL(").push_bind(self.not_kinds.clone()).push(")");
        }
        if let Some(c) = self.status {
            qb.push(" AND s.status_code = ").push_bind(c);
        }
        if !self.not_statuses.is_empty() {
            qb.push(" AND s.status_code <> ALL(").push_bind(self.not_statuses.clone()).push(")");
        }
        if let Some(d) = self.min_d {
            qb.push(" AND s.duration_ns >= ").push_bind(d as i64);
        }
        if let Some(d) = self.max_d {
            qb.push(" AND s.duration_ns <= ").push_bind(d as i64);
        }
        for (i, f) in self.attrs.iter().enumerate() {
            if form == AttrForm::ProbeBut(i) {
                continue;
            }
            qb.push(" AND ");
            match f.scope {
                AttrScope::Record if form != AttrForm::Set => {
                    attrs::push_filter_probe(qb, &SPAN, "s", Some(&self.window), f)
                }
                AttrScope::Record => attrs::push_filter(qb, &SPAN, "s", Some(&self.window), f),
                AttrScope::Resource => attrs::push_filter(qb, &RESOURCE, "s", None, f),
            }
        }
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

/// THE trace search (`/api/v2`, Jaeger and Tempo call it): one page of the traces matching `q`.
///
/// Instead of grouping every matching span of the window, it walks matching spans newest first along the
/// (start_time, span_row_id) index and looks up each new trace's first matching span by trace id; once the
/// walk has passed below a trace's first span, no unseen trace can sort before it, so the page is known
/// after reading roughly as many spans as the page's traces have, not the whole window. With an `eq` span
/// attribute filter the walk goes over the spans that filter matches instead (read from its value index and
/// the window's `_other` rows, newest first), and only those are looked up in the facts.
pub async fn find_traces(st: &QueryState, q: &TraceQuery) -> Result<TracePage, ApiError> {
    let limit = q.limit.max(1);
    let mut f = SpanFilters {
        window: q.window,
        resources: None,
        name: q.name.clone(),
        not_names: q.not_names.clone(),
        kind: q.kind,
        not_kinds: q.not_kinds.clone(),
        status: q.status,
        not_statuses: q.not_statuses.clone(),
        min_d: q.min_duration,
        max_d: q.max_duration,
        attrs: q.attrs.clone(),
    };
    let after: Option<(DateTime<Utc>, Vec<u8>)> = match q.cursor.as_deref().map(|c| cursor::decode("traces", c)) {
        None => None,
        Some(key) => {
            let key = key?;
            let micros = cursor::int(&key, 0)?;
            let tid = ids::parse_trace_id(&cursor::string(&key, 1)?)
                .map_err(|_| ApiError::bad("cursor", "damaged cursor"))?;
            let at = DateTime::<Utc>::from_timestamp_micros(micros)
                .ok_or_else(|| ApiError::bad("cursor", "damaged cursor"))?;
            Some((at, tid.to_vec()))
        }
    };
    let service = q.service.clone();
    let namespace = q.namespace.clone();
    // Start with a few spans per wanted trace (each new trace costs a probe), and grow when filters are sparse.
    let max_chunk = i64::from(st.options.trace_scan_chunk.max(1));
    let mut chunk = ((i64::from(limit) + 1) * 4).clamp(1, max_chunk);
    let deadline = std::time::Instant::now() + st.options.statement_timeout;
    let mut tx = st.read_tx().await?;
    if service.is_some() || namespace.is_some() {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT resource_id FROM otel_resources_dim WHERE TRUE");
        if let Some(s) = &service {
            qb.push(" AND service_name = ").push_bind(s.clone());
        }
        if let Some(n) = &namespace {
            qb.push(" AND service_namespace = ").push_bind(n.clone());
        }
        f.resources = Some(qb.build_query_scalar().fetch_all(&mut *tx).await?);
    }
    // Scan position: (start_time, span_row_id) of the last span read; a page after a cursor starts at the
    // cursor's time (a later trace's first span is no later than that).
    let mut pos: Option<(DateTime<Utc>, i64)> = after.as_ref().map(|(at, _)| (*at, i64::MAX));
    let mut probed: HashSet<Vec<u8>> = HashSet::new();
    let mut candidates: Vec<(DateTime<Utc>, Vec<u8>)> = Vec::new();
    // With an `eq` span attribute filter, the spans passing it come from its value index (and one pass over
    // the window's `_other` rows), newest first, and only those are looked up in the facts. Walking the fact
    // time index instead made PostgreSQL match every span against the whole set of matching attribute rows
    // (its estimate for an attribute value is a guess), which took longer than the statement timeout on
    // 500k spans for a value found in 1 span of 30.
    let driver = f.attrs.iter().position(|a| a.scope == AttrScope::Record && a.op == Op::Eq);
    let mut matched: VecDeque<(DateTime<Utc>, i64)> = VecDeque::new();
    let mut matched_pos = pos;
    let mut matched_end = false;
    // Every span of the window passing the driver, when its first step returned them all: then a trace's
    // first matching span is found among its spans without probing the attribute tables again.
    let mut matched_all: Option<HashSet<(DateTime<Utc>, i64)>> = None;
    let mut steps = 0;
    // Matching spans read per step: a few per wanted trace at first (each step walks the value index newest
    // first and stops), doubling while the other filters keep few of them.
    let mut step = (chunk * 4).min(max_chunk * 25);
    // The walk of the time index must stay a walk: in a partition without statistics, the window looked like a
    // few hundred rows, and PostgreSQL read all of its spans in a bitmap scan to sort them instead (135 ms on
    // 300k spans for a 0.4 ms walk). No other statement of the search is steered by this.
    let time_walk = driver.is_none() && f.resources.as_ref().is_none_or(|ids| ids.len() > MAX_RESOURCE_WALKS);
    if time_walk {
        sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *tx).await?;
    }
    let page = loop {
        let (rows, exhausted) = match driver {
            None => {
                let mut qb: QueryBuilder<Postgres> =
                    QueryBuilder::new("SELECT s.trace_id, s.start_time, s.span_row_id FROM ");
                // A service's spans are walked along the (resource_id, start_time, span_row_id) index, newest
                // first for each of its resources, and merged: walking the time index instead reads every
                // service's spans and keeps one in 200 (40 ms per step at 200 services on 2M spans).
                let per_resource = f.resources.as_ref().filter(|ids| ids.len() <= MAX_RESOURCE_WALKS);
                if let Some(ids) = per_resource {
                    qb.push("unnest(").push_bind(ids.clone()).push(
                        "::bigint[]) AS r(id) CROSS JOIN LATERAL (SELECT s.trace_id, s.start_time, s.span_row_id \
                         FROM otel_spans_fact s WHERE s.resource_id = r.id AND ",
                    );
                } else {
                    qb.push("otel_spans_fact s WHERE ");
                }
                // Inside a resource's walk, `s.resource_id = ANY(...)` repeats `s.resource_id = r.id`, and
                // PostgreSQL multiplies the two selectivities: it then expected a handful of the resource's
                // spans in the window and read all of them (a bitmap scan and a sort of 39k spans, 10k heap
                // pages, 350-450 ms at 7M spans) instead of the first `chunk` along the index (2-6 ms).
                f.push_with(&mut qb, true, AttrForm::Set, per_resource.is_none());
                if let Some((t, id)) = pos {
                    qb.push(" AND (s.start_time, s.span_row_id) < (").push_bind(t).push(", ").push_bind(id).push(")");
                }
                qb.push(" ORDER BY s.start_time DESC, s.span_row_id DESC LIMIT ").push_bind(chunk);
                if per_resource.is_some() {
                    qb.push(") s ORDER BY s.start_time DESC, s.span_row_id DESC LIMIT ").push_bind(chunk);
                }
                let rows = qb.build().fetch_all(&mut *tx).await?;
                let exhausted = (rows.len() as i64) < chunk;
                if let Some(last) = rows.last() {
                    pos = Some((last.try_get("start_time")?, last.try_get("span_row_id")?));
                }
                (rows, exhausted)
            }
            Some(d) => {
                // Spans matching the driver, fetched in large steps (each step reads all the matching rows).
                while (matched.len() as i64) < chunk && !matched_end {
                    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT m.start_time, m.span_row_id FROM (");
                    attrs::push_matching_owners(&mut qb, &SPAN, Some(&f.window), &f.attrs[d], matched_pos, step);
                    qb.push(") m ORDER BY m.start_time DESC, m.span_row_id DESC LIMIT ").push_bind(step);
                    // Planned with this request's values (read_tx forces custom plans): a generic plan cannot
                    // see how common the value is, and would read every match of the window.
                    let got = qb.build().fetch_all(&mut *tx).await?;
                    matched_end = (got.len() as i64) < step;
                    for r in &got {
                        let key: (DateTime<Utc>, i64) = (r.try_get("start_time")?, r.try_get("span_row_id")?);
                        // An owner can match in two of the attribute tables.
                        if matched.back() != Some(&key) {
                            matched.push_back(key);
                        }
                        matched_pos = Some(key);
                    }
                    steps += 1;
                    // After a page cursor the first step starts at the cursor, so it is not every span.
                    if steps == 1 && matched_end && after.is_none() {
                        matched_all = Some(matched.iter().copied().collect());
                    }
                    step = (step * 2).min(max_chunk * 25);
                }
                let take: Vec<(DateTime<Utc>, i64)> = matched.drain(..matched.len().min(chunk as usize)).collect();
                let exhausted = matched.is_empty() && matched_end;
                if let Some(last) = take.last() {
                    pos = Some(*last);
                }
                let rows = if take.is_empty() {
                    Vec::new()
                } else {
                    let (times, row_ids): (Vec<DateTime<Utc>>, Vec<i64>) = take.into_iter().unzip();
                    // One probe of the time index per span: as a join, a partition without statistics
                    // looked small enough to PostgreSQL to sort all of the window's spans and merge
                    // (450 ms on 300k spans). OFFSET 0 keeps the LATERAL from being flattened into a join.
                    let mut qb: QueryBuilder<Postgres> =
                        QueryBuilder::new("SELECT s.trace_id, s.start_time, s.span_row_id FROM unnest(");
                    qb.push_bind(times).push("::timestamptz[], ").push_bind(row_ids).push(
                        "::bigint[]) AS u(start_time, span_row_id) CROSS JOIN LATERAL \
                         (SELECT s.trace_id, s.start_time, s.span_row_id FROM otel_spans_fact s \
                         WHERE s.start_time = u.start_time AND s.span_row_id = u.span_row_id AND ",
                    );
                    f.push(&mut qb, true, AttrForm::ProbeBut(d));
                    qb.push(" OFFSET 0) s ORDER BY s.start_time DESC, s.span_row_id DESC");
                    qb.build().fetch_all(&mut *tx).await?
                };
                (rows, exhausted)
            }
        };
        let mut new_ids = Vec::new();
        for r in &rows {
            let id: Vec<u8> = r.try_get("trace_id")?;
            if probed.insert(id.clone()) {
                new_ids.push(id);
            }
        }
        if !new_ids.is_empty() {
            // The first matching span of each new trace, wherever it is in the window.
            let firsts: Vec<(DateTime<Utc>, Vec<u8>)> = match (driver, &matched_all) {
                (Some(d), Some(all)) => {
                    // One trace id index lookup per trace, as below; `all` holds only spans of the window, so
                    // the window may prune partitions here.
                    let mut qb: QueryBuilder<Postgres> =
                        QueryBuilder::new("SELECT t.id AS trace_id, s.start_time, s.span_row_id FROM unnest(");
                    qb.push_bind(new_ids).push(
                        "::bytea[]) AS t(id) CROSS JOIN LATERAL (SELECT s.start_time, s.span_row_id \
                         FROM otel_spans_fact s WHERE s.trace_id = t.id AND ",
                    );
                    f.push(&mut qb, true, AttrForm::ProbeBut(d));
                    qb.push(") s");
                    let mut first: HashMap<Vec<u8>, DateTime<Utc>> = HashMap::new();
                    for r in qb.build().fetch_all(&mut *tx).await? {
                        let at: DateTime<Utc> = r.try_get("start_time")?;
                        if all.contains(&(at, r.try_get("span_row_id")?)) {
                            let e = first.entry(r.try_get("trace_id")?).or_insert(at);
                            *e = (*e).min(at);
                        }
                    }
                    first.into_iter().map(|(id, at)| (at, id)).collect()
                }
                _ => {
                    // One lookup of the trace id index per trace (a LATERAL on `trace_id = t.id`), the other
                    // conditions checked on its few rows. With `trace_id = ANY(...)` PostgreSQL ANDed the trace
                    // id bitmap with a bitmap of every span the service's resources ever had (all of the
                    // resource index's entries for them, whatever the window: 300 mostly uncached index pages
                    // and 40-60 ms at 7M spans, growing with the table). Against a single trace id, neither
                    // the time index nor the resource index can look cheaper, so the window is a WHERE
                    // condition, which leaves out the other days' partitions when planning. The attribute
                    // filters are probes, as the set form would build the window's whole set of matching spans.
                    let mut qb: QueryBuilder<Postgres> =
                        QueryBuilder::new("SELECT t.id AS trace_id, f.first_start FROM unnest(");
                    qb.push_bind(new_ids).push(
                        "::bytea[]) AS t(id) CROSS JOIN LATERAL (SELECT min(s.start_time) AS first_start \
                         FROM otel_spans_fact s WHERE s.trace_id = t.id AND ",
                    );
                    f.push(&mut qb, true, AttrForm::Probe);
                    qb.push(") f");
                    let mut out = Vec::new();
                    for r in qb.build().fetch_all(&mut *tx).await? {
                        if let Some(first) = r.try_get::<Option<DateTime<Utc>>, _>("first_start")? {
                            out.push((first, r.try_get("trace_id")?));
                        }
                    }
                    out
                }
            };
            for key in firsts {
                if after.as_ref().is_none_or(|a| key < *a) {
                    candidates.push(key);
                }
            }
        }
        // Traces whose first span is above the scan position are final: any unseen trace starts lower.
        let floor = pos.map(|p| p.0);
        let complete = |c: &(DateTime<Utc>, Vec<u8>)| exhausted || floor.is_none_or(|fl| c.0 > fl);
        let done = candidates.iter().filter(|c| complete(c)).count();
        if exhausted || done > limit as usize {
            let mut page: Vec<(DateTime<Utc>, Vec<u8>)> = candidates.into_iter().filter(|c| complete(c)).collect();
            page.sort_by(|a, b| b.cmp(a));
            break page;
        }
        chunk = (chunk * 2).min(max_chunk);
        if std::time::Instant::now() > deadline {
            return Err(ApiError::Timeout);
        }
    };
    if time_walk {
        sqlx::query("SET LOCAL enable_bitmapscan = on").execute(&mut *tx).await?;
    }
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

impl SpanFilters {
    /// ` AND s.start_time >= ... AND s.start_time < ...`.
    fn push_window(&self, qb: &mut QueryBuilder<Postgres>) {
        qb.push(" AND s.start_time >= ").push_bind(self.window.from_ts());
        qb.push(" AND s.start_time < ").push_bind(self.window.to_ts());
    }
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

/// RFC 3339 and unix-nanosecond fields for a time given in unix nanoseconds.
fn nanos_fields(prefix: &str, nanos: u64, m: &mut Map<String, Value>) {
    let t = DateTime::from_timestamp_nanos(nanos as i64);
    m.insert(prefix.into(), t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).into());
    m.insert(format!("{prefix}_unix_nano"), nanos.to_string().into());
}

/// One stored span and what hangs off it.
struct SpanRow {
    row_id: i64,
    start: u64,
    end: u64,
    duration_ns: i64,
    span_id: Vec<u8>,
    parent: Option<Vec<u8>>,
    trace_state: String,
    flags: u32,
    name: String,
    kind: i16,
    status_code: i16,
    status_message: String,
    dropped: [u32; 3],
    resource_id: i64,
    scope_id: i64,
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
    })
}

async fn load_spans(conn: &mut PgConnection, trace_id: &[u8; 16]) -> Result<Vec<SpanRow>, ApiError> {
    Ok(load_spans_of(conn, &[trace_id.to_vec()]).await?.1)
}

/// The spans of several traces, with the trace id of each.
async fn load_spans_of(conn: &mut PgConnection, ids: &[Vec<u8>]) -> Result<(Vec<Vec<u8>>, Vec<SpanRow>), ApiError> {
    let rows = sqlx::query(
        "SELECT trace_id, span_row_id, start_time, start_time_nanos_fraction, end_time, end_time_nanos_fraction, \
         duration_ns, span_id, parent_span_id, trace_state, flags, name, kind, status_code, status_message, \
         dropped_attributes_count, dropped_events_count, dropped_links_count, resource_id, scope_id \
         FROM otel_spans_fact WHERE trace_id = ANY($1)",
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

/// What the waterfall order needs of a span: its id, its parent's id and its start time.
pub type SpanKey = (Vec<u8>, Option<Vec<u8>>, u64);

/// Waterfall order: parents before children, siblings (and roots) by start time then span id; returns
/// (index into `spans`, depth). Spans whose parent is absent are roots; a parent cycle in bad data cannot
/// loop (each span is placed once).
pub fn waterfall(spans: &[SpanKey]) -> Vec<(usize, usize)> {
    let present: HashSet<&[u8]> = spans.iter().map(|s| s.0.as_slice()).collect();
    let mut children: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, (id, parent, _)) in spans.iter().enumerate() {
        match parent {
            Some(p) if present.contains(p.as_slice()) && p != id => children.entry(p.as_slice()).or_default().push(i),
            _ => roots.push(i),
        }
    }
    let order = |v: &mut Vec<usize>| v.sort_by(|&a, &b| (spans[a].2, &spans[a].0).cmp(&(spans[b].2, &spans[b].0)));
    order(&mut roots);
    for v in children.values_mut() {
        order(v);
    }
    let mut out = Vec::with_capacity(spans.len());
    let mut placed = vec![false; spans.len()];
    let visit = |start: usize, out: &mut Vec<(usize, usize)>, placed: &mut Vec<bool>| {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if placed[i] {
                continue;
            }
            placed[i] = true;
            out.push((i, depth));
            if let Some(kids) = children.get(spans[i].0.as_slice()) {
                for &k in kids.iter().rev() {
                    stack.push((k, depth + 1));
                }
            }
        }
    };
    for &r in &roots {
        visit(r, &mut out, &mut placed);
    }
    // Spans only reachable through a cycle: place them as roots, by start time.
    let mut rest: Vec<usize> = (0..spans.len()).filter(|&i| !placed[i]).collect();
    order(&mut rest);
    for r in rest {
        visit(r, &mut out, &mut placed);
    }
    out
}

struct Dims {
    resources: HashMap<i64, (Resource, String, Option<String>, Option<String>)>,
    scopes: HashMap<i64, (InstrumentationScope, String)>,
}

async fn load_dims(conn: &mut PgConnection, spans: &[SpanRow]) -> Result<Dims, ApiError> {
    let mut rids: Vec<i64> = spans.iter().map(|s| s.resource_id).collect();
    rids.sort_unstable();
    rids.dedup();
    let mut sids: Vec<i64> = spans.iter().map(|s| s.scope_id).collect();
    sids.sort_unstable();
    sids.dedup();
    let mut rattrs = attrs::fetch(conn, &RESOURCE, &rids, None).await?;
    let mut sattrs = attrs::fetch(conn, &SCOPE, &sids, None).await?;
    let mut resources = HashMap::new();
    for row in sqlx::query(
        "SELECT resource_id, service_name, service_namespace, schema_url, dropped_attributes_count \
         FROM otel_resources_dim WHERE resource_id = ANY($1)",
    )
    .bind(&rids)
    .fetch_all(&mut *conn)
    .await?
    {
        let id: i64 = row.try_get("resource_id")?;
        let res = Resource {
            attributes: rattrs.remove(&id).unwrap_or_default(),
            dropped_attributes_count: row.try_get::<i32, _>("dropped_attributes_count")? as u32,
            ..Default::default()
        };
        resources.insert(
            id,
            (res, row.try_get("schema_url")?, row.try_get("service_name")?, row.try_get("service_namespace")?),
        );
    }
    let mut scopes = HashMap::new();
    for row in sqlx::query(
        "SELECT scope_id, name, version, schema_url, dropped_attributes_count FROM otel_scopes_dim \
         WHERE scope_id = ANY($1)",
    )
    .bind(&sids)
    .fetch_all(&mut *conn)
    .await?
    {
        let id: i64 = row.try_get("scope_id")?;
        let sc = InstrumentationScope {
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            attributes: sattrs.remove(&id).unwrap_or_default(),
            dropped_attributes_count: row.try_get::<i32, _>("dropped_attributes_count")? as u32,
        };
        scopes.insert(id, (sc, row.try_get("schema_url")?));
    }
    Ok(Dims { resources, scopes })
}

/// The range of the spans' stored start times (the partition key of everything hanging off them).
fn span_times(spans: &[SpanRow]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    attrs::time_range(spans.iter().map(|s| params::nanos_floor_ts(s.start)))
}

/// Events and links of the spans, as OTLP, by span row id (in their stored order).
async fn load_events_links(
    conn: &mut PgConnection,
    spans: &[SpanRow],
) -> Result<(HashMap<i64, Vec<span::Event>>, HashMap<i64, Vec<span::Link>>), ApiError> {
    let row_ids: Vec<i64> = spans.iter().map(|s| s.row_id).collect();
    let times = span_times(spans);
    let (lo, hi) = times.unwrap_or((DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC));
    let ev_rows = sqlx::query(
        "SELECT event_row_id, span_row_id, time, time_nanos_fraction, name, dropped_attributes_count \
         FROM otel_span_events WHERE span_row_id = ANY($1) AND span_start_time BETWEEN $2 AND $3 \
         ORDER BY span_row_id, event_index",
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
        "SELECT link_row_id, span_row_id, trace_id, span_id, trace_state, flags, dropped_attributes_count \
         FROM otel_span_links WHERE span_row_id = ANY($1) AND span_start_time BETWEEN $2 AND $3 \
         ORDER BY span_row_id, link_index",
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
        let resource_spans = load_otlp(&mut tx, &tid).await?;
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
    let row_ids: Vec<i64> = spans.iter().map(|s| s.row_id).collect();
    let span_attrs = attrs::fetch(&mut tx, &SPAN, &row_ids, span_times(&spans)).await?;
    let (events, links) = load_events_links(&mut tx, &spans).await?;
    let dims = load_dims(&mut tx, &spans).await?;
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
            res.and_then(|r| r.2.as_deref()),
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
                Some((r, schema_url, name, ns)) => json!({
                    "service_name": name,
                    "service_namespace": ns,
                    "schema_url": schema_url,
                    "attributes": attrs::to_json(&r.attributes),
                    "dropped_attributes_count": r.dropped_attributes_count,
                }),
                None => Value::Null,
            },
        );
        m.insert(
            "scope".into(),
            match sc {
                Some((s, schema_url)) => json!({
                    "name": s.name,
                    "version": s.version,
                    "schema_url": schema_url,
                    "attributes": attrs::to_json(&s.attributes),
                    "dropped_attributes_count": s.dropped_attributes_count,
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

/// A stored trace as OTLP resource spans (resource, scope, then spans in waterfall order); empty when the
/// trace is unknown.
pub async fn load_otlp(conn: &mut PgConnection, tid: &[u8; 16]) -> Result<Vec<ResourceSpans>, ApiError> {
    Ok(load_otlp_many(conn, &[*tid]).await?.pop().map(|(_, rs)| rs).unwrap_or_default())
}

/// Stored traces as OTLP resource spans, in the order of `tids`; unknown traces are left out. One query per
/// table for all of them (a search page's traces), not one round of queries per trace.
pub async fn load_otlp_many(
    conn: &mut PgConnection,
    tids: &[[u8; 16]],
) -> Result<Vec<([u8; 16], Vec<ResourceSpans>)>, ApiError> {
    let ids: Vec<Vec<u8>> = tids.iter().map(|t| t.to_vec()).collect();
    let (trace_of, spans) = load_spans_of(conn, &ids).await?;
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let row_ids: Vec<i64> = spans.iter().map(|s| s.row_id).collect();
    let mut span_attrs = attrs::fetch(conn, &SPAN, &row_ids, span_times(&spans)).await?;
    let (mut events, mut links) = load_events_links(conn, &spans).await?;
    let dims = load_dims(conn, &spans).await?;
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
                dims.resources.get(&rid).map(|r| (Some(r.0.clone()), r.1.clone())).unwrap_or_default();
            ResourceSpans {
                resource,
                scope_spans: scopes
                    .into_iter()
                    .map(|(sid, spans)| {
                        let (scope, schema_url) =
                            dims.scopes.get(&sid).map(|s| (Some(s.0.clone()), s.1.clone())).unwrap_or_default();
                        ScopeSpans { scope, spans, schema_url }
                    })
                    .collect(),
                schema_url,
            }
        })
        .collect()
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
    let row_ids: Vec<i64> = spans.iter().map(|s| s.row_id).collect();
    let span_attrs = attrs::fetch(&mut tx, &SPAN, &row_ids, span_times(&spans)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: u8, parent: Option<u8>, start: u64) -> SpanKey {
        (vec![id; 8], parent.map(|p| vec![p; 8]), start)
    }

    #[test]
    fn waterfall_orders_parents_first_and_siblings_by_start() {
        // root 1 -> children 3 (t=30) and 2 (t=20); 2 -> 4; orphan 5 whose parent is missing; 6 -> 7 -> 6 cycle.
        let spans = vec![
            s(3, Some(1), 30),
            s(4, Some(2), 25),
            s(1, None, 10),
            s(2, Some(1), 20),
            s(5, Some(9), 5),
            s(6, Some(7), 50),
            s(7, Some(6), 40),
        ];
        let order: Vec<(u8, usize)> = waterfall(&spans).into_iter().map(|(i, d)| (spans[i].0[0], d)).collect();
        assert_eq!(order, vec![(5, 0), (1, 0), (2, 1), (4, 2), (3, 1), (7, 0), (6, 1)]);
    }
}
