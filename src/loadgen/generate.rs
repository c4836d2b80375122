//! Synthetic but realistic OTLP requests: traces spanning several services, logs correlated with their
//! spans, and all five metric types. A seeded generator makes runs reproducible.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Shape of the generated data.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Distinct services (resources).
    pub services: usize,
    /// Distinct operations (span names) per service.
    pub operations: usize,
    /// Spans per trace (a root and its descendants).
    pub spans_per_trace: usize,
    /// Extra attributes per span and log record, beyond the semantic-convention ones.
    pub attributes: usize,
    /// Distinct values of the high-cardinality attributes (user ids, ...).
    pub cardinality: u64,
}

impl Shape {
    /// Series per service and metric of the metric stream: `http.route` (one per operation) x
    /// `http.request.method` (GET, POST).
    pub fn metric_sets(&self) -> usize {
        2 * self.operations.max(1)
    }

    /// Every metric series of the stream: each service's sets of each metric.
    pub fn metric_series(&self) -> usize {
        self.services.max(1) * METRIC_NAMES.len() * self.metric_sets()
    }
}

/// Services each service calls.
const CALLEES: usize = 3;

/// The `j`-th of the [`CALLEES`] services that `service` calls, out of `services`: fixed, so the service map
/// has a few edges per service, like a real deployment's.
fn callee(service: usize, j: usize, services: usize) -> usize {
    (service * 7 + 13 * j + 1) % services
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue { key: key.to_string(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

fn s(v: impl Into<String>) -> Value {
    Value::StringValue(v.into())
}

/// A seeded source of OTLP requests.
pub struct Generator {
    rng: StdRng,
    shape: Shape,
    /// Base of generated timestamps, unix nanos.
    now: u64,
    /// Where the metric series are.
    metric_stream: MetricStream,
}

impl Generator {
    /// A generator for `shape`; the same seed gives the same requests (timestamps follow the clock).
    pub fn new(shape: Shape, seed: u64) -> Self {
        let now = crate::time::now_unix_nanos();
        let metric_stream = MetricStream {
            services: (0..shape.services.max(1)).collect(),
            start: now,
            interval: 10_000_000_000,
            next: 0,
        };
        Generator { rng: StdRng::seed_from_u64(seed), shape, now, metric_stream }
    }

    /// Moves the generator's time to the clock (never backwards), so that data is stamped when it is sent,
    /// as an instrumented service's would be, and a load of N minutes fills N minutes of the timeline.
    fn tick(&mut self) {
        self.now = crate::time::now_unix_nanos().max(self.now + 1);
    }

    fn resource(&self, service: usize) -> Resource {
        Resource {
            attributes: vec![
                kv("service.name", s(format!("svc-{service:03}"))),
                kv("service.namespace", s(format!("team-{}", service % 7))),
                kv("service.version", s(format!("1.{}.0", service % 5))),
                kv("deployment.environment.name", s(if service.is_multiple_of(3) { "staging" } else { "production" })),
                kv("k8s.pod.name", s(format!("svc-{service:03}-7d9f8-{:05}", service * 7919 % 100_000))),
                kv("k8s.namespace.name", s(format!("ns-{}", service % 7))),
                kv("host.name", s(format!("node-{:02}", service % 16))),
                kv("telemetry.sdk.language", s("rust")),
            ],
            dropped_attributes_count: 0,
            entity_refs: vec![],
        }
    }

    fn scope(&self, name: &str) -> InstrumentationScope {
        InstrumentationScope {
            name: name.to_string(),
            version: "0.33.0".to_string(),
            attributes: vec![],
            dropped_attributes_count: 0,
        }
    }

    fn id<const N: usize>(&mut self) -> Vec<u8> {
        let mut id = [0u8; N];
        self.rng.fill(&mut id[..]);
        // An all-zero id is invalid OTLP.
        id[0] |= 1;
        id.to_vec()
    }

    fn extra_attributes(&mut self, out: &mut Vec<KeyValue>) {
        for i in 0..self.shape.attributes {
            let v = match i % 4 {
                0 => s(format!("user-{}", self.rng.random_range(0..self.shape.cardinality.max(1)))),
                1 => Value::IntValue(self.rng.random_range(0..10_000)),
                2 => Value::DoubleValue(self.rng.random_range(0.0..1.0)),
                _ => Value::BoolValue(self.rng.random_bool(0.5)),
            };
            out.push(kv(&format!("app.attr_{i}"), v));
        }
    }

    /// A trace export request with about `spans` spans, grouped by service, and the log records
    /// correlated with them (one per span that has an event worth logging).
    pub fn traces(&mut self, spans: usize) -> (ExportTraceServiceRequest, ExportLogsServiceRequest) {
        let mut by_service: Vec<Vec<Span>> = vec![Vec::new(); self.shape.services.max(1)];
        let mut logs_by_service: Vec<Vec<LogRecord>> = vec![Vec::new(); self.shape.services.max(1)];
        let per_trace = self.shape.spans_per_trace.max(1);
        let mut made = 0;
        while made < spans {
            let trace_id = self.id::<16>();
            let start = self.now + self.rng.random_range(0..1_000_000_000u64);
            let mut parents: Vec<(Vec<u8>, usize, u64, u64)> = Vec::new();
            for i in 0..per_trace.min(spans - made) {
                let parent = (i > 0).then(|| parents[self.rng.random_range(0..parents.len())].clone());
                let service = match &parent {
                    None => self.rng.random_range(0..by_service.len()),
                    // Children mostly stay in their parent's service; some call one of the few services that
                    // one calls, as in a real deployment (a service has a handful of dependencies, not all).
                    Some(p) if self.rng.random_bool(0.4) => {
                        callee(p.1, self.rng.random_range(0..CALLEES), by_service.len())
                    }
                    Some(p) => p.1,
                };
                // Entry spans: the root, and a call's first span in the service it called.
                let entry = parent.as_ref().is_none_or(|p| p.1 != service);
                let (parent_id, parent_start, parent_dur) = match parent {
                    None => (Vec::new(), start, 0),
                    Some(p) => (p.0, p.2, p.3),
                };
                let span_start =
                    if i == 0 { start } else { parent_start + self.rng.random_range(0..parent_dur.max(2) / 2) };
                let duration = if i == 0 {
                    self.rng.random_range(5_000_000..500_000_000u64)
                } else {
                    self.rng.random_range(100_000..(parent_dur / 2).max(100_001))
                };
                let span_id = self.id::<8>();
                let op = self.rng.random_range(0..self.shape.operations.max(1));
                let error = self.rng.random_bool(0.02);
                // An operation has one kind, as instrumentation gives it: a span name is a server endpoint, an
                // outgoing call or internal work, not each of them by turns.
                let kind = if entry {
                    span::SpanKind::Server
                } else if op % 2 == 0 {
                    span::SpanKind::Client
                } else {
                    span::SpanKind::Internal
                };
                let mut attributes = vec![
                    kv("http.request.method", s(["GET", "POST", "PUT"][op % 3])),
                    kv("http.route", s(format!("/api/v1/op{op}"))),
                    kv("http.response.status_code", Value::IntValue(if error { 500 } else { 200 })),
                    kv(
                        "url.path",
                        s(format!("/api/v1/op{op}/{}", self.rng.random_range(0..self.shape.cardinality.max(1)))),
                    ),
                ];
                if kind == span::SpanKind::Client && op % 4 == 0 {
                    attributes.push(kv("db.system.name", s("postgresql")));
                    attributes.push(kv("db.query.text", s("SELECT * FROM orders WHERE id = $1")));
                }
                self.extra_attributes(&mut attributes);
                let mut events = Vec::new();
                if error {
                    events.push(span::Event {
                        time_unix_nano: span_start + duration / 2,
                        name: "exception".into(),
                        attributes: vec![
                            kv("exception.type", s("java.lang.IllegalStateException")),
                            kv("exception.message", s("order not found")),
                        ],
                        dropped_attributes_count: 0,
                    });
                    logs_by_service[service].push(LogRecord {
                        time_unix_nano: span_start + duration / 2,
                        observed_time_unix_nano: span_start + duration / 2 + 1_000,
                        severity_number: 17,
                        severity_text: "ERROR".into(),
                        body: Some(AnyValue { value: Some(s(format!("request op{op} failed: order not found"))) }),
                        attributes: vec![kv("exception.type", s("java.lang.IllegalStateException"))],
                        dropped_attributes_count: 0,
                        flags: 1,
                        trace_id: trace_id.clone(),
                        span_id: span_id.clone(),
                        event_name: String::new(),
                    });
                } else if self.rng.random_bool(0.3) {
                    let mut attrs = vec![kv("code.function.name", s(format!("handle_op{op}")))];
                    self.extra_attributes(&mut attrs);
                    logs_by_service[service].push(LogRecord {
                        time_unix_nano: span_start + 1_000,
                        observed_time_unix_nano: span_start + 2_000,
                        severity_number: 9,
                        severity_text: "INFO".into(),
                        body: Some(AnyValue {
                            value: Some(s(format!(
                                "handled op{op} for user-{}",
                                self.rng.random_range(0..self.shape.cardinality.max(1))
                            ))),
                        }),
                        attributes: attrs,
                        dropped_attributes_count: 0,
                        flags: 1,
                        trace_id: trace_id.clone(),
                        span_id: span_id.clone(),
                        event_name: String::new(),
                    });
                }
                let links = if self.rng.random_bool(0.01) {
                    vec![span::Link {
                        trace_id: self.id::<16>(),
                        span_id: self.id::<8>(),
                        trace_state: String::new(),
                        attributes: vec![kv("link.reason", s("batch"))],
                        dropped_attributes_count: 0,
                        flags: 1,
                    }]
                } else {
                    vec![]
                };
                by_service[service].push(Span {
                    trace_id: trace_id.clone(),
                    span_id: span_id.clone(),
                    trace_state: String::new(),
                    parent_span_id: parent_id,
                    flags: 1,
                    name: format!("op{op}"),
                    kind: kind as i32,
                    start_time_unix_nano: span_start,
                    end_time_unix_nano: span_start + duration,
                    attributes,
                    dropped_attributes_count: 0,
                    events,
                    dropped_events_count: 0,
                    links,
                    dropped_links_count: 0,
                    status: Some(Status {
                        message: if error { "order not found".into() } else { String::new() },
                        code: if error { status::StatusCode::Error as i32 } else { status::StatusCode::Unset as i32 },
                    }),
                });
                parents.push((span_id, service, span_start, duration));
                made += 1;
            }
        }
        let traces = ExportTraceServiceRequest {
            resource_spans: by_service
                .into_iter()
                .enumerate()
                .filter(|(_, spans)| !spans.is_empty())
                .map(|(svc, spans)| ResourceSpans {
                    resource: Some(self.resource(svc)),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(self.scope("ollyscale.loadgen")),
                        spans,
                        schema_url: String::new(),
                    }],
                    schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
                })
                .collect(),
        };
        let logs = ExportLogsServiceRequest {
            resource_logs: logs_by_service
                .into_iter()
                .enumerate()
                .filter(|(_, logs)| !logs.is_empty())
                .map(|(svc, log_records)| ResourceLogs {
                    resource: Some(self.resource(svc)),
                    scope_logs: vec![ScopeLogs {
                        scope: Some(self.scope("ollyscale.loadgen")),
                        log_records,
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                })
                .collect(),
        };
        self.tick();
        (traces, logs)
    }

    /// Makes this generator export the metrics of `services` only, one point per series every `interval`
    /// nanoseconds of data time from `start` on (see [`Generator::metrics`]).
    pub fn with_metric_stream(mut self, services: Vec<usize>, start: u64, interval: u64) -> Self {
        self.metric_stream = MetricStream { services, start, interval: interval.max(1), next: 0 };
        self
    }

    /// The next `points` data points of the metric stream, over all five metric types.
    ///
    /// Like a fleet of SDKs exporting every `interval`: each of the stream's services has, per metric,
    /// 2 x `operations` series (`http.route` x `http.request.method`); a round gives every series one point
    /// stamped `start + round * interval`, and requests carry consecutive points of the round, so a series'
    /// points are `interval` apart whatever the load's speed. Cumulative sums grow by round, histograms and
    /// exponential histograms are delta, summaries cumulative.
    pub fn metrics(&mut self, points: usize) -> ExportMetricsServiceRequest {
        let sets = self.shape.metric_sets();
        let per_service = METRIC_NAMES.len() * sets;
        let mut resource_metrics: Vec<ResourceMetrics> = Vec::new();
        let mut service_of_last: Option<usize> = None;
        for _ in 0..points {
            let m = &self.metric_stream;
            let per_round = (m.services.len() * per_service).max(1);
            let (round, within) = (m.next / per_round, m.next % per_round);
            let Some(&svc) = m.services.get(within / per_service) else { break };
            let (kind, set) = ((within % per_service) / sets, within % sets);
            let (series_start, interval) = (m.start, m.interval);
            let t = m.start + round as u64 * m.interval;
            self.metric_stream.next += 1;
            if service_of_last != Some(svc) {
                resource_metrics.push(ResourceMetrics {
                    resource: Some(self.resource(svc)),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(self.scope("ollyscale.loadgen")),
                        metrics: Vec::new(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                });
                service_of_last = Some(svc);
            }
            let Some(metrics) = resource_metrics.last_mut().and_then(|r| r.scope_metrics.last_mut()) else { break };
            let (name, unit) = METRIC_NAMES[kind];
            if metrics.metrics.last().is_none_or(|m| m.name != name) {
                let data = match kind {
                    0 => Data::Gauge(Gauge { data_points: vec![] }),
                    1 => Data::Sum(Sum {
                        data_points: vec![],
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                    }),
                    2 => Data::Histogram(Histogram {
                        data_points: vec![],
                        aggregation_temporality: AggregationTemporality::Delta as i32,
                    }),
                    3 => Data::ExponentialHistogram(ExponentialHistogram {
                        data_points: vec![],
                        aggregation_temporality: AggregationTemporality::Delta as i32,
                    }),
                    _ => Data::Summary(Summary { data_points: vec![] }),
                };
                metrics.metrics.push(Metric {
                    name: name.into(),
                    description: format!("{name} of the service"),
                    unit: unit.into(),
                    metadata: vec![],
                    data: Some(data),
                });
            }
            let attributes = vec![
                kv("http.route", s(format!("/api/v1/op{}", set / 2))),
                kv("http.request.method", s(if set % 2 == 0 { "GET" } else { "POST" })),
            ];
            let delta_start = t.saturating_sub(interval);
            let data = metrics.metrics.last_mut().and_then(|m| m.data.as_mut());
            match data {
                Some(Data::Gauge(g)) => g.data_points.push(NumberDataPoint {
                    attributes,
                    start_time_unix_nano: 0,
                    time_unix_nano: t,
                    exemplars: vec![],
                    flags: 0,
                    value: Some(number_data_point::Value::AsDouble(self.rng.random_range(0.0..100.0))),
                }),
                Some(Data::Sum(sum)) => sum.data_points.push(NumberDataPoint {
                    attributes,
                    start_time_unix_nano: series_start,
                    time_unix_nano: t,
                    exemplars: vec![],
                    flags: 0,
                    // Grows every round: a counter that never resets.
                    value: Some(number_data_point::Value::AsInt(
                        (round as i64 + 1) * 100 + self.rng.random_range(0..100),
                    )),
                }),
                Some(Data::Histogram(h)) => {
                    let counts: Vec<u64> = (0..6).map(|_| self.rng.random_range(0..100)).collect();
                    let exemplar = Exemplar {
                        filtered_attributes: vec![kv(
                            "user.id",
                            s(format!("user-{}", self.rng.random_range(0..self.shape.cardinality.max(1)))),
                        )],
                        time_unix_nano: t,
                        span_id: self.id::<8>(),
                        trace_id: self.id::<16>(),
                        value: Some(exemplar::Value::AsDouble(0.25)),
                    };
                    h.data_points.push(HistogramDataPoint {
                        attributes,
                        start_time_unix_nano: delta_start,
                        time_unix_nano: t,
                        count: counts.iter().sum(),
                        sum: Some(123.5),
                        bucket_counts: counts,
                        explicit_bounds: vec![0.005, 0.01, 0.05, 0.1, 0.5],
                        exemplars: vec![exemplar],
                        flags: 0,
                        min: Some(0.001),
                        max: Some(0.9),
                    });
                }
                Some(Data::ExponentialHistogram(h)) => {
                    let pos: Vec<u64> = (0..8).map(|_| self.rng.random_range(0..50)).collect();
                    h.data_points.push(ExponentialHistogramDataPoint {
                        attributes,
                        start_time_unix_nano: delta_start,
                        time_unix_nano: t,
                        count: pos.iter().sum::<u64>() + 2,
                        sum: Some(42.0),
                        scale: 3,
                        zero_count: 2,
                        positive: Some(Buckets { offset: -2, bucket_counts: pos }),
                        negative: Some(Buckets { offset: 0, bucket_counts: vec![] }),
                        flags: 0,
                        exemplars: vec![],
                        min: Some(0.0),
                        max: Some(9.5),
                        zero_threshold: 1e-9,
                    });
                }
                Some(Data::Summary(sm)) => sm.data_points.push(SummaryDataPoint {
                    attributes,
                    start_time_unix_nano: series_start,
                    time_unix_nano: t,
                    count: 100 * (round as u64 + 1),
                    sum: 12.5 * (round as f64 + 1.0),
                    quantile_values: vec![
                        ValueAtQuantile { quantile: 0.5, value: 0.1 },
                        ValueAtQuantile { quantile: 0.99, value: 0.4 },
                    ],
                    flags: 0,
                }),
                None => {}
            }
        }
        self.tick();
        ExportMetricsServiceRequest { resource_metrics }
    }
}

/// The metrics of the stream: name and unit, by kind (gauge, sum, histogram, exponential histogram, summary).
const METRIC_NAMES: [(&str, &str); 5] = [
    ("system.cpu.utilization", "1"),
    ("http.server.request.count", "{request}"),
    ("http.server.request.duration", "s"),
    ("rpc.server.duration", "s"),
    ("jvm.gc.duration", "s"),
];

/// Position of a generator in its metric stream.
#[derive(Debug, Clone)]
struct MetricStream {
    /// The services whose series this generator exports.
    services: Vec<usize>,
    /// Data time of round 0, unix nanos.
    start: u64,
    /// Data time between two rounds, nanos.
    interval: u64,
    /// Points made so far.
    next: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn service_of(rs: &opentelemetry_proto::tonic::trace::v1::ResourceSpans) -> usize {
        let attrs = &rs.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default();
        let name = attrs.iter().find(|kv| kv.key == "service.name").and_then(|kv| match &kv.value {
            Some(AnyValue { value: Some(Value::StringValue(s)) }) => Some(s.clone()),
            _ => None,
        });
        name.and_then(|n| n.strip_prefix("svc-").and_then(|i| i.parse().ok())).unwrap_or(usize::MAX)
    }

    #[test]
    fn traces_have_a_real_deployment_shape() {
        let shape = Shape { services: 50, operations: 10, spans_per_trace: 8, attributes: 0, cardinality: 100 };
        let mut g = Generator::new(shape, 7);
        let before = crate::time::now_unix_nanos();
        let (req, _) = g.traces(4_000);
        // Every span's service, by span id; every (service, name) and its kinds.
        let mut service: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut kinds: HashMap<(usize, String), HashSet<i32>> = HashMap::new();
        let mut spans = Vec::new();
        for rs in &req.resource_spans {
            let svc = service_of(rs);
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    service.insert(s.span_id.clone(), svc);
                    kinds.entry((svc, s.name.clone())).or_default().insert(s.kind);
                    spans.push((svc, s.clone()));
                }
            }
        }
        assert!(spans.len() >= 4_000);
        let mut edges = HashSet::new();
        for (svc, s) in &spans {
            // Stamped with the clock (roots start up to a second after it).
            assert!(s.start_time_unix_nano >= before && s.start_time_unix_nano < before + 5_000_000_000);
            if s.parent_span_id.is_empty() {
                assert_eq!(s.kind, span::SpanKind::Server as i32);
                continue;
            }
            let parent = service[&s.parent_span_id];
            if parent != *svc {
                // A call to another service lands in one of the caller's few dependencies, as its entry span.
                assert!((0..CALLEES).any(|j| callee(parent, j, 50) == *svc), "{parent} -> {svc}");
                assert_eq!(s.kind, span::SpanKind::Server as i32);
                edges.insert((parent, *svc));
            }
        }
        assert!(edges.len() <= 50 * CALLEES && edges.len() > 50, "{} edges", edges.len());
        // A span name has one kind within a service, apart from entry spans of names also used inside.
        let mixed = kinds.values().filter(|k| k.len() > 2).count();
        assert_eq!(mixed, 0, "{kinds:?}");
    }

    #[test]
    fn metric_series_get_one_point_per_interval() {
        let shape = Shape { services: 4, operations: 2, spans_per_trace: 8, attributes: 0, cardinality: 100 };
        let (start, interval) = (1_700_000_000_000_000_000, 10_000_000_000);
        let mut g = Generator::new(shape, 7).with_metric_stream(vec![0, 2], start, interval);
        // Two services x 5 metrics x (2 routes x 2 methods) = 40 series; three rounds, over two requests.
        let reqs = [g.metrics(70), g.metrics(50)];
        // (service, metric, attributes) -> (time, integer value) of each point.
        type Series = HashMap<(String, String, String), Vec<(u64, Option<i64>)>>;
        let mut series: Series = HashMap::new();
        for req in &reqs {
            for rm in &req.resource_metrics {
                let attrs = &rm.resource.as_ref().unwrap().attributes;
                let svc = format!("{:?}", attrs.iter().find(|kv| kv.key == "service.name").unwrap().value);
                for m in &rm.scope_metrics[0].metrics {
                    let mut add = |attrs: &[KeyValue], t: u64, v: Option<i64>| {
                        series.entry((svc.clone(), m.name.clone(), format!("{attrs:?}"))).or_default().push((t, v))
                    };
                    match m.data.as_ref().unwrap() {
                        Data::Gauge(d) => d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None)),
                        Data::Sum(d) => d.data_points.iter().for_each(|p| {
                            let v = match p.value {
                                Some(number_data_point::Value::AsInt(i)) => Some(i),
                                _ => None,
                            };
                            assert_eq!(p.start_time_unix_nano, start);
                            add(&p.attributes, p.time_unix_nano, v)
                        }),
                        Data::Histogram(d) => {
                            d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None))
                        }
                        Data::ExponentialHistogram(d) => {
                            d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None))
                        }
                        Data::Summary(d) => {
                            d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None))
                        }
                    }
                }
            }
        }
        assert_eq!(series.values().map(Vec::len).sum::<usize>(), 120);
        assert_eq!(series.len(), 40);
        assert!(series.keys().all(|(svc, _, _)| svc.contains("svc-000") || svc.contains("svc-002")));
        for points in series.values() {
            let times: Vec<u64> = points.iter().map(|p| p.0).collect();
            assert_eq!(times, [start, start + interval, start + 2 * interval]);
            // A cumulative sum never goes down.
            assert!(points.windows(2).all(|w| w[0].1 <= w[1].1));
        }
    }
}
