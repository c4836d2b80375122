//! The writer over whole batches: signals mixed in one transaction, the OTLP specification's example
//! payloads, fact ids unique across signals and batches, shared attribute keys, telemetry, dead letters and
//! per-WAL checkpoints.

use std::sync::atomic::Ordering;

use super::roundtrip::{rich_logs, rich_metrics, rich_traces};
use super::*;
use ollyscale::otlp::decode_json;

fn example<T: ollyscale::otlp::OtlpRequest>(name: &str) -> T {
    decode_json(&crate::support::otlp::example(name)).unwrap()
}

#[tokio::test]
async fn one_batch_mixing_every_signal_is_one_transaction() {
    let env = env().await;
    let recs =
        vec![env.traces_record(&rich_traces()), env.logs_record(&rich_logs()), env.metrics_record(&rich_metrics())];
    let report = env.ingest(recs).await;
    assert_eq!(report.transactions, 1);
    assert_eq!(report.checkpoint, 3);
    assert_eq!(env.count("otel_spans_fact").await, 3);
    assert_eq!(env.count("otel_logs_fact").await, 10);
    assert!(env.count("otel_metrics_data_points_number").await >= 3);
    assert_eq!(report.rows as i64, {
        let rows = env.telemetry.rows_written.lock().unwrap();
        rows.values().sum::<u64>() as i64
    });
}

#[tokio::test]
async fn spec_example_traces_are_stored() {
    let env = env().await;
    let req: ExportTraceServiceRequest = example("trace");
    env.traces(&req).await;
    let n: i64 = ollyscale::otlp::count_spans(&req) as i64;
    assert_eq!(env.count("otel_spans_fact").await, n);
    let rebuilt = super::rebuild::traces(env.pool()).await;
    assert_eq!(super::rebuild::canon_traces(rebuilt), super::rebuild::canon_traces(req));
}

#[tokio::test]
async fn spec_example_logs_are_stored() {
    let env = env().await;
    let req: ExportLogsServiceRequest = example("logs");
    env.logs(&req).await;
    assert_eq!(env.count("otel_logs_fact").await, ollyscale::otlp::count_log_records(&req) as i64);
    let rebuilt = super::rebuild::logs(env.pool()).await;
    assert_eq!(super::rebuild::canon_logs(rebuilt), super::rebuild::canon_logs(req));
}

#[tokio::test]
async fn spec_example_metrics_are_stored() {
    let env = env().await;
    let req: ExportMetricsServiceRequest = example("metrics");
    env.metrics(&req).await;
    let points = env.count("otel_metrics_data_points_number").await
        + env.count("otel_metrics_data_points_histogram").await
        + env.count("otel_metrics_data_points_exp_histogram").await
        + env.count("otel_metrics_data_points_summary").await;
    assert_eq!(points, ollyscale::otlp::count_data_points(&req) as i64);
    let rebuilt = super::rebuild::metrics(env.pool()).await;
    assert_eq!(super::rebuild::canon_metrics(rebuilt), super::rebuild::canon_metrics(req));
}

#[tokio::test]
async fn spec_example_events_are_stored_as_logs_with_event_name() {
    let env = env().await;
    let req: ExportLogsServiceRequest = example("events");
    env.logs(&req).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT event_name FROM otel_logs_fact WHERE event_name <> ''")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert!(!names.is_empty());
}

#[tokio::test]
async fn empty_requests_only_advance_the_checkpoint() {
    let env = env().await;
    let recs = vec![
        env.traces_record(&ExportTraceServiceRequest::default()),
        env.logs_record(&ExportLogsServiceRequest::default()),
        env.metrics_record(&ExportMetricsServiceRequest::default()),
    ];
    let report = env.ingest(recs).await;
    assert_eq!(report.rows, 0);
    assert!(report.dead_lettered.is_empty());
    assert_eq!(env.writer.checkpoint().await.unwrap(), Some(3));
}

#[tokio::test]
async fn an_empty_batch_does_nothing() {
    let env = env().await;
    let report = env.ingest(vec![]).await;
    assert_eq!(report, ollyscale::write::IngestReport::default());
    assert_eq!(env.writer.checkpoint().await.unwrap(), None);
}

#[tokio::test]
async fn fact_ids_never_collide_across_signals_and_batches() {
    let env = env().await;
    for _ in 0..3 {
        let recs = vec![env.traces_record(&rich_traces()), env.logs_record(&rich_logs())];
        env.ingest(recs).await;
    }
    let (n, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT id) FROM (SELECT span_row_id id FROM otel_spans_fact UNION ALL \
         SELECT log_id FROM otel_logs_fact UNION ALL SELECT event_row_id FROM otel_span_events UNION ALL \
         SELECT link_row_id FROM otel_span_links) t",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!(n, distinct);
    assert_eq!(n, 3 * (3 + 2 + 2 + 10));
}

#[tokio::test]
async fn attribute_keys_are_shared_across_signals_and_levels() {
    let env = env().await;
    let recs =
        vec![env.traces_record(&rich_traces()), env.logs_record(&rich_logs()), env.metrics_record(&rich_metrics())];
    env.ingest(recs).await;
    let dup: i64 = env.scalar("SELECT count(*) - count(DISTINCT key) FROM attribute_keys").await;
    assert_eq!(dup, 0);
    let k: i64 = env.scalar("SELECT count(*) FROM attribute_keys WHERE key = 'p.str'").await;
    assert_eq!(k, 1);
}

#[tokio::test]
async fn write_latency_and_batches_are_observed() {
    let env = env().await;
    env.logs(&simple_logs("svc", "a")).await;
    env.logs(&simple_logs("svc", "b")).await;
    assert_eq!(env.telemetry.batches_written.load(Ordering::Relaxed), 2);
    let text = env.telemetry.render(None);
    assert!(text.contains("ollyscale_write_latency_seconds_count 2"), "{text}");
    assert!(text.contains("ollyscale_rows_written_total{table=\"otel_logs_fact\"} 2"), "{text}");
}

#[tokio::test]
async fn checkpoints_are_kept_per_wal() {
    let env = env().await;
    env.ingest(vec![env.logs_record(&simple_logs("a", "1")), env.logs_record(&simple_logs("a", "2"))]).await;
    let other = env_on(
        TestDb { pool: env.db.pool.clone(), url: env.db.url.clone(), name: env.db.name.clone() },
        Promotion::defaults(),
        "ffffffffffffffffffffffffffffffff",
    );
    // The other WAL's sequence 1 is not covered by the first WAL's checkpoint.
    let report = other.ingest(vec![other.logs_record(&simple_logs("b", "3"))]).await;
    assert_eq!(report.skipped, 0);
    assert_eq!(env.count("otel_logs_fact").await, 3);
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT wal_id, last_seq FROM ingest_checkpoints ORDER BY wal_id")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert_eq!(
        rows,
        [("00000000000000000000000000000001".to_string(), 2), ("ffffffffffffffffffffffffffffffff".to_string(), 1)]
    );
}

#[tokio::test]
async fn dead_letters_keep_signal_receive_time_and_payload() {
    let env = env().await;
    let r = env.record(Signal::Metrics, b"not protobuf at all".to_vec());
    env.ingest(vec![r.clone()]).await;
    let letters = env.dead_letters.list().unwrap();
    assert_eq!(letters.len(), 1);
    let l = &letters[0];
    assert_eq!(
        (l.seq, l.signal, l.received_at_unix_nanos, &l.payload, l.wal_id.as_str()),
        (r.seq, Some(Signal::Metrics), RECEIVED_AT, &r.payload, "00000000000000000000000000000001")
    );
}

#[tokio::test]
async fn large_batch_of_logs_in_one_transaction() {
    let env = env().await;
    let recs: Vec<wal::Record> = (0..20)
        .map(|n| {
            env.logs_record(&logs_req(
                resource(vec![]),
                scope("l", ""),
                (0..250).map(|i| log(T0 + i, &format!("{n}-{i}"))).collect(),
            ))
        })
        .collect();
    let report = env.ingest(recs).await;
    assert_eq!(report.transactions, 1);
    assert_eq!(env.count("otel_logs_fact").await, 5000);
}

#[tokio::test]
async fn requests_with_empty_resource_and_scope_lists() {
    let env = env().await;
    let mut req = simple_logs("svc", "a");
    req.resource_logs[0].scope_logs.clear();
    req.resource_logs.push(opentelemetry_proto::tonic::logs::v1::ResourceLogs::default());
    let report = env.logs(&req).await;
    assert!(report.dead_lettered.is_empty());
    assert_eq!(env.count("otel_logs_fact").await, 0);
}

#[tokio::test]
async fn same_request_in_two_records_is_stored_twice() {
    // Deduplication is by WAL sequence, not by content: two acknowledged sends are two sets of rows.
    let env = env().await;
    let req = simple_logs("svc", "dup");
    env.ingest(vec![env.logs_record(&req), env.logs_record(&req)]).await;
    assert_eq!(env.count("otel_logs_fact").await, 2);
    assert_eq!(env.count("otel_resources_dim").await, 1);
}
