//! The second pass over a batch, after the writer resolved its ids: binary COPY streams for every fact and
//! fact-attribute table (records in parallel), straight from the decoded protobuf, and the attribute rows of
//! newly inserted dimensions.

use rayon::prelude::*;

use super::attrs::AttrEncoder;
use super::dimensions::{AttrSetDim, ResourceDim, ScopeDim, SeriesDim};
use super::identity::Hash;
use super::ids::{FactIds, Ids};
use super::prepare::{PreparedBatch, PreparedRecord, Request};
use super::tables::{TableData, TableSet};
use super::{Promotion, logs, metrics, traces};
use crate::schema::attributes::{RESOURCE, SCOPE};
use crate::time::PgTime;

/// What [`encode`] produces for a batch.
#[derive(Debug)]
pub struct Encoded {
    /// One COPY stream per table with rows.
    pub tables: Vec<TableData>,
    /// The distinct metric series of the batch's data points, sorted by key.
    pub series: Vec<SeriesDim>,
    /// The distinct attribute sets of the batch's spans and log records, sorted by key.
    pub attr_sets: Vec<AttrSetDim>,
}

/// Why a batch could not be encoded. Nothing here is a panic: bad data or missing ids come back as errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The reserved fact id blocks hold fewer ids than the batch needs.
    #[error("not enough fact ids: the batch needs {needed}, the reserved blocks hold {available}")]
    NotEnoughFactIds {
        /// Ids needed ([`FactCounts::ids`](super::FactCounts::ids)).
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

/// Per-record encoding state: the id counter, resolved ids, attribute encoder.
pub(crate) struct EncodeContext<'a> {
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

impl<'a> EncodeContext<'a> {
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
pub fn encode(prepared: &PreparedBatch, ids: &Ids, promotion: &Promotion) -> Result<Encoded, EncodeError> {
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
    let (tables, series, attr_sets) = TableSet::concat(sets).finish();
    Ok(Encoded { tables, series, attr_sets })
}

fn encode_record(
    set: &mut TableSet,
    record: &PreparedRecord,
    ids: &Ids,
    promotion: &Promotion,
) -> Result<(), EncodeError> {
    let mut ctx = EncodeContext {
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
