//! What a whole batch prepares and encodes to: the tables and row counts of every signal, the records
//! it lists as failures instead of failing, subsets, missing ids, empty and large batches.

use super::copy_rows::*;
use super::fixtures::*;
use crate::normalize::*;
use crate::schema::Signal;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;

#[test]
fn every_field_of_every_signal_gives_the_expected_rows_per_table() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    assert!(prepared.failures().is_empty(), "{:?}", prepared.failures());
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;

    let mut got: Vec<(&str, u64)> = tables.iter().map(|t| (t.table, t.rows)).collect();
    got.sort();
    let mut expected: Vec<(&str, u64)> = vec![
        ("otel_logs_fact", 8),
        ("otel_spans_fact", 2),
        ("otel_span_events", 2),
        ("otel_span_links", 1),
        ("otel_metrics_data_points_number", 2),
        ("otel_metrics_data_points_histogram", 1),
        ("otel_metrics_data_points_exp_histogram", 1),
        ("otel_metrics_data_points_summary", 1),
        ("otel_metrics_exemplars", 4),
    ];
    // Every owner with every_kind_attrs: one row in each typed table and one _other row; log records and
    // spans keep them on their own row instead.
    for (prefix, owners) in [
        ("otel_span_event_attrs", 1),
        ("otel_span_link_attrs", 1),
        ("otel_number_dp_attrs", 2),
        ("otel_histogram_dp_attrs", 1),
        ("otel_exp_histogram_dp_attrs", 1),
        ("otel_summary_dp_attrs", 1),
    ] {
        for kind in ["string", "int", "double", "bool", "bytes", "other"] {
            let name: &'static str = tables::all_specs().find(|s| s.name == format!("{prefix}_{kind}")).unwrap().name;
            expected.push((name, owners));
        }
    }
    expected.sort();
    assert_eq!(got, expected);

    // Every stream parses, and every row has exactly as many fields as the column list names.
    for t in &tables {
        let parsed = parse_copy(&t.data);
        assert_eq!(parsed.len() as u64, t.rows, "{}", t.table);
        for row in parsed {
            assert_eq!(row.len(), column_count(t.columns), "{}", t.table);
        }
    }

    let counts = prepared.counts();
    assert_eq!(
        counts,
        FactCounts {
            logs: 8,
            spans: 2,
            events: 2,
            links: 1,
            number_points: 2,
            histogram_points: 1,
            exp_histogram_points: 1,
            summary_points: 1,
            exemplars: 4,
        }
    );
    assert_eq!(counts.ids(), 18);
    // One shared resource and scope across the three signals; five metrics (the one without data has none).
    assert_eq!(prepared.resources().len(), 1);
    assert_eq!(prepared.scopes().len(), 1);
    assert_eq!(prepared.metrics().len(), 5);
    assert_eq!((prepared.first_seq(), prepared.last_seq()), (10, 12));
    assert_eq!(prepared.max_received_at_unix_nanos(), RECEIVED);
}

#[test]
fn undecodable_and_unstorable_records_are_listed_not_fatal() {
    let promotion = test_promotion();
    let mut bad_kind = traces_request();
    bad_kind.resource_spans[0].scope_spans[0].spans[0].kind = 9;
    let mut bad_severity = logs_request();
    bad_severity.resource_logs[0].scope_logs[0].log_records[0].severity_number = 25;
    let mut bad_temporality = metrics_request();
    if let Some(Data::Sum(s)) = &mut bad_temporality.resource_metrics[0].scope_metrics[0].metrics[1].data {
        s.aggregation_temporality = 3;
    }
    let records = vec![
        record(1, Signal::Traces, vec![0xff, 0xff, 0xff]),
        record(2, Signal::Logs, logs_request().encode_to_vec()),
        record(3, Signal::Traces, bad_kind.encode_to_vec()),
        record(4, Signal::Logs, bad_severity.encode_to_vec()),
        record(5, Signal::Metrics, bad_temporality.encode_to_vec()),
        record(6, Signal::Metrics, logs_request().encode_to_vec()),
    ];
    let prepared = prepare(&records, &promotion);
    let failed: Vec<u64> = prepared.failures().iter().map(|f| f.0).collect();
    assert!(failed.starts_with(&[1, 3, 4, 5]), "{:?}", prepared.failures());
    assert!(prepared.failures()[1].1.contains("span kind 9"), "{:?}", prepared.failures());
    assert!(prepared.failures()[2].1.contains("severity_number 25"));
    assert!(prepared.failures()[3].1.contains("aggregation_temporality 3"));
    assert_eq!(prepared.seqs()[0], 2);
    assert_eq!((prepared.first_seq(), prepared.last_seq()), (1, 6));
    assert_eq!(prepared.counts().logs, 8);
    let ids = resolve(&prepared);
    assert!(encode(&prepared, &ids, &promotion).is_ok());
}

#[test]
fn strings_with_nul_are_failures_not_batch_errors() {
    // PostgreSQL text and jsonb cannot hold U+0000: such a record would fail the whole batch's COPY.
    let promotion = test_promotion();
    let mut span_name = traces_request();
    span_name.resource_spans[0].scope_spans[0].spans[0].name = "a\0b".into();
    let mut nested = traces_request();
    nested.resource_spans[0].scope_spans[0].spans[1]
        .attributes
        .push(kv("outer", Value::KvlistValue(KeyValueList { values: vec![kv("in\0ner", Value::IntValue(1))] })));
    let mut body = logs_request();
    body.resource_logs[0].scope_logs[0].log_records[3].body =
        Some(av(Value::ArrayValue(ArrayValue { values: vec![av(string("x\0"))] })));
    let mut unit = metrics_request();
    unit.resource_metrics[0].scope_metrics[0].metrics[2].unit = "\0".into();
    let mut exemplar_attr = metrics_request();
    if let Some(Data::Gauge(g)) = &mut exemplar_attr.resource_metrics[0].scope_metrics[0].metrics[0].data {
        g.data_points[0].exemplars[0].filtered_attributes.push(kv("k", string("v\0")));
    }
    let mut resource_attr = logs_request();
    resource_attr.resource_logs[0].resource.as_mut().unwrap().attributes.push(kv("r", string("\0")));
    let mut bytes_ok = logs_request();
    bytes_ok.resource_logs[0].scope_logs[0].log_records[0].body = Some(av(Value::BytesValue(vec![0, 0])));
    let records = vec![
        record(1, Signal::Traces, span_name.encode_to_vec()),
        record(2, Signal::Traces, nested.encode_to_vec()),
        record(3, Signal::Logs, body.encode_to_vec()),
        record(4, Signal::Metrics, unit.encode_to_vec()),
        record(5, Signal::Metrics, exemplar_attr.encode_to_vec()),
        record(6, Signal::Logs, resource_attr.encode_to_vec()),
        record(7, Signal::Logs, bytes_ok.encode_to_vec()),
    ];
    let prepared = prepare(&records, &promotion);
    let failures = prepared.failures();
    assert_eq!(failures.iter().map(|f| f.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6], "{failures:?}");
    for (what, (_, message)) in
        ["span name", "attribute", "log body", "metric unit", "exemplar", "resource attribute"].iter().zip(failures)
    {
        assert!(message.contains(what) && message.contains("NUL"), "{what}: {message}");
    }
    assert_eq!(prepared.seqs(), [7], "bytes may hold zero bytes");
}

#[test]
fn subset_keeps_only_the_given_records() {
    let promotion = test_promotion();
    let mut records = all_signals();
    records.push(record(13, Signal::Logs, b"garbage".to_vec()));
    let prepared = prepare(&records, &promotion);
    let logs_only = prepared.subset(&[11, 13]);
    assert_eq!(logs_only.seqs(), [11]);
    assert_eq!(logs_only.failures().len(), 1);
    assert_eq!((logs_only.first_seq(), logs_only.last_seq()), (11, 13));
    assert_eq!(logs_only.counts().ids(), 8);
    assert!(logs_only.metrics().is_empty());
    assert_eq!(logs_only.resources(), prepared.resources());
    let ids = resolve(&logs_only);
    let tables = encode(&logs_only, &ids, &promotion).unwrap().tables;
    assert!(
        tables.iter().all(|t| t.table.starts_with("otel_log")),
        "{:?}",
        tables.iter().map(|t| t.table).collect::<Vec<_>>()
    );
    assert!(prepared.subset(&[]).seqs().is_empty());
}

#[test]
fn missing_ids_are_errors_not_panics() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    let ids = resolve(&prepared);

    let mut few = ids.clone();
    few.facts.blocks.clear();
    assert_eq!(
        encode(&prepared, &few, &promotion).unwrap_err(),
        EncodeError::NotEnoughFactIds { needed: 18, available: 0 }
    );
    for break_ids in [
        (|i: &mut Ids| i.resources.clear()) as fn(&mut Ids),
        |i| i.scopes.clear(),
        |i| i.metrics.clear(),
        |i| {
            i.keys.remove("s");
        },
    ] {
        let mut broken = ids.clone();
        break_ids(&mut broken);
        let err = encode(&prepared, &broken, &promotion).unwrap_err();
        assert!(matches!(err, EncodeError::Record { .. }), "{err}");
    }
}

#[test]
fn empty_batch_encodes_to_nothing() {
    let promotion = Promotion::defaults();
    let prepared = prepare(&[], &promotion);
    assert_eq!((prepared.first_seq(), prepared.last_seq()), (0, 0));
    assert!(encode(&prepared, &Ids::default(), &promotion).unwrap().tables.is_empty());
    let empty_request =
        prepare(&[record(1, Signal::Traces, ExportTraceServiceRequest::default().encode_to_vec())], &promotion);
    assert!(empty_request.failures().is_empty());
    assert!(encode(&empty_request, &Ids::default(), &promotion).unwrap().tables.is_empty());
}

#[test]
fn parallel_encode_of_many_records_matches_sequential_rows() {
    let promotion = test_promotion();
    let records: Vec<wal::Record> =
        (0..64).map(|i| record(100 + i, Signal::Traces, traces_request().encode_to_vec())).collect();
    let prepared = prepare(&records, &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    assert_eq!(table(&tables, "otel_spans_fact").rows, 128);
    assert_eq!(table(&tables, "otel_span_event_attrs_other").rows, 64);
    let mut span_ids: Vec<i64> = rows(&tables, "otel_spans_fact").iter().map(|r| i64_of(&r[0])).collect();
    span_ids.sort();
    span_ids.dedup();
    assert_eq!(span_ids.len(), 128, "no id used twice");
    assert_eq!(prepared.resources().len(), 1);
}
