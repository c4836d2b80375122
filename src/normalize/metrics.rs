//! Metrics: the metric dimension, `otel_metrics_data_points_*`, `otel_metrics_exemplars` and the data-point
//! attribute rows from an ExportMetricsServiceRequest.

use super::anyvalue::write_member;
use super::checks::{check_attributes, check_text};
use super::copy::CopyWriter;
use super::dimensions::{MetricDim, SeriesDim};
use super::encode::{EncodeContext, EncodeError};
use super::identity::{IdentityHasher, canonical_attributes};
use super::tables::{EXEMPLARS, EXP_HISTOGRAM_POINTS, HISTOGRAM_POINTS, NUMBER_POINTS, SUMMARY_POINTS, TableSet};
use super::walk::Walk;
use crate::normalize::anyvalue::attributes_to_json;
use crate::normalize::attrs::RuleCache;
use crate::otlp::storable;
use crate::schema::MetricType;
use crate::schema::attributes::{EXP_HISTOGRAM_DP, HISTOGRAM_DP, NUMBER_DP, SUMMARY_DP};
use crate::time::PgTime;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, exemplar, number_data_point};

/// prepare: identities (resource, scope, metric), promoted keys and counts of a metrics request.
pub(crate) fn walk<'a>(w: &mut Walk<'a>, req: &'a ExportMetricsServiceRequest) -> Result<(), String> {
    for rm in &req.resource_metrics {
        w.resource(rm.resource.as_ref(), &rm.schema_url)?;
        for sm in &rm.scope_metrics {
            w.scope(sm.scope.as_ref(), &sm.schema_url)?;
            for metric in &sm.metrics {
                check_text("metric name", &metric.name)?;
                check_text("metric unit", &metric.unit)?;
                check_text("metric description", &metric.description)?;
                check_attributes("metric metadata", &metric.metadata)?;
                let Some(data) = &metric.data else {
                    // A metric without data has no data points to store, and no type for the dimension.
                    w.metric_hashes.push(None);
                    continue;
                };
                let metric_type = MetricType::of(data).id();
                let (temporality, is_monotonic) = match data {
                    Data::Gauge(_) | Data::Summary(_) => (None, None),
                    Data::Sum(s) => (Some(s.aggregation_temporality), Some(s.is_monotonic)),
                    Data::Histogram(h) => (Some(h.aggregation_temporality), None),
                    Data::ExponentialHistogram(h) => (Some(h.aggregation_temporality), None),
                };
                let temporality = match temporality {
                    Some(t) => Some(storable::aggregation_temporality(t)?),
                    None => None,
                };
                let metadata = kept_canonical(&mut w.rules, &metric.metadata);
                let hash = w.hasher.metric(
                    &metric.name,
                    metric_type,
                    &metric.unit,
                    &metric.description,
                    temporality.map(i32::from),
                    is_monotonic,
                    &metadata,
                );
                w.metric_hashes.push(Some(hash));
                if !w.metrics.iter().any(|d| d.hash == hash) {
                    w.metrics.push(MetricDim {
                        hash,
                        name: metric.name.clone(),
                        metric_type,
                        unit: metric.unit.clone(),
                        description: metric.description.clone(),
                        temporality,
                        is_monotonic,
                        metadata: if metadata.is_empty() {
                            None
                        } else {
                            let owned: Vec<KeyValue> = metadata.into_iter().cloned().collect();
                            Some(attributes_to_json(&owned))
                        },
                    });
                }
                match data {
                    Data::Gauge(g) => number_points(w, &g.data_points)?,
                    Data::Sum(s) => number_points(w, &s.data_points)?,
                    Data::Histogram(h) => {
                        for p in &h.data_points {
                            w.counts.histogram_points += 1;
                            exemplars_ok(&p.exemplars)?;
                            w.counts.exemplars += p.exemplars.len() as u64;
                            w.attributes("data point attribute", HISTOGRAM_DP, &p.attributes)?;
                        }
                    }
                    Data::ExponentialHistogram(h) => {
                        for p in &h.data_points {
                            w.counts.exp_histogram_points += 1;
                            exemplars_ok(&p.exemplars)?;
                            w.counts.exemplars += p.exemplars.len() as u64;
                            w.attributes("data point attribute", EXP_HISTOGRAM_DP, &p.attributes)?;
                        }
                    }
                    Data::Summary(s) => {
                        for p in &s.data_points {
                            w.counts.summary_points += 1;
                            w.attributes("data point attribute", SUMMARY_DP, &p.attributes)?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn number_points<'a>(
    w: &mut Walk<'a>,
    points: &'a [opentelemetry_proto::tonic::metrics::v1::NumberDataPoint],
) -> Result<(), String> {
    for p in points {
        w.counts.number_points += 1;
        exemplars_ok(&p.exemplars)?;
        w.counts.exemplars += p.exemplars.len() as u64;
        w.attributes("data point attribute", NUMBER_DP, &p.attributes)?;
    }
    Ok(())
}

fn exemplars_ok(exemplars: &[Exemplar]) -> Result<(), String> {
    exemplars.iter().try_for_each(|e| check_attributes("exemplar filtered attribute", &e.filtered_attributes))
}

/// Canonical (sorted, one per key) attributes without the dropped keys.
fn kept_canonical<'a>(rules: &mut RuleCache<'a>, attrs: &'a [KeyValue]) -> Vec<&'a KeyValue> {
    canonical_attributes(&rules.kept(attrs))
}

/// The nine columns every data-point table starts with (`series_key`, added later, ends each row).
fn common_columns(
    w: &mut CopyWriter,
    fields: i16,
    id: i64,
    (metric_id, resource_id, scope_id): Ids,
    time: PgTime,
    start: Option<PgTime>,
    flags: u32,
) {
    w.row(fields);
    w.i64(id);
    w.i64(metric_id);
    w.i64(resource_id);
    w.i64(scope_id);
    w.time_and_fraction(Some(time));
    w.time_and_fraction(start);
    w.i32(flags as i32);
}

/// metric_id, resource_id and scope_id of a data point.
type Ids = (i64, i64, i64);

/// The series key of a data point with `attributes`, registering the series in `set` on first sight.
fn series_key<'a>(
    set: &mut TableSet,
    ctx: &mut EncodeContext<'a>,
    hasher: &mut IdentityHasher,
    (metric_id, resource_id, _): Ids,
    attributes: &'a [KeyValue],
) -> i64 {
    let canonical = canonical_attributes(&ctx.attrs.kept(attributes));
    let key = hasher.series(metric_id, resource_id, &canonical);
    set.series.entry(key).or_insert_with(|| {
        let owned: Vec<KeyValue> = canonical.into_iter().cloned().collect();
        SeriesDim { key, metric_id, resource_id, attributes: attributes_to_json(&owned) }
    });
    key
}

/// encode: data point rows, exemplar rows and data-point attribute rows.
pub(crate) fn encode<'a>(
    set: &mut TableSet,
    ctx: &mut EncodeContext<'a>,
    req: &'a ExportMetricsServiceRequest,
) -> Result<(), EncodeError> {
    let mut scratch = Vec::new();
    let mut hasher = IdentityHasher::new();
    for (ri, rm) in req.resource_metrics.iter().enumerate() {
        let resource_id = ctx.resource_id(ri)?;
        for sm in &rm.scope_metrics {
            let scope_id = ctx.next_scope_id()?;
            for metric in &sm.metrics {
                let (Some(metric_id), Some(data)) = (ctx.next_metric_id()?, &metric.data) else {
                    continue;
                };
                let ids = (metric_id, resource_id, scope_id);
                match data {
                    Data::Gauge(g) => number(set, ctx, ids, &g.data_points, (&mut scratch, &mut hasher))?,
                    Data::Sum(s) => number(set, ctx, ids, &s.data_points, (&mut scratch, &mut hasher))?,
                    Data::Histogram(h) => {
                        for p in &h.data_points {
                            let id = ctx.next_id()?;
                            let time = ctx.required_time("time_unix_nano", p.time_unix_nano)?;
                            let start = ctx.time("start_time_unix_nano", p.start_time_unix_nano)?;
                            let count = ctx.count("count", p.count)?;
                            let buckets = counts(ctx, "bucket_counts", &p.bucket_counts)?;
                            let series = series_key(set, ctx, &mut hasher, ids, &p.attributes);
                            let w = set.w(HISTOGRAM_POINTS);
                            common_columns(w, 16, id, ids, time, start, p.flags);
                            w.i64(count);
                            w.opt_f64(p.sum);
                            w.opt_f64(p.min);
                            w.opt_f64(p.max);
                            w.int8_array(buckets);
                            w.float8_array(p.explicit_bounds.iter().copied());
                            w.i64(series);
                            exemplars(set, ctx, id, time, MetricType::Histogram, &p.exemplars, &mut scratch)?;
                            ctx.attrs.write(set, HISTOGRAM_DP, id, Some(time), &p.attributes)?;
                        }
                    }
                    Data::ExponentialHistogram(h) => {
                        for p in &h.data_points {
                            let id = ctx.next_id()?;
                            let time = ctx.required_time("time_unix_nano", p.time_unix_nano)?;
                            let start = ctx.time("start_time_unix_nano", p.start_time_unix_nano)?;
                            let count = ctx.count("count", p.count)?;
                            let zero_count = ctx.count("zero_count", p.zero_count)?;
                            let (pos_offset, pos) = match &p.positive {
                                Some(b) => (b.offset, &b.bucket_counts[..]),
                                None => (0, &[][..]),
                            };
                            let (neg_offset, neg) = match &p.negative {
                                Some(b) => (b.offset, &b.bucket_counts[..]),
                                None => (0, &[][..]),
                            };
                            let pos = counts(ctx, "positive.bucket_counts", pos)?;
                            let neg = counts(ctx, "negative.bucket_counts", neg)?;
                            let series = series_key(set, ctx, &mut hasher, ids, &p.attributes);
                            let w = set.w(EXP_HISTOGRAM_POINTS);
                            common_columns(w, 21, id, ids, time, start, p.flags);
                            w.i64(count);
                            w.opt_f64(p.sum);
                            w.opt_f64(p.min);
                            w.opt_f64(p.max);
                            w.i32(p.scale);
                            w.i64(zero_count);
                            w.f64(p.zero_threshold);
                            w.i32(pos_offset);
                            w.int8_array(pos);
                            w.i32(neg_offset);
                            w.int8_array(neg);
                            w.i64(series);
                            exemplars(
                                set,
                                ctx,
                                id,
                                time,
                                MetricType::ExponentialHistogram,
                                &p.exemplars,
                                &mut scratch,
                            )?;
                            ctx.attrs.write(set, EXP_HISTOGRAM_DP, id, Some(time), &p.attributes)?;
                        }
                    }
                    Data::Summary(s) => {
                        for p in &s.data_points {
                            let id = ctx.next_id()?;
                            let time = ctx.required_time("time_unix_nano", p.time_unix_nano)?;
                            let start = ctx.time("start_time_unix_nano", p.start_time_unix_nano)?;
                            let count = ctx.count("count", p.count)?;
                            let series = series_key(set, ctx, &mut hasher, ids, &p.attributes);
                            let w = set.w(SUMMARY_POINTS);
                            common_columns(w, 14, id, ids, time, start, p.flags);
                            w.i64(count);
                            w.f64(p.sum);
                            w.float8_array(p.quantile_values.iter().map(|q| q.quantile));
                            w.float8_array(p.quantile_values.iter().map(|q| q.value));
                            w.i64(series);
                            ctx.attrs.write(set, SUMMARY_DP, id, Some(time), &p.attributes)?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// u64 bucket counts as BIGINTs, checked before any byte of the row is written.
fn counts<'v>(
    ctx: &EncodeContext<'_>,
    field: &str,
    values: &'v [u64],
) -> Result<impl ExactSizeIterator<Item = i64> + 'v, EncodeError> {
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| **v > i64::MAX as u64) {
        return Err(ctx.err(format!("{field}[{i}] {v} exceeds the BIGINT range")));
    }
    Ok(values.iter().map(|v| *v as i64))
}

fn number<'a>(
    set: &mut TableSet,
    ctx: &mut EncodeContext<'a>,
    ids: Ids,
    points: &'a [opentelemetry_proto::tonic::metrics::v1::NumberDataPoint],
    (scratch, hasher): (&mut Vec<u8>, &mut IdentityHasher),
) -> Result<(), EncodeError> {
    for p in points {
        let id = ctx.next_id()?;
        let time = ctx.required_time("time_unix_nano", p.time_unix_nano)?;
        let start = ctx.time("start_time_unix_nano", p.start_time_unix_nano)?;
        let series = series_key(set, ctx, hasher, ids, &p.attributes);
        let w = set.w(NUMBER_POINTS);
        common_columns(w, 12, id, ids, time, start, p.flags);
        match p.value {
            Some(number_data_point::Value::AsInt(i)) => {
                w.i64(i);
                w.null();
            }
            Some(number_data_point::Value::AsDouble(d)) => {
                w.null();
                w.f64(d);
            }
            None => {
                w.null();
                w.null();
            }
        }
        w.i64(series);
        exemplars(set, ctx, id, time, MetricType::Gauge, &p.exemplars, scratch)?;
        ctx.attrs.write(set, NUMBER_DP, id, Some(time), &p.attributes)?;
    }
    Ok(())
}

/// Exemplar rows of one data point; `kind` is the first metric type of its data point table (gauge for number
/// points).
fn exemplars<'a>(
    set: &mut TableSet,
    ctx: &mut EncodeContext<'a>,
    data_point_id: i64,
    data_point_time: PgTime,
    kind: MetricType,
    exemplars: &'a [Exemplar],
    scratch: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    for (index, ex) in exemplars.iter().enumerate() {
        let time = ctx.time("exemplar time_unix_nano", ex.time_unix_nano)?;
        // filtered_attributes is JSON only (no typed tables); dropped keys are removed here too.
        scratch.clear();
        let mut members = 0;
        for kv in &ex.filtered_attributes {
            if ctx.attrs.is_dropped(&kv.key) {
                continue;
            }
            scratch.push(if members == 0 { b'{' } else { b',' });
            write_member(scratch, &kv.key, kv.value.as_ref());
            members += 1;
        }
        let w = set.w(EXEMPLARS);
        w.row(11);
        w.i64(data_point_id);
        w.timestamptz(data_point_time);
        w.i16(kind.id());
        w.i32(index as i32);
        w.time_and_fraction(time);
        match ex.value {
            Some(exemplar::Value::AsInt(i)) => {
                w.i64(i);
                w.null();
            }
            Some(exemplar::Value::AsDouble(d)) => {
                w.null();
                w.f64(d);
            }
            None => {
                w.null();
                w.null();
            }
        }
        w.bytea_or_null(&ex.trace_id);
        w.bytea_or_null(&ex.span_id);
        if members == 0 {
            w.null();
        } else {
            scratch.push(b'}');
            w.jsonb_with(|buf| buf.extend_from_slice(scratch));
        }
    }
    Ok(())
}
