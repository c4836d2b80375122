//! Unit tests of the span rollups of a batch.

use super::rollup::*;
use super::{Promotion, prepare};
use crate::schema::Signal;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

const MIN: u64 = 60_000_000_000;
/// A minute boundary plus 5 s.
const T0: u64 = 29_403_000 * MIN + 5_000_000_000;
const MS: u64 = 1_000_000;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)] // one argument per Span field the rollups read
fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, kind: i32, start: u64, dur: u64, status: i32) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: start + dur,
        status: Some(Status { code: status, ..Default::default() }),
        ..Default::default()
    }
}

fn resource_spans(service: Option<&str>, spans: Vec<Span>) -> ResourceSpans {
    let mut attributes = vec![kv("host.name", "h")];
    if let Some(s) = service {
        attributes.push(kv("service.name", s));
    }
    ResourceSpans {
        resource: Some(Resource { attributes, ..Default::default() }),
        scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
        ..Default::default()
    }
}

fn rollups(requests: Vec<Vec<ResourceSpans>>) -> SpanRollups {
    let records: Vec<wal::Record> = requests
        .into_iter()
        .enumerate()
        .map(|(i, resource_spans)| wal::Record {
            seq: i as u64 + 1,
            kind: Signal::Traces.wal_kind(),
            received_at_unix_nanos: T0,
            payload: ExportTraceServiceRequest { resource_spans }.encode_to_vec(),
        })
        .collect();
    spans(&prepare(&records, &Promotion::defaults()))
}

fn svc(name: &str) -> Service {
    Service { name: name.into(), namespace: String::new() }
}

#[test]
fn services_count_every_span_and_time_entry_spans() {
    let r = rollups(vec![vec![resource_spans(
        Some("shop"),
        vec![
            span(1, 1, None, "GET /", 1, T0, 100 * MS, 0), // root INTERNAL: an entry
            span(1, 2, Some(1), "handle", 2, T0, 300 * MS, 2), // SERVER with error: an entry
            span(1, 3, Some(2), "SELECT", 3, T0, 5 * MS, 0), // CLIENT: not an entry
            span(2, 1, None, "next minute", 2, T0 + MIN, MS, 0), // the next minute
        ],
    )]]);
    let first = &r.services[&(minute(T0), svc("shop"))];
    assert_eq!(first.spans, 3);
    assert_eq!(first.requests.count, 2);
    assert_eq!(first.requests.errors, 1);
    assert_eq!(first.requests.latency.min(), 100 * MS as i64);
    assert_eq!(first.requests.latency.max(), 300 * MS as i64);
    assert_eq!(r.services[&(minute(T0) + MIN, svc("shop"))].spans, 1);
    assert_eq!(r.services.len(), 2);
    assert_eq!(minute(T0), T0 - 5_000_000_000);
}

#[test]
fn operations_are_keyed_by_name_and_kind() {
    let r = rollups(vec![vec![resource_spans(
        Some("shop"),
        vec![
            span(1, 1, None, "op", 2, T0, 10 * MS, 0),
            span(1, 2, None, "op", 2, T0 + 1, 30 * MS, 2),
            span(1, 3, None, "op", 3, T0 + 2, 20 * MS, 0),
        ],
    )]]);
    let server = &r.operations[&(svc("shop"), minute(T0), "op".to_string(), 2)];
    assert_eq!((server.count, server.errors), (2, 1));
    assert_eq!(r.operations[&(svc("shop"), minute(T0), "op".to_string(), 3)].count, 1);
    assert_eq!(r.operations.len(), 2);
}

#[test]
fn spans_without_a_service_name_are_not_rolled_up() {
    let r = rollups(vec![vec![resource_spans(None, vec![span(1, 1, None, "op", 2, T0, MS, 0)])]]);
    assert_eq!(r, SpanRollups::default());
}

#[test]
fn cross_service_parent_child_pairs_in_the_batch_make_edges() {
    // The caller's and the callee's spans come in two requests of the same batch.
    let r = rollups(vec![
        vec![resource_spans(
            Some("frontend"),
            vec![span(1, 1, None, "GET", 2, T0, 400 * MS, 0), span(1, 2, Some(1), "call", 3, T0, 300 * MS, 0)],
        )],
        vec![resource_spans(
            Some("checkout"),
            vec![span(1, 3, Some(2), "handle", 2, T0, 250 * MS, 2), span(1, 4, Some(3), "inner", 1, T0, MS, 0)],
        )],
    ]);
    let key = EdgeKey {
        minute: minute(T0),
        source: svc("frontend"),
        target: svc("checkout"),
        target_type: TargetType::Service,
    };
    let e = &r.edges[&key];
    assert_eq!((e.count, e.errors), (1, 1));
    assert_eq!(e.latency.max(), 250 * MS as i64, "the callee's duration");
    // Same-service pairs are not edges, and nothing is left to look up: every parent is in the batch, and
    // the CLIENT span's child too.
    assert_eq!(r.edges.len(), 1);
    assert!(r.orphans.is_empty(), "{:?}", r.orphans);
    assert!(r.callers.is_empty(), "{:?}", r.callers);
}

#[test]
fn only_client_spans_without_a_child_in_the_batch_are_callers_to_look_up() {
    let r = rollups(vec![vec![resource_spans(
        Some("frontend"),
        vec![
            span(1, 1, None, "GET", 2, T0, 400 * MS, 0),
            span(1, 2, Some(1), "call", 3, T0, 300 * MS, 0),
            span(1, 5, Some(1), "call", 3, T0, 300 * MS, 0),
            span(1, 6, Some(1), "send", 4, T0, MS, 0),
        ],
    )]]);
    // span 2's child (span 3) arrives in the same batch: its callee is paired there, not looked up.
    let r2 = rollups(vec![
        vec![resource_spans(
            Some("frontend"),
            vec![span(1, 1, None, "GET", 2, T0, 400 * MS, 0), span(1, 2, Some(1), "call", 3, T0, 300 * MS, 0)],
        )],
        vec![resource_spans(Some("checkout"), vec![span(1, 3, Some(2), "handle", 2, T0, MS, 0)])],
    ]);
    let ids = |r: &SpanRollups| r.callers.iter().map(|c| c.span_id[0]).collect::<Vec<_>>();
    assert_eq!(ids(&r), [2, 5, 6]);
    assert_eq!(ids(&r2), Vec::<u8>::new());
}

#[test]
fn spans_whose_parent_is_elsewhere_are_orphans_to_look_up() {
    let r = rollups(vec![vec![resource_spans(Some("checkout"), vec![span(7, 3, Some(2), "handle", 2, T0, MS, 2)])]]);
    assert!(r.edges.is_empty());
    assert_eq!(r.orphans.len(), 1);
    let o = &r.orphans[0];
    assert_eq!((&o.trace_id, &o.parent_span_id, o.start_ns, o.error), (&vec![7; 16], &vec![2; 8], T0, true));
    assert_eq!(o.service, svc("checkout"));
    // What the writer does with the parent's service it finds.
    let mut r = r;
    let o = r.orphans[0].clone();
    r.add_call(&svc("frontend"), &o.service, o.start_ns, o.duration_ns, o.error);
    r.add_call(&svc("checkout"), &o.service, o.start_ns, o.duration_ns, o.error);
    assert_eq!(r.edges.len(), 1, "a same-service parent is no edge");
}

#[test]
fn client_spans_with_db_and_messaging_attributes_make_system_edges() {
    let mut db = span(1, 1, None, "SELECT", 3, T0, 5 * MS, 0);
    db.attributes = vec![kv("db.system", "postgresql")];
    let mut newer = span(1, 2, None, "SELECT", 3, T0, 7 * MS, 2);
    newer.attributes = vec![kv("db.system.name", "mysql"), kv("db.system", "ignored")];
    let mut produce = span(1, 3, None, "send", 4, T0, MS, 0);
    produce.attributes = vec![kv("messaging.system", "kafka")];
    let mut server = span(1, 4, None, "handle", 2, T0, MS, 0);
    server.attributes = vec![kv("db.system", "not a client")];
    let r = rollups(vec![vec![resource_spans(Some("shop"), vec![db, newer, produce, server])]]);
    let targets: Vec<(&str, &str, i64, i64)> =
        r.edges.iter().map(|(k, c)| (k.target.name.as_str(), k.target_type.as_str(), c.count, c.errors)).collect();
    assert_eq!(targets, [("kafka", "messaging", 1, 0), ("mysql", "database", 1, 1), ("postgresql", "database", 1, 0)]);
    // A database call has no traced child to look up; a message may have a consumer.
    let callers: Vec<u8> = r.callers.iter().map(|c| c.span_id[0]).collect();
    assert_eq!(callers, [3]);
}

#[test]
fn long_names_are_cut_at_a_character_boundary() {
    let long = "é".repeat(300);
    let cut_name = cut(&long);
    assert_eq!(cut_name.len(), KEY_BYTES);
    assert!(long.starts_with(&cut_name));
    let odd = format!("x{long}");
    assert_eq!(cut(&odd).len(), KEY_BYTES - 1);
    let r = rollups(vec![vec![resource_spans(Some(&long), vec![span(1, 1, None, &odd, 2, T0, MS, 0)])]]);
    let (service, _, name, _) = r.operations.keys().next().unwrap();
    assert_eq!((service.name.len(), name.len()), (KEY_BYTES, KEY_BYTES - 1));
}
