//! What the rewrite pass knows of each OTLP message: its fields with the JSON form each takes, and the
//! fields the stock deserializer requires.

use super::Signal;
use crate::schema::OtlpEnum;
use crate::schema::enums::{AGGREGATION_TEMPORALITY, SEVERITY_NUMBER, SPAN_KIND, STATUS_CODE};

/// How a field's JSON value is checked and brought into the form the stock deserializer accepts.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// A nested message (JSON object).
    Msg(&'static Schema),
    /// A repeated message (JSON array of objects).
    Msgs(&'static Schema),
    /// An AnyValue at nesting level 1 (log body).
    Any,
    /// Repeated KeyValue (attributes) whose values are at nesting level 1.
    Attrs,
    /// An enum: integer, or its name.
    Enum(&'static OtlpEnum),
    /// 64-bit unsigned integer: number or decimal string.
    U64,
    /// Repeated U64.
    U64s,
    /// 64-bit signed integer: number or decimal string.
    I64,
    /// 32-bit unsigned integer: number (decimal strings are converted).
    U32,
    /// 32-bit signed integer: number (decimal strings are converted).
    I32,
    /// Double: number (numeric strings are converted).
    F64,
    /// Repeated F64.
    F64s,
    /// Double whose stock deserializer also takes "NaN", "Infinity", "-Infinity".
    F64Special,
    /// String.
    Str,
    /// Repeated string.
    Strs,
    /// Boolean.
    Bool,
    /// Bytes as hex (trace and span ids), upper or lower case.
    Hex,
}

/// One OTLP message as the rewrite pass knows it.
pub(super) struct Schema {
    pub(super) name: &'static str,
    pub(super) fields: &'static [(&'static str, Kind)],
    /// Fields the stock deserializer requires (its struct has no `#[serde(default)]`), filled when absent.
    pub(super) required: &'static [(&'static str, Required)],
}

/// The empty value a required field gets when it is absent.
#[derive(Clone, Copy)]
pub(super) enum Required {
    EmptyString,
    EmptyArray,
}

pub(super) const fn schema(name: &'static str, fields: &'static [(&'static str, Kind)]) -> Schema {
    Schema { name, fields, required: &[] }
}

pub(super) static ENTITY_REF: Schema = Schema {
    name: "EntityRef",
    fields: &[("schemaUrl", Kind::Str), ("type", Kind::Str), ("idKeys", Kind::Strs), ("descriptionKeys", Kind::Strs)],
    required: &[
        ("schemaUrl", Required::EmptyString),
        ("type", Required::EmptyString),
        ("idKeys", Required::EmptyArray),
        ("descriptionKeys", Required::EmptyArray),
    ],
};
pub(super) static RESOURCE: Schema = schema(
    "Resource",
    &[("attributes", Kind::Attrs), ("droppedAttributesCount", Kind::U32), ("entityRefs", Kind::Msgs(&ENTITY_REF))],
);
pub(super) static SCOPE: Schema = schema(
    "InstrumentationScope",
    &[("name", Kind::Str), ("version", Kind::Str), ("attributes", Kind::Attrs), ("droppedAttributesCount", Kind::U32)],
);

pub(super) static TRACE_REQUEST: Schema =
    schema("ExportTraceServiceRequest", &[("resourceSpans", Kind::Msgs(&RESOURCE_SPANS))]);
pub(super) static RESOURCE_SPANS: Schema = schema(
    "ResourceSpans",
    &[("resource", Kind::Msg(&RESOURCE)), ("scopeSpans", Kind::Msgs(&SCOPE_SPANS)), ("schemaUrl", Kind::Str)],
);
pub(super) static SCOPE_SPANS: Schema =
    schema("ScopeSpans", &[("scope", Kind::Msg(&SCOPE)), ("spans", Kind::Msgs(&SPAN)), ("schemaUrl", Kind::Str)]);
pub(super) static SPAN: Schema = schema(
    "Span",
    &[
        ("traceId", Kind::Hex),
        ("spanId", Kind::Hex),
        ("traceState", Kind::Str),
        ("parentSpanId", Kind::Hex),
        ("flags", Kind::U32),
        ("name", Kind::Str),
        ("kind", Kind::Enum(&SPAN_KIND)),
        ("startTimeUnixNano", Kind::U64),
        ("endTimeUnixNano", Kind::U64),
        ("attributes", Kind::Attrs),
        ("droppedAttributesCount", Kind::U32),
        ("events", Kind::Msgs(&EVENT)),
        ("droppedEventsCount", Kind::U32),
        ("links", Kind::Msgs(&LINK)),
        ("droppedLinksCount", Kind::U32),
        ("status", Kind::Msg(&STATUS)),
    ],
);
pub(super) static EVENT: Schema = schema(
    "Event",
    &[
        ("timeUnixNano", Kind::U64),
        ("name", Kind::Str),
        ("attributes", Kind::Attrs),
        ("droppedAttributesCount", Kind::U32),
    ],
);
pub(super) static LINK: Schema = schema(
    "Link",
    &[
        ("traceId", Kind::Hex),
        ("spanId", Kind::Hex),
        ("traceState", Kind::Str),
        ("attributes", Kind::Attrs),
        ("droppedAttributesCount", Kind::U32),
        ("flags", Kind::U32),
    ],
);
pub(super) static STATUS: Schema = schema("Status", &[("message", Kind::Str), ("code", Kind::Enum(&STATUS_CODE))]);

pub(super) static LOGS_REQUEST: Schema =
    schema("ExportLogsServiceRequest", &[("resourceLogs", Kind::Msgs(&RESOURCE_LOGS))]);
pub(super) static RESOURCE_LOGS: Schema = schema(
    "ResourceLogs",
    &[("resource", Kind::Msg(&RESOURCE)), ("scopeLogs", Kind::Msgs(&SCOPE_LOGS)), ("schemaUrl", Kind::Str)],
);
pub(super) static SCOPE_LOGS: Schema = schema(
    "ScopeLogs",
    &[("scope", Kind::Msg(&SCOPE)), ("logRecords", Kind::Msgs(&LOG_RECORD)), ("schemaUrl", Kind::Str)],
);
pub(super) static LOG_RECORD: Schema = schema(
    "LogRecord",
    &[
        ("timeUnixNano", Kind::U64),
        ("observedTimeUnixNano", Kind::U64),
        ("severityNumber", Kind::Enum(&SEVERITY_NUMBER)),
        ("severityText", Kind::Str),
        ("body", Kind::Any),
        ("attributes", Kind::Attrs),
        ("droppedAttributesCount", Kind::U32),
        ("flags", Kind::U32),
        ("traceId", Kind::Hex),
        ("spanId", Kind::Hex),
        ("eventName", Kind::Str),
    ],
);

pub(super) static METRICS_REQUEST: Schema =
    schema("ExportMetricsServiceRequest", &[("resourceMetrics", Kind::Msgs(&RESOURCE_METRICS))]);
pub(super) static RESOURCE_METRICS: Schema = schema(
    "ResourceMetrics",
    &[("resource", Kind::Msg(&RESOURCE)), ("scopeMetrics", Kind::Msgs(&SCOPE_METRICS)), ("schemaUrl", Kind::Str)],
);
pub(super) static SCOPE_METRICS: Schema =
    schema("ScopeMetrics", &[("scope", Kind::Msg(&SCOPE)), ("metrics", Kind::Msgs(&METRIC)), ("schemaUrl", Kind::Str)]);
pub(super) static METRIC: Schema = schema(
    "Metric",
    &[
        ("name", Kind::Str),
        ("description", Kind::Str),
        ("unit", Kind::Str),
        ("metadata", Kind::Attrs),
        ("gauge", Kind::Msg(&GAUGE)),
        ("sum", Kind::Msg(&SUM)),
        ("histogram", Kind::Msg(&HISTOGRAM)),
        ("exponentialHistogram", Kind::Msg(&EXP_HISTOGRAM)),
        ("summary", Kind::Msg(&SUMMARY)),
    ],
);
pub(super) static GAUGE: Schema = schema("Gauge", &[("dataPoints", Kind::Msgs(&NUMBER_DP))]);
pub(super) static SUM: Schema = schema(
    "Sum",
    &[
        ("dataPoints", Kind::Msgs(&NUMBER_DP)),
        ("aggregationTemporality", Kind::Enum(&AGGREGATION_TEMPORALITY)),
        ("isMonotonic", Kind::Bool),
    ],
);
pub(super) static HISTOGRAM: Schema = schema(
    "Histogram",
    &[("dataPoints", Kind::Msgs(&HISTOGRAM_DP)), ("aggregationTemporality", Kind::Enum(&AGGREGATION_TEMPORALITY))],
);
pub(super) static EXP_HISTOGRAM: Schema = schema(
    "ExponentialHistogram",
    &[("dataPoints", Kind::Msgs(&EXP_HISTOGRAM_DP)), ("aggregationTemporality", Kind::Enum(&AGGREGATION_TEMPORALITY))],
);
pub(super) static SUMMARY: Schema = schema("Summary", &[("dataPoints", Kind::Msgs(&SUMMARY_DP))]);
pub(super) static NUMBER_DP: Schema = schema(
    "NumberDataPoint",
    &[
        ("attributes", Kind::Attrs),
        ("startTimeUnixNano", Kind::U64),
        ("timeUnixNano", Kind::U64),
        ("asDouble", Kind::F64),
        ("asInt", Kind::I64),
        ("exemplars", Kind::Msgs(&EXEMPLAR)),
        ("flags", Kind::U32),
    ],
);
pub(super) static HISTOGRAM_DP: Schema = schema(
    "HistogramDataPoint",
    &[
        ("attributes", Kind::Attrs),
        ("startTimeUnixNano", Kind::U64),
        ("timeUnixNano", Kind::U64),
        ("count", Kind::U64),
        ("sum", Kind::F64),
        ("bucketCounts", Kind::U64s),
        ("explicitBounds", Kind::F64s),
        ("exemplars", Kind::Msgs(&EXEMPLAR)),
        ("flags", Kind::U32),
        ("min", Kind::F64),
        ("max", Kind::F64),
    ],
);
pub(super) static EXP_HISTOGRAM_DP: Schema = schema(
    "ExponentialHistogramDataPoint",
    &[
        ("attributes", Kind::Attrs),
        ("startTimeUnixNano", Kind::U64),
        ("timeUnixNano", Kind::U64),
        ("count", Kind::U64),
        ("sum", Kind::F64),
        ("scale", Kind::I32),
        ("zeroCount", Kind::U64),
        ("positive", Kind::Msg(&BUCKETS)),
        ("negative", Kind::Msg(&BUCKETS)),
        ("flags", Kind::U32),
        ("exemplars", Kind::Msgs(&EXEMPLAR)),
        ("min", Kind::F64),
        ("max", Kind::F64),
        ("zeroThreshold", Kind::F64),
    ],
);
pub(super) static BUCKETS: Schema = schema("Buckets", &[("offset", Kind::I32), ("bucketCounts", Kind::U64s)]);
pub(super) static SUMMARY_DP: Schema = schema(
    "SummaryDataPoint",
    &[
        ("attributes", Kind::Attrs),
        ("startTimeUnixNano", Kind::U64),
        ("timeUnixNano", Kind::U64),
        ("count", Kind::U64),
        ("sum", Kind::F64),
        ("quantileValues", Kind::Msgs(&VALUE_AT_QUANTILE)),
        ("flags", Kind::U32),
    ],
);
pub(super) static VALUE_AT_QUANTILE: Schema =
    schema("ValueAtQuantile", &[("quantile", Kind::F64Special), ("value", Kind::F64Special)]);
pub(super) static EXEMPLAR: Schema = schema(
    "Exemplar",
    &[
        ("filteredAttributes", Kind::Attrs),
        ("timeUnixNano", Kind::U64),
        ("asDouble", Kind::F64),
        ("asInt", Kind::I64),
        ("spanId", Kind::Hex),
        ("traceId", Kind::Hex),
    ],
);

/// The schema of a signal's export request.
pub(super) fn request_schema(signal: Signal) -> &'static Schema {
    match signal {
        Signal::Traces => &TRACE_REQUEST,
        Signal::Logs => &LOGS_REQUEST,
        Signal::Metrics => &METRICS_REQUEST,
    }
}
