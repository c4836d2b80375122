//! OTLP helpers for tests: the spec's example payloads, building requests, reading back the WAL.

use std::path::Path;

use ollyscale::schema::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

/// The OTLP specification's example JSON request for `name` (trace, logs, metrics, events), as copied
/// unchanged into tests/data/otlp/ from ../shared/otlp-examples.
pub fn example(name: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/otlp");
    std::fs::read(root.join(format!("{name}.json"))).expect("the OTLP example payloads in tests/data/otlp")
}

/// A string attribute.
pub fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(Value::StringValue(value.into())) }),
        ..Default::default()
    }
}

/// A valid trace request with `n` spans named `{marker}-{i}` under one resource.
pub fn traces(marker: &str, n: usize) -> ExportTraceServiceRequest {
    let now = ollyscale::time::now_unix_nanos();
    let spans = (0..n)
        .map(|i| Span {
            trace_id: {
                let mut id = [7u8; 16];
                id[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                id.to_vec()
            },
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("{marker}-{i}"),
            kind: 2,
            start_time_unix_nano: now,
            end_time_unix_nano: now + 1_000_000,
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", "it")], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            schema_url: String::new(),
        }],
    }
}

/// Every record in the WAL at `dir` (the server must be stopped).
pub fn wal_records(data_dir: &Path) -> Vec<wal::Record> {
    let wal = wal::Wal::open(data_dir.join("wal"), wal::WalOptions::default()).expect("open the WAL");
    let mut out = Vec::new();
    let mut next = wal.stats().unwrap().first_seq.unwrap_or(1);
    loop {
        let batch = wal.read_from(next, 1000, 64 << 20).expect("read the WAL");
        let Some(last) = batch.last() else { break };
        next = last.seq + 1;
        out.extend(batch);
    }
    wal.close();
    out
}

/// Span names in the trace records.
pub fn span_names(records: &[wal::Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.kind == Signal::Traces.wal_kind())
        .flat_map(|r| {
            let req = ExportTraceServiceRequest::decode(&r.payload[..]).expect("WAL payload decodes");
            req.resource_spans
                .into_iter()
                .flat_map(|rs| rs.scope_spans)
                .flat_map(|ss| ss.spans)
                .map(|s| s.name)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Number of log records in the WAL's log records.
pub fn log_count(records: &[wal::Record]) -> usize {
    records
        .iter()
        .filter(|r| r.kind == Signal::Logs.wal_kind())
        .map(|r| {
            let req = ExportLogsServiceRequest::decode(&r.payload[..]).unwrap();
            req.resource_logs.iter().flat_map(|r| &r.scope_logs).map(|s| s.log_records.len()).sum::<usize>()
        })
        .sum()
}

/// Names of the metrics in the WAL's metric records.
pub fn metric_names(records: &[wal::Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.kind == Signal::Metrics.wal_kind())
        .flat_map(|r| {
            let req = ExportMetricsServiceRequest::decode(&r.payload[..]).unwrap();
            req.resource_metrics
                .into_iter()
                .flat_map(|r| r.scope_metrics)
                .flat_map(|s| s.metrics)
                .map(|m| m.name)
                .collect::<Vec<_>>()
        })
        .collect()
}
