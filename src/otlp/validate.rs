//! Per-item validation before anything reaches the WAL: individually invalid items (spans, log records, data
//! points, metrics without data) are dropped and counted, the rest of the request is kept, and strings are mapped
//! to what PostgreSQL can store. The rules themselves are [`super::storable`]'s; this module applies them at every
//! level of a request and reports what it refused.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
};
use opentelemetry_proto::tonic::trace::v1::Span;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

use super::OtlpRequest;
use super::response::ExportResponse;
use super::storable::{self, replace_nul, replace_nul_in_attributes, replace_nul_in_value};
use crate::ids::{SPAN_ID_LEN, TRACE_ID_LEN};
use crate::time::check_unix_nanos;

/// How many problems the message describes before summarising the rest.
pub const MAX_REPORTED_PROBLEMS: usize = 5;

/// A request after validation: the kept items, and what was dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated<T> {
    /// The request without its invalid items.
    pub request: T,
    /// Items dropped: spans, log records or data points (a metric without data holds none, so it counts 0).
    pub rejected: usize,
    /// Metrics dropped because they carry no data (metrics only).
    pub dropped_metrics: usize,
    /// True when anything was dropped or a string mapped ([`storable::replace_nul`]): the original bytes no longer
    /// match `request`, which must be re-encoded.
    pub changed: bool,
    /// The first few problems, e.g. "span 3 of scope 0 of resource 1: trace_id must be 16 bytes, got 15"; empty when
    /// nothing was dropped.
    pub message: String,
}

impl<T> Validated<T> {
    /// True when anything was dropped or mapped, i.e. the original bytes no longer match `request` and it must be
    /// re-encoded.
    pub fn is_changed(&self) -> bool {
        self.changed
    }
}

impl<T: OtlpRequest> Validated<T> {
    /// The export response to answer with (partial success when anything was dropped).
    pub fn response(&self) -> ExportResponse {
        ExportResponse {
            signal: T::SIGNAL,
            rejected: i64::try_from(self.rejected).unwrap_or(i64::MAX),
            message: self.message.clone(),
        }
    }
}

/// Per-item validation, implemented for the three request types.
pub trait Validate: Sized {
    /// Drops the invalid items and reports them.
    fn validate(self) -> Validated<Self>;
}

/// Validates a request: drops its individually invalid items and reports them.
pub fn validate<T: Validate>(request: T) -> Validated<T> {
    request.validate()
}

/// Collects problems: counts all of them, keeps the text of the first few.
#[derive(Default)]
struct Problems {
    rejected: usize,
    dropped_metrics: usize,
    /// A string was mapped (NUL replaced): the request changed although nothing was dropped.
    mapped: bool,
    total: usize,
    messages: Vec<String>,
}

impl Problems {
    fn report(&mut self, what: impl FnOnce() -> String) {
        self.total += 1;
        if self.messages.len() < MAX_REPORTED_PROBLEMS {
            self.messages.push(what());
        }
    }

    /// Refuses `count` items at once for a problem of what holds them (a resource, scope or metric).
    fn refuse_all(&mut self, count: usize, what: impl FnOnce() -> String) {
        if count > 0 {
            self.rejected += count;
            self.report(what);
        }
    }

    fn finish<T>(self, request: T) -> Validated<T> {
        let mut message = self.messages.join("; ");
        if self.total > self.messages.len() {
            message.push_str(&format!("; and {} more problems", self.total - self.messages.len()));
        }
        Validated {
            request,
            rejected: self.rejected,
            dropped_metrics: self.dropped_metrics,
            changed: self.rejected > 0 || self.dropped_metrics > 0 || self.mapped,
            message,
        }
    }
}

/// Problems of one id: `required` ids must have exactly `len` non-zero bytes, optional ones may also be empty.
fn check_id(name: &str, id: &[u8], len: usize, required: bool) -> Result<(), String> {
    if id.is_empty() && !required {
        return Ok(());
    }
    if id.len() != len {
        let allowed = if required { "" } else { " or empty" };
        return Err(format!("{name} must be {len} bytes{allowed}, got {}", id.len()));
    }
    if required && id.iter().all(|&b| b == 0) {
        return Err(format!("{name} must not be all zero"));
    }
    Ok(())
}

fn check_time(name: &str, nanos: u64) -> Result<(), String> {
    check_unix_nanos(nanos).map_err(|e| format!("{name}: {e}"))
}

fn check_required_time(name: &str, nanos: u64) -> Result<(), String> {
    if nanos == 0 {
        return Err(format!("{name} is 0 (unset) but is required"));
    }
    check_time(name, nanos)
}

fn check_count(name: &str, value: u64) -> Result<(), String> {
    if value > i64::MAX as u64 {
        return Err(format!("{name} {value} is above {} (the largest storable count)", i64::MAX));
    }
    Ok(())
}

fn check_counts(name: &str, values: &[u64]) -> Result<(), String> {
    match values.iter().enumerate().find(|(_, v)| **v > i64::MAX as u64) {
        Some((i, &v)) => check_count(&format!("{name}[{i}]"), v),
        None => Ok(()),
    }
}

/// The first problem of a span, if any.
fn span_problem(span: &Span) -> Result<(), String> {
    check_id("trace_id", &span.trace_id, TRACE_ID_LEN, true)?;
    check_id("span_id", &span.span_id, SPAN_ID_LEN, true)?;
    check_id("parent_span_id", &span.parent_span_id, SPAN_ID_LEN, false)?;
    check_required_time("start_time_unix_nano", span.start_time_unix_nano)?;
    check_required_time("end_time_unix_nano", span.end_time_unix_nano)?;
    if span.end_time_unix_nano < span.start_time_unix_nano {
        return Err(format!(
            "end_time_unix_nano {} is before start_time_unix_nano {}",
            span.end_time_unix_nano, span.start_time_unix_nano
        ));
    }
    storable::span_kind(span.kind)?;
    storable::status_code(span.status.as_ref().map_or(0, |s| s.code))?;
    storable::check_keys("attributes", &span.attributes)?;
    for (i, event) in span.events.iter().enumerate() {
        check_time(&format!("events[{i}].time_unix_nano"), event.time_unix_nano)?;
        storable::check_keys(&format!("events[{i}].attributes"), &event.attributes)?;
    }
    for (i, link) in span.links.iter().enumerate() {
        check_id(&format!("links[{i}].trace_id"), &link.trace_id, TRACE_ID_LEN, false)?;
        check_id(&format!("links[{i}].span_id"), &link.span_id, SPAN_ID_LEN, false)?;
        // A link is stored with both ids (NOT NULL), so an empty one is as unusable as a wrong length.
        if link.trace_id.is_empty() || link.span_id.is_empty() {
            return Err(format!("links[{i}] must have a 16-byte trace_id and an 8-byte span_id"));
        }
        storable::check_keys(&format!("links[{i}].attributes"), &link.attributes)?;
    }
    Ok(())
}

/// Maps every string of a span (names, trace states, status message, attributes of the span, its events and
/// links) to a storable one; true when anything changed.
fn map_span(span: &mut Span) -> bool {
    let mut changed = replace_nul(&mut span.name) | replace_nul(&mut span.trace_state);
    changed |= replace_nul_in_attributes(&mut span.attributes);
    if let Some(status) = span.status.as_mut() {
        changed |= replace_nul(&mut status.message);
    }
    for event in &mut span.events {
        changed |= replace_nul(&mut event.name) | replace_nul_in_attributes(&mut event.attributes);
    }
    for link in &mut span.links {
        changed |= replace_nul(&mut link.trace_state) | replace_nul_in_attributes(&mut link.attributes);
    }
    changed
}

/// Maps the strings of a log record (severity text, event name, body, attributes); true when anything changed.
fn map_log(log: &mut LogRecord) -> bool {
    let mut changed = replace_nul(&mut log.severity_text) | replace_nul(&mut log.event_name);
    if let Some(body) = log.body.as_mut() {
        changed |= replace_nul_in_value(body);
    }
    changed | replace_nul_in_attributes(&mut log.attributes)
}

/// Maps the strings of a resource and its schema URL; true when anything changed.
fn map_resource(resource: Option<&mut Resource>, schema_url: &mut String) -> bool {
    replace_nul(schema_url) | resource.is_some_and(|r| replace_nul_in_attributes(&mut r.attributes))
}

/// Maps the strings of a scope (name, version, attributes) and its schema URL; true when anything changed.
fn map_scope(scope: Option<&mut InstrumentationScope>, schema_url: &mut String) -> bool {
    let changed = replace_nul(schema_url);
    match scope {
        Some(s) => {
            changed
                | replace_nul(&mut s.name)
                | replace_nul(&mut s.version)
                | replace_nul_in_attributes(&mut s.attributes)
        }
        None => changed,
    }
}

/// The first problem of a resource, which refuses every item under it.
fn resource_problem(resource: Option<&Resource>) -> Result<(), String> {
    let Some(resource) = resource else { return Ok(()) };
    storable::check_keys("resource attributes", &resource.attributes)?;
    for kv in &resource.attributes {
        if let ("service.name" | "service.namespace", Some(Value::StringValue(v))) =
            (kv.key.as_str(), kv.value.as_ref().and_then(|v| v.value.as_ref()))
        {
            storable::check_indexed_text(&format!("resource attribute {}", kv.key), v)?;
        }
    }
    Ok(())
}

/// The first problem of a scope, which refuses every item under it.
fn scope_problem(scope: Option<&InstrumentationScope>) -> Result<(), String> {
    scope.map_or(Ok(()), |s| storable::check_keys("scope attributes", &s.attributes))
}

/// The first problem of a resource or of one of its scopes, with where it is, for the items under them.
fn container_problem(
    resource: &Result<(), String>,
    r: usize,
    scope: Option<&InstrumentationScope>,
    s: usize,
) -> Option<String> {
    match resource {
        Err(why) => Some(format!("resource {r}: {why}")),
        Ok(()) => scope_problem(scope).err().map(|why| format!("scope {s} of resource {r}: {why}")),
    }
}

/// The first problem of a log record, if any.
fn log_problem(log: &LogRecord) -> Result<(), String> {
    check_id("trace_id", &log.trace_id, TRACE_ID_LEN, false)?;
    check_id("span_id", &log.span_id, SPAN_ID_LEN, false)?;
    check_time("time_unix_nano", log.time_unix_nano)?;
    check_time("observed_time_unix_nano", log.observed_time_unix_nano)?;
    storable::severity_number(log.severity_number)?;
    storable::check_keys("attributes", &log.attributes)
}

fn exemplars_problem(exemplars: &[Exemplar]) -> Result<(), String> {
    for (i, ex) in exemplars.iter().enumerate() {
        check_id(&format!("exemplars[{i}].trace_id"), &ex.trace_id, TRACE_ID_LEN, false)?;
        check_id(&format!("exemplars[{i}].span_id"), &ex.span_id, SPAN_ID_LEN, false)?;
        check_time(&format!("exemplars[{i}].time_unix_nano"), ex.time_unix_nano)?;
    }
    Ok(())
}

fn point_times(start: u64, time: u64) -> Result<(), String> {
    check_required_time("time_unix_nano", time)?;
    check_time("start_time_unix_nano", start)
}

fn number_point_problem(p: &NumberDataPoint) -> Result<(), String> {
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    storable::check_keys("attributes", &p.attributes)?;
    exemplars_problem(&p.exemplars)
}

fn histogram_point_problem(p: &HistogramDataPoint) -> Result<(), String> {
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    check_count("count", p.count)?;
    check_counts("bucket_counts", &p.bucket_counts)?;
    if !p.bucket_counts.is_empty() && p.bucket_counts.len() != p.explicit_bounds.len() + 1 {
        return Err(format!(
            "bucket_counts has {} entries but explicit_bounds has {} (expected {})",
            p.bucket_counts.len(),
            p.explicit_bounds.len(),
            p.explicit_bounds.len() + 1
        ));
    }
    storable::check_keys("attributes", &p.attributes)?;
    exemplars_problem(&p.exemplars)
}

fn buckets_problem(name: &str, buckets: Option<&Buckets>) -> Result<(), String> {
    match buckets {
        Some(b) => check_counts(&format!("{name}.bucket_counts"), &b.bucket_counts),
        None => Ok(()),
    }
}

fn exp_histogram_point_problem(p: &ExponentialHistogramDataPoint) -> Result<(), String> {
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    check_count("count", p.count)?;
    check_count("zero_count", p.zero_count)?;
    buckets_problem("positive", p.positive.as_ref())?;
    buckets_problem("negative", p.negative.as_ref())?;
    let buckets = |name, b: Option<&Buckets>| b.map(|b| (name, b.offset, b.bucket_counts.len()));
    let buckets: Vec<_> = [buckets("positive", p.positive.as_ref()), buckets("negative", p.negative.as_ref())]
        .into_iter()
        .flatten()
        .collect();
    storable::check_exp_histogram(p.scale, &buckets)?;
    storable::check_keys("attributes", &p.attributes)?;
    exemplars_problem(&p.exemplars)
}

fn summary_point_problem(p: &SummaryDataPoint) -> Result<(), String> {
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    check_count("count", p.count)?;
    for (i, q) in p.quantile_values.iter().enumerate() {
        storable::check_quantile(i, q.quantile)?;
    }
    storable::check_keys("attributes", &p.attributes)
}

/// Keeps the items without problems; reports each dropped one with its position in the original request.
fn retain_valid<I>(
    items: &mut Vec<I>,
    problems: &mut Problems,
    problem: impl Fn(&I) -> Result<(), String>,
    location: impl Fn(usize) -> String,
) {
    let mut index = 0;
    items.retain(|item| {
        let i = index;
        index += 1;
        match problem(item) {
            Ok(()) => true,
            Err(why) => {
                problems.rejected += 1;
                problems.report(|| format!("{}: {why}", location(i)));
                false
            }
        }
    });
}

impl Validate for ExportTraceServiceRequest {
    fn validate(mut self) -> Validated<Self> {
        let mut problems = Problems::default();
        for (r, rs) in self.resource_spans.iter_mut().enumerate() {
            let ResourceSpans { resource, scope_spans, schema_url } = rs;
            problems.mapped |= map_resource(resource.as_mut(), schema_url);
            let resource = resource_problem(resource.as_ref());
            for (s, ss) in scope_spans.iter_mut().enumerate() {
                problems.mapped |= map_scope(ss.scope.as_mut(), &mut ss.schema_url);
                if let Some(why) = container_problem(&resource, r, ss.scope.as_ref(), s) {
                    problems.refuse_all(ss.spans.len(), || format!("all {} spans of {why}", ss.spans.len()));
                    ss.spans.clear();
                    continue;
                }
                retain_valid(&mut ss.spans, &mut problems, span_problem, |i| {
                    format!("span {i} of scope {s} of resource {r}")
                });
                problems.mapped |= ss.spans.iter_mut().fold(false, |c, span| map_span(span) | c);
            }
        }
        problems.finish(self)
    }
}

impl Validate for ExportLogsServiceRequest {
    fn validate(mut self) -> Validated<Self> {
        let mut problems = Problems::default();
        for (r, rl) in self.resource_logs.iter_mut().enumerate() {
            let ResourceLogs { resource, scope_logs, schema_url } = rl;
            problems.mapped |= map_resource(resource.as_mut(), schema_url);
            let resource = resource_problem(resource.as_ref());
            for (s, sl) in scope_logs.iter_mut().enumerate() {
                problems.mapped |= map_scope(sl.scope.as_mut(), &mut sl.schema_url);
                if let Some(why) = container_problem(&resource, r, sl.scope.as_ref(), s) {
                    let n = sl.log_records.len();
                    problems.refuse_all(n, || format!("all {n} log records of {why}"));
                    sl.log_records.clear();
                    continue;
                }
                retain_valid(&mut sl.log_records, &mut problems, log_problem, |i| {
                    format!("log record {i} of scope {s} of resource {r}")
                });
                problems.mapped |= sl.log_records.iter_mut().fold(false, |c, log| map_log(log) | c);
            }
        }
        problems.finish(self)
    }
}

/// The first problem of a metric itself (not of its data points), which refuses all its data points.
fn metric_problem(metric: &Metric) -> Result<(), String> {
    storable::check_indexed_text("name", &metric.name)?;
    let temporality = match &metric.data {
        Some(Data::Sum(s)) => Some(s.aggregation_temporality),
        Some(Data::Histogram(h)) => Some(h.aggregation_temporality),
        Some(Data::ExponentialHistogram(h)) => Some(h.aggregation_temporality),
        _ => None,
    };
    temporality.map_or(Ok(()), |t| storable::aggregation_temporality(t).map(|_| ()))
}

/// Maps the strings of a metric: name, unit, description, metadata, and its data points' attributes and
/// exemplars' filtered attributes; true when anything changed.
fn map_metric(metric: &mut Metric) -> bool {
    fn points<P>(points: &mut [P], each: impl Fn(&mut P) -> (&mut Vec<KeyValue>, &mut Vec<Exemplar>)) -> bool {
        points.iter_mut().fold(false, |changed, p| {
            let (attributes, exemplars) = each(p);
            let exemplars =
                exemplars.iter_mut().fold(false, |c, e| replace_nul_in_attributes(&mut e.filtered_attributes) | c);
            replace_nul_in_attributes(attributes) | exemplars | changed
        })
    }
    let mut changed = replace_nul(&mut metric.name) | replace_nul(&mut metric.unit);
    changed |= replace_nul(&mut metric.description) | replace_nul_in_attributes(&mut metric.metadata);
    changed
        | match &mut metric.data {
            Some(Data::Gauge(g)) => points(&mut g.data_points, |p| (&mut p.attributes, &mut p.exemplars)),
            Some(Data::Sum(g)) => points(&mut g.data_points, |p| (&mut p.attributes, &mut p.exemplars)),
            Some(Data::Histogram(h)) => points(&mut h.data_points, |p| (&mut p.attributes, &mut p.exemplars)),
            Some(Data::ExponentialHistogram(h)) => {
                points(&mut h.data_points, |p| (&mut p.attributes, &mut p.exemplars))
            }
            Some(Data::Summary(h)) => {
                h.data_points.iter_mut().fold(false, |c, p| replace_nul_in_attributes(&mut p.attributes) | c)
            }
            None => false,
        }
}

impl Validate for ExportMetricsServiceRequest {
    fn validate(mut self) -> Validated<Self> {
        let mut problems = Problems::default();
        for (r, rm) in self.resource_metrics.iter_mut().enumerate() {
            let ResourceMetrics { resource, scope_metrics, schema_url } = rm;
            problems.mapped |= map_resource(resource.as_mut(), schema_url);
            let resource = resource_problem(resource.as_ref());
            for (s, sm) in scope_metrics.iter_mut().enumerate() {
                problems.mapped |= map_scope(sm.scope.as_mut(), &mut sm.schema_url);
                let container = container_problem(&resource, r, sm.scope.as_ref(), s);
                let mut m = 0;
                sm.metrics.retain_mut(|metric| {
                    let index = m;
                    m += 1;
                    let name = &metric.name;
                    let points = super::metric_data_points(metric.data.as_ref());
                    let refused = match &container {
                        Some(why) => Some(format!("metric {index} ({name:?}) of {why}")),
                        None => metric_problem(metric)
                            .err()
                            .map(|why| format!("metric {index} ({name:?}) of scope {s} of resource {r}: {why}")),
                    };
                    if let Some(why) = refused {
                        if points == 0 {
                            // A metric without points refuses no item: only dropped_metrics counts it.
                            problems.dropped_metrics += 1;
                            problems.report(|| why);
                        } else {
                            problems.refuse_all(points, || format!("all {points} data points of {why}"));
                        }
                        return false;
                    }
                    let at = |p: usize| {
                        format!("data point {p} of metric {index} ({name:?}) of scope {s} of resource {r}")
                    };
                    let points = &mut problems;
                    match &mut metric.data {
                        Some(Data::Gauge(g)) => {
                            retain_valid(&mut g.data_points, points, number_point_problem, at)
                        }
                        Some(Data::Sum(g)) => {
                            retain_valid(&mut g.data_points, points, number_point_problem, at)
                        }
                        Some(Data::Histogram(h)) => {
                            retain_valid(&mut h.data_points, points, histogram_point_problem, at)
                        }
                        Some(Data::ExponentialHistogram(h)) => retain_valid(
                            &mut h.data_points,
                            points,
                            exp_histogram_point_problem,
                            at,
                        ),
                        Some(Data::Summary(h)) => {
                            retain_valid(&mut h.data_points, points, summary_point_problem, at)
                        }
                        None => {
                            problems.dropped_metrics += 1;
                            problems.report(|| {
                                format!(
                                    "metric {index} ({name:?}) of scope {s} of resource {r}: has no data (none of gauge, sum, histogram, exponential_histogram, summary)"
                                )
                            });
                            return false;
                        }
                    }
                    problems.mapped |= map_metric(metric);
                    true
                });
            }
        }
        problems.finish(self)
    }
}

#[cfg(test)]
mod tests;
