//! The requests every test builds on: every field of every signal, and the ids the writer would resolve.

use crate::normalize::*;
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

pub(super) const RECEIVED: u64 = 1_764_172_800_123_456_789;
pub(super) const T0: u64 = 1_764_172_000_000_000_001;

pub(super) fn av(v: Value) -> AnyValue {
    AnyValue { value: Some(v) }
}
pub(super) fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(av(v)), ..Default::default() }
}
pub(super) fn string(v: &str) -> Value {
    Value::StringValue(v.into())
}

/// Promotes s/i/n/d/b/y as string/int/int/double/bool/bytes at every level, drops `secret.*`.
pub(super) fn test_promotion() -> Promotion {
    let mut text = String::from("drop = [\"secret.*\"]\n[resource]\nstring = [\"service.*\", \"host.name\"]\n");
    for level in ["scope", "log", "span", "span_event", "span_link", "data_point"] {
        text.push_str(&format!(
            "[{level}]\nstring = [\"s\"]\nint = [\"i\", \"n\"]\ndouble = [\"d\"]\nbool = [\"b\"]\nbytes = [\"y\"]\n"
        ));
        // At the span and log levels on the record's own row (typed rows at the others): the tests of
        // attribute sets use `set_promotion`.
        if matches!(level, "log" | "span") {
            text.push_str("high_cardinality = [\"s\", \"i\", \"n\", \"d\", \"b\", \"y\"]\n");
        }
    }
    Promotion::from_toml_str(&text).unwrap()
}

/// [`test_promotion`] at the log, span event and span levels, with the span and log keys deduplicated into
/// attribute sets, except "s" at span level.
pub(super) fn set_promotion() -> Promotion {
    let mut text = String::from("[resource]\nstring = [\"service.*\"]\n");
    for level in ["log", "span_event", "span"] {
        text.push_str(&format!(
            "[{level}]\nstring = [\"s\"]\nint = [\"i\", \"n\"]\ndouble = [\"d\"]\nbool = [\"b\"]\nbytes = [\"y\"]\n"
        ));
    }
    text.push_str("high_cardinality = [\"s\"]\n");
    Promotion::from_toml_str(&text).unwrap()
}

/// One attribute of every kind: five promoted scalars, one type mismatch ("n" is promoted as int), an array,
/// a kvlist, an empty value, an unpromoted string and a dropped secret.
pub(super) fn every_kind_attrs() -> Vec<KeyValue> {
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

pub(super) fn resource() -> Resource {
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

pub(super) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "lib".into(),
        version: "1.2.3".into(),
        attributes: vec![kv("s", string("scoped")), kv("other", Value::IntValue(1))],
        dropped_attributes_count: 1,
    }
}

pub(super) fn traces_request() -> ExportTraceServiceRequest {
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

pub(super) fn bodies() -> Vec<Option<AnyValue>> {
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

pub(super) fn logs_request() -> ExportLogsServiceRequest {
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

pub(super) fn exemplar() -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user", string("u1")), kv("secret.x", string("no"))],
        time_unix_nano: T0 + 5,
        span_id: vec![2; 8],
        trace_id: vec![1; 16],
        value: Some(exemplar::Value::AsDouble(0.25)),
    }
}

pub(super) fn metrics_request() -> ExportMetricsServiceRequest {
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

pub(super) fn record(seq: u64, signal: Signal, payload: Vec<u8>) -> wal::Record {
    wal::Record { seq, kind: signal.wal_kind(), received_at_unix_nanos: RECEIVED, payload }
}

pub(super) fn all_signals() -> Vec<wal::Record> {
    vec![
        record(10, Signal::Traces, traces_request().encode_to_vec()),
        record(11, Signal::Logs, logs_request().encode_to_vec()),
        record(12, Signal::Metrics, metrics_request().encode_to_vec()),
    ]
}

/// Resolves every id the way the writer would, with recognizable numbers.
pub(super) fn resolve(p: &PreparedBatch) -> Ids {
    Ids {
        resources: p.resources().iter().enumerate().map(|(i, d)| (d.hash, 100 + i as i64)).collect(),
        scopes: p.scopes().iter().enumerate().map(|(i, d)| (d.hash, 200 + i as i64)).collect(),
        metrics: p.metrics().iter().enumerate().map(|(i, d)| (d.hash, 300 + i as i64)).collect(),
        keys: p.keys().iter().enumerate().map(|(i, k)| (k.clone(), 1 + i as i32)).collect(),
        facts: FactIds { blocks: (0..FactIds::blocks_needed(p.counts().ids())).map(|b| 7 + b as i64).collect() },
    }
}
