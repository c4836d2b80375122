//! Planner statistics follow the data: a partition is found and analyzed once its rows have grown by
//! `db::statistics::GROWTH` times what they were at its last analyze.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ollyscale::db::partitions::{self, Retention, partition_name};
use ollyscale::db::statistics::{self, GROWTH, MIN_ROWS};
use sqlx::{AssertSqlSafe, PgPool};

use crate::support::otlp::traces;

/// `n` spans starting at `at`, named `{marker}-i`.
fn spans_at(
    marker: &str,
    n: usize,
    at: DateTime<Utc>,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    let nanos = at.timestamp_nanos_opt().unwrap() as u64;
    let mut req = traces(marker, n);
    for span in &mut req.resource_spans[0].scope_spans[0].spans {
        span.start_time_unix_nano = nanos;
        span.end_time_unix_nano = nanos + 1_000_000;
    }
    req
}

/// The rows PostgreSQL's cumulative statistics count in `table` (flushed by the writer's backend within a
/// second or so of its commit).
async fn live_rows(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = $1")
        .bind(table)
        .fetch_optional(pool)
        .await
        .unwrap()
        .unwrap_or(0)
}

async fn wait_for_live_rows(pool: &PgPool, table: &str, rows: i64) {
    for _ in 0..600 {
        if live_rows(pool, table).await >= rows {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{table} never showed {rows} live rows in pg_stat_user_tables");
}

#[tokio::test]
async fn a_partition_is_analyzed_when_its_rows_have_grown_by_the_factor() {
    let env = super::env().await;
    let pool = env.pool();
    let at = Utc::now();
    partitions::maintain(pool, at, &Retention::default(), 1).await.unwrap();
    let part = partition_name("otel_spans_fact", at.date_naive());
    // Autovacuum's own analyze would race the one under test.
    sqlx::query(AssertSqlSafe(format!(r#"ALTER TABLE "{part}" SET (autovacuum_enabled = false)"#)))
        .execute(pool)
        .await
        .unwrap();
    assert!(!statistics::grown_partitions(pool).await.unwrap().contains(&part), "empty: nothing to analyze");

    let first = (MIN_ROWS as usize) * 3 / 2;
    env.traces(&spans_at("first", first, at)).await;
    wait_for_live_rows(pool, &part, first as i64).await;
    assert!(statistics::grown_partitions(pool).await.unwrap().contains(&part), "never analyzed, {first} rows");
    let analyzed = statistics::analyze_grown(pool).await.unwrap();
    assert!(analyzed.contains(&part), "{analyzed:?}");
    let reltuples: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = $1")
        .bind(&part)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(reltuples as usize, first, "the analyze counted the partition's rows");
    assert!(!statistics::grown_partitions(pool).await.unwrap().contains(&part), "just analyzed");

    // Growth below the factor leaves it alone; reaching it brings it back.
    let below = (first as f64 * GROWTH) as usize - 100;
    env.traces(&spans_at("below", below, at)).await;
    wait_for_live_rows(pool, &part, (first + below) as i64).await;
    assert!(!statistics::grown_partitions(pool).await.unwrap().contains(&part), "grew by less than the factor");
    env.traces(&spans_at("above", 100, at)).await;
    wait_for_live_rows(pool, &part, (first + below + 100) as i64).await;
    assert!(statistics::grown_partitions(pool).await.unwrap().contains(&part), "grew by the factor");
    assert!(statistics::analyze_grown(pool).await.unwrap().contains(&part));
}
