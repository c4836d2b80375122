//! One bad item never costs its neighbours: every value the schema cannot hold as sent, beside a valid item,
//! over gRPC, HTTP/protobuf and HTTP/JSON, through the real server into a real PostgreSQL. For each case the
//! answer says what was refused, the valid item is stored exactly once, the bad item is stored (mapped) or
//! absent (refused), and nothing reaches the dead-letter store.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList};
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
use sqlx::PgPool;

use crate::support::otlp::kv;
use crate::support::pg::test_db;
use crate::support::server::Server;

/// What must become of the bad item.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Stored (mapped where needed); the answer is full success.
    Stored,
    /// Refused: `rejected` items counted in partial_success, with a message containing the text.
    Refused(usize, &'static str),
    /// The whole request is refused (INVALID_ARGUMENT / 400), and nothing of it is stored.
    Invalid,
}

/// One export request of any signal.
#[derive(Clone)]
enum Request {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

struct Case {
    name: &'static str,
    expect: Expect,
    /// OTLP/JSON cannot carry the case's values through serde_json (NaN and infinities), or it is sent anyway.
    json: bool,
    build: fn(&str) -> Request,
}

fn now() -> u64 {
    ollyscale::time::now_unix_nanos()
}

fn any(v: Value) -> AnyValue {
    AnyValue { value: Some(v) }
}

fn attr(key: &str, v: Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(any(v)), key_strindex: 0 }
}

fn string(s: &str) -> Value {
    Value::StringValue(s.into())
}

fn ids(marker: &str, n: u8) -> (Vec<u8>, Vec<u8>) {
    let h = blake3::hash(format!("{marker}/{n}").as_bytes());
    (h.as_bytes()[..16].to_vec(), h.as_bytes()[16..24].to_vec())
}

fn span(marker: &str, suffix: &str, n: u8) -> Span {
    let (trace_id, span_id) = ids(marker, n);
    let t = now();
    Span {
        trace_id,
        span_id,
        name: format!("{marker}-{suffix}"),
        kind: 2,
        start_time_unix_nano: t,
        end_time_unix_nano: t + 1_000_000,
        attributes: vec![kv("http.route", "/x")],
        ..Default::default()
    }
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource { attributes: vec![kv("service.name", service)], ..Default::default() })
}

/// A good span and a bad one (the good one changed by `bad`) in one scope of one resource.
fn spans(marker: &str, bad: impl FnOnce(&mut Span)) -> Request {
    let mut b = span(marker, "bad", 2);
    bad(&mut b);
    Request::Traces(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("neighbours"),
            scope_spans: vec![ScopeSpans { spans: vec![span(marker, "good", 1), b], ..Default::default() }],
            schema_url: String::new(),
        }],
    })
}

/// The good span under one resource and scope, the bad span under a second resource and scope changed by `bad`.
fn span_containers(marker: &str, bad: impl FnOnce(&mut ResourceSpans)) -> Request {
    let container = |s: Span| ResourceSpans {
        resource: resource("neighbours"),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope { name: "lib".into(), ..Default::default() }),
            spans: vec![s],
            ..Default::default()
        }],
        schema_url: String::new(),
    };
    let mut b = container(span(marker, "bad", 2));
    bad(&mut b);
    Request::Traces(ExportTraceServiceRequest { resource_spans: vec![container(span(marker, "good", 1)), b] })
}

fn log(marker: &str, suffix: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: now(),
        severity_number: 9,
        body: Some(any(string(&format!("{marker}-{suffix}")))),
        ..Default::default()
    }
}

/// A good log record and a bad one (the good one changed by `bad`).
fn logs(marker: &str, bad: impl FnOnce(&mut LogRecord)) -> Request {
    let mut b = log(marker, "bad");
    bad(&mut b);
    Request::Logs(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("neighbours"),
            scope_logs: vec![ScopeLogs { log_records: vec![log(marker, "good"), b], ..Default::default() }],
            schema_url: String::new(),
        }],
    })
}

fn gauge(name: String, value: f64) -> Metric {
    Metric {
        name,
        data: Some(Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                time_unix_nano: now(),
                value: Some(number_data_point::Value::AsDouble(value)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

/// A good gauge named `{marker}-good` and a bad metric named `{marker}-bad` of `data`, changed by `bad`.
fn metrics(marker: &str, data: Data, bad: impl FnOnce(&mut Metric)) -> Request {
    let mut b = Metric { name: format!("{marker}-bad"), data: Some(data), ..Default::default() };
    bad(&mut b);
    Request::Metrics(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("neighbours"),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![gauge(format!("{marker}-good"), 1.0), b],
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    })
}

/// A histogram; `extremes` gives it infinite min and max and a NaN exemplar (which OTLP/JSON cannot carry).
fn histogram(counts: Vec<u64>, bounds: Vec<f64>, extremes: bool) -> Data {
    let (sum, min, max, exemplar) =
        if extremes { (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NAN) } else { (2.0, 0.5, 3.0, 1.0) };
    Data::Histogram(Histogram {
        data_points: vec![HistogramDataPoint {
            time_unix_nano: now(),
            count: counts.iter().sum(),
            sum: Some(sum),
            min: Some(min),
            max: Some(max),
            bucket_counts: counts,
            explicit_bounds: bounds,
            exemplars: vec![Exemplar {
                time_unix_nano: now(),
                value: Some(exemplar::Value::AsDouble(exemplar)),
                ..Default::default()
            }],
            ..Default::default()
        }],
        aggregation_temporality: 2,
    })
}

fn exp_histogram(scale: i32, offset: i32) -> Data {
    Data::ExponentialHistogram(ExponentialHistogram {
        data_points: vec![ExponentialHistogramDataPoint {
            time_unix_nano: now(),
            count: 3,
            scale,
            positive: Some(Buckets { offset, bucket_counts: vec![1, 2] }),
            ..Default::default()
        }],
        aggregation_temporality: 2,
    })
}

fn summary(quantile: f64) -> Data {
    Data::Summary(Summary {
        data_points: vec![SummaryDataPoint {
            time_unix_nano: now(),
            count: 1,
            quantile_values: vec![ValueAtQuantile { quantile, value: 3.0 }],
            ..Default::default()
        }],
    })
}

/// An AnyValue nested `depth` levels deep in arrays.
fn nested(depth: usize) -> Value {
    let mut v = string("leaf");
    for _ in 1..depth {
        v = Value::ArrayValue(ArrayValue { values: vec![any(v)] });
    }
    v
}

const NUL: &str = "a\0b";
const LONG: usize = 2000;

fn cases() -> Vec<Case> {
    use Expect::*;
    macro_rules! case {
        ($name:expr, $expect:expr, $build:expr) => {
            Case { name: $name, expect: $expect, json: true, build: $build }
        };
        ($name:expr, $expect:expr, binary, $build:expr) => {
            Case { name: $name, expect: $expect, json: false, build: $build }
        };
    }
    vec![
        // NUL, mapped to U+FFFD, at every level where a string is stored.
        case!("nul in span name", Stored, |m| spans(m, |s| s.name.push_str(NUL))),
        case!("nul in span attribute key", Stored, |m| spans(m, |s| s.attributes.push(kv(NUL, "v")))),
        case!("nul in span attribute value", Stored, |m| spans(m, |s| s.attributes.push(kv("k", NUL)))),
        case!("nul in array attribute", Stored, |m| spans(m, |s| s
            .attributes
            .push(attr("arr", Value::ArrayValue(ArrayValue { values: vec![any(string(NUL))] }))))),
        case!("nul in kvlist attribute", Stored, |m| spans(m, |s| s
            .attributes
            .push(attr("map", Value::KvlistValue(KeyValueList { values: vec![kv(NUL, NUL)] }))))),
        case!("nul in trace_state", Stored, |m| spans(m, |s| s.trace_state = NUL.into())),
        case!("nul in status message", Stored, |m| spans(m, |s| s.status =
            Some(Status { message: NUL.into(), code: 2 }))),
        case!("nul in event name and attribute", Stored, |m| spans(m, |s| s.events.push(Event {
            time_unix_nano: now(),
            name: NUL.into(),
            attributes: vec![kv("e", NUL)],
            ..Default::default()
        }))),
        case!("nul in link trace_state and attribute", Stored, |m| spans(m, |s| s.links.push(Link {
            trace_id: vec![3; 16],
            span_id: vec![4; 8],
            trace_state: NUL.into(),
            attributes: vec![kv(NUL, "l")],
            ..Default::default()
        }))),
        case!("nul in resource attribute", Stored, |m| span_containers(m, |c| c
            .resource
            .as_mut()
            .unwrap()
            .attributes
            .push(kv("host.name", NUL)))),
        case!("nul in scope name and version", Stored, |m| span_containers(m, |c| {
            let scope = c.scope_spans[0].scope.as_mut().unwrap();
            scope.name = NUL.into();
            scope.version = NUL.into();
            scope.attributes.push(kv(NUL, NUL));
        })),
        case!("nul in log body, severity text and event name", Stored, |m| logs(m, |l| {
            if let Some(Value::StringValue(b)) = l.body.as_mut().and_then(|b| b.value.as_mut()) {
                b.push_str(NUL);
            }
            l.severity_text = NUL.into();
            l.event_name = NUL.into();
            l.attributes.push(kv(NUL, NUL));
        })),
        case!("nul in metric name, unit and description", Stored, |m| metrics(
            m,
            gauge(String::new(), 1.0).data.unwrap(),
            |x| {
                x.name.push_str(NUL);
                x.unit = NUL.into();
                x.description = NUL.into();
            }
        )),
        // Unknown enum values: refused.
        case!("unknown span kind", Refused(1, "kind 9"), |m| spans(m, |s| s.kind = 9)),
        case!("unknown status code", Refused(1, "status code 7"), |m| spans(m, |s| s.status =
            Some(Status { message: String::new(), code: 7 }))),
        case!("unknown severity number", Refused(1, "severity_number 30"), |m| logs(m, |l| l.severity_number = 30)),
        case!("unknown aggregation temporality", Refused(1, "aggregation_temporality 9"), |m| metrics(
            m,
            Data::Sum(Sum {
                data_points: vec![NumberDataPoint { time_unix_nano: now(), ..Default::default() }],
                aggregation_temporality: 9,
                is_monotonic: true,
            }),
            |_| {}
        )),
        // Times.
        case!("span start 0", Refused(1, "start_time_unix_nano is 0"), |m| spans(m, |s| s.start_time_unix_nano = 0)),
        case!("span end u64::MAX", Refused(1, "end_time_unix_nano"), |m| spans(m, |s| s.end_time_unix_nano = u64::MAX)),
        case!("span end before start", Refused(1, "is before start_time_unix_nano"), |m| spans(m, |s| s
            .end_time_unix_nano =
            s.start_time_unix_nano - 1)),
        case!("log time u64::MAX", Refused(1, "time_unix_nano"), |m| logs(m, |l| l.time_unix_nano = u64::MAX)),
        case!("data point time 0", Refused(1, "time_unix_nano is 0"), |m| metrics(
            m,
            gauge(String::new(), 1.0).data.unwrap(),
            |x| {
                if let Some(Data::Gauge(g)) = &mut x.data {
                    g.data_points[0].time_unix_nano = 0;
                }
            }
        )),
        // Non-finite doubles: stored bit for bit.
        case!("NaN and infinities in attributes", Stored, binary, |m| spans(m, |s| {
            s.attributes.push(attr("nan", Value::DoubleValue(f64::NAN)));
            s.attributes.push(attr("inf", Value::DoubleValue(f64::INFINITY)));
            s.attributes.push(attr("ninf", Value::DoubleValue(f64::NEG_INFINITY)));
        })),
        case!("NaN log attribute", Stored, binary, |m| logs(m, |l| l
            .attributes
            .push(attr("x", Value::DoubleValue(f64::NAN))))),
        case!("NaN gauge value", Stored, binary, |m| metrics(m, gauge(String::new(), f64::NAN).data.unwrap(), |_| {})),
        case!("infinite histogram sum, min, max and NaN exemplar", Stored, binary, |m| metrics(
            m,
            histogram(vec![1, 2], vec![1.0], true),
            |_| {}
        )),
        // Shapes the data model forbids.
        case!("histogram counts that do not match the bounds", Refused(1, "bucket_counts has 3 entries"), |m| {
            metrics(m, histogram(vec![1, 2, 3], vec![1.0], false), |_| {})
        }),
        case!("exponential histogram scale", Refused(1, "scale 100"), |m| metrics(m, exp_histogram(100, 0), |_| {})),
        case!("exponential histogram offset", Refused(1, "offset 2147483647"), |m| metrics(
            m,
            exp_histogram(0, i32::MAX),
            |_| {}
        )),
        case!("summary quantile outside 0..1", Refused(1, "quantile 1.5"), |m| metrics(m, summary(1.5), |_| {})),
        // Sizes.
        case!("a 1 MB string attribute", Stored, |m| spans(m, |s| s.attributes.push(kv("big", &"x".repeat(1 << 20))))),
        case!("a 1 MB log body", Stored, |m| logs(m, |l| l.attributes.push(kv("big", &"y".repeat(1 << 20))))),
        case!("an attribute key longer than an index holds", Refused(1, "key is 2000 bytes"), |m| spans(m, |s| s
            .attributes
            .push(kv(&"k".repeat(LONG), "v")))),
        case!("a service.name longer than an index holds", Refused(1, "service.name is 2000 bytes"), |m| {
            span_containers(m, |c| c.resource = resource(&"s".repeat(LONG)))
        }),
        case!(
            "a metric name longer than an index holds",
            Refused(1, "longer than the 1024 bytes stored"),
            |m| metrics(m, gauge(String::new(), 1.0).data.unwrap(), |x| x.name.push_str(&"n".repeat(LONG)))
        ),
        // Deeper than either parser nests: nothing of the request is acknowledged.
        case!("an attribute nested 100 levels deep", Invalid, |m| spans(m, |s| s
            .attributes
            .push(attr("deep", nested(100))))),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

/// The answer: Ok((rejected, message)) or Err(description of a whole-request refusal).
async fn send(server: &Server, transport: Transport, request: Request) -> Result<(i64, String), String> {
    let (path, body, json) = match (&request, transport) {
        (Request::Traces(r), Transport::HttpJson) => ("traces", serde_json::to_vec(r).unwrap(), true),
        (Request::Logs(r), Transport::HttpJson) => ("logs", serde_json::to_vec(r).unwrap(), true),
        (Request::Metrics(r), Transport::HttpJson) => ("metrics", serde_json::to_vec(r).unwrap(), true),
        (Request::Traces(r), _) => ("traces", r.encode_to_vec(), false),
        (Request::Logs(r), _) => ("logs", r.encode_to_vec(), false),
        (Request::Metrics(r), _) => ("metrics", r.encode_to_vec(), false),
    };
    if transport == Transport::Grpc {
        return grpc(server, request).await;
    }
    let content_type = if json { "application/json" } else { "application/x-protobuf" };
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/{path}", server.http_url()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap();
    if status != 200 {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)));
    }
    if json {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let p = &v["partialSuccess"];
        let count = ["rejectedSpans", "rejectedLogRecords", "rejectedDataPoints"]
            .iter()
            .find_map(|k| match &p[k] {
                serde_json::Value::String(s) => s.parse().ok(),
                n => n.as_i64(),
            })
            .unwrap_or(0);
        return Ok((count, p["errorMessage"].as_str().unwrap_or("").to_string()));
    }
    Ok(match request {
        Request::Traces(_) => {
            let p = ExportTraceServiceResponse::decode(&bytes[..]).unwrap().partial_success.unwrap_or_default();
            (p.rejected_spans, p.error_message)
        }
        Request::Logs(_) => {
            let p = ExportLogsServiceResponse::decode(&bytes[..]).unwrap().partial_success.unwrap_or_default();
            (p.rejected_log_records, p.error_message)
        }
        Request::Metrics(_) => {
            let p = ExportMetricsServiceResponse::decode(&bytes[..]).unwrap().partial_success.unwrap_or_default();
            (p.rejected_data_points, p.error_message)
        }
    })
}

async fn grpc(server: &Server, request: Request) -> Result<(i64, String), String> {
    let url = server.grpc_url();
    let refused = |s: tonic::Status| format!("gRPC {:?}: {}", s.code(), s.message());
    match request {
        Request::Traces(r) => {
            let mut c = TraceServiceClient::connect(url).await.unwrap().max_encoding_message_size(8 << 20);
            let p = c.export(r).await.map_err(refused)?.into_inner().partial_success.unwrap_or_default();
            Ok((p.rejected_spans, p.error_message))
        }
        Request::Logs(r) => {
            let mut c = LogsServiceClient::connect(url).await.unwrap().max_encoding_message_size(8 << 20);
            let p = c.export(r).await.map_err(refused)?.into_inner().partial_success.unwrap_or_default();
            Ok((p.rejected_log_records, p.error_message))
        }
        Request::Metrics(r) => {
            let mut c = MetricsServiceClient::connect(url).await.unwrap().max_encoding_message_size(8 << 20);
            let p = c.export(r).await.map_err(refused)?.into_inner().partial_success.unwrap_or_default();
            Ok((p.rejected_data_points, p.error_message))
        }
    }
}

/// How many spans, log records and data points of `{marker}-{suffix}` (with whatever follows) are stored.
async fn stored(pool: &PgPool, marker: &str, suffix: &str) -> i64 {
    let like = format!("{marker}-{suffix}%");
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM otel_spans_fact WHERE name LIKE $1)
              + (SELECT count(*) FROM otel_logs_fact WHERE body_string LIKE $1)
              + (SELECT count(*) FROM otel_metrics_dim m JOIN otel_metrics_data_points_number p USING (metric_id)
                 WHERE m.name LIKE $1)
              + (SELECT count(*) FROM otel_metrics_dim m JOIN otel_metrics_data_points_histogram p USING (metric_id)
                 WHERE m.name LIKE $1)
              + (SELECT count(*) FROM otel_metrics_dim m
                 JOIN otel_metrics_data_points_exp_histogram p USING (metric_id) WHERE m.name LIKE $1)
              + (SELECT count(*) FROM otel_metrics_dim m JOIN otel_metrics_data_points_summary p USING (metric_id)
                 WHERE m.name LIKE $1)",
    )
    .bind(like)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unstorable_value_costs_only_its_own_item_over_every_transport() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &db.url, &["--batch-max-delay", "20ms"]);
    let mut sent = Vec::new();
    for (i, case) in cases().iter().enumerate() {
        for transport in [Transport::Grpc, Transport::HttpProtobuf, Transport::HttpJson] {
            if transport == Transport::HttpJson && !case.json {
                continue;
            }
            let marker = format!("c{i}{transport:?}");
            let answer = send(&server, transport, (case.build)(&marker)).await;
            let what = format!("{} over {transport:?}", case.name);
            match (case.expect, &answer) {
                (Expect::Stored, Ok((0, message))) => assert_eq!(message, "", "{what}"),
                (Expect::Refused(n, text), Ok((rejected, message))) => {
                    assert_eq!(*rejected, n as i64, "{what}: {message}");
                    assert!(message.contains(text), "{what}: {message:?} does not say {text:?}");
                }
                (Expect::Invalid, Err(refusal)) => {
                    assert!(refusal.contains("InvalidArgument") || refusal.contains("400"), "{what}: {refusal}")
                }
                (expect, answer) => panic!("{what}: expected {expect:?}, got {answer:?}"),
            }
            sent.push((what, marker, case.expect));
        }
    }
    // Everything acknowledged is committed: the WAL is empty, and the last marker is visible.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = reqwest::get(format!("{}/metrics", server.api_url())).await.unwrap().text().await.unwrap();
        let (_, last, _) = sent.iter().rev().find(|s| !matches!(s.2, Expect::Invalid)).unwrap();
        if metrics.lines().any(|l| l == "ollyscale_wal_records 0") && stored(&db.pool, last, "good").await == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the WAL did not drain:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (what, marker, expect) in &sent {
        let (good, bad) = match expect {
            Expect::Stored => (1, 1),
            Expect::Refused(..) => (1, 0),
            Expect::Invalid => (0, 0),
        };
        assert_eq!(stored(&db.pool, marker, "good").await, good, "{what}: the valid neighbour");
        assert_eq!(stored(&db.pool, marker, "bad").await, bad, "{what}: the bad item");
    }
    let letters = std::fs::read_dir(dir.path().join("dead-letters")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(letters, 0, "validation foresaw every case: nothing is dead-lettered");
    // NUL is stored as U+FFFD.
    let name: String = sqlx::query_scalar("SELECT name FROM otel_spans_fact WHERE name LIKE 'c0Grpc-bad%'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(name, "c0Grpc-bada\u{FFFD}b");
}
