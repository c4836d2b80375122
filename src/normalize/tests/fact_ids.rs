//! Fact ids: unique across the batch's tables and taken from the reserved blocks.

use super::copy_rows::*;
use super::fixtures::*;
use crate::normalize::*;

#[test]
fn fact_ids_are_unique_and_come_from_the_reserved_blocks() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let mut all = Vec::new();
    for name in [
        "otel_logs_fact",
        "otel_spans_fact",
        "otel_span_events",
        "otel_span_links",
        "otel_metrics_data_points_number",
        "otel_metrics_data_points_histogram",
        "otel_metrics_data_points_exp_histogram",
        "otel_metrics_data_points_summary",
    ] {
        all.extend(rows(&tables, name).iter().map(|r| i64_of(&r[0])));
    }
    all.sort();
    let expected: Vec<i64> = (0..18).map(|i| 7 * 65_536 + i).collect();
    assert_eq!(all, expected);
}

#[test]
fn fact_ids_cross_block_boundaries() {
    let ids = FactIds { blocks: vec![5, 9] };
    assert_eq!(ids.id(0), Some(5 * 65_536));
    assert_eq!(ids.id(65_535), Some(5 * 65_536 + 65_535));
    assert_eq!(ids.id(65_536), Some(9 * 65_536));
    assert_eq!(ids.id(2 * 65_536), None);
    assert_eq!(FactIds::blocks_needed(0), 0);
    assert_eq!(FactIds::blocks_needed(1), 1);
    assert_eq!(FactIds::blocks_needed(65_536), 1);
    assert_eq!(FactIds::blocks_needed(65_537), 2);
}
