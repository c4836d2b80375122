use super::*;
use crate::otlp::decode::{MAX_ANY_VALUE_DEPTH, decode_protobuf};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as Av};
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
use prost::Message;
use serde_json::json;

const EXAMPLES: &str = "/work/shared/otlp-examples";

fn example(name: &str) -> Vec<u8> {
    // The repository's copy is preferred so the tests run anywhere; the shared copy is the same spec file.
    let local = format!("{}/tests/data/otlp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&local).or_else(|_| std::fs::read(format!("{EXAMPLES}/{name}"))).unwrap()
}

fn traces(v: serde_json::Value) -> Result<ExportTraceServiceRequest, DecodeError> {
    decode_json(v.to_string().as_bytes())
}

fn logs(v: serde_json::Value) -> Result<ExportLogsServiceRequest, DecodeError> {
    decode_json(v.to_string().as_bytes())
}

fn metrics(v: serde_json::Value) -> Result<ExportMetricsServiceRequest, DecodeError> {
    decode_json(v.to_string().as_bytes())
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> &'a Av {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
        .unwrap_or_else(|| panic!("no attribute {key}"))
}

fn one_span(v: serde_json::Value) -> serde_json::Value {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": [v]}]}]})
}

fn span_of(req: &ExportTraceServiceRequest) -> &opentelemetry_proto::tonic::trace::v1::Span {
    &req.resource_spans[0].scope_spans[0].spans[0]
}

fn log_with(v: serde_json::Value) -> serde_json::Value {
    json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [v]}]}]})
}

fn json_err(result: Result<impl std::fmt::Debug, DecodeError>) -> (String, String) {
    match result.unwrap_err() {
        DecodeError::Json { path, reason, .. } => (path, reason),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn trace_example_decodes() {
    let req: ExportTraceServiceRequest = decode_json(&example("trace.json")).unwrap();
    let rs = &req.resource_spans[0];
    assert_eq!(attr(&rs.resource.as_ref().unwrap().attributes, "service.name"), &Av::StringValue("my.service".into()));
    let scope = rs.scope_spans[0].scope.as_ref().unwrap();
    assert_eq!((scope.name.as_str(), scope.version.as_str()), ("my.library", "1.0.0"));
    let span = span_of(&req);
    assert_eq!(span.name, "I'm a server span");
    assert_eq!(crate::ids::to_hex(&span.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(crate::ids::to_hex(&span.span_id), "eee19b7ec3c1b174");
    assert_eq!(crate::ids::to_hex(&span.parent_span_id), "eee19b7ec3c1b173");
    assert_eq!(span.kind, 2);
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
    assert_eq!(attr(&span.attributes, "my.span.attr"), &Av::StringValue("some value".into()));
}

#[test]
fn logs_example_decodes_every_value_type() {
    let req: ExportLogsServiceRequest = decode_json(&example("logs.json")).unwrap();
    let log = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(log.time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(log.observed_time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(log.severity_number, 10);
    assert_eq!(log.severity_text, "Information");
    assert_eq!(crate::ids::to_hex(&log.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(crate::ids::to_hex(&log.span_id), "eee19b7ec3c1b174");
    assert_eq!(log.body.as_ref().unwrap().value, Some(Av::StringValue("Example log record".into())));
    assert_eq!(attr(&log.attributes, "boolean.attribute"), &Av::BoolValue(true));
    assert_eq!(attr(&log.attributes, "int.attribute"), &Av::IntValue(10));
    assert_eq!(attr(&log.attributes, "double.attribute"), &Av::DoubleValue(637.704));
    let Av::ArrayValue(array) = attr(&log.attributes, "array.attribute") else { panic!("not an array") };
    let strings: Vec<_> = array.values.iter().map(|v| v.value.clone().unwrap()).collect();
    assert_eq!(strings, vec![Av::StringValue("many".into()), Av::StringValue("values".into())]);
    let Av::KvlistValue(map) = attr(&log.attributes, "map.attribute") else { panic!("not a kvlist") };
    assert_eq!(attr(&map.values, "some.map.key"), &Av::StringValue("some value".into()));
}

#[test]
fn events_example_decodes() {
    let req: ExportLogsServiceRequest = decode_json(&example("events.json")).unwrap();
    let log = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(log.event_name, "browser.page_view");
    assert_eq!(log.severity_number, 9);
    let Some(Av::KvlistValue(body)) = log.body.as_ref().and_then(|b| b.value.clone()) else {
        panic!("body is not a kvlist")
    };
    assert_eq!(attr(&body.values, "type"), &Av::IntValue(0));
    assert_eq!(attr(&body.values, "title"), &Av::StringValue("Free Online GUID Generator".into()));
    assert_eq!(body.values.len(), 4);
}

#[test]
fn metrics_example_decodes() {
    let req: ExportMetricsServiceRequest = decode_json(&example("metrics.json")).unwrap();
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    let names: Vec<_> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["my.counter", "my.gauge", "my.histogram", "my.exponential.histogram"]);
    let Some(Data::Sum(sum)) = &metrics[0].data else { panic!("not a sum") };
    assert_eq!(sum.aggregation_temporality, 1);
    assert!(sum.is_monotonic);
    assert_eq!(sum.data_points[0].value, Some(number_data_point::Value::AsDouble(5.0)));
    assert_eq!(sum.data_points[0].start_time_unix_nano, 1_544_712_660_300_000_000);
    let Some(Data::Gauge(gauge)) = &metrics[1].data else { panic!("not a gauge") };
    assert_eq!(gauge.data_points[0].value, Some(number_data_point::Value::AsDouble(10.0)));
    let Some(Data::Histogram(h)) = &metrics[2].data else { panic!("not a histogram") };
    let p = &h.data_points[0];
    assert_eq!((p.count, p.sum, p.min, p.max), (2, Some(2.0), Some(0.0), Some(2.0)));
    assert_eq!((p.bucket_counts.clone(), p.explicit_bounds.clone()), (vec![1, 1], vec![1.0]));
    let Some(Data::ExponentialHistogram(e)) = &metrics[3].data else { panic!("not exp") };
    let p = &e.data_points[0];
    assert_eq!((p.count, p.zero_count, p.scale), (3, 1, 0));
    let positive = p.positive.as_ref().unwrap();
    assert_eq!((positive.offset, positive.bucket_counts.clone()), (1, vec![0, 2]));
    assert_eq!(crate::otlp::count_data_points(&req), 4);
}

#[test]
fn examples_match_the_stock_deserializer_and_protobuf() {
    fn check<T: crate::otlp::OtlpRequest + std::fmt::Debug>(name: &str) {
        let body = example(name);
        let ours: T = decode_json(&body).unwrap();
        let stock: T = serde_json::from_slice(&body).unwrap();
        assert_eq!(ours, stock, "{name}");
        let again: T = decode_protobuf(&ours.encode_to_vec()).unwrap();
        assert_eq!(again, ours, "{name}");
    }
    check::<ExportTraceServiceRequest>("trace.json");
    check::<ExportLogsServiceRequest>("logs.json");
    check::<ExportLogsServiceRequest>("events.json");
    check::<ExportMetricsServiceRequest>("metrics.json");
}

#[test]
fn stock_serialization_decodes_back() {
    // What the stock Serialize writes (e.g. for a JSON load generator) is read back unchanged.
    let req: ExportLogsServiceRequest = decode_json(&example("logs.json")).unwrap();
    let written = serde_json::to_vec(&req).unwrap();
    assert_eq!(decode_json::<ExportLogsServiceRequest>(&written).unwrap(), req);
    let req: ExportMetricsServiceRequest = decode_json(&example("metrics.json")).unwrap();
    let written = serde_json::to_vec(&req).unwrap();
    assert_eq!(decode_json::<ExportMetricsServiceRequest>(&written).unwrap(), req);
}

#[test]
fn enum_names_are_accepted() {
    let body = one_span(json!({
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
        "kind": "SPAN_KIND_SERVER", "status": {"code": "STATUS_CODE_ERROR", "message": "boom"}
    }));
    // The stock deserializer refuses names; this is the leniency we add.
    assert!(serde_json::from_value::<ExportTraceServiceRequest>(body.clone()).is_err());
    let req = traces(body).unwrap();
    let span = span_of(&req);
    assert_eq!(span.kind, 2);
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    assert_eq!(span.status.as_ref().unwrap().message, "boom");

    let req = logs(log_with(json!({"severityNumber": "SEVERITY_NUMBER_INFO"}))).unwrap();
    assert_eq!(req.resource_logs[0].scope_logs[0].log_records[0].severity_number, 9);
    let req = logs(log_with(json!({"severityNumber": "SEVERITY_NUMBER_FATAL4"}))).unwrap();
    assert_eq!(req.resource_logs[0].scope_logs[0].log_records[0].severity_number, 24);

    let req = metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "s", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE", "dataPoints": []}},
        {"name": "h", "histogram": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA"}},
        {"name": "e", "exponentialHistogram": {"aggregationTemporality": 2}}
    ]}]}]}))
    .unwrap();
    let ms = &req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Sum(s)) = &ms[0].data else { panic!() };
    assert_eq!(s.aggregation_temporality, 2);
    let Some(Data::Histogram(h)) = &ms[1].data else { panic!() };
    assert_eq!(h.aggregation_temporality, 1);
    let Some(Data::ExponentialHistogram(e)) = &ms[2].data else { panic!() };
    assert_eq!(e.aggregation_temporality, 2);
}

#[test]
fn unknown_enum_names_are_errors_with_a_path() {
    let (path, reason) = json_err(traces(one_span(json!({"kind": "SPAN_KIND_BOGUS"}))));
    assert_eq!(path, "resourceSpans[0].scopeSpans[0].spans[0].kind");
    assert!(reason.contains("unknown SpanKind \"SPAN_KIND_BOGUS\""), "{reason}");
    let (path, _) = json_err(logs(log_with(json!({"severityNumber": true}))));
    assert_eq!(path, "resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber");
}

#[test]
fn snake_case_field_names_are_accepted() {
    let snake = json!({"resource_spans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"string_value": "svc"}}],
                     "dropped_attributes_count": 1},
        "scope_spans": [{"scope": {"name": "lib"}, "schema_url": "https://s", "spans": [{
            "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
            "parent_span_id": "eee19b7ec3c1b173", "name": "op", "kind": 3,
            "start_time_unix_nano": "1544712660000000000", "end_time_unix_nano": 1544712661000000000u64,
            "trace_state": "a=b", "dropped_events_count": 2,
            "attributes": [{"key": "n", "value": {"int_value": "7"}},
                           {"key": "l", "value": {"kvlist_value": {"values": [{"key": "x", "value": {"bool_value": true}}]}}},
                           {"key": "a", "value": {"array_value": {"values": [{"double_value": 1.5}]}}}],
            "events": [{"time_unix_nano": "1544712660500000000", "name": "ev"}],
            "links": [{"trace_id": "5b8efff798038103d269b633813fc60d", "span_id": "eee19b7ec3c1b175"}]
        }]}]
    }]});
    let camel = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}],
                     "droppedAttributesCount": 1},
        "scopeSpans": [{"scope": {"name": "lib"}, "schemaUrl": "https://s", "spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "parentSpanId": "eee19b7ec3c1b173", "name": "op", "kind": 3,
            "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000",
            "traceState": "a=b", "droppedEventsCount": 2,
            "attributes": [{"key": "n", "value": {"intValue": "7"}},
                           {"key": "l", "value": {"kvlistValue": {"values": [{"key": "x", "value": {"boolValue": true}}]}}},
                           {"key": "a", "value": {"arrayValue": {"values": [{"doubleValue": 1.5}]}}}],
            "events": [{"timeUnixNano": "1544712660500000000", "name": "ev"}],
            "links": [{"traceId": "5b8efff798038103d269b633813fc60d", "spanId": "eee19b7ec3c1b175"}]
        }]}]
    }]});
    // The stock deserializer silently drops snake_case keys: the span loses its ids.
    let stock: ExportTraceServiceRequest = serde_json::from_value(snake.clone()).unwrap();
    assert!(stock.resource_spans.is_empty());
    let ours = traces(snake).unwrap();
    assert_eq!(ours, traces(camel).unwrap());
    let span = span_of(&ours);
    assert_eq!(span.span_id, [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]);
    assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
    assert_eq!(span.links[0].span_id[7], 0x75);
    assert_eq!(span.events[0].name, "ev");
    assert_eq!(attr(&span.attributes, "n"), &Av::IntValue(7));

    let req =
        logs(log_with(json!({"severity_number": 17, "observed_time_unix_nano": "5", "event_name": "e"}))).unwrap();
    let log = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!((log.severity_number, log.observed_time_unix_nano, log.event_name.as_str()), (17, 5, "e"));

    let req = metrics(json!({"resource_metrics": [{"scope_metrics": [{"metrics": [{"name": "e",
        "exponential_histogram": {"aggregation_temporality": 1, "data_points": [
            {"time_unix_nano": "9", "zero_count": "4", "positive": {"bucket_counts": ["1", 2]}}]}}]}]}]}))
    .unwrap();
    let Some(Data::ExponentialHistogram(e)) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    assert_eq!(e.data_points[0].zero_count, 4);
    assert_eq!(e.data_points[0].positive.as_ref().unwrap().bucket_counts, [1, 2]);
}

#[test]
fn empty_array_and_kvlist_values_are_accepted() {
    let body = log_with(json!({
        "body": {"kvlistValue": {}},
        "attributes": [{"key": "a", "value": {"arrayValue": {}}},
                       {"key": "k", "value": {"kvlistValue": {"values": null}}},
                       {"key": "nested", "value": {"arrayValue": {"values": [{"kvlistValue": {}}]}}}]
    }));
    assert!(serde_json::from_value::<ExportLogsServiceRequest>(body.clone()).is_err());
    let req = logs(body).unwrap();
    let log = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(log.body.as_ref().unwrap().value, Some(Av::KvlistValue(Default::default())));
    assert_eq!(attr(&log.attributes, "a"), &Av::ArrayValue(Default::default()));
    assert_eq!(attr(&log.attributes, "k"), &Av::KvlistValue(Default::default()));
    let Av::ArrayValue(nested) = attr(&log.attributes, "nested") else { panic!() };
    assert_eq!(nested.values[0].value, Some(Av::KvlistValue(Default::default())));
}

#[test]
fn integers_as_strings_and_numbers() {
    let as_strings = one_span(json!({
        "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "18446744073709551615",
        "droppedAttributesCount": "3", "flags": "257",
        "attributes": [{"key": "i", "value": {"intValue": "-9223372036854775808"}}]
    }));
    let as_numbers = one_span(json!({
        "startTimeUnixNano": 1544712660000000000u64, "endTimeUnixNano": 18446744073709551615u64,
        "droppedAttributesCount": 3, "flags": 257,
        "attributes": [{"key": "i", "value": {"intValue": -9223372036854775808i64}}]
    }));
    let a = traces(as_strings).unwrap();
    assert_eq!(a, traces(as_numbers).unwrap());
    let span = span_of(&a);
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    // u64::MAX decodes; validation, not decoding, rejects it.
    assert_eq!(span.end_time_unix_nano, u64::MAX);
    assert_eq!((span.dropped_attributes_count, span.flags), (3, 257));
    assert_eq!(attr(&span.attributes, "i"), &Av::IntValue(i64::MIN));

    // Doubles as strings, integral floats as integers.
    let req = metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "g", "gauge": {"dataPoints": [{"asDouble": "1.5", "timeUnixNano": 1e18}, {"asInt": "-5"}, {"asInt": 6}]}},
        {"name": "h", "histogram": {"dataPoints": [{"count": 3.0, "bucketCounts": [1, "2"], "explicitBounds": ["0.5"], "sum": "2"}]}},
        {"name": "s", "summary": {"dataPoints": [{"quantileValues": [{"quantile": "NaN", "value": "Infinity"}]}]}}
    ]}]}]}))
    .unwrap();
    let ms = &req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Gauge(g)) = &ms[0].data else { panic!() };
    assert_eq!(g.data_points[0].value, Some(number_data_point::Value::AsDouble(1.5)));
    assert_eq!(g.data_points[0].time_unix_nano, 1_000_000_000_000_000_000);
    assert_eq!(g.data_points[1].value, Some(number_data_point::Value::AsInt(-5)));
    assert_eq!(g.data_points[2].value, Some(number_data_point::Value::AsInt(6)));
    let Some(Data::Histogram(h)) = &ms[1].data else { panic!() };
    assert_eq!(h.data_points[0].count, 3);
    assert_eq!(h.data_points[0].bucket_counts, [1, 2]);
    assert_eq!(h.data_points[0].explicit_bounds, [0.5]);
    assert_eq!(h.data_points[0].sum, Some(2.0));
    let Some(Data::Summary(s)) = &ms[2].data else { panic!() };
    assert!(s.data_points[0].quantile_values[0].quantile.is_nan());
    assert_eq!(s.data_points[0].quantile_values[0].value, f64::INFINITY);
}

#[test]
fn integer_errors_name_the_field() {
    let (path, reason) = json_err(traces(one_span(json!({"startTimeUnixNano": "soon"}))));
    assert_eq!(path, "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano");
    assert!(reason.contains("unsigned 64-bit integer") && reason.contains("\"soon\""), "{reason}");
    let (_, reason) = json_err(traces(one_span(json!({"startTimeUnixNano": "-1"}))));
    assert!(reason.contains("out of range"), "{reason}");
    let (_, reason) = json_err(traces(one_span(json!({"startTimeUnixNano": "18446744073709551616"}))));
    assert!(reason.contains("out of range"), "{reason}");
    let (path, _) = json_err(traces(one_span(json!({"flags": 4294967296u64}))));
    assert!(path.ends_with("spans[0].flags"), "{path}");
    let (path, _) =
        json_err(traces(one_span(json!({"attributes": [{"key": "k", "value": {"intValue": "9223372036854775808"}}]}))));
    assert_eq!(path, "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue");
    let (path, _) = json_err(traces(one_span(json!({"startTimeUnixNano": 1.5}))));
    assert!(path.ends_with("startTimeUnixNano"), "{path}");
}

#[test]
fn hex_ids_in_either_case() {
    let upper =
        traces(one_span(json!({"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174"}))).unwrap();
    let lower =
        traces(one_span(json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}))).unwrap();
    assert_eq!(upper, lower);
    assert_eq!(span_of(&upper).trace_id[..2], [0x5b, 0x8e]);
    // Wrong lengths decode; validation drops the item (the rest of the request survives).
    let short = traces(one_span(json!({"traceId": "5b8e"}))).unwrap();
    assert_eq!(span_of(&short).trace_id, [0x5b, 0x8e]);
}

#[test]
fn invalid_hex_ids_are_errors_with_a_path() {
    let (path, reason) = json_err(traces(one_span(json!({"traceId": "5b8efff798038103d269b633813fc6zz"}))));
    assert_eq!(path, "resourceSpans[0].scopeSpans[0].spans[0].traceId");
    assert!(reason.contains("not hex") && reason.contains("'z'"), "{reason}");
    let (path, reason) = json_err(logs(log_with(json!({"spanId": "eee19b7ec3c1b17"}))));
    assert_eq!(path, "resourceLogs[0].scopeLogs[0].logRecords[0].spanId");
    assert!(reason.contains("odd number"), "{reason}");
    let (path, _) = json_err(traces(one_span(json!({"links": [{}, {"spanId": 12}]}))));
    assert_eq!(path, "resourceSpans[0].scopeSpans[0].spans[0].links[1].spanId");
}

#[test]
fn bad_json_is_a_clear_error() {
    let (path, reason) = json_err(decode_json::<ExportTraceServiceRequest>(b"{\"resourceSpans\": ["));
    assert!(path.starts_with("line 1 column"), "{path}");
    assert!(reason.contains("EOF"), "{reason}");
    let (_, reason) = json_err(decode_json::<ExportTraceServiceRequest>(b""));
    assert!(reason.contains("EOF"), "{reason}");
    let (path, reason) = json_err(decode_json::<ExportTraceServiceRequest>(b"[1, 2]"));
    assert_eq!(path, "");
    assert!(reason.contains("expected a JSON object") && reason.contains("an array"), "{reason}");
    let err = decode_json::<ExportTraceServiceRequest>(b"\xff\xfe{}").unwrap_err();
    assert!(err.to_string().starts_with("invalid OTLP/JSON traces request at line 1"), "{err}");
    // Protobuf sent as JSON.
    let bytes = crate::otlp::decode::tests::sample_traces().encode_to_vec();
    assert!(matches!(decode_json::<ExportTraceServiceRequest>(&bytes), Err(DecodeError::Json { .. })));
}

#[test]
fn wrong_types_are_errors_with_a_path() {
    let cases = [
        (json!({"resourceSpans": {}}), "resourceSpans", "expected a JSON array"),
        (
            json!({"resourceSpans": [{"scopeSpans": [{"spans": [5]}]}]}),
            "resourceSpans[0].scopeSpans[0].spans[0]",
            "expected a JSON object (Span), got a number",
        ),
        (one_span(json!({"name": 5})), "resourceSpans[0].scopeSpans[0].spans[0].name", "expected a string"),
        (
            one_span(json!({"status": "ok"})),
            "resourceSpans[0].scopeSpans[0].spans[0].status",
            "expected a JSON object (Status)",
        ),
        (
            one_span(json!({"attributes": [{"key": "k", "value": {"boolValue": "yes"}}]})),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.boolValue",
            "expected true or false",
        ),
        (
            one_span(json!({"attributes": [{"key": 1}]})),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key",
            "expected a string",
        ),
        (
            one_span(json!({"attributes": [{"key": "k", "value": {"doubleValue": "fast"}}]})),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.doubleValue",
            "expected a number (or \"NaN\"",
        ),
        (
            one_span(json!({"attributes": [{"key": "k", "value": {"bytesValue": "!!"}}]})),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.bytesValue",
            "not base64",
        ),
        (
            one_span(json!({"attributes": [{"key": "k", "value": {"arrayValue": {"values": {}}}}]})),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values",
            "expected a JSON array",
        ),
    ];
    for (body, want_path, want_reason) in cases {
        let (path, reason) = json_err(traces(body.clone()));
        assert_eq!(path, want_path, "{body}");
        assert!(reason.contains(want_reason), "{body}: {reason}");
    }
    let err = traces(one_span(json!({"name": 5}))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid OTLP/JSON traces request at resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got a number"
    );
}

#[test]
fn nulls_unknown_fields_and_missing_keys_are_tolerated() {
    let req = traces(json!({"resourceSpans": [{"resource": null, "scopeSpans": [{"spans": [{
        "name": "n", "status": null, "events": null, "unknownField": {"deep": [1, 2]},
        "attributes": [{"value": {"stringValue": "no key"}}, {"key": "nullvalue", "value": null},
                       {"key": "empty", "value": {}}]
    }]}]}], "extra": 1}))
    .unwrap();
    let span = span_of(&req);
    assert_eq!(span.name, "n");
    assert_eq!(span.attributes[0].key, "");
    assert_eq!(span.attributes[1].value, None);
    assert_eq!(span.attributes[2].value, Some(AnyValue { value: None }));
    // Empty requests are valid.
    assert_eq!(traces(json!({})).unwrap(), ExportTraceServiceRequest::default());
}

#[test]
fn bytes_values_accept_base64_variants() {
    for text in ["AP8=", "AP8", "AP-_"] {
        let req = traces(one_span(json!({"attributes": [{"key": "b", "value": {"bytesValue": text}}]}))).unwrap();
        let Av::BytesValue(b) = attr(&span_of(&req).attributes, "b") else { panic!() };
        assert_eq!(b[0], 0x00, "{text}");
        assert_eq!(b[1], 0xff, "{text}");
    }
}

/// A log record whose body is a kvlist nested `depth` levels (1 = a plain string) in JSON.
fn deep_body(depth: usize) -> String {
    let mut v = r#"{"stringValue":"leaf"}"#.to_owned();
    for _ in 1..depth {
        v = format!(r#"{{"kvlistValue":{{"values":[{{"key":"k","value":{v}}}]}}}}"#);
    }
    format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{v}}}]}}]}}]}}"#)
}

#[test]
fn depth_bound_is_the_same_as_for_protobuf() {
    let ok: ExportLogsServiceRequest = decode_json(deep_body(MAX_ANY_VALUE_DEPTH).as_bytes()).unwrap();
    let body = ok.resource_logs[0].scope_logs[0].log_records[0].body.clone().unwrap();
    assert_eq!(body, crate::otlp::decode::tests::nested_kvlist(MAX_ANY_VALUE_DEPTH));
    let err = decode_json::<ExportLogsServiceRequest>(deep_body(MAX_ANY_VALUE_DEPTH + 1).as_bytes()).unwrap_err();
    let DecodeError::TooDeep { path, .. } = &err else { panic!("{err:?}") };
    assert!(path.starts_with("resourceLogs[0].scopeLogs[0].logRecords[0].body.kvlistValue.values[0].value"), "{path}");
}

#[test]
fn ten_thousand_deep_kvlist_is_a_clean_error() {
    let err = decode_json::<ExportLogsServiceRequest>(deep_body(10_000).as_bytes()).unwrap_err();
    let (path, reason) = match &err {
        DecodeError::Json { path, reason, .. } => (path, reason),
        other => panic!("{other:?}"),
    };
    assert!(reason.contains("nested deeper than 128"), "{reason}");
    assert!(path.starts_with("line 1 column"), "{path}");
    // Arrays nest too.
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(decode_json::<ExportLogsServiceRequest>(deep_array.as_bytes()).is_err());
}

#[test]
fn random_mutations_never_panic() {
    let seeds = [
        example("trace.json"),
        example("logs.json"),
        example("events.json"),
        example("metrics.json"),
        deep_body(30).into_bytes(),
    ];
    let alphabet = b"{}[]\":,0123456789-.eE aZ_\\nulltruefalse";
    let mut x: u64 = 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seed in &seeds {
        for _ in 0..1500 {
            let mut b = seed.clone();
            for _ in 0..(next() % 3 + 1) {
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] = alphabet[(next() as usize) % alphabet.len()],
                    1 => {
                        b.remove(i);
                    }
                    _ => b.insert(i, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let _ = decode_json::<ExportTraceServiceRequest>(&b);
            let _ = decode_json::<ExportLogsServiceRequest>(&b);
            let _ = decode_json::<ExportMetricsServiceRequest>(&b);
        }
        for cut in 0..seed.len() {
            let _ = decode_json::<ExportLogsServiceRequest>(&seed[..cut]);
        }
    }
    // Structurally valid JSON with every field replaced by values of other types.
    let values = [
        json!(null),
        json!(1),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!("SPAN_KIND_SERVER"),
        json!("NaN"),
        json!("-Infinity"),
        json!([]),
        json!({}),
        json!([{}]),
        json!(true),
    ];
    let fields =
        ["traceId", "spanId", "kind", "startTimeUnixNano", "attributes", "events", "links", "status", "flags", "name"];
    for f in fields {
        for v in &values {
            let _ = traces(one_span(json!({ f: v.clone() })));
            let _ = traces(one_span(
                json!({"attributes": [{"key": "k", "value": { "kvlistValue": { "values": v.clone() } }}]}),
            ));
        }
    }
    let point_fields = [
        "asDouble",
        "asInt",
        "sum",
        "min",
        "explicitBounds",
        "bucketCounts",
        "count",
        "exemplars",
        "quantileValues",
        "positive",
        "zeroThreshold",
        "attributes",
    ];
    for kind in ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] {
        for f in point_fields {
            for v in &values {
                let _ = metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
                    {"name": "m", kind: {"dataPoints": [{ f: v.clone() }]}}]}]}]}));
                let _ = metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
                    {"name": "m", kind: {"dataPoints": [{"exemplars": [{ f: v.clone() }]}]}}]}]}]}));
            }
        }
    }
}

#[test]
fn non_finite_doubles_are_accepted_everywhere() {
    let nan = |v: &Av| matches!(v, Av::DoubleValue(d) if d.is_nan());
    let req = traces(json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "r", "value": {"doubleValue": "NaN"}}]},
        "scopeSpans": [{"scope": {"attributes": [{"key": "s", "value": {"doubleValue": "Infinity"}}]},
            "spans": [{"attributes": [{"key": "a", "value": {"kvlistValue": {"values": [
                {"key": "inner", "value": {"arrayValue": {"values": [{"doubleValue": 1}, {"doubleValue": "-Infinity"}]}}}]}}}],
                "events": [{"attributes": [{"key": "e", "value": {"doubleValue": "NaN"}}]}],
                "links": [{"attributes": [{"key": "l", "value": {"doubleValue": "NaN"}}]}]}]}]}]}))
    .unwrap();
    let rs = &req.resource_spans[0];
    assert!(nan(attr(&rs.resource.as_ref().unwrap().attributes, "r")));
    assert_eq!(attr(&rs.scope_spans[0].scope.as_ref().unwrap().attributes, "s"), &Av::DoubleValue(f64::INFINITY));
    let span = span_of(&req);
    let Av::KvlistValue(kv) = attr(&span.attributes, "a") else { panic!() };
    let Av::ArrayValue(arr) = attr(&kv.values, "inner") else { panic!() };
    assert_eq!(arr.values[0].value, Some(Av::DoubleValue(1.0)));
    assert_eq!(arr.values[1].value, Some(Av::DoubleValue(f64::NEG_INFINITY)));
    assert!(nan(attr(&span.events[0].attributes, "e")));
    assert!(nan(attr(&span.links[0].attributes, "l")));

    let req = logs(log_with(
        json!({"body": {"doubleValue": "NaN"}, "attributes": [{"key": "x", "value": {"doubleValue": "Infinity"}}]}),
    ))
    .unwrap();
    let log = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert!(matches!(log.body.as_ref().unwrap().value, Some(Av::DoubleValue(d)) if d.is_nan()));
    assert_eq!(attr(&log.attributes, "x"), &Av::DoubleValue(f64::INFINITY));

    let req = metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "g", "metadata": [{"key": "m", "value": {"doubleValue": "NaN"}}],
         "gauge": {"dataPoints": [{"asDouble": "NaN", "exemplars": [{"asDouble": "-Infinity"}]}]}},
        {"name": "h", "histogram": {"dataPoints": [{"sum": "NaN", "min": "-Infinity", "max": "Infinity", "explicitBounds": [1, "Infinity"]}]}},
        {"name": "e", "exponentialHistogram": {"dataPoints": [{"sum": "Infinity", "zeroThreshold": "NaN", "min": "NaN", "max": "NaN"}]}},
        {"name": "s", "summary": {"dataPoints": [{"sum": "NaN", "quantileValues": [{"quantile": 0.5, "value": "NaN"}]}]}}
    ]}]}]}))
    .unwrap();
    let ms = &req.resource_metrics[0].scope_metrics[0].metrics;
    assert!(nan(attr(&ms[0].metadata, "m")));
    let Some(Data::Gauge(g)) = &ms[0].data else { panic!() };
    assert!(matches!(g.data_points[0].value, Some(number_data_point::Value::AsDouble(d)) if d.is_nan()));
    assert_eq!(
        g.data_points[0].exemplars[0].value,
        Some(opentelemetry_proto::tonic::metrics::v1::exemplar::Value::AsDouble(f64::NEG_INFINITY))
    );
    let Some(Data::Histogram(h)) = &ms[1].data else { panic!() };
    let p = &h.data_points[0];
    assert!(p.sum.unwrap().is_nan());
    assert_eq!((p.min, p.max), (Some(f64::NEG_INFINITY), Some(f64::INFINITY)));
    assert_eq!(p.explicit_bounds, [1.0, f64::INFINITY]);
    let Some(Data::ExponentialHistogram(e)) = &ms[2].data else { panic!() };
    let p = &e.data_points[0];
    assert_eq!(p.sum, Some(f64::INFINITY));
    assert!(p.zero_threshold.is_nan() && p.min.unwrap().is_nan() && p.max.unwrap().is_nan());
    let Some(Data::Summary(s)) = &ms[3].data else { panic!() };
    assert!(s.data_points[0].sum.is_nan());
    assert!(s.data_points[0].quantile_values[0].value.is_nan());

    // Other non-numeric strings stay errors.
    let (path, _) = json_err(metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "g", "gauge": {"dataPoints": [{"asDouble": "inf"}]}}]}]}]})));
    assert!(path.ends_with("dataPoints[0].asDouble"), "{path}");
}

#[test]
fn partial_messages_get_their_defaults() {
    // EntityRef's stock struct has no serde(default): its absent fields are filled in.
    let req = metrics(json!({"resourceMetrics": [{"resource": {"entityRefs": [{"type": "service"}]}}]})).unwrap();
    let entity = &req.resource_metrics[0].resource.as_ref().unwrap().entity_refs[0];
    assert_eq!(entity.r#type, "service");
    assert!(entity.id_keys.is_empty() && entity.schema_url.is_empty());
    // A metric without data decodes (data: None) so that validation can drop just that metric.
    let req = metrics(json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "nodata"}, {"name": "g", "gauge": {"dataPoints": [{"asInt": 1, "timeUnixNano": "5"}]}}]}]}]}))
    .unwrap();
    assert_eq!(req.resource_metrics[0].scope_metrics[0].metrics[0].data, None);
    let v = crate::otlp::validate(req);
    assert_eq!((v.rejected, v.dropped_metrics), (0, 1));
    assert_eq!(crate::otlp::count_data_points(&v.request), 1);
}
