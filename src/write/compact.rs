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
use sqlx::{PgConnection, PgPool};

use super::rollup_tables::{self, Edges, Operations, Services, Table};
use super::rollups::{self, at, nanos};
use crate::normalize::rollup::{SLOT_MINUTES, SpanRollups, slot};

/// Slots per transaction: an hour's worth.
const SLOTS_PER_PASS: u64 = 6;

/// Moves the minute rows of table `T` in `[lo, hi)` into `r`, keyed by slot; returns how many.
async fn take<T: Table>(
    conn: &mut PgConnection,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    r: &mut SpanRollups,
) -> Result<u64, sqlx::Error> {
    // The table name is one of the three rollup tables', never input.
    let sql = format!("DELETE FROM {} WHERE minutes = 1 AND bucket >= $1 AND bucket < $2 RETURNING *", T::NAME);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(conn).await?;
    rollup_tables::add_rows::<T>(r, &rows, slot)?;
    Ok(rows.len() as u64)
}

/// Moves the minute rows of `[lo, hi)` out of the three tables into `r`, keyed by slot; returns how many.
async fn take_minutes(
    conn: &mut PgConnection,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    r: &mut SpanRollups,
) -> Result<u64, sqlx::Error> {
    Ok(take::<Services>(conn, lo, hi, r).await?
        + take::<Operations>(conn, lo, hi, r).await?
        + take::<Edges>(conn, lo, hi, r).await?)
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
