//! Daily range partitions of the fact tables: created ahead of time, dropped past retention, per signal.
//!
//! Every partitioned parent (the facts and every table that hangs off them) is listed in
//! [`PARTITIONED_TABLES`]; DDL is built only from those names and from dates, never from input. A day's
//! partition is `<table>_pYYYYMMDD` and covers `[day 00:00 UTC, next day 00:00 UTC)`. Rows for which no
//! daily partition exists land in `<table>_default` (created by the migrations); creating the partition
//! moves them out, and rows past retention are deleted from it.
//!
//! Every unit of work (one signal's tables for one day) runs in its own transaction holding a
//! transaction-scoped advisory lock and re-checks the catalog under it, so two servers maintaining the
//! same database at once neither fail nor do anything twice.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

/// A range-partitioned parent table: its name, partition column and signal.
pub use crate::schema::PartitionedTable;
/// Signals, as the retention settings name them.
pub use crate::schema::Signal;

use crate::schema::attributes::ATTR_SETS_TABLE;
use crate::schema::{ATTR_LEVELS, PromotionLevel, tables};

/// Every partitioned parent of the schema, from the registry in [`crate::schema`]: the facts, then the
/// attribute tables of every level that has a partition column, then the span rollups. Facts come before the
/// tables hanging off them; DDL takes locks in this order, and the writer should insert in it too, so that the
/// two cannot deadlock (only the order within a signal matters: each unit of DDL is one signal's).
pub static PARTITIONED_TABLES: LazyLock<Vec<PartitionedTable>> = LazyLock::new(|| {
    let attributes = ATTR_LEVELS.iter().filter_map(|level| {
        let (column, signal) = (level.time?, level.signal?);
        Some(level.tables().map(|table| PartitionedTable { table, column, signal }))
    });
    tables::FACTS.into_iter().chain(attributes.flatten()).chain(tables::ROLLUPS).collect()
});

/// Key of the transaction-scoped advisory lock that serializes partition DDL ("ollypart").
const LOCK_KEY: i64 = 0x6f6c_6c79_7061_7274;

const ONE_DAY: Duration = Duration::from_secs(86_400);

/// How long each signal's data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Retention of spans and everything hanging off them.
    pub traces: Duration,
    /// Retention of log records.
    pub logs: Duration,
    /// Retention of metric data points and exemplars.
    pub metrics: Duration,
}

impl Default for Retention {
    /// Traces 7 days, logs 3 days, metrics 30 days.
    fn default() -> Self {
        Retention { traces: ONE_DAY * 7, logs: ONE_DAY * 3, metrics: ONE_DAY * 30 }
    }
}

impl Retention {
    /// The retention of one signal.
    pub fn of(&self, signal: Signal) -> Duration {
        match signal {
            Signal::Traces => self.traces,
            Signal::Logs => self.logs,
            Signal::Metrics => self.metrics,
        }
    }
}

/// What a maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Daily partitions created.
    pub created: usize,
    /// Daily partitions dropped past retention.
    pub dropped: usize,
    /// Rows moved out of DEFAULT partitions into partitions created for them.
    pub rows_moved: u64,
    /// Expired rows deleted from DEFAULT partitions.
    pub default_rows_deleted: u64,
    /// Metric series deleted because no batch carried them within the metrics retention.
    pub series_pruned: u64,
    /// Attribute sets deleted because no batch carried them within their signal's retention.
    pub attr_sets_pruned: u64,
    /// Resources and scopes deleted because no batch used them within the longest retention.
    pub dimensions_pruned: u64,
}

impl MaintenanceReport {
    fn add(&mut self, other: MaintenanceReport) {
        self.created += other.created;
        self.dropped += other.dropped;
        self.rows_moved += other.rows_moved;
        self.default_rows_deleted += other.default_rows_deleted;
        self.series_pruned += other.series_pruned;
        self.attr_sets_pruned += other.attr_sets_pruned;
        self.dimensions_pruned += other.dimensions_pruned;
    }
}

impl fmt::Display for MaintenanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "created {} partitions (moved {} rows out of default partitions), dropped {} expired partitions, \
             deleted {} expired rows from default partitions, pruned {} metric series, {} attribute sets and {} \
             resources and scopes not seen within retention",
            self.created,
            self.rows_moved,
            self.dropped,
            self.default_rows_deleted,
            self.series_pruned,
            self.attr_sets_pruned,
            self.dimensions_pruned
        )
    }
}

/// Errors of partition maintenance.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// A catalog query or DDL statement failed.
    #[error("partition maintenance failed in the database: {0}")]
    Database(#[from] sqlx::Error),
    /// The retention reaches before the earliest representable time.
    #[error("{signal} retention of {retention:?} before {now} is outside the supported time range")]
    RetentionOutOfRange {
        /// The signal whose retention is too long.
        signal: Signal,
        /// The configured retention.
        retention: Duration,
        /// The maintenance time.
        now: DateTime<Utc>,
    },
    /// Creating partitions that many days ahead reaches past the latest representable date.
    #[error("{days_ahead} days ahead of {now} is outside the supported time range")]
    AheadOutOfRange {
        /// The requested number of days ahead.
        days_ahead: u32,
        /// The maintenance time.
        now: DateTime<Utc>,
    },
}

/// The name of `table`'s partition for the UTC day `day`: `<table>_pYYYYMMDD`.
pub fn partition_name(table: &str, day: NaiveDate) -> String {
    format!("{table}_p{}", day.format("%Y%m%d"))
}

/// The day of a partition named by [`partition_name`] for `table`, or None for any other name.
fn partition_day(table: &str, name: &str) -> Option<NaiveDate> {
    let digits = name.strip_prefix(table)?.strip_prefix("_p")?;
    let day = NaiveDate::parse_from_str(digits, "%Y%m%d").ok()?;
    (partition_name(table, day) == name).then_some(day)
}

/// The name of `table`'s DEFAULT partition, as the migrations create it.
fn default_partition(table: &str) -> String {
    format!("{table}_default")
}

/// The SQL literal of a UTC day's start, e.g. `'2026-11-26 00:00:00+00'`.
fn day_start_literal(day: NaiveDate) -> String {
    format!("'{} 00:00:00+00'", day.format("%Y-%m-%d"))
}

/// The first day whose data `retention` still keeps at `now`: partitions of earlier days are expired.
///
/// A day's partition expires once its upper bound (next midnight) is at or before `now - retention`.
fn first_kept_day(now: DateTime<Utc>, signal: Signal, retention: &Retention) -> Result<NaiveDate, PartitionError> {
    let kept = retention.of(signal);
    let out_of_range = || PartitionError::RetentionOutOfRange { signal, retention: kept, now };
    let delta = TimeDelta::from_std(kept).map_err(|_| out_of_range())?;
    let cutoff = now.checked_sub_signed(delta).ok_or_else(out_of_range)?;
    Ok(cutoff.date_naive())
}

/// Runs one audited DDL/DML statement built from registry names and dates.
async fn execute(conn: &mut PgConnection, sql: String) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(AssertSqlSafe(sql)).execute(conn).await?.rows_affected())
}

/// (parent, child) names of every partition of a registered parent, DEFAULT ones included.
async fn existing_partitions(pool: &PgPool) -> Result<Vec<(String, String)>, sqlx::Error> {
    let parents: Vec<&str> = PARTITIONED_TABLES.iter().map(|t| t.table).collect();
    sqlx::query_as(
        "SELECT p.relname::text, c.relname::text
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relnamespace = current_schema()::regnamespace AND p.relname = ANY($1)",
    )
    .bind(parents)
    .fetch_all(pool)
    .await
}

async fn relation_exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass(quote_ident($1)) IS NOT NULL").bind(name).fetch_one(conn).await
}

/// How often a unit of partition DDL is attempted when it loses a lock conflict.
const ATTEMPTS: u32 = 4;

/// Runs one unit of partition DDL (one transaction), again when PostgreSQL aborted it to break a
/// deadlock or a lock wait. Such conflicts arise when a writer files stragglers into DEFAULT partitions
/// in another order than the registry's; the unit is idempotent, so repeating it is safe.
async fn retry_on_lock_conflict<T, F>(unit: impl Fn() -> F) -> Result<T, sqlx::Error>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    let mut attempt = 1;
    loop {
        match unit().await {
            Err(e) if attempt < ATTEMPTS && is_lock_conflict(&e) => {
                tracing::warn!(attempt, error = %e, "partition maintenance lost a lock conflict; retrying");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// deadlock_detected or lock_not_available.
fn is_lock_conflict(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|code| code == "40P01" || code == "55P03")
}

/// Begins a unit of partition DDL: a transaction holding the maintenance advisory lock.
async fn begin_locked(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK_KEY).execute(&mut *tx).await?;
    Ok(tx)
}

/// Creates `table`'s partition for `day` unless it exists, moving the day's rows out of the DEFAULT
/// partition into it. Returns the number of rows moved, or None when the partition already existed.
///
/// PostgreSQL refuses to create a partition whose range has rows in the DEFAULT partition, so the
/// partition is built as a plain table, filled from DEFAULT, and attached; ATTACH clones the parent's
/// indexes and foreign keys onto it. DEFAULT is locked first so that no writer can add a row of that
/// day between the move and the attach.
async fn create_partition(
    conn: &mut PgConnection,
    t: &PartitionedTable,
    day: NaiveDate,
    next: NaiveDate,
) -> Result<Option<u64>, sqlx::Error> {
    let name = partition_name(t.table, day);
    if relation_exists(conn, &name).await? {
        return Ok(None);
    }
    let (parent, column, default) = (t.table, t.column, default_partition(t.table));
    let (from, to) = (day_start_literal(day), day_start_literal(next));
    execute(conn, format!(r#"LOCK TABLE "{default}" IN ACCESS EXCLUSIVE MODE"#)).await?;
    execute(conn, format!(r#"CREATE TABLE "{name}" (LIKE "{parent}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"#))
        .await?;
    let moved = execute(
        conn,
        format!(
            r#"WITH moved AS (DELETE FROM "{default}" WHERE "{column}" >= {from} AND "{column}" < {to} RETURNING *)
               INSERT INTO "{name}" SELECT * FROM moved"#
        ),
    )
    .await?;
    execute(conn, format!(r#"ALTER TABLE "{parent}" ATTACH PARTITION "{name}" FOR VALUES FROM ({from}) TO ({to})"#))
        .await?;
    Ok(Some(moved))
}

/// Creates `tables`' partitions for `day` in one transaction; returns (partitions created, rows moved).
async fn create_day(
    pool: &PgPool,
    tables: &[&PartitionedTable],
    day: NaiveDate,
    next: NaiveDate,
) -> Result<(usize, u64), sqlx::Error> {
    let mut tx = begin_locked(pool).await?;
    let (mut created, mut moved) = (0, 0);
    for t in tables {
        if let Some(rows) = create_partition(&mut tx, t, day, next).await? {
            created += 1;
            moved += rows;
        }
    }
    tx.commit().await?;
    Ok((created, moved))
}

/// Drops the named partitions (one signal's, of one day) in one transaction; returns how many existed.
async fn drop_day(pool: &PgPool, names: &[String]) -> Result<usize, sqlx::Error> {
    let mut tx = begin_locked(pool).await?;
    let mut dropped = 0;
    for name in names {
        if relation_exists(&mut tx, name).await? {
            execute(&mut tx, format!(r#"DROP TABLE "{name}""#)).await?;
            dropped += 1;
        }
    }
    tx.commit().await?;
    Ok(dropped)
}

/// Creates the missing daily partitions of every registered table, for every day from the first day
/// its signal's retention keeps at `now` through `days_ahead` days after `now`'s day (UTC), moving rows
/// of those days out of the DEFAULT partitions.
pub async fn ensure_partitions(
    pool: &PgPool,
    now: DateTime<Utc>,
    retention: &Retention,
    days_ahead: u32,
) -> Result<MaintenanceReport, PartitionError> {
    let last = now
        .date_naive()
        .checked_add_days(Days::new(days_ahead.into()))
        .ok_or(PartitionError::AheadOutOfRange { days_ahead, now })?;
    let existing: HashSet<String> = existing_partitions(pool).await?.into_iter().map(|(_, child)| child).collect();
    // Yesterday onwards always has partitions (clock skew, exports queued a while); older days of the
    // retention window get one only when late rows for them wait in a default partition, so that a fresh
    // database does not start with a thousand empty tables.
    let always_from = now.date_naive().pred_opt().unwrap_or(now.date_naive());
    let mut report = MaintenanceReport::default();
    for signal in Signal::ALL {
        let first = first_kept_day(now, signal, retention)?;
        let tables: Vec<&PartitionedTable> = PARTITIONED_TABLES.iter().filter(|t| t.signal == signal).collect();
        let late = if first < always_from {
            days_waiting_in_default(pool, &tables, first, always_from).await?
        } else {
            HashSet::new()
        };
        let mut day = first;
        while day <= last {
            if day < always_from && !late.contains(&day) {
                day = day.succ_opt().ok_or(PartitionError::AheadOutOfRange { days_ahead, now })?;
                continue;
            }
            let next = day.succ_opt().ok_or(PartitionError::AheadOutOfRange { days_ahead, now })?;
            let missing: Vec<&PartitionedTable> =
                tables.iter().copied().filter(|t| !existing.contains(&partition_name(t.table, day))).collect();
            if !missing.is_empty() {
                let (created, moved) = retry_on_lock_conflict(|| create_day(pool, &missing, day, next)).await?;
                report.created += created;
                report.rows_moved += moved;
            }
            day = next;
        }
    }
    Ok(report)
}

/// The days in `[from, until)` that have rows in the default partition of any of `tables`.
async fn days_waiting_in_default(
    pool: &PgPool,
    tables: &[&PartitionedTable],
    from: NaiveDate,
    until: NaiveDate,
) -> Result<HashSet<NaiveDate>, sqlx::Error> {
    let mut days = HashSet::new();
    for t in tables {
        let (default, column) = (default_partition(t.table), t.column);
        let sql = format!(
            r#"SELECT DISTINCT ("{column}" AT TIME ZONE 'UTC')::date FROM "{default}"
               WHERE "{column}" >= {} AND "{column}" < {}"#,
            day_start_literal(from),
            day_start_literal(until)
        );
        let found: Vec<NaiveDate> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(pool).await?;
        days.extend(found);
    }
    Ok(days)
}

/// Drops the daily partitions past their signal's retention at `now` (all tables of a signal for one
/// day together, in one transaction), then deletes expired rows from the DEFAULT partitions, the metric
/// series no batch carried within the metrics retention, and the resources and scopes no batch used within
/// the longest retention.
pub async fn drop_expired(
    pool: &PgPool,
    now: DateTime<Utc>,
    retention: &Retention,
) -> Result<MaintenanceReport, PartitionError> {
    let [traces, logs, metrics] = Signal::ALL.map(|signal| first_kept_day(now, signal, retention));
    let (traces, logs, metrics) = (traces?, logs?, metrics?);
    let first_kept = |signal: Signal| match signal {
        Signal::Traces => traces,
        Signal::Logs => logs,
        Signal::Metrics => metrics,
    };
    let existing: HashSet<(String, String)> = existing_partitions(pool).await?.into_iter().collect();
    // (signal, day) -> that day's expired partitions, in registry order.
    let mut expired: BTreeMap<(Signal, NaiveDate), Vec<String>> = BTreeMap::new();
    for t in PARTITIONED_TABLES.iter() {
        let mut days: Vec<NaiveDate> = existing
            .iter()
            .filter(|(parent, _)| parent == t.table)
            .filter_map(|(_, child)| partition_day(t.table, child))
            .filter(|day| *day < first_kept(t.signal))
            .collect();
        days.sort_unstable();
        for day in days {
            expired.entry((t.signal, day)).or_default().push(partition_name(t.table, day));
        }
    }
    let mut report = MaintenanceReport::default();
    for names in expired.values() {
        report.dropped += retry_on_lock_conflict(|| drop_day(pool, names)).await?;
    }
    let mut conn = pool.acquire().await?;
    for t in PARTITIONED_TABLES.iter() {
        let (default, column) = (default_partition(t.table), t.column);
        let before = day_start_literal(first_kept(t.signal));
        report.default_rows_deleted +=
            execute(&mut conn, format!(r#"DELETE FROM "{default}" WHERE "{column}" < {before}"#)).await?;
    }
    // Series whose points are all past retention. A writer registers one again if it comes back.
    let before = day_start_literal(metrics);
    report.series_pruned +=
        execute(&mut conn, format!("DELETE FROM otel_metric_series WHERE last_seen < {before}")).await?;
    // Attribute sets no batch carried within their signal's retention, likewise registered again on return.
    for (level, signal_first_kept) in [(PromotionLevel::Span, traces), (PromotionLevel::Log, logs)] {
        let before = day_start_literal(signal_first_kept);
        report.attr_sets_pruned += execute(
            &mut conn,
            format!("DELETE FROM {ATTR_SETS_TABLE} WHERE level = {} AND last_seen < {before}", level as i16),
        )
        .await?;
    }
    // Resources and scopes no batch used within the longest retention: every fact that pointed at them is
    // gone. Rows a writer holds (it locks the cached rows it is about to use, FOR KEY SHARE) are skipped, so
    // this never waits for a writer and never deletes a row a committing batch points at; a writer whose
    // cached row was pruned registers it again (write/dims.rs). Their attribute rows go by ON DELETE CASCADE.
    let before = day_start_literal(traces.min(logs).min(metrics));
    for (table, id) in [("otel_resources_dim", "resource_id"), ("otel_scopes_dim", "scope_id")] {
        report.dimensions_pruned += execute(
            &mut conn,
            format!(
                "DELETE FROM {table} WHERE {id} IN \
                 (SELECT {id} FROM {table} WHERE last_seen < {before} FOR UPDATE SKIP LOCKED)"
            ),
        )
        .await?;
    }
    Ok(report)
}

/// One maintenance pass: drops what is past retention, then creates the partitions from retention to
/// `days_ahead` days ahead. Idempotent, and safe to run from several servers at once.
pub async fn maintain(
    pool: &PgPool,
    now: DateTime<Utc>,
    retention: &Retention,
    days_ahead: u32,
) -> Result<MaintenanceReport, PartitionError> {
    let mut report = drop_expired(pool, now, retention).await?;
    report.add(ensure_partitions(pool, now, retention, days_ahead).await?);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn partition_names_round_trip_and_foreign_names_are_ignored() {
        let d = day("2026-01-09");
        assert_eq!(partition_name("otel_logs_fact", d), "otel_logs_fact_p20260109");
        assert_eq!(partition_day("otel_logs_fact", "otel_logs_fact_p20260109"), Some(d));
        assert_eq!(partition_day("otel_logs_fact", "otel_logs_fact_default"), None);
        assert_eq!(partition_day("otel_logs_fact", "otel_logs_fact_p2026019"), None);
        assert_eq!(partition_day("otel_logs_fact", "otel_logs_fact_p20261301"), None);
        assert_eq!(partition_day("otel_log", "otel_logs_fact_p20260109"), None);
        assert_eq!(partition_day("otel_logs_fact", "otel_logs_fact_p+20260109"), None);
    }

    #[test]
    fn a_day_is_kept_until_its_end_is_past_retention() {
        let retention = Retention { logs: ONE_DAY, ..Retention::default() };
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // At 2026-01-10T00:00 with one day of retention, 2026-01-09 00:00 is the cutoff: 01-08 is expired.
        assert_eq!(first_kept_day(at("2026-01-10T00:00:00Z"), Signal::Logs, &retention).unwrap(), day("2026-01-09"));
        assert_eq!(first_kept_day(at("2026-01-10T23:59:59Z"), Signal::Logs, &retention).unwrap(), day("2026-01-09"));
        assert_eq!(first_kept_day(at("2026-01-11T00:00:00Z"), Signal::Logs, &retention).unwrap(), day("2026-01-10"));
        assert_eq!(first_kept_day(at("2026-01-10T00:00:00Z"), Signal::Traces, &retention).unwrap(), day("2026-01-03"));
    }

    #[test]
    fn the_registry_lists_each_signals_facts_before_what_hangs_off_them() {
        assert_eq!(PARTITIONED_TABLES.len(), 60);
        let names: HashSet<&str> = PARTITIONED_TABLES.iter().map(|t| t.table).collect();
        assert_eq!(names.len(), PARTITIONED_TABLES.len(), "no table twice");
        for signal in Signal::ALL {
            let is_fact: Vec<bool> = PARTITIONED_TABLES
                .iter()
                .filter(|t| t.signal == signal)
                .map(|t| crate::schema::tables::FACTS.contains(t))
                .collect();
            assert!(is_fact.windows(2).all(|w| w[0] >= w[1]), "{signal}: a fact after a table hanging off one");
        }
    }

    #[test]
    fn registry_names_fit_postgres_identifiers() {
        for t in PARTITIONED_TABLES.iter() {
            let longest = partition_name(t.table, day("2026-12-31")).len().max(default_partition(t.table).len());
            assert!(longest <= 63, "{} partition names would be truncated", t.table);
        }
    }
}
