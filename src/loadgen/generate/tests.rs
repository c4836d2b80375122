use super::*;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
use opentelemetry_proto::tonic::trace::v1::span;
use std::collections::{HashMap, HashSet};

fn service_of(rs: &opentelemetry_proto::tonic::trace::v1::ResourceSpans) -> usize {
    let attrs = &rs.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default();
    let name = attrs.iter().find(|kv| kv.key == "service.name").and_then(|kv| match &kv.value {
        Some(AnyValue { value: Some(Value::StringValue(s)) }) => Some(s.clone()),
        _ => None,
    });
    name.and_then(|n| n.strip_prefix("svc-").and_then(|i| i.parse().ok())).unwrap_or(usize::MAX)
}

#[test]
fn traces_have_a_real_deployment_shape() {
    let shape = Shape { services: 50, operations: 10, spans_per_trace: 8, attributes: 0, cardinality: 100 };
    let mut g = Generator::new(shape, 7);
    let before = crate::time::now_unix_nanos();
    let (req, _) = g.traces(4_000);
    // Every span's service, by span id; every (service, name) and its kinds.
    let mut service: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut kinds: HashMap<(usize, String), HashSet<i32>> = HashMap::new();
    let mut spans = Vec::new();
    for rs in &req.resource_spans {
        let svc = service_of(rs);
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                service.insert(s.span_id.clone(), svc);
                kinds.entry((svc, s.name.clone())).or_default().insert(s.kind);
                spans.push((svc, s.clone()));
            }
        }
    }
    assert!(spans.len() >= 4_000);
    let mut edges = HashSet::new();
    for (svc, s) in &spans {
        // Stamped with the clock (roots start up to a second after it).
        assert!(s.start_time_unix_nano >= before && s.start_time_unix_nano < before + 5_000_000_000);
        if s.parent_span_id.is_empty() {
            assert_eq!(s.kind, span::SpanKind::Server as i32);
            continue;
        }
        let parent = service[&s.parent_span_id];
        if parent != *svc {
            // A call to another service lands in one of the caller's few dependencies, as its entry span.
            assert!((0..CALLEES).any(|j| callee(parent, j, 50) == *svc), "{parent} -> {svc}");
            assert_eq!(s.kind, span::SpanKind::Server as i32);
            edges.insert((parent, *svc));
        }
    }
    assert!(edges.len() <= 50 * CALLEES && edges.len() > 50, "{} edges", edges.len());
    // A span name has one kind within a service, apart from entry spans of names also used inside.
    let mixed = kinds.values().filter(|k| k.len() > 2).count();
    assert_eq!(mixed, 0, "{kinds:?}");
}

#[test]
fn metric_series_get_one_point_per_interval() {
    let shape = Shape { services: 4, operations: 2, spans_per_trace: 8, attributes: 0, cardinality: 100 };
    let (start, interval) = (1_700_000_000_000_000_000, 10_000_000_000);
    let mut g = Generator::new(shape, 7).with_metric_stream(vec![0, 2], start, interval);
    // Two services x 5 metrics x (2 routes x 2 methods) = 40 series; three rounds, over two requests.
    let reqs = [g.metrics(70), g.metrics(50)];
    // (service, metric, attributes) -> (time, integer value) of each point.
    type Series = HashMap<(String, String, String), Vec<(u64, Option<i64>)>>;
    let mut series: Series = HashMap::new();
    for req in &reqs {
        for rm in &req.resource_metrics {
            let attrs = &rm.resource.as_ref().unwrap().attributes;
            let svc = format!("{:?}", attrs.iter().find(|kv| kv.key == "service.name").unwrap().value);
            for m in &rm.scope_metrics[0].metrics {
                let mut add = |attrs: &[KeyValue], t: u64, v: Option<i64>| {
                    series.entry((svc.clone(), m.name.clone(), format!("{attrs:?}"))).or_default().push((t, v))
                };
                match m.data.as_ref().unwrap() {
                    Data::Gauge(d) => d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None)),
                    Data::Sum(d) => d.data_points.iter().for_each(|p| {
                        let v = match p.value {
                            Some(number_data_point::Value::AsInt(i)) => Some(i),
                            _ => None,
                        };
                        assert_eq!(p.start_time_unix_nano, start);
                        add(&p.attributes, p.time_unix_nano, v)
                    }),
                    Data::Histogram(d) => d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None)),
                    Data::ExponentialHistogram(d) => {
                        d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None))
                    }
                    Data::Summary(d) => d.data_points.iter().for_each(|p| add(&p.attributes, p.time_unix_nano, None)),
                }
            }
        }
    }
    assert_eq!(series.values().map(Vec::len).sum::<usize>(), 120);
    assert_eq!(series.len(), 40);
    assert!(series.keys().all(|(svc, _, _)| svc.contains("svc-000") || svc.contains("svc-002")));
    for points in series.values() {
        let times: Vec<u64> = points.iter().map(|p| p.0).collect();
        assert_eq!(times, [start, start + interval, start + 2 * interval]);
        // A cumulative sum never goes down.
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
