//! Export responses: full success, or partial success with the number of rejected items and a message, in
//! protobuf or OTLP/JSON form.

use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsPartialSuccess, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};
use prost::Message;
use serde_json::{Map, Value};

use super::Signal;

/// The outcome of an accepted export, as the receivers answer it (protobuf or JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportResponse {
    /// The signal of the request answered.
    pub signal: Signal,
    /// Items rejected (spans, log records or data points); 0 when all were accepted.
    pub rejected: i64,
    /// Why items were rejected (may also carry a warning with `rejected == 0`); empty on full success.
    pub message: String,
}

impl ExportResponse {
    /// A full success for `signal`.
    pub fn success(signal: Signal) -> ExportResponse {
        ExportResponse { signal, rejected: 0, message: String::new() }
    }

    /// True when there is nothing to report (OTLP: `partial_success` left unset).
    pub fn is_full_success(&self) -> bool {
        self.rejected == 0 && self.message.is_empty()
    }

    /// The trace service response message.
    pub fn traces(&self) -> ExportTraceServiceResponse {
        ExportTraceServiceResponse {
            partial_success: (!self.is_full_success()).then(|| ExportTracePartialSuccess {
                rejected_spans: self.rejected,
                error_message: self.message.clone(),
            }),
        }
    }

    /// The logs service response message.
    pub fn logs(&self) -> ExportLogsServiceResponse {
        ExportLogsServiceResponse {
            partial_success: (!self.is_full_success()).then(|| ExportLogsPartialSuccess {
                rejected_log_records: self.rejected,
                error_message: self.message.clone(),
            }),
        }
    }

    /// The metrics service response message.
    pub fn metrics(&self) -> ExportMetricsServiceResponse {
        ExportMetricsServiceResponse {
            partial_success: (!self.is_full_success()).then(|| ExportMetricsPartialSuccess {
                rejected_data_points: self.rejected,
                error_message: self.message.clone(),
            }),
        }
    }

    /// The response message of this signal, protobuf-encoded (for OTLP/HTTP with `application/x-protobuf`).
    pub fn to_protobuf(&self) -> Vec<u8> {
        match self.signal {
            Signal::Traces => self.traces().encode_to_vec(),
            Signal::Logs => self.logs().encode_to_vec(),
            Signal::Metrics => self.metrics().encode_to_vec(),
        }
    }

    /// The response in OTLP/JSON form (for OTLP/HTTP with `application/json`): `{}` on full success, else
    /// `partialSuccess` with the count as a decimal string (the OTLP form of 64-bit integers) and the message.
    pub fn to_json(&self) -> Vec<u8> {
        let mut root = Map::new();
        if !self.is_full_success() {
            let count_key = match self.signal {
                Signal::Traces => "rejectedSpans",
                Signal::Logs => "rejectedLogRecords",
                Signal::Metrics => "rejectedDataPoints",
            };
            let mut partial = Map::new();
            if self.rejected != 0 {
                partial.insert(count_key.into(), Value::String(self.rejected.to_string()));
            }
            if !self.message.is_empty() {
                partial.insert("errorMessage".into(), Value::String(self.message.clone()));
            }
            root.insert("partialSuccess".into(), Value::Object(partial));
        }
        Value::Object(root).to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_success_has_no_partial_success() {
        let r = ExportResponse::success(Signal::Traces);
        assert!(r.is_full_success());
        assert_eq!(r.traces().partial_success, None);
        assert!(r.to_protobuf().is_empty());
        assert_eq!(r.to_json(), b"{}");
    }

    #[test]
    fn partial_success_round_trips_protobuf() {
        let r = ExportResponse { signal: Signal::Metrics, rejected: 3, message: "data point 0 of metric 1 ...".into() };
        let decoded = ExportMetricsServiceResponse::decode(&r.to_protobuf()[..]).unwrap();
        let p = decoded.partial_success.unwrap();
        assert_eq!(p.rejected_data_points, 3);
        assert_eq!(p.error_message, "data point 0 of metric 1 ...");
        let logs = ExportResponse { signal: Signal::Logs, ..r.clone() };
        let decoded = ExportLogsServiceResponse::decode(&logs.to_protobuf()[..]).unwrap();
        assert_eq!(decoded.partial_success.unwrap().rejected_log_records, 3);
    }

    #[test]
    fn response_json_is_the_spec_form() {
        assert_eq!(ExportResponse::success(Signal::Logs).to_json(), b"{}");
        let r = ExportResponse {
            signal: Signal::Traces,
            rejected: 2,
            message: "span 0 of scope 0 of resource 0: trace_id must be 16 bytes, got 15".into(),
        };
        let v: serde_json::Value = serde_json::from_slice(&r.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"partialSuccess": {"rejectedSpans": "2",
                "errorMessage": "span 0 of scope 0 of resource 0: trace_id must be 16 bytes, got 15"}})
        );
        let logs = ExportResponse { signal: Signal::Logs, rejected: 1, message: String::new() };
        assert_eq!(logs.to_json(), br#"{"partialSuccess":{"rejectedLogRecords":"1"}}"#);
        let warn = ExportResponse { signal: Signal::Metrics, rejected: 0, message: "metric 0: no data".into() };
        assert_eq!(warn.to_json(), br#"{"partialSuccess":{"errorMessage":"metric 0: no data"}}"#);
        // The stock types read our response back (numbers-as-strings are valid protojson int64).
        let r = ExportResponse { signal: Signal::Metrics, rejected: 7, message: "x".into() };
        let v: serde_json::Value = serde_json::from_slice(&r.to_json()).unwrap();
        assert_eq!(v["partialSuccess"]["rejectedDataPoints"], "7");
    }
}
