//! Log records: search in a time window, and the logs of a trace or of one span.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value as Av};
use serde_json::{Map, Value, json};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::error::ApiError;
use super::params::{self, AttrFilter, AttrScope, Params, Window};
use super::record_attributes;
use super::{QueryState, cursor, time_fields};
use crate::ids;
use crate::normalize::anyvalue::any_value_to_json;
use crate::schema::attributes::{LOG, RESOURCE};
use crate::schema::enums::severity_class_name;

/// Parameters of the log search.
pub const SEARCH_PARAMS: &[&str] = &[
    "from",
    "to",
    "service",
    "namespace",
    "min_severity",
    "body",
    "trace_id",
    "attr",
    "resource_attr",
    "limit",
    "cursor",
];
/// Parameters of the logs of a trace or span (the window is optional there).
pub const TRACE_PARAMS: &[&str] = &["from", "to", "min_severity", "body", "attr", "resource_attr", "limit", "cursor"];

/// Parameters of the log volume: the search's filters and the bucket width.
pub const VOLUME_PARAMS: &[&str] =
    &["from", "to", "service", "namespace", "min_severity", "body", "trace_id", "attr", "resource_attr", "step"];

#[derive(Debug, Default)]
struct Filters {
    window: Option<Window>,
    service: Option<String>,
    namespace: Option<String>,
    min_severity: Option<i16>,
    body: Option<String>,
    trace_id: Option<[u8; 16]>,
    span_id: Option<[u8; 8]>,
    attrs: Vec<AttrFilter>,
}

fn common(p: &Params, st: &QueryState, window_required: bool) -> Result<Filters, ApiError> {
    Ok(Filters {
        window: params::window(p, window_required, st.options.max_window_nanos)?,
        min_severity: params::min_severity(p)?,
        body: p.one("body")?.map(str::to_owned),
        attrs: params::attr_filters(p)?,
        ..Default::default()
    })
}

/// `GET /logs/search`: log records in a window, newest first, filtered.
pub async fn search(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(SEARCH_PARAMS)?;
    let mut f = common(&p, &st, true)?;
    f.service = p.one("service")?.map(str::to_owned);
    f.namespace = p.one("namespace")?.map(str::to_owned);
    f.trace_id = p.one("trace_id")?.map(|t| params::trace_id("trace_id", t)).transpose()?;
    run(&st, &p, f, true).await
}

/// `GET /logs/volume`: how many records match the search's filters, per time bucket and severity class.
pub async fn volume(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(VOLUME_PARAMS)?;
    let mut f = common(&p, &st, true)?;
    f.service = p.one("service")?.map(str::to_owned);
    f.namespace = p.one("namespace")?.map(str::to_owned);
    f.trace_id = p.one("trace_id")?.map(|t| params::trace_id("trace_id", t)).transpose()?;
    let w = f.window.ok_or_else(|| ApiError::bad("from", "is required"))?;
    // Stored times have microseconds: a finer step would only make empty buckets.
    let step = params::step(&p, &w, 1_000_000_000, 1_000)?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT floor(extract(epoch FROM l.time - ");
    qb.push_bind(w.from_ts()).push(")::float8 * 1e6 / ").push_bind(step as f64 / 1e3);
    // The class is severity_class_name's: four numbers each, FATAL the last.
    qb.push(
        ")::bigint AS bucket, LEAST((l.severity_number + 3) / 4, 6)::int4 AS class, count(*) AS n \
         FROM otel_logs_fact l JOIN otel_resources_dim r ON r.resource_id = l.resource_id WHERE TRUE",
    );
    push_window(&mut qb, f.window.as_ref());
    push_filters(&mut qb, &f);
    qb.push(" GROUP BY 1, 2");
    let mut tx = st.read_tx().await?;
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let n = w.width().div_ceil(step);
    let mut buckets: Vec<Map<String, Value>> = vec![Map::new(); n as usize];
    for row in &rows {
        let i: i64 = row.try_get("bucket")?;
        let class: i32 = row.try_get("class")?;
        let count: i64 = row.try_get("n")?;
        let name = severity_class_name(class.max(0)).unwrap_or("UNSPECIFIED");
        if let Some(b) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) {
            b.insert(name.into(), count.into());
        }
    }
    let buckets: Vec<Value> = buckets
        .into_iter()
        .enumerate()
        .map(|(i, counts)| json!({"start_unix_nano": (w.from + i as u64 * step).to_string(), "counts": counts}))
        .collect();
    Ok(Json(json!({
        "step_ns": step,
        "window": {"from_unix_nano": w.from.to_string(), "to_unix_nano": w.to.to_string()},
        "buckets": buckets,
    })))
}

/// `GET /logs/trace/{trace_id}`: the logs of a trace, oldest first.
pub async fn by_trace(
    State(st): State<QueryState>,
    Path(trace_id): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.allow(TRACE_PARAMS)?;
    let mut f = common(&p, &st, false)?;
    f.trace_id = Some(params::trace_id("trace_id", &trace_id)?);
    run(&st, &p, f, false).await
}

/// `GET /logs/trace/{trace_id}/span/{span_id}`: the logs of one span, oldest first.
pub async fn by_span(
    State(st): State<QueryState>,
    Path((trace_id, span_id)): Path<(String, String)>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.allow(TRACE_PARAMS)?;
    let mut f = common(&p, &st, false)?;
    f.trace_id = Some(params::trace_id("trace_id", &trace_id)?);
    f.span_id = Some(params::span_id("span_id", &span_id)?);
    run(&st, &p, f, false).await
}

/// `%text%` for ILIKE with the pattern characters of `text` escaped.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Whether pg_trgm can take a trigram from `%text%`: it needs three word characters (letters or digits) in a
/// row; LIKE wildcards, escaped or not, and everything else separate words.
fn has_trigram(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_alphanumeric() { run + 1 } else { 0 };
        if run == 3 {
            return true;
        }
    }
    false
}

/// The body text filter: case-insensitive substring of the string body or of the JSON text of an array or
/// kvlist body (the other body types are not searched).
///
/// Without an index, a text that matches nothing or little scans every record of the window (1.5 s at p95
/// on 9.7M records). Migration 0011 adds a pg_trgm GIN index on `COALESCE(body_string, body_json::text)`
/// (at most one body column is set, so the COALESCE is the one text there is), and the predicate is written
/// on exactly that expression so that PostgreSQL can use it. It still chooses per text, from the index
/// expression's statistics: a frequent text keeps the time-ordered scan that stops at the LIMIT, a rare
/// or absent one reads the few candidates from the index. A text without a trigram (fewer than three
/// letters or digits in a row) would make GIN read its whole index and recheck every record (1.1-1.6 s for an
/// absent one on 1M records, against 0.7-1.1 s for the scan), so such texts get the equivalent predicate on
/// the two columns, which the index cannot serve.
fn push_body_filter(qb: &mut QueryBuilder<Postgres>, text: &str) {
    let pat = like_pattern(text);
    if has_trigram(text) {
        qb.push(" AND COALESCE(l.body_string, l.body_json::text) ILIKE ").push_bind(pat);
    } else {
        qb.push(" AND (l.body_string ILIKE ").push_bind(pat.clone());
        qb.push(" OR l.body_json::text ILIKE ").push_bind(pat);
        qb.push(")");
    }
}

/// ` AND` the window, if any, on log alias `l`.
fn push_window(qb: &mut QueryBuilder<Postgres>, window: Option<&Window>) {
    if let Some(w) = window {
        qb.push(" AND l.time >= ").push_bind(w.from_ts());
        qb.push(" AND l.time < ").push_bind(w.to_ts());
    }
}

/// ` AND` the part of `window` beyond `edge` in the search order, on log alias `l`, in a form no index
/// serves: the second step of a body search reads the trigram index's few candidates and nothing else.
///
/// Written as two comparisons, PostgreSQL pairs the bounds into a range and, without statistics, takes any
/// range for 0.5% of the partition: it read this part of the window (965k entries, 130 ms on 1M records)
/// through the time index beside or instead of the trigram index. Comparisons with `ALL` of a one-element
/// array still prune partitions, but a btree cannot serve them (it takes `ANY` only); the position bound is
/// spelled out with them too (a row comparison, or an OR of plain ones, the `(time, log_id)` index serves).
fn push_rest_window(qb: &mut QueryBuilder<Postgres>, window: &Window, newest_first: bool, edge: Position) {
    let (at, id) = edge;
    if newest_first {
        qb.push(" AND l.time >= ALL(").push_bind(vec![window.from_ts()]).push(")");
        qb.push(" AND l.time <= ALL(").push_bind(vec![at]).push(")");
        qb.push(" AND (l.time < ALL(").push_bind(vec![at]).push(") OR l.log_id < ALL(").push_bind(vec![id]).push("))");
    } else {
        qb.push(" AND l.time >= ALL(").push_bind(vec![at]).push(")");
        qb.push(" AND l.time < ALL(").push_bind(vec![window.to_ts()]).push(")");
        qb.push(" AND (l.time > ALL(").push_bind(vec![at]).push(") OR l.log_id > ALL(").push_bind(vec![id]).push("))");
    }
}

/// The filters of `f` but its window as ` AND ...` conditions on `l` (the log fact) and `r` (its resource).
fn push_filters(qb: &mut QueryBuilder<Postgres>, f: &Filters) {
    if let Some(s) = &f.service {
        qb.push(" AND r.service_name = ").push_bind(s.clone());
    }
    if let Some(s) = &f.namespace {
        qb.push(" AND r.service_namespace = ").push_bind(s.clone());
    }
    if let Some(n) = f.min_severity {
        qb.push(" AND l.severity_number >= ").push_bind(n);
    }
    if let Some(b) = &f.body {
        push_body_filter(qb, b);
    }
    if let Some(t) = f.trace_id {
        qb.push(" AND l.trace_id = ").push_bind(t.to_vec());
    }
    if let Some(s) = f.span_id {
        qb.push(" AND l.span_id = ").push_bind(s.to_vec());
    }
    for a in &f.attrs {
        qb.push(" AND ");
        match a.scope {
            AttrScope::Record => record_attributes::push_filter(qb, &LOG, "l", f.window.as_ref(), a),
            AttrScope::Resource => record_attributes::push_filter(qb, &RESOURCE, "l", None, a),
        }
    }
}

/// Records of the newest (or oldest) end of the window that a body text search walks before it reads the
/// trigram index for the rest ([`page_rows`]).
const BODY_WALK_ROWS: i64 = 5_000;

/// A position in the search order: a record's time and id.
type Position = (DateTime<Utc>, i64);

/// The part of the window a page query reads, in the search order.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// All of it after the cursor, if any.
    After(Option<Position>),
    /// The body walk: after the cursor, if any, up to the edge (inclusive).
    Walk(Option<Position>, Position),
    /// The rest of the body search: after the edge.
    Rest(Position),
}

/// The page query: records passing `f` in `part` of its window, in `newest_first` order, at most `limit`.
fn page_query(f: &Filters, newest_first: bool, part: Part, limit: i64) -> QueryBuilder<Postgres> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT l.log_id, l.time, l.time_nanos_fraction, l.time_unset, l.observed_time, \
         l.observed_time_nanos_fraction, l.severity_number, l.severity_text, l.body_type, l.body_string, \
         l.body_int, l.body_double, l.body_bool, l.body_bytes, l.body_json::text AS body_json, l.trace_id, \
         l.span_id, l.flags, l.event_name, l.dropped_attributes_count, l.resource_id, l.attr_set_key, \
         l.attributes::text AS row_attributes, r.service_name, \
         r.service_namespace, sc.name AS scope_name, sc.version AS scope_version FROM ",
    );
    // A trace's records are few and the trace id index finds them: read them first (OFFSET 0 keeps the
    // subquery its own plan), then order. Without statistics a trace id was estimated at 0.5% of a partition,
    // and PostgreSQL walked the whole partition's time index filtering it (0.6-1.5 s on 1-2M records).
    match f.trace_id {
        Some(t) => {
            qb.push("(SELECT * FROM otel_logs_fact WHERE trace_id = ").push_bind(t.to_vec()).push(" OFFSET 0) l");
        }
        None => {
            qb.push("otel_logs_fact l");
        }
    }
    qb.push(
        " JOIN otel_resources_dim r ON r.resource_id = l.resource_id \
         JOIN otel_scopes_dim sc ON sc.scope_id = l.scope_id WHERE TRUE",
    );
    let (after, until) = match (part, f.window.as_ref()) {
        (Part::Rest(edge), Some(w)) => {
            push_rest_window(&mut qb, w, newest_first, edge);
            (None, None)
        }
        (Part::Rest(edge), None) => (Some(edge), None),
        (Part::After(after), w) => {
            push_window(&mut qb, w);
            (after, None)
        }
        (Part::Walk(after, edge), w) => {
            push_window(&mut qb, w);
            (after, Some(edge))
        }
    };
    push_filters(&mut qb, f);
    push_order(&mut qb, newest_first, after, until, limit);
    qb
}

/// The planner settings of a body search's second step ([`body_rest_query`]): it is read through the trigram
/// index, whatever the statistics say. Its conditions on time are in a form no index serves
/// ([`push_rest_window`]); plain index scans are off so that an unconditioned walk of the time index (all of
/// it, the part already walked included) is no choice, and sequential scans so that neither is a scan of the
/// partition: without statistics PostgreSQL chose one (0.5 s on 1M records) over the trigram index (0.2 s)
/// for a text with one frequent trigram. The dimensions are then joined to the page's rows by bitmap probes.
pub const REST_SETTINGS: &str =
    "SET LOCAL enable_bitmapscan = on; SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off";

/// The second step of a search by `body` text in `window`, newest first ([`page_rows`]): the records beyond
/// `edge`, at most `limit`. Public so that tests can check its plan.
pub fn body_rest_query(body: &str, window: Window, edge: (DateTime<Utc>, i64), limit: i64) -> QueryBuilder<Postgres> {
    let f = Filters { window: Some(window), body: Some(body.to_owned()), ..Default::default() };
    page_query(&f, true, Part::Rest(edge), limit)
}

/// ` AND` the position bounds, then the order and the limit, on log alias `l`.
fn push_order(
    qb: &mut QueryBuilder<Postgres>,
    newest_first: bool,
    after: Option<Position>,
    until: Option<Position>,
    limit: i64,
) {
    let (cmp, until_cmp, dir) = if newest_first { ("<", ">=", "DESC") } else { (">", "<=", "ASC") };
    if let Some((at, id)) = after {
        qb.push(format_args!(" AND (l.time, l.log_id) {cmp} ("));
        qb.push_bind(at).push(", ").push_bind(id).push(")");
    }
    if let Some((at, id)) = until {
        qb.push(format_args!(" AND (l.time, l.log_id) {until_cmp} ("));
        qb.push_bind(at).push(", ").push_bind(id).push(")");
    }
    qb.push(format_args!(" ORDER BY l.time {dir}, l.log_id {dir} LIMIT "));
    qb.push_bind(limit);
}

/// The rows of one page (up to `limit + 1`, to tell whether there is more).
///
/// A body text with a trigram is the one filter whose best plan depends on how common the text is: a common
/// one is found by walking the time index and stopping at the page, a rare one through the trigram index.
/// PostgreSQL decides from the statistics, and without them (a new partition, a burst) it read every match
/// of the window through the trigram index to sort them: 1.5 s at p95 on 1.9M records. So the choice does
/// not depend on them: the search first walks the newest [`BODY_WALK_ROWS`] records of the window (bitmap
/// scans off, so that it is a walk), and only when they do not fill the page reads the rest of the window,
/// where the text is known to be rare, through the trigram index ([`push_rest_window`]).
async fn page_rows(
    tx: &mut sqlx::PgConnection,
    f: &Filters,
    newest_first: bool,
    after: Option<Position>,
    limit: i64,
) -> Result<Vec<PgRow>, ApiError> {
    let body_walk = f.body.as_deref().is_some_and(has_trigram) && f.trace_id.is_none() && f.window.is_some();
    // Without a body text, attribute or trace filter the search is a walk of the time index, newest first, and
    // must stay one: in a partition without statistics the window looked like a few rows, and PostgreSQL read
    // the whole window in a bitmap scan to sort it instead. Attribute filters and trace ids are planned from
    // their own indexes.
    let walk_only = f.body.is_none() && f.attrs.is_empty() && f.trace_id.is_none();
    if walk_only || body_walk {
        sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *tx).await?;
    }
    if !body_walk {
        // Planned for each body text (read_tx forces custom plans): a generic plan would pick one access path
        // for every text.
        return Ok(page_query(f, newest_first, Part::After(after), limit + 1).build().fetch_all(&mut *tx).await?);
    }
    // The last record of the walk: the window's BODY_WALK_ROWS-th after the cursor.
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT l.time, l.log_id FROM otel_logs_fact l WHERE TRUE");
    push_window(&mut qb, f.window.as_ref());
    push_order(&mut qb, newest_first, after, None, 1);
    qb.push(" OFFSET ").push_bind(BODY_WALK_ROWS - 1);
    let edge: Option<Position> = qb.build_query_as().fetch_optional(&mut *tx).await?;
    let Some(edge) = edge else {
        // The window has fewer records than the walk: it is the whole search.
        return Ok(page_query(f, newest_first, Part::After(after), limit + 1).build().fetch_all(&mut *tx).await?);
    };
    let mut rows = page_query(f, newest_first, Part::Walk(after, edge), limit + 1).build().fetch_all(&mut *tx).await?;
    if rows.len() <= limit as usize {
        sqlx::raw_sql(REST_SETTINGS).execute(&mut *tx).await?;
        let rest = limit + 1 - rows.len() as i64;
        rows.extend(page_query(f, newest_first, Part::Rest(edge), rest).build().fetch_all(&mut *tx).await?);
        // The attribute reads that follow in this transaction are planned as usual.
        sqlx::raw_sql("SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = on").execute(&mut *tx).await?;
    }
    Ok(rows)
}

async fn run(st: &QueryState, p: &Params, f: Filters, newest_first: bool) -> Result<Json<Value>, ApiError> {
    let limit = params::limit(p, st.options.default_limit, st.options.max_limit)?;
    let kind = if newest_first { "logs" } else { "logs-asc" };
    let after = match cursor::from_params(p, kind)? {
        Some(key) => {
            let micros = cursor::int(&key, 0)?;
            let id = cursor::int(&key, 1)?;
            let at = DateTime::<Utc>::from_timestamp_micros(micros)
                .ok_or_else(|| ApiError::bad("cursor", "damaged cursor"))?;
            Some((at, id))
        }
        None => None,
    };
    let mut tx = st.read_tx().await?;
    let mut rows = page_rows(&mut tx, &f, newest_first, after, i64::from(limit)).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);

    let mut res_ids: Vec<i64> = rows.iter().map(|r| r.try_get("resource_id")).collect::<Result<_, _>>()?;
    res_ids.sort_unstable();
    res_ids.dedup();
    let times = record_attributes::time_range(
        rows.iter().map(|r| r.try_get::<DateTime<Utc>, _>("time")).collect::<Result<Vec<_>, _>>()?,
    );
    let records: Vec<record_attributes::RecordRef> = rows
        .iter()
        .map(|r| {
            Ok(record_attributes::RecordRef {
                owner: r.try_get("log_id")?,
                set: r.try_get("attr_set_key")?,
                row: r.try_get("row_attributes")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let log_attrs = record_attributes::fetch_records(&mut tx, &LOG, &records, times).await?;
    let res_attrs = record_attributes::fetch(&mut tx, &RESOURCE, &res_ids, None).await?;
    tx.commit().await?;

    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(log_json(row, &log_attrs, &res_attrs)?);
    }
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let t: DateTime<Utc> = last.try_get("time")?;
            let id: i64 = last.try_get("log_id")?;
            Some(cursor::encode(kind, &[t.timestamp_micros().into(), id.into()]))
        }
        _ => None,
    };
    Ok(Json(json!({"logs": out, "next_cursor": next})))
}

/// A log body as its typed JSON value (null when empty).
fn body_json(row: &PgRow) -> Result<Value, ApiError> {
    let body_type: i16 = row.try_get("body_type")?;
    let av = match body_type {
        1 => row.try_get::<Option<String>, _>("body_string")?.map(Av::StringValue),
        2 => row.try_get::<Option<i64>, _>("body_int")?.map(Av::IntValue),
        3 => row.try_get::<Option<f64>, _>("body_double")?.map(Av::DoubleValue),
        4 => row.try_get::<Option<bool>, _>("body_bool")?.map(Av::BoolValue),
        5 => row.try_get::<Option<Vec<u8>>, _>("body_bytes")?.map(Av::BytesValue),
        6 | 7 => {
            let text: Option<String> = row.try_get("body_json")?;
            return text
                .map(|t| serde_json::from_str(&t).map_err(|e| ApiError::internal(e.to_string())))
                .transpose()
                .map(|v| v.unwrap_or(Value::Null));
        }
        _ => None,
    };
    Ok(match av {
        Some(v) => serde_json::from_str(&any_value_to_json(&AnyValue { value: Some(v) })).unwrap_or(Value::Null),
        None => Value::Null,
    })
}

fn hex_opt(row: &PgRow, col: &str) -> Result<Value, ApiError> {
    Ok(row.try_get::<Option<Vec<u8>>, _>(col)?.map(|b| Value::from(ids::to_hex(&b))).unwrap_or(Value::Null))
}

fn log_json(
    row: &PgRow,
    log_attrs: &HashMap<i64, Vec<opentelemetry_proto::tonic::common::v1::KeyValue>>,
    res_attrs: &HashMap<i64, Vec<opentelemetry_proto::tonic::common::v1::KeyValue>>,
) -> Result<Value, ApiError> {
    let mut m = Map::new();
    let log_id: i64 = row.try_get("log_id")?;
    let resource_id: i64 = row.try_get("resource_id")?;
    time_fields("time", row.try_get("time")?, row.try_get("time_nanos_fraction")?, &mut m)?;
    m.insert("time_unset".into(), row.try_get::<bool, _>("time_unset")?.into());
    time_fields("observed_time", row.try_get("observed_time")?, row.try_get("observed_time_nanos_fraction")?, &mut m)?;
    m.insert("severity_number".into(), row.try_get::<i16, _>("severity_number")?.into());
    m.insert("severity_text".into(), row.try_get::<String, _>("severity_text")?.into());
    m.insert("body".into(), body_json(row)?);
    m.insert("trace_id".into(), hex_opt(row, "trace_id")?);
    m.insert("span_id".into(), hex_opt(row, "span_id")?);
    // flags hold the u32 bit pattern in an INTEGER.
    m.insert("flags".into(), (row.try_get::<i32, _>("flags")? as u32).into());
    m.insert("event_name".into(), row.try_get::<String, _>("event_name")?.into());
    m.insert("dropped_attributes_count".into(), (row.try_get::<i32, _>("dropped_attributes_count")? as u32).into());
    m.insert("service_name".into(), row.try_get::<Option<String>, _>("service_name")?.into());
    m.insert("service_namespace".into(), row.try_get::<Option<String>, _>("service_namespace")?.into());
    m.insert(
        "scope".into(),
        json!({"name": row.try_get::<String, _>("scope_name")?, "version": row.try_get::<String, _>("scope_version")?}),
    );
    m.insert("attributes".into(), record_attributes::to_json(log_attrs.get(&log_id).map(Vec::as_slice).unwrap_or(&[])));
    m.insert(
        "resource_attributes".into(),
        record_attributes::to_json(res_attrs.get(&resource_id).map(Vec::as_slice).unwrap_or(&[])),
    );
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("x"), "%x%");
    }

    #[test]
    fn trigrams_need_three_word_characters_in_a_row() {
        assert!(has_trigram("op5"));
        assert!(has_trigram("a-bcd"));
        assert!(has_trigram("Grüße"));
        assert!(!has_trigram("op"));
        assert!(!has_trigram("a-b-c"));
        assert!(!has_trigram("50%_\\"));
        assert!(!has_trigram(""));
    }
}
