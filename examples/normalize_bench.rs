//! Throughput of `normalize::prepare` + `normalize::encode` on realistic spans (10 attributes each).
//! Run by hand: `cargo run --release --example normalize_bench -- [requests] [spans_per_request]`.

use ollyscale::normalize::{self, FactIds, Ids, Promotion};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use std::time::Instant;

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

fn request(seed: u64, spans: usize) -> ExportTraceServiceRequest {
    let t0 = 1_764_172_800_000_000_000u64 + seed * 1_000_000;
    let spans = (0..spans as u64)
        .map(|i| Span {
            trace_id: (seed * 1_000_003 + i / 8).to_be_bytes().repeat(2),
            span_id: (seed * 1_000_003 + i).to_be_bytes().to_vec(),
            parent_span_id: if i % 8 == 0 { vec![] } else { (seed * 1_000_003 + i - 1).to_be_bytes().to_vec() },
            name: format!("GET /api/items/{}", i % 20),
            kind: 2,
            start_time_unix_nano: t0 + i * 1_000,
            end_time_unix_nano: t0 + i * 1_000 + 250_000,
            attributes: vec![
                kv("http.request.method", Value::StringValue("GET".into())),
                kv("http.route", Value::StringValue(format!("/api/items/{}", i % 20))),
                kv("http.response.status_code", Value::IntValue(200 + (i % 3) as i64)),
                kv("url.path", Value::StringValue(format!("/api/items/{i}"))),
                kv("server.address", Value::StringValue("shop.example.com".into())),
                kv("server.port", Value::IntValue(443)),
                kv("network.protocol.version", Value::StringValue("1.1".into())),
                kv("user_agent.original", Value::StringValue("Mozilla/5.0 (X11; Linux x86_64)".into())),
                kv("app.user_id", Value::StringValue(format!("user-{}", i % 1000))),
                kv("app.cache_hit", Value::BoolValue(i % 2 == 0)),
            ],
            status: Some(Status { code: if i % 50 == 0 { 2 } else { 0 }, message: String::new() }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", Value::StringValue("checkout".into())),
                    kv("service.version", Value::StringValue("1.4.2".into())),
                    kv("deployment.environment.name", Value::StringValue("prod".into())),
                    kv("host.name", Value::StringValue(format!("node-{}", seed % 4))),
                    kv("telemetry.sdk.language", Value::StringValue("rust".into())),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "axum".into(), version: "0.8".into(), ..Default::default() }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let requests: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_request: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(512);
    let records: Vec<wal::Record> = (0..requests)
        .map(|seq| wal::Record {
            seq,
            kind: ollyscale::schema::Signal::Traces.wal_kind(),
            received_at_unix_nanos: 1_764_172_800_000_000_000,
            payload: request(seq, per_request).encode_to_vec(),
        })
        .collect();
    let spans = requests * per_request as u64;
    let bytes: usize = records.iter().map(|r| r.payload.len()).sum();
    println!("{requests} requests x {per_request} spans = {spans} spans, {} MB protobuf", bytes / 1_000_000);
    let promotion = Promotion::defaults();

    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
        pool.install(|| {
            for round in 0..3 {
                let start = Instant::now();
                let prepared = normalize::prepare(&records, &promotion);
                let prepare_time = start.elapsed();
                let ids = Ids {
                    resources: prepared.resources().iter().enumerate().map(|(i, d)| (d.hash, i as i64)).collect(),
                    scopes: prepared.scopes().iter().enumerate().map(|(i, d)| (d.hash, i as i64)).collect(),
                    metrics: Default::default(),
                    keys: prepared.keys().iter().enumerate().map(|(i, k)| (k.clone(), i as i32)).collect(),
                    facts: FactIds {
                        blocks: (0..FactIds::blocks_needed(prepared.counts().ids())).map(|b| b as i64 + 1).collect(),
                    },
                };
                let start = Instant::now();
                let tables = normalize::encode(&prepared, &ids, &promotion).expect("encode").tables;
                let encode_time = start.elapsed();
                let out: usize = tables.iter().map(|t| t.data.len()).sum();
                let total = prepare_time + encode_time;
                println!(
                    "threads {threads} round {round}: prepare {:.0} ms ({:.0} spans/s), encode {:.0} ms ({:.0} spans/s), \
                     both {:.0} spans/s; {} tables, {} MB COPY",
                    prepare_time.as_secs_f64() * 1e3,
                    spans as f64 / prepare_time.as_secs_f64(),
                    encode_time.as_secs_f64() * 1e3,
                    spans as f64 / encode_time.as_secs_f64(),
                    spans as f64 / total.as_secs_f64(),
                    tables.len(),
                    out / 1_000_000
                );
            }
        });
    }
}
