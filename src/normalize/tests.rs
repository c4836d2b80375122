//! Unit tests of prepare/encode (no database; the writer's integration tests load the streams into
//! PostgreSQL).

use super::*;
use crate::schema::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar, metric::Data,
    number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use std::collections::HashMap;

const RECEIVED: u64 = 1_764_172_800_123_456_789;
const T0: u64 = 1_764_172_000_000_000_001;

fn av(v: Value) -> AnyValue {
    AnyValue { value: Some(v) }
}
fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(av(v)), ..Default::default() }
}
fn string(v: &str) -> Value {
    Value::StringValue(v.into())
}

/// Promotes s/i/n/d/b/y as string/int/int/double/bool/bytes at every level, drops `secret.*`.
fn test_promotion() -> Promotion {
    let mut text = String::from("drop = [\"secret.*\"]\n[resource]\nstring = [\"service.*\", \"host.name\"]\n");
    for level in ["scope", "log", "span", "span_event", "span_link", "data_point"] {
        text.push_str(&format!(
            "[{level}]\nstring = [\"s\"]\nint = [\"i\", \"n\"]\ndouble = [\"d\"]\nbool = [\"b\"]\nbytes = [\"y\"]\n"
        ));
    }
    Promotion::from_toml_str(&text).unwrap()
}

/// One attribute of every kind: five promoted scalars, one type mismatch ("n" is promoted as int), an array,
/// a kvlist, an empty value, an unpromoted string and a dropped secret.
fn every_kind_attrs() -> Vec<KeyValue> {
    vec![
        kv("s", string("text")),
        kv("i", Value::IntValue(-7)),
        kv("d", Value::DoubleValue(2.0)),
        kv("b", Value::BoolValue(true)),
        kv("y", Value::BytesValue(vec![0, 1, 2])),
        kv("n", string("not an int")),
        kv("arr", Value::ArrayValue(ArrayValue { values: vec![av(Value::IntValue(1)), av(string("two"))] })),
        kv("map", Value::KvlistValue(KeyValueList { values: vec![kv("inner", Value::DoubleValue(f64::NAN))] })),
        KeyValue { key: "empty".into(), value: None, ..Default::default() },
        kv("plain", string("unpromoted")),
        kv("secret.token", string("hunter2")),
    ]
}

fn resource() -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", string("checkout")),
            kv("service.namespace", string("shop")),
            kv("host.name", string("h1")),
            kv("process.pid", Value::IntValue(42)),
            kv("secret.key", string("k")),
        ],
        dropped_attributes_count: 3,
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "lib".into(),
        version: "1.2.3".into(),
        attributes: vec![kv("s", string("scoped")), kv("other", Value::IntValue(1))],
        dropped_attributes_count: 1,
    }
}

fn traces_request() -> ExportTraceServiceRequest {
    let full = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        trace_state: "k=v".into(),
        parent_span_id: vec![3; 8],
        flags: 0x8000_0301,
        name: "GET /".into(),
        kind: 2,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_500,
        attributes: every_kind_attrs(),
        dropped_attributes_count: 4,
        events: vec![
            Event {
                time_unix_nano: T0 + 10,
                name: "exception".into(),
                attributes: every_kind_attrs(),
                dropped_attributes_count: 5,
            },
            Event { time_unix_nano: 0, name: "unset time".into(), attributes: vec![], dropped_attributes_count: 0 },
        ],
        dropped_events_count: 6,
        links: vec![Link {
            trace_id: vec![4; 16],
            span_id: vec![5; 8],
            trace_state: "l=1".into(),
            attributes: every_kind_attrs(),
            dropped_attributes_count: 7,
            flags: 1,
        }],
        dropped_links_count: 8,
        status: Some(Status { message: "boom".into(), code: 2 }),
    };
    let root = Span {
        trace_id: vec![1; 16],
        span_id: vec![9; 8],
        name: "root".into(),
        start_time_unix_nano: T0,
        end_time_unix_nano: T0,
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans: vec![full, root],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}

fn bodies() -> Vec<Option<AnyValue>> {
    vec![
        None,
        Some(av(string("hello"))),
        Some(av(Value::IntValue(i64::MIN))),
        Some(av(Value::DoubleValue(0.5))),
        Some(av(Value::BoolValue(false))),
        Some(av(Value::BytesValue(vec![0xff]))),
        Some(av(Value::ArrayValue(ArrayValue { values: vec![av(Value::BoolValue(true))] }))),
        Some(av(Value::KvlistValue(KeyValueList { values: vec![kv("a", Value::IntValue(1))] }))),
    ]
}

fn logs_request() -> ExportLogsServiceRequest {
    let mut records: Vec<LogRecord> = bodies()
        .into_iter()
        .map(|body| LogRecord {
            time_unix_nano: T0,
            observed_time_unix_nano: T0 + 1,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body,
            attributes: vec![],
            dropped_attributes_count: 0,
            flags: 1,
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            event_name: "ev".into(),
        })
        .collect();
    records[0].attributes = every_kind_attrs();
    records[0].dropped_attributes_count = 2;
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: records,
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}

fn exemplar() -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user", string("u1")), kv("secret.x", string("no"))],
        time_unix_nano: T0 + 5,
        span_id: vec![2; 8],
        trace_id: vec![1; 16],
        value: Some(exemplar::Value::AsDouble(0.25)),
    }
}

fn metrics_request() -> ExportMetricsServiceRequest {
    let number = |value| NumberDataPoint {
        attributes: every_kind_attrs(),
        start_time_unix_nano: T0 - 1_000,
        time_unix_nano: T0,
        exemplars: vec![exemplar()],
        flags: 1,
        value: Some(value),
    };
    let metric = |name: &str, data| Metric {
        name: name.into(),
        description: "desc".into(),
        unit: "ms".into(),
        metadata: vec![kv("meta", string("m"))],
        data,
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics: vec![
                    metric(
                        "gauge",
                        Some(Data::Gauge(Gauge { data_points: vec![number(number_data_point::Value::AsInt(3))] })),
                    ),
                    metric(
                        "sum",
                        Some(Data::Sum(Sum {
                            data_points: vec![number(number_data_point::Value::AsDouble(1.5))],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                    ),
                    metric(
                        "histogram",
                        Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: every_kind_attrs(),
                                start_time_unix_nano: T0 - 1_000,
                                time_unix_nano: T0,
                                count: 6,
                                sum: Some(12.0),
                                bucket_counts: vec![1, 2, 3],
                                explicit_bounds: vec![1.0, 5.0],
                                exemplars: vec![exemplar()],
                                flags: 0,
                                min: Some(0.5),
                                max: None,
                            }],
                            aggregation_temporality: 1,
                        })),
                    ),
                    metric(
                        "exp",
                        Some(Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: every_kind_attrs(),
                                start_time_unix_nano: 0,
                                time_unix_nano: T0,
                                count: 10,
                                sum: None,
                                scale: -3,
                                zero_count: 1,
                                positive: Some(Buckets { offset: -2, bucket_counts: vec![4, 5] }),
                                negative: None,
                                flags: 1,
                                exemplars: vec![exemplar()],
                                min: None,
                                max: Some(9.0),
                                zero_threshold: 0.001,
                            }],
                            aggregation_temporality: 2,
                        })),
                    ),
                    metric(
                        "summary",
                        Some(Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: every_kind_attrs(),
                                start_time_unix_nano: T0 - 1_000,
                                time_unix_nano: T0,
                                count: 4,
                                sum: 8.0,
                                quantile_values: vec![
                                    ValueAtQuantile { quantile: 0.5, value: 2.0 },
                                    ValueAtQuantile { quantile: 0.99, value: 3.5 },
                                ],
                                flags: 0,
                            }],
                        })),
                    ),
                    metric("no data", None),
                ],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}

fn record(seq: u64, signal: Signal, payload: Vec<u8>) -> wal::Record {
    wal::Record { seq, kind: signal.wal_kind(), received_at_unix_nanos: RECEIVED, payload }
}

fn all_signals() -> Vec<wal::Record> {
    vec![
        record(10, Signal::Traces, traces_request().encode_to_vec()),
        record(11, Signal::Logs, logs_request().encode_to_vec()),
        record(12, Signal::Metrics, metrics_request().encode_to_vec()),
    ]
}

/// Resolves every id the way the writer would, with recognizable numbers.
fn resolve(p: &Prepared) -> Ids {
    Ids {
        resources: p.resources().iter().enumerate().map(|(i, d)| (d.hash, 100 + i as i64)).collect(),
        scopes: p.scopes().iter().enumerate().map(|(i, d)| (d.hash, 200 + i as i64)).collect(),
        metrics: p.metrics().iter().enumerate().map(|(i, d)| (d.hash, 300 + i as i64)).collect(),
        keys: p.keys().iter().enumerate().map(|(i, k)| (k.clone(), 1 + i as i32)).collect(),
        facts: FactIds { blocks: (0..FactIds::blocks_needed(p.counts().ids())).map(|b| 7 + b as i64).collect() },
    }
}

type Row = Vec<Option<Vec<u8>>>;

/// Parses a binary COPY stream (header, rows, trailer) into rows of fields, NULL as `None`.
fn parse_copy(data: &[u8]) -> Vec<Row> {
    assert_eq!(&data[..19], copy::COPY_HEADER, "header");
    let mut pos = 19;
    let mut rows = Vec::new();
    loop {
        let n = i16::from_be_bytes([data[pos], data[pos + 1]]);
        pos += 2;
        if n == -1 {
            assert_eq!(pos, data.len(), "trailer must end the stream");
            return rows;
        }
        let mut row = Vec::new();
        for _ in 0..n {
            let len = i32::from_be_bytes(data[pos..pos + 4].try_into().unwrap());
            pos += 4;
            if len < 0 {
                row.push(None);
            } else {
                row.push(Some(data[pos..pos + len as usize].to_vec()));
                pos += len as usize;
            }
        }
        rows.push(row);
    }
}

fn table<'t>(tables: &'t [TableData], name: &str) -> &'t TableData {
    tables
        .iter()
        .find(|t| t.table == name)
        .unwrap_or_else(|| panic!("no {name} among {:?}", tables.iter().map(|t| t.table).collect::<Vec<_>>()))
}

fn rows(tables: &[TableData], name: &str) -> Vec<Row> {
    parse_copy(&table(tables, name).data)
}

fn i64_of(f: &Option<Vec<u8>>) -> i64 {
    i64::from_be_bytes(f.as_ref().unwrap()[..].try_into().unwrap())
}
fn i32_of(f: &Option<Vec<u8>>) -> i32 {
    i32::from_be_bytes(f.as_ref().unwrap()[..].try_into().unwrap())
}
fn i16_of(f: &Option<Vec<u8>>) -> i16 {
    i16::from_be_bytes(f.as_ref().unwrap()[..].try_into().unwrap())
}
fn text_of(f: &Option<Vec<u8>>) -> String {
    String::from_utf8(f.clone().unwrap()).unwrap()
}
fn json_of(f: &Option<Vec<u8>>) -> String {
    let b = f.as_ref().unwrap();
    assert_eq!(b[0], 1, "jsonb version byte");
    String::from_utf8(b[1..].to_vec()).unwrap()
}
fn time_of(nanos: u64) -> i64 {
    crate::time::from_unix_nanos(nanos).unwrap().unwrap().pg_micros()
}

fn column_count(columns: &str) -> usize {
    columns.split(',').count()
}

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
    // Every owner with every_kind_attrs: one row in each typed table and one _other row.
    for (prefix, owners) in [
        ("otel_log_attrs", 1),
        ("otel_span_attrs", 1),
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

#[test]
fn span_rows_carry_every_field() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals()[..1], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let spans = rows(&tables, "otel_spans_fact");
    let full = &spans[0];
    assert_eq!(i64_of(&full[1]), time_of(T0));
    assert_eq!(i16_of(&full[2]), 1); // T0 ends in ...001 ns
    assert_eq!(i64_of(&full[3]), time_of(T0 + 1_500));
    assert_eq!(i16_of(&full[4]), 501);
    assert_eq!(i64_of(&full[5]), 1_500);
    assert_eq!(full[6], Some(vec![1; 16]));
    assert_eq!(full[7], Some(vec![2; 8]));
    assert_eq!(full[8], Some(vec![3; 8]));
    assert_eq!(text_of(&full[9]), "k=v");
    assert_eq!(i32_of(&full[10]), 0x8000_0301u32 as i32);
    assert_eq!(text_of(&full[11]), "GET /");
    assert_eq!(i16_of(&full[12]), 2);
    assert_eq!(i16_of(&full[13]), 2);
    assert_eq!(text_of(&full[14]), "boom");
    assert_eq!([i32_of(&full[15]), i32_of(&full[16]), i32_of(&full[17])], [4, 6, 8]);
    assert_eq!(i64_of(&full[18]), ids.resources[&prepared.resources()[0].hash]);
    assert_eq!(i64_of(&full[19]), ids.scopes[&prepared.scopes()[0].hash]);
    let root = &spans[1];
    assert_eq!(root[8], None, "empty parent_span_id is NULL");
    assert_eq!((i16_of(&root[13]), text_of(&root[14])), (0, String::new()));
    assert_eq!(i64_of(&root[5]), 0);

    let events = rows(&tables, "otel_span_events");
    assert_eq!(i64_of(&events[0][1]), i64_of(&full[0]));
    assert_eq!(i64_of(&events[0][2]), time_of(T0), "partition key copied from the span");
    assert_eq!((i32_of(&events[0][3]), i32_of(&events[1][3])), (0, 1));
    assert_eq!(i64_of(&events[0][4]), time_of(T0 + 10));
    assert_eq!(i16_of(&events[0][5]), 11);
    assert_eq!((events[1][4].clone(), i16_of(&events[1][5])), (None, 0), "unset event time is NULL");
    assert_eq!(text_of(&events[0][6]), "exception");
    assert_eq!(i32_of(&events[0][7]), 5);

    let links = rows(&tables, "otel_span_links");
    let link = &links[0];
    assert_eq!(i64_of(&link[1]), i64_of(&full[0]));
    assert_eq!(i32_of(&link[3]), 0);
    assert_eq!((link[4].clone(), link[5].clone()), (Some(vec![4; 16]), Some(vec![5; 8])));
    assert_eq!(text_of(&link[6]), "l=1");
    assert_eq!((i32_of(&link[7]), i32_of(&link[8])), (1, 7));
}

#[test]
fn attribute_rows_go_to_their_typed_table_or_other() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals()[..1], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let span_row_id = i64_of(&rows(&tables, "otel_spans_fact")[0][0]);
    let key = |k: &str| ids.keys[k];

    let s = &rows(&tables, "otel_span_attrs_string")[0];
    assert_eq!(i64_of(&s[0]), span_row_id);
    assert_eq!(i64_of(&s[1]), time_of(T0));
    assert_eq!((i32_of(&s[2]), text_of(&s[3])), (key("s"), "text".into()));
    let i = &rows(&tables, "otel_span_attrs_int")[0];
    assert_eq!((i32_of(&i[2]), i64_of(&i[3])), (key("i"), -7));
    let d = &rows(&tables, "otel_span_attrs_double")[0];
    assert_eq!((i32_of(&d[2]), f64::from_bits(i64_of(&d[3]) as u64)), (key("d"), 2.0));
    let b = &rows(&tables, "otel_span_attrs_bool")[0];
    assert_eq!((i32_of(&b[2]), b[3].clone()), (key("b"), Some(vec![1])));
    let y = &rows(&tables, "otel_span_attrs_bytes")[0];
    assert_eq!((i32_of(&y[2]), y[3].clone()), (key("y"), Some(vec![0, 1, 2])));
    let other = &rows(&tables, "otel_span_attrs_other")[0];
    assert_eq!(other.len(), 3);
    assert_eq!(
        json_of(&other[2]),
        r#"{"n":"not an int","arr":[1,"two"],"map":{"kvlist":{"inner":{"double":"NaN"}}},"empty":null,"plain":"unpromoted"}"#
    );
    // The dropped secret is nowhere.
    for t in &tables {
        let haystack = String::from_utf8_lossy(&t.data);
        assert!(!haystack.contains("hunter2"), "{}", t.table);
        assert!(!haystack.contains("secret.token"), "{}", t.table);
    }
}

#[test]
fn keys_are_the_promoted_ones_sorted_and_unique() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    // "n" arrives as a string but is promoted as int: it goes to _other and needs no key id.
    assert_eq!(prepared.keys(), ["b", "d", "host.name", "i", "s", "service.name", "service.namespace", "y"]);
}

#[test]
fn dimensions_are_canonical_and_sorted_by_hash() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    let r = &prepared.resources()[0];
    assert_eq!(r.service_name.as_deref(), Some("checkout"));
    assert_eq!(r.service_namespace.as_deref(), Some("shop"));
    assert_eq!(r.schema_url, "https://opentelemetry.io/schemas/1.26.0");
    assert_eq!(r.dropped_attributes_count, 3);
    let keys: Vec<&str> = r.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["host.name", "process.pid", "service.name", "service.namespace"], "sorted, secret dropped");
    let s = &prepared.scopes()[0];
    assert_eq!((s.name.as_str(), s.version.as_str(), s.dropped_attributes_count), ("lib", "1.2.3", 1));
    let m = prepared.metrics();
    assert!(m.windows(2).all(|w| w[0].hash < w[1].hash));
    let sum = m.iter().find(|d| d.name == "sum").unwrap();
    assert_eq!((sum.metric_type, sum.temporality, sum.is_monotonic), (2, Some(2), Some(true)));
    assert_eq!((sum.unit.as_str(), sum.description.as_str()), ("ms", "desc"));
    assert_eq!(sum.metadata.as_deref(), Some(r#"{"meta":"m"}"#));
    let gauge = m.iter().find(|d| d.name == "gauge").unwrap();
    assert_eq!((gauge.metric_type, gauge.temporality, gauge.is_monotonic), (1, None, None));
    let exp = m.iter().find(|d| d.name == "exp").unwrap();
    assert_eq!((exp.metric_type, exp.temporality), (4, Some(2)));
    let summary = m.iter().find(|d| d.name == "summary").unwrap();
    assert_eq!((summary.metric_type, summary.temporality), (5, None));
}

#[test]
fn resource_hash_ignores_attribute_order_and_dropped_keys() {
    let promotion = test_promotion();
    let mut reordered = traces_request();
    let res = reordered.resource_spans[0].resource.as_mut().unwrap();
    res.attributes.reverse();
    res.attributes.retain(|kv| !kv.key.starts_with("secret."));
    res.attributes.push(kv("secret.other", string("rotating token")));
    res.dropped_attributes_count = 99;
    let a = prepare(&all_signals()[..1], &promotion);
    let b = prepare(&[record(1, Signal::Traces, reordered.encode_to_vec())], &promotion);
    assert_eq!(a.resources()[0].hash, b.resources()[0].hash);
    assert_eq!(a.scopes()[0].hash, b.scopes()[0].hash);

    let mut changed = traces_request();
    changed.resource_spans[0].resource.as_mut().unwrap().attributes[3] = kv("process.pid", string("42"));
    let c = prepare(&[record(1, Signal::Traces, changed.encode_to_vec())], &promotion);
    assert_ne!(a.resources()[0].hash, c.resources()[0].hash, "int 42 vs string \"42\"");
}

#[test]
fn json_and_protobuf_input_give_the_same_identities() {
    let promotion = Promotion::defaults();
    for (file, signal) in
        [("trace.json", Signal::Traces), ("logs.json", Signal::Logs), ("metrics.json", Signal::Metrics)]
    {
        // The OTLP specification's examples, as copied unchanged into the repository.
        let path = format!("{}/tests/data/otlp/{file}", env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read(&path).unwrap();
        // What the receiver does with a JSON body: decode, then store the protobuf encoding in the WAL.
        let payload = match signal {
            Signal::Traces => crate::otlp::decode_json::<ExportTraceServiceRequest>(&json).unwrap().encode_to_vec(),
            Signal::Logs => crate::otlp::decode_json::<ExportLogsServiceRequest>(&json).unwrap().encode_to_vec(),
            Signal::Metrics => crate::otlp::decode_json::<ExportMetricsServiceRequest>(&json).unwrap().encode_to_vec(),
        };
        let from_json = prepare(&[record(1, signal, payload.clone())], &promotion);
        let again = prepare(&[record(2, signal, payload)], &promotion);
        assert!(from_json.failures().is_empty(), "{file}: {:?}", from_json.failures());
        assert_eq!(from_json.resources(), again.resources(), "{file}: repeated request");
        assert_eq!(from_json.scopes(), again.scopes(), "{file}");
    }
    // The spec trace example, built by hand as a protobuf client would send it.
    let by_hand = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", string("my.service"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "my.library".into(),
                    version: "1.0.0".into(),
                    attributes: vec![kv("my.scope.attribute", string("some scope attribute"))],
                    dropped_attributes_count: 0,
                }),
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "x".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0,
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let json = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
        "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute",
        "value":{"stringValue":"some scope attribute"}}]},"spans":[{"traceId":"01010101010101010101010101010101",
        "spanId":"0202020202020202","name":"y","startTimeUnixNano":"1764172000000000001","endTimeUnixNano":"1764172000000000001"}]}]}]}"#;
    let from_json = crate::otlp::decode_json::<ExportTraceServiceRequest>(json).unwrap();
    let a = prepare(&[record(1, Signal::Traces, by_hand.encode_to_vec())], &promotion);
    let b = prepare(&[record(2, Signal::Traces, from_json.encode_to_vec())], &promotion);
    assert_eq!(a.resources(), b.resources());
    assert_eq!(a.scopes(), b.scopes());
}

#[test]
fn log_rows_carry_every_body_type_and_time_fallbacks() {
    let promotion = test_promotion();
    let mut req = logs_request();
    let records = &mut req.resource_logs[0].scope_logs[0].log_records;
    records[1].time_unix_nano = 0; // falls back to observed time
    records[2].time_unix_nano = 0;
    records[2].observed_time_unix_nano = 0; // falls back to the receive time
    records[3].trace_id.clear();
    records[3].span_id.clear();
    records[4].flags = u32::MAX;
    let prepared = prepare(&[record(3, Signal::Logs, req.encode_to_vec())], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let logs = rows(&tables, "otel_logs_fact");
    assert_eq!(logs.len(), 8);
    // body_type and which of body_string..body_json (columns 9..=14) is set.
    for (i, row) in logs.iter().enumerate() {
        assert_eq!(i16_of(&row[8]), i as i16, "body_type of record {i}");
        let set: Vec<usize> = (9..=14).filter(|c| row[*c].is_some()).collect();
        let expected: Vec<usize> = match i {
            0 => vec![],
            1..=5 => vec![8 + i],
            _ => vec![14],
        };
        assert_eq!(set, expected, "record {i}");
    }
    assert_eq!(text_of(&logs[1][9]), "hello");
    assert_eq!(i64_of(&logs[2][10]), i64::MIN);
    assert_eq!(f64::from_bits(i64_of(&logs[3][11]) as u64), 0.5);
    assert_eq!(logs[4][12], Some(vec![0]));
    assert_eq!(logs[5][13], Some(vec![0xff]));
    assert_eq!(json_of(&logs[6][14]), "[true]");
    assert_eq!(json_of(&logs[7][14]), r#"{"kvlist":{"a":1}}"#);

    // time / time_unset / observed_time
    assert_eq!((i64_of(&logs[0][1]), logs[0][3].clone()), (time_of(T0), Some(vec![0])));
    assert_eq!(i64_of(&logs[0][4]), time_of(T0 + 1));
    assert_eq!((i64_of(&logs[1][1]), i16_of(&logs[1][2])), (time_of(T0 + 1), 2));
    assert_eq!(logs[1][3], Some(vec![1]));
    assert_eq!(i64_of(&logs[2][1]), time_of(RECEIVED));
    assert_eq!(i16_of(&logs[2][2]), 789);
    assert_eq!((logs[2][3].clone(), logs[2][4].clone()), (Some(vec![1]), None));
    // severity, ids, flags, event name, dropped count
    assert_eq!((i16_of(&logs[0][6]), text_of(&logs[0][7])), (17, "ERROR".into()));
    assert_eq!((logs[0][15].clone(), logs[0][16].clone()), (Some(vec![1; 16]), Some(vec![2; 8])));
    assert_eq!((logs[3][15].clone(), logs[3][16].clone()), (None, None));
    assert_eq!(i32_of(&logs[4][17]), -1);
    assert_eq!(text_of(&logs[0][18]), "ev");
    assert_eq!(i32_of(&logs[0][19]), 2);
    // Attribute rows carry the record's (fallback) partition time.
    let attr = &rows(&tables, "otel_log_attrs_string")[0];
    assert_eq!((i64_of(&attr[0]), i64_of(&attr[1])), (i64_of(&logs[0][0]), time_of(T0)));
}

#[test]
fn metric_rows_carry_every_field() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals()[2..], &promotion);
    let ids = resolve(&prepared);
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    let metric_id = |name: &str| ids.metrics[&prepared.metrics().iter().find(|m| m.name == name).unwrap().hash];

    let number = rows(&tables, "otel_metrics_data_points_number");
    assert_eq!(i64_of(&number[0][1]), metric_id("gauge"));
    assert_eq!(i64_of(&number[0][4]), time_of(T0));
    assert_eq!(i64_of(&number[0][6]), time_of(T0 - 1_000));
    assert_eq!(i32_of(&number[0][8]), 1);
    assert_eq!((i64_of(&number[0][9]), number[0][10].clone()), (3, None));
    assert_eq!(i64_of(&number[1][1]), metric_id("sum"));
    assert_eq!(number[1][9], None);
    assert_eq!(f64::from_bits(i64_of(&number[1][10]) as u64), 1.5);
    // The series key ends the row: one per (metric, resource, attribute set).
    assert_ne!(i64_of(&number[0][11]), i64_of(&number[1][11]));
    let encoded = encode(&prepared, &ids, &promotion).unwrap();
    let series: Vec<i64> = encoded.series.iter().map(|s| s.key).collect();
    assert!(series.contains(&i64_of(&number[0][11])) && series.contains(&i64_of(&number[1][11])));
    assert!(series.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");

    let h = &rows(&tables, "otel_metrics_data_points_histogram")[0];
    assert_eq!(i64_of(&h[9]), 6);
    assert_eq!(f64::from_bits(i64_of(&h[10]) as u64), 12.0);
    assert_eq!(f64::from_bits(i64_of(&h[11]) as u64), 0.5);
    assert_eq!(h[12], None, "max not sent");
    let mut buckets = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 1];
    for c in [1i64, 2, 3] {
        buckets.extend_from_slice(&[0, 0, 0, 8]);
        buckets.extend_from_slice(&c.to_be_bytes());
    }
    assert_eq!(h[13], Some(buckets));
    assert_eq!(&h[14].as_ref().unwrap()[8..12], &701i32.to_be_bytes());

    let e = &rows(&tables, "otel_metrics_data_points_exp_histogram")[0];
    assert_eq!(e[6], None, "start time 0 is NULL");
    assert_eq!((i64_of(&e[9]), e[10].clone()), (10, None));
    assert_eq!(i32_of(&e[13]), -3);
    assert_eq!(i64_of(&e[14]), 1);
    assert_eq!(f64::from_bits(i64_of(&e[15]) as u64), 0.001);
    assert_eq!(i32_of(&e[16]), -2);
    assert_eq!(e[17].as_ref().unwrap().len(), 20 + 2 * 12);
    assert_eq!(i32_of(&e[18]), 0);
    assert_eq!(e[19], Some(vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]), "no negative buckets: empty array");

    let s = &rows(&tables, "otel_metrics_data_points_summary")[0];
    assert_eq!((i64_of(&s[9]), f64::from_bits(i64_of(&s[10]) as u64)), (4, 8.0));
    assert_eq!(s[11].as_ref().unwrap().len(), 20 + 2 * 12);

    let ex = rows(&tables, "otel_metrics_exemplars");
    let kinds: Vec<i16> = ex.iter().map(|r| i16_of(&r[2])).collect();
    assert_eq!(kinds, [1, 1, 3, 4]);
    assert_eq!(i64_of(&ex[0][0]), i64_of(&number[0][0]));
    assert_eq!(i64_of(&ex[0][1]), time_of(T0));
    assert_eq!(i32_of(&ex[0][3]), 0);
    assert_eq!(i64_of(&ex[0][4]), time_of(T0 + 5));
    assert_eq!((ex[0][6].clone(), f64::from_bits(i64_of(&ex[0][7]) as u64)), (None, 0.25));
    assert_eq!((ex[0][8].clone(), ex[0][9].clone()), (Some(vec![1; 16]), Some(vec![2; 8])));
    assert_eq!(json_of(&ex[0][10]), r#"{"user":"u1"}"#, "dropped key removed");
}

#[test]
fn hand_built_copy_stream_for_a_small_log() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: None,
            scope_logs: vec![ScopeLogs {
                scope: None,
                log_records: vec![LogRecord {
                    time_unix_nano: 946_684_800_000_002_003, // 2000-01-01T00:00:00.000002003Z
                    severity_number: 9,
                    body: Some(av(string("hi"))),
                    attributes: vec![kv("s", string("v")), kv("z", Value::IntValue(1))],
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let promotion = test_promotion();
    let prepared = prepare(&[record(1, Signal::Logs, req.encode_to_vec())], &promotion);
    let mut ids = resolve(&prepared);
    ids.resources.values_mut().for_each(|v| *v = 3);
    ids.scopes.values_mut().for_each(|v| *v = 4);
    ids.keys.insert("s".into(), 5);
    ids.facts.blocks = vec![2];
    let tables = encode(&prepared, &ids, &promotion).unwrap().tables;
    assert_eq!(
        tables.iter().map(|t| t.table).collect::<Vec<_>>(),
        ["otel_logs_fact", "otel_log_attrs_string", "otel_log_attrs_other"]
    );

    let be32 = |v: i32| v.to_be_bytes().to_vec();
    let field = |bytes: &[u8]| [be32(bytes.len() as i32), bytes.to_vec()].concat();
    let null = be32(-1);
    let log_id = 2i64 * 65_536;
    let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
    expected.extend_from_slice(&[0; 8]);
    expected.extend_from_slice(&22i16.to_be_bytes());
    expected.extend(field(&log_id.to_be_bytes()));
    expected.extend(field(&2i64.to_be_bytes())); // time: 2 us after 2000-01-01
    expected.extend(field(&3i16.to_be_bytes())); // fraction
    expected.extend(field(&[0])); // time_unset false
    expected.extend(null.clone()); // observed_time
    expected.extend(field(&0i16.to_be_bytes()));
    expected.extend(field(&9i16.to_be_bytes())); // severity INFO
    expected.extend(field(b"")); // severity_text
    expected.extend(field(&1i16.to_be_bytes())); // body_type string
    expected.extend(field(b"hi"));
    for _ in 0..5 {
        expected.extend(null.clone()); // body_int .. body_json
    }
    expected.extend(null.clone()); // trace_id
    expected.extend(null.clone()); // span_id
    expected.extend(field(&0i32.to_be_bytes())); // flags
    expected.extend(field(b"")); // event_name
    expected.extend(field(&0i32.to_be_bytes())); // dropped_attributes_count
    expected.extend(field(&3i64.to_be_bytes())); // resource_id
    expected.extend(field(&4i64.to_be_bytes())); // scope_id
    expected.extend_from_slice(&[0xff, 0xff]);
    assert_eq!(table(&tables, "otel_logs_fact").data, expected);

    let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
    expected.extend_from_slice(&[0; 8]);
    expected.extend_from_slice(&4i16.to_be_bytes());
    expected.extend(field(&log_id.to_be_bytes()));
    expected.extend(field(&2i64.to_be_bytes()));
    expected.extend(field(&5i32.to_be_bytes()));
    expected.extend(field(b"v"));
    expected.extend_from_slice(&[0xff, 0xff]);
    assert_eq!(table(&tables, "otel_log_attrs_string").data, expected);

    let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
    expected.extend_from_slice(&[0; 8]);
    expected.extend_from_slice(&3i16.to_be_bytes());
    expected.extend(field(&log_id.to_be_bytes()));
    expected.extend(field(&2i64.to_be_bytes()));
    expected.extend(field(b"\x01{\"z\":1}"));
    expected.extend_from_slice(&[0xff, 0xff]);
    assert_eq!(table(&tables, "otel_log_attrs_other").data, expected);
    assert_eq!(
        table(&tables, "otel_log_attrs_other").copy_statement(),
        "COPY otel_log_attrs_other (log_id, time, attributes) FROM STDIN (FORMAT binary)"
    );
}

#[test]
fn dimension_attributes_are_encoded_for_new_dimensions() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    let ids = resolve(&prepared);
    let r = &prepared.resources()[0];
    let s = &prepared.scopes()[0];
    let tables = encode_dimension_attributes(&[(41, r)], &[(42, s)], &ids, &promotion).unwrap();
    let mut got: Vec<(&str, u64)> = tables.iter().map(|t| (t.table, t.rows)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("otel_resource_attrs_other", 1),
            ("otel_resource_attrs_string", 3),
            ("otel_scope_attrs_other", 1),
            ("otel_scope_attrs_string", 1),
        ]
    );
    let strings = rows(&tables, "otel_resource_attrs_string");
    assert_eq!(strings[0].len(), 3, "no time column on resource attributes");
    assert_eq!(i64_of(&strings[0][0]), 41);
    let values: Vec<String> = strings.iter().map(|r| text_of(&r[2])).collect();
    assert_eq!(values, ["h1", "checkout", "shop"]);
    assert_eq!(json_of(&rows(&tables, "otel_resource_attrs_other")[0][1]), r#"{"process.pid":42}"#);
    assert_eq!(json_of(&rows(&tables, "otel_scope_attrs_other")[0][1]), r#"{"other":1}"#);
    // No new dimensions, no rows.
    assert!(encode_dimension_attributes(&[], &[], &ids, &promotion).unwrap().is_empty());
    // A promoted key without a resolved id is an error, not a panic or a lost row.
    let mut missing = ids.clone();
    missing.keys.remove("service.name");
    let err = encode_dimension_attributes(&[(41, r)], &[], &missing, &promotion).unwrap_err();
    assert!(err.to_string().contains("service.name"), "{err}");
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

/// Columns of each CREATE TABLE in the migrations: (name, NOT NULL without a default).
fn migration_columns() -> HashMap<String, Vec<(String, bool)>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut tables = HashMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let sql = std::fs::read_to_string(&file).unwrap();
        let mut current: Option<(String, Vec<(String, bool)>)> = None;
        for line in sql.lines() {
            // `ALTER TABLE t ADD COLUMN c type ...`: a column appended to an existing table.
            if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
                let mut words = rest.split_whitespace();
                if let (Some(table), Some("ADD"), Some("COLUMN"), Some(col)) =
                    (words.next(), words.next(), words.next(), words.next())
                {
                    let required = line.contains("NOT NULL") && !line.contains("DEFAULT");
                    tables.entry(table.to_string()).or_insert_with(Vec::new).push((col.to_string(), required));
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                if let Some(name) = rest.strip_suffix(" (") {
                    current = Some((name.to_string(), Vec::new()));
                }
                continue;
            }
            let Some((_, cols)) = current.as_mut() else {
                continue;
            };
            if line.starts_with(')') {
                let (name, cols) = current.take().unwrap();
                tables.insert(name, cols);
                continue;
            }
            let def = line.trim();
            let first = def.split_whitespace().next().unwrap_or("");
            if ["CHECK", "PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN"].contains(&first) || first.is_empty() {
                continue;
            }
            let required = def.contains("NOT NULL") && !def.contains("DEFAULT") && !def.contains("IDENTITY");
            cols.push((first.to_string(), required));
        }
    }
    tables
}

#[test]
fn column_lists_match_the_migrations() {
    let schema = migration_columns();
    let mut seen = 0;
    for spec in tables::all_specs() {
        let cols = schema.get(spec.name).unwrap_or_else(|| panic!("{} is not created by the migrations", spec.name));
        let listed: Vec<&str> = spec.columns.trim_start_matches('(').trim_end_matches(')').split(", ").collect();
        for c in &listed {
            assert!(cols.iter().any(|(n, _)| n == c), "{}: no column {c}", spec.name);
        }
        for (c, required) in cols {
            if *required {
                assert!(listed.contains(&c.as_str()), "{}: required column {c} not written", spec.name);
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 69);
    // Every fact table column is written (none is left to a default).
    for spec in tables::all_specs().take(9) {
        assert_eq!(column_count(spec.columns), schema[spec.name].len(), "{}", spec.name);
    }
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
fn resource_attributes_of_every_type_reach_their_table() {
    let promotion = Promotion::from_toml_str("[resource]\nany = [\"*\"]\n").unwrap();
    let mut req = traces_request();
    req.resource_spans[0].resource = Some(Resource {
        attributes: vec![
            kv("service.name", Value::IntValue(5)),
            kv("d", Value::DoubleValue(-0.0)),
            kv("b", Value::BoolValue(false)),
            kv("y", Value::BytesValue(vec![])),
            kv("s", string("")),
            kv("list", Value::ArrayValue(ArrayValue::default())),
        ],
        ..Default::default()
    });
    req.resource_spans[0].scope_spans[0].scope =
        Some(InstrumentationScope { name: "only name".into(), ..Default::default() });
    let prepared = prepare(&[record(1, Signal::Traces, req.encode_to_vec())], &promotion);
    let r = &prepared.resources()[0];
    assert_eq!(r.service_name, None, "service.name is not a string");
    assert_eq!(prepared.scopes()[0].version, "");
    let ids = resolve(&prepared);
    let tables = encode_dimension_attributes(&[(1, r)], &[], &ids, &promotion).unwrap();
    let mut got: Vec<(&str, u64)> = tables.iter().map(|t| (t.table, t.rows)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("otel_resource_attrs_bool", 1),
            ("otel_resource_attrs_bytes", 1),
            ("otel_resource_attrs_double", 1),
            ("otel_resource_attrs_int", 1),
            ("otel_resource_attrs_other", 1),
            ("otel_resource_attrs_string", 1),
        ]
    );
    assert_eq!(i64_of(&rows(&tables, "otel_resource_attrs_int")[0][2]), 5);
    assert_eq!(rows(&tables, "otel_resource_attrs_double")[0][2], Some((-0.0f64).to_bits().to_be_bytes().to_vec()));
    assert_eq!(rows(&tables, "otel_resource_attrs_bytes")[0][2], Some(vec![]), "empty bytes are not NULL");
    assert_eq!(json_of(&rows(&tables, "otel_resource_attrs_other")[0][1]), r#"{"list":[]}"#);
}
