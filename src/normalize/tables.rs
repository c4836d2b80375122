//! The tables the normalizer writes, with their COPY column lists (the order the encoders write fields in),
//! and the per-batch set of COPY streams under construction.

use std::collections::HashMap;

use super::copy::CopyWriter;
use super::{SeriesDim, TableData};

/// A table name and its COPY column list, e.g. `"(a, b, c)"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableSpec {
    pub name: &'static str,
    pub columns: &'static str,
}

pub(crate) const LOGS: usize = 0;
pub(crate) const SPANS: usize = 1;
pub(crate) const EVENTS: usize = 2;
pub(crate) const LINKS: usize = 3;
pub(crate) const NUMBER_POINTS: usize = 4;
pub(crate) const HISTOGRAM_POINTS: usize = 5;
pub(crate) const EXP_HISTOGRAM_POINTS: usize = 6;
pub(crate) const SUMMARY_POINTS: usize = 7;
pub(crate) const EXEMPLARS: usize = 8;
const FACT_TABLES: usize = 9;

const FACTS: [TableSpec; FACT_TABLES] = [
    TableSpec {
        name: "otel_logs_fact",
        columns: "(log_id, time, time_nanos_fraction, time_unset, observed_time, observed_time_nanos_fraction, \
                  severity_number, severity_text, body_type, body_string, body_int, body_double, body_bool, \
                  body_bytes, body_json, trace_id, span_id, flags, event_name, dropped_attributes_count, \
                  resource_id, scope_id)",
    },
    TableSpec {
        name: "otel_spans_fact",
        columns: "(span_row_id, start_time, start_time_nanos_fraction, end_time, end_time_nanos_fraction, \
                  duration_ns, trace_id, span_id, parent_span_id, trace_state, flags, name, kind, status_code, \
                  status_message, dropped_attributes_count, dropped_events_count, dropped_links_count, \
                  resource_id, scope_id)",
    },
    TableSpec {
        name: "otel_span_events",
        columns: "(event_row_id, span_row_id, span_start_time, event_index, time, time_nanos_fraction, name, \
                  dropped_attributes_count)",
    },
    TableSpec {
        name: "otel_span_links",
        columns: "(link_row_id, span_row_id, span_start_time, link_index, trace_id, span_id, trace_state, \
                  flags, dropped_attributes_count)",
    },
    TableSpec {
        name: "otel_metrics_data_points_number",
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, value_int, value_double, series_key)",
    },
    TableSpec {
        name: "otel_metrics_data_points_histogram",
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, count, sum, min, max, bucket_counts, explicit_bounds, series_key)",
    },
    TableSpec {
        name: "otel_metrics_data_points_exp_histogram",
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, count, sum, min, max, scale, zero_count, zero_threshold, \
                  positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts, series_key)",
    },
    TableSpec {
        name: "otel_metrics_data_points_summary",
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, count, sum, quantiles, quantile_values, series_key)",
    },
    TableSpec {
        name: "otel_metrics_exemplars",
        columns: "(data_point_id, data_point_time, data_point_kind, exemplar_index, time, time_nanos_fraction, \
                  value_int, value_double, trace_id, span_id, filtered_attributes)",
    },
];

/// The owners of typed attribute tables (one set of six tables each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrLevel {
    Resource = 0,
    Scope = 1,
    Log = 2,
    Span = 3,
    SpanEvent = 4,
    SpanLink = 5,
    NumberDp = 6,
    HistogramDp = 7,
    ExpHistogramDp = 8,
    SummaryDp = 9,
}

const ATTR_LEVELS: usize = 10;

impl AttrLevel {
    /// The promotion config level that decides this table level.
    pub fn promotion_level(self) -> super::promotion::Level {
        use super::promotion::Level;
        match self {
            AttrLevel::Resource => Level::Resource,
            AttrLevel::Scope => Level::Scope,
            AttrLevel::Log => Level::Log,
            AttrLevel::Span => Level::Span,
            AttrLevel::SpanEvent => Level::SpanEvent,
            AttrLevel::SpanLink => Level::SpanLink,
            AttrLevel::NumberDp | AttrLevel::HistogramDp | AttrLevel::ExpHistogramDp | AttrLevel::SummaryDp => {
                Level::DataPoint
            }
        }
    }
}

/// Position of the `_other` table among a level's six (after string, int, double, bool, bytes).
pub(crate) const OTHER: usize = 5;

macro_rules! attr_tables {
    ($prefix:literal, $owner:literal) => {
        [
            TableSpec { name: concat!($prefix, "_string"), columns: concat!("(", $owner, ", key_id, value)") },
            TableSpec { name: concat!($prefix, "_int"), columns: concat!("(", $owner, ", key_id, value)") },
            TableSpec { name: concat!($prefix, "_double"), columns: concat!("(", $owner, ", key_id, value)") },
            TableSpec { name: concat!($prefix, "_bool"), columns: concat!("(", $owner, ", key_id, value)") },
            TableSpec { name: concat!($prefix, "_bytes"), columns: concat!("(", $owner, ", key_id, value)") },
            TableSpec { name: concat!($prefix, "_other"), columns: concat!("(", $owner, ", attributes)") },
        ]
    };
}

const ATTRS: [[TableSpec; 6]; ATTR_LEVELS] = [
    attr_tables!("otel_resource_attrs", "resource_id"),
    attr_tables!("otel_scope_attrs", "scope_id"),
    attr_tables!("otel_log_attrs", "log_id, time"),
    attr_tables!("otel_span_attrs", "span_row_id, start_time"),
    attr_tables!("otel_span_event_attrs", "event_row_id, span_start_time"),
    attr_tables!("otel_span_link_attrs", "link_row_id, span_start_time"),
    attr_tables!("otel_number_dp_attrs", "data_point_id, time"),
    attr_tables!("otel_histogram_dp_attrs", "data_point_id, time"),
    attr_tables!("otel_exp_histogram_dp_attrs", "data_point_id, time"),
    attr_tables!("otel_summary_dp_attrs", "data_point_id, time"),
];

/// Number of tables in the registry.
pub(crate) const TABLE_COUNT: usize = FACT_TABLES + ATTR_LEVELS * 6;

/// Registry index of a level's attribute table (`kind` 0..=4 a value type, [`OTHER`] the JSONB table).
#[inline]
pub(crate) fn attr_table(level: AttrLevel, kind: usize) -> usize {
    FACT_TABLES + level as usize * 6 + kind
}

/// The spec of a registry index.
pub(crate) fn spec(table: usize) -> TableSpec {
    if table < FACT_TABLES {
        FACTS[table]
    } else {
        let i = table - FACT_TABLES;
        ATTRS[i / 6][i % 6]
    }
}

/// Every table the normalizer can write, fact tables first.
#[cfg(test)]
pub(crate) fn all_specs() -> impl Iterator<Item = TableSpec> {
    (0..TABLE_COUNT).map(spec)
}

/// One COPY stream per table, created on first use, and the metric series the rows belong to.
#[derive(Debug)]
pub(crate) struct TableSet {
    writers: Vec<Option<CopyWriter>>,
    /// The metric series of the data points written, by series key.
    pub series: HashMap<i64, SeriesDim>,
}

impl TableSet {
    pub fn new() -> Self {
        TableSet { writers: vec![None; TABLE_COUNT], series: HashMap::new() }
    }

    /// The stream of a table.
    #[inline]
    pub fn w(&mut self, table: usize) -> &mut CopyWriter {
        self.writers[table].get_or_insert_with(CopyWriter::new)
    }

    /// One set holding the streams of `sets` one after the other, each byte copied once.
    ///
    /// A pairwise reduce (`a.append(b)` up rayon's join tree) copied every row once per tree level: 9% of the
    /// server's CPU during an end-to-end load.
    pub fn concat(sets: Vec<TableSet>) -> TableSet {
        let mut out = TableSet::new();
        for (table, mine) in out.writers.iter_mut().enumerate() {
            let parts: Vec<&CopyWriter> = sets.iter().filter_map(|s| s.writers[table].as_ref()).collect();
            if parts.is_empty() {
                continue;
            }
            *mine = Some(CopyWriter::concat(&parts));
        }
        for set in sets {
            for (key, dim) in set.series {
                out.series.entry(key).or_insert(dim);
            }
        }
        out
    }

    /// The finished streams of every table with at least one row, in registry order, and the series sorted
    /// by key.
    pub fn finish(self) -> (Vec<TableData>, Vec<SeriesDim>) {
        let mut series: Vec<SeriesDim> = self.series.into_values().collect();
        series.sort_unstable_by_key(|s| s.key);
        let tables = self
            .writers
            .into_iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let w = w?;
                if w.rows() == 0 {
                    return None;
                }
                let spec = spec(i);
                let (data, rows) = w.finish();
                Some(TableData { table: spec.name, columns: spec.columns, rows, data })
            })
            .collect();
        (tables, series)
    }
}
