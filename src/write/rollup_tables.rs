//! The three span rollup tables (`otel_service_rollups`, `otel_operation_rollups`, `otel_service_edges`,
//! migrations/0009) as the writer and compaction handle their rows: each table's key and count columns, how
//! a stored row is read back into [`SpanRollups`]' maps, and the upsert that adds a map's entries to stored
//! rows (in the maps' key order, as every writer does, so that two writers cannot deadlock on them).

use std::collections::BTreeMap;

use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::rollups::{at, nanos};
use crate::latency::Histogram;
use crate::normalize::rollup::{Calls, EdgeKey, Service, ServiceMinute, SpanRollups, TargetType};

/// Rows per statement: 12 bound values per row stay well under PostgreSQL's 65,535 parameters.
const ROWS_PER_STATEMENT: usize = 2_000;

/// What a rollup row adds up: up to three counts (in its table's [`Table::COUNTS`] order) and a latency
/// histogram.
pub trait Tally: Default + Clone {
    /// The counts, zero past the table's own.
    fn counts(&self) -> [i64; 3];
    /// Adds counts in the same order.
    fn add_counts(&mut self, counts: [i64; 3]);
    /// The latency histogram.
    fn latency(&self) -> &Histogram;
    /// The latency histogram, to add to.
    fn latency_mut(&mut self) -> &mut Histogram;

    /// Adds another tally.
    fn add(&mut self, other: &Self) {
        self.add_counts(other.counts());
        self.latency_mut().merge(other.latency());
    }
}

impl Tally for Calls {
    fn counts(&self) -> [i64; 3] {
        [self.count, self.errors, 0]
    }
    fn add_counts(&mut self, c: [i64; 3]) {
        self.count += c[0];
        self.errors += c[1];
    }
    fn latency(&self) -> &Histogram {
        &self.latency
    }
    fn latency_mut(&mut self) -> &mut Histogram {
        &mut self.latency
    }
}

impl Tally for ServiceMinute {
    fn counts(&self) -> [i64; 3] {
        [self.spans, self.requests.count, self.requests.errors]
    }
    fn add_counts(&mut self, c: [i64; 3]) {
        self.spans += c[0];
        self.requests.count += c[1];
        self.requests.errors += c[2];
    }
    // The latency of a service's minute is its requests'.
    fn latency(&self) -> &Histogram {
        &self.requests.latency
    }
    fn latency_mut(&mut self) -> &mut Histogram {
        &mut self.requests.latency
    }
}

/// One rollup table: its columns, and the map of [`SpanRollups`] that holds its rows.
pub trait Table {
    /// The map's key: the table's primary key, with the bucket as Unix nanoseconds.
    type Key: Ord + Clone + bincode::Encode + bincode::Decode<()> + 'static;
    /// The map's value.
    type Value: Tally + 'static;
    /// The table.
    const NAME: &'static str;
    /// The primary key's columns, in the order [`Table::push_key`] binds them.
    const KEY: &'static str;
    /// The count columns, in [`Tally::counts`]' order.
    const COUNTS: &'static [&'static str];

    /// The table's map.
    fn map(r: &SpanRollups) -> &BTreeMap<Self::Key, Self::Value>;
    /// The table's map, to add to.
    fn map_mut(r: &mut SpanRollups) -> &mut BTreeMap<Self::Key, Self::Value>;
    /// Binds a key's columns.
    fn push_key(b: &mut Separated<'_, Postgres, &'static str>, key: &Self::Key) -> Result<(), sqlx::Error>;
    /// A stored row's key, with its bucket (Unix nanoseconds) mapped by `bucket` (compaction maps a minute
    /// to its slot).
    fn key_of(row: &PgRow, bucket: fn(u64) -> u64) -> Result<Self::Key, sqlx::Error>;
}

/// The bucket of a stored row, Unix nanoseconds.
fn bucket_of(row: &PgRow) -> Result<u64, sqlx::Error> {
    nanos(row.try_get("bucket")?, 0)
}

/// A stored row's service from its name and namespace columns.
fn service(row: &PgRow, name: &str, namespace: &str) -> Result<Service, sqlx::Error> {
    Ok(Service { name: row.try_get(name)?, namespace: row.try_get(namespace)? })
}

/// `otel_service_rollups`.
pub struct Services;

impl Table for Services {
    type Key = (u64, Service);
    type Value = ServiceMinute;
    const NAME: &'static str = "otel_service_rollups";
    const KEY: &'static str = "bucket, service_name, service_namespace";
    const COUNTS: &'static [&'static str] = &["span_count", "request_count", "error_count"];

    fn map(r: &SpanRollups) -> &BTreeMap<Self::Key, Self::Value> {
        &r.services
    }
    fn map_mut(r: &mut SpanRollups) -> &mut BTreeMap<Self::Key, Self::Value> {
        &mut r.services
    }
    fn push_key(
        b: &mut Separated<'_, Postgres, &'static str>,
        (bucket, service): &Self::Key,
    ) -> Result<(), sqlx::Error> {
        b.push_bind(at(*bucket)?);
        b.push_bind(service.name.clone());
        b.push_bind(service.namespace.clone());
        Ok(())
    }
    fn key_of(row: &PgRow, bucket: fn(u64) -> u64) -> Result<Self::Key, sqlx::Error> {
        Ok((bucket(bucket_of(row)?), service(row, "service_name", "service_namespace")?))
    }
}

/// `otel_operation_rollups`.
pub struct Operations;

impl Table for Operations {
    type Key = (Service, u64, String, i16);
    type Value = Calls;
    const NAME: &'static str = "otel_operation_rollups";
    const KEY: &'static str = "service_name, bucket, service_namespace, span_name, span_kind";
    const COUNTS: &'static [&'static str] = &["span_count", "error_count"];

    fn map(r: &SpanRollups) -> &BTreeMap<Self::Key, Self::Value> {
        &r.operations
    }
    fn map_mut(r: &mut SpanRollups) -> &mut BTreeMap<Self::Key, Self::Value> {
        &mut r.operations
    }
    fn push_key(
        b: &mut Separated<'_, Postgres, &'static str>,
        (service, bucket, name, kind): &Self::Key,
    ) -> Result<(), sqlx::Error> {
        b.push_bind(service.name.clone());
        b.push_bind(at(*bucket)?);
        b.push_bind(service.namespace.clone());
        b.push_bind(name.clone());
        b.push_bind(*kind);
        Ok(())
    }
    fn key_of(row: &PgRow, bucket: fn(u64) -> u64) -> Result<Self::Key, sqlx::Error> {
        Ok((
            service(row, "service_name", "service_namespace")?,
            bucket(bucket_of(row)?),
            row.try_get("span_name")?,
            row.try_get("span_kind")?,
        ))
    }
}

/// `otel_service_edges`.
pub struct Edges;

impl Table for Edges {
    type Key = EdgeKey;
    type Value = Calls;
    const NAME: &'static str = "otel_service_edges";
    const KEY: &'static str = "bucket, source, source_namespace, target, target_namespace, target_type";
    const COUNTS: &'static [&'static str] = &["call_count", "error_count"];

    fn map(r: &SpanRollups) -> &BTreeMap<Self::Key, Self::Value> {
        &r.edges
    }
    fn map_mut(r: &mut SpanRollups) -> &mut BTreeMap<Self::Key, Self::Value> {
        &mut r.edges
    }
    fn push_key(b: &mut Separated<'_, Postgres, &'static str>, key: &Self::Key) -> Result<(), sqlx::Error> {
        b.push_bind(at(key.minute)?);
        b.push_bind(key.source.name.clone());
        b.push_bind(key.source.namespace.clone());
        b.push_bind(key.target.name.clone());
        b.push_bind(key.target.namespace.clone());
        b.push_bind(key.target_type.as_str());
        Ok(())
    }
    fn key_of(row: &PgRow, bucket: fn(u64) -> u64) -> Result<Self::Key, sqlx::Error> {
        let target_type: String = row.try_get("target_type")?;
        Ok(EdgeKey {
            minute: bucket(bucket_of(row)?),
            source: service(row, "source", "source_namespace")?,
            target: service(row, "target", "target_namespace")?,
            target_type: TargetType::parse(&target_type)
                .ok_or_else(|| sqlx::Error::Protocol(format!("unknown target_type {target_type:?}")))?,
        })
    }
}

/// Adds the three tables' rows of `from` to `into`, key by key.
pub fn add_all(into: &mut SpanRollups, from: &SpanRollups) {
    fn add<K: Ord + Clone, V: Tally>(into: &mut BTreeMap<K, V>, from: &BTreeMap<K, V>) {
        for (k, v) in from {
            into.entry(k.clone()).or_default().add(v);
        }
    }
    add(&mut into.services, &from.services);
    add(&mut into.operations, &from.operations);
    add(&mut into.edges, &from.edges);
}

/// A stored row's counts and latency as a tally.
fn tally_of<T: Table>(row: &PgRow) -> Result<T::Value, sqlx::Error> {
    let mut counts = [0; 3];
    for (c, column) in counts.iter_mut().zip(T::COUNTS) {
        *c = row.try_get(*column)?;
    }
    let mut v = T::Value::default();
    v.add_counts(counts);
    v.latency_mut().merge_row(row)?;
    Ok(v)
}

/// Adds stored rows of table `T` to `r`, under their keys with the bucket mapped by `bucket`.
pub fn add_rows<T: Table>(r: &mut SpanRollups, rows: &[PgRow], bucket: fn(u64) -> u64) -> Result<(), sqlx::Error> {
    for row in rows {
        let v = tally_of::<T>(row)?;
        T::map_mut(r).entry(T::key_of(row, bucket)?).or_default().add(&v);
    }
    Ok(())
}

/// Adds the rows of `T`'s map in `r` to the stored rows, as rows covering `minutes`, in key order; returns
/// the rows inserted or updated.
pub async fn add<T: Table>(conn: &mut PgConnection, r: &SpanRollups, minutes: i16) -> Result<u64, sqlx::Error> {
    let rows: Vec<(&T::Key, &T::Value)> = T::map(r).iter().collect();
    let counts = T::COUNTS.join(", ");
    let added: Vec<String> = T::COUNTS.iter().map(|c| format!("{c} = r.{c} + EXCLUDED.{c}")).collect();
    let mut written = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "INSERT INTO {} AS r ({}, {counts}, latency, latency_min_ns, latency_max_ns, minutes) ",
            T::NAME,
            T::KEY
        ));
        let mut error = None;
        qb.push_values(chunk, |mut b, (key, v)| {
            if let Err(e) = T::push_key(&mut b, key) {
                error.get_or_insert(e);
            }
            for c in &v.counts()[..T::COUNTS.len()] {
                b.push_bind(*c);
            }
            let h = v.latency();
            let timed = h.count() > 0;
            b.push_bind(h.encode());
            b.push_bind(timed.then(|| h.min()));
            b.push_bind(timed.then(|| h.max()));
            b.push_bind(minutes);
        });
        if let Some(e) = error {
            return Err(e);
        }
        // Counts add up, and a row stays a slot row once compaction made it one (migrations/0010).
        qb.push(format!(
            " ON CONFLICT ({}) DO UPDATE SET {}, latency = ollyscale_latency_merge(r.latency, EXCLUDED.latency), \
             latency_min_ns = LEAST(r.latency_min_ns, EXCLUDED.latency_min_ns), \
             latency_max_ns = GREATEST(r.latency_max_ns, EXCLUDED.latency_max_ns), \
             minutes = GREATEST(r.minutes, EXCLUDED.minutes)",
            T::KEY,
            added.join(", ")
        ));
        written += qb.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(written)
}
