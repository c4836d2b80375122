//! What the decoder refuses, with the field path, and bounds: errors, not panics.

use super::*;

/// A log record whose body is a kvlist nested `depth` levels (1 = a plain string) in JSON.
fn deep_body(depth: usize) -> String {
    let mut v = r#"{"stringValue":"leaf"}"#.to_owned();
    for _ in 1..depth {
        v = format!(r#"{{"kvlistValue":{{"values":[{{"key":"k","value":{v}}}]}}}}"#);
    }
    format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{v}}}]}}]}}]}}"#)
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
