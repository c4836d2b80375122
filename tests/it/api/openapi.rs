//! /api/v2/openapi.json: it documents every route, and real responses of every endpoint match the schemas
//! it declares.

use super::*;
use ollyscale::query::openapi::ROUTES;

/// A small JSON Schema check covering what the document uses: $ref, type (or list), enum, properties,
/// required, additionalProperties false, items, oneOf.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return check(doc, &doc["components"]["schemas"][name], v, at);
    }
    if let Some(alts) = schema["oneOf"].as_array() {
        let errs: Vec<String> = alts.iter().filter_map(|s| check(doc, s, v, at).err()).collect();
        return if errs.len() < alts.len() { Ok(()) } else { Err(errs.join(" | ")) };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let Some(e) = schema["enum"].as_array()
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} not in {e:?}"));
    }
    if let Some(o) = v.as_object() {
        for req in schema["required"].as_array().into_iter().flatten() {
            if !o.contains_key(req.as_str().unwrap()) {
                return Err(format!("{at}: missing {req}"));
            }
        }
        let props = schema["properties"].as_object();
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, x, &format!("{at}.{k}"))?,
                None if schema["additionalProperties"] == false => {
                    return Err(format!("{at}: undocumented property {k}"));
                }
                None => {}
            }
        }
    }
    if let (Some(a), Some(items)) = (v.as_array(), schema.get("items")) {
        for (i, x) in a.iter().enumerate() {
            check(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_route_is_documented_and_every_response_matches_its_schema() {
    let (env, app) = loaded().await;
    env.metrics(&super::metrics::metrics_dataset()).await;
    let doc = ok(&app, "/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), ROUTES.len());
    let t1 = hex(&tid(1));
    let s13 = hex(&sid(1, 3));
    let calls: Vec<(&str, String)> = vec![
        ("/logs/search", wurl("/logs/search", &[("limit", "2")])),
        ("/logs/volume", wurl("/logs/volume", &[])),
        ("/logs/trace/{trace_id}", format!("/logs/trace/{t1}")),
        ("/logs/trace/{trace_id}/span/{span_id}", format!("/logs/trace/{t1}/span/{s13}")),
        ("/traces/search", wurl("/traces/search", &[("limit", "2")])),
        ("/traces/{trace_id}", format!("/traces/{t1}")),
        ("/traces/{trace_id}", url(&format!("/traces/{t1}"), &[("format", "otlp")])),
        ("/traces/{trace_id}/spans", format!("/traces/{t1}/spans")),
        ("/metrics/search", wurl("/metrics/search", &[])),
        ("/metrics/series", wurl("/metrics/series", &[("name", "cpu.temp")])),
        ("/metrics/series", wurl("/metrics/series", &[("name", "latency")])),
        ("/metrics/series", wurl("/metrics/series", &[("name", "gc")])),
        ("/services", wurl("/services", &[])),
        ("/services/{service}/operations", wurl("/services/checkout/operations", &[])),
        ("/services/{service}/series", wurl("/services/frontend/series", &[])),
        ("/service-map", wurl("/service-map", &[])),
        ("/attributes", wurl("/attributes", &[("signal", "traces")])),
        ("/attributes/{key}/values", wurl("/attributes/user/values", &[("signal", "traces")])),
        ("/openapi.json", "/openapi.json".to_string()),
    ];
    for route in ROUTES {
        assert!(calls.iter().any(|(p, _)| *p == route.path), "no call for {}", route.path);
    }
    for (path, uri) in calls {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} undocumented");
        let v = ok(&app, &uri).await;
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        check(&doc, schema, &v, &uri).unwrap();
        // Every documented parameter is accepted by the handler (no "unknown parameter").
        for p in op["parameters"].as_array().unwrap() {
            if p["in"] == "query" {
                let name = p["name"].as_str().unwrap();
                let sep = if uri.contains('?') { '&' } else { '?' };
                let (_, e) = get(&app, &format!("{uri}{sep}{name}=%3F%3F")).await;
                let msg = e["error"]["message"].as_str().unwrap_or("");
                assert!(!msg.contains("unknown parameter"), "{path} rejects documented {name}: {msg}");
            }
        }
    }
    // The check is not vacuous: a trace page is not a log page, and an extra property is caught.
    let traces = ok(&app, &wurl("/traces/search", &[])).await;
    assert!(check(&doc, &serde_json::json!({"$ref": "#/components/schemas/LogPage"}), &traces, "t").is_err());
    let mut extra = traces.clone();
    extra["surprise"] = 1.into();
    assert!(check(&doc, &serde_json::json!({"$ref": "#/components/schemas/TracePage"}), &extra, "t").is_err());
    // Error answers match the Error schema.
    let (_, e) = get(&app, "/traces/search").await;
    check(
        &doc,
        &doc["paths"]["/traces/search"]["get"]["responses"]["400"]["content"]["application/json"]["schema"],
        &e,
        "error",
    )
    .unwrap();
}
