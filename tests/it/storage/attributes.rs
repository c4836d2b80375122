//! Attributes as the writer stores them: promoted keys registered once in `attribute_keys`; at the levels
//! without attribute sets (here span events) each promoted value in the typed table of its type and everything
//! else in the level's `_other` JSONB with its type kept; for spans the promoted values in the span's
//! attribute set (tests/it/storage/attribute_sets.rs reads those back) and everything else in the JSON of the
//! span's own row; promotion decided by the config (shipped defaults or a custom file), dropped keys stored
//! nowhere.

use std::sync::atomic::Ordering;

use super::*;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn spans_with(attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(vec![kv("service.name", s("svc"))])),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope("lib", "1")),
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "op".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0 + 1,
                    attributes: attrs,
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

async fn span_env(attrs: Vec<KeyValue>) -> Env {
    let env = env().await;
    env.traces(&spans_with(attrs)).await;
    env
}

/// A span whose one event carries `attrs`: events keep a typed row per promoted attribute.
fn event_with(attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
    let mut req = spans_with(vec![]);
    req.resource_spans[0].scope_spans[0].spans[0].events =
        vec![Event { time_unix_nano: T0, name: "e".into(), attributes: attrs, dropped_attributes_count: 0 }];
    req
}

async fn event_env(attrs: Vec<KeyValue>) -> Env {
    let env = env().await;
    env.traces(&event_with(attrs)).await;
    env
}

async fn set_json(env: &Env) -> String {
    env.scalar("SELECT attributes::text FROM otel_attribute_sets").await
}

/// The span's own JSON of the attributes outside its set.
async fn other_json(env: &Env) -> String {
    env.scalar("SELECT attributes::text FROM otel_spans_fact").await
}

async fn key_id(env: &Env, key: &str) -> Option<i32> {
    sqlx::query_scalar("SELECT key_id FROM attribute_keys WHERE key = $1")
        .bind(key)
        .fetch_optional(env.pool())
        .await
        .unwrap()
}

// ---- key registry ----

#[tokio::test]
async fn promoted_key_is_registered_on_first_use() {
    let env = event_env(vec![kv("p.new", s("v"))]).await;
    let id = key_id(&env, "p.new").await.expect("the promoted key is registered");
    let used: i32 = env.scalar("SELECT key_id FROM otel_span_event_attrs_string").await;
    assert_eq!(used, id);
}

#[tokio::test]
async fn a_key_has_one_id_across_types_and_levels() {
    let env = event_env(vec![kv("p.k", s("v"))]).await;
    env.traces(&event_with(vec![kv("p.k", i(3))])).await;
    env.logs(&logs_req(resource(vec![kv("p.k", b(true))]), scope("l", ""), vec![log(T0, "x")])).await;
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM attribute_keys WHERE key = 'p.k'").await, 1);
    let id = key_id(&env, "p.k").await.unwrap();
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT key_id FROM otel_span_event_attrs_string UNION ALL SELECT key_id FROM otel_span_event_attrs_int \
         UNION ALL SELECT key_id FROM otel_resource_attrs_bool",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(ids, [id, id, id]);
}

#[tokio::test]
async fn known_keys_are_cache_hits() {
    let env = event_env(vec![kv("p.a", s("1")), kv("p.b", s("2"))]).await;
    assert!(env.writer.caches().key_id("p.a").is_some());
    let misses = env.telemetry.cache_misses.load(Ordering::Relaxed);
    env.traces(&event_with(vec![kv("p.a", s("3")), kv("p.b", s("4"))])).await;
    assert_eq!(env.telemetry.cache_misses.load(Ordering::Relaxed), misses, "every dimension and key was a cache hit");
}

#[tokio::test]
async fn unpromoted_keys_are_not_registered() {
    let env = span_env(vec![kv("custom.thing", s("v"))]).await;
    assert_eq!(key_id(&env, "custom.thing").await, None);
    assert_eq!(other_json(&env).await, r#"{"custom.thing": "v"}"#);
}

// ---- type extraction ----

#[tokio::test]
async fn string_value_goes_to_the_string_table() {
    let env = event_env(vec![kv("p.v", s("text ✓"))]).await;
    assert_eq!(env.scalar::<String>("SELECT value FROM otel_span_event_attrs_string").await, "text ✓");
}

#[tokio::test]
async fn int_value_goes_to_the_int_table() {
    let env = event_env(vec![kv("p.v", i(i64::MAX))]).await;
    assert_eq!(env.scalar::<i64>("SELECT value FROM otel_span_event_attrs_int").await, i64::MAX);
}

#[tokio::test]
async fn double_value_goes_to_the_double_table() {
    let env = event_env(vec![kv("p.v", d(-1.5e300))]).await;
    assert_eq!(env.scalar::<f64>("SELECT value FROM otel_span_event_attrs_double").await, -1.5e300);
}

#[tokio::test]
async fn bool_value_goes_to_the_bool_table() {
    let env = event_env(vec![kv("p.v", b(false))]).await;
    assert!(!env.scalar::<bool>("SELECT value FROM otel_span_event_attrs_bool").await);
}

#[tokio::test]
async fn bytes_value_goes_to_the_bytes_table() {
    let env = event_env(vec![kv("p.v", by(b"\x00\x01binary"))]).await;
    assert_eq!(env.scalar::<Vec<u8>>("SELECT value FROM otel_span_event_attrs_bytes").await, b"\x00\x01binary");
}

#[tokio::test]
async fn array_value_goes_to_other_json() {
    let env = span_env(vec![kv("p.arr", arr(vec![s("a"), i(2), d(3.0), b(true), by(&[1])]))]).await;
    assert_eq!(other_json(&env).await, r#"{"p.arr": ["a", 2, 3.0, true, {"bytes": "AQ=="}]}"#);
}

#[tokio::test]
async fn kvlist_value_goes_to_other_json() {
    let env = span_env(vec![kv("p.map", kvl(vec![kv("inner", i(1)), kv("n", kvl(vec![]))]))]).await;
    assert_eq!(other_json(&env).await, r#"{"p.map": {"kvlist": {"n": {"kvlist": {}}, "inner": 1}}}"#);
}

#[tokio::test]
async fn empty_value_goes_to_other_json_as_null() {
    let env = span_env(vec![kv("p.nothing", AnyValue::default())]).await;
    assert_eq!(other_json(&env).await, r#"{"p.nothing": null}"#);
}

#[tokio::test]
async fn unpromoted_double_keeps_its_type_in_jsonb() {
    let env = span_env(vec![kv("u.d", d(2.0)), kv("u.i", i(2)), kv("u.nan", d(f64::NAN))]).await;
    let json = other_json(&env).await;
    assert!(json.contains(r#""u.d": 2.0"#), "{json}");
    assert!(json.contains(r#""u.i": 2"#), "{json}");
    assert!(json.contains(r#""u.nan": {"double": "NaN"}"#), "{json}");
}

// ---- promotion decisions (shipped defaults) ----

async fn defaults_env() -> Env {
    env_with(Promotion::defaults()).await
}

#[tokio::test]
async fn semantic_convention_keys_are_promoted_by_default() {
    let env = defaults_env().await;
    env.traces(&spans_with(vec![
        kv("http.request.method", s("GET")),
        kv("http.response.status_code", i(200)),
        kv("url.full", s("https://shop/cart?id=7")),
    ]))
    .await;
    assert_eq!(set_json(&env).await, r#"{"http.request.method": "GET", "http.response.status_code": 200}"#);
    // High-cardinality by default: on the span's own row rather than a set per URL.
    assert_eq!(other_json(&env).await, r#"{"url.full": "https://shop/cart?id=7"}"#);
    for t in ["otel_span_attrs_string", "otel_span_attrs_int", "otel_span_attrs_other"] {
        assert_eq!(env.count(t).await, 0, "{t}");
    }
}

#[tokio::test]
async fn unknown_keys_are_not_promoted_by_default() {
    let env = defaults_env().await;
    env.traces(&spans_with(vec![kv("my.custom.flag", s("on"))])).await;
    assert_eq!(env.count("otel_attribute_sets").await, 0);
    assert_eq!(other_json(&env).await, r#"{"my.custom.flag": "on"}"#);
}

#[tokio::test]
async fn keys_promoted_for_another_signal_are_not_promoted() {
    // log.* is promoted for log records by the defaults, not for spans.
    let env = defaults_env().await;
    env.traces(&spans_with(vec![kv("log.level", s("info"))])).await;
    let mut l = log(T0, "x");
    l.attributes = vec![kv("log.level", s("info"))];
    env.logs(&logs_req(resource(vec![]), scope("l", ""), vec![l])).await;
    assert_eq!(other_json(&env).await, r#"{"log.level": "info"}"#);
    assert_eq!(env.scalar::<i16>("SELECT level FROM otel_attribute_sets").await, 2, "the log record's set only");
    assert_eq!(set_json(&env).await, r#"{"log.level": "info"}"#);
}

#[tokio::test]
async fn promoted_key_with_another_type_goes_to_other_keeping_its_type() {
    let env = defaults_env().await;
    env.traces(&spans_with(vec![kv("http.response.status_code", s("200"))])).await;
    assert_eq!(env.count("otel_attribute_sets").await, 0);
    assert_eq!(other_json(&env).await, r#"{"http.response.status_code": "200"}"#);
}

// ---- routing ----

#[tokio::test]
async fn route_to_string_table() {
    let env = event_env(vec![kv("p.a", s("x")), kv("p.b", s("y"))]).await;
    assert_eq!(env.count("otel_span_event_attrs_string").await, 2);
    let span_row: i64 = env.scalar("SELECT event_row_id FROM otel_span_events").await;
    let owners: Vec<i64> = sqlx::query_scalar("SELECT event_row_id FROM otel_span_event_attrs_string")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert_eq!(owners, [span_row, span_row]);
}

#[tokio::test]
async fn route_to_int_table() {
    let env = event_env(vec![kv("p.n", i(7)), kv("p.m", i(8))]).await;
    let vals: Vec<i64> = sqlx::query_scalar("SELECT value FROM otel_span_event_attrs_int ORDER BY value")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert_eq!(vals, [7, 8]);
}

#[tokio::test]
async fn route_to_jsonb_one_object_per_owner() {
    let env = event_env(vec![kv("a", s("x")), kv("b", i(1)), kv("p.arr", arr(vec![])), kv("p.s", s("typed"))]).await;
    assert_eq!(env.count("otel_span_event_attrs_other").await, 1);
    let json: String = env.scalar("SELECT attributes::text FROM otel_span_event_attrs_other").await;
    assert_eq!(json, r#"{"a": "x", "b": 1, "p.arr": []}"#);
    // A span keeps the same object on its own row, its promoted attribute in its set.
    let env = span_env(vec![kv("a", s("x")), kv("b", i(1)), kv("p.arr", arr(vec![])), kv("p.s", s("typed"))]).await;
    assert_eq!(other_json(&env).await, r#"{"a": "x", "b": 1, "p.arr": []}"#);
    assert_eq!(set_json(&env).await, r#"{"p.s": "typed"}"#);
    assert_eq!(env.count("otel_span_attrs_other").await, 0);
}

#[tokio::test]
async fn owner_with_only_promoted_attributes_has_no_other_row() {
    let env = event_env(vec![kv("p.s", s("typed"))]).await;
    assert_eq!(env.count("otel_span_event_attrs_other").await, 0);
    // A span's row holds an empty object (NULL marks rows written before the column existed).
    let env = span_env(vec![kv("p.s", s("typed"))]).await;
    assert_eq!(other_json(&env).await, "{}");
}

#[tokio::test]
async fn drop_list_removes_secrets_at_every_level() {
    let env = env().await;
    let mut req = spans_with(vec![kv("secret.key", s("x")), kv("keep", s("y"))]);
    req.resource_spans[0].resource.as_mut().unwrap().attributes.push(kv("secret.res", s("x")));
    env.traces(&req).await;
    let all: String = env
        .scalar(
            "SELECT coalesce(string_agg(attributes::text, ' '), '') FROM \
             (SELECT attributes FROM otel_spans_fact UNION ALL SELECT attributes FROM otel_resource_attrs_other) t",
        )
        .await;
    assert!(!all.contains("secret"), "{all}");
    assert!(all.contains("keep"), "{all}");
}

#[tokio::test]
async fn custom_promotion_file_routes_accordingly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("promotion.toml");
    std::fs::write(&path, "[span]\nint = [\"team.size\"]\n").unwrap();
    let env = env_with(Promotion::from_file(&path).unwrap()).await;
    env.traces(&spans_with(vec![kv("team.size", i(4)), kv("p.s", s("not promoted here"))])).await;
    assert_eq!(set_json(&env).await, r#"{"team.size": 4}"#);
    assert_eq!(other_json(&env).await, r#"{"p.s": "not promoted here"}"#);
}

async fn keys_in_other(env: &Env) -> Vec<(i16, String)> {
    sqlx::query_as("SELECT level, key FROM attribute_keys_in_other ORDER BY level, key")
        .fetch_all(env.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn keys_stored_in_other_are_registered_per_level() {
    // Span level 3. p.* is promoted (any scalar type), so only a value no typed table holds (an array) sends
    // a p.* key to `_other`; dropped keys are stored nowhere.
    let env = span_env(vec![
        kv("p.route", s("/cart")),
        kv("user.id", s("alice")),
        kv("p.list", arr(vec![i(1)])),
        kv("secret.token", s("x")),
    ])
    .await;
    assert_eq!(keys_in_other(&env).await, [(3, "p.list".to_string()), (3, "user.id".to_string())]);
    // New pairs are added, known ones stay once.
    env.traces(&spans_with(vec![kv("user.id", s("bob")), kv("cart.size", i(3))])).await;
    assert_eq!(
        keys_in_other(&env).await,
        [(3, "cart.size".to_string()), (3, "p.list".to_string()), (3, "user.id".to_string())]
    );
}
