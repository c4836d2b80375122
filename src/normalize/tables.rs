//! The tables the normalizer writes, with their COPY column lists (the order the encoders write fields in),
//! the per-batch set of COPY streams under construction, and the finished streams.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::copy::CopyWriter;
use super::dimensions::{AttrSetDim, SeriesDim};
use crate::schema::attributes::{ATTR_LEVELS, AttrLevel, TABLES_PER_LEVEL, ValueType};
use crate::schema::tables as facts;

/// A table name and its COPY column list, e.g. `"(a, b, c)"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableSpec {
    pub name: &'static str,
    pub columns: &'static str,
}

// Registry indexes of the fact tables, in the order of `schema::tables::FACTS`.
pub(crate) const LOGS: usize = 0;
pub(crate) const SPANS: usize = 1;
pub(crate) const EVENTS: usize = 2;
pub(crate) const LINKS: usize = 3;
pub(crate) const NUMBER_POINTS: usize = 4;
pub(crate) const HISTOGRAM_POINTS: usize = 5;
pub(crate) const EXP_HISTOGRAM_POINTS: usize = 6;
pub(crate) const SUMMARY_POINTS: usize = 7;
pub(crate) const EXEMPLARS: usize = 8;
const FACT_TABLES: usize = facts::FACTS.len();

/// The fact tables' column lists, at the indexes above.
const FACTS: [TableSpec; FACT_TABLES] = [
    TableSpec {
        name: facts::LOGS.table,
        columns: "(log_id, time, time_nanos_fraction, time_unset, observed_time, observed_time_nanos_fraction, \
                  severity_number, severity_text, body_type, body_string, body_int, body_double, body_bool, \
                  body_bytes, body_json, trace_id, span_id, flags, event_name, dropped_attributes_count, \
                  resource_id, scope_id, attr_set_key, attributes)",
    },
    TableSpec {
        name: facts::SPANS.table,
        columns: "(span_row_id, start_time, start_time_nanos_fraction, end_time, end_time_nanos_fraction, \
                  duration_ns, trace_id, span_id, parent_span_id, trace_state, flags, name, kind, status_code, \
                  status_message, dropped_attributes_count, dropped_events_count, dropped_links_count, \
                  resource_id, scope_id, attr_set_key, attributes)",
    },
    TableSpec {
        name: facts::SPAN_EVENTS.table,
        columns: "(event_row_id, span_row_id, span_start_time, event_index, time, time_nanos_fraction, name, \
                  dropped_attributes_count)",
    },
    TableSpec {
        name: facts::SPAN_LINKS.table,
        columns: "(link_row_id, span_row_id, span_start_time, link_index, trace_id, span_id, trace_state, \
                  flags, dropped_attributes_count)",
    },
    TableSpec {
        name: facts::NUMBER_POINTS.table,
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, value_int, value_double, series_key)",
    },
    TableSpec {
        name: facts::HISTOGRAM_POINTS.table,
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, count, sum, min, max, bucket_counts, explicit_bounds, series_key)",
    },
    TableSpec {
        name: facts::EXP_HISTOGRAM_POINTS.table,
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, count, sum, min, max, scale, zero_count, zero_threshold, \
                  positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts, series_key)",
    },
    TableSpec {
        name: facts::SUMMARY_POINTS.table,
        columns: "(data_point_id, metric_id, resource_id, scope_id, time, time_nanos_fraction, start_time, \
                  start_time_nanos_fraction, flags, count, sum, quantiles, quantile_values, series_key)",
    },
    TableSpec {
        name: facts::EXEMPLARS.table,
        columns: "(data_point_id, data_point_time, data_point_kind, exemplar_index, time, time_nanos_fraction, \
                  value_int, value_double, trace_id, span_id, filtered_attributes)",
    },
];

/// Position of the `_other` table among a level's tables (after one per value type).
pub(crate) const OTHER: usize = ValueType::ALL.len();

/// Per attribute level, the column lists of its typed tables and of its `_other` table: the owner (with its
/// partition time), then the value.
static ATTR_COLUMNS: LazyLock<Vec<[String; 2]>> = LazyLock::new(|| {
    ATTR_LEVELS
        .iter()
        .map(|level| {
            let owner = match level.time {
                Some(time) => format!("{}, {time}", level.owner),
                None => level.owner.to_string(),
            };
            [format!("({owner}, key_id, value)"), format!("({owner}, attributes)")]
        })
        .collect()
});

/// Number of tables in the registry.
pub(crate) const TABLE_COUNT: usize = FACT_TABLES + ATTR_LEVELS.len() * TABLES_PER_LEVEL;

/// Registry index of a level's attribute table (`kind` a [`ValueType`] as usize, [`OTHER`] the JSONB table).
#[inline]
pub(crate) fn attr_table(level: AttrLevel, kind: usize) -> usize {
    FACT_TABLES + level.index() * TABLES_PER_LEVEL + kind
}

/// The spec of a registry index.
pub(crate) fn spec(table: usize) -> TableSpec {
    if table < FACT_TABLES {
        return FACTS[table];
    }
    let i = table - FACT_TABLES;
    let (level, kind) = (ATTR_LEVELS[i / TABLES_PER_LEVEL], i % TABLES_PER_LEVEL);
    TableSpec { name: level.tables()[kind], columns: &ATTR_COLUMNS[level.index()][usize::from(kind == OTHER)] }
}

/// Every table the normalizer can write, fact tables first.
#[cfg(test)]
pub(crate) fn all_specs() -> impl Iterator<Item = TableSpec> {
    (0..TABLE_COUNT).map(spec)
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

/// One COPY stream per table, created on first use, and the metric series and attribute sets the rows belong
/// to.
#[derive(Debug)]
pub(crate) struct TableSet {
    writers: Vec<Option<CopyWriter>>,
    /// The metric series of the data points written, by series key.
    pub series: HashMap<i64, SeriesDim>,
    /// The attribute sets of the records written, by set key.
    pub attr_sets: HashMap<i64, AttrSetDim>,
}

/// What a batch's streams finish as: the COPY streams of the tables with rows, the metric series sorted by
/// key, and the attribute sets sorted by key.
pub(crate) type Finished = (Vec<TableData>, Vec<SeriesDim>, Vec<AttrSetDim>);

impl TableSet {
    pub fn new() -> Self {
        TableSet { writers: vec![None; TABLE_COUNT], series: HashMap::new(), attr_sets: HashMap::new() }
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
            for (key, dim) in set.attr_sets {
                out.attr_sets.entry(key).or_insert(dim);
            }
        }
        out
    }

    /// The finished streams of every table with at least one row, in registry order, and the series and
    /// attribute sets sorted by key (the order writers lock them in).
    pub fn finish(self) -> Finished {
        let mut series: Vec<SeriesDim> = self.series.into_values().collect();
        series.sort_unstable_by_key(|s| s.key);
        let mut attr_sets: Vec<AttrSetDim> = self.attr_sets.into_values().collect();
        attr_sets.sort_unstable_by_key(|s| s.key);
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
        (tables, series, attr_sets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fact_specs_follow_the_schema_order() {
        for (i, fact) in facts::FACTS.iter().enumerate() {
            assert_eq!(spec(i).name, fact.table);
        }
        assert_eq!(
            spec(attr_table(crate::schema::attributes::SPAN, OTHER)).columns,
            "(span_row_id, start_time, attributes)"
        );
    }
}
