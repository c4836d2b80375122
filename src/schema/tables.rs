//! The tables that hold records: the facts and the span rollups, each range-partitioned by day on one
//! time column and kept for its signal's retention (migrations/0003 to 0005, 0009).

use super::Signal;

/// A range-partitioned parent table: its name, partition column and signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionedTable {
    /// The parent table's name (in the connection's schema).
    pub table: &'static str,
    /// The TIMESTAMPTZ column it is range-partitioned on.
    pub column: &'static str,
    /// The signal whose retention applies.
    pub signal: Signal,
}

const fn table(table: &'static str, column: &'static str, signal: Signal) -> PartitionedTable {
    PartitionedTable { table, column, signal }
}

/// Log records.
pub const LOGS: PartitionedTable = table("otel_logs_fact", "time", Signal::Logs);
/// Spans.
pub const SPANS: PartitionedTable = table("otel_spans_fact", "start_time", Signal::Traces);
/// Span events, partitioned on their span's start.
pub const SPAN_EVENTS: PartitionedTable = table("otel_span_events", "span_start_time", Signal::Traces);
/// Span links, partitioned on their span's start.
pub const SPAN_LINKS: PartitionedTable = table("otel_span_links", "span_start_time", Signal::Traces);
/// Gauge and sum data points.
pub const NUMBER_POINTS: PartitionedTable = table("otel_metrics_data_points_number", "time", Signal::Metrics);
/// Histogram data points.
pub const HISTOGRAM_POINTS: PartitionedTable = table("otel_metrics_data_points_histogram", "time", Signal::Metrics);
/// Exponential histogram data points.
pub const EXP_HISTOGRAM_POINTS: PartitionedTable =
    table("otel_metrics_data_points_exp_histogram", "time", Signal::Metrics);
/// Summary data points.
pub const SUMMARY_POINTS: PartitionedTable = table("otel_metrics_data_points_summary", "time", Signal::Metrics);
/// Exemplars, partitioned on their data point's time.
pub const EXEMPLARS: PartitionedTable = table("otel_metrics_exemplars", "data_point_time", Signal::Metrics);

/// Every fact table, the records' own before the tables hanging off them.
pub const FACTS: [PartitionedTable; 9] = [
    LOGS,
    SPANS,
    SPAN_EVENTS,
    SPAN_LINKS,
    NUMBER_POINTS,
    HISTOGRAM_POINTS,
    EXP_HISTOGRAM_POINTS,
    SUMMARY_POINTS,
    EXEMPLARS,
];

/// The per-minute span rollups (services, operations, service-map edges), partitioned on their bucket.
pub const ROLLUPS: [PartitionedTable; 3] = [
    table("otel_service_rollups", "bucket", Signal::Traces),
    table("otel_operation_rollups", "bucket", Signal::Traces),
    table("otel_service_edges", "bucket", Signal::Traces),
];
