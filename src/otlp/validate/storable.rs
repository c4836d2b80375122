//! What PostgreSQL can store, checked per item before the WAL append with the same checks normalization
//! applies (`crate::normalize::check_*`), so that an acknowledged item is never refused later: strings
//! without U+0000, enum values with a row in their reference table. A resource, scope or metric that cannot
//! be stored takes its items with it, each counted as rejected.

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::normalize::{
    MAX_KIND, MAX_SEVERITY, MAX_STATUS, MAX_TEMPORALITY, check_attributes, check_enum, check_text, check_value,
};

/// Why a resource cannot be stored, if it cannot.
pub(super) fn resource(resource: Option<&Resource>, schema_url: &str) -> Option<String> {
    let check = || {
        check_text("resource schema_url", schema_url)?;
        check_attributes("resource attribute", resource.map_or(&[][..], |r| &r.attributes))
    };
    check().err()
}

/// Why an instrumentation scope cannot be stored, if it cannot.
pub(super) fn scope(scope: Option<&InstrumentationScope>, schema_url: &str) -> Option<String> {
    let check = || {
        check_text("scope schema_url", schema_url)?;
        if let Some(s) = scope {
            check_text("scope name", &s.name)?;
            check_text("scope version", &s.version)?;
            check_attributes("scope attribute", &s.attributes)?;
        }
        Ok(())
    };
    check().err()
}

/// Why a metric's description (name, unit, description, metadata, temporality) cannot be stored, if it cannot.
pub(super) fn metric(metric: &Metric) -> Option<String> {
    let check = || {
        check_text("metric name", &metric.name)?;
        check_text("metric unit", &metric.unit)?;
        check_text("metric description", &metric.description)?;
        check_attributes("metric metadata", &metric.metadata)?;
        let temporality = match &metric.data {
            Some(Data::Sum(s)) => Some(s.aggregation_temporality),
            Some(Data::Histogram(h)) => Some(h.aggregation_temporality),
            Some(Data::ExponentialHistogram(h)) => Some(h.aggregation_temporality),
            _ => None,
        };
        if let Some(t) = temporality {
            check_enum("aggregation_temporality", t, MAX_TEMPORALITY)?;
        }
        Ok(())
    };
    check().err()
}

/// The storage problem of a span, if any.
pub(super) fn span(span: &Span) -> Result<(), String> {
    check_enum("kind", span.kind, MAX_KIND)?;
    check_text("name", &span.name)?;
    check_text("trace_state", &span.trace_state)?;
    if let Some(status) = &span.status {
        check_enum("status code", status.code, MAX_STATUS)?;
        check_text("status message", &status.message)?;
    }
    check_attributes("attribute", &span.attributes)?;
    for (i, event) in span.events.iter().enumerate() {
        check_text(&format!("events[{i}].name"), &event.name)?;
        check_attributes(&format!("events[{i}] attribute"), &event.attributes)?;
    }
    for (i, link) in span.links.iter().enumerate() {
        check_text(&format!("links[{i}].trace_state"), &link.trace_state)?;
        check_attributes(&format!("links[{i}] attribute"), &link.attributes)?;
    }
    Ok(())
}

/// The storage problem of a log record, if any.
pub(super) fn log(log: &LogRecord) -> Result<(), String> {
    check_enum("severity_number", log.severity_number, MAX_SEVERITY)?;
    check_text("severity_text", &log.severity_text)?;
    check_text("event_name", &log.event_name)?;
    check_value("body", log.body.as_ref().and_then(|b| b.value.as_ref()))?;
    check_attributes("attribute", &log.attributes)
}

/// The storage problem of a data point's attributes, if any.
pub(super) fn point_attributes(attributes: &[KeyValue]) -> Result<(), String> {
    check_attributes("attribute", attributes)
}

/// The storage problem of an exemplar's filtered attributes, if any.
pub(super) fn exemplar_attributes(i: usize, attributes: &[KeyValue]) -> Result<(), String> {
    check_attributes(&format!("exemplars[{i}] filtered attribute"), attributes)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, any_value::Value};
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{Gauge, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};

    use super::*;
    use crate::hostile_input::{Body, normalize};
    use crate::otlp::{OtlpRequest, validate};

    const T: u64 = 1_764_172_800_000_000_000;

    fn good_span(name: &str) -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: name.into(),
            start_time_unix_nano: T,
            end_time_unix_nano: T + 1,
            ..Default::default()
        }
    }

    fn traces(scopes: Vec<ScopeSpans>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest { resource_spans: vec![ResourceSpans { scope_spans: scopes, ..Default::default() }] }
    }

    fn nul_string() -> Option<AnyValue> {
        let inner = AnyValue { value: Some(Value::StringValue("a\0b".into())) };
        Some(AnyValue { value: Some(Value::ArrayValue(ArrayValue { values: vec![inner] })) })
    }

    /// What the receivers promise: the request validation keeps is stored, so normalization must accept it.
    fn assert_normalizes<T: OtlpRequest>(request: &T) {
        normalize(T::SIGNAL, Body::Protobuf, &request.encode_to_vec());
    }

    #[test]
    fn an_unstorable_span_is_rejected_beside_a_kept_one() {
        let mut kind = good_span("kind");
        kind.kind = 9;
        let mut status = good_span("status");
        status.status = Some(Status { code: 7, message: String::new() });
        let nul_name = good_span("nul\0");
        let mut nul_attr = good_span("attr");
        nul_attr.attributes = vec![KeyValue { key: "k".into(), value: nul_string(), key_strindex: 0 }];
        let spans = vec![good_span("ok"), kind, status, nul_name, nul_attr];
        let request = traces(vec![ScopeSpans { spans, ..Default::default() }]);
        assert_normalizes(&request);
        let v = validate(request);
        assert_eq!((v.rejected, v.request.item_count()), (4, 1));
        assert!(v.changed);
        assert_eq!(v.request.resource_spans[0].scope_spans[0].spans[0].name, "ok");
        assert!(v.message.contains("span 1 of scope 0 of resource 0: kind 9 is not a known value"), "{}", v.message);
        assert!(v.message.contains("span 3 of scope 0 of resource 0: name contains a NUL"), "{}", v.message);
        assert_normalizes(&v.request);
    }

    #[test]
    fn an_unstorable_scope_takes_its_items_and_only_them() {
        let bad_scope = InstrumentationScope { name: "lib\0".into(), ..Default::default() };
        let request = traces(vec![
            ScopeSpans { scope: Some(bad_scope), spans: vec![good_span("a"), good_span("b")], ..Default::default() },
            // A bad scope without spans must not reach the WAL either.
            ScopeSpans { schema_url: "\0".into(), ..Default::default() },
            ScopeSpans { spans: vec![good_span("kept")], ..Default::default() },
        ]);
        assert_normalizes(&request);
        let v = validate(request);
        assert_eq!((v.rejected, v.request.item_count()), (2, 1));
        assert_eq!(v.request.resource_spans[0].scope_spans.len(), 1);
        assert!(v.message.contains("scope name contains a NUL"), "{}", v.message);
    }

    #[test]
    fn an_unstorable_log_record_or_resource_is_rejected() {
        let good = LogRecord { time_unix_nano: T, ..Default::default() };
        let severity = LogRecord { severity_number: 99, ..good.clone() };
        let body = LogRecord { body: nul_string(), ..good.clone() };
        let bad_resource = Resource {
            attributes: vec![KeyValue { key: "k\0".into(), value: None, key_strindex: 0 }],
            ..Default::default()
        };
        let request = ExportLogsServiceRequest {
            resource_logs: vec![
                ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![good.clone(), severity, body],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                ResourceLogs {
                    resource: Some(bad_resource),
                    scope_logs: vec![ScopeLogs { log_records: vec![good], ..Default::default() }],
                    ..Default::default()
                },
            ],
        };
        assert_normalizes(&request);
        let v = validate(request);
        assert_eq!((v.rejected, v.request.item_count()), (3, 1));
        assert_eq!(v.request.resource_logs.len(), 1);
        assert!(v.message.contains("severity_number 99 is not a known value"), "{}", v.message);
        assert!(v.message.contains("resource attribute contains a NUL"), "{}", v.message);
    }

    #[test]
    fn an_unstorable_metric_rejects_its_points() {
        let point = NumberDataPoint { time_unix_nano: T, ..Default::default() };
        let gauge = |name: &str| Metric {
            name: name.into(),
            data: Some(Data::Gauge(Gauge { data_points: vec![point.clone(), point.clone()] })),
            ..Default::default()
        };
        let temporality = Metric {
            name: "sum".into(),
            data: Some(Data::Sum(Sum {
                data_points: vec![point.clone()],
                aggregation_temporality: 5,
                is_monotonic: true,
            })),
            ..Default::default()
        };
        let nul_point = Metric {
            name: "attrs".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: vec![
                    NumberDataPoint {
                        attributes: vec![KeyValue { key: "k".into(), value: nul_string(), key_strindex: 0 }],
                        ..point.clone()
                    },
                    point.clone(),
                ],
            })),
            ..Default::default()
        };
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![gauge("ok"), gauge("nul\0"), temporality, nul_point],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        assert_normalizes(&request);
        let v = validate(request);
        assert_eq!((v.rejected, v.request.item_count()), (4, 3));
        let kept: Vec<&str> =
            v.request.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(kept, ["ok", "attrs"]);
        assert!(v.message.contains("aggregation_temporality 5 is not a known value"), "{}", v.message);
    }
}
