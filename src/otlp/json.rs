//! OTLP/JSON: lenient decoding of export requests.
//!
//! Decoding is two passes. A schema-aware rewrite of the parsed `serde_json::Value` accepts what the OTel
//! Collector accepts and the stock `with-serde` support of opentelemetry-proto does not (snake_case field names,
//! enum names, empty `{"arrayValue":{}}` / `{"kvlistValue":{}}`, `null` for absent fields, 32-bit integers and
//! doubles as strings), checks every field's JSON type so errors name the field path, and bounds AnyValue
//! nesting. The stock deserializer then builds the prost types from the canonical form.

use std::borrow::Cow;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::decode::{DecodeError, MAX_ANY_VALUE_DEPTH};
use super::{OtlpRequest, Signal};
use crate::schema::OtlpEnum;
use crate::schema::enums::{AGGREGATION_TEMPORALITY, SEVERITY_NUMBER, SPAN_KIND, STATUS_CODE};

/// Decodes an OTLP/JSON export request body (UTF-8 JSON), leniently, and checks the AnyValue depth bound.
pub fn decode_json<T: OtlpRequest>(body: &[u8]) -> Result<T, DecodeError> {
    let signal = T::SIGNAL.as_str();
    let json_err = |path: String, reason: String| DecodeError::Json { signal, path, reason };
    // serde_json stops at 128 nested arrays/objects with a clean error, which bounds the recursion below.
    let mut root: Value = serde_json::from_slice(body).map_err(|e| {
        let reason = if e.to_string().starts_with("recursion limit exceeded") {
            "JSON nested deeper than 128 levels".to_owned()
        } else {
            let text = e.to_string();
            text.rsplit_once(" at line ").map_or(text.clone(), |(r, _)| r.to_owned())
        };
        json_err(format!("line {} column {}", e.line(), e.column()), reason)
    })?;
    let mut walker = Walker { signal, path: Vec::new(), nonfinite: Vec::new() };
    walker.message(&mut root, request_schema(T::SIGNAL))?;
    let mut req: T = serde_json::from_value(root).map_err(|e| json_err(String::new(), e.to_string()))?;
    for (path, value) in &walker.nonfinite {
        if !req.set_double(path, *value) {
            walker.path.clone_from(path);
            return Err(walker.err(format!("could not place the non-finite double {value}")));
        }
    }
    req.check_depth()?;
    Ok(req)
}

/// How a field's JSON value is checked and brought into the form the stock deserializer accepts.
#[derive(Clone, Copy)]
enum Kind {
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

struct Schema {
    name: &'static str,
    fields: &'static [(&'static str, Kind)],
    /// Fields the stock deserializer requires (its struct has no `#[serde(default)]`), filled when absent.
    required: &'static [(&'static str, Required)],
}

#[derive(Clone, Copy)]
enum Required {
    EmptyString,
    EmptyArray,
}

const fn schema(name: &'static str, fields: &'static [(&'static str, Kind)]) -> Schema {
    Schema { name, fields, required: &[] }
}

static ENTITY_REF: Schema = Schema {
    name: "EntityRef",
    fields: &[("schemaUrl", Kind::Str), ("type", Kind::Str), ("idKeys", Kind::Strs), ("descriptionKeys", Kind::Strs)],
    required: &[
        ("schemaUrl", Required::EmptyString),
        ("type", Required::EmptyString),
        ("idKeys", Required::EmptyArray),
        ("descriptionKeys", Required::EmptyArray),
    ],
};
static RESOURCE: Schema = schema(
    "Resource",
    &[("attributes", Kind::Attrs), ("droppedAttributesCount", Kind::U32), ("entityRefs", Kind::Msgs(&ENTITY_REF))],
);
static SCOPE: Schema = schema(
    "InstrumentationScope",
    &[("name", Kind::Str), ("version", Kind::Str), ("attributes", Kind::Attrs), ("droppedAttributesCount", Kind::U32)],
);

static TRACE_REQUEST: Schema = schema("ExportTraceServiceRequest", &[("resourceSpans", Kind::Msgs(&RESOURCE_SPANS))]);
static RESOURCE_SPANS: Schema = schema(
    "ResourceSpans",
    &[("resource", Kind::Msg(&RESOURCE)), ("scopeSpans", Kind::Msgs(&SCOPE_SPANS)), ("schemaUrl", Kind::Str)],
);
static SCOPE_SPANS: Schema =
    schema("ScopeSpans", &[("scope", Kind::Msg(&SCOPE)), ("spans", Kind::Msgs(&SPAN)), ("schemaUrl", Kind::Str)]);
static SPAN: Schema = schema(
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
static EVENT: Schema = schema(
    "Event",
    &[
        ("timeUnixNano", Kind::U64),
        ("name", Kind::Str),
        ("attributes", Kind::Attrs),
        ("droppedAttributesCount", Kind::U32),
    ],
);
static LINK: Schema = schema(
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
static STATUS: Schema = schema("Status", &[("message", Kind::Str), ("code", Kind::Enum(&STATUS_CODE))]);

static LOGS_REQUEST: Schema = schema("ExportLogsServiceRequest", &[("resourceLogs", Kind::Msgs(&RESOURCE_LOGS))]);
static RESOURCE_LOGS: Schema = schema(
    "ResourceLogs",
    &[("resource", Kind::Msg(&RESOURCE)), ("scopeLogs", Kind::Msgs(&SCOPE_LOGS)), ("schemaUrl", Kind::Str)],
);
static SCOPE_LOGS: Schema = schema(
    "ScopeLogs",
    &[("scope", Kind::Msg(&SCOPE)), ("logRecords", Kind::Msgs(&LOG_RECORD)), ("schemaUrl", Kind::Str)],
);
static LOG_RECORD: Schema = schema(
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

static METRICS_REQUEST: Schema =
    schema("ExportMetricsServiceRequest", &[("resourceMetrics", Kind::Msgs(&RESOURCE_METRICS))]);
static RESOURCE_METRICS: Schema = schema(
    "ResourceMetrics",
    &[("resource", Kind::Msg(&RESOURCE)), ("scopeMetrics", Kind::Msgs(&SCOPE_METRICS)), ("schemaUrl", Kind::Str)],
);
static SCOPE_METRICS: Schema =
    schema("ScopeMetrics", &[("scope", Kind::Msg(&SCOPE)), ("metrics", Kind::Msgs(&METRIC)), ("schemaUrl", Kind::Str)]);
static METRIC: Schema = schema(
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
static GAUGE: Schema = schema("Gauge", &[("dataPoints", Kind::Msgs(&NUMBER_DP))]);
static SUM: Schema = schema(
    "Sum",
    &[
        ("dataPoints", Kind::Msgs(&NUMBER_DP)),
        ("aggregationTemporality", Kind::Enum(&AGGREGATION_TEMPORALITY)),
        ("isMonotonic", Kind::Bool),
    ],
);
static HISTOGRAM: Schema = schema(
    "Histogram",
    &[("dataPoints", Kind::Msgs(&HISTOGRAM_DP)), ("aggregationTemporality", Kind::Enum(&AGGREGATION_TEMPORALITY))],
);
static EXP_HISTOGRAM: Schema = schema(
    "ExponentialHistogram",
    &[("dataPoints", Kind::Msgs(&EXP_HISTOGRAM_DP)), ("aggregationTemporality", Kind::Enum(&AGGREGATION_TEMPORALITY))],
);
static SUMMARY: Schema = schema("Summary", &[("dataPoints", Kind::Msgs(&SUMMARY_DP))]);
static NUMBER_DP: Schema = schema(
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
static HISTOGRAM_DP: Schema = schema(
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
static EXP_HISTOGRAM_DP: Schema = schema(
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
static BUCKETS: Schema = schema("Buckets", &[("offset", Kind::I32), ("bucketCounts", Kind::U64s)]);
static SUMMARY_DP: Schema = schema(
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
static VALUE_AT_QUANTILE: Schema =
    schema("ValueAtQuantile", &[("quantile", Kind::F64Special), ("value", Kind::F64Special)]);
static EXEMPLAR: Schema = schema(
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

fn request_schema(signal: Signal) -> &'static Schema {
    match signal {
        Signal::Traces => &TRACE_REQUEST,
        Signal::Logs => &LOGS_REQUEST,
        Signal::Metrics => &METRICS_REQUEST,
    }
}

/// `trace_id` -> `traceId`; names without `_` are returned as they are.
fn lower_camel(key: &str) -> Cow<'_, str> {
    if !key.contains('_') {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One step of a field path in the JSON form of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// A field, by its lowerCamelCase JSON name.
    Key(&'static str),
    /// An element of a repeated field.
    Index(usize),
}

struct Walker {
    signal: &'static str,
    path: Vec<Seg>,
    /// Doubles given as "NaN" / "Infinity" / "-Infinity" in fields whose stock deserializer cannot take them.
    nonfinite: Vec<(Vec<Seg>, f64)>,
}

impl Walker {
    fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn err(&self, reason: String) -> DecodeError {
        DecodeError::Json { signal: self.signal, path: self.path_string(), reason }
    }

    /// Runs `f` with `seg` pushed on the path (popped again on success; on error the path is already reported).
    fn at<R>(&mut self, seg: Seg, f: impl FnOnce(&mut Self) -> Result<R, DecodeError>) -> Result<R, DecodeError> {
        self.path.push(seg);
        let out = f(self)?;
        self.path.pop();
        Ok(out)
    }

    fn object<'v>(&self, v: &'v mut Value, what: &str) -> Result<&'v mut Map<String, Value>, DecodeError> {
        match v {
            Value::Object(map) => Ok(map),
            other => Err(self.err(format!("expected a JSON object ({what}), got {}", type_name(other)))),
        }
    }

    fn array<'v>(&self, v: &'v mut Value, what: &str) -> Result<&'v mut Vec<Value>, DecodeError> {
        match v {
            Value::Array(items) => Ok(items),
            other => Err(self.err(format!("expected a JSON array ({what}), got {}", type_name(other)))),
        }
    }

    fn message(&mut self, v: &mut Value, schema: &'static Schema) -> Result<(), DecodeError> {
        let map = self.object(v, schema.name)?;
        let fields = std::mem::take(map);
        let mut out = Map::new();
        for (key, mut value) in fields {
            // protojson: null means the field's default.
            if value.is_null() {
                continue;
            }
            let key = lower_camel(&key);
            // Unknown fields are ignored, as the OTLP/JSON specification requires.
            let Some(&(name, kind)) = schema.fields.iter().find(|(n, _)| *n == key) else {
                continue;
            };
            self.at(Seg::Key(name), |w| w.field(&mut value, kind))?;
            out.insert(name.to_owned(), value);
        }
        for &(name, required) in schema.required {
            out.entry(name).or_insert_with(|| match required {
                Required::EmptyString => Value::String(String::new()),
                Required::EmptyArray => Value::Array(Vec::new()),
            });
        }
        *v = Value::Object(out);
        Ok(())
    }

    fn field(&mut self, v: &mut Value, kind: Kind) -> Result<(), DecodeError> {
        match kind {
            Kind::Msg(schema) => self.message(v, schema),
            Kind::Msgs(schema) => self.each(v, schema.name, |w, item| w.message(item, schema)),
            Kind::Any => self.any_value(v, 1),
            Kind::Attrs => self.key_values(v, 1),
            Kind::Enum(def) => self.enumeration(v, def),
            Kind::U64 => self.integer(v, 0, u64::MAX as i128, "an unsigned 64-bit integer", false),
            Kind::U64s => self.each(v, "unsigned 64-bit integers", |w, item| {
                w.integer(item, 0, u64::MAX as i128, "an unsigned 64-bit integer", false)
            }),
            Kind::I64 => self.integer(v, i64::MIN as i128, i64::MAX as i128, "a signed 64-bit integer", false),
            Kind::U32 => self.integer(v, 0, u32::MAX as i128, "an unsigned 32-bit integer", true),
            Kind::I32 => self.integer(v, i32::MIN as i128, i32::MAX as i128, "a signed 32-bit integer", true),
            Kind::F64 => self.double(v, false),
            Kind::F64s => self.each(v, "doubles", |w, item| w.double(item, false)),
            Kind::F64Special => self.double(v, true),
            Kind::Str => match v {
                Value::String(_) => Ok(()),
                other => Err(self.err(format!("expected a string, got {}", type_name(other)))),
            },
            Kind::Strs => self.each(v, "strings", |w, item| w.field(item, Kind::Str)),
            Kind::Bool => match v {
                Value::Bool(_) => Ok(()),
                other => Err(self.err(format!("expected true or false, got {}", type_name(other)))),
            },
            Kind::Hex => self.hex(v),
        }
    }

    fn each(
        &mut self,
        v: &mut Value,
        what: &str,
        mut f: impl FnMut(&mut Self, &mut Value) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let items = self.array(v, what)?;
        for (i, item) in items.iter_mut().enumerate() {
            self.at(Seg::Index(i), |w| f(w, item))?;
        }
        Ok(())
    }

    fn enumeration(&mut self, v: &mut Value, def: &OtlpEnum) -> Result<(), DecodeError> {
        if let Value::String(name) = v {
            let number = def.value(name).or_else(|| def.value_of_short(&name.to_uppercase()));
            match number {
                Some(n) => *v = Value::from(n),
                None if name.parse::<i32>().is_ok() => {}
                None => {
                    return Err(self.err(format!(
                        "unknown {} {name:?} (expected an integer or a name such as {}...)",
                        def.name, def.prefix
                    )));
                }
            }
        }
        self.integer(v, i32::MIN as i128, i32::MAX as i128, &format!("a {} (integer or name)", def.name), true)
    }

    /// Checks an integer given as a number or a decimal string; `to_number` rewrites strings (and integral
    /// floats) as JSON integers for fields whose stock deserializer only takes numbers.
    fn integer(&mut self, v: &mut Value, min: i128, max: i128, what: &str, to_number: bool) -> Result<(), DecodeError> {
        let parsed: Option<i128> = match &*v {
            Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)).or_else(|| {
                // 1e3 or 5.0: integral doubles are integers in protojson.
                n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1.8e19).map(|f| f as i128)
            }),
            Value::String(s) => s.trim().parse::<i128>().ok(),
            _ => None,
        };
        let Some(n) = parsed else {
            return Err(self.err(format!("expected {what} (a number or a decimal string), got {}", describe(v))));
        };
        if n < min || n > max {
            return Err(self.err(format!("{n} is out of range for {what}")));
        }
        let is_int_number = matches!(&*v, Value::Number(x) if !x.is_f64());
        if to_number || !is_int_number {
            *v = if n < 0 { Value::from(n as i64) } else { Value::from(n as u64) };
        }
        Ok(())
    }

    fn double(&mut self, v: &mut Value, special_ok: bool) -> Result<(), DecodeError> {
        match &*v {
            Value::Number(_) => Ok(()),
            Value::String(s) => {
                let text = s.trim();
                let special = match text {
                    "NaN" => Some(f64::NAN),
                    "Infinity" => Some(f64::INFINITY),
                    "-Infinity" => Some(f64::NEG_INFINITY),
                    _ => None,
                };
                if let Some(x) = special {
                    if !special_ok {
                        // serde_json::Value cannot hold it: a placeholder now, the real value after decoding.
                        self.nonfinite.push((self.path.clone(), x));
                        *v = Value::from(0.0);
                    }
                    return Ok(());
                }
                match text.parse::<f64>() {
                    Ok(f) if f.is_finite() => {
                        // A finite f64 always converts.
                        if let Some(n) = Number::from_f64(f) {
                            *v = Value::Number(n);
                        }
                        Ok(())
                    }
                    _ => Err(self.err(format!(
                        "expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got the string {:?}",
                        truncate(s)
                    ))),
                }
            }
            other => Err(self.err(format!("expected a number, got {}", type_name(other)))),
        }
    }

    fn hex(&mut self, v: &mut Value) -> Result<(), DecodeError> {
        let Value::String(s) = v else {
            return Err(self.err(format!("expected a hex string, got {}", type_name(v))));
        };
        if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(self.err(format!("not hex: character {c:?} at position {i} of {s:?}")));
        }
        if s.len() % 2 != 0 {
            return Err(self.err(format!("odd number of hex digits ({}) in {s:?}", s.len())));
        }
        Ok(())
    }

    fn key_values(&mut self, v: &mut Value, depth: usize) -> Result<(), DecodeError> {
        self.each(v, "KeyValue list", |w, item| {
            let map = w.object(item, "KeyValue")?;
            let fields = std::mem::take(map);
            let mut out = Map::new();
            for (key, mut value) in fields {
                if value.is_null() {
                    continue;
                }
                match &*lower_camel(&key) {
                    "key" => {
                        w.at(Seg::Key("key"), |w| w.field(&mut value, Kind::Str))?;
                        out.insert("key".into(), value);
                    }
                    "value" => {
                        w.at(Seg::Key("value"), |w| w.any_value(&mut value, depth))?;
                        out.insert("value".into(), value);
                    }
                    _ => {}
                }
            }
            out.entry("key").or_insert_with(|| Value::String(String::new()));
            *item = Value::Object(out);
            Ok(())
        })
    }

    fn any_value(&mut self, v: &mut Value, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_ANY_VALUE_DEPTH {
            return Err(DecodeError::TooDeep { signal: self.signal, path: self.path_string() });
        }
        let map = self.object(v, "AnyValue")?;
        let fields = std::mem::take(map);
        let mut out = Map::new();
        for (key, mut value) in fields {
            if value.is_null() {
                continue;
            }
            let (name, kind) = match &*lower_camel(&key) {
                "stringValue" => ("stringValue", Kind::Str),
                "boolValue" => ("boolValue", Kind::Bool),
                "intValue" => ("intValue", Kind::I64),
                "doubleValue" => ("doubleValue", Kind::F64),
                "bytesValue" => {
                    self.at(Seg::Key("bytesValue"), |w| w.base64(&mut value))?;
                    out.insert("bytesValue".into(), value);
                    continue;
                }
                "arrayValue" => {
                    self.at(Seg::Key("arrayValue"), |w| {
                        w.list(&mut value, "ArrayValue", |w, values| {
                            w.each(values, "AnyValue list", |w, item| w.any_value(item, depth + 1))
                        })
                    })?;
                    out.insert("arrayValue".into(), value);
                    continue;
                }
                "kvlistValue" => {
                    self.at(Seg::Key("kvlistValue"), |w| {
                        w.list(&mut value, "KeyValueList", |w, values| w.key_values(values, depth + 1))
                    })?;
                    out.insert("kvlistValue".into(), value);
                    continue;
                }
                _ => continue,
            };
            self.at(Seg::Key(name), |w| w.field(&mut value, kind))?;
            out.insert(name.into(), value);
        }
        *v = Value::Object(out);
        Ok(())
    }

    /// An ArrayValue or KeyValueList object: `{}` and `{"values": null}` become `{"values": []}`.
    fn list(
        &mut self,
        v: &mut Value,
        what: &str,
        f: impl FnOnce(&mut Self, &mut Value) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let map = self.object(v, what)?;
        let mut values = map.remove("values").filter(|v| !v.is_null()).unwrap_or(Value::Array(Vec::new()));
        self.at(Seg::Key("values"), |w| f(w, &mut values))?;
        let mut out = Map::new();
        out.insert("values".into(), values);
        *v = Value::Object(out);
        Ok(())
    }

    /// protojson bytes: standard or URL-safe base64, padded or not; rewritten as padded standard base64.
    fn base64(&mut self, v: &mut Value) -> Result<(), DecodeError> {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        let Value::String(s) = v else {
            return Err(self.err(format!("expected a base64 string, got {}", type_name(v))));
        };
        let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s.as_bytes()).ok())
            .ok_or_else(|| self.err(format!("not base64: {:?}", truncate(s))))?;
        *v = Value::String(STANDARD.encode(bytes));
        Ok(())
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {:?}", truncate(s)),
        Value::Number(n) => format!("the number {n}"),
        other => type_name(other).to_owned(),
    }
}

mod nonfinite;
pub use nonfinite::SetDouble;

#[cfg(test)]
mod tests;
