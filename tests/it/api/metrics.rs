//! /api/v2/metrics: search and series with every aggregation.

use super::*;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric, number_data_point,
};

const SEC: u64 = 1_000_000_000;

fn num(t: u64, start: u64, v: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: start,
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn m(name: &str, unit: &str, data: metric::Data) -> Metric {
    Metric { name: name.into(), unit: unit.into(), data: Some(data), ..Default::default() }
}

/// Metrics of service "api" (and one gauge series of "worker"), points every 10 s from T0:
/// - gauge cpu.temp: series p.core=0 (values 40, 42, 44, 60, 50, 48) and p.core=1 (unpromoted host=h1: 30 ..);
/// - sum requests (cumulative, monotonic): 10 at T0-20s (baseline), 20, 35, 50 (T0..T0+20s), reset to 5 at
///   T0+30s (new start time), 15 at T0+40s, 30 at T0+50s;
/// - histogram latency (cumulative, bounds 10/100): increments 10 obs in (0,10] then 10 in (10,100];
/// - exponential histogram size (delta, scale 0): 4 obs in (1,2] and 4 in (2,4] per point;
/// - summary gc (cumulative count/sum, quantiles 0.5/0.9/0.99).
pub fn metrics_dataset() -> ExportMetricsServiceRequest {
    let t = |k: u64| T0 + k * 10 * SEC;
    let temps0 = [40.0, 42.0, 44.0, 60.0, 50.0, 48.0];
    let temps1 = [30.0, 31.0, 32.0, 33.0, 34.0, 35.0];
    let gauge = m(
        "cpu.temp",
        "Cel",
        metric::Data::Gauge(Gauge {
            data_points: (0..6)
                .flat_map(|k| {
                    [
                        num(t(k), 0, temps0[k as usize], vec![kv("p.core", s("0"))]),
                        num(t(k), 0, temps1[k as usize], vec![kv("p.core", s("1")), kv("host", s("h1"))]),
                    ]
                })
                .collect(),
        }),
    );
    let first_start = T0 - 60 * SEC;
    let restart = T0 + 25 * SEC;
    let sum = m(
        "requests",
        "1",
        metric::Data::Sum(Sum {
            data_points: vec![
                num(T0 - 20 * SEC, first_start, 10.0, vec![]),
                num(t(0), first_start, 20.0, vec![]),
                num(t(1), first_start, 35.0, vec![]),
                num(t(2), first_start, 50.0, vec![]),
                num(t(3), restart, 5.0, vec![]),
                num(t(4), restart, 15.0, vec![]),
                num(t(5), restart, 30.0, vec![]),
            ],
            aggregation_temporality: 2,
            is_monotonic: true,
        }),
    );
    let hist = |k: u64, counts: Vec<u64>, sum: f64| HistogramDataPoint {
        start_time_unix_nano: first_start,
        time_unix_nano: t(k),
        count: counts.iter().sum(),
        sum: Some(sum),
        bucket_counts: counts,
        explicit_bounds: vec![10.0, 100.0],
        ..Default::default()
    };
    let histogram = m(
        "latency",
        "ms",
        metric::Data::Histogram(Histogram {
            data_points: vec![
                hist(0, vec![5, 0, 0], 25.0),
                hist(1, vec![15, 0, 0], 75.0),
                hist(2, vec![15, 10, 0], 575.0),
            ],
            aggregation_temporality: 2,
        }),
    );
    let exp = |k: u64| ExponentialHistogramDataPoint {
        start_time_unix_nano: t(k),
        time_unix_nano: t(k) + SEC,
        count: 8,
        sum: Some(20.0),
        scale: 0,
        positive: Some(Buckets { offset: 0, bucket_counts: vec![4, 4] }),
        ..Default::default()
    };
    let exp_hist = m(
        "size",
        "By",
        metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![exp(0), exp(1)],
            aggregation_temporality: 1,
        }),
    );
    let summ = |k: u64, count: u64, q50: f64| SummaryDataPoint {
        start_time_unix_nano: first_start,
        time_unix_nano: t(k),
        count,
        sum: count as f64 * 2.0,
        quantile_values: vec![
            ValueAtQuantile { quantile: 0.5, value: q50 },
            ValueAtQuantile { quantile: 0.9, value: q50 * 2.0 },
            ValueAtQuantile { quantile: 0.99, value: q50 * 3.0 },
        ],
        ..Default::default()
    };
    let summary = m(
        "gc",
        "ms",
        metric::Data::Summary(Summary { data_points: vec![summ(0, 10, 1.0), summ(1, 20, 2.0), summ(4, 30, 4.0)] }),
    );
    let rm = |svc: &str, metrics: Vec<Metric>| ResourceMetrics {
        resource: Some(resource(vec![kv("service.name", s(svc)), kv("team", s(svc))])),
        scope_metrics: vec![ScopeMetrics { scope: Some(scope("meter", "1")), metrics, schema_url: String::new() }],
        schema_url: String::new(),
    };
    let worker_gauge = m(
        "cpu.temp",
        "Cel",
        metric::Data::Gauge(Gauge { data_points: vec![num(t(0), 0, 70.0, vec![kv("p.core", s("0"))])] }),
    );
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            rm("api", vec![gauge, sum, histogram, exp_hist, summary]),
            rm("worker", vec![worker_gauge]),
        ],
    }
}

async fn metrics_loaded() -> (Env, axum::Router) {
    let env = env().await;
    let r = env.metrics(&metrics_dataset()).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let app = api(&env);
    (env, app)
}

fn names(v: &Value) -> Vec<String> {
    v["metrics"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn search_by_name_type_service_and_attributes() {
    let (_env, app) = metrics_loaded().await;
    let v = ok(&app, &wurl("/metrics/search", &[])).await;
    assert_eq!(names(&v), ["cpu.temp", "gc", "latency", "requests", "size"]);
    let req = &v["metrics"][3];
    assert_eq!(req["type"], "sum");
    assert_eq!(req["temporality"], "cumulative");
    assert_eq!(req["monotonic"], true);
    assert_eq!(req["unit"], "1");
    let cases: Vec<Case> = vec![
        (vec![("name", "TEMP")], vec!["cpu.temp"]),
        (vec![("type", "histogram")], vec!["latency"]),
        (vec![("type", "exponential_histogram")], vec!["size"]),
        (vec![("service", "worker")], vec!["cpu.temp"]),
        (vec![("attr", "p.core eq 1")], vec!["cpu.temp"]),
        (vec![("attr", "host exists")], vec!["cpu.temp"]),
        (vec![("resource_attr", "team eq worker")], vec!["cpu.temp"]),
        (vec![("resource_attr", "team ne worker"), ("type", "summary")], vec!["gc"]),
    ];
    for (params, want) in cases {
        let v = ok(&app, &wurl("/metrics/search", &params)).await;
        assert_eq!(names(&v), want, "{params:?}");
    }
    // Paging.
    let p1 = ok(&app, &wurl("/metrics/search", &[("limit", "3")])).await;
    assert_eq!(names(&p1), ["cpu.temp", "gc", "latency"]);
    let c = p1["next_cursor"].as_str().unwrap().to_string();
    let p2 = ok(&app, &wurl("/metrics/search", &[("limit", "3"), ("cursor", &c)])).await;
    assert_eq!(names(&p2), ["requests", "size"]);
    // Outside the window: nothing.
    let v = ok(&app, &url("/metrics/search", &[("from", "1000"), ("to", "2000")])).await;
    assert_eq!(names(&v), Vec::<String>::new());
    bad(&app, &wurl("/metrics/search", &[("type", "counter")]), "type").await;
    bad(&app, "/metrics/search", "from").await;
}

/// Series over [T0, T0+60s) in 30 s buckets.
fn series_url(name: &str, extra: &[(&str, &str)]) -> String {
    let from = T0.to_string();
    let to = (T0 + 60 * SEC).to_string();
    let mut p: Vec<(&str, &str)> = vec![("name", name), ("from", &from), ("to", &to), ("step", "30s")];
    p.extend_from_slice(extra);
    url("/metrics/series", &p)
}

fn values_of(series: &Value) -> Vec<f64> {
    series["points"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect()
}

/// The series of a response sorted by attribute set: within a service the API orders them by an opaque key.
fn by_attributes(v: &Value) -> Vec<Value> {
    let mut series = v["series"].as_array().unwrap().clone();
    series.sort_by_key(|s| s["attributes"].to_string());
    series
}

#[tokio::test]
async fn gauge_series_per_attribute_set_with_each_aggregation() {
    let (_env, app) = metrics_loaded().await;
    let v = ok(&app, &series_url("cpu.temp", &[("service", "api")])).await;
    assert_eq!(v["agg"], "last");
    assert_eq!(v["metric"]["type"], "gauge");
    let series = by_attributes(&v);
    assert_eq!(series.len(), 2);
    assert_eq!(series[0]["attributes"], serde_json::json!({"host": "h1", "p.core": "1"}));
    assert_eq!(series[1]["attributes"], serde_json::json!({"p.core": "0"}));
    assert_eq!(series[1]["service_name"], "api");
    assert_eq!(series[1]["points"][0]["time_unix_nano"], T0.to_string());
    assert_eq!(series[1]["points"][1]["time_unix_nano"], (T0 + 30 * SEC).to_string());
    assert_eq!(values_of(&series[1]), [44.0, 48.0]);
    assert_eq!(values_of(&series[0]), [32.0, 35.0]);
    for (agg, want) in [("avg", [42.0, 158.0 / 3.0]), ("min", [40.0, 48.0]), ("max", [44.0, 60.0])] {
        let v = ok(&app, &series_url("cpu.temp", &[("service", "api"), ("agg", agg), ("attr", "p.core eq 0")])).await;
        assert_eq!(v["series"].as_array().unwrap().len(), 1, "{agg}");
        assert_eq!(values_of(&v["series"][0]), want, "{agg}");
    }
    // Both services without a service filter.
    let v = ok(&app, &series_url("cpu.temp", &[("attr", "p.core eq 0")])).await;
    let services: Vec<&str> =
        v["series"].as_array().unwrap().iter().map(|s| s["service_name"].as_str().unwrap()).collect();
    assert_eq!(services, ["api", "worker"]);
    bad(&app, &series_url("cpu.temp", &[("agg", "rate")]), "agg").await;
}

#[tokio::test]
async fn sum_series_rate_and_delta_across_a_reset() {
    let (_env, app) = metrics_loaded().await;
    // Increases: +10 (T0, over the baseline at T0-20s), +15, +15 | reset to 5 (counts 5), +10, +15.
    let v = ok(&app, &series_url("requests", &[("agg", "delta")])).await;
    assert_eq!(values_of(&v["series"][0]), [40.0, 30.0]);
    let v = ok(&app, &series_url("requests", &[])).await;
    assert_eq!(v["agg"], "rate");
    let rates = values_of(&v["series"][0]);
    assert!((rates[0] - 40.0 / 30.0).abs() < 1e-9 && (rates[1] - 1.0).abs() < 1e-9, "{rates:?}");
    let v = ok(&app, &series_url("requests", &[("agg", "max")])).await;
    assert_eq!(values_of(&v["series"][0]), [50.0, 30.0]);
    bad(&app, &series_url("requests", &[("agg", "quantiles")]), "agg").await;
}

#[tokio::test]
async fn histogram_series_quantiles_count_and_sum() {
    let (_env, app) = metrics_loaded().await;
    let v = ok(&app, &series_url("latency", &[])).await;
    assert_eq!(v["agg"], "quantiles");
    let pts = &v["series"][0]["points"];
    // The T0 point's series started before the look-back, so it is a baseline only; then +10 in (0,10] at
    // T0+10s and +10 in (10,100] at T0+20s: 20 observations, 10 of them <= 10.
    assert_eq!(pts[0]["count"], 20);
    assert_eq!(pts[0]["sum"], 550.0);
    assert_eq!(pts[0]["p50"], 10.0);
    assert_eq!(pts[0]["p90"], 82.0);
    assert_eq!(pts[0]["p99"], 98.2);
    assert!(pts[0]["p95"].is_number());
    assert_eq!(pts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn exponential_histogram_and_summary_series() {
    let (_env, app) = metrics_loaded().await;
    let v = ok(&app, &series_url("size", &[])).await;
    let p = &v["series"][0]["points"][0];
    assert_eq!(p["count"], 16);
    assert_eq!(p["sum"], 40.0);
    assert_eq!(p["p50"], 2.0);
    assert_eq!(p["p90"], 3.6);
    let v = ok(&app, &series_url("gc", &[])).await;
    let pts = v["series"][0]["points"].as_array().unwrap();
    assert_eq!(pts.len(), 2);
    // Each bucket reports its latest summary.
    assert_eq!(
        (pts[0]["count"].as_u64(), pts[0]["p50"].as_f64(), pts[0]["p90"].as_f64()),
        (Some(20), Some(2.0), Some(4.0))
    );
    assert_eq!(pts[0]["p99"], 6.0);
    assert_eq!(pts[1]["p50"], 4.0);
    // p95 is interpolated between the reported 0.9 and 0.99.
    let p95 = pts[1]["p95"].as_f64().unwrap();
    assert!(p95 > 8.0 && p95 < 12.0, "{p95}");
}

#[tokio::test]
async fn series_errors() {
    let (_env, app) = metrics_loaded().await;
    let (st, v) = get(&app, &series_url("no.such.metric", &[])).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    bad(&app, &wurl("/metrics/series", &[]), "name").await;
    bad(&app, &url("/metrics/series", &[("name", "gc")]), "from").await;
    bad(&app, &series_url("gc", &[("step", "0s")]), "step").await;
    bad(&app, &series_url("gc", &[("step", "1ms")]), "step").await;
    bad(&app, &series_url("gc", &[("type", "gauge"), ("type", "sum")]), "type").await;
    // A type filter that excludes the metric: not found.
    let (st, _) = get(&app, &series_url("gc", &[("type", "gauge")])).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn data_point_attribute_keys_and_values() {
    let (_env, app) = metrics_loaded().await;
    let from = (T0 - 60 * SEC).to_string();
    let to = (T0 + 120 * SEC).to_string();
    let v = ok(&app, &url("/attributes", &[("signal", "metrics"), ("from", &from), ("to", &to)])).await;
    assert_eq!(
        v["keys"],
        serde_json::json!([{"key": "host", "types": ["string"]}, {"key": "p.core", "types": ["string"]}])
    );
    let v = ok(&app, &url("/attributes/p.core/values", &[("signal", "metrics"), ("from", &from), ("to", &to)])).await;
    assert_eq!(v["values"], serde_json::json!([{"value": "0", "count": 7}, {"value": "1", "count": 6}]));
    let v =
        ok(&app, &url("/attributes", &[("signal", "metrics"), ("level", "resource"), ("from", &from), ("to", &to)]))
            .await;
    let keys: Vec<&str> = v["keys"].as_array().unwrap().iter().map(|k| k["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["service.name", "team"]);
}

/// A series is a resource plus an attribute set: the same set sent in another order (promoted and unpromoted
/// keys mixed) is one series, the same key with a value of another type is another, points without attributes
/// form their own series, and points flagged "no recorded value" are left out.
#[tokio::test]
async fn series_are_split_by_attribute_value_and_type() {
    let env = env().await;
    let t = |k: u64| T0 + k * 10 * SEC;
    let flagged = NumberDataPoint { flags: 1, ..num(t(1), 0, 1000.0, vec![kv("p.dev", s("1"))]) };
    let gauge = m(
        "disk.used",
        "By",
        metric::Data::Gauge(Gauge {
            data_points: vec![
                num(t(0), 0, 1.0, vec![kv("p.dev", s("1"))]),
                num(t(0), 0, 2.0, vec![kv("p.dev", i(1))]),
                num(t(0), 0, 3.0, vec![kv("p.dev", s("1")), kv("host", s("h1"))]),
                num(t(1), 0, 5.0, vec![kv("host", s("h1")), kv("p.dev", s("1"))]),
                num(t(1), 0, 7.0, vec![]),
                num(t(2), 0, 9.0, vec![kv("p.dev", d(1.0))]),
                num(t(3), 0, 4.0, vec![kv("p.dev", s("1"))]),
                flagged,
            ],
        }),
    );
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(vec![kv("service.name", s("api"))])),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope("meter", "1")),
                metrics: vec![gauge],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let r = env.metrics(&req).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let app = api(&env);
    let v = ok(&app, &series_url("disk.used", &[("agg", "max")])).await;
    let got: Vec<(Value, Vec<f64>)> =
        by_attributes(&v).iter().map(|s| (s["attributes"].clone(), values_of(s))).collect();
    let want = vec![
        (serde_json::json!({"host": "h1", "p.dev": "1"}), vec![5.0]),
        (serde_json::json!({"p.dev": "1"}), vec![1.0, 4.0]),
        (serde_json::json!({"p.dev": 1.0}), vec![9.0]),
        (serde_json::json!({"p.dev": 1}), vec![2.0]),
        (serde_json::json!({}), vec![7.0]),
    ];
    let mut want_sorted = want.clone();
    want_sorted.sort_by_key(|(a, _)| a.to_string());
    assert_eq!(got, want_sorted);
    assert!(v["series"].as_array().unwrap().iter().all(|s| s["service_name"] == "api"));
}

/// A series query over more data points than the configured budget is refused, naming `from`; at the budget
/// it answers.
#[tokio::test]
async fn series_over_the_point_budget_is_refused() {
    let (env, _) = metrics_loaded().await;
    // cpu.temp has 13 points in the fetched range (12 of "api", 1 of "worker").
    let tight = router(env.pool().clone(), QueryOptions { max_series_points: 12, ..Default::default() });
    bad(&tight, &series_url("cpu.temp", &[]), "from").await;
    let enough = router(env.pool().clone(), QueryOptions { max_series_points: 13, ..Default::default() });
    let v = ok(&enough, &series_url("cpu.temp", &[])).await;
    assert_eq!(v["series"].as_array().unwrap().len(), 3);
}

/// Series come in pages ordered by service: following `next_cursor` with `limit=1` visits every series of
/// the unpaged answer once, with the same points, and a cursor of another listing is refused.
#[tokio::test]
async fn series_pages_by_cursor_without_gaps_or_repeats() {
    let (_env, app) = metrics_loaded().await;
    let all = ok(&app, &series_url("cpu.temp", &[])).await;
    assert_eq!(all["next_cursor"], Value::Null);
    let all = all["series"].as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut extra = vec![("limit", "1")];
        if let Some(c) = &cursor {
            extra.push(("cursor", c.as_str()));
        }
        let v = ok(&app, &series_url("cpu.temp", &extra)).await;
        paged.extend(v["series"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(paged.len() <= all.len(), "more pages than series");
    }
    assert_eq!(paged, all);
    let services: Vec<&str> = paged.iter().map(|s| s["service_name"].as_str().unwrap()).collect();
    assert_eq!(services, ["api", "api", "worker"]);
    // A bounded window: one open to now would outgrow the maximum window as the fixed test time ages.
    let (from, to) = (T0.to_string(), (T0 + 3_600_000 * MS).to_string());
    let search = ok(&app, &url("/metrics/search", &[("from", &from), ("to", &to), ("limit", "1")])).await;
    let search_cursor = search["next_cursor"].as_str().expect("more than one metric").to_string();
    bad(&app, &series_url("cpu.temp", &[("cursor", &search_cursor)]), "cursor").await;
    // A series without a point in the window is skipped, and ends the listing when it is the last one:
    // worker's only point is at T0.
    let later = url(
        "/metrics/series",
        &[("name", "cpu.temp"), ("from", &(T0 + 10 * SEC).to_string()), ("to", &(T0 + 60 * SEC).to_string())],
    );
    let first = ok(&app, &format!("{later}&limit=1")).await;
    assert_eq!(first["series"][0]["service_name"], "api");
    let c = first["next_cursor"].as_str().expect("a second page").to_string();
    let second = ok(&app, &format!("{later}&limit=1&cursor={c}")).await;
    assert_eq!(second["series"].as_array().unwrap().len(), 1);
    assert_eq!(second["series"][0]["service_name"], "api");
    assert_ne!(second["series"][0]["attributes"], first["series"][0]["attributes"]);
    assert_eq!(second["next_cursor"], Value::Null, "{second}");
    bad(&app, &series_url("cpu.temp", &[("cursor", "garbage")]), "cursor").await;
    bad(&app, &series_url("cpu.temp", &[("limit", "0")]), "limit").await;
}
