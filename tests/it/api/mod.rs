//! Query API tests: data goes in through the real normalize + write path (the storage tests' `Env`), queries go
//! through the real `/api/v2` router (in process, via tower's `oneshot`).

mod attributes;
mod errors;
mod logs;
mod metrics;
mod openapi;
mod services;
mod traces;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ollyscale::query::{QueryOptions, router};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::Value;
use tower::ServiceExt;

pub use crate::storage::{Env, T0, b, d, env, i, kv, resource, s, scope};

/// A filter case: query parameters and the expected names, in order.
pub type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// One millisecond in nanoseconds.
pub const MS: u64 = 1_000_000;

/// A router on `env`'s database with default options.
pub fn api(env: &Env) -> Router {
    router(env.pool().clone(), QueryOptions::default())
}

/// Percent-encodes a query-string component.
pub fn enc(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&...` with every component encoded.
pub fn url(path: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
    format!("{path}?{}", q.join("&"))
}

/// GET `uri` on `app`: status and JSON body.
pub async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: body is not JSON ({e}): {:?}", String::from_utf8_lossy(&bytes)));
    (status, v)
}

/// GET that must succeed.
pub async fn ok(app: &Router, uri: &str) -> Value {
    let (st, v) = get(app, uri).await;
    assert_eq!(st, StatusCode::OK, "{uri}: {v}");
    v
}

/// GET that must fail with 400 naming `param`.
pub async fn bad(app: &Router, uri: &str, param: &str) {
    let (st, v) = get(app, uri).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}: {v}");
    assert_eq!(v["error"]["code"], "invalid_parameter", "{uri}: {v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("`{param}`")), "{uri}: message {msg:?} does not name {param}");
}

/// The window used by most tests: one hour either side of T0, as unix nanoseconds.
pub fn win() -> [(&'static str, String); 2] {
    [("from", (T0 - 3_600_000 * MS).to_string()), ("to", (T0 + 3_600_000 * MS).to_string())]
}

/// `url` with the default window prepended.
pub fn wurl(path: &str, params: &[(&str, &str)]) -> String {
    let w = win();
    let mut all: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(params);
    url(path, &all)
}

/// A 16-byte trace id filled with `n` (hex `nnnn...`).
pub fn tid(n: u8) -> Vec<u8> {
    vec![n; 16]
}

/// An 8-byte span id `n, n, ...` with a distinguishing last byte.
pub fn sid(n: u8, k: u8) -> Vec<u8> {
    let mut v = vec![n; 8];
    v[7] = k;
    v
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    ollyscale::ids::to_hex(b)
}

/// A span.
#[allow(clippy::too_many_arguments)]
pub fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    name: &str,
    kind: i32,
    start: u64,
    dur: u64,
    code: i32,
    attrs: Vec<KeyValue>,
) -> Span {
    Span {
        trace_id: tid(trace),
        span_id: sid(trace, id),
        parent_span_id: parent.map(|p| sid(trace, p)).unwrap_or_default(),
        name: name.into(),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: start + dur,
        attributes: attrs,
        status: Some(Status { code, message: if code == 2 { "failed".into() } else { String::new() } }),
        ..Default::default()
    }
}

/// ResourceSpans for a service.
pub fn rs(service: &str, res_attrs: Vec<KeyValue>, spans: Vec<Span>) -> ResourceSpans {
    let mut attrs = vec![kv("service.name", s(service))];
    attrs.extend(res_attrs);
    ResourceSpans {
        resource: Some(resource(attrs)),
        scope_spans: vec![ScopeSpans { scope: Some(scope("tracer", "1.0")), spans, schema_url: String::new() }],
        schema_url: String::new(),
    }
}

/// The trace dataset (promotion: `p.*` promoted, everything else in `_other`):
/// - trace 1: frontend SERVER "GET /cart" (100 ms, p.status 200, user alice) -> checkout SERVER "checkout"
///   (50 ms) -> checkout CLIENT "SELECT" (5 ms, db.system postgresql) and PRODUCER "publish"
///   (messaging.system kafka); an event and a link on the root.
/// - trace 2: frontend SERVER "GET /pay" at +1 s, ERROR, 300 ms, p.status 500, user bob -> checkout SERVER
///   "pay", ERROR, 200 ms.
/// - trace 3: checkout INTERNAL "cron" at +2 s, 1 s, user carol, p.flag true, p.ratio 0.75.
pub fn dataset() -> ExportTraceServiceRequest {
    let mut root = span(
        1,
        1,
        None,
        "GET /cart",
        2,
        T0,
        100 * MS,
        0,
        vec![kv("p.status", i(200)), kv("user", s("alice")), kv("p.ratio", d(0.5)), kv("p.route", s("/cart"))],
    );
    root.events = vec![span::Event {
        time_unix_nano: T0 + 5 * MS,
        name: "cache miss".into(),
        attributes: vec![kv("key", s("cart:1"))],
        dropped_attributes_count: 0,
    }];
    root.links = vec![span::Link {
        trace_id: tid(3),
        span_id: sid(3, 1),
        attributes: vec![kv("why", s("batch"))],
        ..Default::default()
    }];
    ExportTraceServiceRequest {
        resource_spans: vec![
            rs(
                "frontend",
                vec![kv("service.namespace", s("shop")), kv("p.region", s("eu")), kv("team", s("web"))],
                vec![
                    root,
                    span(
                        2,
                        1,
                        None,
                        "GET /pay",
                        2,
                        T0 + 1_000 * MS,
                        300 * MS,
                        2,
                        vec![kv("p.status", i(500)), kv("user", s("bob")), kv("p.route", s("/pay"))],
                    ),
                ],
            ),
            rs(
                "checkout",
                vec![kv("service.namespace", s("shop")), kv("p.region", s("us")), kv("team", s("pay"))],
                vec![
                    span(1, 2, Some(1), "checkout", 2, T0 + 10 * MS, 50 * MS, 0, vec![]),
                    span(1, 3, Some(2), "SELECT", 3, T0 + 20 * MS, 5 * MS, 0, vec![kv("db.system", s("postgresql"))]),
                    span(
                        1,
                        4,
                        Some(2),
                        "publish",
                        4,
                        T0 + 30 * MS,
                        2 * MS,
                        0,
                        vec![kv("messaging.system", s("kafka"))],
                    ),
                    span(2, 2, Some(1), "pay", 2, T0 + 1_010 * MS, 200 * MS, 2, vec![]),
                    span(
                        3,
                        1,
                        None,
                        "cron",
                        1,
                        T0 + 2_000 * MS,
                        1_000 * MS,
                        0,
                        vec![kv("user", s("carol")), kv("p.flag", b(true)), kv("p.ratio", d(0.75))],
                    ),
                ],
            ),
        ],
    }
}

/// Logs: frontend INFO "cart viewed" (trace 1 root span), checkout WARN "slow query 50%" (trace 1 span 3),
/// checkout ERROR "payment failed" (trace 2), frontend DEBUG "heartbeat" (no trace), each a millisecond apart.
pub fn log_dataset() -> ExportLogsServiceRequest {
    let rec = |n: u64, sev: i32, body: &str, trace: Option<(u8, u8)>, attrs: Vec<KeyValue>| LogRecord {
        time_unix_nano: T0 + n * MS,
        observed_time_unix_nano: T0 + n * MS + 7,
        severity_number: sev,
        severity_text: String::new(),
        body: Some(s(body)),
        attributes: attrs,
        trace_id: trace.map(|(t, _)| tid(t)).unwrap_or_default(),
        span_id: trace.map(|(t, k)| sid(t, k)).unwrap_or_default(),
        ..Default::default()
    };
    let rl = |svc: &str, records: Vec<LogRecord>| ResourceLogs {
        resource: Some(Resource {
            attributes: vec![kv("service.name", s(svc)), kv("service.namespace", s("shop")), kv("team", s(svc))],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(scope("logger", "2.0")),
            log_records: records,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    };
    ExportLogsServiceRequest {
        resource_logs: vec![
            rl(
                "frontend",
                vec![
                    rec(1, 9, "cart viewed", Some((1, 1)), vec![kv("p.user", s("alice")), kv("latency_ms", i(12))]),
                    rec(4, 5, "heartbeat", None, vec![kv("p.user", s("system"))]),
                ],
            ),
            rl(
                "checkout",
                vec![
                    rec(2, 13, "slow query 50% of budget", Some((1, 3)), vec![kv("latency_ms", i(80))]),
                    rec(3, 17, "payment failed", Some((2, 2)), vec![kv("p.user", s("bob")), kv("p.code", i(402))]),
                ],
            ),
        ],
    }
}

/// A fresh database with the trace and log datasets loaded; its router.
pub async fn loaded() -> (Env, Router) {
    let env = env().await;
    let r = env.traces(&dataset()).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let r = env.logs(&log_dataset()).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let app = api(&env);
    (env, app)
}

/// Names of the traces' root spans in a search answer.
pub fn root_names(v: &Value) -> Vec<String> {
    v["traces"].as_array().unwrap().iter().map(|t| t["root_name"].as_str().unwrap().to_string()).collect()
}
