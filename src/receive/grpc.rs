//! OTLP/gRPC on 4317: the Trace, Logs and Metrics services' `Export`, plus the standard health service.
//!
//! The services are written against tonic's generic server with a bytes codec instead of the generated
//! prost ones, so that the request arrives as the bytes the client sent (after gzip/zstd decompression):
//! those bytes go to the WAL unchanged when validation drops nothing, with no decode-encode round trip.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tonic::body::Body;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::{ExportError, Exportable, Format, Receiver, encode_response};

/// Passes message bytes through: requests are decoded by the receiver, responses arrive encoded.
#[derive(Clone, Copy, Default)]
pub struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;
    fn encoder(&mut self) -> Self::Encoder {
        *self
    }
    fn decoder(&mut self) -> Self::Decoder {
        *self
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// The `Export` method of one OTLP service, for request type `T`.
pub struct ExportService<T> {
    receiver: Arc<Receiver>,
    max_message_size: usize,
    request: PhantomData<fn() -> T>,
}

impl<T> Clone for ExportService<T> {
    fn clone(&self) -> Self {
        ExportService { receiver: self.receiver.clone(), max_message_size: self.max_message_size, request: PhantomData }
    }
}

impl<T> ExportService<T> {
    /// A service answering `Export` calls through `receiver`, refusing messages above `max_message_size`
    /// bytes after decompression.
    pub fn new(receiver: Arc<Receiver>, max_message_size: usize) -> Self {
        ExportService { receiver, max_message_size, request: PhantomData }
    }
}

impl NamedService for ExportService<ExportTraceServiceRequest> {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}
impl NamedService for ExportService<ExportLogsServiceRequest> {
    const NAME: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
}
impl NamedService for ExportService<ExportMetricsServiceRequest> {
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
}

/// One call of `Export`.
struct ExportCall<T> {
    receiver: Arc<Receiver>,
    request: PhantomData<fn() -> T>,
}

impl<T: Exportable> UnaryService<Bytes> for ExportCall<T> {
    type Response = Bytes;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let receiver = self.receiver.clone();
        Box::pin(async move {
            let authorization = request.metadata().get("authorization").and_then(|v| v.to_str().ok());
            if !receiver.authorized(authorization) {
                return Err(status(ExportError::Unauthenticated));
            }
            let accepted = receiver.export::<T>(request.into_inner(), Format::Protobuf).await.map_err(status)?;
            Ok(tonic::Response::new(encode_response(&accepted, Format::Protobuf)))
        })
    }
}

/// The gRPC form of an export error: the OTLP retryable ones carry RetryInfo, as clients require it
/// to retry rather than drop.
pub fn status(err: ExportError) -> Status {
    let message = err.to_string();
    match err {
        ExportError::Invalid(_) => Status::new(Code::InvalidArgument, message),
        ExportError::Unauthenticated => Status::new(Code::Unauthenticated, message),
        ExportError::TooLarge { .. } => Status::new(Code::InvalidArgument, message),
        ExportError::Unavailable { retry_after, .. } => {
            Status::with_error_details(Code::Unavailable, message, ErrorDetails::with_retry_info(Some(retry_after)))
        }
    }
}

impl<T, B> tower::Service<http::Request<B>> for ExportService<T>
where
    T: Exportable,
    ExportService<T>: NamedService,
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let receiver = self.receiver.clone();
        let max = self.max_message_size;
        Box::pin(async move {
            if !req.uri().path().ends_with("/Export") {
                return Ok(Status::unimplemented("only Export is served").into_http());
            }
            let mut accept = EnabledCompressionEncodings::default();
            accept.enable(CompressionEncoding::Gzip);
            accept.enable(CompressionEncoding::Zstd);
            let mut grpc = Grpc::new(BytesCodec)
                .apply_compression_config(accept, EnabledCompressionEncodings::default())
                .apply_max_message_size_config(Some(max), None);
            let call = ExportCall::<T> { receiver, request: PhantomData };
            Ok(grpc.unary(call, req).await)
        })
    }
}
