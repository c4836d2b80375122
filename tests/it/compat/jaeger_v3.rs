//! /jaeger/api/v3/*: Jaeger's api_v3 over HTTP as the Jaeger UI and Grafana (gRPC toggle) read it.

use super::*;
use chrono::{DateTime, SecondsFormat};
use serde_json::json;

/// RFC 3339 with nanoseconds and a `+00:00` offset.
fn rfc(nanos: u64) -> String {
    DateTime::from_timestamp_nanos(nanos as i64).to_rfc3339_opts(SecondsFormat::Nanos, false)
}

/// A search URL over an hour either side of T0 in camelCase parameters, plus `params`.
fn search_url(path: &str, params: &[(&str, &str)]) -> String {
    let (min, max) = (rfc(T0 - 3_600_000 * MS), rfc(T0 + 3_600_000 * MS));
    let mut all = vec![("query.startTimeMin", min.as_str()), ("query.startTimeMax", max.as_str())];
    all.extend_from_slice(params);
    url(path, &all)
}

fn span_names(result: &Value) -> Vec<String> {
    let mut names: Vec<String> = result["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rs| rs["scopeSpans"].as_array().unwrap().iter())
        .flat_map(|ss| ss["spans"].as_array().unwrap().iter())
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn services_and_operations_always_carry_their_arrays() {
    let (env, app) = loaded().await;
    assert_eq!(ok(&app, "/jaeger/api/v3/services").await, json!({"services": ["batch", "checkout", "frontend"]}));
    let v = ok(&app, "/jaeger/api/v3/operations?service=frontend").await;
    assert_eq!(
        v,
        json!({"operations": [{"name": "GET /cart", "spanKind": "server"}, {"name": "GET /pay", "spanKind": "server"}]})
    );
    for uri in [
        "/jaeger/api/v3/operations?service=checkout&spanKind=client",
        "/jaeger/api/v3/operations?service=checkout&span_kind=client",
    ] {
        assert_eq!(ok(&app, uri).await, json!({"operations": [{"name": "SELECT", "spanKind": "client"}]}), "{uri}");
    }
    assert_eq!(ok(&app, "/jaeger/api/v3/operations?service=nobody").await, json!({"operations": []}));
    // An empty database: the arrays are still there.
    let empty = super::env().await;
    let app = super::app(&empty, None);
    assert_eq!(ok(&app, "/jaeger/api/v3/services").await, json!({"services": []}));
    drop(env);
}

#[tokio::test]
async fn trace_by_id_is_otlp_json_under_result() {
    let (_env, app) = loaded().await;
    // Grafana appends the time range unencoded: the `+` of the offset arrives as a space.
    let (start, end) = (rfc(T0 - 1_000 * MS), rfc(T0 + 1_000 * MS));
    assert!(start.ends_with("+00:00"), "{start}");
    let v = ok(&app, &format!("/jaeger/api/v3/traces/{}?start_time={start}&end_time={end}", hex(&tid(1)))).await;
    let result = &v["result"];
    assert_eq!(span_names(result), ["GET /cart", "SELECT", "checkout", "publish"]);
    let fe = result["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rs| {
            rs["resource"]["attributes"].as_array().unwrap().iter().any(|a| a["value"]["stringValue"] == "frontend")
        })
        .unwrap();
    let root = &fe["scopeSpans"][0]["spans"][0];
    assert_eq!(root["traceId"], hex(&tid(1)));
    assert_eq!(root["spanId"], hex(&sid(1, 1)));
    assert_eq!(root["kind"], 2);
    assert_eq!(root["startTimeUnixNano"].to_string().trim_matches('"'), T0.to_string());
    assert_eq!(fe["scopeSpans"][0]["scope"]["name"], "tracer");
    // Short ids are full 32-digit OTLP ids.
    let v = ok(&app, "/jaeger/api/v3/traces/ab").await;
    assert_eq!(v["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"], hex(&short_tid()));
}

#[tokio::test]
async fn search_merges_matching_traces() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &search_url("/jaeger/api/v3/traces", &[("query.serviceName", "frontend")])).await;
    assert_eq!(span_names(&v["result"]), ["GET /cart", "GET /pay", "SELECT", "checkout", "pay", "publish"]);
    let v = ok(&app, &search_url("/jaeger/api/v3/traces", &[("query.attributes", r#"{"error":"true"}"#)])).await;
    assert_eq!(span_names(&v["result"]), ["GET /pay", "pay"]);
    // snake_case aliases, an unencoded `+` (a space), durations, search depth.
    let (min, max) = (rfc(T0 - 3_600_000 * MS).replace('+', " "), rfc(T0 + 3_600_000 * MS).replace('+', " "));
    let v = ok(
        &app,
        &url(
            "/jaeger/api/v3/traces",
            &[
                ("query.start_time_min", &min),
                ("query.start_time_max", &max),
                ("query.service_name", "checkout"),
                ("query.duration_min", "900ms"),
                ("query.num_traces", "5"),
            ],
        ),
    )
    .await;
    assert_eq!(span_names(&v["result"]), ["cron"]);
}

#[tokio::test]
async fn trace_summaries() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &search_url("/jaeger/api/v3/trace-summaries", &[("query.searchDepth", "10")])).await;
    let s = v["summaries"].as_array().unwrap();
    assert_eq!(s.len(), 4);
    let cart = find(&v["summaries"], "traceId", &hex(&tid(1)));
    assert_eq!(
        cart,
        &json!({
            "traceId": hex(&tid(1)),
            "rootServiceName": "frontend",
            "rootOperationName": "GET /cart",
            "minStartTimeUnixNano": T0.to_string(),
            "maxEndTimeUnixNano": (T0 + 100 * MS).to_string(),
            "spanCount": 4,
            "errorSpanCount": 0,
            "orphanSpanCount": 0,
            "services": [
                {"name": "checkout", "spanCount": 3, "errorSpanCount": 0},
                {"name": "frontend", "spanCount": 1, "errorSpanCount": 0},
            ],
        })
    );
    let pay = find(&v["summaries"], "traceId", &hex(&tid(2)));
    assert_eq!(pay["errorSpanCount"], 2);
    // The Jaeger UI checks ids against ^[0-9a-f]{32}$ and times against ^\d+$.
    let short = find(&v["summaries"], "traceId", &hex(&short_tid()));
    assert_eq!(short["rootServiceName"], "batch");
    for t in s {
        let id = t["traceId"].as_str().unwrap();
        assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{id}");
        assert!(t["minStartTimeUnixNano"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()));
    }
    // No match: an empty list, not an error.
    let v = ok(&app, &search_url("/jaeger/api/v3/trace-summaries", &[("query.serviceName", "nobody")])).await;
    assert_eq!(v, json!({"summaries": []}));
}

/// Errors are `{"error": {"httpCode", "message"}}` with the HTTP status.
#[tokio::test]
async fn errors_have_the_v3_shape() {
    let (_env, app) = loaded().await;
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            search_url("/jaeger/api/v3/traces", &[("query.serviceName", "nobody")]),
            StatusCode::NOT_FOUND,
            "No traces found",
        ),
        ("/jaeger/api/v3/traces".into(), StatusCode::BAD_REQUEST, "query.startTimeMin"),
        (
            url("/jaeger/api/v3/trace-summaries", &[("query.startTimeMin", "2026-01-01T00:00:00Z")]),
            StatusCode::BAD_REQUEST,
            "query.startTimeMax",
        ),
        (
            url(
                "/jaeger/api/v3/traces",
                &[("query.startTimeMin", "2026-01-02T00:00:00Z"), ("query.startTimeMax", "2026-01-01T00:00:00Z")],
            ),
            StatusCode::BAD_REQUEST,
            "query.startTimeMax",
        ),
        (
            search_url("/jaeger/api/v3/traces", &[("query.startTimeMin", "x")]),
            StatusCode::BAD_REQUEST,
            "query.startTimeMin",
        ),
        (
            search_url("/jaeger/api/v3/traces", &[("query.durationMin", "soon")]),
            StatusCode::BAD_REQUEST,
            "query.durationMin",
        ),
        (
            search_url("/jaeger/api/v3/traces", &[("query.attributes", "[1]")]),
            StatusCode::BAD_REQUEST,
            "query.attributes",
        ),
        ("/jaeger/api/v3/operations".into(), StatusCode::BAD_REQUEST, "service"),
        ("/jaeger/api/v3/traces/xyz".into(), StatusCode::BAD_REQUEST, "trace_id"),
        ("/jaeger/api/v3/traces/123".into(), StatusCode::NOT_FOUND, "trace not found"),
    ];
    for (uri, status, text) in cases {
        let (st, v) = get(&app, &uri).await;
        assert_eq!(st, status, "{uri}: {v}");
        assert_eq!(v["error"]["httpCode"], status.as_u16(), "{uri}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(text), "{uri}: {msg:?} lacks {text:?}");
    }
}
