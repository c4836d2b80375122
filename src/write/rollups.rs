//! The span rollups of a batch, in the batch's transaction: pairs with committed spans are looked up (leaving
//! out the batch's own rows, whose pairs normalize already counted), then the per-minute rows are upserted in
//! key order (so two writers lock rows in the same order and cannot deadlock). See normalize::rollup for what
//! is counted.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::rollup_tables::{self, Edges, Operations, Services, Table};
use crate::normalize::FactIds;
use crate::normalize::rollup::{Service, SpanRollups};

/// The Unix nanoseconds of a stored time and its nanosecond fraction (0 for rollup buckets).
pub(crate) fn nanos(at: DateTime<Utc>, fraction: i16) -> Result<u64, sqlx::Error> {
    crate::time::PgTime::from_datetime_and_fraction(at, fraction)
        .map(|t| t.unix_nanos())
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A rollup time (a span start, a minute, a slot) as the `TIMESTAMPTZ` it is stored as.
pub(crate) fn at(unix_nanos: u64) -> Result<DateTime<Utc>, sqlx::Error> {
    match crate::time::from_unix_nanos(unix_nanos) {
        Ok(Some(t)) => Ok(t.datetime_micros()),
        // Unset or out of range: normalize already refused such spans, so this is a bug, not data.
        _ => Err(sqlx::Error::Protocol(format!("rollup time {unix_nanos} is not a storable time"))),
    }
}

fn service_of(row: &PgRow) -> Result<Option<Service>, sqlx::Error> {
    let name: Option<String> = row.try_get("service_name")?;
    let namespace: Option<String> = row.try_get("service_namespace")?;
    Ok(name.map(|n| Service {
        name: crate::normalize::rollup::cut(&n),
        namespace: crate::normalize::rollup::cut(namespace.as_deref().unwrap_or("")),
    }))
}

/// The settings of the lookups below, for the rest of the batch's transaction. Each lookup must be one probe
/// of the trace index per span, whatever the statistics say (figures in docs/benchmarks.md, "Rollup parent
/// lookups"): bitmap scans off, a generic plan, and sequential scans off, because a partition analyzed while
/// empty (a manual ANALYZE, a default partition emptied by maintenance) is planned as a sequential scan, and
/// once a batch has filled it that scan runs once per looked-up span. Only the rollup upserts and the
/// checkpoint (unique-index probes) follow in this transaction.
pub const LOOKUP_SETTINGS: &str =
    "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_generic_plan";

/// The service of each orphan's parent among committed spans: `$1` trace ids, `$2` parent span ids, `$3` the
/// orphans' starts, `$4` the batch's own fact id blocks, `$5` the block size. A parent starts at most an hour
/// before its child (the window keeps the lookup partition-pruned), or a few minutes after it when two hosts'
/// clocks disagree.
pub const PARENT_LOOKUP: &str = "SELECT q.i, d.service_name, d.service_namespace \
     FROM unnest($1::bytea[], $2::bytea[], $3::timestamptz[]) WITH ORDINALITY AS q(trace_id, span_id, t, i) \
     CROSS JOIN LATERAL (SELECT p.resource_id FROM otel_spans_fact p WHERE p.trace_id = q.trace_id \
       AND p.span_id = q.span_id AND p.start_time >= q.t - interval '1 hour' \
       AND p.start_time <= q.t + interval '5 minutes' AND p.span_row_id / $5 <> ALL($4::int8[]) LIMIT 1) p \
     JOIN otel_resources_dim d ON d.resource_id = p.resource_id";

/// The committed children of each caller, with their services: `$1` trace ids, `$2` the callers' span ids,
/// `$3` their starts, `$4` and `$5` as for [`PARENT_LOOKUP`].
pub const CHILD_LOOKUP: &str = "SELECT q.i, c.start_time, c.start_time_nanos_fraction, c.duration_ns, c.status_code, \
     c.service_name, c.service_namespace \
     FROM unnest($1::bytea[], $2::bytea[], $3::timestamptz[]) WITH ORDINALITY AS q(trace_id, span_id, t, i) \
     CROSS JOIN LATERAL (SELECT c.start_time, c.start_time_nanos_fraction, c.duration_ns, c.status_code, \
       d.service_name, d.service_namespace \
       FROM otel_spans_fact c JOIN otel_resources_dim d ON d.resource_id = c.resource_id \
       WHERE c.trace_id = q.trace_id AND c.parent_span_id = q.span_id \
       AND c.start_time >= q.t - interval '5 minutes' AND c.start_time <= q.t + interval '1 hour' \
       AND c.span_row_id / $5 <> ALL($4::int8[]) OFFSET 0) c";

/// Runs [`PARENT_LOOKUP`] or [`CHILD_LOOKUP`] (`sql`) with their parameters.
async fn lookup(
    conn: &mut PgConnection,
    sql: &'static str,
    traces: Vec<&[u8]>,
    span_ids: Vec<&[u8]>,
    starts: Vec<DateTime<Utc>>,
    own_blocks: &[i64],
) -> Result<Vec<PgRow>, sqlx::Error> {
    sqlx::query(sql)
        .bind(traces)
        .bind(span_ids)
        .bind(starts)
        .bind(own_blocks)
        .bind(FactIds::BLOCK_SIZE as i64)
        .fetch_all(&mut *conn)
        .await
}

/// Adds the service-to-service edges between the batch's spans and spans committed before it. `own_blocks`
/// are the batch's fact id blocks ([`FactIds`]): its own spans, if already loaded, are not paired again.
pub async fn pair_with_committed(
    conn: &mut PgConnection,
    r: &mut SpanRollups,
    own_blocks: &[i64],
) -> Result<(), sqlx::Error> {
    if r.orphans.is_empty() && r.callers.is_empty() {
        return Ok(());
    }
    sqlx::raw_sql(LOOKUP_SETTINGS).execute(&mut *conn).await?;
    if !r.orphans.is_empty() {
        let traces: Vec<&[u8]> = r.orphans.iter().map(|o| &o.trace_id[..]).collect();
        let parents: Vec<&[u8]> = r.orphans.iter().map(|o| &o.parent_span_id[..]).collect();
        let starts = r.orphans.iter().map(|o| at(o.start_ns)).collect::<Result<Vec<_>, _>>()?;
        let rows = lookup(conn, PARENT_LOOKUP, traces, parents, starts, own_blocks).await?;
        for row in &rows {
            let i: i64 = row.try_get("i")?;
            let (Some(parent), Some(o)) =
                (service_of(row)?, usize::try_from(i - 1).ok().and_then(|i| r.orphans.get(i)))
            else {
                continue;
            };
            let (child, start, duration, error) = (o.service.clone(), o.start_ns, o.duration_ns, o.error);
            r.add_call(&parent, &child, start, duration, error);
        }
    }
    if !r.callers.is_empty() {
        let traces: Vec<&[u8]> = r.callers.iter().map(|c| &c.trace_id[..]).collect();
        let spans: Vec<&[u8]> = r.callers.iter().map(|c| &c.span_id[..]).collect();
        let starts = r.callers.iter().map(|c| at(c.start_ns)).collect::<Result<Vec<_>, _>>()?;
        let rows = lookup(conn, CHILD_LOOKUP, traces, spans, starts, own_blocks).await?;
        for row in &rows {
            let i: i64 = row.try_get("i")?;
            let (Some(child), Some(caller)) =
                (service_of(row)?, usize::try_from(i - 1).ok().and_then(|i| r.callers.get(i)))
            else {
                continue;
            };
            let start: DateTime<Utc> = row.try_get("start_time")?;
            let fraction: i16 = row.try_get("start_time_nanos_fraction")?;
            let start = nanos(start, fraction)?;
            let duration: i64 = row.try_get("duration_ns")?;
            let status: i16 = row.try_get("status_code")?;
            let source = caller.service.clone();
            r.add_call(&source, &child, start, duration, status == 2);
        }
    }
    Ok(())
}

/// Adds rollups to the three tables as rows covering `minutes` (1: the writer's per-minute rows, whose keys
/// hold the minute; 10: compaction's slot rows, whose keys hold the slot's start); returns the rows inserted
/// or updated per table.
pub async fn write(
    conn: &mut PgConnection,
    r: &SpanRollups,
    minutes: i16,
) -> Result<[(&'static str, u64); 3], sqlx::Error> {
    Ok([
        (Services::NAME, rollup_tables::add::<Services>(conn, r, minutes).await?),
        (Operations::NAME, rollup_tables::add::<Operations>(conn, r, minutes).await?),
        (Edges::NAME, rollup_tables::add::<Edges>(conn, r, minutes).await?),
    ])
}
