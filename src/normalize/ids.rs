//! Ids of a batch: how many fact rows it has (for reserving fact id blocks), and what the writer resolved
//! (dimension ids, attribute key ids, the reserved blocks) before encoding.

use std::collections::HashMap;

use super::identity::Hash;

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

    pub(super) fn add(&mut self, o: &FactCounts) {
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
    /// Fact id blocks for [`PreparedBatch::counts`](super::PreparedBatch::counts).
    pub facts: FactIds,
}
