//! Dimension rows and identities: canonical, sorted by hash, the same from OTLP/JSON and protobuf.

use super::fixtures::*;
use crate::normalize::*;
use crate::schema::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

#[test]
fn dimensions_are_canonical_and_sorted_by_hash() {
    let promotion = test_promotion();
    let prepared = prepare(&all_signals(), &promotion);
    let r = &prepared.resources()[0];
    assert_eq!(r.service_name.as_deref(), Some("checkout"));
    assert_eq!(r.service_namespace.as_deref(), Some("shop"));
    assert_eq!(r.schema_url, "https://opentelemetry.io/schemas/1.26.0");
    assert_eq!(r.dropped_attributes_count, 3);
    let keys: Vec<&str> = r.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["host.name", "process.pid", "service.name", "service.namespace"], "sorted, secret dropped");
    let s = &prepared.scopes()[0];
    assert_eq!((s.name.as_str(), s.version.as_str(), s.dropped_attributes_count), ("lib", "1.2.3", 1));
    let m = prepared.metrics();
    assert!(m.windows(2).all(|w| w[0].hash < w[1].hash));
    let sum = m.iter().find(|d| d.name == "sum").unwrap();
    assert_eq!((sum.metric_type, sum.temporality, sum.is_monotonic), (2, Some(2), Some(true)));
    assert_eq!((sum.unit.as_str(), sum.description.as_str()), ("ms", "desc"));
    assert_eq!(sum.metadata.as_deref(), Some(r#"{"meta":"m"}"#));
    let gauge = m.iter().find(|d| d.name == "gauge").unwrap();
    assert_eq!((gauge.metric_type, gauge.temporality, gauge.is_monotonic), (1, None, None));
    let exp = m.iter().find(|d| d.name == "exp").unwrap();
    assert_eq!((exp.metric_type, exp.temporality), (4, Some(2)));
    let summary = m.iter().find(|d| d.name == "summary").unwrap();
    assert_eq!((summary.metric_type, summary.temporality), (5, None));
}

#[test]
fn resource_hash_ignores_attribute_order_and_dropped_keys() {
    let promotion = test_promotion();
    let mut reordered = traces_request();
    let res = reordered.resource_spans[0].resource.as_mut().unwrap();
    res.attributes.reverse();
    res.attributes.retain(|kv| !kv.key.starts_with("secret."));
    res.attributes.push(kv("secret.other", string("rotating token")));
    res.dropped_attributes_count = 99;
    let a = prepare(&all_signals()[..1], &promotion);
    let b = prepare(&[record(1, Signal::Traces, reordered.encode_to_vec())], &promotion);
    assert_eq!(a.resources()[0].hash, b.resources()[0].hash);
    assert_eq!(a.scopes()[0].hash, b.scopes()[0].hash);

    let mut changed = traces_request();
    changed.resource_spans[0].resource.as_mut().unwrap().attributes[3] = kv("process.pid", string("42"));
    let c = prepare(&[record(1, Signal::Traces, changed.encode_to_vec())], &promotion);
    assert_ne!(a.resources()[0].hash, c.resources()[0].hash, "int 42 vs string \"42\"");
}

#[test]
fn json_and_protobuf_input_give_the_same_identities() {
    let promotion = Promotion::defaults();
    for (file, signal) in
        [("trace.json", Signal::Traces), ("logs.json", Signal::Logs), ("metrics.json", Signal::Metrics)]
    {
        // The OTLP specification's examples, as copied unchanged into the repository.
        let path = format!("{}/tests/data/otlp/{file}", env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read(&path).unwrap();
        // What the receiver does with a JSON body: decode, then store the protobuf encoding in the WAL.
        let payload = match signal {
            Signal::Traces => crate::otlp::decode_json::<ExportTraceServiceRequest>(&json).unwrap().encode_to_vec(),
            Signal::Logs => crate::otlp::decode_json::<ExportLogsServiceRequest>(&json).unwrap().encode_to_vec(),
            Signal::Metrics => crate::otlp::decode_json::<ExportMetricsServiceRequest>(&json).unwrap().encode_to_vec(),
        };
        let from_json = prepare(&[record(1, signal, payload.clone())], &promotion);
        let again = prepare(&[record(2, signal, payload)], &promotion);
        assert!(from_json.failures().is_empty(), "{file}: {:?}", from_json.failures());
        assert_eq!(from_json.resources(), again.resources(), "{file}: repeated request");
        assert_eq!(from_json.scopes(), again.scopes(), "{file}");
    }
    // The spec trace example, built by hand as a protobuf client would send it.
    let by_hand = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", string("my.service"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "my.library".into(),
                    version: "1.0.0".into(),
                    attributes: vec![kv("my.scope.attribute", string("some scope attribute"))],
                    dropped_attributes_count: 0,
                }),
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "x".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0,
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let json = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
        "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute",
        "value":{"stringValue":"some scope attribute"}}]},"spans":[{"traceId":"01010101010101010101010101010101",
        "spanId":"0202020202020202","name":"y","startTimeUnixNano":"1764172000000000001","endTimeUnixNano":"1764172000000000001"}]}]}]}"#;
    let from_json = crate::otlp::decode_json::<ExportTraceServiceRequest>(json).unwrap();
    let a = prepare(&[record(1, Signal::Traces, by_hand.encode_to_vec())], &promotion);
    let b = prepare(&[record(2, Signal::Traces, from_json.encode_to_vec())], &promotion);
    assert_eq!(a.resources(), b.resources());
    assert_eq!(a.scopes(), b.scopes());
}
