//! The metric stream: every series of all five metric types, one point per interval of data time.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use rand::Rng;

use super::{Generator, kv, s};

impl Generator {
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
pub(super) const METRIC_NAMES: [(&str, &str); 5] = [
    ("system.cpu.utilization", "1"),
    ("http.server.request.count", "{request}"),
    ("http.server.request.duration", "s"),
    ("rpc.server.duration", "s"),
    ("jvm.gc.duration", "s"),
];

/// Position of a generator in its metric stream.
#[derive(Debug, Clone)]
pub(super) struct MetricStream {
    /// The services whose series this generator exports.
    pub(super) services: Vec<usize>,
    /// Data time of round 0, unix nanos.
    pub(super) start: u64,
    /// Data time between two rounds, nanos.
    pub(super) interval: u64,
    /// Points made so far.
    pub(super) next: usize,
}
