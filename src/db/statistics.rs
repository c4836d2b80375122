//! Planner statistics that follow the data: partitions are analyzed as they grow, not when autovacuum
//! gets to them.
//!
//! A day's partition starts without statistics, and autovacuum analyzes a fast-growing one late (its
//! workers are busy with the other partitions, and it never analyzes partitioned parents). Until then
//! PostgreSQL plans with default selectivities, which made the newest data, the data people query most,
//! tens of times slower to search. So `serve` calls [`analyze_grown`] every few seconds: it analyzes each
//! partition of a registered table that has gained at least [`GROWTH`] times the rows it had at its last
//! analyze (and at least [`MIN_ROWS`] rows). Growth is geometric, so a partition is analyzed about
//! log2(rows / MIN_ROWS) times a day, and each ANALYZE reads a fixed-size sample.
//!
//! The counters come from PostgreSQL's cumulative statistics (`pg_stat_user_tables.n_mod_since_analyze`),
//! so rows written by every ingest server count, and two servers analyzing at once skip each other's
//! locked partitions (`SKIP_LOCKED`) instead of waiting.

use sqlx::{AssertSqlSafe, PgPool};

use super::partitions::PARTITIONED_TABLES;

/// Rows a partition must have gained since its last analyze, as a multiple of the rows it had then.
pub const GROWTH: f64 = 1.0;

/// Fewest changed rows worth an analyze: below it, default estimates cost little.
pub const MIN_ROWS: i64 = 1000;

/// The partitions of registered tables whose rows grew past the thresholds since their last analyze.
pub async fn grown_partitions(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    let parents: Vec<&str> = PARTITIONED_TABLES.iter().map(|t| t.table).collect();
    // reltuples is -1 for a table never analyzed or vacuumed: then every row counts as growth.
    sqlx::query_scalar(
        "SELECT c.relname::text
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_stat_user_tables s ON s.relid = c.oid
         WHERE p.relnamespace = current_schema()::regnamespace AND p.relname = ANY($1)
           AND s.n_mod_since_analyze >= greatest($2, $3 * greatest(c.reltuples, 0))
         ORDER BY s.n_mod_since_analyze DESC",
    )
    .bind(parents)
    .bind(MIN_ROWS)
    .bind(GROWTH)
    .fetch_all(pool)
    .await
}

/// Analyzes every grown partition (see the module doc); returns the names of those analyzed.
pub async fn analyze_grown(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    let grown = grown_partitions(pool).await?;
    let mut conn = pool.acquire().await?;
    for name in &grown {
        // The name comes from the catalog, as a child of a registered parent; quoted as an identifier.
        let sql = format!(r#"ANALYZE (SKIP_LOCKED) "{}""#, name.replace('"', "\"\""));
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    Ok(grown)
}
