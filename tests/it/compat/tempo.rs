//! /tempo/api/*: the Tempo API subset Grafana's Tempo data source uses; protobuf answers decoded with the
//! locally defined tempopb messages.

use super::*;
use ollyscale::compat::tempopb::{PartialStatus, Trace, TraceByIdResponse};
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use serde_json::json;

const PROTO: (&str, &str) = ("accept", "application/protobuf");

/// `/tempo/api/search` over an hour either side of T0 (unix seconds) plus `params`.
fn search_url(params: &[(&str, &str)]) -> String {
    let start = ((T0 / 1_000_000_000) - 3600).to_string();
    let end = ((T0 / 1_000_000_000) + 3600).to_string();
    let mut all = vec![("start", start.as_str()), ("end", end.as_str())];
    all.extend_from_slice(params);
    url("/tempo/api/search", &all)
}

fn root_names(v: &Value) -> Vec<String> {
    v["traces"].as_array().unwrap().iter().map(|t| t["rootTraceName"].as_str().unwrap().to_string()).collect()
}

fn span_count(rs: &[opentelemetry_proto::tonic::trace::v1::ResourceSpans]) -> usize {
    rs.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum()
}

#[tokio::test]
async fn echo() {
    let (_env, app) = loaded().await;
    let (st, _, body) = call(&app, "/tempo/api/echo", &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body, b"echo");
}

#[tokio::test]
async fn trace_by_id_as_protobuf_and_json() {
    let (_env, app) = loaded().await;
    let uri = format!("/tempo/api/v2/traces/{}?start=1&end=2", hex(&tid(1)));
    let (st, headers, body) = call(&app, &uri, &[PROTO]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/protobuf");
    let resp = TraceByIdResponse::decode(body.as_slice()).unwrap();
    assert_eq!(resp.status, PartialStatus::Complete as i32);
    let trace = resp.trace.unwrap();
    assert_eq!(span_count(&trace.resource_spans), 4);
    let root = trace
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .find(|s| s.name == "GET /cart")
        .unwrap();
    assert_eq!(root.trace_id, tid(1));
    assert_eq!(root.start_time_unix_nano, T0);
    assert_eq!(root.events[0].name, "cache miss");

    // Without protobuf in Accept: the same as JSON.
    let v = ok(&app, &uri).await;
    assert_eq!(v["trace"]["resourceSpans"].as_array().unwrap().len(), trace.resource_spans.len());

    // The v1 path: tempopb.Trace, the same bytes as OTLP TracesData.
    let (st, _, body) = call(&app, "/tempo/api/traces/ab", &[PROTO]).await;
    assert_eq!(st, StatusCode::OK);
    let t = Trace::decode(body.as_slice()).unwrap();
    let otlp = TracesData::decode(body.as_slice()).unwrap();
    assert_eq!(t.resource_spans, otlp.resource_spans);
    assert_eq!(span_count(&t.resource_spans), 1);
    assert_eq!(t.resource_spans[0].scope_spans[0].spans[0].trace_id, short_tid());
    let v = ok(&app, "/tempo/api/traces/ab").await;
    assert_eq!(v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"], "consume");

    // Unknown trace or endpoint: 404 with a text message; a bad id: 400.
    for (uri, status) in [
        ("/tempo/api/v2/traces/123", StatusCode::NOT_FOUND),
        ("/tempo/api/traces/12g", StatusCode::BAD_REQUEST),
        ("/tempo/api/metrics/query_range", StatusCode::NOT_FOUND),
    ] {
        let (st, headers, body) = call(&app, uri, &[PROTO]).await;
        assert_eq!(st, status, "{uri}");
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        assert!(!body.is_empty());
    }
}

#[tokio::test]
async fn traceql_search() {
    let (_env, app) = loaded().await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("{}", vec!["consume", "cron", "GET /pay", "GET /cart"]),
        (r#"{resource.service.name="frontend"}"#, vec!["GET /pay", "GET /cart"]),
        (r#"{resource.service.name="frontend" && status=error}"#, vec!["GET /pay"]),
        (r#"{status != error && kind = server}"#, vec!["GET /cart"]),
        (r#"{span.p.status >= 500}"#, vec!["GET /pay"]),
        (r#"{span.user =~ "alice|bob"}"#, vec!["GET /pay", "GET /cart"]),
        (r#"{(span.user = "alice" || span.user = "carol") && kind = server}"#, vec!["GET /cart"]),
        (r#"{span.user !~ "alice|bob"}"#, vec!["cron"]),
        (r#"{resource.team = "pay" && name = "SELECT"}"#, vec!["GET /cart"]),
        (r#"{resource.team = "pay" && span.user = "alice"}"#, vec![]),
        (r#"{duration > 250ms && duration < 2s}"#, vec!["cron", "GET /pay"]),
        (r#"{rootServiceName = "checkout"}"#, vec!["cron"]),
        (r#"{span.db.system != nil}"#, vec!["GET /cart"]),
        (r#"{rootName = "GET /pay" && name = "pay"}"#, vec!["GET /pay"]),
        (r#"{traceDuration >= 300ms}"#, vec!["cron", "GET /pay"]),
        (r#"{kind = consumer && span.big = 1152921504606846976}"#, vec!["consume"]),
        // Regular expressions beyond alternatives: whole values, string values only.
        (r#"{span.user =~ "(?i)ALICE|c.*"}"#, vec!["cron", "GET /cart"]),
        (r#"{span.user =~ "ali"}"#, vec![]),
        (r#"{span.p.route !~ "/c.*"}"#, vec!["GET /pay"]),
        (r#"{name =~ "GET /.*" && status = error}"#, vec!["GET /pay"]),
        (r#"{name !~ "GET .*|consume|cron|checkout|pay"}"#, vec!["GET /cart"]),
        (r#"{resource.team =~ "p.y"}"#, vec!["cron", "GET /pay", "GET /cart"]),
        (r#"{rootName =~ "GET /(cart|pay)" && rootServiceName !~ "check.*"}"#, vec!["GET /pay", "GET /cart"]),
        (r#"{span.p.status =~ "5.*"}"#, vec![]),
    ];
    for (q, want) in cases {
        let v = ok(&app, &search_url(&[("q", q)])).await;
        assert_eq!(root_names(&v), want, "{q}");
    }
    // The fields Grafana reads, with Tempo's types and units.
    let v =
        ok(&app, &search_url(&[("q", r#"{resource.service.name="checkout" && status=error}"#), ("spss", "5")])).await;
    let t = &v["traces"][0];
    assert_eq!(t["traceID"], hex(&tid(2)).trim_start_matches('0'));
    assert_eq!(t["rootServiceName"], "frontend");
    assert_eq!(t["rootTraceName"], "GET /pay");
    assert_eq!(t["startTimeUnixNano"], (T0 + 1_000 * MS).to_string());
    assert_eq!(t["durationMs"], 300);
    assert_eq!(
        t["spanSets"],
        json!([{"matched": 1, "spans": [{
            "spanID": hex(&sid(2, 2)), "name": "pay", "startTimeUnixNano": (T0 + 1_010 * MS).to_string(),
            "durationNanos": (200 * MS).to_string(), "attributes": [],
        }]}])
    );
    assert_eq!(
        t["serviceStats"],
        json!({"checkout": {"spanCount": 1, "errorCount": 1}, "frontend": {"spanCount": 1, "errorCount": 1}})
    );
    // Trace ids lose their leading zeros; spss caps the spans per set.
    let v = ok(&app, &search_url(&[("q", "{}"), ("limit", "1"), ("spss", "1")])).await;
    assert_eq!(v["traces"][0]["traceID"], "ab");
    let v = ok(&app, &search_url(&[("q", r#"{resource.service.name="checkout"}"#), ("spss", "2")])).await;
    let cart = find(&v["traces"], "rootTraceName", "GET /cart");
    assert_eq!(cart["spanSets"][0]["spans"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn tags_mode_search() {
    let (_env, app) = loaded().await;
    let cases: Vec<Case> = vec![
        (vec![("tags", "service.name=checkout name=cron")], vec!["cron"]),
        (vec![("tags", r#"user="bob" status=error"#)], vec!["GET /pay"]),
        (vec![("tags", "resource.team=web"), ("minDuration", "150ms")], vec!["GET /pay"]),
        (vec![("maxDuration", "3ms")], vec!["GET /cart"]),
        (vec![("limit", "1")], vec!["consume"]),
    ];
    for (params, want) in cases {
        let v = ok(&app, &search_url(&params)).await;
        assert_eq!(root_names(&v), want, "{params:?}");
    }
}

#[tokio::test]
async fn search_errors_name_what_is_unsupported() {
    let (_env, app) = loaded().await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("q", r#"{span.a = "x"} | count() > 1"#)], "column 16: pipelines"),
        (vec![("q", r#"{span.a = "x"} >> {}"#)], "structural"),
        (vec![("q", r#"{span.a =~ "(x"}"#)], "regular expression"),
        (vec![("q", r#"{span.a =~ "\\bx"}"#)], "word boundary"),
        (vec![("q", "{"), ("tags", "a=b")], "together"),
        (vec![("limit", "0")], "limit"),
        (vec![("tags", "nokey")], "logfmt"),
        (vec![("start", "soon")], "start"),
    ];
    for (params, text) in cases {
        let (st, headers, body) = call(&app, &search_url(&params), &[]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{params:?}");
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        let msg = String::from_utf8(body).unwrap();
        assert!(msg.contains(text), "{params:?}: {msg:?} lacks {text:?}");
    }
}

#[tokio::test]
async fn tag_names_and_values() {
    let (_env, app) = loaded().await;
    let start = ((T0 / 1_000_000_000) - 3600).to_string();
    let end = ((T0 / 1_000_000_000) + 3600).to_string();
    let w = [("start", start.as_str()), ("end", end.as_str())];
    let v = ok(&app, &url("/tempo/api/v2/search/tags", &w)).await;
    let scope = |name: &str| find(&v["scopes"], "name", name)["tags"].as_array().unwrap().clone();
    assert!(scope("resource").contains(&json!("team")), "{v}");
    assert!(scope("span").contains(&json!("user")), "{v}");
    assert!(scope("span").contains(&json!("p.status")), "{v}");
    assert!(scope("intrinsic").contains(&json!("status")), "{v}");
    let v = ok(&app, &url("/tempo/api/v2/search/tags", &[("scope", "intrinsic")])).await;
    assert_eq!(v["scopes"].as_array().unwrap().len(), 1);

    let values = |v: &Value| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = v["tagValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["type"].as_str().unwrap().to_string(), x["value"].as_str().unwrap().to_string()))
            .collect();
        out.sort();
        out
    };
    let pair = |t: &str, v: &str| (t.to_string(), v.to_string());
    let v = ok(&app, &url("/tempo/api/v2/search/tag/resource.team/values", &w)).await;
    assert_eq!(values(&v), [pair("string", "pay"), pair("string", "web")]);
    let v = ok(&app, &url("/tempo/api/v2/search/tag/span.p.status/values", &w)).await;
    assert_eq!(values(&v), [pair("int", "200"), pair("int", "500")]);
    let v = ok(&app, &url("/tempo/api/v2/search/tag/span.p.flag/values", &w)).await;
    assert_eq!(values(&v), [pair("bool", "true")]);
    let v = ok(&app, "/tempo/api/v2/search/tag/status/values").await;
    assert_eq!(values(&v), [pair("keyword", "error"), pair("keyword", "ok"), pair("keyword", "unset")]);
    let v = ok(&app, "/tempo/api/v2/search/tag/resource.service.name/values").await;
    assert_eq!(values(&v), [pair("string", "batch"), pair("string", "checkout"), pair("string", "frontend")]);
    let v = ok(&app, "/tempo/api/v2/search/tag/name/values").await;
    assert!(values(&v).contains(&pair("string", "GET /cart")), "{v}");
    let (st, _, _) = call(&app, "/tempo/api/v2/search/tag/nonsense/values", &[]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
