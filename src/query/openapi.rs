//! The OpenAPI 3.1 document of `/api/v2`, generated from the route table that also builds the router: each
//! route's parameters are the very lists its handler accepts (`allow`), and its response schema is written
//! next to it (tests check real responses against these schemas).

use axum::Json;
use axum::routing::{MethodRouter, get};
use serde_json::{Map, Value, json};

use super::{QueryState, attribute_keys, logs, metrics, services, traces};
use crate::schema::enums::{SPAN_KIND, STATUS_CODE, severity_class_names};

/// One route: path (relative to `/api/v2`), handler, documentation.
pub struct Route {
    /// Path with `{name}` segments, as axum and OpenAPI write them.
    pub path: &'static str,
    /// The GET handler.
    pub handler: fn() -> MethodRouter<QueryState>,
    /// operationId.
    pub id: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Query parameters the handler accepts.
    pub query: &'static [&'static str],
    /// Query parameters that must be given.
    pub required: &'static [&'static str],
    /// Name of the success response schema in `components.schemas`.
    pub response: &'static str,
}

/// Every route of the query API.
pub const ROUTES: &[Route] = &[
    Route {
        path: "/logs/search",
        handler: || get(logs::search),
        id: "searchLogs",
        summary: "Log records in a time window, newest first, filtered",
        query: logs::SEARCH_PARAMS,
        required: &["from"],
        response: "LogPage",
    },
    Route {
        path: "/logs/volume",
        handler: || get(logs::volume),
        id: "logVolume",
        summary: "How many log records match the search's filters, per time bucket and severity class",
        query: logs::VOLUME_PARAMS,
        required: &["from"],
        response: "LogVolume",
    },
    Route {
        path: "/logs/trace/{trace_id}",
        handler: || get(logs::by_trace),
        id: "logsOfTrace",
        summary: "Log records of a trace, oldest first",
        query: logs::TRACE_PARAMS,
        required: &[],
        response: "LogPage",
    },
    Route {
        path: "/logs/trace/{trace_id}/span/{span_id}",
        handler: || get(logs::by_span),
        id: "logsOfSpan",
        summary: "Log records of one span, oldest first",
        query: logs::TRACE_PARAMS,
        required: &[],
        response: "LogPage",
    },
    Route {
        path: "/traces/search",
        handler: || get(traces::search),
        id: "searchTraces",
        summary: "Traces with a span matching every filter, newest first, as summaries",
        query: traces::SEARCH_PARAMS,
        required: &["from"],
        response: "TracePage",
    },
    Route {
        path: "/traces/{trace_id}",
        handler: || get(traces::by_id),
        id: "getTrace",
        summary: "Every span of a trace in waterfall order with attributes, events, links, resource and scope; format=otlp answers OTLP/JSON",
        query: &["format"],
        required: &[],
        response: "TraceOrOtlp",
    },
    Route {
        path: "/traces/{trace_id}/spans",
        handler: || get(traces::spans),
        id: "spansOfTrace",
        summary: "The spans of a trace with their attributes, by start time",
        query: &[],
        required: &[],
        response: "SpanList",
    },
    Route {
        path: "/metrics/search",
        handler: || get(metrics::search),
        id: "searchMetrics",
        summary: "Metrics with data points in the window matching the filters",
        query: metrics::SEARCH_PARAMS,
        required: &["from"],
        response: "MetricPage",
    },
    Route {
        path: "/metrics/series",
        handler: || get(metrics::series),
        id: "metricSeries",
        summary: "Time-bucketed points per series of a metric, aggregated by type; series page by service (limit, default 20)",
        query: metrics::SERIES_PARAMS,
        required: &["from", "name"],
        response: "SeriesResponse",
    },
    Route {
        path: "/services",
        handler: || get(services::list),
        id: "listServices",
        summary: "Services with request rate, error rate and p50/p95/p99 latency over a window (default: the last hour)",
        query: services::PARAMS,
        required: &[],
        response: "Services",
    },
    Route {
        path: "/services/{service}/operations",
        handler: || get(services::operations),
        id: "serviceOperations",
        summary: "Span names and kinds of a service with count, errors and latency percentiles",
        query: services::OPERATION_PARAMS,
        required: &[],
        response: "Operations",
    },
    Route {
        path: "/services/{service}/series",
        handler: || get(services::series),
        id: "serviceSeries",
        summary: "A service's requests, request rate, errors and latency percentiles per time bucket (default: the last hour)",
        query: services::SERIES_PARAMS,
        required: &[],
        response: "ServiceSeries",
    },
    Route {
        path: "/service-map",
        handler: || get(services::map),
        id: "serviceMap",
        summary: "Service-to-service, service-to-database and service-to-messaging edges with calls, errors and latency",
        query: services::PARAMS,
        required: &[],
        response: "ServiceMap",
    },
    Route {
        path: "/attributes",
        handler: || get(attribute_keys::keys),
        id: "attributeKeys",
        summary: "Attribute keys seen for a signal and level, with their value types (unpromoted keys from a sample of up to 20000 records per level)",
        query: attribute_keys::PARAMS,
        required: &["signal"],
        response: "AttributeKeys",
    },
    Route {
        path: "/attributes/{key}/values",
        handler: || get(attribute_keys::values),
        id: "attributeValues",
        summary: "The most frequent values of an attribute key, with counts",
        query: attribute_keys::PARAMS,
        required: &["signal"],
        response: "AttributeValues",
    },
    Route {
        path: "/openapi.json",
        handler: || get(document),
        id: "openapi",
        summary: "This document",
        query: &[],
        required: &[],
        response: "OpenApi",
    },
];

/// Description and schema of a parameter, by name (a name means the same thing on every endpoint).
fn param_doc(name: &str) -> (&'static str, Value) {
    let s = json!({"type": "string"});
    match name {
        "from" => (
            "Window start: RFC 3339 (2026-01-02T03:04:05Z) or unix nanoseconds. Required for searches; the window width is limited by the server's maximum.",
            s,
        ),
        "to" => ("Window end (exclusive), RFC 3339 or unix nanoseconds; default now.", s),
        "service" => ("service.name of the resource.", s),
        "namespace" => ("service.namespace of the resource.", s),
        "name" => (
            "Span name (exact) for traces; metric name (substring, case-insensitive, for search; exact for series).",
            s,
        ),
        "kind" => (
            "Span kind: UNSPECIFIED, INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER (any case, optional SPAN_KIND_ prefix) or 0..5.",
            s,
        ),
        "status" => ("Span status: UNSET, OK, ERROR or 0..2.", s),
        "min_duration" | "max_duration" => {
            ("Span duration bound, inclusive: 250ms, 1.5s, 2m, or integer nanoseconds.", s)
        }
        "min_severity" => {
            ("Lowest severity: 1..24 or TRACE, DEBUG, INFO, WARN, ERROR, FATAL with optional 2..4 suffix.", s)
        }
        "body" => ("Text the log body contains (case-insensitive; % and _ are literal).", s),
        "trace_id" => ("Trace id, 32 hex digits, either case.", s),
        "span_id" => ("Span id, 16 hex digits, either case.", s),
        "attr" => (
            "Record attribute filter `key op value` (a key with spaces in double quotes), op one of eq, ne, gt, lt, gte, lte, contains, matches, not_matches (a regular expression in RE2 syntax matching the whole string value), exists (no value); repeatable, ANDed. Covers promoted and unpromoted attributes; numbers compare numerically; ne means present with another value.",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        "resource_attr" => (
            "Resource attribute filter, same syntax as attr; repeatable, ANDed.",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        "limit" => ("Page size (default and maximum set by the server).", json!({"type": "integer", "minimum": 1})),
        "cursor" => ("Opaque cursor from the previous page's next_cursor.", s),
        "format" => (
            "json (default) or otlp (an OTLP/JSON ExportTraceServiceRequest).",
            json!({"type": "string", "enum": ["json", "otlp"]}),
        ),
        "type" => (
            "Metric type.",
            json!({"type": "string", "enum": ["gauge", "sum", "histogram", "exponential_histogram", "summary"]}),
        ),
        "step" => (
            "Bucket width (e.g. 30s, 1m); default about 60 buckets over the window. Whole minutes for a service's series.",
            s,
        ),
        "agg" => (
            "Aggregation: gauge last|avg|min|max (default last); sum rate|delta|last|avg|min|max (default rate, last for non-monotonic); histograms and summaries quantiles.",
            json!({"type": "string", "enum": ["last", "avg", "min", "max", "rate", "delta", "quantiles"]}),
        ),
        "signal" => ("Signal.", json!({"type": "string", "enum": ["traces", "logs", "metrics"]})),
        "level" => (
            "Attribute level: record (default), resource, scope; for traces also event and link.",
            json!({"type": "string", "enum": ["record", "resource", "scope", "event", "link"]}),
        ),
        "prefix" => ("Only keys (or values) starting with this text.", s),
        "key" => ("Attribute key.", s),
        _ => ("", s),
    }
}

fn st() -> Value {
    json!({"type": "string"})
}
fn nst() -> Value {
    json!({"type": ["string", "null"]})
}
fn int() -> Value {
    json!({"type": "integer"})
}
fn nint() -> Value {
    json!({"type": ["integer", "null"]})
}
fn num() -> Value {
    json!({"type": "number"})
}
fn nnum() -> Value {
    json!({"type": ["number", "null"]})
}
fn boolean() -> Value {
    json!({"type": "boolean"})
}
fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}
fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}
fn nullable(schema: Value) -> Value {
    json!({"oneOf": [schema, {"type": "null"}]})
}

/// A closed object whose listed properties are all required.
fn obj(props: &[(&str, Value)]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    let required: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
    json!({"type": "object", "properties": p, "required": required, "additionalProperties": false})
}

fn time_props(prefix: &'static str, nullable_time: bool) -> Vec<(String, Value)> {
    let t = if nullable_time { nst() } else { st() };
    vec![(prefix.to_string(), t.clone()), (format!("{prefix}_unix_nano"), t)]
}

fn obj_owned(props: Vec<(String, Value)>) -> Value {
    let refs: Vec<(&str, Value)> = props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    obj(&refs)
}

fn span_base_props() -> Vec<(String, Value)> {
    let mut p: Vec<(String, Value)> = vec![
        ("trace_id".into(), st()),
        ("span_id".into(), st()),
        ("parent_span_id".into(), nst()),
        ("name".into(), st()),
        ("kind".into(), json!({"type": "string", "enum": SPAN_KIND.short_names()})),
        ("service_name".into(), nst()),
    ];
    p.extend(time_props("start_time", false));
    p.extend(time_props("end_time", false));
    p.extend([
        ("duration_ns".into(), int()),
        (
            "status".into(),
            obj(&[("code", json!({"type": "string", "enum": STATUS_CODE.short_names()})), ("message", st())]),
        ),
        ("trace_state".into(), st()),
        ("flags".into(), int()),
        ("attributes".into(), r("Attributes")),
        ("dropped_attributes_count".into(), int()),
    ]);
    p
}

fn schemas() -> Value {
    let window = obj(&[("from_unix_nano", st()), ("to_unix_nano", st())]);
    let mut log = Vec::new();
    log.extend(time_props("time", false));
    log.push(("time_unset".into(), boolean()));
    log.extend(time_props("observed_time", true));
    log.extend([
        ("severity_number".into(), int()),
        ("severity_text".into(), st()),
        ("body".into(), json!({"description": "The body in the typed JSON encoding (null when empty)"})),
        ("trace_id".into(), nst()),
        ("span_id".into(), nst()),
        ("flags".into(), int()),
        ("event_name".into(), st()),
        ("dropped_attributes_count".into(), int()),
        ("service_name".into(), nst()),
        ("service_namespace".into(), nst()),
        ("scope".into(), obj(&[("name", st()), ("version", st())])),
        ("attributes".into(), r("Attributes")),
        ("resource_attributes".into(), r("Attributes")),
    ]);
    let mut summary = vec![("trace_id".to_string(), st()), ("root_service".into(), nst()), ("root_name".into(), nst())];
    summary.extend(time_props("start_time", false));
    summary.extend([
        ("duration_ns".into(), int()),
        ("span_count".into(), int()),
        ("error_count".into(), int()),
        ("services".into(), arr(st())),
    ]);
    let mut event = time_props("time", false);
    event.extend([
        ("name".into(), st()),
        ("attributes".into(), r("Attributes")),
        ("dropped_attributes_count".into(), int()),
    ]);
    let link = obj(&[
        ("trace_id", st()),
        ("span_id", st()),
        ("trace_state", st()),
        ("flags", int()),
        ("attributes", r("Attributes")),
        ("dropped_attributes_count", int()),
    ]);
    let resource = obj(&[
        ("service_name", nst()),
        ("service_namespace", nst()),
        ("schema_url", st()),
        ("attributes", r("Attributes")),
        ("dropped_attributes_count", int()),
    ]);
    let scope = obj(&[
        ("name", st()),
        ("version", st()),
        ("schema_url", st()),
        ("attributes", r("Attributes")),
        ("dropped_attributes_count", int()),
    ]);
    let mut span = span_base_props();
    span.extend([
        ("depth".into(), int()),
        ("events".into(), arr(r("Event"))),
        ("dropped_events_count".into(), int()),
        ("links".into(), arr(r("Link"))),
        ("dropped_links_count".into(), int()),
        ("resource".into(), nullable(r("Resource"))),
        ("scope".into(), nullable(r("Scope"))),
    ]);
    let mut trace = vec![("trace_id".to_string(), st())];
    trace.extend(time_props("start_time", false));
    trace.extend([("duration_ns".into(), int()), ("span_count".into(), int()), ("spans".into(), arr(r("Span")))]);
    let mut value_point = time_props("time", false);
    value_point.push(("value".into(), nnum()));
    let mut dist_point = time_props("time", false);
    dist_point.extend([
        ("count".into(), int()),
        ("sum".into(), nnum()),
        ("p50".into(), nnum()),
        ("p90".into(), nnum()),
        ("p95".into(), nnum()),
        ("p99".into(), nnum()),
    ]);
    let red = |first: &[(&str, Value)]| {
        let mut p: Vec<(&str, Value)> = first.to_vec();
        p.extend([
            ("error_count", int()),
            ("error_rate", num()),
            ("p50_ns", nint()),
            ("p95_ns", nint()),
            ("p99_ns", nint()),
        ]);
        obj(&p)
    };
    json!({
        "Error": obj(&[("error", obj(&[("code", st()), ("message", st())]))]),
        "Attributes": {
            "type": "object",
            "description": "Attributes as one JSON object key -> value in the typed JSON encoding: strings, bools and ints as themselves, doubles always with a '.', {\"bytes\": base64}, {\"kvlist\": {...}}, {\"double\": \"NaN\"} etc., arrays as arrays.",
            "additionalProperties": true
        },
        "Log": obj_owned(log),
        "LogPage": obj(&[("logs", arr(r("Log"))), ("next_cursor", nst())]),
        "TraceSummary": obj_owned(summary),
        "TracePage": obj(&[("traces", arr(r("TraceSummary"))), ("next_cursor", nst())]),
        "Event": obj_owned(event),
        "Link": link,
        "Resource": resource,
        "Scope": scope,
        "Span": obj_owned(span),
        "SpanBase": obj_owned(span_base_props()),
        "Trace": obj_owned(trace),
        "OtlpTraces": {
            "type": "object",
            "description": "An OTLP/JSON ExportTraceServiceRequest (opentelemetry.proto.collector.trace.v1), ready to POST to any OTLP/HTTP receiver's /v1/traces.",
            "properties": {"resourceSpans": {"type": "array"}},
            "required": ["resourceSpans"]
        },
        "TraceOrOtlp": {"oneOf": [r("Trace"), r("OtlpTraces")]},
        "SpanList": obj(&[("trace_id", st()), ("spans", arr(r("SpanBase")))]),
        "Metric": obj(&[
            ("name", st()),
            ("type", json!({"type": "string", "enum": ["gauge", "sum", "histogram", "exponential_histogram", "summary"]})),
            ("unit", st()),
            ("description", st()),
            ("temporality", json!({"type": ["string", "null"], "enum": ["delta", "cumulative", null]})),
            ("monotonic", json!({"type": ["boolean", "null"]})),
        ]),
        "MetricPage": obj(&[("metrics", arr(r("Metric"))), ("next_cursor", nst())]),
        "Window": window,
        // The span rollups cover whole minutes, and whole ten-minute slots once compacted: what was covered.
        "RollupWindow": obj(&[("from_unix_nano", st()), ("to_unix_nano", st()), ("covered_from_unix_nano", st())]),
        "ValuePoint": obj_owned(value_point),
        "DistributionPoint": obj_owned(dist_point),
        "Series": obj(&[
            ("service_name", nst()),
            ("service_namespace", nst()),
            ("attributes", r("Attributes")),
            ("points", arr(json!({"oneOf": [r("ValuePoint"), r("DistributionPoint")]}))),
        ]),
        "SeriesResponse": obj(&[
            ("metric", r("Metric")),
            ("agg", st()),
            ("step_ns", int()),
            ("window", r("Window")),
            ("series", arr(r("Series"))),
            ("next_cursor", nst()),
        ]),
        "Services": obj(&[
            ("window", r("RollupWindow")),
            ("services", arr(red(&[("name", st()), ("span_count", int()), ("request_count", int()), ("request_rate", num())]))),
        ]),
        "LogVolume": obj(&[
            ("step_ns", int()),
            ("window", r("Window")),
            ("buckets", arr(obj(&[
                ("start_unix_nano", st()),
                ("counts", json!({
                    "type": "object",
                    "description": "Records per severity class present in the bucket",
                    "propertyNames": {"enum": severity_class_names()},
                    "additionalProperties": {"type": "integer"}
                })),
            ]))),
        ]),
        "ServiceSeries": obj(&[
            ("service", st()),
            ("step_ns", int()),
            ("window", r("RollupWindow")),
            ("points", arr(obj(&[
                ("start_unix_nano", st()),
                ("request_count", int()),
                ("request_rate", num()),
                ("error_count", int()),
                ("error_rate", num()),
                ("p50_ns", nint()),
                ("p95_ns", nint()),
                ("p99_ns", nint()),
            ]))),
        ]),
        "Operations": obj(&[
            ("service", st()),
            ("window", r("RollupWindow")),
            ("operations", arr(red(&[("name", st()), ("kind", st()), ("count", int()), ("rate", num())]))),
        ]),
        "ServiceMap": obj(&[
            ("window", r("RollupWindow")),
            ("nodes", arr(obj(&[("name", st()), ("type", json!({"type": "string", "enum": ["service", "database", "messaging"]}))]))),
            ("edges", arr(obj(&[
                ("source", st()),
                ("target", st()),
                ("target_type", json!({"type": "string", "enum": ["service", "database", "messaging"]})),
                ("call_count", int()),
                ("error_count", int()),
                ("p50_ns", nint()),
                ("p95_ns", nint()),
                ("p99_ns", nint()),
            ]))),
        ]),
        "AttributeKeys": obj(&[
            ("signal", st()),
            ("level", st()),
            ("keys", arr(obj(&[("key", st()), ("types", arr(st()))]))),
            ("truncated", boolean()),
        ]),
        "AttributeValues": obj(&[
            ("key", st()),
            ("signal", st()),
            ("level", st()),
            ("values", arr(obj(&[("value", json!({})), ("count", int())]))),
        ]),
        "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
    })
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": r("Error")}}})
}

/// The OpenAPI document (paths relative to the `/api/v2` server).
pub fn spec() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut parameters = Vec::new();
        for seg in route.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let (description, schema) = param_doc(name);
                parameters.push(
                    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema}),
                );
            }
        }
        for name in route.query {
            let (description, schema) = param_doc(name);
            let repeat = schema["type"] == "array";
            let mut p = json!({
                "name": name,
                "in": "query",
                "required": route.required.contains(name),
                "description": description,
                "schema": schema,
            });
            if repeat {
                p["style"] = "form".into();
                p["explode"] = true.into();
            }
            parameters.push(p);
        }
        let op = json!({
            "operationId": route.id,
            "summary": route.summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": r(route.response)}}},
                "400": error_response("A parameter is invalid; the message names it"),
                "401": error_response("A bearer token is configured and was missing or wrong"),
                "404": error_response("Unknown id, service or metric"),
                "503": error_response("The database is unreachable, or the query exceeded the statement timeout"),
            },
        });
        paths.insert(route.path.to_string(), json!({"get": op}));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ollyscale query API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Logs, traces, metrics, services and attributes stored by ollyscale. Errors are {\"error\": {\"code\", \"message\"}}. Lists page with an opaque next_cursor. Times are RFC 3339 with nanoseconds plus exact unix nanoseconds as strings.",
        },
        "servers": [{"url": "/api/v2"}],
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
        "paths": paths,
    })
}

/// `GET /openapi.json`.
pub async fn document() -> Json<Value> {
    Json(spec())
}
