//! Unit tests of the lenient OTLP/JSON decoder; this file holds the helpers they share.

mod errors;
mod examples;
mod lenient;

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
