//! /api/v2/services, /services/{service}/operations, /service-map.

use super::*;

fn by_name<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|x| x[key] == name).unwrap_or_else(|| panic!("{name} not in {list}"))
}

/// A latency percentile read from a rollup histogram: within 4.5% of the exact value.
fn near(got: &Value, exact: u64) {
    let got = got.as_u64().unwrap_or_else(|| panic!("not a latency: {got}"));
    assert!(got.abs_diff(exact) as f64 <= exact as f64 * 0.045, "{got} is not within 4.5% of {exact}");
}

#[tokio::test]
async fn services_with_rate_errors_and_latency() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/services", &[])).await;
    let names: Vec<&str> = v["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["checkout", "frontend"]);
    let fe = by_name(&v["services"], "name", "frontend");
    assert_eq!(fe["span_count"], 2);
    assert_eq!(fe["request_count"], 2);
    assert_eq!(fe["error_count"], 1);
    assert_eq!(fe["error_rate"], 0.5);
    // Two requests in a two-hour window.
    assert!((fe["request_rate"].as_f64().unwrap() - 2.0 / 7200.0).abs() < 1e-12);
    // Nearest-rank percentiles of 100 ms and 300 ms (the first and last ranks are exact).
    assert_eq!(fe["p50_ns"], 100 * MS);
    assert_eq!(fe["p99_ns"], 300 * MS);
    let co = by_name(&v["services"], "name", "checkout");
    // checkout: SERVER checkout + pay, and the root "cron" are entries; the CLIENT/PRODUCER spans are not.
    assert_eq!(co["span_count"], 5);
    assert_eq!(co["request_count"], 3);
    assert_eq!(co["error_count"], 1);
    // 50, 200 and 1000 ms: the median is a histogram estimate, within 4.5% of 200 ms.
    near(&co["p50_ns"], 200 * MS);
    assert_eq!(co["p99_ns"], 1_000 * MS);
    // Other namespaces have none; a window without spans still lists services seen since then, idle.
    let v = ok(&app, &wurl("/services", &[("namespace", "elsewhere")])).await;
    assert_eq!(v["services"], serde_json::json!([]));
}

#[tokio::test]
async fn operations_of_a_service() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/services/checkout/operations", &[])).await;
    let ops = &v["operations"];
    assert_eq!(ops.as_array().unwrap().len(), 5);
    let pay = by_name(ops, "name", "pay");
    assert_eq!(pay["kind"], "SERVER");
    assert_eq!(pay["count"], 1);
    assert_eq!(pay["error_count"], 1);
    assert_eq!(pay["p95_ns"], 200 * MS);
    let select = by_name(ops, "name", "SELECT");
    assert_eq!(select["kind"], "CLIENT");
    assert_eq!(select["error_count"], 0);
    // Unknown service: 404; bad window: 400.
    let (st, e) = get(&app, &wurl("/services/nobody/operations", &[])).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    bad(&app, &url("/services/checkout/operations", &[("from", "soon")]), "from").await;
    bad(&app, &url("/services", &[("to", "2026-01-01T00:00:00Z")]), "from").await;
    bad(&app, &wurl("/services", &[("service", "x")]), "service").await;
}

#[tokio::test]
async fn service_map_edges() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/service-map", &[])).await;
    let edges: Vec<(String, String, String, i64, i64)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap().into(),
                e["target"].as_str().unwrap().into(),
                e["target_type"].as_str().unwrap().into(),
                e["call_count"].as_i64().unwrap(),
                e["error_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            ("checkout".into(), "kafka".into(), "messaging".into(), 1, 0),
            ("checkout".into(), "postgresql".into(), "database".into(), 1, 0),
            ("frontend".into(), "checkout".into(), "service".into(), 2, 1),
        ]
    );
    let fe = by_name(&v["edges"], "source", "frontend");
    // The callees took 50 and 200 ms.
    assert_eq!(fe["p50_ns"], 50 * MS);
    assert_eq!(fe["p99_ns"], 200 * MS);
    assert_eq!(
        v["nodes"],
        serde_json::json!([
            {"name": "checkout", "type": "service"},
            {"name": "frontend", "type": "service"},
            {"name": "kafka", "type": "messaging"},
            {"name": "postgresql", "type": "database"},
        ])
    );
    bad(&app, &url("/service-map", &[("from", "1"), ("to", "99999999999999999")]), "from").await;
}

#[tokio::test]
async fn compacted_rollups_answer_the_same() {
    let (env, app) = loaded().await;
    let paths = ["/services", "/services/checkout/operations", "/service-map"];
    let mut before = Vec::new();
    for p in paths {
        before.push(ok(&app, &wurl(p, &[])).await);
    }
    // Every slot before the window's end is folded into ten-minute rows.
    let end = chrono::DateTime::from_timestamp_nanos((T0 + 3_600_000 * MS) as i64);
    let moved = ollyscale::write::compact::compact_rollups(env.pool(), end).await.unwrap();
    assert!(moved > 0);
    let slot_rows: i64 = env.scalar("SELECT count(*) FROM otel_service_rollups WHERE minutes = 10").await;
    assert!(slot_rows > 0);
    // The window starts on a slot boundary (09:00:00.123): the same answer, rates included.
    for (p, want) in paths.iter().zip(&before) {
        assert_eq!(&ok(&app, &wurl(p, &[])).await, want, "{p}");
    }
    // A window starting inside a compacted slot (a minute after the spans, which start in the 10:00 slot's
    // first minute) covers the whole slot, and says so; rates are over what is covered.
    let from = (T0 + 60_000 * MS).to_string();
    let to = (T0 + 30 * 60_000 * MS).to_string();
    let v = ok(&app, &url("/services", &[("from", &from), ("to", &to)])).await;
    let slot_start = T0 / (600_000 * MS) * (600_000 * MS);
    let covered = v["window"]["covered_from_unix_nano"].as_str().unwrap().parse::<u64>().unwrap();
    assert_eq!(covered, slot_start);
    let fe = by_name(&v["services"], "name", "frontend");
    assert_eq!(fe["request_count"], 2);
    let secs = (T0 + 30 * 60_000 * MS - covered) as f64 / 1e9;
    assert!((fe["request_rate"].as_f64().unwrap() - 2.0 / secs).abs() < 1e-12, "{fe}");
}

#[tokio::test]
async fn series_of_a_service_over_time() {
    let (_env, app) = loaded().await;
    let (from, to) = ((T0 - 1_800_000 * MS).to_string(), (T0 + 1_800_000 * MS).to_string());
    let q = |svc: &str, step: &str| {
        url(&format!("/services/{svc}/series"), &[("from", &from), ("to", &to), ("step", step)])
    };
    let v = ok(&app, &q("frontend", "10m")).await;
    assert_eq!(v["service"], "frontend");
    assert_eq!(v["step_ns"], 600_000 * MS);
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    assert_eq!(points[0]["start_unix_nano"], from);
    // Both requests (one failed) fall in the bucket holding T0's minute; the others are empty.
    let counts: Vec<i64> = points.iter().map(|p| p["request_count"].as_i64().unwrap()).collect();
    assert_eq!(counts, [0, 0, 2, 0, 0, 0]);
    let busy = &points[2];
    assert_eq!(busy["error_count"], 1);
    assert_eq!(busy["error_rate"], 0.5);
    assert!((busy["request_rate"].as_f64().unwrap() - 2.0 / 600.0).abs() < 1e-12);
    assert_eq!(busy["p50_ns"], 100 * MS);
    assert_eq!(busy["p99_ns"], 300 * MS);
    assert!(points[0]["p50_ns"].is_null());
    // Steps are whole rollup minutes at least; unknown services are 404.
    bad(&app, &q("frontend", "30s"), "step").await;
    let (st, e) = get(&app, &q("nobody", "10m")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let v = ok(&app, &wurl("/services/checkout/series", &[])).await;
    assert_eq!(v["points"].as_array().unwrap().len(), 60);
}
