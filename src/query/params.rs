//! Parsing and validation of query parameters: every failure is a 400 naming the parameter.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::ids::{self, SpanId, TraceId};
use crate::schema::OtlpEnum;
use crate::schema::enums::{SEVERITY_CLASS_WIDTH, SEVERITY_NUMBER, SPAN_KIND, STATUS_CODE, severity_class_names};
use crate::time;

/// The query string as (name, value) pairs, in order, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad("query string", e.body_text()))?;
        for (k, v) in &pairs {
            text(k, v)?;
        }
        Ok(Params { pairs })
    }
}

impl Params {
    /// Parameters from explicit pairs (tests, internal calls).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// Refuses parameters the endpoint does not know, so that a typo is not silently ignored.
    pub fn allow(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => {
                Err(ApiError::bad(k.clone(), format!("unknown parameter; this endpoint takes {}", known.join(", "))))
            }
            None => Ok(()),
        }
    }

    /// The single value of `name`, if given (an empty value counts as absent); repeating it is an error.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut found = self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(ApiError::bad(name, "given more than once"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// The value of `name`, which must be given.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.one(name)?.ok_or_else(|| ApiError::bad(name, "is required"))
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// Refuses text PostgreSQL cannot store (NUL characters), so that it is a 400 rather than a database error.
pub fn text<'a>(name: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.contains('\0') {
        return Err(ApiError::bad(name, "contains a NUL character"));
    }
    Ok(value)
}

/// A half-open time window `[from, to)` in unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub from: u64,
    /// Exclusive end.
    pub to: u64,
}

impl Window {
    /// The start as a timestamptz bind value (truncated to the microsecond PostgreSQL keeps).
    pub fn from_ts(&self) -> DateTime<Utc> {
        nanos_floor_ts(self.from)
    }

    /// The end as a timestamptz bind value, rounded up to the microsecond so that no stored row is cut off.
    pub fn to_ts(&self) -> DateTime<Utc> {
        nanos_floor_ts(self.to.div_ceil(1000).saturating_mul(1000))
    }

    /// Width in nanoseconds.
    pub fn width(&self) -> u64 {
        self.to - self.from
    }
}

/// A unix-nanosecond instant as a chrono time, truncated to the microsecond.
pub fn nanos_floor_ts(nanos: u64) -> DateTime<Utc> {
    let micros = i64::try_from(nanos / 1000).unwrap_or(i64::MAX / 1000);
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Reads `from` / `to` (RFC 3339 or unix nanoseconds). `to` defaults to now. With `required`, `from` must be
/// given; without, no `from` means no window. The width may not exceed `max_width` nanoseconds.
pub fn window(p: &Params, required: bool, max_width: u64) -> Result<Option<Window>, ApiError> {
    let parse = |name: &str| -> Result<Option<u64>, ApiError> {
        p.one(name)?.map(|v| time::parse_time(v).map_err(|e| ApiError::bad(name, e.to_string()))).transpose()
    };
    let from = parse("from")?;
    let to = parse("to")?;
    let Some(from) = from else {
        if required {
            return Err(ApiError::bad(
                "from",
                "is required: the start of the time window, RFC 3339 (2026-01-02T03:04:05Z) or unix nanoseconds",
            ));
        }
        if to.is_some() {
            return Err(ApiError::bad("from", "is required when `to` is given"));
        }
        return Ok(None);
    };
    let to = to.unwrap_or_else(time::now_unix_nanos);
    if to <= from {
        return Err(ApiError::bad("to", "must be after `from`"));
    }
    let w = Window { from, to };
    if w.width() > max_width {
        return Err(ApiError::bad(
            "from",
            format!(
                "the window from `from` to `to` is {}, wider than the maximum of {}",
                human_duration(w.width()),
                human_duration(max_width)
            ),
        ));
    }
    Ok(Some(w))
}

/// Page size: `limit`, default `default`, at most `max`.
pub fn limit(p: &Params, default: u32, max: u32) -> Result<u32, ApiError> {
    match p.one("limit")? {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad("limit", format!("must be an integer from 1 to {max}, got {v:?}"))),
        },
    }
}

pub use crate::time::parse_duration;

/// An optional duration parameter.
pub fn duration(p: &Params, name: &str) -> Result<Option<u64>, ApiError> {
    p.one(name)?.map(|v| parse_duration(v).map_err(|e| ApiError::bad(name, e))).transpose()
}

/// Most buckets a time-bucketed answer may have.
pub const MAX_BUCKETS: u64 = 10_000;

/// The bucket width of a time-bucketed answer over `w`: `step` (at least `min` nanoseconds), or about 60
/// buckets over the window in whole multiples of `unit` nanoseconds; at most [`MAX_BUCKETS`] buckets.
pub fn step(p: &Params, w: &Window, unit: u64, min: u64) -> Result<u64, ApiError> {
    let step = match duration(p, "step")? {
        Some(0) => return Err(ApiError::bad("step", "must be positive")),
        Some(s) if s < min => return Err(ApiError::bad("step", format!("must be at least {}", human_duration(min)))),
        Some(s) => s,
        None => (w.width() / 60).div_ceil(unit).max(1) * unit,
    };
    if w.width().div_ceil(step) > MAX_BUCKETS {
        return Err(ApiError::bad(
            "step",
            format!("makes more than {MAX_BUCKETS} buckets over the window; use a larger step"),
        ));
    }
    Ok(step)
}

/// Formats nanoseconds for messages (`3h`, `90s`, `250ms`).
pub fn human_duration(nanos: u64) -> String {
    const UNITS: [(u64, &str); 5] =
        [(3_600_000_000_000, "h"), (1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us"), (1, "ns")];
    for (size, unit) in UNITS {
        if nanos >= size && nanos.is_multiple_of(size) {
            return format!("{}{unit}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

/// A trace id (32 hex digits, either case) from parameter or path segment `name`.
pub fn trace_id(name: &str, text: &str) -> Result<TraceId, ApiError> {
    ids::parse_trace_id(text.trim()).map_err(|e| ApiError::bad(name, e.to_string()))
}

/// A span id (16 hex digits, either case) from parameter or path segment `name`.
pub fn span_id(name: &str, text: &str) -> Result<SpanId, ApiError> {
    ids::parse_span_id(text.trim()).map_err(|e| ApiError::bad(name, e.to_string()))
}

/// A value of OTLP enumeration `e` from parameter `name`: its number, or its name in any case with or without
/// the protobuf prefix (`server`, `SPAN_KIND_SERVER`).
fn enum_value(p: &Params, name: &str, e: &OtlpEnum) -> Result<Option<i16>, ApiError> {
    let Some(v) = p.one(name)? else {
        return Ok(None);
    };
    if let Ok(n) = v.parse::<i16>()
        && e.short_name(n.into()).is_some()
    {
        return Ok(Some(n));
    }
    let upper = v.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix(e.prefix).unwrap_or(&upper);
    e.value_of_short(bare).and_then(|n| i16::try_from(n).ok()).map(Some).ok_or_else(|| {
        let names = e.short_names();
        ApiError::bad(name, format!("{v:?} is not one of {} (or 0..{})", names.join(", "), names.len() - 1))
    })
}

/// Span kind (`server`, `SPAN_KIND_SERVER` or 2).
pub fn span_kind(p: &Params) -> Result<Option<i16>, ApiError> {
    enum_value(p, "kind", &SPAN_KIND)
}

/// Span status (`error`, `STATUS_CODE_ERROR` or 2).
pub fn status_code(p: &Params) -> Result<Option<i16>, ApiError> {
    enum_value(p, "status", &STATUS_CODE)
}

/// Minimum severity: a SeverityNumber 1..=24 or a name (`warn`, `ERROR3`, `SEVERITY_NUMBER_INFO`).
pub fn min_severity(p: &Params) -> Result<Option<i16>, ApiError> {
    let Some(v) = p.one("min_severity")? else {
        return Ok(None);
    };
    // 0 is UNSPECIFIED, which no record is "at least".
    let specified = |n: i32| n >= 1 && SEVERITY_NUMBER.short_name(n).is_some();
    let highest = SEVERITY_NUMBER.short_names().len() - 1;
    if let Ok(n) = v.parse::<i16>() {
        return if specified(n.into()) {
            Ok(Some(n))
        } else {
            Err(ApiError::bad("min_severity", format!("a severity number must be 1..={highest}")))
        };
    }
    let upper = v.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix(SEVERITY_NUMBER.prefix).unwrap_or(&upper);
    let bare = if bare == "WARNING" { "WARN" } else { bare };
    match SEVERITY_NUMBER.value_of_short(bare) {
        Some(n) if specified(n) => Ok(i16::try_from(n).ok()),
        _ => {
            let classes = severity_class_names();
            Err(ApiError::bad(
                "min_severity",
                format!(
                    "{v:?} is not a severity: use 1..={highest} or {} (optionally 2..{SEVERITY_CLASS_WIDTH})",
                    classes.get(1..).unwrap_or_default().join(", ")
                ),
            ))
        }
    }
}

/// Comparison operators of attribute filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal (any stored type the value parses as).
    Eq,
    /// Present with a different value.
    Ne,
    /// Greater than (numbers numerically, otherwise strings).
    Gt,
    /// Less than.
    Lt,
    /// Greater or equal.
    Gte,
    /// Less or equal.
    Lte,
    /// A string value containing the text.
    Contains,
    /// A string value that the regular expression matches as a whole ([`super::pattern`]).
    Matches,
    /// A string value that the regular expression does not match.
    NotMatches,
    /// The key is present, with any value.
    Exists,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" | "=" | "==" => Op::Eq,
            "ne" | "!=" => Op::Ne,
            "gt" | ">" => Op::Gt,
            "lt" | "<" => Op::Lt,
            "gte" | ">=" => Op::Gte,
            "lte" | "<=" => Op::Lte,
            "contains" => Op::Contains,
            "matches" | "=~" => Op::Matches,
            "not_matches" | "!~" => Op::NotMatches,
            "exists" => Op::Exists,
            _ => return None,
        })
    }

    /// The SQL comparison operator (for the ordering and equality operators).
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Gte => ">=",
            Op::Lte => "<=",
            Op::Matches => "~",
            Op::NotMatches => "!~",
            Op::Contains | Op::Exists => "=",
        }
    }
}

/// Which attributes a filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrScope {
    /// The record's own attributes (span, log record, data point).
    Record,
    /// The attributes of the record's resource.
    Resource,
}

/// One attribute filter `key op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrFilter {
    /// Record or resource attributes.
    pub scope: AttrScope,
    /// The attribute key.
    pub key: String,
    /// The comparison.
    pub op: Op,
    /// The value as given (empty for `exists`).
    pub value: String,
}

/// Parses `key op value` (`http.route eq /cart`, `user.id exists`, `http.response.status_code gte 500`).
pub fn parse_attr_filter(param: &str, scope: AttrScope, text: &str) -> Result<AttrFilter, ApiError> {
    let bad = |m: &str| {
        ApiError::bad(
            param,
            format!(
                "{text:?}: {m}; expected `key op value` with op one of eq, ne, gt, lt, gte, lte, contains, matches, not_matches, exists"
            ),
        )
    };
    let t = text.trim_start();
    // A key with spaces is written in double quotes: `"my key" eq v`.
    let (key, rest) = match t.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').ok_or_else(|| bad("unterminated quoted key"))?,
        None => t.split_once(char::is_whitespace).unwrap_or((t, "")),
    };
    if key.is_empty() {
        return Err(bad("missing key"));
    }
    let rest = rest.trim_start();
    let (op_text, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let op = Op::parse(op_text).ok_or_else(|| bad("missing or unknown operator"))?;
    let value = value.trim_start().to_string();
    if op == Op::Exists {
        if !value.is_empty() {
            return Err(bad("`exists` takes no value"));
        }
    } else if value.is_empty() {
        return Err(bad("missing value"));
    }
    if matches!(op, Op::Matches | Op::NotMatches) {
        super::pattern::Pattern::new(&value).map_err(|e| ApiError::bad(param, e))?;
    }
    Ok(AttrFilter { scope, key: key.to_string(), op, value })
}

/// Every `attr` (record level) and `resource_attr` (resource level) filter.
pub fn attr_filters(p: &Params) -> Result<Vec<AttrFilter>, ApiError> {
    let mut out = Vec::new();
    for v in p.all("attr") {
        out.push(parse_attr_filter("attr", AttrScope::Record, v)?);
    }
    for v in p.all("resource_attr") {
        out.push(parse_attr_filter("resource_attr", AttrScope::Resource, v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect())
    }

    fn param_of(e: ApiError) -> String {
        match e {
            ApiError::BadParam { param, .. } => param,
            other => panic!("not a bad parameter: {other:?}"),
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("42"), Ok(42));
        assert_eq!(parse_duration("3us"), Ok(3_000));
        assert_eq!(parse_duration("2h"), Ok(7_200_000_000_000));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("-5ms").is_err());
        assert!(parse_duration("1e400s").is_err());
    }

    #[test]
    fn windows() {
        let max = 3_600_000_000_000;
        let w = window(&p(&[("from", "1000"), ("to", "2000")]), true, max).unwrap().unwrap();
        assert_eq!(w, Window { from: 1000, to: 2000 });
        assert_eq!(param_of(window(&p(&[]), true, max).unwrap_err()), "from");
        assert_eq!(window(&p(&[]), false, max).unwrap(), None);
        assert_eq!(param_of(window(&p(&[("from", "2000"), ("to", "1000")]), true, max).unwrap_err()), "to");
        assert_eq!(param_of(window(&p(&[("from", "yesterday")]), true, max).unwrap_err()), "from");
        let e = window(&p(&[("from", "2026-01-01T00:00:00Z"), ("to", "2026-01-01T02:00:00Z")]), true, max).unwrap_err();
        assert!(e.to_string().contains("2h") && e.to_string().contains("1h"), "{e}");
        assert_eq!(param_of(window(&p(&[("from", "1"), ("from", "2")]), true, max).unwrap_err()), "from");
        // The end is rounded up to the microsecond, the start down.
        let w = Window { from: 1_999, to: 2_001 };
        assert_eq!(w.from_ts().timestamp_micros(), 1);
        assert_eq!(w.to_ts().timestamp_micros(), 3);
    }

    #[test]
    fn enums() {
        assert_eq!(span_kind(&p(&[("kind", "server")])).unwrap(), Some(2));
        assert_eq!(span_kind(&p(&[("kind", "SPAN_KIND_CLIENT")])).unwrap(), Some(3));
        assert_eq!(span_kind(&p(&[("kind", "5")])).unwrap(), Some(5));
        assert_eq!(param_of(span_kind(&p(&[("kind", "6")])).unwrap_err()), "kind");
        assert_eq!(status_code(&p(&[("status", "error")])).unwrap(), Some(2));
        assert_eq!(param_of(status_code(&p(&[("status", "bad")])).unwrap_err()), "status");
        assert_eq!(min_severity(&p(&[("min_severity", "warn")])).unwrap(), Some(13));
        assert_eq!(min_severity(&p(&[("min_severity", "ERROR3")])).unwrap(), Some(19));
        assert_eq!(min_severity(&p(&[("min_severity", "fatal4")])).unwrap(), Some(24));
        assert_eq!(min_severity(&p(&[("min_severity", "9")])).unwrap(), Some(9));
        assert_eq!(param_of(min_severity(&p(&[("min_severity", "ERROR5")])).unwrap_err()), "min_severity");
        assert_eq!(param_of(min_severity(&p(&[("min_severity", "25")])).unwrap_err()), "min_severity");
    }

    #[test]
    fn attr_filter_syntax() {
        let f = parse_attr_filter("attr", AttrScope::Record, "http.route eq /a b").unwrap();
        assert_eq!((f.key.as_str(), f.op, f.value.as_str()), ("http.route", Op::Eq, "/a b"));
        let f = parse_attr_filter("attr", AttrScope::Record, "user.id exists").unwrap();
        assert_eq!(f.op, Op::Exists);
        assert!(parse_attr_filter("attr", AttrScope::Record, "user.id exists 3").is_err());
        assert!(parse_attr_filter("attr", AttrScope::Record, "user.id eq").is_err());
        assert!(parse_attr_filter("attr", AttrScope::Record, "user.id like x").is_err());
        assert!(parse_attr_filter("attr", AttrScope::Record, "").is_err());
        let f = parse_attr_filter("attr", AttrScope::Record, "\"my key\" contains a b").unwrap();
        assert_eq!((f.key.as_str(), f.op, f.value.as_str()), ("my key", Op::Contains, "a b"));
        assert!(parse_attr_filter("attr", AttrScope::Record, "\"my key eq 1").is_err());
        let all = attr_filters(&p(&[("attr", "a gt 5"), ("resource_attr", "b ne x")])).unwrap();
        assert_eq!(all[1].scope, AttrScope::Resource);
    }

    #[test]
    fn limits_and_unknown_params() {
        assert_eq!(limit(&p(&[]), 100, 1000).unwrap(), 100);
        assert_eq!(limit(&p(&[("limit", "7")]), 100, 1000).unwrap(), 7);
        assert_eq!(param_of(limit(&p(&[("limit", "0")]), 100, 1000).unwrap_err()), "limit");
        assert_eq!(param_of(limit(&p(&[("limit", "1001")]), 100, 1000).unwrap_err()), "limit");
        assert_eq!(param_of(p(&[("srvice", "x")]).allow(&["service"]).unwrap_err()), "srvice");
    }
}
