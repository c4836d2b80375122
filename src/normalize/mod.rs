//! Normalization, pure CPU and no database: WAL records -> [`prepare`] (decode, identities, the dimension rows
//! and attribute keys the writer must resolve, fact counts for id allocation) -> the writer resolves ids ->
//! [`encode`] (PostgreSQL binary COPY streams for every fact and fact-attribute table, straight from the
//! decoded protobuf, no intermediate row structs). Invariants: docs/ARCHITECTURE.md; identities are
//! documented in docs/schema.md, "Resource and scope identity".

pub mod anyvalue;
pub(crate) mod attrs;
pub mod copy;
pub mod identity;
mod logs;
mod metrics;
pub mod promotion;
pub mod rollup;
pub(crate) mod tables;
mod traces;

pub use identity::Hash;
pub use promotion::{Decision, Promotion, PromotionError};

use crate::otlp::decode_protobuf;
use crate::schema::attributes::{RESOURCE, SCOPE};
use crate::schema::{AttrLevel, PromotionLevel, Signal};
use crate::time::PgTime;
use attrs::{AttrEncoder, RuleCache};
use identity::{IdentityHasher, canonical_attributes};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use tables::TableSet;

/// A resource to store in `otel_resources_dim` (unique by hash within a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDim {
    /// Identity hash (see [`identity`]).
    pub hash: Hash,
    /// The `service.name` attribute when it is a string.
    pub service_name: Option<String>,
    /// The `service.namespace` attribute when it is a string.
    pub service_namespace: Option<String>,
    /// ResourceSpans/ResourceLogs/ResourceMetrics.schema_url.
    pub schema_url: String,
    /// Resource.dropped_attributes_count.
    pub dropped_attributes_count: u32,
    /// The attributes in canonical form: sorted by key, one per key (the last sent), dropped keys removed.
    pub attributes: Vec<KeyValue>,
}

/// An instrumentation scope to store in `otel_scopes_dim` (unique by hash within a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeDim {
    /// Identity hash (see [`identity`]).
    pub hash: Hash,
    /// InstrumentationScope.name.
    pub name: String,
    /// InstrumentationScope.version.
    pub version: String,
    /// ScopeSpans/ScopeLogs/ScopeMetrics.schema_url.
    pub schema_url: String,
    /// InstrumentationScope.dropped_attributes_count.
    pub dropped_attributes_count: u32,
    /// The attributes in canonical form: sorted by key, one per key (the last sent), dropped keys removed.
    pub attributes: Vec<KeyValue>,
}

/// A metric description to store in `otel_metrics_dim` (unique by hash within a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDim {
    /// Identity hash (see [`identity`]).
    pub hash: Hash,
    /// Metric.name.
    pub name: String,
    /// 1 gauge, 2 sum, 3 histogram, 4 exponential histogram, 5 summary (`metric_types`).
    pub metric_type: i16,
    /// Metric.unit.
    pub unit: String,
    /// Metric.description.
    pub description: String,
    /// aggregation_temporality of sums and (exponential) histograms; `None` for gauges and summaries.
    pub temporality: Option<i16>,
    /// Sum.is_monotonic; `None` for the other types.
    pub is_monotonic: Option<bool>,
    /// Metric.metadata as typed JSON (canonical order, dropped keys removed); `None` when empty.
    pub metadata: Option<String>,
}

/// A metric series to register in `otel_metric_series`: a metric, a resource and a data point attribute set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDim {
    /// The series key (see [`identity::IdentityHasher::series`]), also stored on each of its data points.
    pub key: i64,
    /// `otel_metrics_dim.metric_id`.
    pub metric_id: i64,
    /// `otel_resources_dim.resource_id`.
    pub resource_id: i64,
    /// The attribute set as typed JSON (canonical order, dropped keys removed).
    pub attributes: String,
}

/// What [`encode`] produces for a batch.
#[derive(Debug)]
pub struct Encoded {
    /// One COPY stream per table with rows.
    pub tables: Vec<TableData>,
    /// The distinct metric series of the batch's data points, sorted by key.
    pub series: Vec<SeriesDim>,
}

/// Rows per fact kind of a batch, for id allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactCounts {
    /// Log records (`otel_logs_fact`).
    pub logs: u64,
    /// Spans (`otel_spans_fact`).
    pub spans: u64,
    /// Span events (`otel_span_events`).
    pub events: u64,
    /// Span links (`otel_span_links`).
    pub links: u64,
    /// Gauge and sum data points.
    pub number_points: u64,
    /// Histogram data points.
    pub histogram_points: u64,
    /// Exponential histogram data points.
    pub exp_histogram_points: u64,
    /// Summary data points.
    pub summary_points: u64,
    /// Exemplars (they have no surrogate id of their own, so [`FactCounts::ids`] leaves them out).
    pub exemplars: u64,
}

impl FactCounts {
    /// Surrogate ids the batch needs: every fact row except exemplars.
    pub fn ids(&self) -> u64 {
        self.logs
            + self.spans
            + self.events
            + self.links
            + self.number_points
            + self.histogram_points
            + self.exp_histogram_points
            + self.summary_points
    }

    fn add(&mut self, o: &FactCounts) {
        self.logs += o.logs;
        self.spans += o.spans;
        self.events += o.events;
        self.links += o.links;
        self.number_points += o.number_points;
        self.histogram_points += o.histogram_points;
        self.exp_histogram_points += o.exp_histogram_points;
        self.summary_points += o.summary_points;
        self.exemplars += o.exemplars;
    }
}

/// Fact id blocks: one `nextval('otel_id_block_seq')` reserves ids `block * 65536 ..= block * 65536 + 65535`;
/// the batch's fact rows take ids from one shared counter `i`: `blocks[i / 65536] * 65536 + i % 65536`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactIds {
    /// The reserved blocks, in the order their ids are used.
    pub blocks: Vec<i64>,
}

impl FactIds {
    /// Ids per block.
    pub const BLOCK_SIZE: u64 = 65_536;

    /// Blocks needed for `ids` ids.
    pub fn blocks_needed(ids: u64) -> u64 {
        ids.div_ceil(Self::BLOCK_SIZE)
    }

    /// The id at position `index` of the shared counter, `None` beyond the reserved blocks.
    #[inline]
    pub fn id(&self, index: u64) -> Option<i64> {
        let block = *self.blocks.get(usize::try_from(index / Self::BLOCK_SIZE).ok()?)?;
        block.checked_mul(Self::BLOCK_SIZE as i64)?.checked_add((index % Self::BLOCK_SIZE) as i64)
    }
}

/// Resolved ids, filled by the writer.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    /// resource hash -> `otel_resources_dim.resource_id`.
    pub resources: HashMap<Hash, i64>,
    /// scope hash -> `otel_scopes_dim.scope_id`.
    pub scopes: HashMap<Hash, i64>,
    /// metric hash -> `otel_metrics_dim.metric_id`.
    pub metrics: HashMap<Hash, i64>,
    /// attribute key -> `attribute_keys.key_id`.
    pub keys: HashMap<String, i32>,
    /// Fact id blocks for [`Prepared::counts`].
    pub facts: FactIds,
}

/// One finished binary COPY stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableData {
    /// Table name.
    pub table: &'static str,
    /// Column list for the COPY statement, e.g. `"(a, b, c)"`.
    pub columns: &'static str,
    /// Rows in `data`.
    pub rows: u64,
    /// The complete binary COPY stream: header, rows, trailer.
    pub data: Vec<u8>,
}

impl TableData {
    /// The COPY statement that loads `data`.
    pub fn copy_statement(&self) -> String {
        format!("COPY {} {} FROM STDIN (FORMAT binary)", self.table, self.columns)
    }
}

/// Why a batch could not be encoded. Nothing here is a panic: bad data or missing ids come back as errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The reserved fact id blocks hold fewer ids than the batch needs.
    #[error("not enough fact ids: the batch needs {needed}, the reserved blocks hold {available}")]
    NotEnoughFactIds {
        /// Ids needed ([`FactCounts::ids`]).
        needed: u64,
        /// Ids the blocks hold.
        available: u64,
    },
    /// One WAL record cannot be encoded (a missing id, or a value the schema cannot hold).
    #[error("WAL record {seq}: {problem}")]
    Record {
        /// The record's WAL sequence.
        seq: u64,
        /// What is wrong.
        problem: String,
    },
    /// A dimension's attributes cannot be encoded (a missing key id).
    #[error("dimension attributes: {problem}")]
    Dimension {
        /// What is wrong.
        problem: String,
    },
}

/// A decoded export request.
#[derive(Debug)]
pub(crate) enum Request {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

/// One decoded record with what prepare derived from it.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRecord {
    pub seq: u64,
    pub received_at: u64,
    pub request: Arc<Request>,
    /// One per ResourceX of the request, in order.
    pub resource_hashes: Vec<Hash>,
    /// One per ScopeX of the request, in traversal order.
    pub scope_hashes: Vec<Hash>,
    /// One per Metric (traversal order); `None` for a metric without data.
    pub metric_hashes: Vec<Option<Hash>>,
    resources: Vec<ResourceDim>,
    scopes: Vec<ScopeDim>,
    metrics: Vec<MetricDim>,
    keys: Vec<String>,
    other_keys: Vec<(i16, String)>,
    counts: FactCounts,
    /// Position of the record's first fact id in the batch's shared counter.
    pub first_id: u64,
}

/// A batch after [`prepare`]: decoded records and what the writer must resolve before [`encode`].
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    records: Vec<PreparedRecord>,
    failures: Vec<(u64, String)>,
    first_seq: u64,
    last_seq: u64,
    resources: Vec<ResourceDim>,
    scopes: Vec<ScopeDim>,
    metrics: Vec<MetricDim>,
    keys: Vec<String>,
    other_keys: Vec<(i16, String)>,
    counts: FactCounts,
}

impl Prepared {
    /// Frees the batch's decoded requests on the rayon pool, records in parallel, without waiting.
    ///
    /// Dropping a batch's millions of small allocations on the async task that wrote it took 15% of the
    /// server's CPU during an end-to-end load, serially, on a tokio worker, and mostly as cross-thread frees of
    /// memory the rayon threads had allocated while decoding.
    pub fn release(prepared: Arc<Prepared>) {
        rayon::spawn(move || {
            if let Ok(p) = Arc::try_unwrap(prepared) {
                p.records.into_par_iter().for_each(drop);
            }
        });
    }
}

/// Decodes the records (in parallel) and collects identities, dimensions, promoted keys and fact counts.
/// A record that cannot be decoded, or holds values the schema cannot store (an unknown enum value), is not
/// fatal: it is listed in [`Prepared::failures`] and skipped.
pub fn prepare(records: &[wal::Record], promotion: &Promotion) -> Prepared {
    let results: Vec<Result<PreparedRecord, (u64, String)>> =
        records.par_iter().map(|r| prepare_record(r, promotion).map_err(|e| (r.seq, e))).collect();
    let mut ok = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(p) => ok.push(p),
            Err(f) => failures.push(f),
        }
    }
    let seqs = records.iter().map(|r| r.seq);
    let first_seq = seqs.clone().min().unwrap_or(0);
    let last_seq = seqs.max().unwrap_or(0);
    Prepared::assemble(ok, failures, first_seq, last_seq)
}

impl Prepared {
    fn assemble(
        mut records: Vec<PreparedRecord>,
        failures: Vec<(u64, String)>,
        first_seq: u64,
        last_seq: u64,
    ) -> Prepared {
        records.sort_by_key(|r| r.seq);
        let mut resources = BTreeMap::new();
        let mut scopes = BTreeMap::new();
        let mut metrics = BTreeMap::new();
        let mut keys = std::collections::BTreeSet::new();
        let mut other_keys = std::collections::BTreeSet::new();
        let mut counts = FactCounts::default();
        for r in &mut records {
            r.first_id = counts.ids();
            counts.add(&r.counts);
            for d in &r.resources {
                resources.entry(d.hash).or_insert_with(|| d.clone());
            }
            for d in &r.scopes {
                scopes.entry(d.hash).or_insert_with(|| d.clone());
            }
            for d in &r.metrics {
                metrics.entry(d.hash).or_insert_with(|| d.clone());
            }
            for k in &r.keys {
                if !keys.contains(k) {
                    keys.insert(k.clone());
                }
            }
            for k in &r.other_keys {
                if !other_keys.contains(k) {
                    other_keys.insert(k.clone());
                }
            }
        }
        Prepared {
            records,
            failures,
            first_seq,
            last_seq,
            resources: resources.into_values().collect(),
            scopes: scopes.into_values().collect(),
            metrics: metrics.into_values().collect(),
            keys: keys.into_iter().collect(),
            other_keys: other_keys.into_iter().collect(),
            counts,
        }
    }

    /// Lowest WAL sequence of the batch (decoded or failed), 0 for an empty batch.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// Highest WAL sequence of the batch (decoded or failed): the checkpoint after it commits.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Records that were skipped: (sequence, why).
    pub fn failures(&self) -> &[(u64, String)] {
        &self.failures
    }

    /// Sequences of the records that will be encoded, ascending.
    pub fn seqs(&self) -> Vec<u64> {
        self.records.iter().map(|r| r.seq).collect()
    }

    /// Latest receive time among the decoded records (unix nanos; 0 when none): for first_seen/last_seen.
    pub fn max_received_at_unix_nanos(&self) -> u64 {
        self.records.iter().map(|r| r.received_at).max().unwrap_or(0)
    }

    /// Distinct resources, sorted by hash.
    pub fn resources(&self) -> &[ResourceDim] {
        &self.resources
    }

    /// Distinct instrumentation scopes, sorted by hash.
    pub fn scopes(&self) -> &[ScopeDim] {
        &self.scopes
    }

    /// Distinct metric descriptions, sorted by hash.
    pub fn metrics(&self) -> &[MetricDim] {
        &self.metrics
    }

    /// Every attribute key that goes to a typed table somewhere in the batch (facts and dimensions), sorted.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Every (promotion level, key) whose values go to a level's `_other` JSONB somewhere in the batch, sorted:
    /// the writer registers them in `attribute_keys_in_other`, so that a filter on a key never seen there
    /// skips the scan of `_other`.
    pub fn other_keys(&self) -> &[(i16, String)] {
        &self.other_keys
    }

    /// Rows per fact kind.
    pub fn counts(&self) -> FactCounts {
        self.counts
    }

    /// The batch restricted to the given sequences (decoded records and failures), for dead-letter bisection.
    /// Fact ids restart at 0, so the subset needs its own [`FactIds`].
    pub fn subset(&self, seqs: &[u64]) -> Prepared {
        let wanted: HashSet<u64> = seqs.iter().copied().collect();
        let records: Vec<PreparedRecord> = self.records.iter().filter(|r| wanted.contains(&r.seq)).cloned().collect();
        let failures: Vec<(u64, String)> = self.failures.iter().filter(|f| wanted.contains(&f.0)).cloned().collect();
        let all = records.iter().map(|r| r.seq).chain(failures.iter().map(|f| f.0));
        let first_seq = all.clone().min().unwrap_or(0);
        let last_seq = all.max().unwrap_or(0);
        Prepared::assemble(records, failures, first_seq, last_seq)
    }
}

/// Decodes one record and derives its identities, dimensions, keys and counts.
fn prepare_record(record: &wal::Record, promotion: &Promotion) -> Result<PreparedRecord, String> {
    let request = match record.signal {
        Signal::Traces => Request::Traces(decode_protobuf(&record.payload).map_err(|e| e.to_string())?),
        Signal::Logs => Request::Logs(decode_protobuf(&record.payload).map_err(|e| e.to_string())?),
        Signal::Metrics => Request::Metrics(decode_protobuf(&record.payload).map_err(|e| e.to_string())?),
    };
    let mut walk = Walk::new(promotion);
    match &request {
        Request::Traces(req) => traces::walk(&mut walk, req)?,
        Request::Logs(req) => logs::walk(&mut walk, req)?,
        Request::Metrics(req) => metrics::walk(&mut walk, req)?,
    }
    let mut keys: Vec<String> = walk.used.iter().map(|k| k.to_string()).collect();
    keys.sort_unstable();
    let other_keys = walk.other_used.iter().map(|(l, k)| (*l as i16, k.to_string())).collect();
    Ok(PreparedRecord {
        seq: record.seq,
        received_at: record.received_at_unix_nanos,
        resource_hashes: walk.resource_hashes,
        scope_hashes: walk.scope_hashes,
        metric_hashes: walk.metric_hashes,
        resources: walk.resources,
        scopes: walk.scopes,
        metrics: walk.metrics,
        keys,
        other_keys,
        counts: walk.counts,
        first_id: 0,
        request: Arc::new(request),
    })
}

/// What prepare gathers while walking one request.
pub(crate) struct Walk<'a> {
    pub rules: RuleCache<'a>,
    pub used: Vec<&'a str>,
    pub other_used: Vec<(PromotionLevel, &'a str)>,
    pub hasher: IdentityHasher,
    pub resource_hashes: Vec<Hash>,
    pub scope_hashes: Vec<Hash>,
    pub metric_hashes: Vec<Option<Hash>>,
    pub resources: Vec<ResourceDim>,
    pub scopes: Vec<ScopeDim>,
    pub metrics: Vec<MetricDim>,
    pub counts: FactCounts,
}

fn string_attr(attrs: &[&KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    })
}

impl<'a> Walk<'a> {
    fn new(promotion: &'a Promotion) -> Self {
        Walk {
            rules: RuleCache::new(promotion),
            used: Vec::new(),
            other_used: Vec::new(),
            hasher: IdentityHasher::new(),
            resource_hashes: Vec::new(),
            scope_hashes: Vec::new(),
            metric_hashes: Vec::new(),
            resources: Vec::new(),
            scopes: Vec::new(),
            metrics: Vec::new(),
            counts: FactCounts::default(),
        }
    }

    /// Notes the promoted keys of a fact's attributes.
    pub fn attributes(&mut self, what: &str, level: AttrLevel, attrs: &'a [KeyValue]) -> Result<(), String> {
        check_attributes(what, attrs)?;
        self.rules.collect_keys(level.promotion, attrs, &mut self.used, &mut self.other_used);
        Ok(())
    }

    /// Hashes a ResourceX's resource and records its dimension row.
    pub fn resource(&mut self, resource: Option<&'a Resource>, schema_url: &str) -> Result<(), String> {
        let (attrs, dropped) = match resource {
            Some(r) => (&r.attributes[..], r.dropped_attributes_count),
            None => (&[][..], 0),
        };
        check_text("resource schema_url", schema_url)?;
        self.attributes("resource attribute", RESOURCE, attrs)?;
        let kept = self.rules.kept(attrs);
        let hash = self.hasher.resource(&kept, schema_url);
        self.resource_hashes.push(hash);
        if self.resources.iter().any(|d| d.hash == hash) {
            return Ok(());
        }
        let canonical = canonical_attributes(&kept);
        self.resources.push(ResourceDim {
            hash,
            service_name: string_attr(&canonical, "service.name"),
            service_namespace: string_attr(&canonical, "service.namespace"),
            schema_url: schema_url.to_string(),
            dropped_attributes_count: dropped,
            attributes: canonical.into_iter().cloned().collect(),
        });
        Ok(())
    }

    /// Hashes a ScopeX's scope and records its dimension row.
    pub fn scope(&mut self, scope: Option<&'a InstrumentationScope>, schema_url: &str) -> Result<(), String> {
        let (name, version, attrs, dropped) = match scope {
            Some(s) => (&s.name[..], &s.version[..], &s.attributes[..], s.dropped_attributes_count),
            None => ("", "", &[][..], 0),
        };
        check_text("scope schema_url", schema_url)?;
        check_text("scope name", name)?;
        check_text("scope version", version)?;
        self.attributes("scope attribute", SCOPE, attrs)?;
        let kept = self.rules.kept(attrs);
        let hash = self.hasher.scope(name, version, &kept, schema_url);
        self.scope_hashes.push(hash);
        if self.scopes.iter().any(|d| d.hash == hash) {
            return Ok(());
        }
        self.scopes.push(ScopeDim {
            hash,
            name: name.to_string(),
            version: version.to_string(),
            schema_url: schema_url.to_string(),
            dropped_attributes_count: dropped,
            attributes: canonical_attributes(&kept).into_iter().cloned().collect(),
        });
        Ok(())
    }
}

/// Asserts that a string can be stored: PostgreSQL `text` and `jsonb` cannot hold U+0000, and one such value
/// would fail the COPY of the whole batch. Validation maps NUL away before the WAL append
/// ([`crate::otlp::storable`]), so only a record written by an older version can fail this; it is then listed as a
/// failure rather than failing its batch.
pub(crate) fn check_text(what: &str, s: &str) -> Result<(), String> {
    if crate::otlp::storable::has_nul(s) {
        return Err(format!("{what} contains a NUL character (U+0000), which PostgreSQL text cannot store"));
    }
    Ok(())
}

/// [`check_text`] for every key and string value of an attribute list, nested values included.
pub(crate) fn check_attributes(what: &str, attrs: &[KeyValue]) -> Result<(), String> {
    for kv in attrs {
        check_text(what, &kv.key)?;
        check_value(what, kv.value.as_ref().and_then(|v| v.value.as_ref()))?;
    }
    Ok(())
}

/// [`check_text`] for the strings inside one AnyValue.
pub(crate) fn check_value(what: &str, value: Option<&Value>) -> Result<(), String> {
    match value {
        Some(Value::StringValue(s)) => check_text(what, s),
        Some(Value::ArrayValue(a)) => a.values.iter().try_for_each(|v| check_value(what, v.value.as_ref())),
        Some(Value::KvlistValue(kv)) => check_attributes(what, &kv.values),
        _ => Ok(()),
    }
}

/// Per-record encoding state: the id counter, resolved ids, attribute encoder.
pub(crate) struct Ctx<'a> {
    pub seq: u64,
    pub received_at: u64,
    ids: &'a Ids,
    next_id: u64,
    pub attrs: AttrEncoder<'a>,
    resource_hashes: &'a [Hash],
    scope_hashes: &'a [Hash],
    metric_hashes: &'a [Option<Hash>],
    scope_pos: usize,
    metric_pos: usize,
}

impl<'a> Ctx<'a> {
    pub fn err(&self, problem: impl Into<String>) -> EncodeError {
        EncodeError::Record { seq: self.seq, problem: problem.into() }
    }

    /// The next fact id of the shared counter.
    #[inline]
    pub fn next_id(&mut self) -> Result<i64, EncodeError> {
        let index = self.next_id;
        self.next_id += 1;
        self.ids.facts.id(index).ok_or_else(|| self.err(format!("fact id {index} is beyond the reserved blocks")))
    }

    /// The resource_id of the `index`-th ResourceX.
    pub fn resource_id(&self, index: usize) -> Result<i64, EncodeError> {
        self.resource_hashes
            .get(index)
            .and_then(|h| self.ids.resources.get(h))
            .copied()
            .ok_or_else(|| self.err(format!("no resource_id resolved for resource {index}")))
    }

    /// The scope_id of the next ScopeX in traversal order.
    pub fn next_scope_id(&mut self) -> Result<i64, EncodeError> {
        let pos = self.scope_pos;
        self.scope_pos += 1;
        self.scope_hashes
            .get(pos)
            .and_then(|h| self.ids.scopes.get(h))
            .copied()
            .ok_or_else(|| self.err(format!("no scope_id resolved for scope {pos}")))
    }

    /// The metric_id of the next Metric in traversal order, `None` for a metric without data.
    pub fn next_metric_id(&mut self) -> Result<Option<i64>, EncodeError> {
        let pos = self.metric_pos;
        self.metric_pos += 1;
        match self.metric_hashes.get(pos) {
            Some(None) => Ok(None),
            Some(Some(h)) => match self.ids.metrics.get(h) {
                Some(id) => Ok(Some(*id)),
                None => Err(self.err(format!("no metric_id resolved for metric {pos}"))),
            },
            None => Err(self.err(format!("metric {pos} was not prepared"))),
        }
    }

    /// A time that may be unset (0 -> `None`).
    #[inline]
    pub fn time(&self, field: &str, nanos: u64) -> Result<Option<PgTime>, EncodeError> {
        crate::time::from_unix_nanos(nanos).map_err(|e| self.err(format!("{field}: {e}")))
    }

    /// A time that must be set.
    #[inline]
    pub fn required_time(&self, field: &str, nanos: u64) -> Result<PgTime, EncodeError> {
        self.time(field, nanos)?.ok_or_else(|| self.err(format!("{field} is 0 (unset) but the column is required")))
    }

    /// A u64 count stored as BIGINT.
    #[inline]
    pub fn count(&self, field: &str, value: u64) -> Result<i64, EncodeError> {
        i64::try_from(value).map_err(|_| self.err(format!("{field} {value} exceeds the BIGINT range")))
    }
}

/// Encodes every fact table and fact attribute table of the batch (records in parallel); tables without rows
/// are left out.
pub fn encode(prepared: &Prepared, ids: &Ids, promotion: &Promotion) -> Result<Encoded, EncodeError> {
    let needed = prepared.counts.ids();
    let available = ids.facts.blocks.len() as u64 * FactIds::BLOCK_SIZE;
    if needed > available {
        return Err(EncodeError::NotEnoughFactIds { needed, available });
    }
    let sets = prepared
        .records
        .par_iter()
        .try_fold(TableSet::new, |mut set, record| {
            encode_record(&mut set, record, ids, promotion)?;
            Ok(set)
        })
        .collect::<Result<Vec<TableSet>, EncodeError>>()?;
    let (tables, series) = TableSet::concat(sets).finish();
    Ok(Encoded { tables, series })
}

fn encode_record(
    set: &mut TableSet,
    record: &PreparedRecord,
    ids: &Ids,
    promotion: &Promotion,
) -> Result<(), EncodeError> {
    let mut ctx = Ctx {
        seq: record.seq,
        received_at: record.received_at,
        ids,
        next_id: record.first_id,
        attrs: AttrEncoder::new(promotion, &ids.keys, Some(record.seq)),
        resource_hashes: &record.resource_hashes,
        scope_hashes: &record.scope_hashes,
        metric_hashes: &record.metric_hashes,
        scope_pos: 0,
        metric_pos: 0,
    };
    match &*record.request {
        Request::Traces(req) => traces::encode(set, &mut ctx, req),
        Request::Logs(req) => logs::encode(set, &mut ctx, req),
        Request::Metrics(req) => metrics::encode(set, &mut ctx, req),
    }
}

/// Encodes the attribute rows (`otel_resource_attrs_*`, `otel_scope_attrs_*`) of dimension rows the writer just
/// inserted, given their new ids.
pub fn encode_dimension_attributes(
    new_resources: &[(i64, &ResourceDim)],
    new_scopes: &[(i64, &ScopeDim)],
    ids: &Ids,
    promotion: &Promotion,
) -> Result<Vec<TableData>, EncodeError> {
    let mut set = TableSet::new();
    let mut enc = AttrEncoder::new(promotion, &ids.keys, None);
    for (id, dim) in new_resources {
        enc.write(&mut set, RESOURCE, *id, None, &dim.attributes)?;
    }
    for (id, dim) in new_scopes {
        enc.write(&mut set, SCOPE, *id, None, &dim.attributes)?;
    }
    Ok(set.finish().0)
}

#[cfg(test)]
mod rollup_tests;
#[cfg(test)]
mod tests;
