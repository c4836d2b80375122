//! Span rollups (services, operations, service-map edges) as the writer keeps them: pairs across batches in
//! either arrival order, one row per minute however many batches add to it, nothing added twice on replay.

use super::*;
use ollyscale::normalize::rollup::{Calls, EdgeKey, Service, SpanRollups, TargetType};
use ollyscale::write::rollup_tables::add_all;
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
    // Three 400 ms requests in one bucket, added up over the three batches.
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

/// A pseudo-random source for histograms: xorshift, so that a failure repeats.
fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Rollups of one write: every service, operation and edge key of `keys` (some shared with other writes,
/// some not), each with a few pseudo-random durations (1 ns to ~17 s) or none.
fn random_rollups(next: &mut impl FnMut() -> u64, keys: std::ops::Range<u64>) -> SpanRollups {
    let mut r = SpanRollups::default();
    for k in keys {
        let service = Service { name: format!("svc{}", k % 3), namespace: String::new() };
        let other = Service { name: format!("svc{}", k % 3 + 3), namespace: "ns".into() };
        let minute = (T0 / MINUTE + k % 4) * MINUTE;
        let calls = |next: &mut dyn FnMut() -> u64| {
            let mut c = Calls::default();
            for _ in 0..next() % 6 {
                let d = next() % (1 << (next() % 34));
                c.record(d as i64, d.is_multiple_of(3));
            }
            c
        };
        let m = r.services.entry((minute, service.clone())).or_default();
        m.spans += 1 + (next() % 5) as i64;
        m.requests = calls(next);
        r.operations.insert((service.clone(), minute, format!("op{k}"), (k % 5) as i16 + 1), calls(next));
        let edge = EdgeKey { minute, source: service, target: other, target_type: TargetType::Service };
        r.edges.insert(edge, calls(next));
    }
    r
}

/// Writes `r` as rows covering `minutes` in a transaction of its own, committed.
async fn write_committed(env: &Env, r: &SpanRollups, minutes: i16) {
    let mut tx = env.pool().begin().await.unwrap();
    ollyscale::write::rollups::write(&mut tx, r, minutes).await.unwrap();
    tx.commit().await.unwrap();
}

/// A stored rollup row: table, key as text, counts, latency, min, max, minutes.
pub(super) type RollupRow = (String, String, Vec<i64>, Vec<i64>, Option<i64>, Option<i64>, i16);

/// Every stored row of the three tables as (table, key text, counts, latency, min, max, minutes), by key.
pub(super) async fn stored_rollups(env: &Env) -> Vec<RollupRow> {
    sqlx::query_as(
        "SELECT 's', concat_ws('/', extract(epoch FROM bucket)::bigint, service_name, service_namespace), \
           ARRAY[span_count, request_count, error_count], latency, latency_min_ns, latency_max_ns, minutes \
         FROM otel_service_rollups \
         UNION ALL SELECT 'o', concat_ws('/', extract(epoch FROM bucket)::bigint, service_name, service_namespace, span_name, \
           span_kind), ARRAY[span_count, error_count], latency, latency_min_ns, latency_max_ns, minutes \
         FROM otel_operation_rollups \
         UNION ALL SELECT 'e', concat_ws('/', extract(epoch FROM bucket)::bigint, source, source_namespace, target, \
           target_namespace, target_type), ARRAY[call_count, error_count], latency, latency_min_ns, latency_max_ns, \
           minutes FROM otel_service_edges ORDER BY 1, 2",
    )
    .fetch_all(env.pool())
    .await
    .unwrap()
}

/// The rows `r` should leave in the tables, in [`stored_rollups`]' form, every row covering `minutes`.
fn expected_rows(r: &SpanRollups, minutes: i16) -> Vec<RollupRow> {
    let latency = |h: &ollyscale::latency::Histogram| {
        let timed = h.count() > 0;
        (h.encode(), timed.then(|| h.min()), timed.then(|| h.max()))
    };
    let secs = |ns: u64| (ns / 1_000_000_000).to_string();
    let mut rows = Vec::new();
    for ((minute, s), v) in &r.services {
        let (l, min, max) = latency(&v.requests.latency);
        let key = [secs(*minute), s.name.clone(), s.namespace.clone()].join("/");
        rows.push(("s".into(), key, vec![v.spans, v.requests.count, v.requests.errors], l, min, max, minutes));
    }
    for ((s, minute, name, kind), v) in &r.operations {
        let (l, min, max) = latency(&v.latency);
        let key = [secs(*minute), s.name.clone(), s.namespace.clone(), name.clone(), kind.to_string()].join("/");
        rows.push(("o".into(), key, vec![v.count, v.errors], l, min, max, minutes));
    }
    for (k, v) in &r.edges {
        let (l, min, max) = latency(&v.latency);
        let key = [
            secs(k.minute),
            k.source.name.clone(),
            k.source.namespace.clone(),
            k.target.name.clone(),
            k.target.namespace.clone(),
            k.target_type.as_str().to_string(),
        ]
        .join("/");
        rows.push(("e".into(), key, vec![v.count, v.errors], l, min, max, minutes));
    }
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    rows
}

/// The writer adds counts and histograms to stored rows key by key, over writes that share some keys and
/// not others, and rows with no durations keep NULL extremes.
#[tokio::test]
async fn the_writer_adds_each_write_to_the_stored_rows() {
    let env = env().await;
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut want = SpanRollups::default();
    for round in 0..12u64 {
        let r = random_rollups(&mut next, round * 3..round * 3 + 8);
        write_committed(&env, &r, 1).await;
        add_all(&mut want, &r);
    }
    assert_eq!(stored_rollups(&env).await, expected_rows(&want, 1));
}

/// A second writer adding to the rows a first one has locked waits for its commit, then adds to what it
/// committed: nothing is lost, neither on rows that existed nor on rows the first one inserted.
#[tokio::test]
async fn two_writers_adding_to_the_same_rows_lose_nothing() {
    let env = env().await;
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    // Keys 0..6 exist before; the two writers share 3..10, so 6..10 are new to both.
    let before = random_rollups(&mut next, 0..6);
    let (first, second) = (random_rollups(&mut next, 3..10), random_rollups(&mut next, 3..12));
    write_committed(&env, &before, 1).await;

    let mut a = env.pool().begin().await.unwrap();
    ollyscale::write::rollups::write(&mut a, &first, 1).await.unwrap();
    let pool = env.pool().clone();
    let b_rollups = second.clone();
    let b = tokio::spawn(async move {
        let mut b = pool.begin().await.unwrap();
        ollyscale::write::rollups::write(&mut b, &b_rollups, 1).await.unwrap();
        b.commit().await.unwrap();
    });
    // The second writer is waiting on a row lock of the first.
    let mut waiting = false;
    for _ in 0..200 {
        let n: i64 = env
            .scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' \
                 AND query LIKE 'INSERT INTO otel_%'",
            )
            .await;
        if n > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(waiting, "the second writer did not wait for the first");
    assert!(!b.is_finished());
    a.commit().await.unwrap();
    b.await.unwrap();

    let mut want = before;
    add_all(&mut want, &first);
    add_all(&mut want, &second);
    assert_eq!(stored_rollups(&env).await, expected_rows(&want, 1));
}

/// A writer's minute rows added to a compacted slot row (a late span in the slot's first minute) leave it a
/// slot row.
#[tokio::test]
async fn a_slot_row_stays_one_when_minutes_are_added_to_it() {
    let env = env().await;
    let mut next = xorshift(0x1234_5678_9abc_def1);
    let (slot, late) = (random_rollups(&mut next, 0..4), random_rollups(&mut next, 0..4));
    write_committed(&env, &slot, 10).await;
    write_committed(&env, &late, 1).await;
    let mut want = slot;
    add_all(&mut want, &late);
    assert_eq!(stored_rollups(&env).await, expected_rows(&want, 10));
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
