//! The OTLP receivers: gRPC ([`grpc`]) and HTTP ([`http`], with [`tls`] and [`decompress`]) front ends over one
//! [`Receiver`], which decodes, validates and appends to the WAL, answering only once the append is durable.

pub mod decompress;
pub mod grpc;
pub mod http;
pub mod tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::auth::BearerToken;
use crate::otlp::decode::CheckDepth;
use crate::otlp::response::ExportResponse;
use crate::otlp::validate::Validate;
use crate::otlp::{self, OtlpRequest};
use crate::telemetry::Telemetry;

/// How a request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Binary protobuf (gRPC, or `application/x-protobuf`).
    Protobuf,
    /// OTLP/JSON (`application/json`).
    Json,
}

/// Why an export was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The request cannot be decoded (never retried by clients).
    #[error("{0}")]
    Invalid(String),
    /// A bearer token is required and was missing or wrong.
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    /// The body exceeds the configured limit after decompression.
    #[error("request body exceeds the limit of {limit} bytes after decompression")]
    TooLarge {
        /// The limit, bytes.
        limit: usize,
    },
    /// Nothing was stored; the client should retry after the delay.
    #[error("{message}")]
    Unavailable {
        /// What went wrong.
        message: String,
        /// When to retry.
        retry_after: Duration,
    },
}

/// An OTLP export request type the receivers accept.
pub trait Exportable: OtlpRequest + CheckDepth + Validate + Send + 'static {}

impl<T: OtlpRequest + CheckDepth + Validate + Send + 'static> Exportable for T {}

/// The response to an accepted export, in the request's encoding.
pub fn encode_response(response: &ExportResponse, format: Format) -> Bytes {
    match format {
        Format::Protobuf => Bytes::from(response.to_protobuf()),
        Format::Json => Bytes::from(response.to_json()),
    }
}

/// The shared front of both receivers.
pub struct Receiver {
    wal: Arc<wal::Wal>,
    telemetry: Arc<Telemetry>,
    auth: BearerToken,
}

/// How long a client is asked to wait when the WAL is over budget.
const RETRY_AFTER: Duration = Duration::from_secs(5);

impl Receiver {
    /// A receiver appending to `wal`; with `auth_token`, requests must carry `Authorization: Bearer <token>`.
    pub fn new(wal: Arc<wal::Wal>, telemetry: Arc<Telemetry>, auth_token: Option<&str>) -> Self {
        Receiver { wal, telemetry, auth: BearerToken::new(auth_token) }
    }

    /// Whether a request with this `Authorization` header value may export.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        self.auth.allows(authorization)
    }

    /// Decodes and validates `body`, appends what is valid to the WAL, and returns once it is durable.
    pub async fn export<T: Exportable>(&self, body: Bytes, format: Format) -> Result<ExportResponse, ExportError> {
        let signal = T::SIGNAL;
        let request: T = match format {
            Format::Protobuf => otlp::decode_protobuf(&body),
            Format::Json => otlp::json::decode_json(&body),
        }
        .map_err(|e| ExportError::Invalid(e.to_string()))?;
        let started = Instant::now();
        let received = request.item_count() as u64;
        self.telemetry.received.add(signal, received);
        let validated = request.validate();
        let accepted = validated.response();
        self.telemetry.rejected.add(signal, validated.rejected as u64);
        let kept = validated.request.item_count() as u64;
        if kept == 0 {
            // Nothing valid (or an empty request): nothing to make durable, and OTLP says empty succeeds.
            return Ok(accepted);
        }
        // The bytes as received go to the WAL unless validation dropped something or they are JSON.
        let payload = if format == Format::Protobuf && !validated.changed {
            body
        } else {
            Bytes::from(validated.request.encode_to_vec())
        };
        let received_at = crate::time::now_unix_nanos();
        match self.wal.append(signal.wal_kind(), received_at, &payload).await {
            Ok(_seq) => {
                self.telemetry.accepted.add(signal, kept);
                self.telemetry.ack_latency.observe(started.elapsed());
                Ok(accepted)
            }
            Err(wal::WalError::OverBudget { used, budget }) => {
                self.telemetry.pushed_back.add(signal, 1);
                Err(ExportError::Unavailable {
                    message: format!("write-ahead log is full ({used} of {budget} bytes); retry later"),
                    retry_after: RETRY_AFTER,
                })
            }
            Err(e) => {
                self.telemetry.pushed_back.add(signal, 1);
                tracing::error!(error = %e, "WAL append failed");
                Err(ExportError::Unavailable {
                    message: format!("write-ahead log append failed: {e}"),
                    retry_after: RETRY_AFTER,
                })
            }
        }
    }
}
