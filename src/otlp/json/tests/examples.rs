//! The specification's example requests: decoded, and the same as with the stock deserializer and protobuf.

use super::*;

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
