//! /jaeger/api/*: Jaeger's v1 HTTP JSON API as Grafana's Jaeger data source and the Jaeger UI read it.

use super::*;
use serde_json::json;

/// `/jaeger/api/traces?...` over an hour either side of T0 (start/end in microseconds) plus `params`.
fn search_url(params: &[(&str, &str)]) -> String {
    let start = micros(T0 - 3_600_000 * MS);
    let end = micros(T0 + 3_600_000 * MS);
    let mut all = vec![("start", start.as_str()), ("end", end.as_str())];
    all.extend_from_slice(params);
    url("/jaeger/api/traces", &all)
}

/// The root operation names of a search answer's traces, newest first.
fn roots(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let spans = t["spans"].as_array().unwrap();
            assert!(!spans.is_empty(), "a trace without spans: {t}");
            let root =
                spans.iter().find(|s| s["references"].as_array().unwrap().iter().all(|r| r["refType"] != "CHILD_OF"));
            root.unwrap()["operationName"].as_str().unwrap().to_string()
        })
        .collect()
}

fn assert_envelope(v: &Value, total: u64) {
    assert_eq!(v["total"], total, "{v}");
    assert_eq!(v["limit"], 0);
    assert_eq!(v["offset"], 0);
    assert!(v["errors"].is_null(), "{v}");
}

#[tokio::test]
async fn services_and_operations() {
    let (_env, app) = loaded().await;
    let v = ok(&app, "/jaeger/api/services").await;
    assert_eq!(v["data"], json!(["batch", "checkout", "frontend"]));
    assert_envelope(&v, 3);

    let v = ok(&app, "/jaeger/api/services/checkout/operations").await;
    assert_eq!(v["data"], json!(["SELECT", "checkout", "cron", "pay", "publish"]));
    assert_envelope(&v, 5);
    let v = ok(&app, "/jaeger/api/services/nobody/operations").await;
    assert_eq!(v["data"], json!([]));

    let v = ok(&app, "/jaeger/api/operations?service=checkout").await;
    assert_eq!(
        v["data"],
        json!([
            {"name": "SELECT", "spanKind": "client"},
            {"name": "checkout", "spanKind": "server"},
            {"name": "cron", "spanKind": "internal"},
            {"name": "pay", "spanKind": "server"},
            {"name": "publish", "spanKind": "producer"},
        ])
    );
    let v = ok(&app, "/jaeger/api/operations?service=checkout&spanKind=server").await;
    assert_eq!(v["data"], json!([{"name": "checkout", "spanKind": "server"}, {"name": "pay", "spanKind": "server"}]));
    assert_envelope(&v, 2);
}

/// Trace 1 in Jaeger's model, field by field, as the OpenTelemetry Collector's translator maps OTLP.
#[tokio::test]
async fn trace_by_id_maps_otlp_to_the_jaeger_model() {
    let (_env, app) = loaded().await;
    // Grafana may append start/end in milliseconds: hints only, the trace is found anyway.
    let v = ok(&app, &format!("/jaeger/api/traces/{}?start=1&end=2", hex(&tid(1)))).await;
    assert_envelope(&v, 0);
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let t = &data[0];
    assert_eq!(t["traceID"], hex(&tid(1)));
    assert!(t["warnings"].is_null());
    let spans = t["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 4);
    let processes = t["processes"].as_object().unwrap();
    let mut keys: Vec<&String> = processes.keys().collect();
    keys.sort();
    assert_eq!(keys, ["p1", "p2"]);

    let root = find(&t["spans"], "operationName", "GET /cart");
    assert_eq!(root["traceID"], hex(&tid(1)));
    assert_eq!(root["spanID"], hex(&sid(1, 1)));
    // Microseconds: T0 ends in 456789 ns, which is cut to 456 µs.
    assert_eq!(root["startTime"], T0 / 1000);
    assert_eq!(root["duration"], 100_000);
    assert!(root["warnings"].is_null());
    assert!(root.get("parentSpanID").is_none());
    // The link is a FOLLOWS_FROM reference; there is no parent.
    assert_eq!(
        root["references"],
        json!([{"refType": "FOLLOWS_FROM", "traceID": hex(&tid(3)), "spanID": hex(&sid(3, 1))}])
    );
    let tag = |span: &Value, key: &str| -> Value {
        span["tags"].as_array().unwrap().iter().find(|t| t["key"] == key).cloned().unwrap_or(Value::Null)
    };
    assert_eq!(tag(root, "p.status"), json!({"key": "p.status", "type": "int64", "value": 200}));
    assert_eq!(tag(root, "user"), json!({"key": "user", "type": "string", "value": "alice"}));
    assert_eq!(tag(root, "p.ratio"), json!({"key": "p.ratio", "type": "float64", "value": 0.5}));
    assert_eq!(tag(root, "span.kind"), json!({"key": "span.kind", "type": "string", "value": "server"}));
    assert_eq!(tag(root, "otel.scope.name"), json!({"key": "otel.scope.name", "type": "string", "value": "tracer"}));
    assert_eq!(tag(root, "otel.scope.version")["value"], "1.0");
    // Status UNSET: no status tags.
    assert!(tag(root, "otel.status_code").is_null());
    assert!(tag(root, "error").is_null());
    // The event is a log at its time in microseconds, its name the `event` field.
    assert_eq!(
        root["logs"],
        json!([{"timestamp": (T0 + 5 * MS) / 1000, "fields": [
            {"key": "event", "type": "string", "value": "cache miss"},
            {"key": "key", "type": "string", "value": "cart:1"},
        ]}])
    );
    let process = &processes[root["processID"].as_str().unwrap()];
    assert_eq!(process["serviceName"], "frontend");
    let ptags = process["tags"].as_array().unwrap();
    assert!(ptags.iter().all(|t| t["key"] != "service.name"), "{process}");
    assert!(ptags.contains(&json!({"key": "team", "type": "string", "value": "web"})), "{process}");
    assert!(ptags.contains(&json!({"key": "p.region", "type": "string", "value": "eu"})), "{process}");

    let child = find(&t["spans"], "operationName", "checkout");
    assert_eq!(
        child["references"],
        json!([{"refType": "CHILD_OF", "traceID": hex(&tid(1)), "spanID": hex(&sid(1, 1))}])
    );
    assert_eq!(processes[child["processID"].as_str().unwrap()]["serviceName"], "checkout");
    assert_ne!(child["processID"], root["processID"]);
    let select = find(&t["spans"], "operationName", "SELECT");
    assert_eq!(tag(select, "span.kind")["value"], "client");
    assert_eq!(select["processID"], child["processID"]);

    // Errors: status ERROR gives otel.status_code, error=true and the description.
    let v = ok(&app, &format!("/jaeger/api/traces/{}", hex(&tid(2)))).await;
    let pay = find(&v["data"][0]["spans"], "operationName", "GET /pay");
    assert_eq!(tag(pay, "otel.status_code"), json!({"key": "otel.status_code", "type": "string", "value": "ERROR"}));
    assert_eq!(tag(pay, "error"), json!({"key": "error", "type": "bool", "value": true}));
    assert_eq!(tag(pay, "otel.status_description")["value"], "failed");
}

/// A trace id whose high half is zero is 16 hex digits; OK status, trace state, big ints and arrays.
#[tokio::test]
async fn short_trace_ids_and_value_types() {
    let (_env, app) = loaded().await;
    for id in [hex(&short_tid()), "ab".to_string(), "00000000000000AB".to_string()] {
        let v = ok(&app, &format!("/jaeger/api/traces/{id}")).await;
        let t = &v["data"][0];
        assert_eq!(t["traceID"], "00000000000000ab", "{id}");
        let span = &t["spans"][0];
        assert_eq!(span["traceID"], "00000000000000ab");
        let tags = &span["tags"];
        assert_eq!(find(tags, "key", "otel.status_code")["value"], "OK");
        assert!(tags.as_array().unwrap().iter().all(|t| t["key"] != "error"));
        assert_eq!(find(tags, "key", "w3c.tracestate")["value"], "vendor=x");
        assert_eq!(find(tags, "key", "span.kind")["value"], "consumer");
        assert_eq!(
            find(tags, "key", "big"),
            &json!({"key": "big", "type": "int64", "value": (1u64 << 60).to_string()})
        );
        assert_eq!(find(tags, "key", "list"), &json!({"key": "list", "type": "string", "value": "[\"a\",1]"}));
        assert_eq!(t["processes"]["p1"]["serviceName"], "batch");
    }
}

#[tokio::test]
async fn search_with_jaeger_filter_semantics() {
    let (_env, app) = loaded().await;
    let cases: Vec<Case> = vec![
        (vec![], vec!["consume", "cron", "GET /pay", "GET /cart"]),
        (vec![("service", "frontend")], vec!["GET /pay", "GET /cart"]),
        (vec![("service", "checkout"), ("operation", "SELECT")], vec!["GET /cart"]),
        (vec![("tags", r#"{"error":"true"}"#)], vec!["GET /pay"]),
        (vec![("service", "frontend"), ("tag", "error:false")], vec!["GET /cart"]),
        (vec![("tags", r#"{"span.kind":"client"}"#)], vec!["GET /cart"]),
        (vec![("tags", r#"{"span.status":"OK"}"#)], vec!["consume"]),
        (vec![("tag", "user:alice"), ("tag", "resource.team:web")], vec!["GET /cart"]),
        // Conditions hold on one span: alice's span is frontend's, team pay is checkout's.
        (vec![("tags", r#"{"user":"alice","resource.team":"pay"}"#)], vec![]),
        (vec![("tags", r#"{"p.status":"500"}"#), ("tags", r#"{"user":"bob"}"#)], vec!["GET /pay"]),
        (vec![("tag", "http.url:http://x:1/a")], vec![]),
        (vec![("service", "frontend"), ("minDuration", "250ms")], vec!["GET /pay"]),
        (vec![("maxDuration", "3ms")], vec!["GET /cart"]),
        (vec![("minDuration", "0.9s"), ("maxDuration", "1m")], vec!["cron"]),
        (vec![("limit", "2")], vec!["consume", "cron"]),
    ];
    for (params, want) in cases {
        let v = ok(&app, &search_url(&params)).await;
        assert_eq!(roots(&v), want, "{params:?}");
        assert_envelope(&v, 0);
    }
    // Whole traces come back, each with its own spans and processes.
    let v = ok(&app, &search_url(&[])).await;
    let shape: Vec<(usize, usize)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["spans"].as_array().unwrap().len(), t["processes"].as_object().unwrap().len()))
        .collect();
    assert_eq!(shape, [(1, 1), (1, 1), (2, 2), (4, 2)]);
    let v = ok(&app, &search_url(&[("tags", r#"{"error":"true"}"#)])).await;
    assert_eq!(v["data"][0]["spans"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][0]["traceID"], hex(&tid(2)));
    // The window is [start, end] in microseconds.
    let at = micros(T0 + 1_000 * MS);
    let v = ok(&app, &url("/jaeger/api/traces", &[("start", &at), ("end", &at)])).await;
    assert_eq!(roots(&v), ["GET /pay"]);
}

#[tokio::test]
async fn multi_get_by_trace_id() {
    let (_env, app) = loaded().await;
    let missing = "ffffffffffffffff";
    let v =
        ok(&app, &url("/jaeger/api/traces", &[("traceID", &hex(&tid(1))), ("traceID", missing), ("traceID", "ab")]))
            .await;
    let ids: Vec<&str> = v["data"].as_array().unwrap().iter().map(|t| t["traceID"].as_str().unwrap()).collect();
    assert_eq!(ids, [hex(&tid(1)).as_str(), "00000000000000ab"]);
    assert_eq!(v["errors"], json!([{"msg": "trace not found", "traceID": missing}]));
}

#[tokio::test]
async fn dependencies_from_the_service_map() {
    let (_env, app) = loaded().await;
    let end = ((T0 + 3_600_000 * MS) / MS).to_string();
    let lookback = (7_200_000u64).to_string();
    let v = ok(&app, &url("/jaeger/api/dependencies", &[("endTs", &end), ("lookback", &lookback)])).await;
    // Service-to-service calls only (databases and queues are not Jaeger services).
    assert_eq!(v["data"], json!([{"parent": "frontend", "child": "checkout", "callCount": 2}]));
    let v =
        ok(&app, &url("/jaeger/api/dependencies", &[("endTs", &end), ("lookback", &lookback), ("service", "batch")]))
            .await;
    assert_eq!(v["data"], json!([]));
    // Long before the data: nothing.
    let v = ok(&app, &url("/jaeger/api/dependencies", &[("endTs", "1000"), ("lookback", "10")])).await;
    assert_eq!(v["data"], json!([]));
}

/// Errors come in the envelope, with the HTTP status as `code`, as Jaeger writes them.
#[tokio::test]
async fn errors_in_the_envelope() {
    let (_env, app) = loaded().await;
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (url("/jaeger/api/traces", &[("start", "yesterday")]), StatusCode::BAD_REQUEST, "start"),
        (search_url(&[("minDuration", "2s"), ("maxDuration", "1s")]), StatusCode::BAD_REQUEST, "maxDuration"),
        (search_url(&[("minDuration", "fast")]), StatusCode::BAD_REQUEST, "minDuration"),
        (search_url(&[("tags", "{not json")]), StatusCode::BAD_REQUEST, "tags"),
        (search_url(&[("tags", r#"{"error":"maybe"}"#)]), StatusCode::BAD_REQUEST, "error"),
        (search_url(&[("tag", "novalue")]), StatusCode::BAD_REQUEST, "tag"),
        ("/jaeger/api/operations".into(), StatusCode::BAD_REQUEST, "parameter 'service' is required"),
        ("/jaeger/api/operations?service=a&spanKind=sideways".into(), StatusCode::BAD_REQUEST, "spanKind"),
        ("/jaeger/api/traces/not-hex".into(), StatusCode::BAD_REQUEST, "traceID"),
        (format!("/jaeger/api/traces/{}", "1".repeat(33)), StatusCode::BAD_REQUEST, "traceID"),
        ("/jaeger/api/traces/123456789".into(), StatusCode::NOT_FOUND, "trace not found"),
        ("/jaeger/api/dependencies?endTs=-1".into(), StatusCode::BAD_REQUEST, "endTs"),
        ("/jaeger/api/archive/abc".into(), StatusCode::NOT_FOUND, "no such Jaeger endpoint"),
    ];
    for (uri, status, text) in cases {
        let (st, headers, body) = call(&app, &uri, &[]).await;
        assert_eq!(st, status, "{uri}");
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8", "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["data"].is_null(), "{uri}: {v}");
        assert_eq!(v["errors"][0]["code"], status.as_u16(), "{uri}: {v}");
        let msg = v["errors"][0]["msg"].as_str().unwrap();
        assert!(msg.contains(text), "{uri}: {msg:?} lacks {text:?}");
    }
}

/// The bearer token of the query API guards these routes too.
#[tokio::test]
async fn bearer_token_is_required_when_configured() {
    let (env, _) = loaded().await;
    let app = app(&env, Some("s3cret"));
    for uri in ["/jaeger/api/services", "/jaeger/api/v3/services", "/tempo/api/echo"] {
        let (st, _, _) = call(&app, uri, &[]).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}");
        let (st, _, _) = call(&app, uri, &[("authorization", "Bearer wrong")]).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}");
        let (st, _, _) = call(&app, uri, &[("authorization", "Bearer s3cret")]).await;
        assert_eq!(st, StatusCode::OK, "{uri}");
    }
}
