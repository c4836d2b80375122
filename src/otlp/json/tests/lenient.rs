//! What the decoder accepts beyond the stock deserializer: enum names, snake_case names, integers as
//! strings, either hex case, nulls, base64 variants, non-finite doubles, absent required fields.

use super::*;

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
