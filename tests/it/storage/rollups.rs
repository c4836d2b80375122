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
pub(super) fn caller(t: u8) -> ExportTraceServiceRequest {
    caller_at(t, T0)
}

/// [`caller`] starting at `at`.
fn caller_at(t: u8, at: u64) -> ExportTraceServiceRequest {
    req("frontend", vec![sp(t, 1, None, 2, at, 400 * MS, false), sp(t, 2, Some(1), 3, at + MS, 300 * MS, false)])
}

/// checkout's SERVER span answering frontend's call, in trace `t`.
pub(super) fn callee(t: u8) -> ExportTraceServiceRequest {
    callee_at(t, T0)
}

/// [`callee`] for a caller that started at `at`.
fn callee_at(t: u8, at: u64) -> ExportTraceServiceRequest {
    req("checkout", vec![sp(t, 3, Some(2), 2, at + 2 * MS, 250 * MS, true)])
}

pub(super) async fn edges(env: &Env) -> Vec<(String, String, String, i64, i64)> {
    sqlx::query_as(
        "SELECT source, target, target_type, call_count, error_count FROM otel_service_edges ORDER BY 1, 2, 3",
    )
    .fetch_all(env.pool())
    .await
    .unwrap()
}

pub(super) fn frontend_to_checkout(calls: i64, errors: i64) -> Vec<(String, String, String, i64, i64)> {
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

const MINUTE: u64 = 60_000 * MS;

/// (bucket as Unix seconds, minutes, count) of a rollup table's frontend rows, by bucket.
async fn frontend_rows(env: &Env, table: &str, count: &str, service: &str) -> Vec<(i64, i16, i64)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT extract(epoch FROM bucket)::bigint, minutes, sum({count})::bigint FROM {table} \
         WHERE {service} = 'frontend' GROUP BY 1, 2 ORDER BY 1, 2"
    )))
    .fetch_all(env.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn compaction_folds_closed_minutes_into_ten_minute_slots() {
    let env = env().await;
    // T0 is 10:00:05: calls in minutes 10:00 and 10:04 (the 10:00 slot) and 10:12 (the 10:10 slot).
    for (t, at) in [(1, T0), (2, T0 + 4 * MINUTE), (3, T0 + 12 * MINUTE)] {
        env.ingest(vec![env.traces_record(&caller_at(t, at)), env.traces_record(&callee_at(t, at))]).await;
    }
    let slot = (T0 / 1_000_000_000 / 600 * 600) as i64;
    let minute = |m: i64| slot + 60 * m;
    let services = |env| async move { frontend_rows(env, "otel_service_rollups", "span_count", "service_name").await };
    assert_eq!(services(&env).await, [(minute(0), 1, 2), (minute(4), 1, 2), (minute(12), 1, 2)]);

    // Slots that closed before 10:10 are compacted; 10:12 is left as it is.
    let closed = chrono::DateTime::from_timestamp(minute(10), 0).unwrap();
    let moved = ollyscale::write::compact::compact_rollups(env.pool(), closed).await.unwrap();
    assert!(moved > 0);
    assert_eq!(services(&env).await, [(minute(0), 10, 4), (minute(12), 1, 2)]);
    let ops = frontend_rows(&env, "otel_operation_rollups", "span_count", "service_name").await;
    assert_eq!(ops, [(minute(0), 10, 4), (minute(12), 1, 2)]);
    let edges = frontend_rows(&env, "otel_service_edges", "call_count", "source").await;
    assert_eq!(edges, [(minute(0), 10, 2), (minute(12), 1, 1)]);
    // The slot's histogram and extremes are those of its minutes.
    let (latency, min, max): (Vec<i64>, i64, i64) =
        sqlx::query_as("SELECT latency, latency_min_ns, latency_max_ns FROM otel_service_edges WHERE minutes = 10")
            .fetch_one(env.pool())
            .await
            .unwrap();
    let h = ollyscale::latency::Histogram::decode(&latency, min, max).unwrap();
    assert_eq!((h.count(), min, max), (2, 250 * MS as i64, 250 * MS as i64));

    // A late span in a compacted slot: at the slot's first minute it adds to the slot row, at another minute
    // it waits in a minute row for the next pass; nothing is counted twice, and a pass with nothing to do
    // changes nothing.
    env.traces(&caller_at(4, T0)).await;
    env.traces(&caller_at(5, T0 + 7 * MINUTE)).await;
    assert_eq!(services(&env).await, [(minute(0), 10, 6), (minute(7), 1, 2), (minute(12), 1, 2)]);
    ollyscale::write::compact::compact_rollups(env.pool(), closed).await.unwrap();
    assert_eq!(services(&env).await, [(minute(0), 10, 8), (minute(12), 1, 2)]);
    assert_eq!(ollyscale::write::compact::compact_rollups(env.pool(), closed).await.unwrap(), 0);
    assert_eq!(services(&env).await, [(minute(0), 10, 8), (minute(12), 1, 2)]);
    let spans: i64 = env.scalar("SELECT sum(span_count)::bigint FROM otel_service_rollups").await;
    assert_eq!(spans, env.count("otel_spans_fact").await);
}

#[tokio::test]
async fn the_sql_histogram_merge_equals_the_rust_one() {
    use ollyscale::latency::Histogram;
    let env = env().await;
    // Pseudo-random samples, 1 ns to ~17 s, overlapping and disjoint bucket sets, and empty ones.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..50 {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for _ in 0..(round % 7) * 5 {
            a.record((next() % (1 << (next() % 34))) as i64);
        }
        for _ in 0..(round % 5) * 9 {
            b.record((next() % (1 << (next() % 34))) as i64);
        }
        let merged: Vec<i64> = sqlx::query_scalar("SELECT ollyscale_latency_merge($1, $2)")
            .bind(a.encode())
            .bind(b.encode())
            .fetch_one(env.pool())
            .await
            .unwrap();
        let mut want = a.clone();
        want.merge(&b);
        assert_eq!(merged, want.encode(), "round {round}");
    }
}

/// The cross-batch lookups probe the trace index whatever the statistics say, also in a partition analyzed
/// while empty: PostgreSQL plans that one as a sequential scan, and once a batch has filled the partition the
/// scan runs once per looked-up span (a drain was seen to stall for 20 minutes on one batch that way).
#[tokio::test]
async fn lookups_probe_the_trace_index_even_in_partitions_analyzed_empty() {
    use ollyscale::write::rollups::{CHILD_LOOKUP, LOOKUP_SETTINGS, PARENT_LOOKUP};
    let env = env().await;
    env.traces(&req("a", vec![sp(1, 1, None, 2, T0, 10 * MS, false)])).await;
    let partitions: Vec<String> = sqlx::query_scalar(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'otel_spans_fact'::regclass",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert!(!partitions.is_empty());
    sqlx::raw_sql("TRUNCATE otel_spans_fact CASCADE").execute(env.pool()).await.unwrap();
    for p in &partitions {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {p}"))).execute(env.pool()).await.unwrap();
    }
    let mut tx = env.pool().begin().await.unwrap();
    sqlx::raw_sql(LOOKUP_SETTINGS).execute(&mut *tx).await.unwrap();
    for (name, lookup) in [("parent", PARENT_LOOKUP), ("child", CHILD_LOOKUP)] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PREPARE {name}_lookup(bytea[], bytea[], timestamptz[], int8[], int8) AS {lookup}"
        )))
        .execute(&mut *tx)
        .await
        .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "EXPLAIN EXECUTE {name}_lookup('{{}}', '{{}}', '{{}}', '{{}}', 1)"
        )))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        let plan = plan.join("\n");
        assert!(!plan.contains("Seq Scan on otel_spans_fact"), "{name} lookup:\n{plan}");
        assert!(plan.contains("Index Scan using otel_spans_fact_"), "{name} lookup:\n{plan}");
    }
}
