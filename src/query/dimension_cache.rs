//! Resources and scopes as the read side shows them, kept in memory between requests.
//!
//! A dimension row never changes once written: the writer inserts it once per content hash
//! (`normalize/identity.rs`, `ON CONFLICT DO NOTHING` in `write/dims.rs`) under an identity id that is never
//! reused. Maintenance may delete a dimension no record refers to any more; its cached copy is then never
//! asked for, and the same content coming back gets a new id. So the cache needs no invalidation, only a
//! bound (it belongs to one process reading one database). A trace by id skips four statements (the rows
//! and the attributes of its resources and scopes) on a hit, which is most of its round trips.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use quick_cache::sync::Cache;
use sqlx::{PgConnection, Row};

use super::error::ApiError;
use super::record_attributes as attrs;
use crate::schema::attributes::{RESOURCE, SCOPE};

/// Entries of each cache: resources and scopes are few (services times versions), this bounds the worst case.
const CAPACITY: usize = 20_000;

/// A stored resource: the OTLP resource (with its attributes), its schema URL, `service.name` and
/// `service.namespace`.
#[derive(Debug, Clone)]
pub struct ResourceDim {
    /// The resource, attributes included.
    pub resource: Resource,
    /// Its schema URL.
    pub schema_url: String,
    /// Its `service.name`, when it has one.
    pub service_name: Option<String>,
    /// Its `service.namespace`, when it has one.
    pub service_namespace: Option<String>,
}

/// A stored instrumentation scope and its schema URL.
#[derive(Debug, Clone)]
pub struct ScopeDim {
    /// The scope, attributes included.
    pub scope: InstrumentationScope,
    /// Its schema URL.
    pub schema_url: String,
}

/// The resources and scopes some records refer to, by id.
#[derive(Debug, Default)]
pub struct Dims {
    /// Resources by `resource_id`.
    pub resources: HashMap<i64, Arc<ResourceDim>>,
    /// Scopes by `scope_id`.
    pub scopes: HashMap<i64, Arc<ScopeDim>>,
}

/// The cache of resources and scopes shared by the query handlers.
pub struct DimensionCache {
    resources: Cache<i64, Arc<ResourceDim>>,
    scopes: Cache<i64, Arc<ScopeDim>>,
}

impl Default for DimensionCache {
    fn default() -> Self {
        DimensionCache { resources: Cache::new(CAPACITY), scopes: Cache::new(CAPACITY) }
    }
}

impl DimensionCache {
    /// The resources `rids` and scopes `sids` (unknown ids are left out), reading only those not cached.
    pub async fn load(&self, conn: &mut PgConnection, rids: &[i64], sids: &[i64]) -> Result<Dims, ApiError> {
        let mut dims = Dims::default();
        let missing_r = cached(&self.resources, rids, &mut dims.resources);
        let missing_s = cached(&self.scopes, sids, &mut dims.scopes);
        remember(&self.resources, read_resources(conn, &missing_r).await?, &mut dims.resources);
        remember(&self.scopes, read_scopes(conn, &missing_s).await?, &mut dims.scopes);
        Ok(dims)
    }
}

/// Copies the entries of `ids` that `cache` holds into `found`; returns the others, sorted, once each.
fn cached<V: Clone>(cache: &Cache<i64, Arc<V>>, ids: &[i64], found: &mut HashMap<i64, Arc<V>>) -> Vec<i64> {
    let mut missing = Vec::new();
    for &id in ids {
        match cache.get(&id) {
            Some(v) => {
                found.insert(id, v);
            }
            None => missing.push(id),
        }
    }
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// Puts rows just read into `cache` and into `found`.
fn remember<V>(cache: &Cache<i64, Arc<V>>, rows: Vec<(i64, V)>, found: &mut HashMap<i64, Arc<V>>) {
    for (id, v) in rows {
        let v = Arc::new(v);
        cache.insert(id, v.clone());
        found.insert(id, v);
    }
}

async fn read_resources(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<(i64, ResourceDim)>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut attributes = attrs::fetch(conn, &RESOURCE, ids, None).await?;
    let rows = sqlx::query(
        "SELECT resource_id, service_name, service_namespace, schema_url, dropped_attributes_count \
         FROM otel_resources_dim WHERE resource_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("resource_id")?;
        let resource = Resource {
            attributes: attributes.remove(&id).unwrap_or_default(),
            dropped_attributes_count: row.try_get::<i32, _>("dropped_attributes_count")? as u32,
            ..Default::default()
        };
        out.push((
            id,
            ResourceDim {
                resource,
                schema_url: row.try_get("schema_url")?,
                service_name: row.try_get("service_name")?,
                service_namespace: row.try_get("service_namespace")?,
            },
        ));
    }
    Ok(out)
}

async fn read_scopes(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<(i64, ScopeDim)>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut attributes = attrs::fetch(conn, &SCOPE, ids, None).await?;
    let rows = sqlx::query(
        "SELECT scope_id, name, version, schema_url, dropped_attributes_count FROM otel_scopes_dim \
         WHERE scope_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("scope_id")?;
        let scope = InstrumentationScope {
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            attributes: attributes.remove(&id).unwrap_or_default(),
            dropped_attributes_count: row.try_get::<i32, _>("dropped_attributes_count")? as u32,
        };
        out.push((id, ScopeDim { scope, schema_url: row.try_get("schema_url")? }));
    }
    Ok(out)
}
