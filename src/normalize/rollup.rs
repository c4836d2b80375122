//! Span rollups of one batch, pure CPU: per-minute summaries of services, operations and service-map edges
//! (`otel_service_rollups`, `otel_operation_rollups`, `otel_service_edges`, migrations/0009), plus the spans
//! whose caller or callee may already be in the database. The writer looks those up before it loads the
//! batch, adds the edges they make, and upserts everything in the batch's transaction (`write::rollups`).
//!
//! A span counts for the service of its resource (`service.name`; spans of resources without one are not
//! rolled up) in the minute it started. A service-to-service edge is a parent/child pair whose resources
//! name different services, counted with the child's duration and status. Pairs are found within the batch,
//! and against spans committed before it: a child whose parent is not in the batch is an [`Orphan`], and a
//! CLIENT or PRODUCER span is a [`Caller`] whose children may have arrived first.

use std::collections::{BTreeMap, HashMap, HashSet};

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

use super::identity::Hash;
use super::prepare::{PreparedBatch, Request};
use crate::latency::Histogram;

/// Longest name kept in a rollup key, in bytes: a btree entry cannot hold arbitrary text.
pub const KEY_BYTES: usize = 200;
const MINUTE_NS: u64 = 60_000_000_000;

/// Minutes in the slots that compaction folds closed minutes into (`write::compact`, migrations/0010).
pub const SLOT_MINUTES: i16 = 10;
const SLOT_NS: u64 = SLOT_MINUTES as u64 * MINUTE_NS;

/// The start of the minute a time falls in, Unix nanoseconds.
pub fn minute(unix_nanos: u64) -> u64 {
    unix_nanos - unix_nanos % MINUTE_NS
}

/// The start of the [`SLOT_MINUTES`] slot a time falls in, Unix nanoseconds.
pub fn slot(unix_nanos: u64) -> u64 {
    unix_nanos - unix_nanos % SLOT_NS
}

/// A name cut to [`KEY_BYTES`] at a character boundary.
pub fn cut(s: &str) -> String {
    cut_str(s).to_string()
}

/// [`cut`] without the copy.
fn cut_str(s: &str) -> &str {
    &s[..s.floor_char_boundary(KEY_BYTES)]
}

/// The maps of the per-span loop: keyed by borrowed ids and names, hashed with foldhash rather than SipHash
/// (which took 6% of the server's CPU in a profile of a load), and turned into the ordered, owned maps of
/// [`SpanRollups`] once per batch.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// [`FastMap`]'s set.
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// A service as the rollups key it: `service.name` and `service.namespace` ('' when absent), both cut.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct Service {
    /// service.name.
    pub name: String,
    /// service.namespace, empty when not sent.
    pub namespace: String,
}

/// Calls (or spans) with their errors and latency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calls {
    /// How many.
    pub count: i64,
    /// How many with status ERROR.
    pub errors: i64,
    /// Their durations.
    pub latency: Histogram,
}

impl Calls {
    /// Counts one call.
    pub fn record(&mut self, duration_ns: i64, error: bool) {
        self.count += 1;
        self.errors += i64::from(error);
        self.latency.record(duration_ns);
    }
}

/// One service's minute: all its spans, and its requests (entry spans).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceMinute {
    /// Spans of every kind.
    pub spans: i64,
    /// Entry spans: SERVER, CONSUMER, or no parent.
    pub requests: Calls,
}

/// What an edge points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub enum TargetType {
    /// Another service.
    Service,
    /// A database system (db.system.name / db.system of a CLIENT span).
    Database,
    /// A messaging system (messaging.system of a CLIENT or PRODUCER span).
    Messaging,
}

impl TargetType {
    /// The type a `target_type` column value names.
    pub fn parse(column: &str) -> Option<TargetType> {
        [TargetType::Service, TargetType::Database, TargetType::Messaging].into_iter().find(|t| t.as_str() == column)
    }

    /// The `target_type` column value.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Service => "service",
            TargetType::Database => "database",
            TargetType::Messaging => "messaging",
        }
    }
}

/// Key of an `otel_service_edges` row; a database or messaging target has an empty namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct EdgeKey {
    /// Minute of the callee span's start.
    pub minute: u64,
    /// The caller.
    pub source: Service,
    /// The callee.
    pub target: Service,
    /// What the callee is.
    pub target_type: TargetType,
}

/// A span whose parent is not in the batch: the writer looks the parent up among committed spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Orphan {
    /// Span.trace_id.
    pub trace_id: Vec<u8>,
    /// Span.parent_span_id.
    pub parent_span_id: Vec<u8>,
    /// Span.start_time_unix_nano.
    pub start_ns: u64,
    /// end - start.
    pub duration_ns: i64,
    /// Status ERROR.
    pub error: bool,
    /// The span's service.
    pub service: Service,
}

/// A CLIENT or PRODUCER span: the writer looks up its children among committed spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Span.trace_id.
    pub trace_id: Vec<u8>,
    /// Span.span_id.
    pub span_id: Vec<u8>,
    /// Span.start_time_unix_nano.
    pub start_ns: u64,
    /// The span's service.
    pub service: Service,
}

/// The rollups of one batch; maps are ordered so that every writer upserts rows in the same order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanRollups {
    /// (minute, service).
    pub services: BTreeMap<(u64, Service), ServiceMinute>,
    /// (service, minute, span name, span kind): the table's key order.
    pub operations: BTreeMap<(Service, u64, String, i16), Calls>,
    /// Service-map edges.
    pub edges: BTreeMap<EdgeKey, Calls>,
    /// Spans whose parent may be committed already.
    pub orphans: Vec<Orphan>,
    /// CLIENT and PRODUCER spans without a child in the batch, whose children may be committed already.
    pub callers: Vec<Caller>,
}

impl SpanRollups {
    /// Whether any of the three tables gets a row.
    pub fn has_rows(&self) -> bool {
        !(self.services.is_empty() && self.operations.is_empty() && self.edges.is_empty())
    }

    /// Counts one call on an edge.
    pub fn add_edge(&mut self, key: EdgeKey, duration_ns: i64, error: bool) {
        self.edges.entry(key).or_default().record(duration_ns, error);
    }

    /// Counts the service-to-service call `source` -> `child` when they differ.
    pub fn add_call(&mut self, source: &Service, child: &Service, start_ns: u64, duration_ns: i64, error: bool) {
        if source != child {
            let key = EdgeKey {
                minute: minute(start_ns),
                source: source.clone(),
                target: child.clone(),
                target_type: TargetType::Service,
            };
            self.add_edge(key, duration_ns, error);
        }
    }
}

/// The string value of an attribute.
fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.as_str()),
        _ => None,
    })
}

/// The rollups of the batch's spans.
pub fn spans(prepared: &PreparedBatch) -> SpanRollups {
    let services: HashMap<Hash, Service> = prepared
        .resources
        .iter()
        .filter_map(|d| {
            let name = d.service_name.as_deref()?;
            Some((d.hash, Service { name: cut(name), namespace: cut(d.service_namespace.as_deref().unwrap_or("")) }))
        })
        .collect();
    let mut all: Vec<(&Service, &Span)> = Vec::new();
    for r in &prepared.records {
        let Request::Traces(req) = &*r.request else { continue };
        for (i, rs) in req.resource_spans.iter().enumerate() {
            let Some(service) = r.resource_hashes.get(i).and_then(|h| services.get(h)) else { continue };
            all.extend(rs.scope_spans.iter().flat_map(|ss| ss.spans.iter()).map(|span| (service, span)));
        }
    }
    let by_id: FastMap<(&[u8], &[u8]), &Service> =
        all.iter().map(|(service, span)| ((&span.trace_id[..], &span.span_id[..]), *service)).collect();
    // A CLIENT span whose child is in the batch is paired here, by the child; looking up more children among
    // committed spans would cost a trace id probe per call for the rare retried call with two servers.
    let parents: FastSet<(&[u8], &[u8])> = all
        .iter()
        .filter(|(_, span)| !span.parent_span_id.is_empty())
        .map(|(_, span)| (&span.trace_id[..], &span.parent_span_id[..]))
        .collect();

    let mut minutes: FastMap<(u64, &Service), ServiceMinute> = FastMap::default();
    let mut operations: FastMap<(&Service, u64, &str, i16), Calls> = FastMap::default();
    let mut out = SpanRollups::default();
    for (service, span) in all {
        let start = span.start_time_unix_nano;
        let at = minute(start);
        // Both are <= i64::MAX once prepare accepted the record, as in the fact row.
        let duration = span.end_time_unix_nano as i64 - start as i64;
        let error = span.status.as_ref().is_some_and(|s| s.code == StatusCode::Error as i32);
        // prepare refused kinds the protobuf does not define.
        let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
        let has_parent = !span.parent_span_id.is_empty();

        let minute_row = minutes.entry((at, service)).or_default();
        minute_row.spans += 1;
        if matches!(kind, SpanKind::Server | SpanKind::Consumer) || !has_parent {
            minute_row.requests.record(duration, error);
        }
        operations.entry((service, at, cut_str(&span.name), kind as i16)).or_default().record(duration, error);

        let mut system_edge = |target: Option<&str>, target_type: TargetType| {
            if let Some(system) = target {
                let target = Service { name: cut(system), namespace: String::new() };
                out.edges
                    .entry(EdgeKey { minute: at, source: service.clone(), target, target_type })
                    .or_default()
                    .record(duration, error);
            }
        };
        let db = (kind == SpanKind::Client)
            .then(|| {
                string_attr(&span.attributes, "db.system.name").or_else(|| string_attr(&span.attributes, "db.system"))
            })
            .flatten();
        system_edge(db, TargetType::Database);
        if matches!(kind, SpanKind::Client | SpanKind::Producer) {
            system_edge(string_attr(&span.attributes, "messaging.system"), TargetType::Messaging);
            // A database call has no traced child to look for (a quarter of the spans in the benchmark's
            // traffic are such calls, and each lookup is a trace id probe).
            if db.is_none() && !parents.contains(&(&span.trace_id[..], &span.span_id[..])) {
                out.callers.push(Caller {
                    trace_id: span.trace_id.clone(),
                    span_id: span.span_id.clone(),
                    start_ns: start,
                    service: service.clone(),
                });
            }
        }

        if has_parent {
            match by_id.get(&(&span.trace_id[..], &span.parent_span_id[..])) {
                Some(parent) => out.add_call(parent, service, start, duration, error),
                None => out.orphans.push(Orphan {
                    trace_id: span.trace_id.clone(),
                    parent_span_id: span.parent_span_id.clone(),
                    start_ns: start,
                    duration_ns: duration,
                    error,
                    service: service.clone(),
                }),
            }
        }
    }
    out.services = minutes.into_iter().map(|((at, service), m)| ((at, service.clone()), m)).collect();
    out.operations = operations
        .into_iter()
        .map(|((service, at, name, kind), c)| ((service.clone(), at, name.to_string(), kind), c))
        .collect();
    out
}
