//! Jaeger's Service Performance Monitoring API (`/jaeger/api/metrics/...`), what the Jaeger UI's Monitor tab
//! calls: RED metrics of services, or of their operations, as time series. Jaeger reads them from span
//! metrics in Prometheus; ollyscale answers from the operation rollups (`otel_operation_rollups`), which
//! count the same spans.
//!
//! Semantics are those of Jaeger's Prometheus metric store: a point at time `t` covers the `ratePer` before
//! it, and counts the spans of the asked kinds (`spanKind`, default server); `calls` is spans per second,
//! `errors` the fraction of them with status ERROR, `latencies` a quantile of their durations in
//! milliseconds (the rollups' histogram estimate, within 4.5%). The rollups count spans per minute, so
//! `step` and `ratePer` are rounded up to whole minutes and points fall on minute boundaries, the last at or
//! before `endTs`: the point at `t` covers the whole minutes `[t - ratePer, t)`. A ten-minute row of
//! compacted time counts as spread evenly over its minutes for calls and errors, and with all its latencies
//! in every window it overlaps.
//!
//! The answer is Jaeger's `MetricFamily` in protobuf JSON, one metric per service (and operation) with
//! calls in some window, sorted by labels. Where Prometheus would answer NaN (a window without calls) the
//! latency or error point is left out, and `metrics` is present even when empty (protobuf JSON drops an
//! empty list, which the UI then fails to index).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::SecondsFormat;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::jaeger_v1::{JaegerError, envelope};
use super::params as cp;
use crate::latency::Histogram;
use crate::normalize::rollup::{Calls, cut, minute};
use crate::query::QueryState;
use crate::query::error::ApiError;
use crate::query::params::{MAX_BUCKETS, Params, Window, nanos_floor_ts};

/// One millisecond, the unit of every time and duration parameter, in nanoseconds.
const MS: u64 = 1_000_000;
/// One minute, the rollups' finest time and so the smallest step and window, in nanoseconds.
const MINUTE: u64 = 60_000 * MS;
/// Jaeger's default `lookback`: an hour.
const DEFAULT_LOOKBACK: u64 = 3_600_000 * MS;
/// Jaeger's default `step`, five seconds (a minute here, after rounding).
const DEFAULT_STEP: u64 = 5_000 * MS;
/// Jaeger's default `ratePer`: ten minutes.
const DEFAULT_RATE_PER: u64 = 600_000 * MS;
/// Jaeger's default `spanKind`: server (OTLP value 2).
const DEFAULT_KIND: i16 = 2;
/// Most point-minutes (points times minutes per window) one request may add up: each is a histogram merge
/// for latencies. The UI's widest view (two days, a minute apart, ten-minute windows) takes 28,810.
const MAX_POINT_MINUTES: u64 = 2_000_000;

/// The metrics routes, relative to `/jaeger`.
pub fn routes() -> Router<QueryState> {
    Router::new()
        .route("/api/metrics/latencies", get(latencies))
        .route("/api/metrics/calls", get(calls))
        .route("/api/metrics/errors", get(errors))
        .route("/api/metrics/minstep", get(min_step))
}

/// What one point of a series reports.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Measure {
    /// Spans per second.
    Calls,
    /// Errors per span.
    Errors,
    /// This quantile of the durations, in milliseconds.
    Latency(f64),
}

/// The parameters every metrics endpoint shares.
#[derive(Debug, PartialEq)]
struct Query {
    /// Service names as the rollups store them, sorted, without repeats.
    services: Vec<String>,
    /// One series per operation (span name) rather than per service.
    by_operation: bool,
    /// OTLP span kinds counted.
    kinds: Vec<i16>,
    /// Point times, ascending, on minute boundaries.
    times: Vec<u64>,
    /// Width of each point's window in nanoseconds, a whole number of minutes.
    rate_per: u64,
}

/// A series' label values: the service, and the operation when grouped by operation.
type SeriesKey = (String, Option<String>);

/// Spans of one series that started in one rollup row's time: `[from, from + len)`.
#[derive(Debug, Default)]
struct Piece {
    from: u64,
    len: u64,
    calls: Calls,
}

/// `GET /api/metrics/latencies?quantile=`: the quantile of span durations, in milliseconds.
async fn latencies(State(st): State<QueryState>, p: Params) -> Result<Response, JaegerError> {
    let q = quantile(&p)?;
    Ok(answer(&st, &p, Measure::Latency(q)).await?)
}

/// `GET /api/metrics/calls`: spans per second.
async fn calls(State(st): State<QueryState>, p: Params) -> Result<Response, JaegerError> {
    Ok(answer(&st, &p, Measure::Calls).await?)
}

/// `GET /api/metrics/errors`: the fraction of spans with status ERROR, 0 to 1.
async fn errors(State(st): State<QueryState>, p: Params) -> Result<Response, JaegerError> {
    Ok(answer(&st, &p, Measure::Errors).await?)
}

/// `GET /api/metrics/minstep`: the smallest step in milliseconds, in the v1 envelope; a minute, the rollups'
/// resolution.
async fn min_step() -> Response {
    envelope(json!(MINUTE / MS), 0, Value::Null)
}

/// The `MetricFamily` of `m` for the request's parameters.
async fn answer(st: &QueryState, p: &Params, m: Measure) -> Result<Response, ApiError> {
    let req = query(st, p)?;
    let first = req.times.first().copied().unwrap_or(0);
    let last = req.times.last().copied().unwrap_or(0);
    let w = Window { from: first.saturating_sub(req.rate_per), to: last };
    let mut tx = st.read_tx().await?;
    let rows = crate::query::services::operation_rows(&mut tx, &req.services, Some(&req.kinds), &w).await?;
    tx.commit().await?;
    let series = series(&rows, req.by_operation, matches!(m, Measure::Latency(_)))?;
    let metrics: Vec<Value> = series
        .iter()
        .map(|((service, op), pieces)| (service, op, points(pieces, &req.times, req.rate_per, m)))
        .filter(|(_, _, pts)| match m {
            Measure::Calls => pts.iter().any(|(_, v)| *v > 0.0),
            _ => !pts.is_empty(),
        })
        .map(|(service, op, pts)| {
            let mut labels = vec![json!({"name": "service_name", "value": service})];
            if let Some(op) = op {
                labels.push(json!({"name": "operation", "value": op}));
            }
            let pts: Vec<Value> = pts
                .iter()
                .map(|(t, v)| {
                    json!({
                        "gaugeValue": {"doubleValue": v},
                        "timestamp": nanos_floor_ts(*t).to_rfc3339_opts(SecondsFormat::Secs, true),
                    })
                })
                .collect();
            json!({"labels": labels, "metricPoints": pts})
        })
        .collect();
    let (name, help) = match m {
        Measure::Calls => ("call_rate", "calls per second over ratePer".to_string()),
        Measure::Errors => ("error_rate", "fraction of calls with status ERROR over ratePer".to_string()),
        Measure::Latency(q) => ("latencies", format!("{q:.2}th quantile latency in milliseconds over ratePer")),
    };
    // Jaeger's names: the UI tells the answers apart by them.
    let (name, grouping) = match req.by_operation {
        false => (format!("service_{name}"), "service"),
        true => (format!("service_operation_{name}"), "service & operation"),
    };
    let body = json!({
        "name": name,
        "type": "GAUGE",
        "help": format!("{help}, grouped by {grouping}"),
        "metrics": metrics,
    });
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response())
}

/// The required `quantile`, 0 to 1.
fn quantile(p: &Params) -> Result<f64, ApiError> {
    let text = p.one("quantile")?.ok_or_else(|| ApiError::bad("quantile", "is required: a number from 0 to 1"))?;
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|q| (0.0..=1.0).contains(q))
        .ok_or_else(|| ApiError::bad("quantile", format!("{text:?} is not a number from 0 to 1")))
}

fn query(st: &QueryState, p: &Params) -> Result<Query, ApiError> {
    let mut services: Vec<String> = p.all("service").into_iter().filter(|s| !s.is_empty()).map(cut).collect();
    if services.is_empty() {
        return Err(ApiError::bad("service", "please provide at least one service name"));
    }
    services.sort();
    services.dedup();
    // Jaeger filters span metrics by attributes here; the rollups keep none.
    for name in ["tag", "tags"] {
        if !p.all(name).is_empty() {
            return Err(ApiError::bad(name, "filtering the metrics by tags is not supported"));
        }
    }
    let by_operation = p.one("groupByOperation")?.map(|v| go_bool("groupByOperation", v)).transpose()?.unwrap_or(false);
    let kinds = kinds(&p.all("spanKind"))?;
    let end = match p.one("endTs")? {
        Some(v) => cp::epoch("endTs", v, MS)?,
        None => crate::time::now_unix_nanos(),
    };
    // A wider lookback keeps its newest part, as the other Jaeger endpoints do.
    let lookback = millis(p, "lookback", DEFAULT_LOOKBACK)?.min(st.options.max_window_nanos);
    let step = whole_minutes(millis(p, "step", DEFAULT_STEP)?);
    let rate_per = whole_minutes(millis(p, "ratePer", DEFAULT_RATE_PER)?);
    if rate_per > st.options.max_window_nanos {
        return Err(ApiError::bad("ratePer", "is wider than the widest window the server allows (max_window)"));
    }
    let times = times(end, lookback, step)?;
    if (times.len() as u64).saturating_mul(rate_per / MINUTE) > MAX_POINT_MINUTES {
        return Err(ApiError::bad(
            "ratePer",
            format!("with this lookback and step adds up more than {MAX_POINT_MINUTES} minutes; use a larger step"),
        ));
    }
    Ok(Query { services, by_operation, kinds, times, rate_per })
}

/// The span kinds of `spanKind` values: repeated, or comma-separated as some Jaeger versions send them;
/// lowercase names as Jaeger takes them (`server`), any case, or OTLP names (`SPAN_KIND_SERVER`) as older
/// versions took them. None given: server.
fn kinds(values: &[&str]) -> Result<Vec<i16>, ApiError> {
    let mut kinds = Vec::new();
    for name in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|n| !n.is_empty()) {
        let upper = name.to_ascii_uppercase();
        let short = upper.strip_prefix("SPAN_KIND_").unwrap_or(&upper);
        kinds.push(super::kind_value(short).ok_or_else(|| {
            ApiError::bad(
                "spanKind",
                format!(
                    "unsupported span kind {name:?}: use unspecified, internal, server, client, producer or consumer"
                ),
            )
        })?);
    }
    if kinds.is_empty() {
        kinds.push(DEFAULT_KIND);
    }
    kinds.sort_unstable();
    kinds.dedup();
    Ok(kinds)
}

/// A boolean as Go's `strconv.ParseBool` reads it, which is what Jaeger accepts.
fn go_bool(name: &str, text: &str) -> Result<bool, ApiError> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(ApiError::bad(name, format!("{text:?} is not true or false"))),
    }
}

/// A duration parameter in whole milliseconds, in nanoseconds; `default` when absent.
fn millis(p: &Params, name: &str, default: u64) -> Result<u64, ApiError> {
    let Some(text) = p.one(name)? else { return Ok(default) };
    text.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(MS))
        .filter(|n| *n <= crate::time::MAX_UNIX_NANOS)
        .ok_or_else(|| ApiError::bad(name, format!("{text:?} is not a non-negative integer of milliseconds")))
}

/// A duration rounded up to whole minutes, at least one: the rollups hold nothing finer.
fn whole_minutes(nanos: u64) -> u64 {
    nanos.div_ceil(MINUTE).max(1) * MINUTE
}

/// The point times: the minute boundary at or before `end`, then every `step` back while not before the
/// minute `lookback` before `end` starts; ascending.
fn times(end: u64, lookback: u64, step: u64) -> Result<Vec<u64>, ApiError> {
    let last = minute(end);
    let first = minute(end.saturating_sub(lookback));
    let n = (last - first) / step + 1;
    if n > MAX_BUCKETS {
        return Err(ApiError::bad(
            "step",
            format!("makes more than {MAX_BUCKETS} points over the lookback; use a larger step"),
        ));
    }
    Ok((0..n).rev().map(|k| last - k * step).collect())
}

/// The rows summed per series (service, and operation when `by_operation`) and row time, in time order;
/// latency histograms only when `with_latency`, since merging them is most of the work.
fn series(rows: &[PgRow], by_operation: bool, with_latency: bool) -> Result<BTreeMap<SeriesKey, Vec<Piece>>, ApiError> {
    let mut sums: BTreeMap<SeriesKey, BTreeMap<(u64, u64), Calls>> = BTreeMap::new();
    for row in rows {
        let service: String = row.try_get("service_name")?;
        let op: Option<String> = if by_operation { Some(row.try_get("span_name")?) } else { None };
        let from = crate::query::unix_nanos(row.try_get("bucket")?, 0)?;
        let minutes = u64::try_from(row.try_get::<i16, _>("minutes")?).unwrap_or(1).max(1);
        let c = sums.entry((service, op)).or_default().entry((from, minutes * MINUTE)).or_default();
        c.count += row.try_get::<i64, _>("span_count")?;
        c.errors += row.try_get::<i64, _>("error_count")?;
        if with_latency {
            c.latency.merge_row(row)?;
        }
    }
    Ok(sums
        .into_iter()
        .map(|(key, pieces)| {
            let pieces = pieces.into_iter().map(|((from, len), calls)| Piece { from, len, calls }).collect();
            (key, pieces)
        })
        .collect())
}

/// The points of one series at `times`, each over `[t - rate_per, t)`: every time for calls, the times whose
/// window has calls for errors and latencies.
fn points(pieces: &[Piece], times: &[u64], rate_per: u64, m: Measure) -> Vec<(u64, f64)> {
    let longest = pieces.iter().map(|p| p.len).max().unwrap_or(MINUTE);
    let secs = rate_per as f64 / 1e9;
    let mut out = Vec::with_capacity(times.len());
    for &t in times {
        let start = t.saturating_sub(rate_per);
        // Sorted by start, so the pieces that can overlap the window are one run.
        let lo = pieces.partition_point(|p| p.from + longest <= start);
        let hi = pieces.partition_point(|p| p.from < t);
        let (mut calls, mut errors, mut latency) = (0.0, 0.0, Histogram::default());
        for p in &pieces[lo..hi] {
            let overlap = (p.from + p.len).min(t).saturating_sub(p.from.max(start));
            if overlap == 0 {
                continue;
            }
            let share = overlap as f64 / p.len as f64;
            calls += p.calls.count as f64 * share;
            errors += p.calls.errors as f64 * share;
            if let Measure::Latency(_) = m {
                latency.merge(&p.calls.latency);
            }
        }
        let value = match m {
            Measure::Calls => Some(calls / secs),
            _ if calls <= 0.0 => None,
            Measure::Errors => Some(errors / calls),
            Measure::Latency(q) => latency.quantile(q).map(|ns| ns as f64 / MS as f64),
        };
        out.extend(value.map(|v| (t, v)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(from_min: u64, minutes: u64, count: i64, errors: i64, durations_ms: &[i64]) -> Piece {
        let mut latency = Histogram::default();
        for d in durations_ms {
            latency.record(d * MS as i64);
        }
        Piece { from: from_min * MINUTE, len: minutes * MINUTE, calls: Calls { count, errors, latency } }
    }

    #[test]
    fn kinds_take_jaeger_and_otlp_names() {
        assert_eq!(kinds(&[]).unwrap(), [2]);
        assert_eq!(kinds(&[""]).unwrap(), [2]);
        assert_eq!(kinds(&["client", "SPAN_KIND_PRODUCER"]).unwrap(), [3, 4]);
        assert_eq!(kinds(&["server,Consumer", "server"]).unwrap(), [2, 5]);
        assert_eq!(kinds(&["unspecified", "internal"]).unwrap(), [0, 1]);
        assert!(kinds(&["sideways"]).is_err());
        assert!(kinds(&["SPAN_KIND_"]).is_err());
    }

    #[test]
    fn booleans_as_go_reads_them() {
        assert!(go_bool("g", "true").unwrap());
        assert!(go_bool("g", "1").unwrap());
        assert!(!go_bool("g", "False").unwrap());
        assert!(go_bool("g", "yes").is_err());
    }

    #[test]
    fn points_fall_on_minutes_at_or_before_the_end() {
        let end = 100 * MINUTE + 30 * 1_000 * MS;
        assert_eq!(times(end, 3 * MINUTE, MINUTE).unwrap(), [97, 98, 99, 100].map(|m| m * MINUTE));
        // Counted back from the end: the first point is the last one a whole step before the lookback's start.
        assert_eq!(times(end, 5 * MINUTE, 2 * MINUTE).unwrap(), [96, 98, 100].map(|m| m * MINUTE));
        assert_eq!(times(end, 0, MINUTE).unwrap(), [100 * MINUTE]);
        assert!(times(end, 99 * MINUTE, MINUTE).is_ok());
        assert!(times(20_000 * MINUTE, 10_000 * MINUTE, MINUTE).is_err());
        assert_eq!(whole_minutes(5_000 * MS), MINUTE);
        assert_eq!(whole_minutes(61_000 * MS), 2 * MINUTE);
        assert_eq!(whole_minutes(0), MINUTE);
    }

    #[test]
    fn windows_count_the_minutes_before_each_point() {
        // Two calls in minute 10, one an error; three in minute 12.
        let pieces = [piece(10, 1, 2, 1, &[100, 300]), piece(12, 1, 3, 0, &[50, 50, 50])];
        let times: Vec<u64> = (10..=15).map(|m| m * MINUTE).collect();
        let r = 2 * MINUTE;
        let calls = points(&pieces, &times, r, Measure::Calls);
        let per_sec = |n: f64| n / 120.0;
        assert_eq!(
            calls,
            [(10, 0.0), (11, per_sec(2.0)), (12, per_sec(2.0)), (13, per_sec(3.0)), (14, per_sec(3.0)), (15, 0.0)]
                .map(|(m, v)| (m * MINUTE, v))
        );
        let errors = points(&pieces, &times, r, Measure::Errors);
        assert_eq!(errors, [(11, 0.5), (12, 0.5), (13, 0.0), (14, 0.0)].map(|(m, v)| (m * MINUTE, v)));
        let p95 = points(&pieces, &times, r, Measure::Latency(0.95));
        assert_eq!(p95, [(11, 300.0), (12, 300.0), (13, 50.0), (14, 50.0)].map(|(m, v)| (m * MINUTE, v)));
        // A window over both minutes merges them: 50, 50, 50, 100, 300.
        let p0 = points(&pieces, &[13 * MINUTE], 3 * MINUTE, Measure::Latency(0.0));
        assert_eq!(p0, [(13 * MINUTE, 50.0)]);
    }

    #[test]
    fn compacted_time_is_spread_over_its_minutes() {
        // Ten calls over the ten minutes from minute 20, four errors.
        let pieces = [piece(20, 10, 10, 4, &[7])];
        let at = |m: u64, r: u64, measure| points(&pieces, &[m * MINUTE], r * MINUTE, measure);
        assert_eq!(at(25, 10, Measure::Calls), [(25 * MINUTE, 5.0 / 600.0)]);
        assert_eq!(at(30, 10, Measure::Calls), [(30 * MINUTE, 10.0 / 600.0)]);
        assert_eq!(at(23, 1, Measure::Calls), [(23 * MINUTE, 1.0 / 60.0)]);
        assert_eq!(at(40, 10, Measure::Calls), [(40 * MINUTE, 0.0)]);
        let errors = at(25, 10, Measure::Errors);
        assert!((errors[0].1 - 0.4).abs() < 1e-12, "{errors:?}");
        assert_eq!(at(39, 10, Measure::Latency(0.5)), [(39 * MINUTE, 7.0)]);
        assert!(at(40, 10, Measure::Latency(0.5)).is_empty());
    }
}
