//! The protobuf messages of Tempo's trace-by-id answers (`tempopb.TraceByIDResponse`, `tempopb.Trace`),
//! written for prost. Tempo's trace messages are OTLP's under another package name, so `Trace` is encoded
//! exactly like OTLP `TracesData` (field 1: repeated ResourceSpans).

use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

/// `tempopb.Trace`: the spans of one trace.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Trace {
    /// The spans, by resource and scope.
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

/// `tempopb.TraceByIDMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceByIdMetrics {
    /// Bytes read to answer.
    #[prost(uint64, tag = "1")]
    pub inspected_bytes: u64,
}

/// `tempopb.PartialStatus`: whether the trace is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PartialStatus {
    /// Every span found.
    Complete = 0,
    /// Cut short (Tempo's size limits); ollyscale always answers complete traces.
    Partial = 1,
}

/// `tempopb.TraceByIDResponse`, the answer of `/api/v2/traces/{id}`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceByIdResponse {
    /// The trace.
    #[prost(message, optional, tag = "1")]
    pub trace: Option<Trace>,
    /// Read statistics.
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<TraceByIdMetrics>,
    /// A [`PartialStatus`].
    #[prost(enumeration = "PartialStatus", tag = "3")]
    pub status: i32,
    /// Why the trace is partial.
    #[prost(string, tag = "4")]
    pub message: String,
}
