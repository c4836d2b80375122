//! Protobuf decoding of export requests, with errors that say what is wrong and where, and the AnyValue depth bound
//! shared with the JSON decoder.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use super::{OtlpRequest, Signal};

/// Deepest accepted nesting of AnyValue (an attribute's own value is level 1; each array or kvlist adds one).
///
/// Chosen below what both parsers allow in every position of every signal, so JSON and protobuf accept the same
/// requests and the error is ours: prost stops at 100 nested messages (a kvlist level costs 3: AnyValue,
/// KeyValueList, KeyValue; an exemplar attribute starts at message depth 9, so ~31 levels), serde_json at 128
/// nested JSON arrays/objects (4 per kvlist level, ~29 levels for exemplar attributes).
pub const MAX_ANY_VALUE_DEPTH: usize = 24;

/// Why a request body could not be decoded (one error type for the protobuf and JSON decoders).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The protobuf encoding is invalid (truncated, wrong wire type, invalid UTF-8, nested too deep...).
    #[error("invalid OTLP protobuf {signal} request{}: {reason}", at(path))]
    Protobuf {
        /// The signal of the expected request.
        signal: &'static str,
        /// Field path from the request root (protobuf field names), empty when unknown.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The body is not valid OTLP/JSON.
    #[error("invalid OTLP/JSON {signal} request{}: {reason}", at(path))]
    Json {
        /// The signal of the expected request.
        signal: &'static str,
        /// Field path from the request root (JSON names with indices), or the line and column.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An AnyValue (attribute value or log body) is nested deeper than [`MAX_ANY_VALUE_DEPTH`].
    #[error(
        "OTLP {signal} request: value nested deeper than {max} levels at {path}",
        max = MAX_ANY_VALUE_DEPTH
    )]
    TooDeep {
        /// The signal of the request.
        signal: &'static str,
        /// Where the too-deep value sits.
        path: String,
    },
}

fn at(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" at {path}") }
}

/// Decodes a protobuf export request and checks the AnyValue depth bound.
pub fn decode_protobuf<T: OtlpRequest>(bytes: &[u8]) -> Result<T, DecodeError> {
    let req = T::decode(bytes).map_err(|e| protobuf_error(T::SIGNAL, &e))?;
    req.check_depth()?;
    Ok(req)
}

/// Turns prost's error ("failed to decode Protobuf message: Span.name: ScopeSpans.spans: ...: reason", innermost
/// first) into a root-first field path and a reason with a hint for the common causes.
fn protobuf_error(signal: Signal, err: &prost::DecodeError) -> DecodeError {
    let text = err.to_string();
    let mut rest = text.strip_prefix("failed to decode Protobuf message: ").unwrap_or(&text);
    let mut fields = Vec::new();
    while let Some((head, tail)) = rest.split_once(": ") {
        let is_location = head.split_once('.').is_some_and(|(m, f)| {
            !m.is_empty()
                && !f.is_empty()
                && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if !is_location {
            break;
        }
        fields.push(head.split_once('.').map_or(head, |(_, f)| f));
        rest = tail;
    }
    fields.reverse();
    // A too-deep message would otherwise name ~100 fields.
    const KEEP_HEAD: usize = 8;
    const KEEP_TAIL: usize = 2;
    let path = if fields.len() > KEEP_HEAD + KEEP_TAIL + 1 {
        format!(
            "{}.({} more).{}",
            fields[..KEEP_HEAD].join("."),
            fields.len() - KEEP_HEAD - KEEP_TAIL,
            fields[fields.len() - KEEP_TAIL..].join(".")
        )
    } else {
        fields.join(".")
    };
    let hint = if rest.contains("buffer underflow") || rest.contains("delimited length exceeded") {
        " (the message is truncated or a length prefix is wrong)"
    } else if rest.contains("invalid wire type") {
        " (the body is not this protobuf message: was JSON sent as application/x-protobuf, or the wrong signal's message?)"
    } else if rest.contains("recursion limit") {
        " (messages nested more than 100 deep)"
    } else {
        ""
    };
    DecodeError::Protobuf { signal: signal.as_str(), path, reason: format!("{rest}{hint}") }
}

/// The AnyValue depth check, implemented for the three request types.
pub trait CheckDepth {
    /// Fails with [`DecodeError::TooDeep`] when any AnyValue is nested deeper than [`MAX_ANY_VALUE_DEPTH`].
    fn check_depth(&self) -> Result<(), DecodeError>;
}

/// Depth of an AnyValue (a scalar is 1), computed only as far as `limit + 1` so hostile input costs little.
fn depth_exceeds(value: &AnyValue, depth: usize) -> bool {
    if depth > MAX_ANY_VALUE_DEPTH {
        return true;
    }
    match &value.value {
        Some(Value::ArrayValue(a)) => a.values.iter().any(|v| depth_exceeds(v, depth + 1)),
        Some(Value::KvlistValue(kv)) => {
            kv.values.iter().any(|kv| kv.value.as_ref().is_some_and(|v| depth_exceeds(v, depth + 1)))
        }
        _ => false,
    }
}

fn check_attrs(signal: Signal, attrs: &[KeyValue], path: impl Fn() -> String) -> Result<(), DecodeError> {
    for (i, kv) in attrs.iter().enumerate() {
        if kv.value.as_ref().is_some_and(|v| depth_exceeds(v, 1)) {
            return Err(DecodeError::TooDeep {
                signal: signal.as_str(),
                path: format!("{}[{i}] (key {:?})", path(), kv.key),
            });
        }
    }
    Ok(())
}

fn check_resource_scope(
    signal: Signal,
    r: usize,
    resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>,
    s: usize,
    scope: Option<&opentelemetry_proto::tonic::common::v1::InstrumentationScope>,
    names: (&str, &str),
) -> Result<(), DecodeError> {
    if let Some(res) = resource {
        check_attrs(signal, &res.attributes, || format!("{}[{r}].resource.attributes", names.0))?;
    }
    if let Some(scope) = scope {
        check_attrs(signal, &scope.attributes, || format!("{}[{r}].{}[{s}].scope.attributes", names.0, names.1))?;
    }
    Ok(())
}

impl CheckDepth for ExportTraceServiceRequest {
    fn check_depth(&self) -> Result<(), DecodeError> {
        let sig = Signal::Traces;
        for (r, rs) in self.resource_spans.iter().enumerate() {
            if rs.scope_spans.is_empty() {
                check_resource_scope(sig, r, rs.resource.as_ref(), 0, None, ("resource_spans", ""))?;
            }
            for (s, ss) in rs.scope_spans.iter().enumerate() {
                let names = ("resource_spans", "scope_spans");
                check_resource_scope(sig, r, rs.resource.as_ref(), s, ss.scope.as_ref(), names)?;
                for (i, span) in ss.spans.iter().enumerate() {
                    let base = || format!("resource_spans[{r}].scope_spans[{s}].spans[{i}]");
                    check_attrs(sig, &span.attributes, || format!("{}.attributes", base()))?;
                    for (e, ev) in span.events.iter().enumerate() {
                        check_attrs(sig, &ev.attributes, || format!("{}.events[{e}].attributes", base()))?;
                    }
                    for (l, link) in span.links.iter().enumerate() {
                        check_attrs(sig, &link.attributes, || format!("{}.links[{l}].attributes", base()))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl CheckDepth for ExportLogsServiceRequest {
    fn check_depth(&self) -> Result<(), DecodeError> {
        let sig = Signal::Logs;
        for (r, rl) in self.resource_logs.iter().enumerate() {
            if rl.scope_logs.is_empty() {
                check_resource_scope(sig, r, rl.resource.as_ref(), 0, None, ("resource_logs", ""))?;
            }
            for (s, sl) in rl.scope_logs.iter().enumerate() {
                let names = ("resource_logs", "scope_logs");
                check_resource_scope(sig, r, rl.resource.as_ref(), s, sl.scope.as_ref(), names)?;
                for (i, log) in sl.log_records.iter().enumerate() {
                    let base = || format!("resource_logs[{r}].scope_logs[{s}].log_records[{i}]");
                    if log.body.as_ref().is_some_and(|b| depth_exceeds(b, 1)) {
                        return Err(DecodeError::TooDeep { signal: sig.as_str(), path: format!("{}.body", base()) });
                    }
                    check_attrs(sig, &log.attributes, || format!("{}.attributes", base()))?;
                }
            }
        }
        Ok(())
    }
}

impl CheckDepth for ExportMetricsServiceRequest {
    fn check_depth(&self) -> Result<(), DecodeError> {
        let sig = Signal::Metrics;
        for (r, rm) in self.resource_metrics.iter().enumerate() {
            if rm.scope_metrics.is_empty() {
                check_resource_scope(sig, r, rm.resource.as_ref(), 0, None, ("resource_metrics", ""))?;
            }
            for (s, sm) in rm.scope_metrics.iter().enumerate() {
                let names = ("resource_metrics", "scope_metrics");
                check_resource_scope(sig, r, rm.resource.as_ref(), s, sm.scope.as_ref(), names)?;
                for (m, metric) in sm.metrics.iter().enumerate() {
                    let base = || format!("resource_metrics[{r}].scope_metrics[{s}].metrics[{m}]");
                    check_attrs(sig, &metric.metadata, || format!("{}.metadata", base()))?;
                    // (attributes, exemplars' filtered attributes) of every data point, whatever its type.
                    let points: Vec<(&[KeyValue], Vec<&[KeyValue]>)> = match &metric.data {
                        Some(Data::Gauge(g)) => number_points(&g.data_points),
                        Some(Data::Sum(g)) => number_points(&g.data_points),
                        Some(Data::Histogram(h)) => {
                            h.data_points.iter().map(|p| (&p.attributes[..], exemplar_attrs(&p.exemplars))).collect()
                        }
                        Some(Data::ExponentialHistogram(h)) => {
                            h.data_points.iter().map(|p| (&p.attributes[..], exemplar_attrs(&p.exemplars))).collect()
                        }
                        Some(Data::Summary(h)) => {
                            h.data_points.iter().map(|p| (&p.attributes[..], Vec::new())).collect()
                        }
                        None => Vec::new(),
                    };
                    for (p, (attrs, exemplars)) in points.iter().enumerate() {
                        check_attrs(sig, attrs, || format!("{}.data_points[{p}].attributes", base()))?;
                        for (x, ex) in exemplars.iter().enumerate() {
                            check_attrs(sig, ex, || {
                                format!("{}.data_points[{p}].exemplars[{x}].filtered_attributes", base())
                            })?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn number_points(
    points: &[opentelemetry_proto::tonic::metrics::v1::NumberDataPoint],
) -> Vec<(&[KeyValue], Vec<&[KeyValue]>)> {
    points.iter().map(|p| (&p.attributes[..], exemplar_attrs(&p.exemplars))).collect()
}

fn exemplar_attrs(exemplars: &[opentelemetry_proto::tonic::metrics::v1::Exemplar]) -> Vec<&[KeyValue]> {
    exemplars.iter().map(|e| &e.filtered_attributes[..]).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    /// A small valid trace request used by several tests.
    pub(crate) fn sample_traces() -> ExportTraceServiceRequest {
        let span = |name: &str, id: u8| Span {
            trace_id: vec![0xab; 16],
            span_id: vec![id; 8],
            name: name.into(),
            kind: 2,
            start_time_unix_nano: 1_764_172_800_000_000_000,
            end_time_unix_nano: 1_764_172_800_000_001_500,
            attributes: vec![KeyValue {
                key: "http.method".into(),
                value: Some(AnyValue { value: Some(Value::StringValue("GET".into())) }),
                key_strindex: 0,
            }],
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span("a", 1), span("b", 2), span("c", 3)],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    /// A kvlist value nested `depth` levels deep (depth 1 = a plain string).
    pub(crate) fn nested_kvlist(depth: usize) -> AnyValue {
        let mut v = AnyValue { value: Some(Value::StringValue("leaf".into())) };
        for _ in 1..depth {
            v = AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![KeyValue { key: "k".into(), value: Some(v), key_strindex: 0 }],
                })),
            };
        }
        v
    }

    fn nested_array(depth: usize) -> AnyValue {
        let mut v = AnyValue { value: Some(Value::IntValue(7)) };
        for _ in 1..depth {
            v = AnyValue { value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })) };
        }
        v
    }

    fn logs_with_body(body: AnyValue) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord { body: Some(body), ..Default::default() }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn valid_request_round_trips() {
        let req = sample_traces();
        let bytes = req.encode_to_vec();
        let got: ExportTraceServiceRequest = decode_protobuf(&bytes).unwrap();
        assert_eq!(got, req);
        assert_eq!(got.resource_spans[0].scope_spans[0].spans[1].name, "b");
        let empty: ExportLogsServiceRequest = decode_protobuf(&[]).unwrap();
        assert!(empty.resource_logs.is_empty());
    }

    #[test]
    fn truncated_protobuf_says_so() {
        let bytes = sample_traces().encode_to_vec();
        let err = decode_protobuf::<ExportTraceServiceRequest>(&bytes[..bytes.len() - 3]).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DecodeError::Protobuf { .. }), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        assert!(msg.starts_with("invalid OTLP protobuf traces request"), "{msg}");
    }

    #[test]
    fn wrong_wire_type_names_the_field() {
        // Field 1 (resource_spans) with wire type 0 (varint) instead of 2 (length-delimited).
        let err = decode_protobuf::<ExportTraceServiceRequest>(&[0x08, 0x01]).unwrap_err();
        match &err {
            DecodeError::Protobuf { path, reason, .. } => {
                assert_eq!(path, "resource_spans");
                assert!(reason.contains("invalid wire type"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // A JSON body sent as protobuf.
        let err = decode_protobuf::<ExportTraceServiceRequest>(br#"{"resourceSpans":[]}"#).unwrap_err();
        assert!(matches!(err, DecodeError::Protobuf { .. }), "{err}");
    }

    #[test]
    fn invalid_utf8_names_the_field_path() {
        let mut req = sample_traces();
        req.resource_spans[0].scope_spans[0].spans[2].name = "XXXX".into();
        let mut bytes = req.encode_to_vec();
        let pos = bytes.windows(4).position(|w| w == b"XXXX").unwrap();
        bytes[pos + 1] = 0xff;
        let err = decode_protobuf::<ExportTraceServiceRequest>(&bytes).unwrap_err();
        match &err {
            DecodeError::Protobuf { path, reason, .. } => {
                assert_eq!(path, "resource_spans.scope_spans.spans.name");
                assert!(reason.contains("UTF-8"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "invalid OTLP protobuf traces request at resource_spans.scope_spans.spans.name: invalid string value: data is not UTF-8 encoded"
        );
    }

    #[test]
    fn depth_bound_is_enforced_exactly() {
        let ok = logs_with_body(nested_kvlist(MAX_ANY_VALUE_DEPTH));
        let got: ExportLogsServiceRequest = decode_protobuf(&ok.encode_to_vec()).unwrap();
        assert_eq!(got, ok);
        let ok = logs_with_body(nested_array(MAX_ANY_VALUE_DEPTH));
        decode_protobuf::<ExportLogsServiceRequest>(&ok.encode_to_vec()).unwrap();

        let deep = logs_with_body(nested_kvlist(MAX_ANY_VALUE_DEPTH + 1));
        let err = decode_protobuf::<ExportLogsServiceRequest>(&deep.encode_to_vec()).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooDeep { signal: "logs", path: "resource_logs[0].scope_logs[0].log_records[0].body".into() }
        );
        let deep = logs_with_body(nested_array(MAX_ANY_VALUE_DEPTH + 1));
        assert!(decode_protobuf::<ExportLogsServiceRequest>(&deep.encode_to_vec()).is_err());

        let mut traces = sample_traces();
        traces.resource_spans[0].scope_spans[0].spans[1].attributes[0].value =
            Some(nested_kvlist(MAX_ANY_VALUE_DEPTH + 1));
        let err = decode_protobuf::<ExportTraceServiceRequest>(&traces.encode_to_vec()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "OTLP traces request: value nested deeper than {MAX_ANY_VALUE_DEPTH} levels at resource_spans[0].scope_spans[0].spans[1].attributes[0] (key \"http.method\")"
            )
        );
    }

    /// Hand-encodes a 10,000-deep kvlist as a log body: too deep for the tree types to build safely, so only bytes.
    pub(crate) fn deep_kvlist_log_bytes(depth: usize) -> Vec<u8> {
        fn len_delim(tag: u8, inner: &[u8]) -> Vec<u8> {
            let mut out = vec![(tag << 3) | 2];
            prost::encoding::encode_varint(inner.len() as u64, &mut out);
            out.extend_from_slice(inner);
            out
        }
        // AnyValue{string_value:"x"}
        let mut any = len_delim(1, b"x");
        for _ in 1..depth {
            let mut kv = len_delim(1, b"k"); // KeyValue.key
            kv.extend(len_delim(2, &any)); // KeyValue.value
            let kvlist = len_delim(1, &kv); // KeyValueList.values
            any = len_delim(6, &kvlist); // AnyValue.kvlist_value
        }
        let log = len_delim(5, &any); // LogRecord.body
        let scope_logs = len_delim(2, &log); // ScopeLogs.log_records
        let resource_logs = len_delim(2, &scope_logs); // ResourceLogs.scope_logs
        len_delim(1, &resource_logs) // ExportLogsServiceRequest.resource_logs
    }

    #[test]
    fn ten_thousand_deep_kvlist_is_a_clean_error() {
        let bytes = deep_kvlist_log_bytes(10_000);
        let err = decode_protobuf::<ExportLogsServiceRequest>(&bytes).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("recursion limit") && msg.contains("nested"), "{msg}");
        // Just past our bound but within prost's: our own error.
        let bytes = deep_kvlist_log_bytes(MAX_ANY_VALUE_DEPTH + 1);
        let err = decode_protobuf::<ExportLogsServiceRequest>(&bytes).unwrap_err();
        assert!(matches!(err, DecodeError::TooDeep { .. }), "{err}");
        let bytes = deep_kvlist_log_bytes(MAX_ANY_VALUE_DEPTH);
        decode_protobuf::<ExportLogsServiceRequest>(&bytes).unwrap();
    }

    #[test]
    fn bound_is_below_prost_limit_in_the_deepest_position() {
        use opentelemetry_proto::tonic::metrics::v1::{
            Exemplar, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
        };
        // Exemplar filtered attributes are the deepest AnyValue position in OTLP.
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "m".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                exemplars: vec![Exemplar {
                                    filtered_attributes: vec![KeyValue {
                                        key: "deep".into(),
                                        value: Some(nested_kvlist(MAX_ANY_VALUE_DEPTH)),
                                        key_strindex: 0,
                                    }],
                                    ..Default::default()
                                }],
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let got: ExportMetricsServiceRequest = decode_protobuf(&req.encode_to_vec()).unwrap();
        assert_eq!(got, req);
    }

    #[test]
    fn random_and_truncated_bytes_never_panic() {
        let mut seeds = vec![sample_traces().encode_to_vec(), deep_kvlist_log_bytes(40)];
        seeds.push(logs_with_body(nested_array(10)).encode_to_vec());
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for seed in &seeds {
            for cut in 0..seed.len() {
                let _ = decode_protobuf::<ExportTraceServiceRequest>(&seed[..cut]);
                let _ = decode_protobuf::<ExportLogsServiceRequest>(&seed[..cut]);
                let _ = decode_protobuf::<ExportMetricsServiceRequest>(&seed[..cut]);
            }
            for _ in 0..2000 {
                let mut b = seed.clone();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
                let _ = decode_protobuf::<ExportTraceServiceRequest>(&b);
                let _ = decode_protobuf::<ExportLogsServiceRequest>(&b);
                let _ = decode_protobuf::<ExportMetricsServiceRequest>(&b);
            }
        }
        for len in 0..3000 {
            let b: Vec<u8> = (0..len % 300).map(|_| next() as u8).collect();
            let _ = decode_protobuf::<ExportTraceServiceRequest>(&b);
            let _ = decode_protobuf::<ExportLogsServiceRequest>(&b);
            let _ = decode_protobuf::<ExportMetricsServiceRequest>(&b);
        }
    }
}
