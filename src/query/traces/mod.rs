//! Traces: search (trace summaries), one trace with everything for a waterfall (or as OTLP JSON), and the
//! flat list of a trace's spans. One search serves `/api/v2`, Jaeger and Tempo ([`find_traces`]).

mod by_id;
mod filters;
mod scan;
mod search;
mod stored;
mod waterfall;

pub use by_id::{by_id, spans};
pub use search::{MatchedSpan, SEARCH_PARAMS, TracePage, TraceQuery, TraceSummary, find_traces, search};
pub use stored::{load_otlp, load_otlp_many, otlp_json};
pub use waterfall::{SpanKey, waterfall};

use chrono::DateTime;
use serde_json::{Map, Value};

/// SQL of a stored time as exact unix nanoseconds.
pub(crate) fn nanos_sql(col: &str) -> String {
    format!("((EXTRACT(EPOCH FROM {col}) * 1000000)::bigint * 1000 + {col}_nanos_fraction)")
}

/// RFC 3339 and unix-nanosecond fields for a time given in unix nanoseconds.
pub(crate) fn nanos_fields(prefix: &str, nanos: u64, m: &mut Map<String, Value>) {
    let t = DateTime::from_timestamp_nanos(nanos as i64);
    m.insert(prefix.into(), t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).into());
    m.insert(format!("{prefix}_unix_nano"), nanos.to_string().into());
}
