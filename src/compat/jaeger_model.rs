//! OTLP spans as Jaeger's UI JSON trace model (`Trace {traceID, spans, processes, warnings}`), mapped the
//! way the OpenTelemetry Collector's Jaeger translator and Jaeger's own query service do: the resource
//! becomes the span's process (`service.name` its serviceName, the other attributes its tags), the parent a
//! `CHILD_OF` reference, links `FOLLOWS_FROM` references, events logs; kind, status and scope become the tags
//! `span.kind`, `otel.status_code`, `error`, `otel.status_description`, `otel.scope.name`/`version`.
//! Times are microseconds since the epoch, durations microseconds.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
use serde_json::{Map, Value, json};

use super::params::jaeger_trace_id;
use crate::ids;

/// Largest integer a JSON number carries exactly in JavaScript clients; bigger ones go out as strings.
const MAX_SAFE_INT: i64 = (1 << 53) - 1;

/// Jaeger's name of an OTLP span kind (`None` for UNSPECIFIED).
pub fn kind_name(kind: i32) -> Option<&'static str> {
    match kind {
        1 => Some("internal"),
        2 => Some("server"),
        3 => Some("client"),
        4 => Some("producer"),
        5 => Some("consumer"),
        _ => None,
    }
}

/// One Jaeger tag: `{key, type, value}` with type string, bool, int64, float64 or binary.
fn tag(key: &str, ty: &str, value: Value) -> Value {
    json!({"key": key, "type": ty, "value": value})
}

fn string_tag(key: &str, value: &str) -> Value {
    tag(key, "string", value.into())
}

/// An attribute value as plain JSON (maps and arrays of Jaeger tags are written as this JSON's text).
fn raw(v: &AnyValue) -> Value {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.clone().into(),
        Some(any_value::Value::BoolValue(b)) => (*b).into(),
        Some(any_value::Value::IntValue(i)) => (*i).into(),
        Some(any_value::Value::DoubleValue(d)) => (*d).into(),
        Some(any_value::Value::BytesValue(b)) => STANDARD.encode(b).into(),
        Some(any_value::Value::ArrayValue(a)) => Value::Array(a.values.iter().map(raw).collect()),
        Some(any_value::Value::KvlistValue(l)) => Value::Object(
            l.values.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map_or(Value::Null, raw))).collect(),
        ),
        Some(any_value::Value::StringValueStrindex(_)) | None => Value::Null,
    }
}

/// An OTLP attribute as a Jaeger tag.
pub fn key_value(kv: &KeyValue) -> Value {
    let Some(v) = kv.value.as_ref() else {
        return string_tag(&kv.key, "");
    };
    match &v.value {
        Some(any_value::Value::StringValue(s)) => string_tag(&kv.key, s),
        Some(any_value::Value::BoolValue(b)) => tag(&kv.key, "bool", (*b).into()),
        Some(any_value::Value::IntValue(i)) if i.abs() <= MAX_SAFE_INT => tag(&kv.key, "int64", (*i).into()),
        Some(any_value::Value::IntValue(i)) => tag(&kv.key, "int64", i.to_string().into()),
        Some(any_value::Value::DoubleValue(d)) => tag(&kv.key, "float64", (*d).into()),
        Some(any_value::Value::BytesValue(b)) => tag(&kv.key, "binary", STANDARD.encode(b).into()),
        Some(any_value::Value::ArrayValue(_) | any_value::Value::KvlistValue(_)) => {
            string_tag(&kv.key, &raw(v).to_string())
        }
        Some(any_value::Value::StringValueStrindex(_)) | None => string_tag(&kv.key, ""),
    }
}

/// The trace made of `resource_spans` (all spans of one trace) in Jaeger's UI JSON; `None` when it has no
/// span, since clients cannot show a trace without one.
pub fn trace(resource_spans: &[ResourceSpans]) -> Option<Value> {
    let mut processes: Vec<Value> = Vec::new();
    let mut spans = Vec::new();
    let mut trace_id = None;
    for rs in resource_spans {
        let attrs = rs.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]);
        let service = attrs
            .iter()
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref())
            .map(|v| match raw(v) {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .unwrap_or_default();
        let tags: Vec<Value> = attrs.iter().filter(|kv| kv.key != "service.name").map(key_value).collect();
        let process = json!({"serviceName": service, "tags": tags});
        // Equal processes share one key, as in Jaeger's process hashtable.
        let index = match processes.iter().position(|p| *p == process) {
            Some(i) => i,
            None => {
                processes.push(process);
                processes.len() - 1
            }
        };
        let process_id = format!("p{}", index + 1);
        for ss in &rs.scope_spans {
            let mut scope_tags = Vec::new();
            if let Some(scope) = &ss.scope {
                if !scope.name.is_empty() {
                    scope_tags.push(string_tag("otel.scope.name", &scope.name));
                }
                if !scope.version.is_empty() {
                    scope_tags.push(string_tag("otel.scope.version", &scope.version));
                }
            }
            for s in &ss.spans {
                trace_id.get_or_insert_with(|| jaeger_trace_id(&s.trace_id));
                spans.push(span(s, &process_id, &scope_tags));
            }
        }
    }
    let trace_id = trace_id?;
    let processes: Map<String, Value> =
        processes.into_iter().enumerate().map(|(i, p)| (format!("p{}", i + 1), p)).collect();
    Some(json!({"traceID": trace_id, "spans": spans, "processes": processes, "warnings": null}))
}

fn span(s: &Span, process_id: &str, scope_tags: &[Value]) -> Value {
    let trace_id = jaeger_trace_id(&s.trace_id);
    let mut references = Vec::new();
    if !s.parent_span_id.is_empty() {
        references.push(json!({"refType": "CHILD_OF", "traceID": trace_id, "spanID": ids::to_hex(&s.parent_span_id)}));
    }
    for l in &s.links {
        references.push(
            json!({"refType": "FOLLOWS_FROM", "traceID": jaeger_trace_id(&l.trace_id), "spanID": ids::to_hex(&l.span_id)}),
        );
    }
    let mut tags: Vec<Value> = s.attributes.iter().map(key_value).collect();
    tags.extend_from_slice(scope_tags);
    if let Some(kind) = kind_name(s.kind) {
        tags.push(string_tag("span.kind", kind));
    }
    if let Some(status) = &s.status {
        match status.code {
            1 => tags.push(string_tag("otel.status_code", "OK")),
            2 => {
                tags.push(string_tag("otel.status_code", "ERROR"));
                tags.push(tag("error", "bool", true.into()));
            }
            _ => {}
        }
        if !status.message.is_empty() {
            tags.push(string_tag("otel.status_description", &status.message));
        }
    }
    if !s.trace_state.is_empty() {
        tags.push(string_tag("w3c.tracestate", &s.trace_state));
    }
    let logs: Vec<Value> = s
        .events
        .iter()
        .map(|e| {
            let mut fields = vec![string_tag("event", &e.name)];
            fields.extend(e.attributes.iter().map(key_value));
            json!({"timestamp": e.time_unix_nano / 1000, "fields": fields})
        })
        .collect();
    let mut m = Map::new();
    m.insert("traceID".into(), trace_id.into());
    m.insert("spanID".into(), ids::to_hex(&s.span_id).into());
    if s.flags != 0 {
        m.insert("flags".into(), s.flags.into());
    }
    m.insert("operationName".into(), s.name.clone().into());
    m.insert("references".into(), references.into());
    m.insert("startTime".into(), (s.start_time_unix_nano / 1000).into());
    m.insert("duration".into(), (s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano) / 1000).into());
    m.insert("tags".into(), tags.into());
    m.insert("logs".into(), logs.into());
    m.insert("processID".into(), process_id.into());
    m.insert("warnings".into(), Value::Null);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn kv(key: &str, v: any_value::Value) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
    }

    #[test]
    fn attribute_types() {
        use any_value::Value as V;
        assert_eq!(key_value(&kv("a", V::IntValue(7))), json!({"key": "a", "type": "int64", "value": 7}));
        assert_eq!(key_value(&kv("a", V::IntValue(1 << 60)))["value"], json!((1i64 << 60).to_string()));
        assert_eq!(key_value(&kv("a", V::DoubleValue(0.5)))["type"], "float64");
        assert_eq!(key_value(&kv("a", V::BoolValue(true)))["value"], true);
        assert_eq!(key_value(&kv("a", V::BytesValue(vec![1, 2])))["value"], "AQI=");
        let arr = V::ArrayValue(ArrayValue {
            values: vec![
                AnyValue { value: Some(V::StringValue("x".into())) },
                AnyValue { value: Some(V::IntValue(1)) },
            ],
        });
        assert_eq!(key_value(&kv("a", arr)), json!({"key": "a", "type": "string", "value": "[\"x\",1]"}));
        let map = V::KvlistValue(KeyValueList { values: vec![kv("k", V::StringValue("v".into()))] });
        assert_eq!(key_value(&kv("a", map))["value"], "{\"k\":\"v\"}");
    }

    #[test]
    fn a_trace_without_spans_is_none() {
        assert_eq!(trace(&[]), None);
        assert_eq!(trace(&[ResourceSpans::default()]), None);
    }
}
