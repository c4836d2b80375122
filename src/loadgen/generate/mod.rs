//! Synthetic but realistic OTLP requests: traces spanning several services, logs correlated with their
//! spans, and all five metric types. A seeded generator makes runs reproducible.
//!
//! Files: this one holds the [`Shape`], the [`Generator`] and what every signal's requests share (resources,
//! scopes, ids, attributes); `traces.rs` makes traces with their correlated logs, `metrics.rs` the metric
//! stream.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

mod metrics;
#[cfg(test)]
mod tests;
mod traces;

use metrics::{METRIC_NAMES, MetricStream};

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
}
