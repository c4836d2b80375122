//! Dimension id resolution: resources, scopes and metrics by identity hash, attribute keys by text.
//!
//! Bounded caches answer most lookups with no query. Misses are resolved inside the batch's transaction:
//! one `INSERT ... ON CONFLICT DO NOTHING RETURNING` per dimension with the rows sorted by their unique column
//! (so that two writers lock the same rows in the same order and cannot deadlock), then one `SELECT` for the
//! rows that already existed. Tables are always visited in the same order too: keys, resources, scopes,
//! metrics. Metric series and attribute sets, keyed by a hash the records carry, are upserted after them.
//! Cache updates are returned as [`CacheUpdates`] and applied only after the transaction commits,
//! so an id from a rolled-back insert is never cached.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use quick_cache::sync::Cache;
use sqlx::PgConnection;

use crate::normalize::{AttrSetDim, Hash, Ids, MetricDim, PreparedBatch, ResourceDim, ScopeDim, SeriesDim};
use crate::telemetry::Telemetry;

use super::WriteError;

/// Sizes of the dimension caches (in entries) and how often `last_seen` is refreshed.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// Resource hash -> resource_id entries.
    pub resources: usize,
    /// Scope hash -> scope_id entries.
    pub scopes: usize,
    /// Metric hash -> metric_id entries.
    pub metrics: usize,
    /// Attribute key -> key_id entries.
    pub keys: usize,
    /// Metric series keys known to be in `otel_metric_series`.
    pub series: usize,
    /// Attribute set keys known to be in `otel_attribute_sets`.
    pub attr_sets: usize,
    /// A dimension's or metric series' `last_seen` is refreshed when a batch uses it and the last refresh by
    /// this process is at least this old: per-batch updates would rewrite hot rows thousands of times a minute.
    pub last_seen_refresh: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            resources: 100_000,
            scopes: 50_000,
            metrics: 100_000,
            keys: 100_000,
            series: 1_000_000,
            attr_sets: 100_000,
            last_seen_refresh: Duration::from_secs(300),
        }
    }
}

/// A cached dimension id with the time this process last refreshed the row's `last_seen`.
#[derive(Debug, Clone, Copy)]
struct Cached {
    id: i64,
    refreshed: Instant,
}

/// The process-wide dimension caches, shared by every batch writer.
pub struct DimCaches {
    resources: Cache<Hash, Cached>,
    scopes: Cache<Hash, Cached>,
    metrics: Cache<Hash, Cached>,
    keys: Cache<String, i32>,
    /// (promotion level, key) pairs known to be in `attribute_keys_in_other`.
    other_keys: Cache<(i16, String), ()>,
    /// Series keys known to be in `otel_metric_series`, with when this process last refreshed their `last_seen`.
    series: Cache<i64, Instant>,
    /// Attribute set keys known to be in `otel_attribute_sets`, with when this process last refreshed their
    /// `last_seen`.
    attr_sets: Cache<i64, Instant>,
    last_seen_refresh: Duration,
}

impl DimCaches {
    /// Empty caches of the given sizes.
    pub fn new(opts: &CacheOptions) -> Self {
        DimCaches {
            resources: Cache::new(opts.resources.max(1)),
            scopes: Cache::new(opts.scopes.max(1)),
            metrics: Cache::new(opts.metrics.max(1)),
            keys: Cache::new(opts.keys.max(1)),
            other_keys: Cache::new(opts.keys.max(1)),
            series: Cache::new(opts.series.max(1)),
            attr_sets: Cache::new(opts.attr_sets.max(1)),
            last_seen_refresh: opts.last_seen_refresh,
        }
    }

    /// The cached resource_id of a resource hash, if any.
    pub fn resource_id(&self, hash: &Hash) -> Option<i64> {
        self.resources.get(hash).map(|c| c.id)
    }

    /// The cached scope_id of a scope hash, if any.
    pub fn scope_id(&self, hash: &Hash) -> Option<i64> {
        self.scopes.get(hash).map(|c| c.id)
    }

    /// The cached metric_id of a metric hash, if any.
    pub fn metric_id(&self, hash: &Hash) -> Option<i64> {
        self.metrics.get(hash).map(|c| c.id)
    }

    /// The cached key_id of an attribute key, if any.
    pub fn key_id(&self, key: &str) -> Option<i32> {
        self.keys.get(key)
    }

    /// Records what a committed transaction resolved.
    pub fn apply(&self, updates: CacheUpdates) {
        for (hash, c) in updates.resources {
            self.resources.insert(hash, c);
        }
        for (hash, c) in updates.scopes {
            self.scopes.insert(hash, c);
        }
        for (hash, c) in updates.metrics {
            self.metrics.insert(hash, c);
        }
        for (key, id) in updates.keys {
            self.keys.insert(key, id);
        }
        for pair in updates.other_keys {
            self.other_keys.insert(pair, ());
        }
        for (key, refreshed) in updates.series {
            self.series.insert(key, refreshed);
        }
        for (key, refreshed) in updates.attr_sets {
            self.attr_sets.insert(key, refreshed);
        }
    }
}

impl DimCaches {
    /// Whether a keyed row (a series or an attribute set) must be upserted: not seen committed by this
    /// process, or its `last_seen` not refreshed within the interval.
    fn due(&self, cache: &Cache<i64, Instant>, key: i64) -> bool {
        cache.get(&key).is_none_or(|refreshed| due_for_refresh(refreshed, self.last_seen_refresh))
    }
}

impl Default for DimCaches {
    fn default() -> Self {
        DimCaches::new(&CacheOptions::default())
    }
}

/// Cache entries to insert once the transaction that resolved them has committed.
#[derive(Debug, Default)]
pub struct CacheUpdates {
    resources: Vec<(Hash, Cached)>,
    scopes: Vec<(Hash, Cached)>,
    metrics: Vec<(Hash, Cached)>,
    keys: Vec<(String, i32)>,
    other_keys: Vec<(i16, String)>,
    series: Vec<(i64, Instant)>,
    attr_sets: Vec<(i64, Instant)>,
}

/// What resolution found: ids for every dimension and key of the batch, which rows are new (their attribute
/// rows must be written), and the cache updates to apply after commit.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Ids for [`crate::normalize::encode`] (fact blocks still empty).
    pub ids: Ids,
    /// (resource_id, index into `PreparedBatch::resources`) of rows this transaction inserted.
    pub new_resources: Vec<(i64, usize)>,
    /// (scope_id, index into `PreparedBatch::scopes`) of rows this transaction inserted.
    pub new_scopes: Vec<(i64, usize)>,
    /// Apply with [`DimCaches::apply`] after COMMIT.
    pub updates: CacheUpdates,
}

/// A dimension table: how its rows are identified, inserted and found.
trait Dimension {
    /// Table name (a constant, never input).
    const TABLE: &'static str;
    /// Surrogate id column.
    const ID: &'static str;
    /// `SELECT <id>, <hash> FROM <table> WHERE <hash> = ANY($1) FOR KEY SHARE`: the rows found stay until
    /// commit (maintenance prunes only rows no transaction holds).
    const SELECT: &'static str;

    /// The identity hash.
    fn hash(&self) -> &Hash;

    /// `INSERT ... SELECT FROM UNNEST(...) ORDER BY hash ON CONFLICT DO NOTHING RETURNING id, hash` for `rows`.
    fn insert<'q>(rows: &[&Self], seen: DateTime<Utc>) -> InsertQuery<'q>;
}

type Rows = Vec<(i64, Vec<u8>)>;
type InsertQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, (i64, Vec<u8>), sqlx::postgres::PgArguments>;

fn dropped(v: u32) -> i32 {
    // dropped_attributes_count is a uint32 stored in INTEGER; counts beyond i32::MAX saturate rather than wrap.
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl Dimension for ResourceDim {
    const TABLE: &'static str = "otel_resources_dim";
    const ID: &'static str = "resource_id";
    const SELECT: &'static str =
        "SELECT resource_id, resource_hash FROM otel_resources_dim WHERE resource_hash = ANY($1) FOR KEY SHARE";

    fn hash(&self) -> &Hash {
        &self.hash
    }

    fn insert<'q>(rows: &[&Self], seen: DateTime<Utc>) -> InsertQuery<'q> {
        sqlx::query_as(
            "INSERT INTO otel_resources_dim \
               (resource_hash, service_name, service_namespace, schema_url, dropped_attributes_count, first_seen, last_seen) \
             SELECT h, n, ns, u, d, $6, $6 \
             FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::int4[]) AS x(h, n, ns, u, d) \
             ORDER BY h \
             ON CONFLICT (resource_hash) DO NOTHING RETURNING resource_id, resource_hash",
        )
        .bind(rows.iter().map(|d| d.hash.to_vec()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.service_name.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.service_namespace.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.schema_url.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| dropped(d.dropped_attributes_count)).collect::<Vec<_>>())
        .bind(seen)
    }
}

impl Dimension for ScopeDim {
    const TABLE: &'static str = "otel_scopes_dim";
    const ID: &'static str = "scope_id";
    const SELECT: &'static str =
        "SELECT scope_id, scope_hash FROM otel_scopes_dim WHERE scope_hash = ANY($1) FOR KEY SHARE";

    fn hash(&self) -> &Hash {
        &self.hash
    }

    fn insert<'q>(rows: &[&Self], seen: DateTime<Utc>) -> InsertQuery<'q> {
        sqlx::query_as(
            "INSERT INTO otel_scopes_dim \
               (scope_hash, name, version, schema_url, dropped_attributes_count, first_seen, last_seen) \
             SELECT h, n, v, u, d, $6, $6 \
             FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::int4[]) AS x(h, n, v, u, d) \
             ORDER BY h \
             ON CONFLICT (scope_hash) DO NOTHING RETURNING scope_id, scope_hash",
        )
        .bind(rows.iter().map(|d| d.hash.to_vec()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.name.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.version.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.schema_url.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| dropped(d.dropped_attributes_count)).collect::<Vec<_>>())
        .bind(seen)
    }
}

impl Dimension for MetricDim {
    const TABLE: &'static str = "otel_metrics_dim";
    const ID: &'static str = "metric_id";
    const SELECT: &'static str =
        "SELECT metric_id, metric_hash FROM otel_metrics_dim WHERE metric_hash = ANY($1) FOR KEY SHARE";

    fn hash(&self) -> &Hash {
        &self.hash
    }

    fn insert<'q>(rows: &[&Self], seen: DateTime<Utc>) -> InsertQuery<'q> {
        sqlx::query_as(
            "INSERT INTO otel_metrics_dim \
               (metric_hash, name, metric_type, unit, description, aggregation_temporality, is_monotonic, metadata, \
                first_seen, last_seen) \
             SELECT h, n, t, u, d, tp, m, md::jsonb, $9, $9 \
             FROM UNNEST($1::bytea[], $2::text[], $3::int2[], $4::text[], $5::text[], $6::int2[], $7::bool[], $8::text[]) \
               AS x(h, n, t, u, d, tp, m, md) \
             ORDER BY h \
             ON CONFLICT (metric_hash) DO NOTHING RETURNING metric_id, metric_hash",
        )
        .bind(rows.iter().map(|d| d.hash.to_vec()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.name.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.metric_type).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.unit.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.description.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.temporality).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.is_monotonic).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.metadata.clone()).collect::<Vec<_>>())
        .bind(seen)
    }
}

/// Converts a receive time to the `first_seen` / `last_seen` value; an unset or out-of-range time means now.
pub(crate) fn seen_at(received_at_unix_nanos: u64) -> DateTime<Utc> {
    match crate::time::from_unix_nanos(received_at_unix_nanos) {
        Ok(Some(t)) => t.datetime_micros(),
        _ => Utc::now(),
    }
}

/// Resolves every dimension and key id of `prepared` inside the caller's transaction.
pub async fn resolve(
    conn: &mut PgConnection,
    caches: &DimCaches,
    prepared: &PreparedBatch,
    telemetry: &Telemetry,
) -> Result<Resolved, WriteError> {
    let ctx = ResolveContext {
        seen: seen_at(prepared.max_received_at_unix_nanos()),
        now: Instant::now(),
        refresh: caches.last_seen_refresh,
        telemetry,
    };
    let mut out = Resolved::default();
    resolve_keys(conn, caches, prepared.keys(), telemetry, &mut out).await?;
    register_other_keys(conn, caches, prepared.other_keys(), &mut out).await?;
    out.new_resources = resolve_dimension(
        conn,
        &ctx,
        &caches.resources,
        prepared.resources(),
        &mut out.ids.resources,
        &mut out.updates.resources,
    )
    .await?;
    out.new_scopes =
        resolve_dimension(conn, &ctx, &caches.scopes, prepared.scopes(), &mut out.ids.scopes, &mut out.updates.scopes)
            .await?;
    resolve_dimension(conn, &ctx, &caches.metrics, prepared.metrics(), &mut out.ids.metrics, &mut out.updates.metrics)
        .await?;
    Ok(out)
}

/// What every dimension's resolution shares.
struct ResolveContext<'a> {
    /// first_seen / last_seen of the batch.
    seen: DateTime<Utc>,
    /// When the resolved entries count as refreshed.
    now: Instant,
    /// The `last_seen` refresh interval.
    refresh: Duration,
    telemetry: &'a Telemetry,
}

/// Resolves one dimension: cache hits first, then one INSERT for the misses and one SELECT for those that
/// already existed; `last_seen` is refreshed for rows found in the database and for cached rows that are due.
/// Fills `ids` and the planned cache `updates`; returns (id, index into `items`) of the rows it inserted.
async fn resolve_dimension<D: Dimension>(
    conn: &mut PgConnection,
    ctx: &ResolveContext<'_>,
    cache: &Cache<Hash, Cached>,
    items: &[D],
    ids: &mut HashMap<Hash, i64>,
    updates: &mut Vec<(Hash, Cached)>,
) -> Result<Vec<(i64, usize)>, WriteError> {
    let mut missing: Vec<usize> = Vec::new();
    let mut due: Vec<(usize, i64)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match cache.get(item.hash()) {
            Some(c) => {
                ids.insert(*item.hash(), c.id);
                if due_for_refresh(c.refreshed, ctx.refresh) {
                    due.push((i, c.id));
                }
            }
            None => missing.push(i),
        }
    }
    count_lookups(ctx.telemetry, items.len(), missing.len());
    let mut touch_ids = keep_cached_rows(conn, items, &due, ids, &mut missing).await?;
    for &(i, id) in &due {
        if ids.contains_key(items[i].hash()) {
            updates.push((*items[i].hash(), Cached { id, refreshed: ctx.now }));
        }
    }
    let mut new_rows = Vec::new();
    if !missing.is_empty() {
        let rows: Vec<&D> = missing.iter().map(|&i| &items[i]).collect();
        let inserted: Rows = D::insert(&rows, ctx.seen).fetch_all(&mut *conn).await?;
        let position: HashMap<&Hash, usize> = missing.iter().map(|&i| (items[i].hash(), i)).collect();
        for (id, hash) in inserted {
            let Ok(h) = Hash::try_from(hash.as_slice()) else {
                continue;
            };
            if let Some(&i) = position.get(&h) {
                new_rows.push((id, i));
            }
            ids.insert(h, id);
            updates.push((h, Cached { id, refreshed: ctx.now }));
        }
        let rest: Vec<Vec<u8>> =
            rows.iter().filter(|d| !ids.contains_key(d.hash())).map(|d| d.hash().to_vec()).collect();
        if !rest.is_empty() {
            let existing: Rows = sqlx::query_as(D::SELECT).bind(&rest).fetch_all(&mut *conn).await?;
            for (id, hash) in existing {
                let Ok(h) = Hash::try_from(hash.as_slice()) else {
                    continue;
                };
                ids.insert(h, id);
                touch_ids.push(id);
                updates.push((h, Cached { id, refreshed: ctx.now }));
            }
        }
        // A row can vanish between the conflicting INSERT and the SELECT (deleted by hand or by a cleanup
        // job): retrying the batch inserts it again.
        if let Some(d) = rows.iter().find(|d| !ids.contains_key(d.hash())) {
            return Err(WriteError::Unresolved(format!(
                "{} row {} disappeared while resolving it",
                D::TABLE,
                crate::ids::to_hex(d.hash())
            )));
        }
    }
    touch(conn, D::TABLE, D::ID, touch_ids, ctx.seen).await?;
    Ok(new_rows)
}

/// Locks the rows of the cached entries due for a refresh against deletion until commit (FOR KEY SHARE:
/// writers do not wait for each other) and returns their ids to touch. An entry whose row maintenance pruned
/// (no batch used it within the retention) leaves `ids` and joins `missing`, to be inserted again; the
/// batch's facts never point at a row that is gone. Cached entries not yet due were refreshed within the
/// interval, far inside any retention, so maintenance cannot have pruned them.
async fn keep_cached_rows<D: Dimension>(
    conn: &mut PgConnection,
    items: &[D],
    due: &[(usize, i64)],
    ids: &mut HashMap<Hash, i64>,
    missing: &mut Vec<usize>,
) -> Result<Vec<i64>, WriteError> {
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let mut wanted: Vec<i64> = due.iter().map(|&(_, id)| id).collect();
    wanted.sort_unstable();
    wanted.dedup();
    // Table and column names are constants of the Dimension impls, never input.
    let sql = format!(
        "SELECT {id} FROM {table} WHERE {id} = ANY($1) ORDER BY {id} FOR KEY SHARE",
        id = D::ID,
        table = D::TABLE
    );
    let present: HashSet<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&wanted).fetch_all(&mut *conn).await?.into_iter().collect();
    for &(i, id) in due {
        if !present.contains(&id) {
            ids.remove(items[i].hash());
            missing.push(i);
        }
    }
    Ok(wanted.into_iter().filter(|id| present.contains(id)).collect())
}

/// Whether a cached row this process last refreshed at `refreshed` needs its `last_seen` written again.
fn due_for_refresh(refreshed: Instant, interval: Duration) -> bool {
    refreshed.elapsed() >= interval
}

fn count_lookups(telemetry: &Telemetry, lookups: usize, misses: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    telemetry.cache_hits.fetch_add((lookups - misses) as u64, Relaxed);
    telemetry.cache_misses.fetch_add(misses as u64, Relaxed);
}

/// Refreshes `last_seen` of rows that are due. Rows another transaction is refreshing right now are skipped
/// (SKIP LOCKED): it sets about the same time, and waiting on it could deadlock or stall.
async fn touch(
    conn: &mut PgConnection,
    table: &'static str,
    id_col: &'static str,
    mut ids: Vec<i64>,
    seen: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    ids.sort_unstable();
    ids.dedup();
    // Table and column names are constants of the Dimension impls, never input.
    let sql = format!(
        "UPDATE {table} d SET last_seen = GREATEST(d.last_seen, $2) \
         FROM (SELECT {id_col} FROM {table} WHERE {id_col} = ANY($1) ORDER BY {id_col} FOR NO KEY UPDATE SKIP LOCKED) s \
         WHERE d.{id_col} = s.{id_col}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ids).bind(seen).execute(conn).await?;
    Ok(())
}

/// Registers the batch's (level, key) pairs of `_other` rows that this process has not seen committed, in
/// sorted order (so that concurrent writers lock them in the same order).
async fn register_other_keys(
    conn: &mut PgConnection,
    caches: &DimCaches,
    pairs: &[(i16, String)],
    out: &mut Resolved,
) -> Result<(), WriteError> {
    let missing: Vec<&(i16, String)> = pairs.iter().filter(|p| caches.other_keys.get(*p).is_none()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let levels: Vec<i16> = missing.iter().map(|p| p.0).collect();
    let keys: Vec<&str> = missing.iter().map(|p| p.1.as_str()).collect();
    sqlx::query(
        "INSERT INTO attribute_keys_in_other (level, key) \
         SELECT l, k FROM UNNEST($1::smallint[], $2::text[]) AS u(l, k) ORDER BY l, k \
         ON CONFLICT DO NOTHING",
    )
    .bind(&levels)
    .bind(&keys)
    .execute(&mut *conn)
    .await?;
    out.updates.other_keys.extend(missing.into_iter().cloned());
    Ok(())
}

/// Registers the batch's metric series that this process has not seen committed, and refreshes the `last_seen`
/// of those it has not refreshed within the interval, in key order (so that concurrent writers lock them in the
/// same order); the keys join the cache after commit.
///
/// A refresh is an upsert rather than an UPDATE so that a series maintenance pruned (no batch carried it within
/// the metrics retention) is registered again when it comes back.
pub async fn register_series(
    conn: &mut PgConnection,
    caches: &DimCaches,
    series: &[SeriesDim],
    seen: DateTime<Utc>,
    updates: &mut CacheUpdates,
) -> Result<(), WriteError> {
    let due: Vec<&SeriesDim> = series.iter().filter(|s| caches.due(&caches.series, s.key)).collect();
    if due.is_empty() {
        return Ok(());
    }
    let now = Instant::now();
    let keys: Vec<i64> = due.iter().map(|s| s.key).collect();
    let metric_ids: Vec<i64> = due.iter().map(|s| s.metric_id).collect();
    let resource_ids: Vec<i64> = due.iter().map(|s| s.resource_id).collect();
    let attributes: Vec<&str> = due.iter().map(|s| s.attributes.as_str()).collect();
    sqlx::query(
        "INSERT INTO otel_metric_series (series_key, metric_id, resource_id, attributes, last_seen) \
         SELECT k, m, r, a::jsonb, $5 FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::text[]) AS u(k, m, r, a) \
         ORDER BY k ON CONFLICT (series_key) DO UPDATE \
         SET last_seen = GREATEST(otel_metric_series.last_seen, EXCLUDED.last_seen)",
    )
    .bind(&keys)
    .bind(&metric_ids)
    .bind(&resource_ids)
    .bind(&attributes)
    .bind(seen)
    .execute(&mut *conn)
    .await?;
    updates.series.extend(keys.into_iter().map(|k| (k, now)));
    Ok(())
}

/// Registers the batch's attribute sets the way [`register_series`] registers metric series: the ones this
/// process has not seen committed or not refreshed within the interval, upserted in key order.
pub async fn register_attr_sets(
    conn: &mut PgConnection,
    caches: &DimCaches,
    sets: &[AttrSetDim],
    seen: DateTime<Utc>,
    updates: &mut CacheUpdates,
) -> Result<(), WriteError> {
    let due: Vec<&AttrSetDim> = sets.iter().filter(|s| caches.due(&caches.attr_sets, s.key)).collect();
    if due.is_empty() {
        return Ok(());
    }
    let now = Instant::now();
    let keys: Vec<i64> = due.iter().map(|s| s.key).collect();
    let levels: Vec<i16> = due.iter().map(|s| s.level as i16).collect();
    let attributes: Vec<&str> = due.iter().map(|s| s.attributes.as_str()).collect();
    sqlx::query(
        "INSERT INTO otel_attribute_sets (set_key, level, attributes, last_seen) \
         SELECT k, l, a::jsonb, $4 FROM UNNEST($1::int8[], $2::int2[], $3::text[]) AS u(k, l, a) \
         ORDER BY k ON CONFLICT (set_key) DO UPDATE \
         SET last_seen = GREATEST(otel_attribute_sets.last_seen, EXCLUDED.last_seen)",
    )
    .bind(&keys)
    .bind(&levels)
    .bind(&attributes)
    .bind(seen)
    .execute(&mut *conn)
    .await?;
    updates.attr_sets.extend(keys.into_iter().map(|k| (k, now)));
    Ok(())
}

async fn resolve_keys(
    conn: &mut PgConnection,
    caches: &DimCaches,
    keys: &[String],
    telemetry: &Telemetry,
    out: &mut Resolved,
) -> Result<(), WriteError> {
    let mut missing: Vec<&str> = Vec::new();
    for k in keys {
        match caches.keys.get(k.as_str()) {
            Some(id) => {
                out.ids.keys.insert(k.clone(), id);
            }
            None => missing.push(k),
        }
    }
    count_lookups(telemetry, keys.len(), missing.len());
    if missing.is_empty() {
        return Ok(());
    }
    // Sorted by the same collation in both statements' lock order: the ORDER BY of the INSERT's source.
    let inserted: Vec<(i32, String)> = sqlx::query_as(
        "INSERT INTO attribute_keys (key) \
         SELECT k FROM UNNEST($1::text[]) AS u(k) ORDER BY k \
         ON CONFLICT (key) DO NOTHING RETURNING key_id, key",
    )
    .bind(&missing)
    .fetch_all(&mut *conn)
    .await?;
    let mut got: HashMap<String, i32> = inserted.into_iter().map(|(id, k)| (k, id)).collect();
    let rest: Vec<&str> = missing.iter().copied().filter(|k| !got.contains_key(*k)).collect();
    if !rest.is_empty() {
        let existing: Vec<(i32, String)> = sqlx::query_as("SELECT key_id, key FROM attribute_keys WHERE key = ANY($1)")
            .bind(&rest)
            .fetch_all(&mut *conn)
            .await?;
        got.extend(existing.into_iter().map(|(id, k)| (k, id)));
    }
    if let Some(k) = missing.iter().find(|k| !got.contains_key(**k)) {
        return Err(WriteError::Unresolved(format!("attribute key {k:?} disappeared while resolving it")));
    }
    for (k, id) in got {
        out.updates.keys.push((k.clone(), id));
        out.ids.keys.insert(k, id);
    }
    Ok(())
}
