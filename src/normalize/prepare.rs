//! The first pass over a batch, before the database: decode each WAL record (in parallel), walk it for its
//! identities, dimension rows, promoted keys and fact counts, and merge them into the batch's [`PreparedBatch`].
//! Records that fail are listed, not fatal.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use rayon::prelude::*;

use super::dimensions::{MetricDim, ResourceDim, ScopeDim};
use super::identity::Hash;
use super::ids::FactCounts;
use super::walk::Walk;
use super::{Promotion, logs, metrics, traces};
use crate::otlp::decode_protobuf;
use crate::schema::Signal;

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

/// A batch after [`prepare`]: decoded records and what the writer must resolve before
/// [`encode`](fn@super::encode).
#[derive(Debug, Clone, Default)]
pub struct PreparedBatch {
    pub(super) records: Vec<PreparedRecord>,
    failures: Vec<(u64, String)>,
    first_seq: u64,
    last_seq: u64,
    pub(super) resources: Vec<ResourceDim>,
    scopes: Vec<ScopeDim>,
    metrics: Vec<MetricDim>,
    keys: Vec<String>,
    other_keys: Vec<(i16, String)>,
    pub(super) counts: FactCounts,
}

impl PreparedBatch {
    /// Frees the batch's decoded requests on the rayon pool, records in parallel, without waiting.
    ///
    /// Dropping a batch's millions of small allocations on the async task that wrote it took 15% of the
    /// server's CPU during an end-to-end load, serially, on a tokio worker, and mostly as cross-thread frees of
    /// memory the rayon threads had allocated while decoding.
    pub fn release(prepared: Arc<PreparedBatch>) {
        rayon::spawn(move || {
            if let Ok(p) = Arc::try_unwrap(prepared) {
                p.records.into_par_iter().for_each(drop);
            }
        });
    }
}

/// Decodes the records (in parallel) and collects identities, dimensions, promoted keys and fact counts.
/// A record that cannot be decoded, or holds values the schema cannot store (an unknown enum value), is not
/// fatal: it is listed in [`PreparedBatch::failures`] and skipped.
pub fn prepare(records: &[wal::Record], promotion: &Promotion) -> PreparedBatch {
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
    PreparedBatch::assemble(ok, failures, first_seq, last_seq)
}

impl PreparedBatch {
    fn assemble(
        mut records: Vec<PreparedRecord>,
        failures: Vec<(u64, String)>,
        first_seq: u64,
        last_seq: u64,
    ) -> PreparedBatch {
        records.sort_by_key(|r| r.seq);
        let mut resources = BTreeMap::new();
        let mut scopes = BTreeMap::new();
        let mut metrics = BTreeMap::new();
        let mut keys = BTreeSet::new();
        let mut other_keys = BTreeSet::new();
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
        PreparedBatch {
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
    /// Fact ids restart at 0, so the subset needs its own [`FactIds`](super::FactIds).
    pub fn subset(&self, seqs: &[u64]) -> PreparedBatch {
        let wanted: HashSet<u64> = seqs.iter().copied().collect();
        let records: Vec<PreparedRecord> = self.records.iter().filter(|r| wanted.contains(&r.seq)).cloned().collect();
        let failures: Vec<(u64, String)> = self.failures.iter().filter(|f| wanted.contains(&f.0)).cloned().collect();
        let all = records.iter().map(|r| r.seq).chain(failures.iter().map(|f| f.0));
        let first_seq = all.clone().min().unwrap_or(0);
        let last_seq = all.max().unwrap_or(0);
        PreparedBatch::assemble(records, failures, first_seq, last_seq)
    }
}

/// Decodes one record and derives its identities, dimensions, keys and counts.
fn prepare_record(record: &wal::Record, promotion: &Promotion) -> Result<PreparedRecord, String> {
    let signal = Signal::from_wal_kind(record.kind).ok_or_else(|| format!("unknown record kind {}", record.kind))?;
    let request = match signal {
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
