//! Span rollups (services, operations, service-map edges) as the writer keeps them: pairs across batches in
//! either arrival order, one row per minute however many batches add to it, nothing added twice on replay.

use super::*;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

const MS: u64 = 1_000_000;
/// 2026-11-26T10:00:00Z plus 5 s.
const T0: u64 = 1_795_687_205_000_000_000;

fn sp(trace: u8, id: u8, parent: Option<u8>, kind: i32, start: u64, dur: u64, error: bool) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("op{kind}"),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: start + dur,
        status: Some(Status { code: if error { 2 } else { 0 }, ..Default::default() }),
        ..Default::default()
    }
}

fn req(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(vec![kv("service.name", s(service)), kv("service.namespace", s("shop"))])),
            scope_spans: vec![ScopeSpans { scope: Some(scope("tracer", "1")), spans, schema_url: String::new() }],
            schema_url: String::new(),
        }],
    }
}

/// frontend's root SERVER span and its CLIENT call, in trace `t`.
fn caller(t: u8) -> ExportTraceServiceRequest {
    req("frontend", vec![sp(t, 1, None, 2, T0, 400 * MS, false), sp(t, 2, Some(1), 3, T0 + MS, 300 * MS, false)])
}

/// checkout's SERVER span answering frontend's call, in trace `t`.
fn callee(t: u8) -> ExportTraceServiceRequest {
    req("checkout", vec![sp(t, 3, Some(2), 2, T0 + 2 * MS, 250 * MS, true)])
}

async fn edges(env: &Env) -> Vec<(String, String, String, i64, i64)> {
    sqlx::query_as(
        "SELECT source, target, target_type, call_count, error_count FROM otel_service_edges ORDER BY 1, 2, 3",
    )
    .fetch_all(env.pool())
    .await
    .unwrap()
}

fn frontend_to_checkout(calls: i64, errors: i64) -> Vec<(String, String, String, i64, i64)> {
    vec![("frontend".into(), "checkout".into(), "service".into(), calls, errors)]
}

#[tokio::test]
async fn a_call_pairs_whichever_side_is_committed_first() {
    // Parent first: the callee's batch finds its parent among committed spans.
    let env = env().await;
    env.traces(&caller(1)).await;
    assert_eq!(edges(&env).await, []);
    env.traces(&callee(1)).await;
    assert_eq!(edges(&env).await, frontend_to_checkout(1, 1));
    // Child first: the caller's batch finds the CLIENT span's child among committed spans.
    env.traces(&callee(2)).await;
    env.traces(&caller(2)).await;
    assert_eq!(edges(&env).await, frontend_to_checkout(2, 2));
    // Both in one batch: paired once, not also against the database.
    env.ingest(vec![env.traces_record(&caller(3)), env.traces_record(&callee(3))]).await;
    assert_eq!(edges(&env).await, frontend_to_checkout(3, 3));
    let (min, max): (i64, i64) = sqlx::query_as("SELECT latency_min_ns, latency_max_ns FROM otel_service_edges")
        .fetch_one(env.pool())
        .await
        .unwrap();
    assert_eq!((min, max), (250 * MS as i64, 250 * MS as i64), "the callee's duration");
}

#[tokio::test]
async fn batches_add_to_one_row_per_minute() {
    let env = env().await;
    for t in 1..=3 {
        env.traces(&caller(t)).await;
    }
    let rows: Vec<(i64, i64, i64, Vec<i64>)> = sqlx::query_as(
        "SELECT span_count, request_count, error_count, latency FROM otel_service_rollups WHERE service_name = 'frontend'",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (spans, requests, errors, latency) = &rows[0];
    assert_eq!((*spans, *requests, *errors), (6, 3, 0));
    // Three 400 ms requests in one bucket, merged by ollyscale_latency_merge.
    let h = ollyscale::latency::Histogram::decode(latency, 0, 0).unwrap();
    assert_eq!(h.count(), 3);
    assert_eq!(latency.len(), 1);
    let ops: Vec<(String, i16, i64)> = sqlx::query_as(
        "SELECT span_name, span_kind, span_count FROM otel_operation_rollups WHERE service_name = 'frontend' \
         ORDER BY span_kind",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(ops, [("op2".to_string(), 2, 3), ("op3".to_string(), 3, 3)]);
}

#[tokio::test]
async fn a_replayed_batch_adds_nothing() {
    let env = env().await;
    let records = vec![env.traces_record(&caller(1)), env.traces_record(&callee(1))];
    env.ingest(records.clone()).await;
    // The same WAL records again, as after a crash between COMMIT and WAL truncation.
    env.ingest(records).await;
    assert_eq!(env.count("otel_spans_fact").await, 3);
    let spans: i64 = env.scalar("SELECT sum(span_count)::bigint FROM otel_service_rollups").await;
    assert_eq!(spans, 3);
    assert_eq!(edges(&env).await, frontend_to_checkout(1, 1));
}
