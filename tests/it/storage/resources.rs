//! Resources and scopes as the writer stores them: identity by content hash (attributes in any order, schema
//! URL), one row per distinct resource or scope, service name and namespace extracted, `first_seen` /
//! `last_seen`, the dimension caches, and resource attributes in their typed tables.

use super::*;

fn logs_with(res: Resource, sc: InstrumentationScope) -> ExportLogsServiceRequest {
    logs_req(res, sc, vec![log(T0, "x")])
}

async fn resource_ids(env: &Env) -> Vec<i64> {
    sqlx::query_scalar("SELECT resource_id FROM otel_logs_fact ORDER BY log_id").fetch_all(env.pool()).await.unwrap()
}

async fn scope_ids(env: &Env) -> Vec<i64> {
    sqlx::query_scalar("SELECT scope_id FROM otel_logs_fact ORDER BY log_id").fetch_all(env.pool()).await.unwrap()
}

// ---- hashing ----

#[tokio::test]
async fn resource_hash_deterministic() {
    let env = env().await;
    let req = simple_logs("svc", "a");
    env.ingest(vec![env.logs_record(&req), env.logs_record(&req)]).await;
    env.logs(&req).await;
    assert_eq!(env.count("otel_resources_dim").await, 1);
    let hash: Vec<u8> = env.scalar("SELECT resource_hash FROM otel_resources_dim").await;
    assert_eq!(hash.len(), 32);
}

#[tokio::test]
async fn resource_hash_order_independent() {
    let env = env().await;
    let a = resource(vec![kv("service.name", s("x")), kv("host.name", s("h")), kv("k", i(1))]);
    let b = resource(vec![kv("k", i(1)), kv("host.name", s("h")), kv("service.name", s("x"))]);
    env.logs(&logs_with(a, scope("l", "1"))).await;
    env.logs(&logs_with(b, scope("l", "1"))).await;
    assert_eq!(env.count("otel_resources_dim").await, 1);
    let ids = resource_ids(&env).await;
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn resource_hash_changes_with_values() {
    let env = env().await;
    env.logs(&simple_logs("one", "a")).await;
    env.logs(&simple_logs("two", "a")).await;
    assert_eq!(env.count("otel_resources_dim").await, 2);
}

#[tokio::test]
async fn resource_hash_changes_with_value_type() {
    let env = env().await;
    env.logs(&logs_with(resource(vec![kv("k", s("1"))]), scope("l", ""))).await;
    env.logs(&logs_with(resource(vec![kv("k", i(1))]), scope("l", ""))).await;
    assert_eq!(env.count("otel_resources_dim").await, 2);
}

#[tokio::test]
async fn resource_schema_url_is_part_of_identity() {
    let env = env().await;
    let mut a = simple_logs("svc", "a");
    env.logs(&a).await;
    a.resource_logs[0].schema_url = "https://opentelemetry.io/schemas/1.26.0".into();
    env.logs(&a).await;
    let urls: Vec<String> = sqlx::query_scalar("SELECT schema_url FROM otel_resources_dim ORDER BY resource_id")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert_eq!(urls, ["", "https://opentelemetry.io/schemas/1.26.0"]);
}

#[tokio::test]
async fn scope_hash_deterministic() {
    let env = env().await;
    let req = simple_logs("svc", "a");
    env.logs(&req).await;
    env.logs(&simple_logs("other-service", "b")).await;
    assert_eq!(env.count("otel_scopes_dim").await, 1);
    let ids = scope_ids(&env).await;
    assert_eq!(ids[0], ids[1]);
}

// ---- deduplication ----

#[tokio::test]
async fn new_resource_is_stored_with_its_receive_time() {
    let env = env().await;
    env.logs(&simple_logs("svc", "a")).await;
    let (first, last): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT first_seen, last_seen FROM otel_resources_dim").fetch_one(env.pool()).await.unwrap();
    assert_eq!(first, last);
    assert_eq!(first.timestamp_micros(), (RECEIVED_AT / 1000) as i64, "first_seen is the receive time");
    let rid: i64 = env.scalar("SELECT resource_id FROM otel_resources_dim").await;
    assert_eq!(resource_ids(&env).await, [rid]);
}

#[tokio::test]
async fn same_resource_is_stored_once() {
    let env = env().await;
    env.logs(&simple_logs("svc", "a")).await;
    env.logs(&simple_logs("svc", "b")).await;
    let ids = resource_ids(&env).await;
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(env.count("otel_resource_attrs_string").await, 1, "attributes are stored once per resource");
}

#[tokio::test]
async fn service_name_extracted() {
    let env = env().await;
    env.logs(&simple_logs("checkout ✓", "a")).await;
    let name: Option<String> = env.scalar("SELECT service_name FROM otel_resources_dim").await;
    assert_eq!(name.as_deref(), Some("checkout ✓"));
}

#[tokio::test]
async fn service_namespace_extracted() {
    let env = env().await;
    let res = resource(vec![kv("service.name", s("a")), kv("service.namespace", s("shop"))]);
    env.logs(&logs_with(res, scope("l", ""))).await;
    let ns: Option<String> = env.scalar("SELECT service_namespace FROM otel_resources_dim").await;
    assert_eq!(ns.as_deref(), Some("shop"));
}

#[tokio::test]
async fn service_name_that_is_not_a_string_is_null_but_kept_as_attribute() {
    let env = env().await;
    env.logs(&logs_with(resource(vec![kv("service.name", i(5))]), scope("l", ""))).await;
    let name: Option<String> = env.scalar("SELECT service_name FROM otel_resources_dim").await;
    assert_eq!(name, None);
    let v: i64 = env.scalar("SELECT value FROM otel_resource_attrs_int").await;
    assert_eq!(v, 5);
}

#[tokio::test]
async fn resource_without_attributes() {
    let env = env().await;
    let mut req = simple_logs("x", "a");
    req.resource_logs[0].resource = None;
    env.logs(&req).await;
    let (name, ns): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT service_name, service_namespace FROM otel_resources_dim")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((name, ns), (None, None));
    assert_eq!(env.count("otel_resource_attrs_string").await + env.count("otel_resource_attrs_other").await, 0);
}

#[tokio::test]
async fn resource_dropped_attributes_count_stored() {
    let env = env().await;
    let mut res = resource(vec![kv("service.name", s("a"))]);
    res.dropped_attributes_count = 12;
    env.logs(&logs_with(res, scope("l", ""))).await;
    let n: i32 = env.scalar("SELECT dropped_attributes_count FROM otel_resources_dim").await;
    assert_eq!(n, 12);
}

// ---- scopes ----

#[tokio::test]
async fn new_scope_is_stored() {
    let env = env().await;
    env.logs(&logs_with(resource(vec![]), scope("io.opentelemetry.jdbc", "2.1.0"))).await;
    let (name, version): (String, String) =
        sqlx::query_as("SELECT name, version FROM otel_scopes_dim").fetch_one(env.pool()).await.unwrap();
    assert_eq!((name.as_str(), version.as_str()), ("io.opentelemetry.jdbc", "2.1.0"));
}

#[tokio::test]
async fn same_scope_is_stored_once_across_resources() {
    let env = env().await;
    env.logs(&logs_with(resource(vec![]), scope("lib", "1"))).await;
    env.logs(&logs_with(resource(vec![kv("service.name", s("other"))]), scope("lib", "1"))).await;
    assert_eq!(env.count("otel_scopes_dim").await, 1);
    let ids = scope_ids(&env).await;
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn scope_without_version() {
    let env = env().await;
    env.logs(&logs_with(resource(vec![]), scope("lib", ""))).await;
    env.logs(&logs_with(resource(vec![]), scope("lib", "1"))).await;
    let versions: Vec<String> = sqlx::query_scalar("SELECT version FROM otel_scopes_dim ORDER BY scope_id")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert_eq!(versions, ["", "1"]);
}

#[tokio::test]
async fn missing_scope_is_stored_as_the_empty_scope() {
    let env = env().await;
    let mut req = simple_logs("svc", "a");
    req.resource_logs[0].scope_logs[0].scope = None;
    env.logs(&req).await;
    let (name, version): (String, String) =
        sqlx::query_as("SELECT name, version FROM otel_scopes_dim").fetch_one(env.pool()).await.unwrap();
    assert_eq!((name.as_str(), version.as_str()), ("", ""));
}

#[tokio::test]
async fn scope_attributes_and_dropped_count_stored() {
    let env = env().await;
    let sc = InstrumentationScope {
        name: "lib".into(),
        version: "1".into(),
        attributes: vec![kv("p.team", s("core")), kv("other", b(true))],
        dropped_attributes_count: 2,
    };
    env.logs(&logs_with(resource(vec![]), sc)).await;
    let v: String = env.scalar("SELECT value FROM otel_scope_attrs_string").await;
    assert_eq!(v, "core");
    let other: String = env.scalar("SELECT attributes::text FROM otel_scope_attrs_other").await;
    assert_eq!(other, r#"{"other": true}"#);
    let n: i32 = env.scalar("SELECT dropped_attributes_count FROM otel_scopes_dim").await;
    assert_eq!(n, 2);
}

// ---- caching ----

#[tokio::test]
async fn cache_hit_avoids_query() {
    let env = env().await;
    env.logs(&simple_logs("svc", "a")).await;
    let rid: i64 = env.scalar("SELECT resource_id FROM otel_resources_dim").await;
    // Remove the row behind the cache's back: a query would re-insert it with a new id, a cache hit does not.
    sqlx::query("DELETE FROM otel_resources_dim").execute(env.pool()).await.unwrap();
    let hits = env.telemetry.cache_hits.load(std::sync::atomic::Ordering::Relaxed);
    env.logs(&simple_logs("svc", "b")).await;
    assert_eq!(env.count("otel_resources_dim").await, 0);
    assert_eq!(resource_ids(&env).await, [rid, rid]);
    assert!(env.telemetry.cache_hits.load(std::sync::atomic::Ordering::Relaxed) > hits);
}

#[tokio::test]
async fn cache_miss_queries_db() {
    let env = env().await;
    env.logs(&simple_logs("svc", "a")).await;
    let rid: i64 = env.scalar("SELECT resource_id FROM otel_resources_dim").await;
    // A second process (fresh caches) finds the existing row instead of creating one.
    let other = env_on(
        TestDb { pool: env.db.pool.clone(), url: env.db.url.clone(), name: env.db.name.clone() },
        Promotion::from_toml_str(TEST_PROMOTION).unwrap(),
        "00000000000000000000000000000002",
    );
    other.logs(&simple_logs("svc", "b")).await;
    assert_eq!(env.count("otel_resources_dim").await, 1);
    assert_eq!(resource_ids(&env).await, [rid, rid]);
    assert!(other.telemetry.cache_misses.load(std::sync::atomic::Ordering::Relaxed) >= 3);
    assert_eq!(other.writer.caches().resource_id(&hash_of(&env).await), Some(rid));
}

async fn hash_of(env: &Env) -> [u8; 32] {
    let h: Vec<u8> = env.scalar("SELECT resource_hash FROM otel_resources_dim").await;
    h.try_into().unwrap()
}

fn record_at(env: &Env, req: &ExportLogsServiceRequest, received_at: u64) -> wal::Record {
    let mut r = env.logs_record(req);
    r.received_at_unix_nanos = received_at;
    r
}

#[tokio::test]
async fn last_seen_is_not_refreshed_on_every_batch() {
    let env = env().await;
    env.ingest(vec![record_at(&env, &simple_logs("svc", "a"), RECEIVED_AT)]).await;
    env.ingest(vec![record_at(&env, &simple_logs("svc", "b"), RECEIVED_AT + 60_000_000_000)]).await;
    let (first, last): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT first_seen, last_seen FROM otel_resources_dim").fetch_one(env.pool()).await.unwrap();
    assert_eq!(first, last, "within the refresh interval the row is not rewritten");
}

#[tokio::test]
async fn last_seen_is_refreshed_once_the_interval_passed() {
    let env = env_refreshing_every_batch().await;
    env.ingest(vec![record_at(&env, &simple_logs("svc", "a"), RECEIVED_AT)]).await;
    let later = RECEIVED_AT + 600_000_000_000;
    env.ingest(vec![record_at(&env, &simple_logs("svc", "b"), later)]).await;
    for table in ["otel_resources_dim", "otel_scopes_dim"] {
        let last: chrono::DateTime<chrono::Utc> = env.scalar(&format!("SELECT last_seen FROM {table}")).await;
        assert_eq!(last.timestamp_micros(), (later / 1000) as i64, "{table}");
    }
    // An older batch never moves last_seen backwards.
    env.ingest(vec![record_at(&env, &simple_logs("svc", "c"), RECEIVED_AT)]).await;
    let last: chrono::DateTime<chrono::Utc> = env.scalar("SELECT last_seen FROM otel_resources_dim").await;
    assert_eq!(last.timestamp_micros(), (later / 1000) as i64);
}

// ---- typed attribute storage ----

async fn one_resource_attr(attr: KeyValue) -> Env {
    let env = env().await;
    env.logs(&logs_with(resource(vec![attr]), scope("l", ""))).await;
    env
}

#[tokio::test]
async fn store_string_attribute() {
    let env = one_resource_attr(kv("p.s", s("värde"))).await;
    let (key, v): (String, String) =
        sqlx::query_as("SELECT k.key, a.value FROM otel_resource_attrs_string a JOIN attribute_keys k USING (key_id)")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((key.as_str(), v.as_str()), ("p.s", "värde"));
}

#[tokio::test]
async fn store_int_attribute() {
    let env = one_resource_attr(kv("p.i", i(-9_007_199_254_740_993))).await;
    let v: i64 = env.scalar("SELECT value FROM otel_resource_attrs_int").await;
    assert_eq!(v, -9_007_199_254_740_993);
}

#[tokio::test]
async fn store_double_attribute() {
    let env = one_resource_attr(kv("p.d", d(0.1))).await;
    let v: f64 = env.scalar("SELECT value FROM otel_resource_attrs_double").await;
    assert_eq!(v, 0.1);
}

#[tokio::test]
async fn store_bool_attribute() {
    let env = one_resource_attr(kv("p.b", b(true))).await;
    let v: bool = env.scalar("SELECT value FROM otel_resource_attrs_bool").await;
    assert!(v);
}

#[tokio::test]
async fn store_bytes_attribute() {
    let env = one_resource_attr(kv("p.x", by(&[0, 255, 7]))).await;
    let v: Vec<u8> = env.scalar("SELECT value FROM otel_resource_attrs_bytes").await;
    assert_eq!(v, [0, 255, 7]);
}

#[tokio::test]
async fn store_complex_attribute() {
    let env = one_resource_attr(kv("p.list", arr(vec![i(1), d(2.0), s("x"), kvl(vec![kv("k", b(false))])]))).await;
    let v: String = env.scalar("SELECT attributes::text FROM otel_resource_attrs_other").await;
    assert_eq!(v, r#"{"p.list": [1, 2.0, "x", {"kvlist": {"k": false}}]}"#);
    assert_eq!(env.count("otel_resource_attrs_string").await, 0);
}

#[tokio::test]
async fn dropped_keys_are_stored_nowhere() {
    let env = one_resource_attr(kv("secret.token", s("hunter2"))).await;
    for t in ["otel_resource_attrs_string", "otel_resource_attrs_other"] {
        assert_eq!(env.count(t).await, 0, "{t}");
    }
    let n: i64 = env.scalar("SELECT count(*) FROM attribute_keys WHERE key LIKE 'secret%'").await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_row_found_in_the_database_gets_its_last_seen_refreshed() {
    let env = env().await;
    env.ingest(vec![record_at(&env, &simple_logs("svc", "a"), RECEIVED_AT)]).await;
    // Another process (or this one after a restart) meets the resource later: a cache miss that finds the row.
    let other = env_on(
        TestDb { pool: env.db.pool.clone(), url: env.db.url.clone(), name: env.db.name.clone() },
        Promotion::from_toml_str(TEST_PROMOTION).unwrap(),
        "00000000000000000000000000000002",
    );
    let later = RECEIVED_AT + 3_600_000_000_000;
    other.ingest(vec![record_at(&other, &simple_logs("svc", "b"), later)]).await;
    let (first, last): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT first_seen, last_seen FROM otel_resources_dim").fetch_one(env.pool()).await.unwrap();
    assert_eq!(first.timestamp_micros(), (RECEIVED_AT / 1000) as i64);
    assert_eq!(last.timestamp_micros(), (later / 1000) as i64);
}

/// A resource and scope this process has cached, then pruned by maintenance (no batch used them within the
/// retention), are registered again by the next batch that uses them once their refresh is due: the batch's
/// facts never point at a row that is gone.
#[tokio::test]
async fn a_pruned_dimension_that_returns_is_registered_again() {
    let env = env_refreshing_every_batch().await;
    env.ingest(vec![record_at(&env, &simple_logs("svc", "a"), RECEIVED_AT)]).await;
    sqlx::query("DELETE FROM otel_resources_dim").execute(env.pool()).await.unwrap();
    sqlx::query("DELETE FROM otel_scopes_dim").execute(env.pool()).await.unwrap();
    env.ingest(vec![record_at(&env, &simple_logs("svc", "b"), RECEIVED_AT + 1_000)]).await;
    assert_eq!(env.count("otel_resources_dim").await, 1);
    assert_eq!(env.count("otel_scopes_dim").await, 1);
    assert!(env.count("otel_resource_attrs_string").await > 0, "its attribute rows are written again");
    let orphans: i64 = env
        .scalar(
            "SELECT count(*) FROM otel_logs_fact f WHERE f.body_string = 'b' AND (\
             NOT EXISTS (SELECT 1 FROM otel_resources_dim r WHERE r.resource_id = f.resource_id) OR \
             NOT EXISTS (SELECT 1 FROM otel_scopes_dim s WHERE s.scope_id = f.scope_id))",
        )
        .await;
    assert_eq!(orphans, 0);
}

// ---- read back through the API's dimension cache ----

/// A resource and scope are stored once, first writer wins: a later export with the same content but another
/// `dropped_attributes_count` does not change the stored row. The API caches resources and scopes without
/// invalidation on that ground, so a long-running API answers what a fresh one reads from the database.
#[tokio::test]
async fn a_cached_resource_answers_what_the_database_holds() {
    use crate::api::{api, hex, ok};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let env = env().await;
    let export = |trace: u8, dropped: u32| ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("svc")), kv("host.name", s("h1"))],
                dropped_attributes_count: dropped,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { dropped_attributes_count: dropped, ..scope("lib", "1.0") }),
                spans: vec![Span {
                    trace_id: vec![trace; 16],
                    span_id: vec![trace; 8],
                    name: "op".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0 + 1_000,
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.30.0".into(),
        }],
    };
    let long_running = api(&env);
    env.traces(&export(1, 0)).await;
    let first = ok(&long_running, &format!("/traces/{}", hex(&[1; 16]))).await;
    env.traces(&export(2, 3)).await;
    assert_eq!(env.count("otel_resources_dim").await, 1);
    assert_eq!(env.count("otel_scopes_dim").await, 1);

    let cached = ok(&long_running, &format!("/traces/{}", hex(&[2; 16]))).await;
    let fresh = ok(&api(&env), &format!("/traces/{}", hex(&[2; 16]))).await;
    let (c, f) = (&cached["spans"][0], &fresh["spans"][0]);
    assert_eq!(c["resource"], f["resource"]);
    assert_eq!(c["scope"], f["scope"]);
    assert_eq!(c["resource"], first["spans"][0]["resource"]);
    assert_eq!(c["resource"]["attributes"]["host.name"], "h1");
    assert_eq!(c["resource"]["schema_url"], "https://opentelemetry.io/schemas/1.30.0");
    assert_eq!(c["resource"]["dropped_attributes_count"], 0, "first writer wins");
    assert_eq!(c["scope"]["version"], "1.0");
    // The OTLP form reads the same cache.
    let otlp = ok(&long_running, &format!("/traces/{}?format=otlp", hex(&[2; 16]))).await;
    assert_eq!(otlp["resourceSpans"][0]["resource"]["attributes"][0]["key"], "host.name");
}
