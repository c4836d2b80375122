//! Test-side rebuilder: OTLP requests read back from the tables, plus a canonical form for comparing them
//! with the input (attribute order is not stored; kvlists come back sorted; an empty value may come back
//! as an AnyValue without value).

use chrono::{DateTime, Utc};
use ollyscale::normalize::anyvalue::{any_value_from_json, attributes_from_json};
use ollyscale::time::PgTime;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar, metric,
    number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

fn q(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

/// Unix nanos from a TIMESTAMPTZ column and its fraction column (NULL -> 0, OTLP's "unset").
pub fn nanos(row: &PgRow, col: &str) -> u64 {
    let t: Option<DateTime<Utc>> = row.get(col);
    let f: i16 = row.get(format!("{col}_nanos_fraction").as_str());
    t.map(|t| PgTime::from_datetime_and_fraction(t, f).unwrap().unix_nanos()).unwrap_or(0)
}

fn id(row: &PgRow, col: &str) -> Vec<u8> {
    row.get::<Option<Vec<u8>>, _>(col).unwrap_or_default()
}

/// Every attribute of a span or log record: its row's JSON (or its rows at the level, `prefix`) and its
/// attribute set's, sorted by key.
async fn record_attrs(pool: &PgPool, prefix: &str, owner_col: &str, row: &PgRow) -> Vec<KeyValue> {
    // The row's own JSON; NULL for records written before it existed, whose attributes are in the tables.
    let mut out = match row.get::<Option<String>, _>("attributes_text") {
        Some(json) => attributes_from_json(&json).unwrap(),
        None => attrs(pool, prefix, owner_col, row.get(owner_col)).await,
    };
    if let Some(set) = row.get::<Option<i64>, _>("attr_set_key") {
        let json: String = sqlx::query_scalar("SELECT attributes::text FROM otel_attribute_sets WHERE set_key = $1")
            .bind(set)
            .fetch_one(pool)
            .await
            .unwrap();
        out.extend(attributes_from_json(&json).unwrap());
    }
    canon_attrs(&mut out);
    out
}

/// Every attribute of one owner at a level (`prefix` e.g. `otel_span_attrs`), sorted by key.
pub async fn attrs(pool: &PgPool, prefix: &str, owner_col: &str, owner: i64) -> Vec<KeyValue> {
    let mut out = Vec::new();
    let sel = |suffix: &str| {
        q(format!(
            "SELECT k.key, a.value FROM {prefix}_{suffix} a JOIN attribute_keys k USING (key_id) WHERE a.{owner_col} = $1"
        ))
    };
    let kv = |key: String, v: Value| KeyValue { key, value: Some(AnyValue { value: Some(v) }), ..Default::default() };
    for (k, v) in sqlx::query_as::<_, (String, String)>(sel("string")).bind(owner).fetch_all(pool).await.unwrap() {
        out.push(kv(k, Value::StringValue(v)));
    }
    for (k, v) in sqlx::query_as::<_, (String, i64)>(sel("int")).bind(owner).fetch_all(pool).await.unwrap() {
        out.push(kv(k, Value::IntValue(v)));
    }
    for (k, v) in sqlx::query_as::<_, (String, f64)>(sel("double")).bind(owner).fetch_all(pool).await.unwrap() {
        out.push(kv(k, Value::DoubleValue(v)));
    }
    for (k, v) in sqlx::query_as::<_, (String, bool)>(sel("bool")).bind(owner).fetch_all(pool).await.unwrap() {
        out.push(kv(k, Value::BoolValue(v)));
    }
    for (k, v) in sqlx::query_as::<_, (String, Vec<u8>)>(sel("bytes")).bind(owner).fetch_all(pool).await.unwrap() {
        out.push(kv(k, Value::BytesValue(v)));
    }
    let other: Option<String> =
        sqlx::query_scalar(q(format!("SELECT attributes::text FROM {prefix}_other WHERE {owner_col} = $1")))
            .bind(owner)
            .fetch_optional(pool)
            .await
            .unwrap();
    if let Some(json) = other {
        out.extend(attributes_from_json(&json).unwrap());
    }
    canon_attrs(&mut out);
    out
}

async fn resource(pool: &PgPool, rid: i64) -> (Resource, String) {
    let row = sqlx::query("SELECT schema_url, dropped_attributes_count FROM otel_resources_dim WHERE resource_id = $1")
        .bind(rid)
        .fetch_one(pool)
        .await
        .unwrap();
    let res = Resource {
        attributes: attrs(pool, "otel_resource_attrs", "resource_id", rid).await,
        dropped_attributes_count: row.get::<i32, _>("dropped_attributes_count") as u32,
        ..Default::default()
    };
    (res, row.get("schema_url"))
}

async fn scope(pool: &PgPool, sid: i64) -> (InstrumentationScope, String) {
    let row = sqlx::query(
        "SELECT name, version, schema_url, dropped_attributes_count FROM otel_scopes_dim WHERE scope_id = $1",
    )
    .bind(sid)
    .fetch_one(pool)
    .await
    .unwrap();
    let sc = InstrumentationScope {
        name: row.get("name"),
        version: row.get("version"),
        attributes: attrs(pool, "otel_scope_attrs", "scope_id", sid).await,
        dropped_attributes_count: row.get::<i32, _>("dropped_attributes_count") as u32,
    };
    (sc, row.get("schema_url"))
}

/// Groups items by (resource, scope) in order of first appearance.
struct Groups<T> {
    resources: Vec<(i64, Vec<ScopeItems<T>>)>,
}

/// A scope id and its items.
type ScopeItems<T> = (i64, Vec<T>);

impl<T> Groups<T> {
    fn new() -> Self {
        Groups { resources: Vec::new() }
    }
    fn push(&mut self, rid: i64, sid: i64, item: T) {
        let r = match self.resources.iter().position(|(id, _)| *id == rid) {
            Some(p) => p,
            None => {
                self.resources.push((rid, Vec::new()));
                self.resources.len() - 1
            }
        };
        let scopes = &mut self.resources[r].1;
        match scopes.iter_mut().find(|(id, _)| *id == sid) {
            Some((_, items)) => items.push(item),
            None => scopes.push((sid, vec![item])),
        }
    }
}

/// Every log record in the database as one request.
pub async fn logs(pool: &PgPool) -> ExportLogsServiceRequest {
    let rows = sqlx::query(
        "SELECT *, body_json::text AS body_json_text, attributes::text AS attributes_text FROM otel_logs_fact \
         ORDER BY log_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut groups = Groups::new();
    for row in rows {
        let body = match row.get::<i16, _>("body_type") {
            0 => None,
            1 => Some(Value::StringValue(row.get("body_string"))),
            2 => Some(Value::IntValue(row.get("body_int"))),
            3 => Some(Value::DoubleValue(row.get("body_double"))),
            4 => Some(Value::BoolValue(row.get("body_bool"))),
            5 => Some(Value::BytesValue(row.get("body_bytes"))),
            _ => any_value_from_json(&row.get::<String, _>("body_json_text")).unwrap().value,
        };
        let time_unset: bool = row.get("time_unset");
        let rec = LogRecord {
            time_unix_nano: if time_unset { 0 } else { nanos(&row, "time") },
            observed_time_unix_nano: nanos(&row, "observed_time"),
            severity_number: row.get::<i16, _>("severity_number") as i32,
            severity_text: row.get("severity_text"),
            body: body.map(|v| AnyValue { value: Some(v) }),
            attributes: record_attrs(pool, "otel_log_attrs", "log_id", &row).await,
            dropped_attributes_count: row.get::<i32, _>("dropped_attributes_count") as u32,
            flags: row.get::<i32, _>("flags") as u32,
            trace_id: id(&row, "trace_id"),
            span_id: id(&row, "span_id"),
            event_name: row.get("event_name"),
        };
        groups.push(row.get("resource_id"), row.get("scope_id"), rec);
    }
    let mut out = ExportLogsServiceRequest::default();
    for (rid, scopes) in groups.resources {
        let (res, url) = resource(pool, rid).await;
        let mut rl = ResourceLogs { resource: Some(res), scope_logs: vec![], schema_url: url };
        for (sid, records) in scopes {
            let (sc, url) = scope(pool, sid).await;
            rl.scope_logs.push(ScopeLogs { scope: Some(sc), log_records: records, schema_url: url });
        }
        out.resource_logs.push(rl);
    }
    out
}

/// Every span in the database as one request.
pub async fn traces(pool: &PgPool) -> ExportTraceServiceRequest {
    let rows = sqlx::query("SELECT *, attributes::text AS attributes_text FROM otel_spans_fact ORDER BY span_row_id")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut groups = Groups::new();
    for row in rows {
        let sid: i64 = row.get("span_row_id");
        let mut events = Vec::new();
        for e in sqlx::query("SELECT * FROM otel_span_events WHERE span_row_id = $1 ORDER BY event_index")
            .bind(sid)
            .fetch_all(pool)
            .await
            .unwrap()
        {
            events.push(span::Event {
                time_unix_nano: nanos(&e, "time"),
                name: e.get("name"),
                attributes: attrs(pool, "otel_span_event_attrs", "event_row_id", e.get("event_row_id")).await,
                dropped_attributes_count: e.get::<i32, _>("dropped_attributes_count") as u32,
            });
        }
        let mut links = Vec::new();
        for l in sqlx::query("SELECT * FROM otel_span_links WHERE span_row_id = $1 ORDER BY link_index")
            .bind(sid)
            .fetch_all(pool)
            .await
            .unwrap()
        {
            links.push(span::Link {
                trace_id: id(&l, "trace_id"),
                span_id: id(&l, "span_id"),
                trace_state: l.get("trace_state"),
                attributes: attrs(pool, "otel_span_link_attrs", "link_row_id", l.get("link_row_id")).await,
                dropped_attributes_count: l.get::<i32, _>("dropped_attributes_count") as u32,
                flags: l.get::<i32, _>("flags") as u32,
            });
        }
        let s = Span {
            trace_id: id(&row, "trace_id"),
            span_id: id(&row, "span_id"),
            trace_state: row.get("trace_state"),
            parent_span_id: id(&row, "parent_span_id"),
            flags: row.get::<i32, _>("flags") as u32,
            name: row.get("name"),
            kind: row.get::<i16, _>("kind") as i32,
            start_time_unix_nano: nanos(&row, "start_time"),
            end_time_unix_nano: nanos(&row, "end_time"),
            attributes: record_attrs(pool, "otel_span_attrs", "span_row_id", &row).await,
            dropped_attributes_count: row.get::<i32, _>("dropped_attributes_count") as u32,
            events,
            dropped_events_count: row.get::<i32, _>("dropped_events_count") as u32,
            links,
            dropped_links_count: row.get::<i32, _>("dropped_links_count") as u32,
            status: Some(Status { message: row.get("status_message"), code: row.get::<i16, _>("status_code") as i32 }),
        };
        groups.push(row.get("resource_id"), row.get("scope_id"), s);
    }
    let mut out = ExportTraceServiceRequest::default();
    for (rid, scopes) in groups.resources {
        let (res, url) = resource(pool, rid).await;
        let mut rs = ResourceSpans { resource: Some(res), scope_spans: vec![], schema_url: url };
        for (sid, spans) in scopes {
            let (sc, url) = scope(pool, sid).await;
            rs.scope_spans.push(ScopeSpans { scope: Some(sc), spans, schema_url: url });
        }
        out.resource_spans.push(rs);
    }
    out
}

async fn exemplars(pool: &PgPool, dp: i64) -> Vec<Exemplar> {
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT *, filtered_attributes::text AS fa FROM otel_metrics_exemplars WHERE data_point_id = $1 ORDER BY exemplar_index",
    )
    .bind(dp)
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let value = match (r.get::<Option<i64>, _>("value_int"), r.get::<Option<f64>, _>("value_double")) {
            (Some(v), _) => Some(exemplar::Value::AsInt(v)),
            (_, Some(v)) => Some(exemplar::Value::AsDouble(v)),
            _ => None,
        };
        let mut fa = r
            .get::<Option<String>, _>("fa")
            .map(|j| attributes_from_json(&j).unwrap())
            .unwrap_or_default();
        canon_attrs(&mut fa);
        out.push(Exemplar {
            filtered_attributes: fa,
            time_unix_nano: nanos(&r, "time"),
            span_id: id(&r, "span_id"),
            trace_id: id(&r, "trace_id"),
            value,
        });
    }
    out
}

enum Point {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    Exp(ExponentialHistogramDataPoint),
    Summary(SummaryDataPoint),
}

fn u64s(v: Vec<i64>) -> Vec<u64> {
    v.into_iter().map(|x| x as u64).collect()
}

/// Every data point in the database as one request.
pub async fn metrics(pool: &PgPool) -> ExportMetricsServiceRequest {
    // (data_point_id, resource, scope, metric, point)
    let mut points: Vec<(i64, i64, i64, i64, Point)> = Vec::new();
    for r in sqlx::query("SELECT * FROM otel_metrics_data_points_number").fetch_all(pool).await.unwrap() {
        let dp: i64 = r.get("data_point_id");
        let value = match (r.get::<Option<i64>, _>("value_int"), r.get::<Option<f64>, _>("value_double")) {
            (Some(v), _) => Some(number_data_point::Value::AsInt(v)),
            (_, Some(v)) => Some(number_data_point::Value::AsDouble(v)),
            _ => None,
        };
        let p = NumberDataPoint {
            attributes: attrs(pool, "otel_number_dp_attrs", "data_point_id", dp).await,
            start_time_unix_nano: nanos(&r, "start_time"),
            time_unix_nano: nanos(&r, "time"),
            exemplars: exemplars(pool, dp).await,
            flags: r.get::<i32, _>("flags") as u32,
            value,
        };
        points.push((dp, r.get("resource_id"), r.get("scope_id"), r.get("metric_id"), Point::Number(p)));
    }
    for r in sqlx::query("SELECT * FROM otel_metrics_data_points_histogram").fetch_all(pool).await.unwrap() {
        let dp: i64 = r.get("data_point_id");
        let p = HistogramDataPoint {
            attributes: attrs(pool, "otel_histogram_dp_attrs", "data_point_id", dp).await,
            start_time_unix_nano: nanos(&r, "start_time"),
            time_unix_nano: nanos(&r, "time"),
            count: r.get::<i64, _>("count") as u64,
            sum: r.get("sum"),
            bucket_counts: u64s(r.get("bucket_counts")),
            explicit_bounds: r.get("explicit_bounds"),
            exemplars: exemplars(pool, dp).await,
            flags: r.get::<i32, _>("flags") as u32,
            min: r.get("min"),
            max: r.get("max"),
        };
        points.push((dp, r.get("resource_id"), r.get("scope_id"), r.get("metric_id"), Point::Histogram(p)));
    }
    for r in sqlx::query("SELECT * FROM otel_metrics_data_points_exp_histogram").fetch_all(pool).await.unwrap() {
        let dp: i64 = r.get("data_point_id");
        let p = ExponentialHistogramDataPoint {
            attributes: attrs(pool, "otel_exp_histogram_dp_attrs", "data_point_id", dp).await,
            start_time_unix_nano: nanos(&r, "start_time"),
            time_unix_nano: nanos(&r, "time"),
            count: r.get::<i64, _>("count") as u64,
            sum: r.get("sum"),
            scale: r.get("scale"),
            zero_count: r.get::<i64, _>("zero_count") as u64,
            positive: Some(Buckets {
                offset: r.get("positive_offset"),
                bucket_counts: u64s(r.get("positive_bucket_counts")),
            }),
            negative: Some(Buckets {
                offset: r.get("negative_offset"),
                bucket_counts: u64s(r.get("negative_bucket_counts")),
            }),
            flags: r.get::<i32, _>("flags") as u32,
            exemplars: exemplars(pool, dp).await,
            min: r.get("min"),
            max: r.get("max"),
            zero_threshold: r.get("zero_threshold"),
        };
        points.push((dp, r.get("resource_id"), r.get("scope_id"), r.get("metric_id"), Point::Exp(p)));
    }
    for r in sqlx::query("SELECT * FROM otel_metrics_data_points_summary").fetch_all(pool).await.unwrap() {
        let dp: i64 = r.get("data_point_id");
        let qs: Vec<f64> = r.get("quantiles");
        let vs: Vec<f64> = r.get("quantile_values");
        let p = SummaryDataPoint {
            attributes: attrs(pool, "otel_summary_dp_attrs", "data_point_id", dp).await,
            start_time_unix_nano: nanos(&r, "start_time"),
            time_unix_nano: nanos(&r, "time"),
            count: r.get::<i64, _>("count") as u64,
            sum: r.get("sum"),
            quantile_values: qs
                .into_iter()
                .zip(vs)
                .map(|(quantile, value)| ValueAtQuantile { quantile, value })
                .collect(),
            flags: r.get::<i32, _>("flags") as u32,
        };
        points.push((dp, r.get("resource_id"), r.get("scope_id"), r.get("metric_id"), Point::Summary(p)));
    }
    points.sort_by_key(|p| p.0);

    // resource -> scope -> metric -> points, in order of first appearance.
    let mut groups: Groups<(i64, Point)> = Groups::new();
    for (_, rid, sid, mid, p) in points {
        groups.push(rid, sid, (mid, p));
    }
    let mut out = ExportMetricsServiceRequest::default();
    for (rid, scopes) in groups.resources {
        let (res, url) = resource(pool, rid).await;
        let mut rm = ResourceMetrics { resource: Some(res), scope_metrics: vec![], schema_url: url };
        for (sid, items) in scopes {
            let (sc, url) = scope(pool, sid).await;
            let mut metrics: Vec<(i64, Metric)> = Vec::new();
            for (mid, p) in items {
                if !metrics.iter().any(|(m, _)| *m == mid) {
                    metrics.push((mid, metric_shell(pool, mid).await));
                }
                let m = &mut metrics.iter_mut().find(|(m, _)| *m == mid).unwrap().1;
                match (m.data.as_mut().unwrap(), p) {
                    (metric::Data::Gauge(g), Point::Number(p)) => g.data_points.push(p),
                    (metric::Data::Sum(g), Point::Number(p)) => g.data_points.push(p),
                    (metric::Data::Histogram(g), Point::Histogram(p)) => g.data_points.push(p),
                    (metric::Data::ExponentialHistogram(g), Point::Exp(p)) => g.data_points.push(p),
                    (metric::Data::Summary(g), Point::Summary(p)) => g.data_points.push(p),
                    _ => panic!("data point kind does not match metric {mid}'s type"),
                }
            }
            rm.scope_metrics.push(ScopeMetrics {
                scope: Some(sc),
                metrics: metrics.into_iter().map(|(_, m)| m).collect(),
                schema_url: url,
            });
        }
        out.resource_metrics.push(rm);
    }
    out
}

async fn metric_shell(pool: &PgPool, mid: i64) -> Metric {
    let r = sqlx::query("SELECT *, metadata::text AS md FROM otel_metrics_dim WHERE metric_id = $1")
        .bind(mid)
        .fetch_one(pool)
        .await
        .unwrap();
    let temporality = r.get::<Option<i16>, _>("aggregation_temporality").unwrap_or(0) as i32;
    let data = match r.get::<i16, _>("metric_type") {
        1 => metric::Data::Gauge(Gauge::default()),
        2 => metric::Data::Sum(Sum {
            data_points: vec![],
            aggregation_temporality: temporality,
            is_monotonic: r.get::<Option<bool>, _>("is_monotonic").unwrap_or(false),
        }),
        3 => metric::Data::Histogram(Histogram { data_points: vec![], aggregation_temporality: temporality }),
        4 => metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![],
            aggregation_temporality: temporality,
        }),
        _ => metric::Data::Summary(Summary::default()),
    };
    let mut metadata = r.get::<Option<String>, _>("md").map(|j| attributes_from_json(&j).unwrap()).unwrap_or_default();
    canon_attrs(&mut metadata);
    Metric { name: r.get("name"), description: r.get("description"), unit: r.get("unit"), metadata, data: Some(data) }
}

// ---- canonical form ----

fn canon_value(v: &mut Option<AnyValue>) {
    match v {
        None => *v = Some(AnyValue { value: None }),
        Some(av) => canon_any(av),
    }
}

fn canon_any(av: &mut AnyValue) {
    match &mut av.value {
        Some(Value::ArrayValue(a)) => a.values.iter_mut().for_each(canon_any),
        Some(Value::KvlistValue(l)) => canon_attrs(&mut l.values),
        _ => {}
    }
}

/// Sorts attributes by key (storage does not keep their order) and normalizes empty values, recursively.
pub fn canon_attrs(attrs: &mut [KeyValue]) {
    attrs.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in attrs.iter_mut() {
        canon_value(&mut kv.value);
    }
}

fn canon_resource(r: &mut Option<Resource>) {
    let r = r.get_or_insert_with(Resource::default);
    canon_attrs(&mut r.attributes);
    r.entity_refs.clear();
}

fn canon_scope(s: &mut Option<InstrumentationScope>) {
    canon_attrs(&mut s.get_or_insert_with(InstrumentationScope::default).attributes);
}

/// The canonical form of a logs request.
pub fn canon_logs(mut req: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
    for rl in &mut req.resource_logs {
        canon_resource(&mut rl.resource);
        for sl in &mut rl.scope_logs {
            canon_scope(&mut sl.scope);
            for l in &mut sl.log_records {
                canon_attrs(&mut l.attributes);
                if l.body.as_ref().is_some_and(|b| b.value.is_none()) {
                    l.body = None;
                }
                if let Some(b) = &mut l.body {
                    canon_any(b);
                }
            }
        }
    }
    req
}

/// The canonical form of a traces request.
pub fn canon_traces(mut req: ExportTraceServiceRequest) -> ExportTraceServiceRequest {
    for rs in &mut req.resource_spans {
        canon_resource(&mut rs.resource);
        for ss in &mut rs.scope_spans {
            canon_scope(&mut ss.scope);
            for s in &mut ss.spans {
                canon_attrs(&mut s.attributes);
                s.status.get_or_insert_with(Status::default);
                for e in &mut s.events {
                    canon_attrs(&mut e.attributes);
                }
                for l in &mut s.links {
                    canon_attrs(&mut l.attributes);
                }
            }
        }
    }
    req
}

fn canon_exemplars(ex: &mut [Exemplar]) {
    for e in ex {
        canon_attrs(&mut e.filtered_attributes);
    }
}

fn canon_buckets(b: &mut Option<Buckets>) {
    b.get_or_insert_with(Buckets::default);
}

/// The canonical form of a metrics request.
pub fn canon_metrics(mut req: ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
    for rm in &mut req.resource_metrics {
        canon_resource(&mut rm.resource);
        for sm in &mut rm.scope_metrics {
            canon_scope(&mut sm.scope);
            for m in &mut sm.metrics {
                canon_attrs(&mut m.metadata);
                match m.data.as_mut() {
                    Some(metric::Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| {
                        canon_attrs(&mut p.attributes);
                        canon_exemplars(&mut p.exemplars);
                    }),
                    Some(metric::Data::Sum(g)) => g.data_points.iter_mut().for_each(|p| {
                        canon_attrs(&mut p.attributes);
                        canon_exemplars(&mut p.exemplars);
                    }),
                    Some(metric::Data::Histogram(g)) => g.data_points.iter_mut().for_each(|p| {
                        canon_attrs(&mut p.attributes);
                        canon_exemplars(&mut p.exemplars);
                    }),
                    Some(metric::Data::ExponentialHistogram(g)) => g.data_points.iter_mut().for_each(|p| {
                        canon_attrs(&mut p.attributes);
                        canon_exemplars(&mut p.exemplars);
                        canon_buckets(&mut p.positive);
                        canon_buckets(&mut p.negative);
                    }),
                    Some(metric::Data::Summary(g)) => {
                        g.data_points.iter_mut().for_each(|p| canon_attrs(&mut p.attributes))
                    }
                    None => {}
                }
            }
        }
    }
    req
}
