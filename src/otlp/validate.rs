//! Per-item validation before anything reaches the WAL: individually invalid items (spans, log records, data
//! points, metrics without data) are dropped and counted, the rest of the request is kept.

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

use super::OtlpRequest;
use super::metric_data_points;
use super::response::ExportResponse;
use crate::ids::{SPAN_ID_LEN, TRACE_ID_LEN};
use crate::time::check_unix_nanos;

mod storable;

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
    /// True when anything was dropped: the original bytes no longer match `request`, which must be re-encoded.
    pub changed: bool,
    /// The first few problems, e.g. "span 3 of scope 0 of resource 1: trace_id must be 16 bytes, got 15"; empty when
    /// nothing was dropped.
    pub message: String,
}

impl<T> Validated<T> {
    /// True when anything was dropped, i.e. the original bytes no longer match `request` and it must be re-encoded.
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
    total: usize,
    messages: Vec<String>,
    /// A resource or scope that cannot be stored was removed (its items are counted in `rejected`).
    containers_dropped: bool,
}

impl Problems {
    fn report(&mut self, what: impl FnOnce() -> String) {
        self.total += 1;
        if self.messages.len() < MAX_REPORTED_PROBLEMS {
            self.messages.push(what());
        }
    }

    /// Removes the resources or scopes that cannot be stored; their items were rejected already.
    fn drop_unstorable<C>(&mut self, containers: &mut Vec<C>, problem: impl Fn(&C) -> Option<String>) {
        let before = containers.len();
        containers.retain(|c| problem(c).is_none());
        self.containers_dropped |= containers.len() != before;
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
            changed: self.rejected > 0 || self.dropped_metrics > 0 || self.containers_dropped,
            message,
        }
    }
}

/// The problem of the resource or scope around an item, which the item shares.
fn container(problem: &Option<String>) -> Result<(), String> {
    problem.as_ref().map_or(Ok(()), |why| Err(why.clone()))
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
    for (i, event) in span.events.iter().enumerate() {
        check_time(&format!("events[{i}].time_unix_nano"), event.time_unix_nano)?;
    }
    for (i, link) in span.links.iter().enumerate() {
        check_id(&format!("links[{i}].trace_id"), &link.trace_id, TRACE_ID_LEN, false)?;
        check_id(&format!("links[{i}].span_id"), &link.span_id, SPAN_ID_LEN, false)?;
        // A link is stored with both ids (NOT NULL), so an empty one is as unusable as a wrong length.
        if link.trace_id.is_empty() || link.span_id.is_empty() {
            return Err(format!("links[{i}] must have a 16-byte trace_id and an 8-byte span_id"));
        }
    }
    storable::span(span)
}

/// The first problem of a log record, if any.
fn log_problem(log: &LogRecord) -> Result<(), String> {
    check_id("trace_id", &log.trace_id, TRACE_ID_LEN, false)?;
    check_id("span_id", &log.span_id, SPAN_ID_LEN, false)?;
    check_time("time_unix_nano", log.time_unix_nano)?;
    check_time("observed_time_unix_nano", log.observed_time_unix_nano)?;
    storable::log(log)
}

fn exemplars_problem(exemplars: &[Exemplar]) -> Result<(), String> {
    for (i, ex) in exemplars.iter().enumerate() {
        check_id(&format!("exemplars[{i}].trace_id"), &ex.trace_id, TRACE_ID_LEN, false)?;
        check_id(&format!("exemplars[{i}].span_id"), &ex.span_id, SPAN_ID_LEN, false)?;
        check_time(&format!("exemplars[{i}].time_unix_nano"), ex.time_unix_nano)?;
        storable::exemplar_attributes(i, &ex.filtered_attributes)?;
    }
    Ok(())
}

fn point_times(start: u64, time: u64) -> Result<(), String> {
    check_required_time("time_unix_nano", time)?;
    check_time("start_time_unix_nano", start)
}

fn number_point_problem(p: &NumberDataPoint) -> Result<(), String> {
    storable::point_attributes(&p.attributes)?;
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    exemplars_problem(&p.exemplars)
}

fn histogram_point_problem(p: &HistogramDataPoint) -> Result<(), String> {
    storable::point_attributes(&p.attributes)?;
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
    exemplars_problem(&p.exemplars)
}

fn buckets_problem(name: &str, buckets: Option<&Buckets>) -> Result<(), String> {
    match buckets {
        Some(b) => check_counts(&format!("{name}.bucket_counts"), &b.bucket_counts),
        None => Ok(()),
    }
}

fn exp_histogram_point_problem(p: &ExponentialHistogramDataPoint) -> Result<(), String> {
    storable::point_attributes(&p.attributes)?;
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    check_count("count", p.count)?;
    check_count("zero_count", p.zero_count)?;
    buckets_problem("positive", p.positive.as_ref())?;
    buckets_problem("negative", p.negative.as_ref())?;
    exemplars_problem(&p.exemplars)
}

fn summary_point_problem(p: &SummaryDataPoint) -> Result<(), String> {
    storable::point_attributes(&p.attributes)?;
    point_times(p.start_time_unix_nano, p.time_unix_nano)?;
    check_count("count", p.count)
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
            let bad_resource = storable::resource(rs.resource.as_ref(), &rs.schema_url);
            for (s, ss) in rs.scope_spans.iter_mut().enumerate() {
                let bad = bad_resource.clone().or_else(|| storable::scope(ss.scope.as_ref(), &ss.schema_url));
                let problem = |span: &Span| container(&bad).and_then(|()| span_problem(span));
                retain_valid(&mut ss.spans, &mut problems, problem, |i| {
                    format!("span {i} of scope {s} of resource {r}")
                });
            }
            problems.drop_unstorable(&mut rs.scope_spans, |ss| storable::scope(ss.scope.as_ref(), &ss.schema_url));
        }
        problems
            .drop_unstorable(&mut self.resource_spans, |rs| storable::resource(rs.resource.as_ref(), &rs.schema_url));
        problems.finish(self)
    }
}

impl Validate for ExportLogsServiceRequest {
    fn validate(mut self) -> Validated<Self> {
        let mut problems = Problems::default();
        for (r, rl) in self.resource_logs.iter_mut().enumerate() {
            let bad_resource = storable::resource(rl.resource.as_ref(), &rl.schema_url);
            for (s, sl) in rl.scope_logs.iter_mut().enumerate() {
                let bad = bad_resource.clone().or_else(|| storable::scope(sl.scope.as_ref(), &sl.schema_url));
                let problem = |log: &LogRecord| container(&bad).and_then(|()| log_problem(log));
                retain_valid(&mut sl.log_records, &mut problems, problem, |i| {
                    format!("log record {i} of scope {s} of resource {r}")
                });
            }
            problems.drop_unstorable(&mut rl.scope_logs, |sl| storable::scope(sl.scope.as_ref(), &sl.schema_url));
        }
        problems
            .drop_unstorable(&mut self.resource_logs, |rl| storable::resource(rl.resource.as_ref(), &rl.schema_url));
        problems.finish(self)
    }
}

impl Validate for ExportMetricsServiceRequest {
    fn validate(mut self) -> Validated<Self> {
        let mut problems = Problems::default();
        for (r, rm) in self.resource_metrics.iter_mut().enumerate() {
            let bad_resource = storable::resource(rm.resource.as_ref(), &rm.schema_url);
            for (s, sm) in rm.scope_metrics.iter_mut().enumerate() {
                let bad = bad_resource.clone().or_else(|| storable::scope(sm.scope.as_ref(), &sm.schema_url));
                let mut m = 0;
                sm.metrics.retain_mut(|metric| {
                    let index = m;
                    m += 1;
                    if let Some(why) = bad.clone().or_else(|| storable::metric(metric)) {
                        match metric_data_points(metric.data.as_ref()) {
                            0 => problems.dropped_metrics += 1,
                            points => problems.rejected += points,
                        }
                        let name = &metric.name;
                        problems.report(|| format!("metric {index} ({name:?}) of scope {s} of resource {r}: {why}"));
                        return false;
                    }
                    let name = &metric.name;
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
                    true
                });
            }
            problems.drop_unstorable(&mut rm.scope_metrics, |sm| storable::scope(sm.scope.as_ref(), &sm.schema_url));
        }
        problems
            .drop_unstorable(&mut self.resource_metrics, |rm| storable::resource(rm.resource.as_ref(), &rm.schema_url));
        problems.finish(self)
    }
}

#[cfg(test)]
mod tests;
