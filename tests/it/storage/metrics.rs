//! Metrics as the writer stores them: the metric dimension, every data point type with its fields, series
//! keys, exemplars with their trace links; and the metric queries answering from them (search and series by
//! name and time window).

use super::*;
use crate::api::{api, ok, url};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar, metric,
    number_data_point::Value as NV,
};

fn req_with(service: &str, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(vec![kv("service.name", s(service))])),
            scope_metrics: vec![ScopeMetrics { scope: Some(scope("meter", "1")), metrics, schema_url: String::new() }],
            schema_url: String::new(),
        }],
    }
}

fn point(v: NV, time: u64) -> NumberDataPoint {
    NumberDataPoint { time_unix_nano: time, start_time_unix_nano: T0 - 1000, value: Some(v), ..Default::default() }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: "1".into(),
        data: Some(metric::Data::Gauge(Gauge { data_points: points })),
        ..Default::default()
    }
}

fn sum(name: &str, temporality: i32, monotonic: bool, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

async fn one(m: Metric) -> Env {
    let env = env().await;
    env.metrics(&req_with("svc", vec![m])).await;
    env
}

fn exemplar_at(n: u8, v: exemplar::Value) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user", s("ann"))],
        time_unix_nano: T0 + n as u64,
        span_id: vec![n; 8],
        trace_id: vec![n; 16],
        value: Some(v),
    }
}

#[tokio::test]
async fn gauge_int_value() {
    let env = one(gauge("g", vec![point(NV::AsInt(-12), T0)])).await;
    let (i, d): (Option<i64>, Option<f64>) =
        sqlx::query_as("SELECT value_int, value_double FROM otel_metrics_data_points_number")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((i, d), (Some(-12), None));
    assert_eq!(env.scalar::<i16>("SELECT metric_type FROM otel_metrics_dim").await, 1);
}

#[tokio::test]
async fn gauge_double_value() {
    let env = one(gauge("g", vec![point(NV::AsDouble(0.25), T0)])).await;
    let (i, d): (Option<i64>, Option<f64>) =
        sqlx::query_as("SELECT value_int, value_double FROM otel_metrics_data_points_number")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((i, d), (None, Some(0.25)));
}

#[tokio::test]
async fn nan_value_is_stored_as_nan() {
    let env = one(gauge("g", vec![point(NV::AsDouble(f64::NAN), T0)])).await;
    assert!(env.scalar::<f64>("SELECT value_double FROM otel_metrics_data_points_number").await.is_nan());
}

#[tokio::test]
async fn sum_temporality_and_monotonic() {
    let env = one(sum("requests", 2, true, vec![point(NV::AsInt(5), T0)])).await;
    let (t, m, ty): (Option<i16>, Option<bool>, i16) =
        sqlx::query_as("SELECT aggregation_temporality, is_monotonic, metric_type FROM otel_metrics_dim")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((t, m, ty), (Some(2), Some(true), 2));
}

#[tokio::test]
async fn gauge_has_no_temporality_or_monotonic() {
    let env = one(gauge("g", vec![point(NV::AsInt(1), T0)])).await;
    let (t, m): (Option<i16>, Option<bool>) =
        sqlx::query_as("SELECT aggregation_temporality, is_monotonic FROM otel_metrics_dim")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!((t, m), (None, None));
}

#[tokio::test]
async fn delta_and_cumulative_are_different_metrics() {
    let env = env().await;
    env.metrics(&req_with("svc", vec![sum("c", 1, true, vec![point(NV::AsInt(1), T0)])])).await;
    env.metrics(&req_with("svc", vec![sum("c", 2, true, vec![point(NV::AsInt(1), T0)])])).await;
    assert_eq!(env.count("otel_metrics_dim").await, 2);
}

#[tokio::test]
async fn histogram_buckets_bounds_min_max() {
    let env = one(Metric {
        name: "latency".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: T0,
                count: 10,
                sum: Some(123.5),
                bucket_counts: vec![2, 3, 5],
                explicit_bounds: vec![10.0, 100.0],
                min: Some(1.5),
                max: Some(250.0),
                ..Default::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    })
    .await;
    type Row = (i64, Option<f64>, Option<f64>, Option<f64>, Vec<i64>, Vec<f64>);
    let row: Row = sqlx::query_as(
        "SELECT count, sum, min, max, bucket_counts, explicit_bounds FROM otel_metrics_data_points_histogram",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!(row, (10, Some(123.5), Some(1.5), Some(250.0), vec![2, 3, 5], vec![10.0, 100.0]));
}

#[tokio::test]
async fn histogram_without_sum_min_max_stores_nulls() {
    let env = one(Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint { time_unix_nano: T0, count: 0, ..Default::default() }],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    })
    .await;
    let row: (Option<f64>, Option<f64>, Option<f64>, Vec<i64>) =
        sqlx::query_as("SELECT sum, min, max, bucket_counts FROM otel_metrics_data_points_histogram")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!(row, (None, None, None, vec![]));
}

#[tokio::test]
async fn exponential_histogram_every_field() {
    let env = one(Metric {
        name: "exp".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                time_unix_nano: T0,
                count: 9,
                sum: Some(4.5),
                scale: 3,
                zero_count: 1,
                zero_threshold: 0.001,
                positive: Some(Buckets { offset: -4, bucket_counts: vec![1, 2, 3] }),
                negative: Some(Buckets { offset: 2, bucket_counts: vec![2] }),
                min: Some(-1.0),
                max: Some(3.0),
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    })
    .await;
    let row: (i64, i32, i64, f64, i32, Vec<i64>, i32, Vec<i64>) = sqlx::query_as(
        "SELECT count, scale, zero_count, zero_threshold, positive_offset, positive_bucket_counts, negative_offset, \
         negative_bucket_counts FROM otel_metrics_data_points_exp_histogram",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!(row, (9, 3, 1, 0.001, -4, vec![1, 2, 3], 2, vec![2]));
    assert_eq!(env.scalar::<i16>("SELECT metric_type FROM otel_metrics_dim").await, 4);
}

#[tokio::test]
async fn summary_quantiles() {
    let env = one(Metric {
        name: "rpc".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: T0,
                count: 4,
                sum: 10.0,
                quantile_values: vec![
                    ValueAtQuantile { quantile: 0.5, value: 2.0 },
                    ValueAtQuantile { quantile: 0.99, value: 4.0 },
                ],
                ..Default::default()
            }],
        })),
        ..Default::default()
    })
    .await;
    let row: (i64, f64, Vec<f64>, Vec<f64>) =
        sqlx::query_as("SELECT count, sum, quantiles, quantile_values FROM otel_metrics_data_points_summary")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!(row, (4, 10.0, vec![0.5, 0.99], vec![2.0, 4.0]));
}

#[tokio::test]
async fn exemplars_with_trace_and_span_ids() {
    let mut p = point(NV::AsInt(1), T0);
    p.exemplars = vec![exemplar_at(3, exemplar::Value::AsInt(7)), exemplar_at(4, exemplar::Value::AsDouble(0.5))];
    let env = one(gauge("g", vec![p])).await;
    type Row = (i32, Option<i64>, Option<f64>, Vec<u8>, Vec<u8>, i16);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT exemplar_index::int4, value_int, value_double, trace_id, span_id, data_point_kind \
         FROM otel_metrics_exemplars ORDER BY exemplar_index",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [(0, Some(7), None, vec![3; 16], vec![3; 8], 1), (1, None, Some(0.5), vec![4; 16], vec![4; 8], 1)]
    );
    let linked: bool = env
        .scalar("SELECT bool_and(e.data_point_id = p.data_point_id AND e.data_point_time = p.time) FROM otel_metrics_exemplars e, otel_metrics_data_points_number p")
        .await;
    assert!(linked);
}

#[tokio::test]
async fn exemplar_filtered_attributes_are_typed_json() {
    let mut p = point(NV::AsInt(1), T0);
    p.exemplars = vec![exemplar_at(1, exemplar::Value::AsInt(1))];
    let env = one(gauge("g", vec![p])).await;
    assert_eq!(
        env.scalar::<String>("SELECT filtered_attributes::text FROM otel_metrics_exemplars").await,
        r#"{"user": "ann"}"#
    );
}

#[tokio::test]
async fn histogram_exemplars_carry_their_kind() {
    let env = one(Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: T0,
                count: 1,
                bucket_counts: vec![1],
                exemplars: vec![exemplar_at(1, exemplar::Value::AsDouble(1.0))],
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    })
    .await;
    assert_eq!(env.scalar::<i16>("SELECT data_point_kind FROM otel_metrics_exemplars").await, 3);
}

#[tokio::test]
async fn data_point_flags() {
    let mut p = point(NV::AsInt(1), T0);
    p.flags = 1;
    let env = one(gauge("g", vec![p])).await;
    assert_eq!(env.scalar::<i32>("SELECT flags FROM otel_metrics_data_points_number").await, 1);
}

#[tokio::test]
async fn data_point_attributes_promoted_and_other() {
    let mut p = point(NV::AsInt(1), T0);
    p.attributes = vec![kv("p.route", s("/a")), kv("method", s("GET"))];
    let env = one(gauge("g", vec![p])).await;
    assert_eq!(env.scalar::<String>("SELECT value FROM otel_number_dp_attrs_string").await, "/a");
    assert_eq!(
        env.scalar::<String>("SELECT attributes::text FROM otel_number_dp_attrs_other").await,
        r#"{"method": "GET"}"#
    );
}

/// Each data point carries the key of its series (metric, resource, attribute set without dropped keys),
/// registered once in `otel_metric_series` whatever the batch, the attribute order or the other types.
#[tokio::test]
async fn data_points_carry_their_series_registered_once() {
    let env = env().await;
    let with = |attrs: Vec<KeyValue>, t: u64| NumberDataPoint { attributes: attrs, ..point(NV::AsInt(1), t) };
    let a = || vec![kv("p.route", s("/a")), kv("method", s("GET")), kv("secret.token", s("x"))];
    let a_reordered = vec![kv("method", s("GET")), kv("p.route", s("/a"))];
    env.metrics(&req_with("svc", vec![gauge("g", vec![with(a(), T0), with(vec![], T0)])])).await;
    env.metrics(&req_with("svc", vec![gauge("g", vec![with(a_reordered, T0 + 1)])])).await;
    env.metrics(&req_with("svc", vec![gauge("g", vec![with(a(), T0 + 2)])])).await;
    let h = HistogramDataPoint { time_unix_nano: T0, attributes: a(), ..Default::default() };
    let hist = Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram { data_points: vec![h], aggregation_temporality: 1 })),
        ..Default::default()
    };
    env.metrics(&req_with("svc", vec![hist])).await;
    env.metrics(&req_with("other", vec![gauge("g", vec![with(a(), T0)])])).await;

    // g/svc with the set, g/svc without attributes, h/svc, g/other.
    assert_eq!(env.count("otel_metric_series").await, 4);
    assert_eq!(
        env.scalar::<i64>("SELECT count(*) FROM otel_metrics_data_points_number WHERE series_key IS NULL").await,
        0
    );
    assert_eq!(
        env.scalar::<i64>(
            "SELECT count(DISTINCT series_key) FROM otel_metrics_data_points_number d \
             JOIN otel_resources_dim r USING (resource_id) WHERE r.service_name = 'svc'"
        )
        .await,
        2
    );
    // Points and series agree on metric and resource, and the set is stored without the dropped key.
    assert_eq!(
        env.scalar::<i64>(
            "SELECT count(*) FROM otel_metrics_data_points_number d JOIN otel_metric_series s USING (series_key) \
             WHERE s.metric_id = d.metric_id AND s.resource_id = d.resource_id"
        )
        .await,
        5
    );
    assert_eq!(
        env.scalar::<i64>(
            "SELECT count(*) FROM otel_metrics_data_points_histogram d JOIN otel_metric_series s USING (series_key) \
             WHERE s.metric_id = d.metric_id"
        )
        .await,
        1
    );
    assert_eq!(
        env.scalar::<String>(
            "SELECT string_agg(attributes::text, ' ' ORDER BY attributes::text) FROM otel_metric_series s \
             JOIN otel_metrics_dim m USING (metric_id) JOIN otel_resources_dim r USING (resource_id) \
             WHERE m.name = 'g' AND r.service_name = 'svc'"
        )
        .await,
        r#"{"method": "GET", "p.route": "/a"} {}"#
    );
}

/// A series' `last_seen` follows the batches that carry it (at most once per refresh interval), and a series
/// that maintenance pruned is registered again by the next batch that carries it once the interval passed.
#[tokio::test]
async fn series_last_seen_is_refreshed_and_a_pruned_series_comes_back() {
    let env = env_refreshing_every_batch().await;
    let at = |received: u64, t: u64| {
        let mut r = env.metrics_record(&req_with("svc", vec![gauge("g", vec![point(NV::AsInt(1), t)])]));
        r.received_at_unix_nanos = received;
        r
    };
    let last_seen = || env.scalar::<chrono::DateTime<chrono::Utc>>("SELECT last_seen FROM otel_metric_series");
    env.ingest(vec![at(RECEIVED_AT, T0)]).await;
    assert_eq!(last_seen().await.timestamp_micros(), (RECEIVED_AT / 1000) as i64);
    let later = RECEIVED_AT + 600_000_000_000;
    env.ingest(vec![at(later, T0 + 1)]).await;
    assert_eq!(last_seen().await.timestamp_micros(), (later / 1000) as i64);
    // An older batch never moves it backwards.
    env.ingest(vec![at(RECEIVED_AT, T0 + 2)]).await;
    assert_eq!(last_seen().await.timestamp_micros(), (later / 1000) as i64);

    // Maintenance pruned it (as drop_expired does once last_seen is past retention): the next batch
    // registers it again, with the same key the points carry.
    sqlx::query("DELETE FROM otel_metric_series").execute(env.pool()).await.unwrap();
    env.ingest(vec![at(later + 1_000, T0 + 3)]).await;
    assert_eq!(env.count("otel_metric_series").await, 1);
    assert_eq!(
        env.scalar::<i64>(
            "SELECT count(DISTINCT d.series_key) FROM otel_metrics_data_points_number d \
             JOIN otel_metric_series s USING (series_key)"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn start_time_unset_is_null() {
    let env = one(gauge("g", vec![NumberDataPoint { start_time_unix_nano: 0, ..point(NV::AsInt(1), T0) }])).await;
    assert_eq!(
        env.scalar::<Option<chrono::DateTime<chrono::Utc>>>("SELECT start_time FROM otel_metrics_data_points_number")
            .await,
        None
    );
}

#[tokio::test]
async fn timestamp_nanos_precision() {
    let env = one(gauge("g", vec![point(NV::AsInt(1), T0 + 1)])).await;
    assert_eq!(env.scalar::<i16>("SELECT time_nanos_fraction FROM otel_metrics_data_points_number").await, 790);
    assert_eq!(env.scalar::<i16>("SELECT start_time_nanos_fraction FROM otel_metrics_data_points_number").await, 789);
}

#[tokio::test]
async fn metric_dimension_deduplicated_across_batches() {
    let env = env().await;
    for n in 0..3 {
        env.metrics(&req_with("svc", vec![gauge("cpu", vec![point(NV::AsDouble(n as f64), T0 + n)])])).await;
    }
    assert_eq!(env.count("otel_metrics_dim").await, 1);
    assert_eq!(env.scalar::<i64>("SELECT count(DISTINCT metric_id) FROM otel_metrics_data_points_number").await, 1);
    assert_eq!(env.count("otel_metrics_data_points_number").await, 3);
}

#[tokio::test]
async fn different_unit_is_a_different_metric() {
    let env = env().await;
    let mut m = gauge("mem", vec![point(NV::AsInt(1), T0)]);
    env.metrics(&req_with("svc", vec![m.clone()])).await;
    m.unit = "By".into();
    env.metrics(&req_with("svc", vec![m])).await;
    let units: Vec<String> =
        sqlx::query_scalar("SELECT unit FROM otel_metrics_dim ORDER BY metric_id").fetch_all(env.pool()).await.unwrap();
    assert_eq!(units, ["1", "By"]);
}

#[tokio::test]
async fn metric_metadata_and_description() {
    let mut m = gauge("g", vec![point(NV::AsInt(1), T0)]);
    m.description = "Amount of work ✓".into();
    m.metadata = vec![kv("source", s("prometheus")), kv("n", i(2))];
    let env = one(m).await;
    let (desc, md): (String, Option<String>) =
        sqlx::query_as("SELECT description, metadata::text FROM otel_metrics_dim").fetch_one(env.pool()).await.unwrap();
    assert_eq!(desc, "Amount of work ✓");
    assert_eq!(md.as_deref(), Some(r#"{"n": 2, "source": "prometheus"}"#));
}

#[tokio::test]
async fn several_metrics_in_one_scope() {
    let env = env().await;
    env.metrics(&req_with(
        "svc",
        vec![gauge("a", vec![point(NV::AsInt(1), T0)]), sum("b", 1, false, vec![point(NV::AsInt(2), T0)])],
    ))
    .await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT m.name, p.value_int FROM otel_metrics_data_points_number p JOIN otel_metrics_dim m USING (metric_id) ORDER BY m.name",
    )
    .fetch_all(env.pool())
    .await
    .unwrap();
    assert_eq!(rows, [("a".to_string(), 1), ("b".to_string(), 2)]);
}

#[tokio::test]
async fn search_by_metric_name_and_time() {
    let env = env().await;
    let points = (0..5).map(|n| point(NV::AsInt(n), T0 + n as u64 * 1_000_000_000)).collect();
    env.metrics(&req_with("svc", vec![gauge("cpu", points), gauge("mem", vec![point(NV::AsInt(9), T0)])])).await;
    let app = api(&env);
    let (from, to) = ((T0 + 2_000_000_000).to_string(), (T0 + 5_000_000_000).to_string());
    let (from, to) = (from.as_str(), to.as_str());
    let v = ok(&app, &url("/metrics/search", &[("from", from), ("to", to)])).await;
    let names: Vec<&str> = v["metrics"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cpu"], "only metrics with points in the window");
    let series = [("name", "cpu"), ("from", from), ("to", to), ("step", "1s")];
    let v = ok(&app, &url("/metrics/series", &series)).await;
    let values: Vec<f64> =
        v["series"][0]["points"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect();
    assert_eq!(values, [2.0, 3.0, 4.0]);
}

#[tokio::test]
async fn resource_shared_with_traces_and_logs() {
    let env = env().await;
    env.metrics(&req_with("shared", vec![gauge("g", vec![point(NV::AsInt(1), T0)])])).await;
    env.logs(&simple_logs("shared", "x")).await;
    assert_eq!(env.count("otel_resources_dim").await, 1);
    let same: bool = env
        .scalar("SELECT (SELECT resource_id FROM otel_logs_fact) = (SELECT resource_id FROM otel_metrics_data_points_number)")
        .await;
    assert!(same);
}

#[tokio::test]
async fn data_point_ids_are_unique_across_point_types() {
    let env = env().await;
    let h = Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint { time_unix_nano: T0, count: 0, ..Default::default() }; 3],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    };
    env.metrics(&req_with("svc", vec![gauge("g", vec![point(NV::AsInt(1), T0); 4]), h])).await;
    let (n, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT id) FROM (SELECT data_point_id id FROM otel_metrics_data_points_number \
         UNION ALL SELECT data_point_id FROM otel_metrics_data_points_histogram) t",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!((n, distinct), (7, 7));
}

#[tokio::test]
async fn summary_without_quantiles_stores_empty_arrays() {
    let env = one(Metric {
        name: "s".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint { time_unix_nano: T0, count: 0, sum: 0.0, ..Default::default() }],
        })),
        ..Default::default()
    })
    .await;
    let row: (Vec<f64>, Vec<f64>) =
        sqlx::query_as("SELECT quantiles, quantile_values FROM otel_metrics_data_points_summary")
            .fetch_one(env.pool())
            .await
            .unwrap();
    assert_eq!(row, (vec![], vec![]));
}

#[tokio::test]
async fn exponential_histogram_without_buckets() {
    let env = one(Metric {
        name: "e".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                time_unix_nano: T0,
                count: 0,
                scale: 0,
                ..Default::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    })
    .await;
    let row: (i32, Vec<i64>, i32, Vec<i64>, Option<f64>) = sqlx::query_as(
        "SELECT positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts, sum \
         FROM otel_metrics_data_points_exp_histogram",
    )
    .fetch_one(env.pool())
    .await
    .unwrap();
    assert_eq!(row, (0, vec![], 0, vec![], None));
}
