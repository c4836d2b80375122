//! Narrowing a refused WAL record down to its refused items: one bad span must not cost the 4,999 beside it.
//!
//! Validation before the WAL makes this rare: it runs for what PostgreSQL refuses although validation could not
//! foresee it, and for records an older version wrote that normalize's assertions refuse. The record's items are
//! bisected with probe transactions that roll back ([`Writer::probe`]), so nothing is committed out of WAL
//! order: the caller writes the storable items as a replacement record with the record's own sequence, inside
//! the batch it belongs to, and the refused items go to the dead-letter store as one export request.

use std::ops::Range;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio_util::sync::CancellationToken;

use super::{IngestReport, Writer, on_rayon};
use crate::normalize::{self, EncodeError};
use crate::otlp::items::{RetainItems, subset};
use crate::otlp::{self, OtlpRequest};
use crate::schema::Signal;
use crate::write::{ErrorClass, WriteError};

impl Writer {
    /// Finds the items of `record` that PostgreSQL (or normalize) refuses, dead-letters them durably, and returns
    /// the record rebuilt from the other items (`None` when no item is storable). `error` is why the whole
    /// record was refused.
    pub(super) async fn isolate(
        &self,
        record: &wal::Record,
        error: &str,
        shutdown: &CancellationToken,
        report: &mut IngestReport,
    ) -> Result<Option<wal::Record>, WriteError> {
        match Signal::from_wal_kind(record.kind) {
            Some(Signal::Traces) => self.isolate_as::<ExportTraceServiceRequest>(record, error, shutdown, report).await,
            Some(Signal::Logs) => self.isolate_as::<ExportLogsServiceRequest>(record, error, shutdown, report).await,
            Some(Signal::Metrics) => {
                self.isolate_as::<ExportMetricsServiceRequest>(record, error, shutdown, report).await
            }
            // No version writes such a record; nothing in it can be read, so it is kept whole.
            None => {
                self.dead_letter_durably(record, error, shutdown, report).await?;
                Ok(None)
            }
        }
    }

    async fn isolate_as<T: OtlpRequest + RetainItems>(
        &self,
        record: &wal::Record,
        error: &str,
        shutdown: &CancellationToken,
        report: &mut IngestReport,
    ) -> Result<Option<wal::Record>, WriteError> {
        let request: T = match otlp::decode_protobuf(&record.payload) {
            Ok(r) => r,
            Err(e) => {
                self.dead_letter_durably(record, &format!("undecodable: {e}"), shutdown, report).await?;
                return Ok(None);
            }
        };
        let items = request.item_count();
        let refused = if items <= 1 {
            vec![(0, error.to_string())]
        } else {
            self.bisect(record, &request, shutdown, report).await?
        };
        if refused.len() >= items {
            self.dead_letter_durably(record, error, shutdown, report).await?;
            return Ok(None);
        }
        let is_refused = |i: usize| refused.binary_search_by_key(&i, |(r, _)| *r).is_ok();
        let mut bad = request.clone();
        bad.retain_items(&mut |i| is_refused(i));
        let first = refused.first().map_or("", |(_, why)| why.as_str());
        let why = format!(
            "{} of the record's {items} items refused (the others were stored); the first: {first}",
            refused.len()
        );
        let letter = wal::Record { payload: bad.encode_to_vec(), ..record.clone() };
        self.dead_letter_durably(&letter, &why, shutdown, report).await?;
        let mut good = request;
        good.retain_items(&mut |i| !is_refused(i));
        Ok(Some(wal::Record { payload: good.encode_to_vec(), ..record.clone() }))
    }

    /// The refused items of a record that was refused whole, ascending, each with its reason: halves are probed
    /// until every refused range is one item long.
    async fn bisect<T: OtlpRequest + RetainItems>(
        &self,
        record: &wal::Record,
        request: &T,
        shutdown: &CancellationToken,
        report: &mut IngestReport,
    ) -> Result<Vec<(usize, String)>, WriteError> {
        let items = request.item_count();
        let mut refused = Vec::new();
        // Ranges still to probe, the next one last; the whole record is known to be refused.
        let mut pending: Vec<Range<usize>> = halves(0..items).into_iter().rev().collect();
        let mut backoff = self.retry.backoff();
        while let Some(range) = pending.pop() {
            let part = subset(request, range.clone());
            let probe = wal::Record { payload: part.encode_to_vec(), ..record.clone() };
            match self.probe_record(probe).await {
                Ok(()) => backoff = self.retry.backoff(),
                // Another writer of this WAL committed the record meanwhile: nothing is left to isolate.
                Err(WriteError::AlreadyCommitted { .. }) => return Ok(Vec::new()),
                Err(e) if e.class() == ErrorClass::Transient => {
                    report.retries += 1;
                    self.backoff(&mut backoff, shutdown).await?;
                    pending.push(range);
                }
                Err(e) if range.len() == 1 => refused.push((range.start, e.to_string())),
                Err(_) => pending.extend(halves(range).into_iter().rev()),
            }
        }
        Ok(refused)
    }

    /// Prepares and probes one record: `Err` with the reason when normalize or PostgreSQL refuses it.
    async fn probe_record(&self, record: wal::Record) -> Result<(), WriteError> {
        let (promotion, seq) = (self.promotion.clone(), record.seq);
        let prepared = on_rayon(move || normalize::prepare(&[record], &promotion)).await?;
        if let Some((_, problem)) = prepared.failures().first() {
            return Err(WriteError::Encode(EncodeError::Record { seq, problem: problem.clone() }));
        }
        self.probe(Arc::new(prepared)).await
    }
}

/// A range split in two (the first half shorter by at most one), or itself when it holds one item.
fn halves(range: Range<usize>) -> Vec<Range<usize>> {
    if range.len() <= 1 {
        return vec![range];
    }
    let mid = range.start + range.len() / 2;
    vec![range.start..mid, mid..range.end]
}

#[cfg(test)]
mod tests {
    use super::halves;

    #[test]
    fn halves_cover_the_range_in_order() {
        assert_eq!(halves(0..5), vec![0..2, 2..5]);
        assert_eq!(halves(3..5), vec![3..4, 4..5]);
        assert_eq!(halves(7..8), vec![7..8]);
    }
}
