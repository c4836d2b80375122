//! Spans as the writer stores them (ids, parents, events, links, attributes, status, times, flags, their
//! resource), and the trace queries answering from them: search by time window, one trace as a waterfall,
//! a trace's spans by start time.

use ollyscale::query::params::Window;
use ollyscale::query::traces::{TraceQuery, find_traces};
use ollyscale::query::{QueryOptions, QueryState};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::Value;

use super::*;
use crate::api::{api, hex, ok};

fn sp(trace: u8, id: u8, parent: Option<u8>, name: &str, start: u64, end: u64) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        kind: 1,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        ..Default::default()
    }
}

fn req(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(vec![kv("service.name", s(service))])),
            scope_spans: vec![ScopeSpans { scope: Some(scope("tracer", "1")), spans, schema_url: String::new() }],
            schema_url: String::new(),
        }],
    }
}

async fn one(span: Span) -> Env {
    let env = env().await;
    env.traces(&req("svc", vec![span])).await;
    env
}

async fn col<T>(env: &Env, c: &str) -> T
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    env.scalar(&format!("SELECT {c} FROM otel_spans_fact")).await
}

async fn names(env: &Env, cond: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT f.name FROM otel_spans_fact f JOIN otel_resources_dim r USING (resource_id) WHERE {cond} \
         ORDER BY f.start_time, f.span_row_id"
    )))
    .fetch_all(env.pool())
    .await
    .unwrap()
}

// ---- ingestion ----

#[tokio::test]
async fn store_simple_span() {
    let env = one(sp(1, 1, None, "GET /", T0, T0 + 5)).await;
    assert_eq!(env.count("otel_spans_fact").await, 1);
    assert_eq!(col::<String>(&env, "name").await, "GET /");
    assert_eq!(col::<Vec<u8>>(&env, "trace_id").await, vec![1; 16]);
    assert_eq!(col::<Vec<u8>>(&env, "span_id").await, vec![1; 8]);
}

#[tokio::test]
async fn store_span_with_parent() {
    let env = one(sp(1, 2, Some(1), "child", T0, T0 + 5)).await;
    assert_eq!(col::<Option<Vec<u8>>>(&env, "parent_span_id").await, Some(vec![1; 8]));
}

#[tokio::test]
async fn root_span_has_null_parent() {
    let env = one(sp(1, 1, None, "root", T0, T0 + 5)).await;
    assert_eq!(col::<Option<Vec<u8>>>(&env, "parent_span_id").await, None);
}

#[tokio::test]
async fn store_span_with_events() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 100);
    s1.events = vec![
        span::Event {
            time_unix_nano: T0 + 10,
            name: "first".into(),
            attributes: vec![kv("p.e", i(1))],
            dropped_attributes_count: 1,
        },
        span::Event { time_unix_nano: T0 + 20, name: "second".into(), attributes: vec![], dropped_attributes_count: 0 },
    ];
    let env = one(s1).await;
    let rows: Vec<(i32, String, i16, i32)> = sqlx::query_as(
        "SELECT event_index::int4, name, time_nanos_fraction, dropped_attributes_count FROM otel_span_events ORDER BY event_index",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(rows, [(0, "first".to_string(), 799, 1), (1, "second".to_string(), 809, 0)]);
    let owner_ok: bool = env
        .scalar("SELECT bool_and(e.span_row_id = f.span_row_id AND e.span_start_time = f.start_time) FROM otel_span_events e, otel_spans_fact f")
        .await;
    assert!(owner_ok, "events reference their span and carry its start time (the partition key)");
    let v: i64 = env.scalar("SELECT value FROM otel_span_event_attrs_int").await;
    assert_eq!(v, 1);
}

#[tokio::test]
async fn store_span_with_links() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 100);
    s1.links = vec![span::Link {
        trace_id: vec![9; 16],
        span_id: vec![8; 8],
        trace_state: "a=b".into(),
        attributes: vec![kv("p.l", s("x")), kv("o", b(true))],
        dropped_attributes_count: 3,
        flags: 0x100,
    }];
    let env = one(s1).await;
    let (tid, sid, ts, flags, dropped): (Vec<u8>, Vec<u8>, String, i32, i32) =
        sqlx::query_as("SELECT trace_id, span_id, trace_state, flags, dropped_attributes_count FROM otel_span_links")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((tid, sid, ts.as_str(), flags, dropped), (vec![9; 16], vec![8; 8], "a=b", 0x100, 3));
    assert_eq!(env.scalar::<String>("SELECT value FROM otel_span_link_attrs_string").await, "x");
    assert_eq!(env.scalar::<String>("SELECT attributes::text FROM otel_span_link_attrs_other").await, r#"{"o": true}"#);
}

#[tokio::test]
async fn store_span_with_attributes() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 1);
    s1.attributes = vec![kv("p.route", s("/a")), kv("p.code", i(500)), kv("extra", d(1.5))];
    let env = one(s1).await;
    assert_eq!(
        env.scalar::<String>("SELECT attributes::text FROM otel_attribute_sets").await,
        r#"{"p.code": 500, "p.route": "/a"}"#
    );
    assert_eq!(env.scalar::<String>("SELECT attributes::text FROM otel_spans_fact").await, r#"{"extra": 1.5}"#);
}

#[tokio::test]
async fn timestamp_nanos_precision() {
    let env = one(sp(1, 1, None, "op", T0, T0 + 1_000_000_001)).await;
    assert_eq!(col::<i16>(&env, "start_time_nanos_fraction").await, 789);
    assert_eq!(col::<i16>(&env, "end_time_nanos_fraction").await, 790);
    assert_eq!(col::<i64>(&env, "duration_ns").await, 1_000_000_001);
}

#[tokio::test]
async fn zero_duration_span() {
    let env = one(sp(1, 1, None, "instant", T0, T0)).await;
    assert_eq!(col::<i64>(&env, "duration_ns").await, 0);
}

#[tokio::test]
async fn trace_state_and_flags() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 1);
    s1.trace_state = "rojo=00f067aa0ba902b7".into();
    s1.flags = 0x0000_0301;
    let env = one(s1).await;
    assert_eq!(col::<String>(&env, "trace_state").await, "rojo=00f067aa0ba902b7");
    assert_eq!(col::<i32>(&env, "flags").await, 0x301);
}

#[tokio::test]
async fn dropped_counts() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 1);
    s1.dropped_attributes_count = 1;
    s1.dropped_events_count = 2;
    s1.dropped_links_count = 3;
    let env = one(s1).await;
    let got: (i32, i32, i32) = sqlx::query_as(
        "SELECT dropped_attributes_count, dropped_events_count, dropped_links_count FROM otel_spans_fact",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!(got, (1, 2, 3));
}

#[tokio::test]
async fn every_span_kind() {
    let env = env().await;
    let spans = (0..6).map(|k| Span { kind: k, ..sp(1, k as u8 + 1, None, &format!("k{k}"), T0, T0 + 1) }).collect();
    env.traces(&req("svc", spans)).await;
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT k.name FROM otel_spans_fact f JOIN span_kinds k ON k.id = f.kind ORDER BY f.span_row_id",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(kinds, ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]);
}

#[tokio::test]
async fn unicode_span_name() {
    let env = one(sp(1, 1, None, "заказ ✓ 注文", T0, T0 + 1)).await;
    assert_eq!(col::<String>(&env, "name").await, "заказ ✓ 注文");
}

#[tokio::test]
async fn span_without_events_or_links_writes_no_such_rows() {
    let env = one(sp(1, 1, None, "op", T0, T0 + 1)).await;
    assert_eq!(env.count("otel_span_events").await + env.count("otel_span_links").await, 0);
}

#[tokio::test]
async fn row_ids_are_unique_across_spans_events_and_links() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 100);
    s1.events = vec![span::Event { time_unix_nano: T0, name: "e".into(), ..Default::default() }; 3];
    s1.links = vec![span::Link { trace_id: vec![2; 16], span_id: vec![2; 8], ..Default::default() }; 2];
    let env = env().await;
    env.traces(&req("svc", vec![s1.clone(), Span { span_id: vec![5; 8], ..s1 }])).await;
    let (n, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT id) FROM (SELECT span_row_id id FROM otel_spans_fact UNION ALL \
         SELECT event_row_id FROM otel_span_events UNION ALL SELECT link_row_id FROM otel_span_links) t",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!((n, distinct), (12, 12));
}

#[tokio::test]
async fn many_spans_over_several_records_in_one_batch() {
    let env = env().await;
    let recs: Vec<wal::Record> = (0..10)
        .map(|r| {
            let spans = (0..100).map(|n| sp(r as u8, n as u8, None, "op", T0 + n, T0 + n + 1)).collect();
            env.traces_record(&req(&format!("svc{}", r % 3), spans))
        })
        .collect();
    let report = env.ingest(recs).await;
    assert_eq!(report.transactions, 1);
    assert_eq!(env.scalar::<i64>("SELECT count(DISTINCT span_row_id) FROM otel_spans_fact").await, 1000);
    assert_eq!(env.count("otel_resources_dim").await, 3);
}

#[tokio::test]
async fn several_resources_in_one_request() {
    let env = env().await;
    let mut r = req("a", vec![sp(1, 1, None, "in-a", T0, T0 + 1)]);
    r.resource_spans.extend(req("b", vec![sp(1, 2, None, "in-b", T0, T0 + 1)]).resource_spans);
    env.traces(&r).await;
    assert_eq!(names(&env, "r.service_name = 'b'").await, ["in-b"]);
    assert_eq!(names(&env, "r.service_name = 'a'").await, ["in-a"]);
}

// ---- status ----

#[tokio::test]
async fn span_status_ok() {
    let env =
        one(Span { status: Some(Status { message: String::new(), code: 1 }), ..sp(1, 1, None, "op", T0, T0 + 1) })
            .await;
    assert_eq!(col::<i16>(&env, "status_code").await, 1);
}

#[tokio::test]
async fn span_status_error() {
    let env = one(Span {
        status: Some(Status { message: "timeout ✗".into(), code: 2 }),
        ..sp(1, 1, None, "op", T0, T0 + 1)
    })
    .await;
    assert_eq!(col::<i16>(&env, "status_code").await, 2);
    assert_eq!(col::<String>(&env, "status_message").await, "timeout ✗");
    let name: String =
        env.scalar("SELECT c.name FROM otel_spans_fact f JOIN status_codes c ON c.id = f.status_code").await;
    assert_eq!(name, "ERROR");
}

#[tokio::test]
async fn span_status_unset() {
    let env = one(sp(1, 1, None, "op", T0, T0 + 1)).await;
    assert_eq!(col::<i16>(&env, "status_code").await, 0);
    assert_eq!(col::<String>(&env, "status_message").await, "");
}

#[tokio::test]
async fn span_attributes_with_the_shipped_promotion() {
    let env = env_with(Promotion::defaults()).await;
    let mut s1 = sp(1, 1, None, "GET /items", T0, T0 + 1);
    s1.attributes = vec![
        kv("http.request.method", s("GET")),
        kv("http.response.status_code", i(404)),
        kv("url.path", s("/items")),
        kv("app.tenant", s("t1")),
    ];
    s1.events = vec![span::Event {
        time_unix_nano: T0,
        name: "exception".into(),
        attributes: vec![kv("exception.type", s("IOError")), kv("exception.escaped", b(true))],
        dropped_attributes_count: 0,
    }];
    env.traces(&req("svc", vec![s1])).await;
    // url.path is high-cardinality by default: on the span's row with the unpromoted key; the method and
    // status code form the span's set.
    let row: Value =
        serde_json::from_str(&env.scalar::<String>("SELECT attributes::text FROM otel_spans_fact").await).unwrap();
    assert_eq!(row, serde_json::json!({"url.path": "/items", "app.tenant": "t1"}));
    assert_eq!(
        env.scalar::<String>("SELECT attributes::text FROM otel_attribute_sets").await,
        r#"{"http.request.method": "GET", "http.response.status_code": 404}"#
    );
    assert_eq!(env.scalar::<String>("SELECT value FROM otel_span_event_attrs_string").await, "IOError");
    assert!(env.scalar::<bool>("SELECT value FROM otel_span_event_attrs_bool").await);
}

#[tokio::test]
async fn many_events_keep_their_order() {
    let mut s1 = sp(1, 1, None, "op", T0, T0 + 1000);
    s1.events = (0..50)
        .map(|n| span::Event { time_unix_nano: T0 + 50 - n, name: format!("e{n}"), ..Default::default() })
        .collect();
    let env = one(s1).await;
    let got: Vec<String> = sqlx::query_scalar("SELECT name FROM otel_span_events ORDER BY event_index")
        .fetch_all(env.pool())
        .await
        .unwrap();
    let expected: Vec<String> = (0..50).map(|n| format!("e{n}")).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn spans_days_apart_are_all_stored() {
    let day = 86_400_000_000_000u64;
    let env = env().await;
    env.traces(&req(
        "svc",
        vec![sp(1, 1, None, "old", T0 - 3 * day, T0 - 3 * day + 1), sp(1, 2, None, "new", T0 + day, T0 + day + 1)],
    ))
    .await;
    assert_eq!(names(&env, "true").await, ["old", "new"]);
}

// ---- the trace queries over stored spans ----

async fn tree() -> Env {
    // trace 1: root(1) -> a(2) -> c(4), root -> b(3); trace 2: lone(5) in another service, 5 s later.
    let env = env().await;
    env.traces(&req(
        "front",
        vec![
            sp(1, 1, None, "root", T0, T0 + 100),
            sp(1, 2, Some(1), "a", T0 + 10, T0 + 50),
            sp(1, 3, Some(1), "b", T0 + 20, T0 + 60),
            sp(1, 4, Some(2), "c", T0 + 30, T0 + 40),
        ],
    ))
    .await;
    env.traces(&req("back", vec![sp(2, 5, None, "lone", T0 + 5_000_000_000, T0 + 5_000_000_100)])).await;
    env
}

/// Root span names of the traces the trace search finds with spans starting in `[from, to)`.
async fn traces_starting_in(env: &Env, from: u64, to: u64) -> Vec<String> {
    let st = QueryState::new(env.pool().clone(), QueryOptions::default());
    let page = find_traces(&st, &TraceQuery::new(Window { from, to }, 100)).await.unwrap();
    page.traces.into_iter().map(|t| t.root_name.unwrap_or_default()).collect()
}

#[tokio::test]
async fn search_by_time_window() {
    let env = tree().await;
    assert_eq!(traces_starting_in(&env, T0 + 1_000_000_000, T0 + 10_000_000_000).await, ["lone"]);
    assert_eq!(traces_starting_in(&env, T0, T0 + 1_000_000_000).await, ["root"]);
    assert_eq!(traces_starting_in(&env, T0, T0 + 10_000_000_000).await, ["lone", "root"]);
    assert_eq!(traces_starting_in(&env, T0 + 1_000, T0 + 1_000_000_000).await, Vec::<String>::new());
}

#[tokio::test]
async fn trace_by_id_is_a_depth_first_waterfall() {
    let env = tree().await;
    let v = ok(&api(&env), &format!("/traces/{}", hex(&[1; 16]))).await;
    let got: Vec<(&str, u64, Value)> = v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["depth"].as_u64().unwrap(), s["parent_span_id"].clone()))
        .collect();
    let span = |n: u8| Value::from(hex(&[n; 8]));
    assert_eq!(
        got,
        [("root", 0, Value::Null), ("a", 1, span(1)), ("c", 2, span(2)), ("b", 1, span(1))],
        "the root first, each span's subtree before its next sibling, siblings by start time"
    );
}

#[tokio::test]
async fn trace_spans_come_in_start_order() {
    let env = tree().await;
    let v = ok(&api(&env), &format!("/traces/{}/spans", hex(&[1; 16]))).await;
    let got: Vec<(&str, u64)> = v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["duration_ns"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, [("root", 100), ("a", 40), ("b", 40), ("c", 10)]);
}
