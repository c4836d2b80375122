//! Traces spanning several services, and the log records correlated with their spans.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use rand::Rng;

use super::{CALLEES, Generator, callee, kv, s};

impl Generator {
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
}
