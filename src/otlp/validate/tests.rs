use super::*;
use crate::otlp::json::decode_json;
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary};
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

const T0: u64 = 1_764_172_800_000_000_000;

fn good_span(n: u8) -> Span {
    Span {
        trace_id: vec![0xab; 16],
        span_id: vec![n.max(1); 8],
        name: format!("span{n}"),
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_500,
        ..Default::default()
    }
}

/// Two resources, the second with two scopes; each scope holds `per_scope` spans.
fn traces_with(spans: Vec<Vec<Vec<Span>>>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: spans
            .into_iter()
            .map(|scopes| ResourceSpans {
                scope_spans: scopes.into_iter().map(|spans| ScopeSpans { spans, ..Default::default() }).collect(),
                ..Default::default()
            })
            .collect(),
    }
}

/// Validates one span alone and returns the message ("" when kept).
fn span_verdict(span: Span) -> String {
    let v = validate(traces_with(vec![vec![vec![span]]]));
    if v.message.is_empty() {
        assert_eq!(v.rejected, 0);
        assert_eq!(crate::otlp::count_spans(&v.request), 1);
    } else {
        assert_eq!(v.rejected, 1);
        assert_eq!(crate::otlp::count_spans(&v.request), 0);
        assert!(v.is_changed());
    }
    v.message
}

#[test]
fn valid_requests_pass_untouched() {
    let req = traces_with(vec![vec![vec![good_span(1), good_span(2)]], vec![vec![good_span(3)], vec![]]]);
    let v = validate(req.clone());
    assert_eq!(v.request, req);
    assert_eq!((v.rejected, v.dropped_metrics), (0, 0));
    assert!(!v.is_changed());
    assert_eq!(v.message, "");
    assert!(v.response().is_full_success());

    fn check<T: crate::otlp::OtlpRequest + std::fmt::Debug>(name: &str) {
        let local = format!("{}/tests/data/otlp/{name}", env!("CARGO_MANIFEST_DIR"));
        let body =
            std::fs::read(local).or_else(|_| std::fs::read(format!("/work/shared/otlp-examples/{name}"))).unwrap();
        let req: T = decode_json(&body).unwrap();
        let v = validate(req.clone());
        assert!(!v.is_changed(), "{name}: {}", v.message);
        assert_eq!(v.request, req, "{name}");
    }
    check::<ExportTraceServiceRequest>("trace.json");
    check::<ExportLogsServiceRequest>("logs.json");
    check::<ExportLogsServiceRequest>("events.json");
    check::<ExportMetricsServiceRequest>("metrics.json");
    // Empty requests are valid.
    assert!(!validate(ExportLogsServiceRequest::default()).is_changed());
}

#[test]
fn span_trace_id_rules() {
    let mut s = good_span(1);
    s.trace_id.pop();
    assert_eq!(span_verdict(s), "span 0 of scope 0 of resource 0: trace_id must be 16 bytes, got 15");
    let mut s = good_span(1);
    s.trace_id.clear();
    assert!(span_verdict(s).ends_with("trace_id must be 16 bytes, got 0"));
    let mut s = good_span(1);
    s.trace_id = vec![0; 16];
    assert!(span_verdict(s).ends_with("trace_id must not be all zero"));
}

#[test]
fn span_id_rules() {
    let mut s = good_span(1);
    s.span_id = vec![1; 9];
    assert!(span_verdict(s).ends_with("span_id must be 8 bytes, got 9"));
    let mut s = good_span(1);
    s.span_id = vec![0; 8];
    assert!(span_verdict(s).ends_with("span_id must not be all zero"));
    let mut s = good_span(1);
    s.parent_span_id = vec![7; 8];
    assert_eq!(span_verdict(s), "");
    let mut s = good_span(1);
    s.parent_span_id = vec![7; 4];
    assert!(span_verdict(s).ends_with("parent_span_id must be 8 bytes or empty, got 4"));
}

#[test]
fn span_time_rules() {
    let mut s = good_span(1);
    s.end_time_unix_nano = s.start_time_unix_nano - 1;
    assert!(span_verdict(s).ends_with(&format!("end_time_unix_nano {} is before start_time_unix_nano {T0}", T0 - 1)));
    let mut s = good_span(1);
    s.end_time_unix_nano = s.start_time_unix_nano;
    assert_eq!(span_verdict(s), "");
    let mut s = good_span(1);
    s.end_time_unix_nano = i64::MAX as u64 + 1;
    let msg = span_verdict(s);
    assert!(msg.contains("end_time_unix_nano: time 9223372036854775808 ns"), "{msg}");
    let mut s = good_span(1);
    s.start_time_unix_nano = u64::MAX;
    s.end_time_unix_nano = u64::MAX;
    assert!(span_verdict(s).contains("start_time_unix_nano: time 18446744073709551615"));
    let mut s = good_span(1);
    s.start_time_unix_nano = 0;
    assert!(span_verdict(s).ends_with("start_time_unix_nano is 0 (unset) but is required"));
    let mut s = good_span(1);
    s.end_time_unix_nano = 0;
    assert!(span_verdict(s).ends_with("end_time_unix_nano is 0 (unset) but is required"));
    let mut s = good_span(1);
    s.end_time_unix_nano = i64::MAX as u64;
    assert_eq!(span_verdict(s), "");
}

#[test]
fn span_event_and_link_rules() {
    let mut s = good_span(1);
    s.events = vec![
        Event { time_unix_nano: T0, ..Default::default() },
        Event { time_unix_nano: u64::MAX, ..Default::default() },
    ];
    assert!(span_verdict(s).contains("events[1].time_unix_nano: time 18446744073709551615"));
    let link = |t: usize, sp: usize| Link { trace_id: vec![1; t], span_id: vec![2; sp], ..Default::default() };
    let mut s = good_span(1);
    s.links = vec![link(16, 8)];
    assert_eq!(span_verdict(s), "");
    let mut s = good_span(1);
    s.links = vec![link(16, 8), link(15, 8)];
    assert!(span_verdict(s).ends_with("links[1].trace_id must be 16 bytes or empty, got 15"));
    let mut s = good_span(1);
    s.links = vec![link(16, 0)];
    assert!(span_verdict(s).ends_with("links[0] must have a 16-byte trace_id and an 8-byte span_id"));
}

#[test]
fn only_invalid_spans_are_dropped_and_positions_are_reported() {
    let mut bad_trace = good_span(4);
    bad_trace.trace_id.pop();
    let mut bad_span = good_span(5);
    bad_span.span_id = vec![0; 8];
    let req = traces_with(vec![
        vec![vec![good_span(1)]],
        vec![vec![good_span(2)], vec![good_span(3), bad_trace, good_span(6), bad_span]],
    ]);
    let v = validate(req);
    assert_eq!(v.rejected, 2);
    assert!(v.is_changed());
    assert_eq!(
        v.message,
        "span 1 of scope 1 of resource 1: trace_id must be 16 bytes, got 15; span 3 of scope 1 of resource 1: span_id must not be all zero"
    );
    let kept: Vec<_> = v
        .request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(kept, ["span1", "span2", "span3", "span6"]);
    // Scopes and resources stay in place even when emptied, so indices keep meaning.
    assert_eq!(v.request.resource_spans[1].scope_spans.len(), 2);
    let response = v.response();
    assert_eq!(response.rejected, 2);
    assert_eq!(response.signal, crate::otlp::Signal::Traces);
    assert_eq!(response.message, v.message);
}

#[test]
fn message_lists_the_first_few_problems() {
    let spans: Vec<Span> = (1..=8)
        .map(|i| {
            let mut s = good_span(i);
            s.trace_id = vec![0; 16];
            s
        })
        .collect();
    let v = validate(traces_with(vec![vec![spans]]));
    assert_eq!(v.rejected, 8);
    assert_eq!(v.message.matches("must not be all zero").count(), MAX_REPORTED_PROBLEMS);
    assert!(v.message.ends_with("; and 3 more problems"), "{}", v.message);
    assert!(v.message.starts_with("span 0 of scope 0 of resource 0: "));
}

fn logs_with(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn log_verdict(log: LogRecord) -> String {
    let v = validate(logs_with(vec![log]));
    assert_eq!(v.rejected, usize::from(!v.message.is_empty()));
    assert_eq!(crate::otlp::count_log_records(&v.request), usize::from(v.message.is_empty()));
    v.message
}

#[test]
fn log_record_rules() {
    // No trace context and no times at all is a valid log record.
    assert_eq!(log_verdict(LogRecord::default()), "");
    let ok = LogRecord {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        time_unix_nano: T0,
        observed_time_unix_nano: i64::MAX as u64,
        ..Default::default()
    };
    assert_eq!(log_verdict(ok.clone()), "");
    let mut l = ok.clone();
    l.trace_id = vec![1; 17];
    assert_eq!(log_verdict(l), "log record 0 of scope 0 of resource 0: trace_id must be 16 bytes or empty, got 17");
    let mut l = ok.clone();
    l.span_id = vec![1; 3];
    assert!(log_verdict(l).ends_with("span_id must be 8 bytes or empty, got 3"));
    let mut l = ok.clone();
    l.time_unix_nano = i64::MAX as u64 + 1;
    assert!(log_verdict(l).contains("time_unix_nano: time 9223372036854775808 ns"));
    let mut l = ok;
    l.observed_time_unix_nano = u64::MAX;
    assert!(log_verdict(l).contains("observed_time_unix_nano: time 18446744073709551615"));

    let v = validate(logs_with(vec![
        LogRecord::default(),
        LogRecord { span_id: vec![9; 2], ..Default::default() },
        LogRecord::default(),
    ]));
    assert_eq!(v.rejected, 1);
    assert_eq!(crate::otlp::count_log_records(&v.request), 2);
    assert!(v.message.starts_with("log record 1 of scope 0 of resource 0"));
}

fn metrics_with(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics { metrics, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn metric(name: &str, data: Data) -> Metric {
    Metric { name: name.into(), data: Some(data), ..Default::default() }
}

fn number(time: u64, start: u64) -> NumberDataPoint {
    NumberDataPoint { time_unix_nano: time, start_time_unix_nano: start, ..Default::default() }
}

fn histogram_point(counts: Vec<u64>, bounds: Vec<f64>) -> HistogramDataPoint {
    HistogramDataPoint {
        time_unix_nano: T0,
        count: counts.iter().fold(0u64, |a, b| a.saturating_add(*b)),
        bucket_counts: counts,
        explicit_bounds: bounds,
        ..Default::default()
    }
}

/// Validates one metric and returns (rejected points, dropped metrics, message).
fn metric_verdict(m: Metric) -> (usize, usize, String) {
    let v = validate(metrics_with(vec![m]));
    (v.rejected, v.dropped_metrics, v.message)
}

#[test]
fn data_point_time_rules() {
    let gauge = |points| metric("g", Data::Gauge(Gauge { data_points: points }));
    assert_eq!(metric_verdict(gauge(vec![number(T0, 0), number(T0, T0 - 5)])).0, 0);
    let (rejected, _, msg) = metric_verdict(gauge(vec![number(T0, 0), number(u64::MAX, 0)]));
    assert_eq!(rejected, 1);
    assert!(
        msg.starts_with(
            "data point 1 of metric 0 (\"g\") of scope 0 of resource 0: time_unix_nano: time 18446744073709551615"
        ),
        "{msg}"
    );
    let (rejected, _, msg) = metric_verdict(gauge(vec![number(T0, i64::MAX as u64 + 1)]));
    assert_eq!(rejected, 1);
    assert!(msg.contains("start_time_unix_nano: time 9223372036854775808"), "{msg}");
    let (rejected, _, msg) = metric_verdict(gauge(vec![number(0, 0)]));
    assert_eq!(rejected, 1);
    assert!(msg.ends_with("time_unix_nano is 0 (unset) but is required"), "{msg}");
    let sum = metric(
        "s",
        Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                exemplars: vec![Exemplar { trace_id: vec![1; 5], ..Default::default() }],
                ..number(T0, 0)
            }],
            aggregation_temporality: 2,
            is_monotonic: true,
        }),
    );
    let (rejected, _, msg) = metric_verdict(sum);
    assert_eq!(rejected, 1);
    assert!(msg.ends_with("exemplars[0].trace_id must be 16 bytes or empty, got 5"), "{msg}");
}

#[test]
fn histogram_rules() {
    let hist = |points| metric("h", Data::Histogram(Histogram { data_points: points, aggregation_temporality: 1 }));
    // n bounds need n + 1 counts; no buckets at all is fine.
    assert_eq!(metric_verdict(hist(vec![histogram_point(vec![1, 2, 3], vec![1.0, 2.0])])).0, 0);
    assert_eq!(metric_verdict(hist(vec![histogram_point(vec![], vec![1.0, 2.0])])).0, 0);
    assert_eq!(metric_verdict(hist(vec![histogram_point(vec![4], vec![])])).0, 0);
    let (rejected, _, msg) = metric_verdict(hist(vec![histogram_point(vec![1, 2], vec![1.0, 2.0])]));
    assert_eq!(rejected, 1);
    assert!(msg.ends_with("bucket_counts has 2 entries but explicit_bounds has 2 (expected 3)"), "{msg}");
    let mut big = histogram_point(vec![1, 2], vec![1.0]);
    big.count = i64::MAX as u64 + 1;
    let (rejected, _, msg) = metric_verdict(hist(vec![big]));
    assert_eq!(rejected, 1);
    assert!(
        msg.ends_with("count 9223372036854775808 is above 9223372036854775807 (the largest storable count)"),
        "{msg}"
    );
    let mut big_bucket = histogram_point(vec![1, u64::MAX], vec![1.0]);
    big_bucket.count = 1;
    let (_, _, msg) = metric_verdict(hist(vec![big_bucket]));
    assert!(msg.contains("bucket_counts[1] 18446744073709551615 is above"), "{msg}");
    let edge = histogram_point(vec![0, i64::MAX as u64], vec![1.0]);
    assert_eq!(metric_verdict(hist(vec![edge])).0, 0);
}

#[test]
fn exponential_histogram_and_summary_rules() {
    use opentelemetry_proto::tonic::metrics::v1::ExponentialHistogram;
    let exp = |p: ExponentialHistogramDataPoint| {
        metric(
            "e",
            Data::ExponentialHistogram(ExponentialHistogram { data_points: vec![p], aggregation_temporality: 2 }),
        )
    };
    let ok = ExponentialHistogramDataPoint {
        time_unix_nano: T0,
        count: 3,
        zero_count: 1,
        positive: Some(Buckets { offset: -2, bucket_counts: vec![1, 1] }),
        ..Default::default()
    };
    assert_eq!(metric_verdict(exp(ok.clone())).0, 0);
    let mut p = ok.clone();
    p.zero_count = u64::MAX;
    assert!(
        metric_verdict(exp(p))
            .2
            .ends_with("zero_count 18446744073709551615 is above 9223372036854775807 (the largest storable count)")
    );
    let mut p = ok.clone();
    p.negative = Some(Buckets { offset: 0, bucket_counts: vec![i64::MAX as u64 + 1] });
    assert!(metric_verdict(exp(p)).2.contains("negative.bucket_counts[0] 9223372036854775808 is above"));
    let mut p = ok;
    p.count = u64::MAX;
    assert_eq!(metric_verdict(exp(p)).0, 1);

    let summary = |count: u64| {
        metric(
            "s",
            Data::Summary(Summary {
                data_points: vec![SummaryDataPoint { time_unix_nano: T0, count, ..Default::default() }],
            }),
        )
    };
    assert_eq!(metric_verdict(summary(5)).0, 0);
    let (rejected, _, msg) = metric_verdict(summary(i64::MAX as u64 + 1));
    assert_eq!(rejected, 1);
    assert!(msg.starts_with("data point 0 of metric 0 (\"s\")"), "{msg}");
}

#[test]
fn metric_without_data_is_dropped() {
    let req = metrics_with(vec![
        Metric { name: "empty".into(), ..Default::default() },
        metric("g", Data::Gauge(Gauge { data_points: vec![number(T0, 0), number(T0 + 1, 0)] })),
    ]);
    assert_eq!(crate::otlp::count_metrics(&req), 2);
    let v = validate(req);
    assert_eq!((v.rejected, v.dropped_metrics), (0, 1));
    assert!(v.is_changed());
    assert_eq!(
        v.message,
        "metric 0 (\"empty\") of scope 0 of resource 0: has no data (none of gauge, sum, histogram, exponential_histogram, summary)"
    );
    assert_eq!(crate::otlp::count_metrics(&v.request), 1);
    assert_eq!(crate::otlp::count_data_points(&v.request), 2);
    // No data points were rejected, but the message is still reported (OTLP: a warning).
    let response = v.response();
    assert_eq!(response.rejected, 0);
    assert!(!response.is_full_success());
}

#[test]
fn counting_helpers() {
    let req = traces_with(vec![vec![vec![good_span(1), good_span(2)]], vec![vec![good_span(3)], vec![]]]);
    assert_eq!(crate::otlp::count_spans(&req), 3);
    assert_eq!(crate::otlp::OtlpRequest::item_count(&req), 3);
    let logs = logs_with(vec![LogRecord::default(); 4]);
    assert_eq!(crate::otlp::count_log_records(&logs), 4);
    let metrics = metrics_with(vec![
        metric("g", Data::Gauge(Gauge { data_points: vec![number(T0, 0); 2] })),
        metric(
            "h",
            Data::Histogram(Histogram {
                data_points: vec![histogram_point(vec![1], vec![]); 3],
                aggregation_temporality: 1,
            }),
        ),
        Metric::default(),
    ]);
    assert_eq!(crate::otlp::count_data_points(&metrics), 5);
    assert_eq!(crate::otlp::count_metrics(&metrics), 3);
    assert_eq!(crate::otlp::OtlpRequest::item_count(&metrics), 5);
}
