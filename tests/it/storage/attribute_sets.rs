//! Attribute sets as the writer stores them and the queries read them: promoted span and log attributes
//! deduplicated into one stored set per distinct combination, the others (and high-cardinality promoted keys)
//! on the record's own row, and a promotion config change applying from the next batch with old and new data
//! found alike, including records stored before sets existed.

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
    assert_eq!(found(&app, "p.route matches /[ab]").await, [hex(&[1; 16]), hex(&[2; 16]), hex(&[3; 16])]);
    assert_eq!(found(&app, "user =~ u[12]").await, [hex(&[1; 16]), hex(&[2; 16])]);
    assert_eq!(found(&app, "user not_matches .*1").await, [hex(&[2; 16])]);
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
    params.pop();
    params.push(("attr", "x matches t.*"));
    let v = ok(&app, &url("/logs/search", &params)).await;
    let mut bodies: Vec<&str> = v["logs"].as_array().unwrap().iter().map(|l| l["body"].as_str().unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, ["three", "two"]);
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
    // 1: p.route in the span's attribute set (TEST_PROMOTION); 2: listed as high-cardinality, on the span's
    // row; 3: not promoted, on the span's row too.
    let high =
        on_same_db("[span]\nany = [\"p.*\"]\nhigh_cardinality = [\"p.route\"]\n", "22222222222222222222222222222222");
    let unpromoted = on_same_db("[span]\nany = [\"q.*\"]\n", "33333333333333333333333333333333");
    first.traces(&traces(vec![span(1, vec![kv("p.route", s("/x"))]), span(4, vec![kv("p.route", s("/y"))])])).await;
    high.traces(&traces(vec![span(2, vec![kv("p.route", s("/x"))]), span(5, vec![kv("p.route", s("/y"))])])).await;
    unpromoted
        .traces(&traces(vec![span(3, vec![kv("p.route", s("/x"))]), span(6, vec![kv("p.route", s("/y"))])]))
        .await;
    assert_eq!(first.count("otel_attribute_sets").await, 2);
    let on_rows: i64 = first.scalar("SELECT count(*) FROM otel_spans_fact WHERE attributes ? 'p.route'").await;
    assert_eq!(on_rows, 4);
    // 7 (and 8, not matching): a span stored before sets and the row's JSON existed, its attribute as a typed
    // row and in _other, the way older versions wrote them.
    legacy_span(&first, 7, "/x").await;
    legacy_span(&first, 8, "/y").await;

    let app = api(&first);
    let x = [hex(&[1; 16]), hex(&[2; 16]), hex(&[3; 16]), hex(&[7; 16])];
    assert_eq!(found(&app, "p.route eq /x").await, x);
    assert_eq!(found(&app, "p.route contains x").await, x);
    assert_eq!(found(&app, "p.route ne /y").await, x);
    assert_eq!(found(&app, "p.route exists").await.len(), 8);
    // Regular expressions match string values as a whole, in every home.
    assert_eq!(found(&app, "p.route matches /[x-z]").await.len(), 8);
    assert_eq!(found(&app, "p.route matches /(x|q)").await, x);
    assert_eq!(found(&app, "p.route not_matches /y.*").await, x);
    assert_eq!(found(&app, "p.route matches x").await, Vec::<String>::new());
    assert_eq!(found(&app, "legacy matches t.*").await, Vec::<String>::new());
    for n in [1, 2, 3] {
        assert_eq!(span_attributes(&app, n).await, serde_json::json!({"p.route": "/x"}), "trace {n}");
    }
    assert_eq!(span_attributes(&app, 7).await, serde_json::json!({"legacy": true, "p.route": "/x"}));
    assert_eq!(found(&app, "legacy eq true").await, [hex(&[7; 16]), hex(&[8; 16])]);
    // The attribute keys and values endpoints see every form.
    let w = window();
    let mut params: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.push(("signal", "traces"));
    let v = ok(&app, &url("/attributes/p.route/values", &params)).await;
    assert_eq!(v["values"], serde_json::json!([{"value": "/x", "count": 4}, {"value": "/y", "count": 4}]));
    let v = ok(&app, &url("/attributes", &params)).await;
    assert_eq!(
        v["keys"],
        serde_json::json!([{"key": "legacy", "types": ["bool"]}, {"key": "p.route", "types": ["string"]}])
    );
}

/// Stores span `n` (trace `n`, one span) the way versions before attribute sets did: no set, no JSON on the
/// row, `p.route` as a typed row and `legacy` in `_other` (fixture SQL: the current writer no longer writes
/// this form).
async fn legacy_span(env: &Env, n: u8, route: &str) {
    let row_id = 1_000_000 + i64::from(n);
    let start = chrono::DateTime::<chrono::Utc>::from_timestamp_nanos(T0 as i64);
    let resource: i64 = env.scalar("SELECT min(resource_id) FROM otel_spans_fact").await;
    let scope: i64 = env.scalar("SELECT min(scope_id) FROM otel_spans_fact").await;
    let pool = env.pool();
    sqlx::query(
        "INSERT INTO otel_spans_fact (span_row_id, start_time, end_time, duration_ns, trace_id, span_id, name, kind, \
         status_code, resource_id, scope_id) VALUES ($1, $2, $2 + interval '1 microsecond', 1000, $3, $4, $5, 0, 0, $6, $7)",
    )
    .bind(row_id)
    .bind(start)
    .bind(vec![n; 16])
    .bind(vec![n; 8])
    .bind(format!("op{n}"))
    .bind(resource)
    .bind(scope)
    .execute(pool)
    .await
    .unwrap();
    let key: i32 = sqlx::query_scalar(
        "INSERT INTO attribute_keys (key) VALUES ('p.route') ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key \
         RETURNING key_id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO otel_span_attrs_string (span_row_id, start_time, key_id, value) VALUES ($1, $2, $3, $4)")
        .bind(row_id)
        .bind(start)
        .bind(key)
        .bind(route)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO otel_span_attrs_other (span_row_id, start_time, attributes) VALUES ($1, $2, '{\"legacy\": true}')",
    )
    .bind(row_id)
    .bind(start)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO attribute_keys_in_other (level, key) VALUES (3, 'legacy') ON CONFLICT DO NOTHING")
        .execute(pool)
        .await
        .unwrap();
}
