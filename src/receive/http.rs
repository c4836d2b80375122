//! OTLP/HTTP on 4318: `POST /v1/traces`, `/v1/logs`, `/v1/metrics`, protobuf or JSON, as the OTLP
//! specification and the OTel Collector define it.
//!
//! The body limit is enforced twice: on the bytes received and on the bytes after decompression, so that
//! a small gzip bomb is refused with 413 after reading at most the limit plus one byte.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::decompress::DecompressError;
use super::{ExportError, Exportable, Format, Receiver, encode_response};

/// What the HTTP handlers share.
#[derive(Clone)]
struct HttpState {
    receiver: Arc<Receiver>,
    max_body: usize,
}

/// The OTLP/HTTP router; other methods on these paths get 405 from the router itself.
pub fn router(receiver: Arc<Receiver>, max_body: usize) -> Router {
    Router::new()
        .route("/v1/traces", post(export::<ExportTraceServiceRequest>))
        .route("/v1/logs", post(export::<ExportLogsServiceRequest>))
        .route("/v1/metrics", post(export::<ExportMetricsServiceRequest>))
        .layer(DefaultBodyLimit::disable())
        .with_state(HttpState { receiver, max_body })
}

/// An error answer: a `google.rpc.Status` in the request's encoding, as OTLP/HTTP requires.
struct Failure {
    status: StatusCode,
    format: Format,
    message: String,
    retry_after_secs: Option<u64>,
}

impl Failure {
    fn new(status: StatusCode, format: Format, message: impl Into<String>) -> Self {
        Failure { status, format, message: message.into(), retry_after_secs: None }
    }

    fn from_export(err: ExportError, format: Format) -> Self {
        let message = err.to_string();
        match err {
            ExportError::Invalid(_) => Failure::new(StatusCode::BAD_REQUEST, format, message),
            ExportError::Unauthenticated => Failure::new(StatusCode::UNAUTHORIZED, format, message),
            ExportError::TooLarge { .. } => Failure::new(StatusCode::PAYLOAD_TOO_LARGE, format, message),
            ExportError::Unavailable { retry_after, .. } => Failure {
                retry_after_secs: Some(retry_after.as_secs().max(1)),
                ..Failure::new(StatusCode::SERVICE_UNAVAILABLE, format, message)
            },
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        // google.rpc.Code values matching the HTTP status, for clients that read the body.
        let code = match self.status {
            StatusCode::BAD_REQUEST => tonic::Code::InvalidArgument,
            StatusCode::UNAUTHORIZED => tonic::Code::Unauthenticated,
            StatusCode::PAYLOAD_TOO_LARGE => tonic::Code::ResourceExhausted,
            StatusCode::SERVICE_UNAVAILABLE => tonic::Code::Unavailable,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => tonic::Code::InvalidArgument,
            _ => tonic::Code::Internal,
        } as i32;
        let (content_type, body) = match self.format {
            Format::Protobuf => {
                let status = tonic_types::Status { code, message: self.message, details: vec![] };
                ("application/x-protobuf", Bytes::from(status.encode_to_vec()))
            }
            Format::Json => {
                let status = serde_json::json!({ "code": code, "message": self.message });
                ("application/json", Bytes::from(status.to_string()))
            }
        };
        let mut response = (self.status, [(header::CONTENT_TYPE, content_type)], body).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The request's encoding from its Content-Type (parameters such as charset are ignored).
fn format_of(headers: &HeaderMap) -> Result<Format, Failure> {
    let raw = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Format::Protobuf),
        "application/json" => Ok(Format::Json),
        _ => Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Format::Json,
            format!("unsupported Content-Type `{raw}`; use application/x-protobuf or application/json"),
        )),
    }
}

/// Decompresses `body` per Content-Encoding, mapping refusals to their HTTP answers.
fn decompress(headers: &HeaderMap, body: Bytes, max: usize, format: Format) -> Result<Bytes, Failure> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    super::decompress::decompress(encoding, body, max).map_err(|e| match e {
        DecompressError::Unsupported(_) => Failure::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format, e.to_string()),
        DecompressError::Invalid { .. } => Failure::new(StatusCode::BAD_REQUEST, format, e.to_string()),
        DecompressError::TooLarge { limit } => Failure::from_export(ExportError::TooLarge { limit }, format),
    })
}

async fn export<T: Exportable>(State(state): State<HttpState>, headers: HeaderMap, body: Body) -> Response {
    match handle::<T>(&state, &headers, body).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    }
}

async fn handle<T: Exportable>(state: &HttpState, headers: &HeaderMap, body: Body) -> Result<Response, Failure> {
    let format = format_of(headers)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !state.receiver.authorized(authorization) {
        return Err(Failure::from_export(ExportError::Unauthenticated, format));
    }
    let raw = axum::body::to_bytes(body, state.max_body)
        .await
        .map_err(|_| Failure::from_export(ExportError::TooLarge { limit: state.max_body }, format))?;
    let plain = decompress(headers, raw, state.max_body, format)?;
    let accepted = state.receiver.export::<T>(plain, format).await.map_err(|e| Failure::from_export(e, format))?;
    let content_type = match format {
        Format::Protobuf => "application/x-protobuf",
        Format::Json => "application/json",
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], encode_response(&accepted, format)).into_response())
}
