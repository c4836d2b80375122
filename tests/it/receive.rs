//! The OTLP receivers, through the real `ollyscale serve` binary: real clients, every signal, transport,
//! encoding and compression; bad input; push-back; auth; health.
//!
//! The server here points at a database that does not answer, so nothing drains the WAL and the tests
//! can read back exactly what was acknowledged.

use std::io::Write;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use prost::Message;
use tonic::codec::CompressionEncoding;

use crate::support::otlp::{example, log_count, metric_names, span_names, traces, wal_records};
use crate::support::server::Server;

/// A database URL nothing listens on: the pipeline waits, the WAL keeps every record.
pub const NO_DATABASE: &str = "postgres://postgres@127.0.0.1:1/unreachable";

fn start(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), NO_DATABASE, extra);
    (dir, server)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

async fn post(
    server: &Server,
    path: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req =
        reqwest::Client::new().post(format!("{}{path}", server.http_url())).header("content-type", content_type);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    req.body(body).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_json_examples_are_accepted_with_every_compression() {
    let (dir, mut server) = start(&[]);
    let mut sent_spans = 0;
    for (name, path) in
        [("trace", "/v1/traces"), ("logs", "/v1/logs"), ("metrics", "/v1/metrics"), ("events", "/v1/logs")]
    {
        let body = example(name);
        for encoding in [None, Some("gzip"), Some("zstd"), Some("deflate")] {
            let payload = match encoding {
                None => body.clone(),
                Some("gzip") => gzip(&body),
                Some("zstd") => zstd::encode_all(&body[..], 3).unwrap(),
                _ => zlib(&body),
            };
            let resp = post(&server, path, "application/json", encoding, payload).await;
            assert_eq!(resp.status(), 200, "{name} {encoding:?}: {}", resp.text().await.unwrap());
            assert_eq!(resp.headers()["content-type"], "application/json");
            let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
            assert!(v.get("partialSuccess").is_none(), "{name}: {v}");
            if name == "trace" {
                sent_spans += 1;
            }
        }
    }
    server.stop();
    let records = wal_records(dir.path());
    assert_eq!(records.len(), 16, "4 examples x 4 encodings, each one WAL record");
    let names = span_names(&records);
    assert_eq!(names.len(), sent_spans);
    assert!(names.iter().all(|n| n == "I'm a server span"), "{names:?}");
    assert_eq!(log_count(&records), 8);
    assert!(metric_names(&records).contains(&"my.counter".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_accepts_plain_gzip_and_zstd_and_answers_after_the_append() {
    let (dir, mut server) = start(&[]);
    let channel = tonic::transport::Channel::from_shared(server.grpc_url()).unwrap().connect().await.unwrap();
    for (i, compression) in
        [None, Some(CompressionEncoding::Gzip), Some(CompressionEncoding::Zstd)].into_iter().enumerate()
    {
        let mut client = TraceServiceClient::new(channel.clone());
        if let Some(c) = compression {
            client = client.send_compressed(c);
        }
        let resp = client.export(traces(&format!("grpc{i}"), 3)).await.unwrap().into_inner();
        assert_eq!(resp, ExportTraceServiceResponse { partial_success: None });
    }
    server.stop();
    let names = span_names(&wal_records(dir.path()));
    assert_eq!(names.len(), 9);
    for i in 0..3 {
        assert!(names.contains(&format!("grpc{i}-2")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_is_answered_in_protobuf_and_the_bytes_reach_the_wal_unchanged() {
    let (dir, mut server) = start(&[]);
    let request = traces("proto", 4).encode_to_vec();
    let resp = post(&server, "/v1/traces", "application/x-protobuf", None, request.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-protobuf");
    let body = resp.bytes().await.unwrap();
    assert_eq!(ExportTraceServiceResponse::decode(body).unwrap(), ExportTraceServiceResponse { partial_success: None });
    server.stop();
    let records = wal_records(dir.path());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].payload, request, "a valid protobuf request is stored as received");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_items_are_rejected_through_partial_success_and_the_rest_is_kept() {
    let (dir, mut server) = start(&[]);
    let mut request = traces("partial", 5);
    let spans = &mut request.resource_spans[0].scope_spans[0].spans;
    spans[1].trace_id = vec![1; 15];
    spans[3].span_id = vec![0; 8];
    // JSON: the response's counts are strings per the OTLP/JSON mapping of int64.
    let json = serde_json::to_vec(&request).unwrap();
    let resp = post(&server, "/v1/traces", "application/json", None, json).await;
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let rejected = &v["partialSuccess"]["rejectedSpans"];
    assert!(rejected == "2" || rejected == 2, "{v}");
    let message = v["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(message.contains("trace_id") && message.contains("15"), "{message}");
    server.stop();
    let mut names = span_names(&wal_records(dir.path()));
    names.sort();
    assert_eq!(names, ["partial-0", "partial-2", "partial-4"], "only the valid spans reach the WAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_requests_succeed_and_store_nothing() {
    let (dir, mut server) = start(&[]);
    let resp = post(&server, "/v1/logs", "application/json", None, b"{}".to_vec()).await;
    assert_eq!(resp.status(), 200);
    let resp = post(&server, "/v1/metrics", "application/x-protobuf", None, Vec::new()).await;
    assert_eq!(resp.status(), 200);
    let channel = tonic::transport::Channel::from_shared(server.grpc_url()).unwrap().connect().await.unwrap();
    TraceServiceClient::new(channel).export(ExportTraceServiceRequest::default()).await.unwrap();
    server.stop();
    assert!(wal_records(dir.path()).is_empty());
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn field(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    varint(body.len(), &mut out);
    out.extend_from_slice(body);
    out
}

/// A trace request whose one span has an attribute nested `depth` kvlists deep, encoded by hand: building
/// it as prost structs would overflow the test's own stack when encoding or dropping it.
fn deep_request(depth: usize) -> Vec<u8> {
    let mut any = field(0x0a, b"leaf"); // AnyValue.string_value = 1
    for _ in 0..depth {
        let kv = [field(0x0a, b"k"), field(0x12, &any)].concat(); // KeyValue.key = 1, value = 2
        let list = field(0x0a, &kv); // KeyValueList.values = 1
        any = field(0x32, &list); // AnyValue.kvlist_value = 6
    }
    let attribute = [field(0x0a, b"deep"), field(0x12, &any)].concat();
    let span =
        [field(0x0a, &[5u8; 16]), field(0x12, &[6u8; 8]), field(0x2a, b"deep"), field(0x4a, &attribute)].concat();
    let scope_spans = field(0x12, &span); // ScopeSpans.spans = 2
    let resource_spans = field(0x12, &scope_spans); // ResourceSpans.scope_spans = 2
    field(0x0a, &resource_spans) // ExportTraceServiceRequest.resource_spans = 1
}

/// Calls a gRPC method with raw protobuf bytes.
async fn grpc_raw(
    channel: tonic::transport::Channel,
    path: &'static str,
    body: Vec<u8>,
) -> Result<bytes::Bytes, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = ollyscale::receive::grpc::BytesCodec;
    let resp = grpc
        .unary(tonic::Request::new(bytes::Bytes::from(body)), http::uri::PathAndQuery::from_static(path), codec)
        .await?;
    Ok(resp.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_precise_status_and_the_server_keeps_serving() {
    let (dir, mut server) = start(&["--max-request-size", "1MiB"]);
    let valid = traces("valid", 2).encode_to_vec();
    let deep = deep_request(10_000);
    let deep_json = {
        // Built as text: serde_json itself cannot serialize a value this deep.
        let mut s = String::from(
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x","attributes":[{"key":"deep","value":"#,
        );
        for _ in 0..10_000 {
            s.push_str(r#"{"kvlistValue":{"values":[{"key":"k","value":"#);
        }
        s.push_str(r#"{"stringValue":"leaf"}"#);
        for _ in 0..10_000 {
            s.push_str("}]}}");
        }
        s.push_str("}]}]}]}]}");
        s.into_bytes()
    };
    let mut invalid_utf8 = traces("utf8", 1).encode_to_vec();
    let pos = invalid_utf8.windows(6).position(|w| w == b"utf8-0").unwrap();
    invalid_utf8[pos] = 0xff;
    let bomb = gzip(&vec![0u8; 8 << 20]);
    // (what, content type, content encoding, body, expected status, expected words in the message)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "truncated protobuf",
            "application/x-protobuf",
            None,
            valid[..valid.len() - 7].to_vec(),
            400,
            "invalid OTLP protobuf",
        ),
        ("wrong wire type", "application/x-protobuf", None, vec![0x0d, 1, 2, 3, 4], 400, "invalid OTLP protobuf"),
        ("invalid UTF-8", "application/x-protobuf", None, invalid_utf8, 400, "UTF-8"),
        ("10,000-deep kvlist (protobuf)", "application/x-protobuf", None, deep.clone(), 400, "deep"),
        ("10,000-deep kvlist (JSON)", "application/json", None, deep_json, 400, "deep"),
        ("gzip bomb", "application/x-protobuf", Some("gzip"), bomb, 413, "limit"),
        ("unknown content type", "text/plain", None, valid.clone(), 415, "Content-Type"),
        ("unknown content encoding", "application/x-protobuf", Some("br"), valid.clone(), 415, "Content-Encoding"),
        ("oversized body", "application/x-protobuf", None, vec![0u8; (1 << 20) + 1], 413, "limit"),
        ("JSON sent as protobuf", "application/x-protobuf", None, example("trace"), 400, "invalid OTLP protobuf"),
        ("protobuf sent as JSON", "application/json", None, valid.clone(), 400, "invalid OTLP/JSON"),
        ("corrupt gzip", "application/x-protobuf", Some("gzip"), b"not gzip at all".to_vec(), 400, "gzip"),
    ];
    for (what, content_type, encoding, body, status, needle) in cases {
        let resp = post(&server, "/v1/traces", content_type, encoding, body).await;
        let got = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .or_else(|| tonic_types::Status::decode(bytes.clone()).ok().map(|s| s.message))
            .unwrap_or_default();
        assert_eq!(got, status, "{what}: {message}");
        assert!(
            message.to_lowercase().contains(&needle.to_lowercase()),
            "{what}: message `{message}` lacks `{needle}`"
        );
        // The next request is served normally.
        let ok = post(&server, "/v1/traces", "application/x-protobuf", None, valid.clone()).await;
        assert_eq!(ok.status(), 200, "after {what}");
    }
    let get = reqwest::get(format!("{}/v1/traces", server.http_url())).await.unwrap();
    assert_eq!(get.status(), 405);
    // gRPC: undecodable -> INVALID_ARGUMENT with a message.
    let channel = tonic::transport::Channel::from_shared(server.grpc_url()).unwrap().connect().await.unwrap();
    let err = grpc_raw(channel.clone(), "/opentelemetry.proto.collector.trace.v1.TraceService/Export", deep)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("deep"), "{}", err.message());
    TraceServiceClient::new(channel).export(traces("after-grpc", 1)).await.unwrap();
    server.stop();
    let names = span_names(&wal_records(dir.path()));
    assert_eq!(names.len(), 12 * 2 + 1, "only the valid requests were stored: {names:?}");
    assert!(names.iter().all(|n| n.starts_with("valid") || n.starts_with("after")), "{names:?}");
}

/// A bomb well under the body limit in every accepted encoding is refused once its output passes the limit,
/// and nothing of it reaches the WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompression_bombs_of_every_encoding_stop_at_the_limit() {
    let (dir, mut server) = start(&["--max-request-size", "1MiB"]);
    let zeros = vec![0u8; 64 << 20];
    for (encoding, bomb) in
        [("gzip", gzip(&zeros)), ("zstd", zstd::encode_all(&zeros[..], 19).unwrap()), ("deflate", zlib(&zeros))]
    {
        assert!(bomb.len() < 1 << 20, "{encoding}: the bomb itself is within the limit");
        let resp = post(&server, "/v1/traces", "application/x-protobuf", Some(encoding), bomb).await;
        assert_eq!(resp.status(), 413, "{encoding}");
        let status = tonic_types::Status::decode(resp.bytes().await.unwrap()).unwrap();
        assert!(status.message.contains("after decompression"), "{encoding}: {}", status.message);
    }
    server.stop();
    assert!(wal_records(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_wal_pushes_back_with_retryable_statuses() {
    let (_dir, mut server) = start(&["--wal-budget", "4KiB"]);
    let big = traces("fill", 1).encode_to_vec();
    // Fill the budget: appends succeed until the next one would exceed it.
    let mut refused = None;
    for _ in 0..100 {
        let resp = post(&server, "/v1/traces", "application/x-protobuf", None, big.clone()).await;
        if resp.status() != 200 {
            refused = Some(resp);
            break;
        }
    }
    let resp = refused.expect("a 4 KiB WAL budget must fill up");
    assert_eq!(resp.status(), 503);
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    let status = tonic_types::Status::decode(resp.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, tonic::Code::Unavailable as i32);
    assert!(status.message.contains("budget") || status.message.contains("full"), "{}", status.message);
    let channel = tonic::transport::Channel::from_shared(server.grpc_url()).unwrap().connect().await.unwrap();
    let err = TraceServiceClient::new(channel).export(traces("fill", 1)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    use tonic_types::StatusExt;
    let retry = err.get_details_retry_info().expect("UNAVAILABLE carries RetryInfo so clients retry");
    assert!(retry.retry_delay.is_some_and(|d| d >= Duration::from_secs(1)));
    let ready = reqwest::get(format!("{}/readyz", server.api_url())).await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while over budget");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_is_required_when_configured() {
    let (dir, mut server) = start(&["--auth-token", "s3cret"]);
    let body = traces("auth", 1).encode_to_vec();
    let resp = post(&server, "/v1/traces", "application/x-protobuf", None, body.clone()).await;
    assert_eq!(resp.status(), 401);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/traces", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .bearer_auth("wrong")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/traces", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .bearer_auth("s3cret")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let channel = tonic::transport::Channel::from_shared(server.grpc_url()).unwrap().connect().await.unwrap();
    let err = TraceServiceClient::new(channel.clone()).export(traces("g", 1)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut req = tonic::Request::new(traces("grpc-auth", 1));
    req.metadata_mut().insert("authorization", "Bearer s3cret".parse().unwrap());
    TraceServiceClient::new(channel).export(req).await.unwrap();
    server.stop();
    let names = span_names(&wal_records(dir.path()));
    assert_eq!(names, ["auth-0", "grpc-auth-0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_grpc_health() {
    let (_dir, mut server) = start(&[]);
    let health = reqwest::get(format!("{}/healthz", server.api_url())).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", server.api_url())).await.unwrap();
    assert_eq!(ready.status(), 200, "WAL open and under budget");
    post(&server, "/v1/traces", "application/x-protobuf", None, traces("m", 3).encode_to_vec()).await;
    let metrics = reqwest::get(format!("{}/metrics", server.api_url())).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("ollyscale_items_accepted_total{signal=\"traces\"} 3"), "{metrics}");
    assert!(metrics.contains("ollyscale_wal_records 1"), "{metrics}");
    let channel = tonic::transport::Channel::from_shared(server.grpc_url()).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let resp = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "opentelemetry.proto.collector.trace.v1.TraceService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.status(), tonic_health::pb::health_check_response::ServingStatus::Serving);
    server.stop();
}

/// Exports through the OpenTelemetry Rust SDK's own OTLP exporters (code no one here wrote).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opentelemetry_sdk_exports_every_signal_over_grpc_and_http() {
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_otlp::{LogExporter, MetricExporter, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::logs::SdkLoggerProvider;
    use opentelemetry_sdk::logs::log_processor_with_async_runtime::BatchLogProcessor;
    use opentelemetry_sdk::metrics::SdkMeterProvider;
    use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
    use opentelemetry_sdk::runtime::Tokio;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;

    let (dir, mut server) = start(&[]);
    for transport in ["grpc", "http"] {
        let resource = Resource::builder().with_service_name(format!("sdk-{transport}")).build();
        let (spans, logs, metrics) = if transport == "grpc" {
            (
                SpanExporter::builder().with_tonic().with_endpoint(server.grpc_url()).build().unwrap(),
                LogExporter::builder().with_tonic().with_endpoint(server.grpc_url()).build().unwrap(),
                MetricExporter::builder().with_tonic().with_endpoint(server.grpc_url()).build().unwrap(),
            )
        } else {
            (
                SpanExporter::builder()
                    .with_http()
                    .with_endpoint(format!("{}/v1/traces", server.http_url()))
                    .build()
                    .unwrap(),
                LogExporter::builder()
                    .with_http()
                    .with_endpoint(format!("{}/v1/logs", server.http_url()))
                    .build()
                    .unwrap(),
                MetricExporter::builder()
                    .with_http()
                    .with_endpoint(format!("{}/v1/metrics", server.http_url()))
                    .build()
                    .unwrap(),
            )
        };
        // The processors that run on tokio: the SDK's default ones block threads of their own, where
        // tonic has no reactor.
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(BatchSpanProcessor::builder(spans, Tokio).build())
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_log_processor(BatchLogProcessor::builder(logs, Tokio).build())
            .build();
        let meter_provider = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(PeriodicReader::builder(metrics, Tokio).build())
            .build();
        let tracer = tracer_provider.tracer("it");
        for i in 0..5 {
            tracer.in_span(format!("sdk-{transport}-{i}"), |_| {});
        }
        let logger = logger_provider.logger("it");
        for i in 0..3 {
            let mut record = logger.create_log_record();
            record.set_body(format!("log {i}").into());
            record.set_severity_number(Severity::Warn);
            logger.emit(record);
        }
        let counter = meter_provider.meter("it").u64_counter(format!("sdk.{transport}.requests")).build();
        counter.add(7, &[]);
        // The SDK's processors block while exporting; keep them off the async workers.
        tokio::task::spawn_blocking(move || {
            tracer_provider.shutdown().unwrap();
            logger_provider.shutdown().unwrap();
            meter_provider.shutdown().unwrap();
        })
        .await
        .unwrap();
    }
    server.stop();
    let records = wal_records(dir.path());
    let names = span_names(&records);
    for transport in ["grpc", "http"] {
        for i in 0..5 {
            assert!(names.contains(&format!("sdk-{transport}-{i}")), "{names:?}");
        }
    }
    assert_eq!(names.len(), 10);
    assert_eq!(log_count(&records), 6);
    let metrics = metric_names(&records);
    assert!(
        metrics.contains(&"sdk.grpc.requests".to_string()) && metrics.contains(&"sdk.http.requests".to_string()),
        "{metrics:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_on_both_receivers() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(
        &data,
        NO_DATABASE,
        &["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()],
    );
    // Plain HTTP to a TLS port fails; HTTPS with the self-signed certificate trusted succeeds.
    let plain = reqwest::Client::new()
        .post(format!("{}/v1/traces", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .body(traces("plain", 1).encode_to_vec())
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    let ca = tonic::transport::Certificate::from_pem(cert.cert.pem());
    let tls = tonic::transport::ClientTlsConfig::new().ca_certificate(ca).domain_name("localhost");
    let channel = tonic::transport::Channel::from_shared(format!("https://localhost:{}", server.grpc.port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    TraceServiceClient::new(channel).export(traces("tls-grpc", 1)).await.unwrap();
    let https = https_post(server.http.port(), &cert.cert.pem(), traces("tls-http", 1).encode_to_vec()).await;
    assert_eq!(https, 200);
    server.stop();
    let mut names = span_names(&wal_records(&data));
    names.sort();
    assert_eq!(names, ["tls-grpc-0", "tls-http-0"]);
}

/// POSTs a protobuf trace export over HTTPS (HTTP/1.1 via rustls), trusting `ca_pem`; returns the status.
async fn https_post(port: u16, ca_pem: &str, body: Vec<u8>) -> u16 {
    try_https_post(port, ca_pem, body).await.unwrap()
}

/// [`https_post`] on a new connection, with connection and TLS failures as errors.
async fn try_https_post(port: u16, ca_pem: &str, body: Vec<u8>) -> Result<u16, String> {
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| format!("connect: {e}"))?;
    let mut tls =
        connector.connect("localhost".try_into().unwrap(), tcp).await.map_err(|e| format!("handshake: {e}"))?;
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
    tls.write_all(&body).await.map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("no answer: {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_https_load_answers_every_export_it_took() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let data = dir.path().join("data");
    let tls_args = ["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()];
    let mut server = Server::start(&data, NO_DATABASE, &tls_args);
    let (port, ca) = (server.http.port(), cert.cert.pem());
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let (ca, stop) = (ca.clone(), stop.clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let marker = format!("term{i}-{n}");
                    n += 1;
                    match try_https_post(port, &ca, traces(&marker, 1).encode_to_vec()).await {
                        Ok(200) => acked.push(format!("{marker}-0")),
                        _ => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
                acked
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGTERM in the middle of the load; the senders go on until the server is gone.
    tokio::task::spawn_blocking(move || server.stop()).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    assert!(acked.len() > 20, "too few exports to test anything: {}", acked.len());
    let mut stored = span_names(&wal_records(&data));
    stored.sort();
    acked.sort();
    // An export appended to the WAL whose answer was cut off would be in the WAL but not acknowledged.
    assert_eq!(stored, acked, "every export the server took was answered, and every answer was durable");
}
