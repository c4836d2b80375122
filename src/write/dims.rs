//! Dimension id resolution: resources, scopes and metrics by identity hash, attribute keys by text.
//!
//! Bounded caches answer most lookups with no query. Misses are resolved inside the batch's transaction:
//! one `INSERT ... ON CONFLICT DO NOTHING RETURNING` per dimension with the rows sorted by their unique column
//! (so that two writers lock the same rows in the same order and cannot deadlock), then one `SELECT` for the
//! rows that already existed. Tables are always visited in the same order too: keys, resources, scopes,
//! metrics. Cache updates are returned as [`CacheUpdates`] and applied only after the transaction commits,
//! so an id from a rolled-back insert is never cached.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use quick_cache::sync::Cache;
use sqlx::PgConnection;

use crate::normalize::{Hash, Ids, MetricDim, Prepared, ResourceDim, ScopeDim};
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
    /// A dimension's `last_seen` is refreshed when a batch uses it and the last refresh by this process is at
    /// least this old: per-batch updates would rewrite hot rows thousands of times a minute.
    pub last_seen_refresh: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            resources: 100_000,
            scopes: 50_000,
            metrics: 100_000,
            keys: 100_000,
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
}

/// What resolution found: ids for every dimension and key of the batch, which rows are new (their attribute
/// rows must be written), and the cache updates to apply after commit.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Ids for [`crate::normalize::encode`] (fact blocks still empty).
    pub ids: Ids,
    /// (resource_id, index into `Prepared::resources`) of rows this transaction inserted.
    pub new_resources: Vec<(i64, usize)>,
    /// (scope_id, index into `Prepared::scopes`) of rows this transaction inserted.
    pub new_scopes: Vec<(i64, usize)>,
    /// Apply with [`DimCaches::apply`] after COMMIT.
    pub updates: CacheUpdates,
}

/// Which cached entries are due for a `last_seen` refresh, and the cache's verdict per item.
struct Lookup {
    /// Indexes of items not in the cache.
    missing: Vec<usize>,
    /// Ids of cached rows whose `last_seen` is due for a refresh.
    stale: Vec<i64>,
}

fn lookup<T>(
    cache: &Cache<Hash, Cached>,
    items: &[T],
    hash: impl Fn(&T) -> &Hash,
    refresh: Duration,
    found: &mut HashMap<Hash, i64>,
    telemetry: &Telemetry,
) -> Lookup {
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let h = hash(item);
        match cache.get(h) {
            Some(c) => {
                found.insert(*h, c.id);
                if c.refreshed.elapsed() >= refresh {
                    stale.push(c.id);
                }
            }
            None => missing.push(i),
        }
    }
    let hits = (items.len() - missing.len()) as u64;
    telemetry
        .cache_hits
        .fetch_add(hits, std::sync::atomic::Ordering::Relaxed);
    telemetry
        .cache_misses
        .fetch_add(missing.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Lookup { missing, stale }
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
    prepared: &Prepared,
    telemetry: &Telemetry,
) -> Result<Resolved, WriteError> {
    let seen = seen_at(prepared.max_received_at_unix_nanos());
    let now = Instant::now();
    let mut out = Resolved::default();
    resolve_keys(conn, caches, prepared.keys(), telemetry, &mut out).await?;

    let resources = prepared.resources();
    let l = lookup(
        &caches.resources,
        resources,
        |d| &d.hash,
        caches.last_seen_refresh,
        &mut out.ids.resources,
        telemetry,
    );
    let missing: Vec<&ResourceDim> = l.missing.iter().map(|&i| &resources[i]).collect();
    let (inserted, existing) = insert_resources(conn, &missing, seen).await?;
    finish_dimension(
        &l,
        &missing.iter().map(|d| d.hash).collect::<Vec<_>>(),
        inserted,
        existing,
        &mut out.ids.resources,
        &mut out.new_resources,
        &mut out.updates.resources,
        resources.iter().map(|d| d.hash),
        now,
    )?;
    touch(conn, "otel_resources_dim", "resource_id", &l.stale, seen).await?;

    let scopes = prepared.scopes();
    let l = lookup(
        &caches.scopes,
        scopes,
        |d| &d.hash,
        caches.last_seen_refresh,
        &mut out.ids.scopes,
        telemetry,
    );
    let missing: Vec<&ScopeDim> = l.missing.iter().map(|&i| &scopes[i]).collect();
    let (inserted, existing) = insert_scopes(conn, &missing, seen).await?;
    finish_dimension(
        &l,
        &missing.iter().map(|d| d.hash).collect::<Vec<_>>(),
        inserted,
        existing,
        &mut out.ids.scopes,
        &mut out.new_scopes,
        &mut out.updates.scopes,
        scopes.iter().map(|d| d.hash),
        now,
    )?;
    touch(conn, "otel_scopes_dim", "scope_id", &l.stale, seen).await?;

    let metrics = prepared.metrics();
    let l = lookup(
        &caches.metrics,
        metrics,
        |d| &d.hash,
        caches.last_seen_refresh,
        &mut out.ids.metrics,
        telemetry,
    );
    let missing: Vec<&MetricDim> = l.missing.iter().map(|&i| &metrics[i]).collect();
    let (inserted, existing) = insert_metrics(conn, &missing, seen).await?;
    let mut new_metrics = Vec::new();
    finish_dimension(
        &l,
        &missing.iter().map(|d| d.hash).collect::<Vec<_>>(),
        inserted,
        existing,
        &mut out.ids.metrics,
        &mut new_metrics,
        &mut out.updates.metrics,
        metrics.iter().map(|d| d.hash),
        now,
    )?;
    touch(conn, "otel_metrics_dim", "metric_id", &l.stale, seen).await?;
    Ok(out)
}

/// Merges inserted and pre-existing rows into the ids, records new rows and plans the cache updates: every
/// missed row and every refreshed stale row is (re)cached with a fresh refresh time.
#[allow(clippy::too_many_arguments)]
fn finish_dimension(
    l: &Lookup,
    missing_hashes: &[Hash],
    inserted: Vec<(i64, Vec<u8>)>,
    existing: Vec<(i64, Vec<u8>)>,
    ids: &mut HashMap<Hash, i64>,
    new_rows: &mut Vec<(i64, usize)>,
    updates: &mut Vec<(Hash, Cached)>,
    all_hashes: impl Iterator<Item = Hash>,
    now: Instant,
) -> Result<(), WriteError> {
    let position: HashMap<Hash, usize> = all_hashes.enumerate().map(|(i, h)| (h, i)).collect();
    for (id, hash) in inserted {
        if let Ok(h) = Hash::try_from(hash.as_slice()) {
            ids.insert(h, id);
            if let Some(&i) = position.get(&h) {
                new_rows.push((id, i));
            }
            updates.push((h, Cached { id, refreshed: now }));
        }
    }
    for (id, hash) in existing {
        if let Ok(h) = Hash::try_from(hash.as_slice()) {
            ids.insert(h, id);
            updates.push((h, Cached { id, refreshed: now }));
        }
    }
    // A row can vanish between the conflicting INSERT and the SELECT (deleted by hand or by a cleanup job):
    // retrying the batch inserts it again.
    if let Some(h) = missing_hashes.iter().find(|h| !ids.contains_key(*h)) {
        return Err(WriteError::Unresolved(format!(
            "dimension row {} disappeared while resolving it",
            crate::ids::to_hex(h)
        )));
    }
    if !l.stale.is_empty() {
        let stale: std::collections::HashSet<i64> = l.stale.iter().copied().collect();
        for (h, id) in ids.iter() {
            if stale.contains(id) {
                updates.push((
                    *h,
                    Cached {
                        id: *id,
                        refreshed: now,
                    },
                ));
            }
        }
    }
    Ok(())
}

/// Refreshes `last_seen` of cached rows that are due. Rows another transaction is refreshing right now are
/// skipped (SKIP LOCKED): it sets about the same time, and waiting on it could deadlock or stall.
async fn touch(
    conn: &mut PgConnection,
    table: &'static str,
    id_col: &'static str,
    ids: &[i64],
    seen: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    // Table and column names are compile-time constants of this module, never input.
    let sql = format!(
        "UPDATE {table} d SET last_seen = GREATEST(d.last_seen, $2) \
         FROM (SELECT {id_col} FROM {table} WHERE {id_col} = ANY($1) ORDER BY {id_col} FOR NO KEY UPDATE SKIP LOCKED) s \
         WHERE d.{id_col} = s.{id_col}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&ids)
        .bind(seen)
        .execute(conn)
        .await?;
    Ok(())
}

async fn resolve_keys(
    conn: &mut PgConnection,
    caches: &DimCaches,
    keys: &[String],
    telemetry: &Telemetry,
    out: &mut Resolved,
) -> Result<(), sqlx::Error> {
    let mut missing: Vec<&str> = Vec::new();
    for k in keys {
        match caches.keys.get(k.as_str()) {
            Some(id) => {
                out.ids.keys.insert(k.clone(), id);
            }
            None => missing.push(k),
        }
    }
    telemetry.cache_hits.fetch_add(
        (keys.len() - missing.len()) as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    telemetry
        .cache_misses
        .fetch_add(missing.len() as u64, std::sync::atomic::Ordering::Relaxed);
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
    let rest: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|k| !got.contains_key(*k))
        .collect();
    if !rest.is_empty() {
        let existing: Vec<(i32, String)> =
            sqlx::query_as("SELECT key_id, key FROM attribute_keys WHERE key = ANY($1)")
                .bind(&rest)
                .fetch_all(&mut *conn)
                .await?;
        got.extend(existing.into_iter().map(|(id, k)| (k, id)));
    }
    for (k, id) in got {
        out.updates.keys.push((k.clone(), id));
        out.ids.keys.insert(k, id);
    }
    Ok(())
}

type Rows = Vec<(i64, Vec<u8>)>;

async fn existing_rows(
    conn: &mut PgConnection,
    sql: &'static str,
    wanted: &[Vec<u8>],
    inserted: &Rows,
) -> Result<Rows, sqlx::Error> {
    let have: std::collections::HashSet<&[u8]> =
        inserted.iter().map(|(_, h)| h.as_slice()).collect();
    let rest: Vec<&[u8]> = wanted
        .iter()
        .map(|h| h.as_slice())
        .filter(|h| !have.contains(h))
        .collect();
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(sql).bind(&rest).fetch_all(conn).await
}

fn u32_to_i32(v: u32) -> i32 {
    // dropped_attributes_count is a uint32 stored in INTEGER; counts beyond i32::MAX saturate rather than wrap.
    i32::try_from(v).unwrap_or(i32::MAX)
}

async fn insert_resources(
    conn: &mut PgConnection,
    dims: &[&ResourceDim],
    seen: DateTime<Utc>,
) -> Result<(Rows, Rows), sqlx::Error> {
    if dims.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let hashes: Vec<Vec<u8>> = dims.iter().map(|d| d.hash.to_vec()).collect();
    let names: Vec<Option<&str>> = dims.iter().map(|d| d.service_name.as_deref()).collect();
    let namespaces: Vec<Option<&str>> = dims
        .iter()
        .map(|d| d.service_namespace.as_deref())
        .collect();
    let urls: Vec<&str> = dims.iter().map(|d| d.schema_url.as_str()).collect();
    let dropped: Vec<i32> = dims
        .iter()
        .map(|d| u32_to_i32(d.dropped_attributes_count))
        .collect();
    let inserted: Rows = sqlx::query_as(
        "INSERT INTO otel_resources_dim \
           (resource_hash, service_name, service_namespace, schema_url, dropped_attributes_count, first_seen, last_seen) \
         SELECT h, n, ns, u, d, $6, $6 \
         FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::int4[]) AS x(h, n, ns, u, d) \
         ORDER BY h \
         ON CONFLICT (resource_hash) DO NOTHING RETURNING resource_id, resource_hash",
    )
    .bind(&hashes)
    .bind(&names)
    .bind(&namespaces)
    .bind(&urls)
    .bind(&dropped)
    .bind(seen)
    .fetch_all(&mut *conn)
    .await?;
    let existing = existing_rows(
        conn,
        "SELECT resource_id, resource_hash FROM otel_resources_dim WHERE resource_hash = ANY($1)",
        &hashes,
        &inserted,
    )
    .await?;
    Ok((inserted, existing))
}

async fn insert_scopes(
    conn: &mut PgConnection,
    dims: &[&ScopeDim],
    seen: DateTime<Utc>,
) -> Result<(Rows, Rows), sqlx::Error> {
    if dims.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let hashes: Vec<Vec<u8>> = dims.iter().map(|d| d.hash.to_vec()).collect();
    let names: Vec<&str> = dims.iter().map(|d| d.name.as_str()).collect();
    let versions: Vec<&str> = dims.iter().map(|d| d.version.as_str()).collect();
    let urls: Vec<&str> = dims.iter().map(|d| d.schema_url.as_str()).collect();
    let dropped: Vec<i32> = dims
        .iter()
        .map(|d| u32_to_i32(d.dropped_attributes_count))
        .collect();
    let inserted: Rows = sqlx::query_as(
        "INSERT INTO otel_scopes_dim \
           (scope_hash, name, version, schema_url, dropped_attributes_count, first_seen, last_seen) \
         SELECT h, n, v, u, d, $6, $6 \
         FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::int4[]) AS x(h, n, v, u, d) \
         ORDER BY h \
         ON CONFLICT (scope_hash) DO NOTHING RETURNING scope_id, scope_hash",
    )
    .bind(&hashes)
    .bind(&names)
    .bind(&versions)
    .bind(&urls)
    .bind(&dropped)
    .bind(seen)
    .fetch_all(&mut *conn)
    .await?;
    let existing = existing_rows(
        conn,
        "SELECT scope_id, scope_hash FROM otel_scopes_dim WHERE scope_hash = ANY($1)",
        &hashes,
        &inserted,
    )
    .await?;
    Ok((inserted, existing))
}

async fn insert_metrics(
    conn: &mut PgConnection,
    dims: &[&MetricDim],
    seen: DateTime<Utc>,
) -> Result<(Rows, Rows), sqlx::Error> {
    if dims.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let hashes: Vec<Vec<u8>> = dims.iter().map(|d| d.hash.to_vec()).collect();
    let names: Vec<&str> = dims.iter().map(|d| d.name.as_str()).collect();
    let types: Vec<i16> = dims.iter().map(|d| d.metric_type).collect();
    let units: Vec<&str> = dims.iter().map(|d| d.unit.as_str()).collect();
    let descriptions: Vec<&str> = dims.iter().map(|d| d.description.as_str()).collect();
    let temporalities: Vec<Option<i16>> = dims.iter().map(|d| d.temporality).collect();
    let monotonic: Vec<Option<bool>> = dims.iter().map(|d| d.is_monotonic).collect();
    let metadata: Vec<Option<&str>> = dims.iter().map(|d| d.metadata.as_deref()).collect();
    let inserted: Rows = sqlx::query_as(
        "INSERT INTO otel_metrics_dim \
           (metric_hash, name, metric_type, unit, description, aggregation_temporality, is_monotonic, metadata, \
            first_seen, last_seen) \
         SELECT h, n, t, u, d, tp, m, md::jsonb, $9, $9 \
         FROM UNNEST($1::bytea[], $2::text[], $3::int2[], $4::text[], $5::text[], $6::int2[], $7::bool[], $8::text[]) \
           AS x(h, n, t, u, d, tp, m, md) \
         ORDER BY h \
         ON CONFLICT (metric_hash) DO NOTHING RETURNING metric_id, metric_hash",
    )
    .bind(&hashes)
    .bind(&names)
    .bind(&types)
    .bind(&units)
    .bind(&descriptions)
    .bind(&temporalities)
    .bind(&monotonic)
    .bind(&metadata)
    .bind(seen)
    .fetch_all(&mut *conn)
    .await?;
    let existing = existing_rows(
        conn,
        "SELECT metric_id, metric_hash FROM otel_metrics_dim WHERE metric_hash = ANY($1)",
        &hashes,
        &inserted,
    )
    .await?;
    Ok((inserted, existing))
}
