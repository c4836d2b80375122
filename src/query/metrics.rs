//! Metrics: search (which metrics have data matching the filters) and series (time-bucketed points per series,
//! a series being a metric plus a resource plus a data point attribute set, aggregated by type).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use serde_json::{Map, Value, json};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::aggregate::{self, Buckets, Dist, ExpPoint, HistPoint, SumPoint, SummaryPoint, ValueAgg};
use super::error::ApiError;
use super::params::{self, AttrFilter, AttrScope, Params, Window};
use super::record_attributes;
use super::{QueryState, cursor, unix_nanos};
use crate::normalize::anyvalue::attributes_from_json;
use crate::schema::MetricType;
use crate::schema::attributes::RESOURCE;
use crate::schema::enums::AGGREGATION_TEMPORALITY;
use crate::schema::metrics::{DATA_POINTS, DataPoints};

/// Parameters of the metric search.
pub const SEARCH_PARAMS: &[&str] =
    &["from", "to", "name", "type", "service", "namespace", "attr", "resource_attr", "limit", "cursor"];
/// Parameters of the series query.
pub const SERIES_PARAMS: &[&str] =
    &["from", "to", "name", "type", "step", "agg", "service", "namespace", "attr", "resource_attr", "limit", "cursor"];
/// Series per page unless `limit` says otherwise: the lines of one chart.
const DEFAULT_SERIES: u32 = 20;
fn metric_type(p: &Params) -> Result<Option<i16>, ApiError> {
    match p.one("type")? {
        None => Ok(None),
        Some(t) => MetricType::from_name(t).map(|t| Some(t.id())).ok_or_else(|| {
            ApiError::bad("type", format!("{t:?} is not gauge, sum, histogram, exponential_histogram or summary"))
        }),
    }
}

/// The API's name of a stored metric type ("" for an unknown one).
fn type_name(id: i16) -> &'static str {
    MetricType::from_id(id).map_or("", MetricType::name)
}

/// The data point filters shared by search and series.
struct PointFilters {
    service: Option<String>,
    namespace: Option<String>,
    attrs: Vec<AttrFilter>,
}

impl PointFilters {
    fn parse(p: &Params) -> Result<PointFilters, ApiError> {
        Ok(PointFilters {
            service: p.one("service")?.map(str::to_owned),
            namespace: p.one("namespace")?.map(str::to_owned),
            attrs: params::attr_filters(p)?,
        })
    }

    /// ` AND ...` conditions on data point alias `d` of `kind` within [from, to).
    fn push(
        &self,
        qb: &mut QueryBuilder<Postgres>,
        kind: &DataPoints,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        w: &Window,
    ) {
        qb.push(" AND d.time >= ").push_bind(from);
        qb.push(" AND d.time < ").push_bind(to);
        if self.service.is_some() || self.namespace.is_some() {
            qb.push(" AND d.resource_id IN (SELECT resource_id FROM otel_resources_dim WHERE TRUE");
            if let Some(s) = &self.service {
                qb.push(" AND service_name = ").push_bind(s.clone());
            }
            if let Some(n) = &self.namespace {
                qb.push(" AND service_namespace = ").push_bind(n.clone());
            }
            qb.push(")");
        }
        self.push_attrs(qb, kind, w);
    }

    /// ` AND ...` conditions of the attribute filters on data point alias `d` of `kind`.
    fn push_attrs(&self, qb: &mut QueryBuilder<Postgres>, kind: &DataPoints, w: &Window) {
        for f in &self.attrs {
            qb.push(" AND ");
            match f.scope {
                AttrScope::Record => record_attributes::push_filter(qb, &kind.attributes, "d", Some(w), f),
                AttrScope::Resource => record_attributes::push_filter(qb, &RESOURCE, "d", None, f),
            }
        }
    }
}

fn metric_json(row: &PgRow) -> Result<Value, ApiError> {
    let ty: i16 = row.try_get("metric_type")?;
    let temporality: Option<i16> = row.try_get("aggregation_temporality")?;
    Ok(json!({
        "name": row.try_get::<String, _>("name")?,
        "type": type_name(ty),
        "unit": row.try_get::<String, _>("unit")?,
        "description": row.try_get::<String, _>("description")?,
        "temporality": temporality
            .filter(|t| *t != AggregationTemporality::Unspecified as i16)
            .and_then(|t| AGGREGATION_TEMPORALITY.short_name(t.into()))
            .map(str::to_ascii_lowercase),
        "monotonic": row.try_get::<Option<bool>, _>("is_monotonic")?,
    }))
}

/// `GET /metrics/search`: metrics (by name, ordered) with data points in the window matching the filters.
pub async fn search(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(SEARCH_PARAMS)?;
    let w =
        params::window(&p, true, st.options.max_window_nanos)?.ok_or_else(|| ApiError::bad("from", "is required"))?;
    let name = p.one("name")?;
    let ty = metric_type(&p)?;
    let filters = PointFilters::parse(&p)?;
    let limit = params::limit(&p, st.options.default_limit, st.options.max_limit)?;
    let after = cursor::from_params(&p, "metrics")?;

    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT m.metric_id, m.name, m.metric_type, m.unit, m.description, m.aggregation_temporality, \
         m.is_monotonic FROM otel_metrics_dim m WHERE TRUE",
    );
    if let Some(n) = name {
        qb.push(" AND m.name ILIKE ").push_bind(super::logs::like_pattern(n));
    }
    if let Some(t) = ty {
        qb.push(" AND m.metric_type = ").push_bind(t);
    }
    qb.push(" AND (");
    for (i, kind) in DATA_POINTS.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        let types: Vec<String> = kind.types.iter().map(|t| t.id().to_string()).collect();
        qb.push(format_args!(
            "(m.metric_type IN ({}) AND EXISTS (SELECT 1 FROM {} d WHERE d.metric_id = m.metric_id",
            types.join(", "),
            kind.table.table
        ));
        filters.push(&mut qb, kind, w.from_ts(), w.to_ts(), &w);
        // OFFSET 0 keeps the EXISTS a probe per metric (PostgreSQL does not turn it into a semi-join over the
        // window's every point); see below for the scan the probe must be.
        qb.push(" OFFSET 0))");
    }
    qb.push(")");
    if let Some(key) = &after {
        qb.push(" AND (m.name, m.metric_id) > (")
            .push_bind(cursor::string(key, 0)?)
            .push(", ")
            .push_bind(cursor::int(key, 1)?)
            .push(")");
    }
    qb.push(" ORDER BY m.name, m.metric_id LIMIT ").push_bind(i64::from(limit) + 1);
    let mut tx = st.read_tx().await?;
    // Each probe must stop at its metric's first point in the window: a plain scan of the (metric_id, time)
    // index. In a partition without statistics PostgreSQL chose a bitmap of the same index instead, which
    // collects every point of the metric in the window before answering (412k entries, 67 ms at 10M points;
    // 0.4 ms as an index scan).
    sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *tx).await?;
    let mut rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let out: Vec<Value> = rows.iter().map(metric_json).collect::<Result<_, _>>()?;
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(cursor::encode(
            "metrics",
            &[last.try_get::<String, _>("name")?.into(), last.try_get::<i64, _>("metric_id")?.into()],
        )),
        _ => None,
    };
    Ok(Json(json!({"metrics": out, "next_cursor": next})))
}

/// The aggregation of a series query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Value(ValueAgg),
    Rate,
    Delta,
    Quantiles,
}

fn agg(p: &Params, metric_type: i16, monotonic: Option<bool>) -> Result<Agg, ApiError> {
    let given = p.one("agg")?;
    let value_agg = |s: &str| match s {
        "last" => Some(Agg::Value(ValueAgg::Last)),
        "avg" => Some(Agg::Value(ValueAgg::Avg)),
        "min" => Some(Agg::Value(ValueAgg::Min)),
        "max" => Some(Agg::Value(ValueAgg::Max)),
        _ => None,
    };
    let (parsed, allowed) = match MetricType::from_id(metric_type) {
        Some(MetricType::Gauge) => (given.map_or(Some(Agg::Value(ValueAgg::Last)), value_agg), "last, avg, min, max"),
        Some(MetricType::Sum) => {
            let default = if monotonic == Some(false) { "last" } else { "rate" };
            let a = given.unwrap_or(default);
            let parsed = match a {
                "rate" => Some(Agg::Rate),
                "delta" => Some(Agg::Delta),
                other => value_agg(other),
            };
            (parsed, "rate, delta, last, avg, min, max")
        }
        _ => (
            match given {
                None | Some("quantiles") => Some(Agg::Quantiles),
                _ => None,
            },
            "quantiles",
        ),
    };
    parsed.ok_or_else(|| {
        ApiError::bad(
            "agg",
            format!("{:?} does not apply to a {} metric: use {allowed}", given.unwrap_or(""), type_name(metric_type)),
        )
    })
}

fn agg_name(a: Agg) -> &'static str {
    match a {
        Agg::Value(ValueAgg::Last) => "last",
        Agg::Value(ValueAgg::Avg) => "avg",
        Agg::Value(ValueAgg::Min) => "min",
        Agg::Value(ValueAgg::Max) => "max",
        Agg::Rate => "rate",
        Agg::Delta => "delta",
        Agg::Quantiles => "quantiles",
    }
}

/// The points of one series, by type.
enum Points {
    Number(Vec<SumPoint>),
    Hist(Vec<HistPoint>),
    Exp(Vec<ExpPoint>),
    Summary(Vec<SummaryPoint>),
}

fn counts(v: Vec<i64>) -> Vec<u64> {
    v.into_iter().map(|c| c.max(0) as u64).collect()
}

fn count(row: &PgRow) -> Result<u64, ApiError> {
    Ok(row.try_get::<i64, _>("count")?.max(0) as u64)
}

/// `GET /metrics/series`: time-bucketed points per series of the metric `name`.
pub async fn series(State(st): State<QueryState>, p: Params) -> Result<Json<Value>, ApiError> {
    p.allow(SERIES_PARAMS)?;
    let w =
        params::window(&p, true, st.options.max_window_nanos)?.ok_or_else(|| ApiError::bad("from", "is required"))?;
    let name = p.required("name")?.to_owned();
    let ty = metric_type(&p)?;
    let step = params::step(&p, &w, 1_000_000_000, 1)?;
    let filters = PointFilters::parse(&p)?;

    let mut tx = st.read_tx().await?;
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT metric_id, name, metric_type, unit, description, aggregation_temporality, is_monotonic \
         FROM otel_metrics_dim WHERE name = ",
    );
    qb.push_bind(name.clone());
    if let Some(t) = ty {
        qb.push(" AND metric_type = ").push_bind(t);
    }
    qb.push(" ORDER BY metric_id");
    let dims = qb.build().fetch_all(&mut *tx).await?;
    let Some(first) = dims.first() else {
        return Err(ApiError::NotFound(format!("metric {name:?} not found")));
    };
    let mtype: i16 = first.try_get("metric_type")?;
    for d in &dims {
        if d.try_get::<i16, _>("metric_type")? != mtype {
            return Err(ApiError::bad("type", format!("metric {name:?} exists with several types: say which one")));
        }
    }
    let kind = MetricType::from_id(mtype)
        .map(MetricType::points)
        .ok_or_else(|| ApiError::internal(format!("metric type {mtype}")))?;
    let monotonic: Option<bool> = first.try_get("is_monotonic")?;
    let aggregation = agg(&p, mtype, monotonic)?;
    let mut cumulative: HashMap<i64, bool> = HashMap::new();
    for d in &dims {
        cumulative.insert(
            d.try_get("metric_id")?,
            d.try_get::<Option<i16>, _>("aggregation_temporality")? == Some(AggregationTemporality::Cumulative as i16),
        );
    }
    let ids: Vec<i64> = cumulative.keys().copied().collect();
    let limit = params::limit(&p, st.options.default_limit.min(DEFAULT_SERIES), st.options.max_limit)?;
    let after = cursor::from_params(&p, "series")?;

    let (page, more) = series_page(&mut tx, kind, &ids, &filters, &w, after.as_deref(), limit).await?;
    let keys: Vec<i64> = page.iter().map(|r| r.try_get("series_key")).collect::<Result<_, _>>()?;

    // One step of look-back gives cumulative series a baseline for the first bucket.
    let fetch_from = w.from.saturating_sub(step);
    let fetch_window = Window { from: fetch_from, to: w.to };
    // Over the point budget is refused before any point is read: counting along (series_key, time) takes a
    // fraction of fetching the points.
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
    push_points_of(&mut qb, kind, &keys, &fetch_window);
    qb.push(" LIMIT ").push_bind(i64::from(st.options.max_series_points) + 1).push(") c");
    let points: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await?;
    if points > i64::from(st.options.max_series_points) {
        return Err(over_budget(st.options.max_series_points));
    }
    let cols = match kind.types[0] {
        MetricType::Gauge | MetricType::Sum => "d.value_int, d.value_double",
        MetricType::Histogram => "d.count, d.sum, d.bucket_counts, d.explicit_bounds",
        MetricType::ExponentialHistogram => {
            "d.count, d.sum, d.scale, d.zero_count, d.positive_offset, d.positive_bucket_counts, \
              d.negative_offset, d.negative_bucket_counts"
        }
        MetricType::Summary => "d.count, d.sum, d.quantiles, d.quantile_values",
    };
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT d.series_key, d.data_point_id, d.time, d.time_nanos_fraction, d.start_time, \
         d.start_time_nanos_fraction, d.flags, {cols}"
    ));
    push_points_of(&mut qb, kind, &keys, &fetch_window);
    // Unordered: a few ms of sorting in Rust below instead of a sort in PostgreSQL that spills to disk.
    let rows = qb.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        let time = unix_nanos(row.try_get("time")?, row.try_get("time_nanos_fraction")?)?;
        keyed.push(((row.try_get::<i64, _>("series_key")?, time, row.try_get::<i64, _>("data_point_id")?), row));
    }
    keyed.sort_unstable_by_key(|(k, _)| *k);

    let empty = || match kind.types[0] {
        MetricType::Gauge | MetricType::Sum => Points::Number(Vec::new()),
        MetricType::Histogram => Points::Hist(Vec::new()),
        MetricType::ExponentialHistogram => Points::Exp(Vec::new()),
        MetricType::Summary => Points::Summary(Vec::new()),
    };
    let mut points_of: HashMap<i64, Points> = keys.iter().map(|k| (*k, empty())).collect();
    for ((key, time, _), row) in &keyed {
        // Bit 0 of DataPointFlags: no recorded value.
        if row.try_get::<i32, _>("flags")? & 1 == 1 {
            continue;
        }
        let time = *time;
        let points =
            points_of.get_mut(key).ok_or_else(|| ApiError::internal("a data point of a series not on the page"))?;
        let start = unix_nanos(row.try_get("start_time")?, row.try_get("start_time_nanos_fraction")?)?;
        match points {
            Points::Number(v) => {
                let value = match row.try_get::<Option<i64>, _>("value_int")? {
                    Some(i) => Some(i as f64),
                    None => row.try_get::<Option<f64>, _>("value_double")?,
                };
                if let Some(value) = value {
                    v.push(SumPoint { time, start, value });
                }
            }
            Points::Hist(v) => v.push(HistPoint {
                time,
                start,
                count: count(row)?,
                sum: row.try_get("sum")?,
                bounds: row.try_get("explicit_bounds")?,
                counts: counts(row.try_get("bucket_counts")?),
            }),
            Points::Exp(v) => v.push(ExpPoint {
                time,
                start,
                count: count(row)?,
                sum: row.try_get("sum")?,
                scale: row.try_get("scale")?,
                zero_count: row.try_get::<i64, _>("zero_count")?.max(0) as u64,
                positive: (row.try_get("positive_offset")?, counts(row.try_get("positive_bucket_counts")?)),
                negative: (row.try_get("negative_offset")?, counts(row.try_get("negative_bucket_counts")?)),
            }),
            Points::Summary(v) => {
                let qs: Vec<f64> = row.try_get("quantiles")?;
                let vals: Vec<f64> = row.try_get("quantile_values")?;
                v.push(SummaryPoint {
                    time,
                    count: count(row)?,
                    sum: row.try_get::<f64, _>("sum")?,
                    quantiles: qs.into_iter().zip(vals).collect(),
                });
            }
        }
    }
    let buckets = Buckets { from: w.from, to: w.to, step };
    let step_secs = step as f64 / 1e9;
    let mut out = Vec::new();
    for row in &page {
        let key: i64 = row.try_get("series_key")?;
        let Some(points) = points_of.remove(&key) else { continue };
        let metric_id: i64 = row.try_get("metric_id")?;
        let cum = cumulative.get(&metric_id).copied().unwrap_or(false);
        let pts: Vec<Value> = match (&points, aggregation) {
            (Points::Number(v), Agg::Value(a)) => {
                let vals: Vec<(u64, f64)> = v.iter().map(|p| (p.time, p.value)).collect();
                value_points(aggregate::values(&vals, &buckets, a))
            }
            (Points::Number(v), Agg::Rate | Agg::Delta) => {
                let inc = aggregate::increases(v, cum, monotonic != Some(false), fetch_from);
                let d = aggregate::deltas(&inc, &buckets);
                let scale = if aggregation == Agg::Rate { 1.0 / step_secs } else { 1.0 };
                value_points(d.into_iter().map(|(t, v)| (t, v * scale)).collect())
            }
            (Points::Hist(v), _) => dist_points(aggregate::histograms(v, cum, fetch_from, &buckets)),
            (Points::Exp(v), _) => dist_points(aggregate::exp_histograms(v, cum, fetch_from, &buckets)),
            (Points::Summary(v), _) => dist_points(aggregate::summaries(v, &buckets)),
            (Points::Number(_), Agg::Quantiles) => Vec::new(),
        };
        if pts.is_empty() {
            continue;
        }
        let stored: String = row.try_get("attributes")?;
        let attributes = attributes_from_json(&stored)
            .map_err(|e| ApiError::internal(format!("series {key}: stored attributes: {e}")))?;
        out.push(json!({
            "service_name": row.try_get::<Option<String>, _>("service_name")?,
            "service_namespace": row.try_get::<Option<String>, _>("service_namespace")?,
            "attributes": record_attributes::to_json(&attributes),
            "points": pts,
        }));
    }
    let next = match (more, page.last()) {
        (true, Some(last)) => Some(cursor::encode(
            "series",
            &[
                last.try_get::<Option<String>, _>("service_name")?.unwrap_or_default().into(),
                last.try_get::<i64, _>("series_key")?.into(),
            ],
        )),
        _ => None,
    };
    Ok(Json(json!({
        "metric": metric_json(first)?,
        "agg": agg_name(aggregation),
        "step_ns": step,
        "window": {"from_unix_nano": w.from.to_string(), "to_unix_nano": w.to.to_string()},
        "series": out,
        "next_cursor": next,
    })))
}

/// The page of series after `after`, in page order (service, then key), and whether more follow: rows of
/// series_key, metric_id, attributes, service_name, service_namespace. A series is on it when it has a point
/// in the window that matches the attribute filters; its points share its resource and attribute set, so the
/// filters decide for the whole series and the points need only the time window afterwards.
///
/// The candidates come in page order first (no index gives the (service, key) order, but sorting a metric's
/// series keys takes a few ms), then are probed in that order, a growing chunk at a time, until the page is
/// full: one statement probing every series of the metric took 85 ms for 8,000 series, and EXISTS was worse
/// (the planner hashed every point of the window: 0.6-1.6 s).
async fn series_page(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    kind: &DataPoints,
    ids: &[i64],
    filters: &PointFilters,
    w: &Window,
    after: Option<&[Value]>,
    limit: u32,
) -> Result<(Vec<PgRow>, bool), ApiError> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT s.series_key FROM otel_metric_series s \
         LEFT JOIN otel_resources_dim r ON r.resource_id = s.resource_id WHERE s.metric_id = ANY(",
    );
    qb.push_bind(ids.to_vec()).push(")");
    if let Some(s) = &filters.service {
        qb.push(" AND r.service_name = ").push_bind(s.clone());
    }
    if let Some(n) = &filters.namespace {
        qb.push(" AND r.service_namespace = ").push_bind(n.clone());
    }
    if let Some(key) = after {
        qb.push(" AND (COALESCE(r.service_name, ''), s.series_key) > (")
            .push_bind(cursor::string(key, 0)?)
            .push(", ")
            .push_bind(cursor::int(key, 1)?)
            .push(")");
    }
    qb.push(" ORDER BY COALESCE(r.service_name, ''), s.series_key");
    let candidates: Vec<i64> = qb.build_query_scalar().fetch_all(&mut **tx).await?;
    let wanted = limit as usize + 1;
    let mut keys: Vec<i64> = Vec::with_capacity(wanted);
    let (mut done, mut chunk) = (0, wanted);
    while keys.len() < wanted && done < candidates.len() {
        let part = &candidates[done..(done + chunk).min(candidates.len())];
        done += part.len();
        chunk = chunk.saturating_mul(2);
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT c.key FROM unnest(");
        qb.push_bind(part.to_vec());
        qb.push(format_args!(
            "::int8[]) WITH ORDINALITY AS c(key, i) CROSS JOIN LATERAL (SELECT 1 FROM {} d \
             WHERE d.series_key = c.key",
            kind.table.table
        ));
        qb.push(" AND d.time >= ").push_bind(w.from_ts());
        qb.push(" AND d.time < ").push_bind(w.to_ts());
        filters.push_attrs(&mut qb, kind, w);
        qb.push(" LIMIT 1) AS in_window ORDER BY c.i");
        let found: Vec<i64> = qb.build_query_scalar().fetch_all(&mut **tx).await?;
        keys.extend(found);
    }
    let more = keys.len() > limit as usize;
    keys.truncate(limit as usize);
    let page = sqlx::query(
        "SELECT s.series_key, s.metric_id, s.attributes::text AS attributes, r.service_name, r.service_namespace \
         FROM unnest($1::int8[]) WITH ORDINALITY AS c(key, i) JOIN otel_metric_series s ON s.series_key = c.key \
         LEFT JOIN otel_resources_dim r ON r.resource_id = s.resource_id ORDER BY c.i",
    )
    .bind(&keys)
    .fetch_all(&mut **tx)
    .await?;
    Ok((page, more))
}

/// ` FROM <points of kind> d WHERE ...`: the points of the series `keys` within `w`, along (series_key, time).
fn push_points_of(qb: &mut QueryBuilder<Postgres>, kind: &DataPoints, keys: &[i64], w: &Window) {
    qb.push(format_args!(" FROM {} d WHERE d.series_key = ANY(", kind.table.table));
    qb.push_bind(keys.to_vec()).push(")");
    qb.push(" AND d.time >= ").push_bind(w.from_ts());
    qb.push(" AND d.time < ").push_bind(w.to_ts());
}

/// The refusal of a series query that would read more than `budget` points.
fn over_budget(budget: u32) -> ApiError {
    ApiError::bad("from", format!("the query reads more than {budget} data points; narrow the window or add filters"))
}

fn time_map(t: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "time".into(),
        DateTime::from_timestamp_nanos(t as i64).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).into(),
    );
    m.insert("time_unix_nano".into(), t.to_string().into());
    m
}

fn value_points(v: Vec<(u64, f64)>) -> Vec<Value> {
    v.into_iter()
        .map(|(t, x)| {
            let mut m = time_map(t);
            m.insert("value".into(), Value::from(x));
            Value::Object(m)
        })
        .collect()
}

fn dist_points(v: Vec<Dist>) -> Vec<Value> {
    v.into_iter()
        .map(|d| {
            let mut m = time_map(d.time);
            m.insert("count".into(), d.count.into());
            m.insert("sum".into(), d.sum.into());
            for (name, q) in ["p50", "p90", "p95", "p99"].iter().zip(d.quantiles) {
                m.insert((*name).into(), q.into());
            }
            Value::Object(m)
        })
        .collect()
}
