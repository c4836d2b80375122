//! Round trip per signal: OTLP in, rows in PostgreSQL, OTLP rebuilt from the rows equals the input (every
//! field, nanosecond timestamps, attribute types, empty and unicode values).

use super::rebuild::{canon_logs, canon_metrics, canon_traces};
use super::*;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar, metric,
    number_data_point,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

/// Attributes of every kind: promoted (`p.*`) of each scalar type, unpromoted of each type, arrays, kvlists,
/// empty values, unicode, empty strings, extreme ints.
pub fn every_kind(tag: &str) -> Vec<KeyValue> {
    vec![
        kv("p.str", s(&format!("värde-{tag} ✓ 日本"))),
        kv("p.empty", s("")),
        kv("p.int", i(i64::MIN)),
        kv("p.int_max", i(i64::MAX)),
        kv("p.double", d(2.0)),
        kv("p.inf", d(f64::INFINITY)),
        kv("p.bool", b(false)),
        kv("p.bytes", by(&[0, 1, 254, 255])),
        kv("p.array", arr(vec![s("a"), i(1), d(1.5), b(true), arr(vec![])])),
        kv("u.str", s("ünpromoted \"quoted\" \\ \n")),
        kv("u.int", i(-42)),
        kv("u.double", d(-0.5e-300)),
        kv("u.bool", b(true)),
        kv("u.bytes", by(b"")),
        kv("u.kvlist", kvl(vec![kv("z", i(1)), kv("a", kvl(vec![kv("deep", s("x"))])), kv("e", AnyValue::default())])),
        kv("u.empty", AnyValue::default()),
        kv("ключ", s("unicode key")),
    ]
}

fn trace_id(n: u8) -> Vec<u8> {
    vec![n; 16]
}
fn span_id(n: u8) -> Vec<u8> {
    vec![n; 8]
}

pub fn rich_logs() -> ExportLogsServiceRequest {
    let bodies = vec![
        None,
        Some(s("héllo wörld")),
        Some(i(-7)),
        Some(d(3.25)),
        Some(b(true)),
        Some(by(&[9, 8, 7])),
        Some(arr(vec![s("x"), i(2)])),
        Some(kvl(vec![kv("k", s("v")), kv("n", d(1.0))])),
    ];
    let records: Vec<LogRecord> = bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| LogRecord {
            time_unix_nano: T0 + n as u64 * 1_001,
            observed_time_unix_nano: T0 + 999,
            severity_number: (n as i32 * 3) % 25,
            severity_text: if n == 0 { String::new() } else { format!("SEV{n}") },
            body,
            attributes: if n == 1 { every_kind("log") } else { vec![kv("p.n", i(n as i64))] },
            dropped_attributes_count: n as u32,
            flags: if n == 2 { 0xFFFF_FFFF } else { n as u32 },
            trace_id: if n % 2 == 0 { trace_id(n as u8 + 1) } else { vec![] },
            span_id: if n % 2 == 0 { span_id(n as u8 + 1) } else { vec![] },
            event_name: if n == 3 { "my.event ✓".into() } else { String::new() },
        })
        .chain([LogRecord {
            // Time unset: stored under the observed time with time_unset, rebuilt as 0.
            time_unix_nano: 0,
            observed_time_unix_nano: T0 + 5,
            body: Some(s("")),
            ..Default::default()
        }])
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: Some(Resource {
                    attributes: [
                        vec![kv("service.name", s("checkout")), kv("service.namespace", s("shop"))],
                        every_kind("res"),
                    ]
                    .concat(),
                    dropped_attributes_count: 3,
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "io.opentelemetry.logs".into(),
                        version: "1.2.3".into(),
                        attributes: every_kind("scope"),
                        dropped_attributes_count: 1,
                    }),
                    log_records: records,
                    schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
            },
            ResourceLogs {
                resource: Some(resource(vec![])),
                scope_logs: vec![ScopeLogs {
                    scope: Some(scope("", "")),
                    log_records: vec![log(T0 + 1, "second resource")],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            },
        ],
    }
}

#[tokio::test]
async fn logs_round_trip_every_field() {
    let env = env().await;
    let input = rich_logs();
    let report = env.logs(&input).await;
    assert!(report.dead_lettered.is_empty(), "{report:?}");
    let rebuilt = super::rebuild::logs(env.pool()).await;
    assert_eq!(canon_logs(rebuilt), canon_logs(input));
}

pub fn rich_traces() -> ExportTraceServiceRequest {
    let root = Span {
        trace_id: trace_id(1),
        span_id: span_id(1),
        trace_state: "vendor=ü,other=2".into(),
        parent_span_id: vec![],
        flags: 0x301,
        name: "GET /checkout ✓".into(),
        kind: 2,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_234_567_891,
        attributes: every_kind("span"),
        dropped_attributes_count: 2,
        events: vec![
            span::Event {
                time_unix_nano: T0 + 17,
                name: "exception".into(),
                attributes: every_kind("event"),
                dropped_attributes_count: 4,
            },
            span::Event {
                time_unix_nano: T0 + 18,
                name: String::new(),
                attributes: vec![],
                dropped_attributes_count: 0,
            },
        ],
        dropped_events_count: 5,
        links: vec![
            span::Link {
                trace_id: trace_id(9),
                span_id: span_id(9),
                trace_state: "k=v".into(),
                attributes: every_kind("link"),
                dropped_attributes_count: 6,
                flags: 0x100,
            },
            span::Link { trace_id: trace_id(8), span_id: span_id(8), ..Default::default() },
        ],
        dropped_links_count: 7,
        status: Some(Status { message: "boom ✗".into(), code: 2 }),
    };
    let child = Span {
        trace_id: trace_id(1),
        span_id: span_id(2),
        parent_span_id: span_id(1),
        name: "SELECT".into(),
        kind: 3,
        start_time_unix_nano: T0 + 1,
        end_time_unix_nano: T0 + 1,
        status: Some(Status { message: String::new(), code: 1 }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: [vec![kv("service.name", s("frontend"))], every_kind("res")].concat(),
                dropped_attributes_count: 0,
                ..Default::default()
            }),
            scope_spans: vec![
                ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tracer".into(),
                        version: String::new(),
                        attributes: vec![kv("p.scope", i(1))],
                        dropped_attributes_count: 0,
                    }),
                    spans: vec![root, child],
                    schema_url: "s1".into(),
                },
                ScopeSpans {
                    scope: Some(scope("other", "2")),
                    spans: vec![Span {
                        trace_id: trace_id(3),
                        span_id: span_id(3),
                        name: "lonely".into(),
                        start_time_unix_nano: T0 + 5,
                        end_time_unix_nano: T0 + 10,
                        ..Default::default()
                    }],
                    schema_url: String::new(),
                },
            ],
            schema_url: "r1".into(),
        }],
    }
}

#[tokio::test]
async fn traces_round_trip_every_field() {
    let env = env().await;
    let input = rich_traces();
    let report = env.traces(&input).await;
    assert!(report.dead_lettered.is_empty(), "{report:?}");
    let rebuilt = super::rebuild::traces(env.pool()).await;
    assert_eq!(canon_traces(rebuilt), canon_traces(input));
}

fn ex(n: u8, int: bool) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("ex.k", s("ü")), kv("ex.n", i(n as i64))],
        time_unix_nano: T0 + n as u64,
        span_id: span_id(n),
        trace_id: trace_id(n),
        value: Some(if int { exemplar::Value::AsInt(n as i64) } else { exemplar::Value::AsDouble(n as f64 + 0.5) }),
    }
}

pub fn rich_metrics() -> ExportMetricsServiceRequest {
    let number = |v: number_data_point::Value, n: u64| NumberDataPoint {
        attributes: if n == 0 { every_kind("dp") } else { vec![kv("p.n", i(n as i64))] },
        start_time_unix_nano: if n == 0 { 0 } else { T0 - 1_000_000_007 },
        time_unix_nano: T0 + n,
        exemplars: if n == 0 { vec![ex(1, true), ex(2, false)] } else { vec![] },
        flags: n as u32,
        value: Some(v),
    };
    let metrics = vec![
        Metric {
            name: "queue.depth".into(),
            description: "items waiting ✓".into(),
            unit: "{item}".into(),
            metadata: vec![kv("meta", s("x")), kv("meta.n", i(3))],
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![
                    number(number_data_point::Value::AsInt(-5), 0),
                    number(number_data_point::Value::AsDouble(2.0), 1),
                ],
            })),
        },
        Metric {
            name: "requests".into(),
            description: String::new(),
            unit: "1".into(),
            metadata: vec![],
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![number(number_data_point::Value::AsInt(i64::MAX), 2)],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        },
        Metric {
            name: "latency".into(),
            description: "d".into(),
            unit: "ms".into(),
            metadata: vec![],
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![
                    HistogramDataPoint {
                        attributes: every_kind("hist"),
                        start_time_unix_nano: T0 - 10,
                        time_unix_nano: T0,
                        count: 6,
                        sum: Some(12.5),
                        bucket_counts: vec![1, 2, 3],
                        explicit_bounds: vec![1.0, 5.5],
                        exemplars: vec![ex(3, false)],
                        flags: 1,
                        min: Some(0.25),
                        max: Some(9.0),
                    },
                    HistogramDataPoint {
                        time_unix_nano: T0 + 1,
                        count: 0,
                        sum: None,
                        bucket_counts: vec![],
                        explicit_bounds: vec![],
                        min: None,
                        max: None,
                        ..Default::default()
                    },
                ],
                aggregation_temporality: 1,
            })),
        },
        Metric {
            name: "latency.exp".into(),
            description: String::new(),
            unit: "s".into(),
            metadata: vec![],
            data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    attributes: vec![kv("p.route", s("/a"))],
                    start_time_unix_nano: T0 - 5,
                    time_unix_nano: T0 + 3,
                    count: 10,
                    sum: Some(-3.5),
                    scale: -3,
                    zero_count: 2,
                    positive: Some(Buckets { offset: -2, bucket_counts: vec![1, 0, 4] }),
                    negative: Some(Buckets { offset: 5, bucket_counts: vec![3] }),
                    flags: 0,
                    exemplars: vec![ex(4, true)],
                    min: Some(-2.0),
                    max: Some(7.0),
                    zero_threshold: 1e-9,
                }],
                aggregation_temporality: 2,
            })),
        },
        Metric {
            name: "rpc.summary".into(),
            description: String::new(),
            unit: String::new(),
            metadata: vec![],
            data: Some(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: vec![],
                    start_time_unix_nano: 0,
                    time_unix_nano: T0 + 4,
                    count: 3,
                    sum: 6.0,
                    quantile_values: vec![
                        ValueAtQuantile { quantile: 0.0, value: 1.0 },
                        ValueAtQuantile { quantile: 0.5, value: 2.0 },
                        ValueAtQuantile { quantile: 1.0, value: 3.0 },
                    ],
                    flags: 1,
                }],
            })),
        },
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: [vec![kv("service.name", s("worker"))], every_kind("res")].concat(),
                dropped_attributes_count: 1,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "meter".into(),
                    version: "0.1".into(),
                    attributes: every_kind("scope"),
                    dropped_attributes_count: 0,
                }),
                metrics,
                schema_url: "https://example.com/s".into(),
            }],
            schema_url: "https://example.com/r".into(),
        }],
    }
}

#[tokio::test]
async fn metrics_round_trip_every_field() {
    let env = env().await;
    let input = rich_metrics();
    let report = env.metrics(&input).await;
    assert!(report.dead_lettered.is_empty(), "{report:?}");
    let rebuilt = super::rebuild::metrics(env.pool()).await;
    assert_eq!(canon_metrics(rebuilt), canon_metrics(input));
}

#[tokio::test]
async fn round_trip_with_no_promotion_keeps_every_type_in_other() {
    let env = env_with(Promotion::empty()).await;
    let input = rich_logs();
    env.logs(&input).await;
    assert_eq!(env.count("otel_log_attrs_string").await + env.count("otel_resource_attrs_int").await, 0);
    let rebuilt = super::rebuild::logs(env.pool()).await;
    assert_eq!(canon_logs(rebuilt), canon_logs(input));
}
