//! Attribute sets as the writer stores them and the queries read them: promoted span and log attributes
//! deduplicated into one stored set per distinct combination, high-cardinality keys kept as typed rows, and
//! a promotion config change applying from the next batch with old and new data found alike.

use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use serde_json::Value as Json;

use super::*;
use crate::api::{api, hex, ok, url};

fn span(trace: u8, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![trace; 8],
        name: format!("op{trace}"),
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_000,
        attributes: attrs,
        ..Default::default()
    }
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(vec![kv("service.name", s("svc"))])),
            scope_spans: vec![ScopeSpans { scope: Some(scope("lib", "1")), spans, schema_url: String::new() }],
            schema_url: String::new(),
        }],
    }
}

/// The window around T0, as `/api/v2` parameters.
fn window() -> Vec<(&'static str, String)> {
    vec![("from", (T0 - 60_000_000_000).to_string()), ("to", (T0 + 60_000_000_000).to_string())]
}

/// The trace ids (hex) a trace search with `attr` finds, sorted.
async fn found(app: &axum::Router, attr: &str) -> Vec<String> {
    let w = window();
    let mut params: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.push(("attr", attr));
    let v = ok(app, &url("/traces/search", &params)).await;
    let mut ids: Vec<String> =
        v["traces"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// The attributes of the one span of trace `n`, as `/api/v2/traces/{id}` answers them.
async fn span_attributes(app: &axum::Router, n: u8) -> Json {
    let v = ok(app, &format!("/traces/{}", hex(&[n; 16]))).await;
    v["spans"][0]["attributes"].clone()
}

#[tokio::test]
async fn spans_with_the_same_promoted_attributes_share_one_stored_set() {
    let env = env().await;
    let a = vec![kv("p.route", s("/a")), kv("p.code", i(200)), kv("user", s("u1"))];
    let mut a_reordered = a.clone();
    a_reordered.reverse();
    a_reordered[0] = kv("user", s("u2"));
    let r = env
        .traces(&traces(vec![span(1, a), span(2, a_reordered), span(3, vec![kv("p.route", s("/b"))]), span(4, vec![])]))
        .await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");

    assert_eq!(env.count("otel_attribute_sets").await, 2);
    let keys: Vec<Option<i64>> = sqlx::query_scalar("SELECT attr_set_key FROM otel_spans_fact ORDER BY span_id")
        .fetch_all(env.pool())
        .await
        .unwrap();
    assert_eq!(keys[0], keys[1], "same set in another order");
    assert!(keys[0].is_some() && keys[2].is_some() && keys[0] != keys[2]);
    assert_eq!(keys[3], None, "no promoted attribute, no set");
    for t in ["otel_span_attrs_string", "otel_span_attrs_int"] {
        assert_eq!(env.count(t).await, 0, "{t}: set members are not rows per span");
    }

    // Every attribute comes back: the set's, and the unpromoted one from _other, in key order.
    let app = api(&env);
    assert_eq!(span_attributes(&app, 2).await, serde_json::json!({"p.code": 200, "p.route": "/a", "user": "u2"}));
    assert_eq!(found(&app, "p.route eq /a").await, [hex(&[1; 16]), hex(&[2; 16])]);
    assert_eq!(found(&app, "p.code gte 200").await, [hex(&[1; 16]), hex(&[2; 16])]);
    assert_eq!(found(&app, "p.route ne /a").await, [hex(&[3; 16])]);
    assert_eq!(found(&app, "p.route contains b").await, [hex(&[3; 16])]);
    assert_eq!(found(&app, "p.code exists").await, [hex(&[1; 16]), hex(&[2; 16])]);
}

#[tokio::test]
async fn log_records_with_the_same_promoted_attributes_share_one_stored_set() {
    let env = env().await;
    let rec = |body: &str, code: i64| LogRecord {
        attributes: vec![kv("p.code", i(code)), kv("x", s(body))],
        ..log(T0, body)
    };
    env.logs(&logs_req(
        resource(vec![kv("service.name", s("svc"))]),
        scope("lib", "1"),
        vec![rec("one", 500), rec("two", 500), rec("three", 200)],
    ))
    .await;
    assert_eq!(env.count("otel_attribute_sets").await, 2);
    assert_eq!(env.count("otel_log_attrs_int").await, 0);
    let app = api(&env);
    let w = window();
    let mut params: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.push(("attr", "p.code eq 500"));
    let v = ok(&app, &url("/logs/search", &params)).await;
    let logs = v["logs"].as_array().unwrap();
    let mut bodies: Vec<&str> = logs.iter().map(|l| l["body"].as_str().unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, ["one", "two"]);
    assert_eq!(logs[0]["attributes"]["p.code"], 500);
    assert!(logs[0]["attributes"]["x"].is_string());
}

#[tokio::test]
async fn a_promotion_change_applies_from_the_next_batch_and_queries_find_old_and_new() {
    let first = env().await;
    let on_same_db = |promotion: &str, wal: &str| {
        env_on(
            TestDb { pool: first.db.pool.clone(), url: first.db.url.clone(), name: first.db.name.clone() },
            Promotion::from_toml_str(promotion).unwrap(),
            wal,
        )
    };
    // 1: p.route in the span's attribute set (TEST_PROMOTION); 2: listed as high-cardinality, one typed row
    // per span; 3: not promoted, in _other.
    let high =
        on_same_db("[span]\nany = [\"p.*\"]\nhigh_cardinality = [\"p.route\"]\n", "22222222222222222222222222222222");
    let unpromoted = on_same_db("[span]\nany = [\"q.*\"]\n", "33333333333333333333333333333333");
    first.traces(&traces(vec![span(1, vec![kv("p.route", s("/x"))]), span(4, vec![kv("p.route", s("/y"))])])).await;
    high.traces(&traces(vec![span(2, vec![kv("p.route", s("/x"))]), span(5, vec![kv("p.route", s("/y"))])])).await;
    unpromoted
        .traces(&traces(vec![span(3, vec![kv("p.route", s("/x"))]), span(6, vec![kv("p.route", s("/y"))])]))
        .await;
    assert_eq!(first.count("otel_attribute_sets").await, 2);
    assert_eq!(first.count("otel_span_attrs_string").await, 2);
    assert_eq!(first.count("otel_span_attrs_other").await, 2);

    let app = api(&first);
    let x = [hex(&[1; 16]), hex(&[2; 16]), hex(&[3; 16])];
    assert_eq!(found(&app, "p.route eq /x").await, x);
    assert_eq!(found(&app, "p.route contains x").await, x);
    assert_eq!(found(&app, "p.route ne /y").await, x);
    assert_eq!(found(&app, "p.route exists").await.len(), 6);
    for n in 1..=3 {
        assert_eq!(span_attributes(&app, n).await, serde_json::json!({"p.route": "/x"}), "trace {n}");
    }
    // The attribute keys and values endpoints see all three forms.
    let w = window();
    let mut params: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.push(("signal", "traces"));
    let v = ok(&app, &url("/attributes/p.route/values", &params)).await;
    assert_eq!(v["values"], serde_json::json!([{"value": "/x", "count": 3}, {"value": "/y", "count": 3}]));
    let v = ok(&app, &url("/attributes", &params)).await;
    assert_eq!(v["keys"], serde_json::json!([{"key": "p.route", "types": ["string"]}]));
}
