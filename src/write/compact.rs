//! Compaction of the span rollups: the minute rows of ten-minute slots that have closed are folded into one
//! row per key and slot (migrations/0010), so that the API merges about six rows per hour and key instead of
//! sixty. Runs from `serve` (every minute, in processes that ingest) and from `ollyscale maintain`.
//!
//! Each pass takes an hour of slots at a time in one transaction: it deletes the minute rows (`RETURNING`
//! them), adds them up in memory and upserts the sums as slot rows with the writer's own upsert. A row is
//! moved by exactly one transaction, whoever else compacts at the same time, and a late span that the writer
//! adds to a compacted slot afterwards lands in a new minute row (folded by the next pass) or in the slot row
//! itself: nothing is counted twice or lost. Compaction and a writer can still deadlock on a late row (they
//! lock in different orders); PostgreSQL then aborts one, the writer retries, compaction runs next pass.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::rollups::{self, at, nanos};
use crate::normalize::rollup::{Calls, EdgeKey, SLOT_MINUTES, Service, SpanRollups, TargetType, slot};

/// Slots per transaction: an hour's worth.
const SLOTS_PER_PASS: u64 = 6;

/// The slot of a row's bucket.
fn slot_of(row: &PgRow) -> Result<u64, sqlx::Error> {
    Ok(slot(nanos(row.try_get("bucket")?, 0)?))
}

fn service(row: &PgRow, name: &str, namespace: &str) -> Result<Service, sqlx::Error> {
    Ok(Service { name: row.try_get(name)?, namespace: row.try_get(namespace)? })
}

/// Adds a row's count, errors and latency (the count in column `count`) to `c`.
fn add_calls(c: &mut Calls, row: &PgRow, count: &str) -> Result<(), sqlx::Error> {
    c.count += row.try_get::<i64, _>(count)?;
    c.errors += row.try_get::<i64, _>("error_count")?;
    c.latency.merge_row(row)
}

/// Deletes and returns the minute rows of `table` in `[lo, hi)`.
async fn delete_minutes(
    conn: &mut PgConnection,
    table: &'static str,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Result<Vec<PgRow>, sqlx::Error> {
    // The table name is one of the three rollup tables the caller names, never input.
    let sql = format!("DELETE FROM {table} WHERE minutes = 1 AND bucket >= $1 AND bucket < $2 RETURNING *");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(conn).await
}

/// Moves the minute rows of `[lo, hi)` out of the three tables into `r`, keyed by slot; returns how many.
async fn take_minutes(
    conn: &mut PgConnection,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    r: &mut SpanRollups,
) -> Result<u64, sqlx::Error> {
    let rows = delete_minutes(&mut *conn, "otel_service_rollups", lo, hi).await?;
    let mut moved = rows.len() as u64;
    for row in &rows {
        let m = r.services.entry((slot_of(row)?, service(row, "service_name", "service_namespace")?)).or_default();
        m.spans += row.try_get::<i64, _>("span_count")?;
        // The row's request latency goes with its request and error counts.
        add_calls(&mut m.requests, row, "request_count")?;
    }

    let rows = delete_minutes(&mut *conn, "otel_operation_rollups", lo, hi).await?;
    moved += rows.len() as u64;
    for row in &rows {
        let key = (
            service(row, "service_name", "service_namespace")?,
            slot_of(row)?,
            row.try_get("span_name")?,
            row.try_get("span_kind")?,
        );
        add_calls(r.operations.entry(key).or_default(), row, "span_count")?;
    }

    let rows = delete_minutes(&mut *conn, "otel_service_edges", lo, hi).await?;
    moved += rows.len() as u64;
    for row in &rows {
        let target_type: String = row.try_get("target_type")?;
        let key = EdgeKey {
            minute: slot_of(row)?,
            source: service(row, "source", "source_namespace")?,
            target: service(row, "target", "target_namespace")?,
            target_type: TargetType::parse(&target_type)
                .ok_or_else(|| sqlx::Error::Protocol(format!("unknown target_type {target_type:?}")))?,
        };
        add_calls(r.edges.entry(key).or_default(), row, "call_count")?;
    }
    Ok(moved)
}

/// Folds the minute rows of every slot that ended at or before `closed` into slot rows; returns the minute
/// rows moved.
pub async fn compact_rollups(pool: &PgPool, closed: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let before = slot(nanos(closed, 0)?);
    let mut moved = 0;
    loop {
        let lo: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT LEAST((SELECT min(bucket) FROM otel_service_rollups WHERE minutes = 1 AND bucket < $1), \
             (SELECT min(bucket) FROM otel_operation_rollups WHERE minutes = 1 AND bucket < $1), \
             (SELECT min(bucket) FROM otel_service_edges WHERE minutes = 1 AND bucket < $1))",
        )
        .bind(at(before)?)
        .fetch_one(pool)
        .await?;
        let Some(lo) = lo else { return Ok(moved) };
        let lo = slot(nanos(lo, 0)?);
        let hi = (lo + SLOTS_PER_PASS * SLOT_MINUTES as u64 * 60_000_000_000).min(before);
        let mut r = SpanRollups::default();
        let mut tx = pool.begin().await?;
        moved += take_minutes(&mut tx, at(lo)?, at(hi)?, &mut r).await?;
        rollups::write(&mut tx, &r, SLOT_MINUTES).await?;
        tx.commit().await?;
    }
}
