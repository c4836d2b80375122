//! OTLP request handling shared by the receivers: decoding (protobuf and lenient JSON), per-item validation,
//! item counting and export responses. Pure functions, no I/O.

pub mod decode;
pub mod items;
pub mod json;
pub mod response;
pub mod storable;
pub mod validate;

pub use decode::{DecodeError, MAX_ANY_VALUE_DEPTH, decode_protobuf};
pub use json::decode_json;
pub use response::ExportResponse;
pub use validate::{Validated, validate};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

/// The three OTLP signals (the WAL's record tag, used throughout).
pub use crate::schema::Signal;

/// The common interface of the three export request types.
pub trait OtlpRequest:
    prost::Message
    + Default
    + Clone
    + PartialEq
    + serde::de::DeserializeOwned
    + decode::CheckDepth
    + json::SetDouble
    + validate::Validate
{
    /// Which signal this request carries.
    const SIGNAL: Signal;

    /// Number of items (spans, log records or data points) in the request.
    fn item_count(&self) -> usize;
}

impl OtlpRequest for ExportTraceServiceRequest {
    const SIGNAL: Signal = Signal::Traces;
    fn item_count(&self) -> usize {
        count_spans(self)
    }
}

impl OtlpRequest for ExportLogsServiceRequest {
    const SIGNAL: Signal = Signal::Logs;
    fn item_count(&self) -> usize {
        count_log_records(self)
    }
}

impl OtlpRequest for ExportMetricsServiceRequest {
    const SIGNAL: Signal = Signal::Metrics;
    fn item_count(&self) -> usize {
        count_data_points(self)
    }
}

/// Number of spans in a trace export request.
pub fn count_spans(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum()
}

/// Number of log records in a logs export request.
pub fn count_log_records(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs.iter().flat_map(|r| &r.scope_logs).map(|s| s.log_records.len()).sum()
}

/// Number of data points of one metric (0 when it has no data).
pub fn metric_data_points(data: Option<&Data>) -> usize {
    match data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

/// Number of data points in a metrics export request (a metric without data counts as none).
pub fn count_data_points(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| metric_data_points(m.data.as_ref()))
        .sum()
}

/// Number of metrics in a metrics export request.
pub fn count_metrics(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics.iter().flat_map(|r| &r.scope_metrics).map(|s| s.metrics.len()).sum()
}
