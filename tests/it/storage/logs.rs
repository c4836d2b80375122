//! Log records as the writer stores them (times and their fallbacks, bodies of every type, severity, trace
//! context, attributes, resources), and the log queries answering from them: search by time window, the
//! logs of each span of a trace.

use serde_json::Value;

use super::*;
use crate::api::{api, hex, ok, url};

fn one(l: LogRecord) -> ExportLogsServiceRequest {
    logs_req(resource(vec![kv("service.name", s("svc"))]), scope("lib", "1"), vec![l])
}

async fn single<T>(env: &Env, col: &str) -> T
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    env.scalar(&format!("SELECT {col} FROM otel_logs_fact")).await
}

async fn body_env(body: Option<AnyValue>) -> Env {
    let env = env().await;
    env.logs(&one(LogRecord { body, ..log(T0, "") })).await;
    env
}

// ---- ingestion ----

#[tokio::test]
async fn store_simple_log() {
    let env = env().await;
    env.logs(&one(LogRecord { time_unix_nano: T0, ..Default::default() })).await;
    assert_eq!(env.count("otel_logs_fact").await, 1);
    assert_eq!(single::<i16>(&env, "severity_number").await, 0);
    assert_eq!(single::<String>(&env, "severity_text").await, "");
    assert_eq!(single::<i16>(&env, "body_type").await, 0);
    assert!(!single::<bool>(&env, "time_unset").await);
}

#[tokio::test]
async fn store_log_with_trace_correlation() {
    let env = env().await;
    env.logs(&one(LogRecord { trace_id: vec![0xab; 16], span_id: vec![0xcd; 8], ..log(T0, "x") })).await;
    assert_eq!(single::<Vec<u8>>(&env, "trace_id").await, vec![0xab; 16]);
    assert_eq!(single::<Vec<u8>>(&env, "span_id").await, vec![0xcd; 8]);
}

#[tokio::test]
async fn log_without_trace_context_has_null_ids() {
    let env = env().await;
    env.logs(&simple_logs("svc", "x")).await;
    assert_eq!(single::<Option<Vec<u8>>>(&env, "trace_id").await, None);
    assert_eq!(single::<Option<Vec<u8>>>(&env, "span_id").await, None);
}

#[tokio::test]
async fn store_log_with_attributes() {
    let env = env().await;
    env.logs(&one(LogRecord { attributes: vec![kv("p.user", s("ann")), kv("plain", i(1))], ..log(T0, "x") })).await;
    // The promoted attribute is the record's attribute set, the other one on its own row.
    let (level, set): (i16, String) =
        sqlx::query_as("SELECT level, attributes::text FROM otel_attribute_sets").fetch_one(env.pool()).await.unwrap();
    assert_eq!((level, set.as_str()), (2, r#"{"p.user": "ann"}"#));
    let carried: i64 = env
        .scalar("SELECT count(*) FROM otel_logs_fact f JOIN otel_attribute_sets a ON a.set_key = f.attr_set_key")
        .await;
    assert_eq!(carried, 1);
    assert_eq!(env.scalar::<String>("SELECT attributes::text FROM otel_logs_fact").await, r#"{"plain": 1}"#);
    assert_eq!(env.count("otel_log_attrs_other").await, 0);
}

#[tokio::test]
async fn store_log_batch() {
    let env = env().await;
    let records: Vec<LogRecord> = (0..500).map(|n| log(T0 + n, &format!("m{n}"))).collect();
    let recs = vec![
        env.logs_record(&logs_req(resource(vec![]), scope("a", ""), records.clone())),
        env.logs_record(&logs_req(resource(vec![]), scope("b", ""), records)),
    ];
    let report = env.ingest(recs).await;
    assert_eq!(report.transactions, 1);
    assert_eq!(env.count("otel_logs_fact").await, 1000);
    assert_eq!(env.scalar::<i64>("SELECT count(DISTINCT log_id) FROM otel_logs_fact").await, 1000);
}

#[tokio::test]
async fn timestamp_nanos_precision() {
    let env = env().await;
    env.logs(&one(LogRecord { time_unix_nano: T0, observed_time_unix_nano: T0 + 1, ..log(T0, "x") })).await;
    assert_eq!(single::<i16>(&env, "time_nanos_fraction").await, 789);
    assert_eq!(single::<i16>(&env, "observed_time_nanos_fraction").await, 790);
    let t: chrono::DateTime<chrono::Utc> = single(&env, "time").await;
    assert_eq!(t.timestamp_micros(), (T0 / 1000) as i64);
}

#[tokio::test]
async fn time_unset_falls_back_to_observed_time() {
    let env = env().await;
    env.logs(&one(LogRecord { time_unix_nano: 0, observed_time_unix_nano: T0 + 7, ..log(T0, "x") })).await;
    assert!(single::<bool>(&env, "time_unset").await);
    assert_eq!(single::<i16>(&env, "time_nanos_fraction").await, 796);
}

#[tokio::test]
async fn time_and_observed_time_unset_fall_back_to_receive_time() {
    let env = env().await;
    env.logs(&one(LogRecord { time_unix_nano: 0, observed_time_unix_nano: 0, ..log(T0, "x") })).await;
    assert!(single::<bool>(&env, "time_unset").await);
    let t: chrono::DateTime<chrono::Utc> = single(&env, "time").await;
    assert_eq!(t.timestamp_micros(), (RECEIVED_AT / 1000) as i64);
    assert_eq!(single::<Option<chrono::DateTime<chrono::Utc>>>(&env, "observed_time").await, None);
}

// ---- bodies ----

#[tokio::test]
async fn body_empty() {
    let env = body_env(None).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 0);
    assert_eq!(env.scalar::<i32>("SELECT num_nonnulls(body_string, body_int, body_double, body_bool, body_bytes, body_json) FROM otel_logs_fact").await, 0);
}

#[tokio::test]
async fn body_string() {
    let env = body_env(Some(s("héllo\nworld"))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 1);
    assert_eq!(single::<String>(&env, "body_string").await, "héllo\nworld");
}

#[tokio::test]
async fn body_int() {
    let env = body_env(Some(i(-3))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 2);
    assert_eq!(single::<i64>(&env, "body_int").await, -3);
}

#[tokio::test]
async fn body_double() {
    let env = body_env(Some(d(6.5))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 3);
    assert_eq!(single::<f64>(&env, "body_double").await, 6.5);
}

#[tokio::test]
async fn body_bool() {
    let env = body_env(Some(b(true))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 4);
    assert!(single::<bool>(&env, "body_bool").await);
}

#[tokio::test]
async fn body_bytes() {
    let env = body_env(Some(by(&[1, 2, 3]))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 5);
    assert_eq!(single::<Vec<u8>>(&env, "body_bytes").await, [1, 2, 3]);
}

#[tokio::test]
async fn body_array() {
    let env = body_env(Some(arr(vec![s("a"), d(1.0)]))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 6);
    assert_eq!(single::<String>(&env, "body_json::text").await, r#"["a", 1.0]"#);
}

#[tokio::test]
async fn body_kvlist() {
    let env = body_env(Some(kvl(vec![kv("user", s("ann")), kv("n", i(2))]))).await;
    assert_eq!(single::<i16>(&env, "body_type").await, 7);
    assert_eq!(single::<String>(&env, "body_json::text").await, r#"{"kvlist": {"n": 2, "user": "ann"}}"#);
}

// ---- other fields ----

#[tokio::test]
async fn severity_number_and_text() {
    let env = env().await;
    env.logs(&one(LogRecord { severity_number: 17, severity_text: "ERROR".into(), ..log(T0, "x") })).await;
    assert_eq!(single::<i16>(&env, "severity_number").await, 17);
    assert_eq!(single::<String>(&env, "severity_text").await, "ERROR");
    let name: String =
        env.scalar("SELECT s.name FROM otel_logs_fact f JOIN log_severity_numbers s ON s.id = f.severity_number").await;
    assert_eq!(name, "ERROR");
}

#[tokio::test]
async fn flags_keep_their_u32_bit_pattern() {
    let env = env().await;
    env.logs(&one(LogRecord { flags: 0x8000_0001, ..log(T0, "x") })).await;
    assert_eq!(single::<i32>(&env, "flags").await as u32, 0x8000_0001);
}

#[tokio::test]
async fn event_name_stored() {
    let env = env().await;
    env.logs(&one(LogRecord { event_name: "browser.page_view".into(), ..log(T0, "x") })).await;
    assert_eq!(single::<String>(&env, "event_name").await, "browser.page_view");
}

#[tokio::test]
async fn dropped_attributes_count_stored() {
    let env = env().await;
    env.logs(&one(LogRecord { dropped_attributes_count: 9, ..log(T0, "x") })).await;
    assert_eq!(single::<i32>(&env, "dropped_attributes_count").await, 9);
}

// ---- the log queries over stored records ----

async fn searchable() -> Env {
    let env = env().await;
    let mk = |n: u64, sev: i32, tid: u8, sid: u8| LogRecord {
        severity_number: sev,
        trace_id: vec![tid; 16],
        span_id: vec![sid; 8],
        attributes: vec![kv("p.user", s(if n.is_multiple_of(2) { "ann" } else { "bob" }))],
        ..log(T0 + n * 1_000_000_000, &format!("m{n}"))
    };
    env.logs(&logs_req(
        resource(vec![kv("service.name", s("api"))]),
        scope("l", ""),
        vec![mk(0, 9, 1, 1), mk(1, 17, 1, 2), mk(2, 9, 1, 2)],
    ))
    .await;
    env.logs(&logs_req(
        resource(vec![kv("service.name", s("db"))]),
        scope("l", ""),
        vec![mk(3, 13, 2, 3), mk(4, 21, 3, 4)],
    ))
    .await;
    env
}

/// Bodies of the log records in an `/api/v2` answer.
fn bodies(v: &Value) -> Vec<&str> {
    v["logs"].as_array().unwrap().iter().map(|l| l["body"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn search_by_time_window() {
    let env = searchable().await;
    let window = [("from", (T0 + 1_000_000_000).to_string()), ("to", (T0 + 2_500_000_000).to_string())];
    let params: Vec<(&str, &str)> = window.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let v = ok(&api(&env), &url("/logs/search", &params)).await;
    assert_eq!(bodies(&v), ["m2", "m1"], "records from `from` (inclusive) up to `to`, newest first");
}

#[tokio::test]
async fn logs_of_each_span_of_a_trace() {
    let env = searchable().await;
    let app = api(&env);
    let trace = hex(&[1; 16]);
    let of_span = |span: u8| format!("/logs/trace/{trace}/span/{}", hex(&[span; 8]));
    assert_eq!(bodies(&ok(&app, &of_span(1)).await), ["m0"]);
    assert_eq!(bodies(&ok(&app, &of_span(2)).await), ["m1", "m2"], "oldest first");
    assert_eq!(bodies(&ok(&app, &of_span(3)).await), Vec::<&str>::new(), "span 3 logged in another trace");
}

// ---- resource reuse ----

#[tokio::test]
async fn same_resource_reused() {
    let env = searchable().await;
    assert_eq!(env.scalar::<i64>("SELECT count(DISTINCT resource_id) FROM otel_logs_fact").await, 2);
    assert_eq!(env.count("otel_resources_dim").await, 2);
}

#[tokio::test]
async fn different_resources_separate() {
    let env = searchable().await;
    let names: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT r.service_name FROM otel_logs_fact f JOIN otel_resources_dim r USING (resource_id) ORDER BY f.time",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    let names: Vec<&str> = names.iter().map(|n| n.as_deref().unwrap()).collect();
    assert_eq!(names, ["api", "api", "api", "db", "db"]);
}

#[tokio::test]
async fn rows_written_are_counted_per_table() {
    let env = searchable().await;
    let rows = env.telemetry.rows_written.lock().unwrap().clone();
    assert_eq!(rows.get("otel_logs_fact"), Some(&5));
    // Their one promoted attribute each is in an attribute set, not a row per record.
    assert_eq!(rows.get("otel_log_attrs_string"), None);
}

#[tokio::test]
async fn log_ids_come_from_reserved_blocks() {
    let env = env().await;
    env.logs(&simple_logs("svc", "a")).await;
    env.logs(&simple_logs("svc", "b")).await;
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT log_id FROM otel_logs_fact ORDER BY log_id").fetch_all(env.pool()).await.unwrap();
    let last_block: i64 = env.scalar("SELECT last_value FROM otel_id_block_seq").await;
    // Each batch reserved its own block: the second id is in the block the sequence handed out last.
    assert_eq!(ids[1] / 65536, last_block);
    assert_ne!(ids[0] / 65536, ids[1] / 65536);
}
