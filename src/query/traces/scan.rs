//! The newest-first scan that finds a page of traces without grouping every matching span of the window.
//!
//! It walks matching spans newest first along the (start_time, span_row_id) index and looks up each new
//! trace's first matching span by trace id; once the walk has passed below a trace's first span, no unseen
//! trace can sort before it, so the page is known after reading roughly as many spans as the page's traces
//! have, not the whole window. With an `eq` span attribute filter (the driver) the walk goes over the spans
//! that filter matches instead (read from its value index and the window's `_other` rows, newest first), and
//! only those are looked up in the facts.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::filters::{AttrForm, SpanFilters};
use crate::query::error::ApiError;
use crate::query::params::{AttrScope, Op};
use crate::query::record_attributes as attrs;
use crate::schema::attributes::SPAN;

/// Most resources of a service walked one by one in a trace search; beyond, the time index is walked.
const MAX_RESOURCE_WALKS: usize = 64;

/// A span's place in the walk: (start_time, span_row_id).
type SpanKey = (DateTime<Utc>, i64);

/// A trace found by the scan: (start of its first matching span, trace id).
pub type Found = (DateTime<Utc>, Vec<u8>);

/// The state of one search's scan.
pub struct Scan<'a> {
    f: &'a SpanFilters,
    /// The last trace of the page before (a cursor), if any.
    after: Option<Found>,
    limit: u32,
    /// Spans read per step of the walk: a few per wanted trace at first (each new trace costs a probe),
    /// doubling up to `max_chunk` while filters are sparse.
    chunk: i64,
    max_chunk: i64,
    /// The span attribute filter that drives the walk, by index in `f.attrs`.
    driver: Option<usize>,
    /// (start_time, span_row_id) of the last span read; a page after a cursor starts at the cursor's time (a
    /// later trace's first span is no later than that).
    pos: Option<SpanKey>,
    probed: HashSet<Vec<u8>>,
    candidates: Vec<Found>,
    matches: DriverMatches,
}

/// Spans passing the driver, read ahead of the walk in large steps.
struct DriverMatches {
    queue: VecDeque<SpanKey>,
    pos: Option<SpanKey>,
    end: bool,
    /// Every span of the window passing the driver, when the first step returned them all: then a trace's first
    /// matching span is found among its spans without probing the attribute tables again.
    all: Option<HashSet<SpanKey>>,
    steps: u32,
    /// Matching spans read per step, doubling while the other filters keep few of them.
    step: i64,
}

impl<'a> Scan<'a> {
    /// A scan for a page of `limit` traces passing `f`, after the cursor's trace `after`.
    pub fn new(f: &'a SpanFilters, after: Option<Found>, limit: u32, max_chunk: u32) -> Scan<'a> {
        let max_chunk = i64::from(max_chunk.max(1));
        let chunk = ((i64::from(limit) + 1) * 4).clamp(1, max_chunk);
        let pos = after.as_ref().map(|(at, _)| (*at, i64::MAX));
        // Walking the fact time index with an `eq` attribute filter made PostgreSQL match every span against
        // the whole set of matching attribute rows (its estimate for an attribute value is a guess), which took
        // longer than the statement timeout on 500k spans for a value found in 1 span of 30.
        let driver = f.attrs.iter().position(|a| a.scope == AttrScope::Record && a.op == Op::Eq);
        let matches = DriverMatches {
            queue: VecDeque::new(),
            pos,
            end: false,
            all: None,
            steps: 0,
            step: (chunk * 4).min(max_chunk * 25),
        };
        Scan { f, after, limit, chunk, max_chunk, driver, pos, probed: HashSet::new(), candidates: Vec::new(), matches }
    }

    /// The page's traces (one more than `limit` when there is a next page), newest first.
    pub async fn run(mut self, conn: &mut PgConnection, deadline: Instant) -> Result<Vec<Found>, ApiError> {
        // A walk of the time index, or of a service's resources' index, must stay a walk: in a partition
        // without statistics, the window looked like a few hundred rows, and PostgreSQL read all of its spans
        // (or all of the resource's: 50k on 1M spans, 66 ms for a 2 ms walk) in a bitmap scan to sort them
        // instead (135 ms on 300k spans for a 0.4 ms walk). The trace id probes between the steps are index
        // probes either way; the setting is restored before the summaries.
        let walk = self.driver.is_none();
        if walk {
            sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *conn).await?;
        }
        let page = loop {
            let (rows, exhausted) = match self.driver {
                None => self.walk_step(conn).await?,
                Some(d) => self.driven_step(conn, d).await?,
            };
            let mut new_ids = Vec::new();
            for r in &rows {
                let id: Vec<u8> = r.try_get("trace_id")?;
                if self.probed.insert(id.clone()) {
                    new_ids.push(id);
                }
            }
            if !new_ids.is_empty() {
                for key in self.first_spans(conn, new_ids).await? {
                    if self.after.as_ref().is_none_or(|a| key < *a) {
                        self.candidates.push(key);
                    }
                }
            }
            // Traces whose first span is above the scan position are final: any unseen trace starts lower.
            let floor = self.pos.map(|p| p.0);
            let complete = |c: &Found| exhausted || floor.is_none_or(|fl| c.0 > fl);
            let done = self.candidates.iter().filter(|c| complete(c)).count();
            if exhausted || done > self.limit as usize {
                let mut page: Vec<Found> = self.candidates.into_iter().filter(|c| complete(c)).collect();
                page.sort_by(|a, b| b.cmp(a));
                break page;
            }
            self.chunk = (self.chunk * 2).min(self.max_chunk);
            if Instant::now() > deadline {
                return Err(ApiError::Timeout);
            }
        };
        if walk {
            sqlx::query("SET LOCAL enable_bitmapscan = on").execute(&mut *conn).await?;
        }
        Ok(page)
    }

    /// The next `chunk` matching spans along the time index (or, for a service, along each of its resources'
    /// index, merged); whether the window is exhausted.
    async fn walk_step(&mut self, conn: &mut PgConnection) -> Result<(Vec<PgRow>, bool), ApiError> {
        let (f, chunk) = (self.f, self.chunk);
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT s.trace_id, s.start_time, s.span_row_id FROM ");
        // A service's spans are walked along the (resource_id, start_time, span_row_id) index, newest first for
        // each of its resources, and merged: walking the time index instead reads every service's spans and
        // keeps one in 200 (40 ms per step at 200 services on 2M spans).
        let per_resource = f.resources.as_ref().filter(|ids| ids.len() <= MAX_RESOURCE_WALKS);
        if let Some(ids) = per_resource {
            qb.push("unnest(").push_bind(ids.clone()).push(
                "::bigint[]) AS r(id) CROSS JOIN LATERAL (SELECT s.trace_id, s.start_time, s.span_row_id \
                 FROM otel_spans_fact s WHERE s.resource_id = r.id AND ",
            );
        } else {
            qb.push("otel_spans_fact s WHERE ");
        }
        // Inside a resource's walk, `s.resource_id = ANY(...)` repeats `s.resource_id = r.id`, and PostgreSQL
        // multiplies the two selectivities: it then expected a handful of the resource's spans in the window and
        // read all of them (a bitmap scan and a sort of 39k spans) instead of the first `chunk` along the index.
        f.push_with(&mut qb, true, AttrForm::Set, per_resource.is_none());
        if let Some((t, id)) = self.pos {
            qb.push(" AND (s.start_time, s.span_row_id) < (").push_bind(t).push(", ").push_bind(id).push(")");
        }
        qb.push(" ORDER BY s.start_time DESC, s.span_row_id DESC LIMIT ").push_bind(chunk);
        if per_resource.is_some() {
            qb.push(") s ORDER BY s.start_time DESC, s.span_row_id DESC LIMIT ").push_bind(chunk);
        }
        let rows = qb.build().fetch_all(&mut *conn).await?;
        let exhausted = (rows.len() as i64) < chunk;
        if let Some(last) = rows.last() {
            self.pos = Some((last.try_get("start_time")?, last.try_get("span_row_id")?));
        }
        Ok((rows, exhausted))
    }

    /// The next `chunk` spans passing the driver (attribute filter `d`) and every other filter; whether the
    /// window is exhausted.
    async fn driven_step(&mut self, conn: &mut PgConnection, d: usize) -> Result<(Vec<PgRow>, bool), ApiError> {
        let (f, chunk) = (self.f, self.chunk);
        let m = &mut self.matches;
        // Spans matching the driver, fetched in large steps (each step reads all the matching rows).
        while (m.queue.len() as i64) < chunk && !m.end {
            let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT m.start_time, m.span_row_id FROM (");
            attrs::push_matching_owners(&mut qb, &SPAN, Some(&f.window), &f.attrs[d], m.pos, m.step);
            qb.push(") m ORDER BY m.start_time DESC, m.span_row_id DESC LIMIT ").push_bind(m.step);
            // Planned with this request's values (read_tx forces custom plans): a generic plan cannot see how
            // common the value is, and would read every match of the window.
            let got = qb.build().fetch_all(&mut *conn).await?;
            m.end = (got.len() as i64) < m.step;
            for r in &got {
                let key: SpanKey = (r.try_get("start_time")?, r.try_get("span_row_id")?);
                // An owner can match in two of the attribute tables.
                if m.queue.back() != Some(&key) {
                    m.queue.push_back(key);
                }
                m.pos = Some(key);
            }
            m.steps += 1;
            // After a page cursor the first step starts at the cursor, so it is not every span.
            if m.steps == 1 && m.end && self.after.is_none() {
                m.all = Some(m.queue.iter().copied().collect());
            }
            m.step = (m.step * 2).min(self.max_chunk * 25);
        }
        let take: Vec<SpanKey> = m.queue.drain(..m.queue.len().min(chunk as usize)).collect();
        let exhausted = m.queue.is_empty() && m.end;
        if let Some(last) = take.last() {
            self.pos = Some(*last);
        }
        if take.is_empty() {
            return Ok((Vec::new(), exhausted));
        }
        let (times, row_ids): (Vec<DateTime<Utc>>, Vec<i64>) = take.into_iter().unzip();
        // One probe of the time index per span: as a join, a partition without statistics looked small enough to
        // PostgreSQL to sort all of the window's spans and merge (450 ms on 300k spans). OFFSET 0 keeps the
        // LATERAL from being flattened into a join.
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT s.trace_id, s.start_time, s.span_row_id FROM unnest(");
        qb.push_bind(times).push("::timestamptz[], ").push_bind(row_ids).push(
            "::bigint[]) AS u(start_time, span_row_id) CROSS JOIN LATERAL \
             (SELECT s.trace_id, s.start_time, s.span_row_id FROM otel_spans_fact s \
             WHERE s.start_time = u.start_time AND s.span_row_id = u.span_row_id AND ",
        );
        f.push(&mut qb, true, AttrForm::ProbeBut(d));
        qb.push(" OFFSET 0) s ORDER BY s.start_time DESC, s.span_row_id DESC");
        Ok((qb.build().fetch_all(&mut *conn).await?, exhausted))
    }

    /// The first matching span of each new trace, wherever it is in the window.
    async fn first_spans(&self, conn: &mut PgConnection, new_ids: Vec<Vec<u8>>) -> Result<Vec<Found>, ApiError> {
        let f = self.f;
        if let (Some(d), Some(all)) = (self.driver, &self.matches.all) {
            // One trace id index lookup per trace, as below; `all` holds only spans of the window, so the window
            // may prune partitions here.
            let mut qb: QueryBuilder<Postgres> =
                QueryBuilder::new("SELECT t.id AS trace_id, s.start_time, s.span_row_id FROM unnest(");
            qb.push_bind(new_ids).push(
                "::bytea[]) AS t(id) CROSS JOIN LATERAL (SELECT s.start_time, s.span_row_id \
                 FROM otel_spans_fact s WHERE s.trace_id = t.id AND ",
            );
            f.push(&mut qb, true, AttrForm::ProbeBut(d));
            qb.push(") s");
            let mut first: HashMap<Vec<u8>, DateTime<Utc>> = HashMap::new();
            for r in qb.build().fetch_all(&mut *conn).await? {
                let at: DateTime<Utc> = r.try_get("start_time")?;
                if all.contains(&(at, r.try_get("span_row_id")?)) {
                    let e = first.entry(r.try_get("trace_id")?).or_insert(at);
                    *e = (*e).min(at);
                }
            }
            return Ok(first.into_iter().map(|(id, at)| (at, id)).collect());
        }
        // One lookup of the (trace_id, start_time) index per trace (a LATERAL on `trace_id = t.id`), the other
        // conditions checked on its few rows. With `trace_id = ANY(...)` PostgreSQL ANDed the trace id bitmap
        // with a bitmap of every span the service's resources ever had (40-60 ms at 7M spans, growing with the
        // table). The window is a WHERE condition, which leaves out the other days' partitions when planning.
        // The attribute filters are probes, as the set form would build the window's whole set of matching spans.
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT t.id AS trace_id, f.first_start FROM unnest(");
        qb.push_bind(new_ids).push(
            "::bytea[]) AS t(id) CROSS JOIN LATERAL (SELECT min(s.start_time) AS first_start \
             FROM otel_spans_fact s WHERE s.trace_id = t.id AND ",
        );
        f.push(&mut qb, true, AttrForm::Probe);
        qb.push(") f");
        let mut out = Vec::new();
        for r in qb.build().fetch_all(&mut *conn).await? {
            if let Some(first) = r.try_get::<Option<DateTime<Utc>>, _>("first_start")? {
                out.push((first, r.try_get("trace_id")?));
            }
        }
        Ok(out)
    }
}
