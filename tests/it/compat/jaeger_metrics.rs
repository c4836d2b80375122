//! /jaeger/api/metrics/*: the Jaeger UI's Monitor tab, RED metrics from the span rollups.
//!
//! The fixture's spans all start in the minute that begins 123 ms before T0, called minute 0 here: frontend
//! has two SERVER spans (GET /cart 100 ms, GET /pay 300 ms with status ERROR), checkout two SERVER spans
//! (checkout 50 ms, pay 200 ms ERROR), a CLIENT (SELECT 5 ms), a PRODUCER (publish 2 ms) and an INTERNAL one
//! (cron 1 s), batch one CONSUMER span (consume 20 ms).

use super::*;
use serde_json::json;

const MINUTE: u64 = 60_000 * MS;

/// Query parameters, name and value.
type Params<'a> = Vec<(&'a str, &'a str)>;

/// Start of the minute the fixture's spans start in.
fn minute0() -> u64 {
    T0 - T0 % MINUTE
}

/// The RFC 3339 time of `m` minutes after minute 0, as protobuf JSON prints a whole-second timestamp.
fn ts(m: i64) -> String {
    let nanos = minute0() as i64 + m * MINUTE as i64;
    chrono::DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `/jaeger/api/metrics/{what}` ending 10 minutes after minute 0, looking back 20 minutes, plus `params`.
fn metrics_url(what: &str, params: &[(&str, &str)]) -> String {
    let end = ((minute0() + 10 * MINUTE) / MS).to_string();
    let mut all = vec![("endTs", end.as_str()), ("lookback", "1200000")];
    all.extend_from_slice(params);
    url(&format!("/jaeger/api/metrics/{what}"), &all)
}

/// One metric of a family: its labels as (name, value) and its points as (timestamp, value).
type Series = (Vec<(String, String)>, Vec<(String, f64)>);

/// The metrics of a `MetricFamily`, checking each point's shape.
fn series(v: &Value) -> Vec<Series> {
    v["metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("no metrics list: {v}"))
        .iter()
        .map(|m| {
            let labels = m["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| (l["name"].as_str().unwrap().to_string(), l["value"].as_str().unwrap().to_string()))
                .collect();
            let points = m["metricPoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let value = p["gaugeValue"]["doubleValue"].as_f64().unwrap_or_else(|| panic!("{p}"));
                    (p["timestamp"].as_str().unwrap().to_string(), value)
                })
                .collect();
            (labels, points)
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Asserts `points` are `want` (minute, value), values within rounding.
fn assert_points(points: &[(String, f64)], want: &[(i64, f64)]) {
    let got_times: Vec<&str> = points.iter().map(|p| p.0.as_str()).collect();
    let want_times: Vec<String> = want.iter().map(|w| ts(w.0)).collect();
    assert_eq!(got_times, want_times);
    for ((t, got), (_, want)) in points.iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{t}: {got} != {want}");
    }
}

/// `value` at minutes `from..=to`.
fn flat(from: i64, to: i64, value: f64) -> Vec<(i64, f64)> {
    (from..=to).map(|m| (m, value)).collect()
}

/// A point every minute from -10 to 10: ten-minute windows hold minute 0 from the point at 1 to the one at 10.
fn window_of_minute0(value: f64) -> Vec<(i64, f64)> {
    (-10..=10).map(|m| (m, if (1..=10).contains(&m) { value } else { 0.0 })).collect()
}

#[tokio::test]
async fn calls_errors_and_latencies_per_service() {
    let (_env, app) = loaded().await;
    let (st, headers, body) = call(&app, &metrics_url("calls", &[("service", "frontend")]), &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["name"], "service_call_rate");
    assert_eq!(v["type"], "GAUGE");
    assert!(v["help"].as_str().unwrap().ends_with("grouped by service"), "{v}");
    let s = series(&v);
    assert_eq!(s.len(), 1, "{v}");
    assert_eq!(s[0].0, labels(&[("service_name", "frontend")]));
    // Two server spans in a ten-minute window: per second.
    assert_points(&s[0].1, &window_of_minute0(2.0 / 600.0));

    // Several services: one metric each, by name; errors and latencies only where a window has calls.
    let both = [("service", "frontend"), ("service", "checkout")];
    let v = ok(&app, &metrics_url("errors", &both)).await;
    assert_eq!(v["name"], "service_error_rate");
    let s = series(&v);
    assert_eq!(
        s.iter().map(|m| m.0.clone()).collect::<Vec<_>>(),
        [labels(&[("service_name", "checkout")]), labels(&[("service_name", "frontend")])]
    );
    for m in &s {
        assert_points(&m.1, &flat(1, 10, 0.5));
    }

    // Nearest rank over two durations: p50 the shorter, p75 and p95 the longer, in milliseconds.
    for (q, help, checkout, frontend) in [
        ("0.5", "0.50th quantile", 50.0, 100.0),
        ("0.75", "0.75th quantile", 200.0, 300.0),
        ("0.95", "0.95th quantile", 200.0, 300.0),
    ] {
        let mut params = both.to_vec();
        params.push(("quantile", q));
        let v = ok(&app, &metrics_url("latencies", &params)).await;
        assert_eq!(v["name"], "service_latencies");
        assert!(v["help"].as_str().unwrap().starts_with(help), "{v}");
        let s = series(&v);
        assert_eq!(s.len(), 2);
        assert_points(&s[0].1, &flat(1, 10, checkout));
        assert_points(&s[1].1, &flat(1, 10, frontend));
    }
}

#[tokio::test]
async fn grouped_by_operation_and_filtered_by_span_kind() {
    let (_env, app) = loaded().await;
    let grouped = [("service", "checkout"), ("groupByOperation", "true")];
    let v = ok(&app, &metrics_url("calls", &grouped)).await;
    assert_eq!(v["name"], "service_operation_call_rate");
    assert!(v["help"].as_str().unwrap().ends_with("grouped by service & operation"), "{v}");
    let s = series(&v);
    // Server spans only, by default.
    let ops = [
        labels(&[("service_name", "checkout"), ("operation", "checkout")]),
        labels(&[("service_name", "checkout"), ("operation", "pay")]),
    ];
    assert_eq!(s.iter().map(|m| m.0.clone()).collect::<Vec<_>>(), ops);
    for m in &s {
        assert_points(&m.1, &window_of_minute0(1.0 / 600.0));
    }
    let v = ok(&app, &metrics_url("errors", &grouped)).await;
    assert_eq!(v["name"], "service_operation_error_rate");
    let s = series(&v);
    assert_eq!(s[0].0, ops[0]);
    assert_points(&s[0].1, &flat(1, 10, 0.0));
    assert_points(&s[1].1, &flat(1, 10, 1.0));
    let mut params = grouped.to_vec();
    params.push(("quantile", "0.5"));
    let v = ok(&app, &metrics_url("latencies", &params)).await;
    assert_eq!(v["name"], "service_operation_latencies");
    let s = series(&v);
    assert_points(&s[0].1, &flat(1, 10, 50.0));
    assert_points(&s[1].1, &flat(1, 10, 200.0));

    // Other kinds, by Jaeger's lowercase names, OTLP names, repeated or comma-separated.
    let cases: Vec<(Params, &str, f64, f64)> = vec![
        (vec![("service", "checkout"), ("spanKind", "client")], "SELECT", 1.0, 5.0),
        (vec![("service", "checkout"), ("spanKind", "client"), ("spanKind", "producer")], "SELECT+publish", 2.0, 2.0),
        (vec![("service", "checkout"), ("spanKind", "SPAN_KIND_CLIENT,producer")], "SELECT+publish", 2.0, 2.0),
        (vec![("service", "checkout"), ("spanKind", "internal")], "cron", 1.0, 1000.0),
        (vec![("service", "batch"), ("spanKind", "SPAN_KIND_CONSUMER")], "consume", 1.0, 20.0),
    ];
    for (params, what, calls, p50) in cases {
        let s = series(&ok(&app, &metrics_url("calls", &params)).await);
        assert_eq!(s.len(), 1, "{what}");
        assert_points(&s[0].1, &window_of_minute0(calls / 600.0));
        let mut with_q = params.clone();
        with_q.push(("quantile", "0.5"));
        let s = series(&ok(&app, &metrics_url("latencies", &with_q)).await);
        assert_points(&s[0].1, &flat(1, 10, p50));
    }
    // With operations, the two kinds of checkout's spans are two operations.
    let s = series(
        &ok(&app, &metrics_url("calls", &[("service", "checkout"), ("spanKind", "client,producer"), grouped[1]])).await,
    );
    let names: Vec<&str> = s.iter().map(|m| m.0[1].1.as_str()).collect();
    assert_eq!(names, ["SELECT", "publish"]);

    // No span of the kind, or no such service: an empty list (not left out).
    for params in [vec![("service", "batch")], vec![("service", "nobody")]] {
        for what in ["calls", "errors"] {
            let v = ok(&app, &metrics_url(what, &params)).await;
            assert_eq!(v["metrics"], json!([]), "{what} {params:?}");
        }
    }
}

#[tokio::test]
async fn steps_and_windows_are_whole_minutes() {
    let (_env, app) = loaded().await;
    let fe = ("service", "frontend");
    // A step under a minute (Jaeger's default is five seconds) is a minute.
    let s = series(&ok(&app, &metrics_url("calls", &[fe, ("step", "5000")])).await);
    assert_points(&s[0].1, &window_of_minute0(2.0 / 600.0));
    // An end inside a minute: the last point is at that minute's start.
    let end_late = ((minute0() + 10 * MINUTE + 30_000 * MS) / MS).to_string();
    let late = [fe, ("endTs", end_late.as_str()), ("lookback", "1200000")];
    let s = series(&ok(&app, &url("/jaeger/api/metrics/calls", &late)).await);
    assert_points(&s[0].1, &window_of_minute0(2.0 / 600.0));
    // Three-minute steps counted back from the end, two-minute windows (90 s rounds up): only the point a
    // minute after minute 0 covers it.
    let s = series(&ok(&app, &metrics_url("calls", &[fe, ("step", "180000"), ("ratePer", "90000")])).await);
    assert_points(&s[0].1, &[(-8, 0.0), (-5, 0.0), (-2, 0.0), (1, 2.0 / 120.0), (4, 0.0), (7, 0.0), (10, 0.0)]);
    let s = series(&ok(&app, &metrics_url("errors", &[fe, ("step", "180000"), ("ratePer", "120000")])).await);
    assert_points(&s[0].1, &[(1, 0.5)]);
    // Windows that miss minute 0: no series.
    let v = ok(&app, &metrics_url("calls", &[fe, ("step", "300000"), ("ratePer", "60000")])).await;
    assert_eq!(v["metrics"], json!([]));
    let before = ((minute0() - MINUTE) / MS).to_string();
    let v = ok(&app, &url("/jaeger/api/metrics/latencies", &[fe, ("endTs", &before), ("quantile", "0.5")])).await;
    assert_eq!(v["metrics"], json!([]));
    // The default lookback is an hour: 61 points.
    let end = ((minute0() + 10 * MINUTE) / MS).to_string();
    let s = series(&ok(&app, &url("/jaeger/api/metrics/calls", &[fe, ("endTs", &end)])).await);
    assert_eq!(s[0].1.len(), 61);
    assert_eq!(s[0].1[0].0, ts(-50));

    let v = ok(&app, "/jaeger/api/metrics/minstep").await;
    assert_eq!(v, json!({"data": 60000, "total": 0, "limit": 0, "offset": 0, "errors": null}));
}

/// A ten-minute row of compacted time counts as spread evenly over its minutes.
#[tokio::test]
async fn compacted_time_is_spread_over_its_minutes() {
    let (env, app) = loaded().await;
    let end = chrono::DateTime::from_timestamp_nanos((T0 + 3_600_000 * MS) as i64);
    assert!(ollyscale::write::compact::compact_rollups(env.pool(), end).await.unwrap() > 0);
    let slot_rows: i64 = env.scalar("SELECT count(*) FROM otel_operation_rollups WHERE minutes = 10").await;
    assert!(slot_rows > 0);
    // Minute 0 starts a slot: the window at m holds m tenths of it, then 20 - m.
    let end = ((minute0() + 20 * MINUTE) / MS).to_string();
    let q = |what: &str, extra: &[(&'static str, &'static str)]| {
        let mut p = vec![("service", "frontend"), ("endTs", end.as_str()), ("lookback", "1200000")];
        p.extend_from_slice(extra);
        url(&format!("/jaeger/api/metrics/{what}"), &p)
    };
    let s = series(&ok(&app, &q("calls", &[])).await);
    let spread: Vec<(i64, f64)> = (0..=20)
        .map(|m| {
            let tenths = if m <= 10 { m } else { 20 - m };
            (m, 2.0 * tenths as f64 / 10.0 / 600.0)
        })
        .collect();
    assert_points(&s[0].1, &spread);
    let s = series(&ok(&app, &q("errors", &[])).await);
    assert_points(&s[0].1, &flat(1, 19, 0.5));
    // Latencies count whole wherever the slot overlaps the window.
    let s = series(&ok(&app, &q("latencies", &[("quantile", "0.95")])).await);
    assert_points(&s[0].1, &flat(1, 19, 300.0));
}

/// Bad parameters are 400s in Jaeger's envelope, naming the parameter.
#[tokio::test]
async fn bad_parameters() {
    let (_env, app) = loaded().await;
    let fe = ("service", "frontend");
    let cases: Vec<(String, &str)> = vec![
        (metrics_url("calls", &[]), "service"),
        (metrics_url("errors", &[("service", "")]), "service"),
        (metrics_url("latencies", &[fe]), "quantile"),
        (metrics_url("latencies", &[fe, ("quantile", "1.5")]), "quantile"),
        (metrics_url("latencies", &[fe, ("quantile", "-0.1")]), "quantile"),
        (metrics_url("latencies", &[fe, ("quantile", "p95")]), "quantile"),
        (metrics_url("latencies", &[fe, ("quantile", "NaN")]), "quantile"),
        (url("/jaeger/api/metrics/calls", &[fe, ("endTs", "-1")]), "endTs"),
        (url("/jaeger/api/metrics/calls", &[fe, ("endTs", "now")]), "endTs"),
        (url("/jaeger/api/metrics/calls", &[fe, ("lookback", "1h")]), "lookback"),
        (metrics_url("calls", &[fe, ("step", "-5")]), "step"),
        (metrics_url("calls", &[fe, ("ratePer", "10m")]), "ratePer"),
        (metrics_url("calls", &[fe, ("groupByOperation", "yes")]), "groupByOperation"),
        (metrics_url("calls", &[fe, ("spanKind", "sideways")]), "spanKind"),
        (metrics_url("calls", &[fe, ("tag", "user:alice")]), "tag"),
        // Wider than the widest window (a year here).
        (metrics_url("calls", &[fe, ("ratePer", "34560000000")]), "ratePer"),
        // More than 10,000 points.
        (url("/jaeger/api/metrics/calls", &[fe, ("lookback", "864000000"), ("step", "60000")]), "step"),
        // Five days of minutes, each over a thousand minutes: too much to add up.
        (url("/jaeger/api/metrics/calls", &[fe, ("lookback", "432000000"), ("ratePer", "60000000")]), "ratePer"),
    ];
    for (uri, param) in cases {
        let (st, headers, body) = call(&app, &uri, &[]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8", "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["data"].is_null(), "{uri}: {v}");
        assert_eq!(v["errors"][0]["code"], 400, "{uri}: {v}");
        let msg = v["errors"][0]["msg"].as_str().unwrap();
        assert!(msg.contains(&format!("`{param}`")), "{uri}: {msg:?} does not name {param}");
    }
}
