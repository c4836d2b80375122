//! An export request's items by ordinal: the writer narrows a record PostgreSQL refused down to the items it
//! refuses, and stores the others, by rebuilding the request from a subset of its items.
//!
//! Items are numbered in traversal order (resources, then scopes, then spans, log records or data points), the
//! order [`super::OtlpRequest::item_count`] counts. A subset keeps the resources, scopes and metrics its items sit
//! in, with all their fields, and drops the ones left with no item.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

/// Keeps the items whose ordinal `keep` accepts.
pub trait RetainItems {
    /// Drops every item whose ordinal `keep` refuses, then the scopes, resources and metrics left empty.
    fn retain_items(&mut self, keep: &mut dyn FnMut(usize) -> bool);
}

/// `Vec::retain` with each kept item's ordinal taken from the shared counter `next`.
fn retain_counted<I>(items: &mut Vec<I>, next: &mut usize, keep: &mut dyn FnMut(usize) -> bool) {
    items.retain(|_| {
        let ordinal = *next;
        *next += 1;
        keep(ordinal)
    });
}

impl RetainItems for ExportTraceServiceRequest {
    fn retain_items(&mut self, keep: &mut dyn FnMut(usize) -> bool) {
        let mut next = 0;
        for rs in &mut self.resource_spans {
            for ss in &mut rs.scope_spans {
                retain_counted(&mut ss.spans, &mut next, keep);
            }
            rs.scope_spans.retain(|ss| !ss.spans.is_empty());
        }
        self.resource_spans.retain(|rs| !rs.scope_spans.is_empty());
    }
}

impl RetainItems for ExportLogsServiceRequest {
    fn retain_items(&mut self, keep: &mut dyn FnMut(usize) -> bool) {
        let mut next = 0;
        for rl in &mut self.resource_logs {
            for sl in &mut rl.scope_logs {
                retain_counted(&mut sl.log_records, &mut next, keep);
            }
            rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
        }
        self.resource_logs.retain(|rl| !rl.scope_logs.is_empty());
    }
}

impl RetainItems for ExportMetricsServiceRequest {
    fn retain_items(&mut self, keep: &mut dyn FnMut(usize) -> bool) {
        let mut next = 0;
        for rm in &mut self.resource_metrics {
            for sm in &mut rm.scope_metrics {
                for metric in &mut sm.metrics {
                    match &mut metric.data {
                        Some(Data::Gauge(g)) => retain_counted(&mut g.data_points, &mut next, keep),
                        Some(Data::Sum(s)) => retain_counted(&mut s.data_points, &mut next, keep),
                        Some(Data::Histogram(h)) => retain_counted(&mut h.data_points, &mut next, keep),
                        Some(Data::ExponentialHistogram(h)) => retain_counted(&mut h.data_points, &mut next, keep),
                        Some(Data::Summary(s)) => retain_counted(&mut s.data_points, &mut next, keep),
                        None => {}
                    }
                }
                sm.metrics.retain(|m| super::metric_data_points(m.data.as_ref()) > 0);
            }
            rm.scope_metrics.retain(|sm| !sm.metrics.is_empty());
        }
        self.resource_metrics.retain(|rm| !rm.scope_metrics.is_empty());
    }
}

/// The request with only the items whose ordinals lie in `range`.
pub fn subset<T: RetainItems + Clone>(request: &T, range: std::ops::Range<usize>) -> T {
    let mut part = request.clone();
    part.retain_items(&mut |i| range.contains(&i));
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::decode::tests::sample_traces;
    use crate::otlp::{OtlpRequest, count_spans};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Summary, SummaryDataPoint,
    };

    fn names(req: &ExportTraceServiceRequest) -> Vec<String> {
        req.resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).map(|s| s.name.clone()).collect()
    }

    #[test]
    fn trace_subsets_keep_the_chosen_spans_in_order_and_drop_empty_containers() {
        let mut req = sample_traces();
        // A second resource with one span: ordinals 0..3 are the first resource's, 3 the second's.
        let mut second = req.resource_spans[0].clone();
        second.scope_spans[0].spans.truncate(1);
        second.scope_spans[0].spans[0].name = "d".into();
        req.resource_spans.push(second);
        assert_eq!(count_spans(&req), 4);
        assert_eq!(names(&subset(&req, 1..3)), ["b", "c"]);
        assert_eq!(subset(&req, 1..3).resource_spans.len(), 1, "the second resource has no span left");
        assert_eq!(names(&subset(&req, 2..4)), ["c", "d"]);
        assert_eq!(subset(&req, 0..4), req);
        assert_eq!(subset(&req, 4..9).item_count(), 0);
        assert!(subset(&req, 4..9).resource_spans.is_empty());
        let mut odd = req.clone();
        odd.retain_items(&mut |i| i % 2 == 1);
        assert_eq!(names(&odd), ["b", "d"]);
    }

    #[test]
    fn log_and_metric_subsets_count_items_across_scopes_and_metrics() {
        let log = |body: i64| LogRecord { severity_number: body as i32, ..Default::default() };
        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![
                    ScopeLogs { log_records: vec![log(1), log(2)], ..Default::default() },
                    ScopeLogs { log_records: vec![log(3)], ..Default::default() },
                ],
                ..Default::default()
            }],
        };
        let part = subset(&logs, 1..3);
        assert_eq!(part.resource_logs[0].scope_logs.len(), 2);
        assert_eq!(part.item_count(), 2);
        assert_eq!(subset(&logs, 2..3).resource_logs[0].scope_logs.len(), 1);

        let gauge = |n: usize| Metric {
            name: format!("g{n}"),
            data: Some(Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default(); n] })),
            ..Default::default()
        };
        let summary = Metric {
            name: "s".into(),
            data: Some(Data::Summary(Summary { data_points: vec![SummaryDataPoint::default()] })),
            ..Default::default()
        };
        let metrics = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics { metrics: vec![gauge(2), gauge(1), summary], ..Default::default() }],
                ..Default::default()
            }],
        };
        let part = subset(&metrics, 1..3);
        let kept: Vec<&str> = part.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| &m.name[..]).collect();
        assert_eq!(kept, ["g2", "g1"]);
        assert_eq!(part.item_count(), 2);
        let part = subset(&metrics, 3..4);
        assert_eq!(part.resource_metrics[0].scope_metrics[0].metrics[0].name, "s");
    }
}
