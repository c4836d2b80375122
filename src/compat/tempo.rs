//! The part of Tempo's HTTP API that Grafana's Tempo data source uses with streaming off (`/tempo/api/...`):
//! echo, trace by id (protobuf `TraceByIDResponse` / `Trace`, or OTLP JSON), search in tags mode and with a
//! TraceQL subset ([`super::traceql`]), tag names and tag values. Errors are plain text with the HTTP status,
//! as Tempo answers them.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prost::Message;
use serde_json::{Map, Value, json};

use super::tempopb::{PartialStatus, Trace, TraceByIdResponse};
use super::{params as cp, traceql};
use crate::ids;
use crate::query::QueryState;
use crate::query::error::ApiError;
use crate::query::params::{AttrFilter, AttrScope, Op, Params};
use crate::query::traces::{self, TraceQuery, TraceSummary};
use crate::schema::enums::{SPAN_KIND, STATUS_CODE};

/// Default number of traces of a search, as Tempo.
const DEFAULT_LIMIT: u32 = 20;
/// Default matching spans per trace (`spss`), as Tempo.
const DEFAULT_SPSS: u32 = 3;
/// Default search range without `start`: the last hour.
const DEFAULT_LOOKBACK: u64 = 3_600_000_000_000;
/// Most pages of one alternative read while trace-level conditions (root, trace duration) drop traces.
const MAX_PAGES: usize = 20;
/// The intrinsics offered for autocomplete.
const INTRINSICS: [&str; 7] = ["duration", "kind", "name", "rootName", "rootServiceName", "status", "traceDuration"];

/// The Tempo routes, relative to `/tempo`.
pub fn routes() -> Router<QueryState> {
    Router::new()
        .route("/api/echo", get(echo))
        .route("/api/v2/traces/{trace_id}", get(trace_v2))
        .route("/api/traces/{trace_id}", get(trace_v1))
        .route("/api/search", get(search))
        .route("/api/v2/search/tags", get(tags))
        .route("/api/v2/search/tag/{tag}/values", get(tag_values))
}

/// Any other path under `/tempo`: 404 as Tempo answers it.
pub async fn not_found() -> TempoError {
    TempoError(ApiError::NotFound("no such Tempo endpoint; see docs/grafana.md for the supported ones".into()))
}

/// An error as Tempo writes it: the message as plain text.
pub struct TempoError(ApiError);

impl From<ApiError> for TempoError {
    fn from(e: ApiError) -> Self {
        TempoError(e)
    }
}

impl From<traceql::ParseError> for TempoError {
    fn from(e: traceql::ParseError) -> Self {
        TempoError(ApiError::bad("q", e.to_string()))
    }
}

impl IntoResponse for TempoError {
    fn into_response(self) -> Response {
        let message = match &self.0 {
            ApiError::NotFound(m) => m.clone(),
            other => super::public_message(other),
        };
        (self.0.status(), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
    }
}

async fn echo() -> &'static str {
    "echo"
}

fn wants_protobuf(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|v| v.to_str().is_ok_and(|s| s.contains("application/protobuf")))
}

fn protobuf(bytes: Vec<u8>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/protobuf")], bytes).into_response()
}

fn json_answer(v: Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// `GET /api/v2/traces/{id}`: `TraceByIDResponse`; `start` and `end` are hints and not needed.
async fn trace_v2(st: State<QueryState>, id: Path<String>, headers: HeaderMap) -> Result<Response, TempoError> {
    trace(st, id, headers, true).await
}

/// `GET /api/traces/{id}`: `Trace` (the bytes of OTLP `TracesData`), or OTLP JSON.
async fn trace_v1(st: State<QueryState>, id: Path<String>, headers: HeaderMap) -> Result<Response, TempoError> {
    trace(st, id, headers, false).await
}

/// A trace as protobuf when the client accepts it (wrapped in a `TraceByIDResponse` for `v2`), else JSON.
async fn trace(
    State(st): State<QueryState>,
    Path(trace_id): Path<String>,
    headers: HeaderMap,
    v2: bool,
) -> Result<Response, TempoError> {
    let id = cp::trace_id("traceID", &trace_id)?;
    let resource_spans = super::load_trace(&st, &id).await?;
    let trace = Trace { resource_spans };
    Ok(match (wants_protobuf(&headers), v2) {
        (true, true) => {
            let resp = TraceByIdResponse {
                trace: Some(trace),
                metrics: None,
                status: PartialStatus::Complete as i32,
                message: String::new(),
            };
            protobuf(resp.encode_to_vec())
        }
        (true, false) => protobuf(trace.encode_to_vec()),
        (false, true) => json_answer(json!({"trace": traces::otlp_json(trace.resource_spans)?})),
        (false, false) => json_answer(traces::otlp_json(trace.resource_spans)?),
    })
}

/// `start` / `end` in unix seconds as a window (`end` inclusive); `start` defaults to an hour before `end`.
fn seconds_window(st: &QueryState, p: &Params) -> Result<Option<crate::query::params::Window>, ApiError> {
    let start = p.one("start")?.map(|v| cp::epoch("start", v, 1_000_000_000)).transpose()?;
    let end = p.one("end")?.map(|v| cp::epoch("end", v, 1_000_000_000)).transpose()?;
    if start.is_none() && end.is_none() {
        return Ok(None);
    }
    let end = end.unwrap_or_else(crate::time::now_unix_nanos).saturating_add(1_000_000_000);
    let start = start.unwrap_or_else(|| end.saturating_sub(DEFAULT_LOOKBACK));
    cp::window(start, end, st.options.max_window_nanos, "end").map(Some)
}

/// Splits logfmt (`a=b c="d e"`) into pairs.
fn logfmt(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    let bad = |m: &str| ApiError::bad("tags", format!("{text:?}: {m}; expected logfmt such as service.name=api"));
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        if chars.next() != Some('=') || key.is_empty() {
            return Err(bad("a pair without `=`"));
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => value.push(chars.next().ok_or_else(|| bad("unterminated quote"))?),
                    Some(c) => value.push(c),
                    None => return Err(bad("unterminated quote")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(c);
            }
        }
        out.push((key, value));
    }
}

/// Adds a tags-mode `key=value` to `q`: `name`, `service.name` and `status` are the span's; `span.` and
/// `resource.` prefixes choose the level; other keys are span attributes (Jaeger's reading, as in
/// [`super::apply_jaeger_tag`]).
fn apply_tempo_tag(q: &mut TraceQuery, key: &str, value: &str) -> Result<(), ApiError> {
    match key {
        "name" => q.name = Some(value.to_owned()),
        "service.name" | "resource.service.name" => q.service = Some(value.to_owned()),
        "status" | "status.code" => {
            q.status = Some(
                super::status_value(value.trim_start_matches("STATUS_CODE_"))
                    .ok_or_else(|| ApiError::bad("tags", format!("status={value:?}: use error, ok or unset")))?,
            )
        }
        _ => match key.strip_prefix("span.") {
            Some(k) if k != "kind" && k != "status" => q.attrs.push(AttrFilter {
                scope: AttrScope::Record,
                key: k.to_owned(),
                op: Op::Eq,
                value: value.to_owned(),
            }),
            _ => super::apply_jaeger_tag(q, "tags", key, value)?,
        },
    }
    Ok(())
}

/// `GET /api/search`: tags mode (`tags`, `minDuration`, `maxDuration`) or TraceQL (`q`); `limit`, `spss`,
/// `start` / `end` in unix seconds.
async fn search(State(st): State<QueryState>, p: Params) -> Result<Response, TempoError> {
    let limit = match p.one("limit")? {
        None => DEFAULT_LIMIT,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => n.min(st.options.max_limit),
            _ => return Err(ApiError::bad("limit", format!("{v:?}: limit must be a positive integer")).into()),
        },
    };
    let spss = match p.one("spss")? {
        None => DEFAULT_SPSS,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => n.min(st.options.max_limit),
            _ => return Err(ApiError::bad("spss", format!("{v:?}: spss must be a positive integer")).into()),
        },
    };
    let window = match seconds_window(&st, &p)? {
        Some(w) => w,
        None => {
            let to = crate::time::now_unix_nanos();
            crate::query::params::Window { from: to.saturating_sub(DEFAULT_LOOKBACK), to }
        }
    };
    let mut base = TraceQuery::new(window, limit);
    base.matched_spans = spss;
    base.service_stats = true;
    let plans = match (p.one("q")?, p.one("tags")?) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad("q", "q (TraceQL) and tags cannot be used together").into());
        }
        (Some(ql), None) => traceql::plans(ql, &base)?,
        (None, tags) => {
            for (k, v) in logfmt(tags.unwrap_or(""))? {
                apply_tempo_tag(&mut base, &k, &v)?;
            }
            base.min_duration = p.one("minDuration")?.map(|v| cp::go_duration("minDuration", v)).transpose()?;
            base.max_duration = p.one("maxDuration")?.map(|v| cp::go_duration("maxDuration", v)).transpose()?;
            vec![traceql::Plan { query: base, trace: Vec::new() }]
        }
    };
    let mut found: HashMap<Vec<u8>, TraceSummary> = HashMap::new();
    for mut plan in plans {
        let mut kept = 0;
        for _ in 0..MAX_PAGES {
            let page = traces::find_traces(&st, &plan.query).await?;
            for t in page.traces {
                if !traceql::trace_matches(&plan.trace, &t) {
                    continue;
                }
                kept += 1;
                match found.get_mut(&t.trace_id) {
                    Some(have) => {
                        for m in t.matched {
                            if !have.matched.iter().any(|h| h.span_id == m.span_id) {
                                have.matched.push(m);
                            }
                        }
                    }
                    None => {
                        found.insert(t.trace_id.clone(), t);
                    }
                }
            }
            match page.next_cursor {
                Some(c) if kept < limit && !plan.trace.is_empty() => plan.query.cursor = Some(c),
                _ => break,
            }
        }
    }
    let mut all: Vec<TraceSummary> = found.into_values().collect();
    all.sort_by(|a, b| (b.start_ns, &b.trace_id).cmp(&(a.start_ns, &a.trace_id)));
    all.truncate(limit as usize);
    let traces: Vec<Value> = all.iter().map(|t| search_metadata(t, spss)).collect();
    let n = traces.len();
    Ok(json_answer(json!({"traces": traces, "metrics": {"inspectedTraces": n, "completedJobs": 1, "totalJobs": 1}})))
}

/// `TraceSearchMetadata` in Tempo's JSON (64-bit integers as strings, as gogo's jsonpb writes them).
fn search_metadata(t: &TraceSummary, spss: u32) -> Value {
    let mut matched = t.matched.clone();
    matched.sort_by_key(|m| m.start_ns);
    let spans: Vec<Value> = matched
        .iter()
        .take(spss as usize)
        .map(|m| {
            json!({
                "spanID": ids::to_hex(&m.span_id),
                "name": m.name,
                "startTimeUnixNano": m.start_ns.to_string(),
                "durationNanos": m.duration_ns.to_string(),
                "attributes": [],
            })
        })
        .collect();
    let set = json!({"spans": spans, "matched": matched.len()});
    let stats: Map<String, Value> = t
        .service_stats
        .iter()
        .map(|(name, spans, errors)| (name.clone(), json!({"spanCount": spans, "errorCount": errors})))
        .collect();
    json!({
        "traceID": cp::tempo_trace_id(&t.trace_id),
        "rootServiceName": t.root_service.clone().unwrap_or_else(|| "<root span not yet received>".into()),
        "rootTraceName": t.root_name.clone().unwrap_or_default(),
        "startTimeUnixNano": t.start_ns.to_string(),
        "durationMs": u32::try_from(t.duration_ns / 1_000_000).unwrap_or(u32::MAX),
        "spanSet": set,
        "spanSets": [set],
        "serviceStats": stats,
    })
}

/// The window parameters of the attribute listings, from Tempo's `start` / `end`.
fn listing_params(st: &QueryState, p: &Params, extra: &[(&str, &str)]) -> Result<Params, ApiError> {
    let mut pairs: Vec<(String, String)> = extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    if let Some(w) = seconds_window(st, p)? {
        pairs.push(("from".into(), w.from.to_string()));
        pairs.push(("to".into(), w.to.to_string()));
    }
    Ok(Params::from_pairs(pairs))
}

/// `GET /api/v2/search/tags`: attribute keys by scope (resource, span) and the intrinsics.
async fn tags(State(st): State<QueryState>, p: Params) -> Result<Response, TempoError> {
    let only = p.one("scope")?;
    let mut scopes = Vec::new();
    for (scope, level) in [("resource", "resource"), ("span", "record")] {
        if only.is_some_and(|o| o != scope && o != "all") {
            continue;
        }
        let params = listing_params(&st, &p, &[("signal", "traces"), ("level", level)])?;
        let v = crate::query::attribute_keys::keys(State(st.clone()), params).await?.0;
        let tags: Vec<Value> =
            v["keys"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().map(|k| k["key"].clone()).collect();
        scopes.push(json!({"name": scope, "tags": tags}));
    }
    if only.is_none_or(|o| o == "intrinsic" || o == "all") {
        scopes.push(json!({"name": "intrinsic", "tags": INTRINSICS}));
    }
    Ok(json_answer(json!({"scopes": scopes})))
}

fn keywords(names: &[&str]) -> Vec<Value> {
    names.iter().map(|n| json!({"type": "keyword", "value": n.to_ascii_lowercase()})).collect()
}

/// `GET /api/v2/search/tag/{scope.tag}/values`: values of an attribute or intrinsic, typed.
async fn tag_values(State(st): State<QueryState>, Path(tag): Path<String>, p: Params) -> Result<Response, TempoError> {
    crate::query::params::text("tag", &tag)?;
    let strings =
        |v: Vec<String>| -> Vec<Value> { v.into_iter().map(|s| json!({"type": "string", "value": s})).collect() };
    let values: Vec<Value> = match tag.as_str() {
        "status" | "span:status" => keywords(&STATUS_CODE.short_names()),
        "kind" | "span:kind" => keywords(&SPAN_KIND.short_names()),
        "resource.service.name" | "rootServiceName" | "trace:rootService" => strings(super::service_names(&st).await?),
        "name" | "span:name" | "rootName" | "trace:rootName" => {
            let mut names = Vec::new();
            for s in super::service_names(&st).await? {
                names.extend(super::operations(&st, &s).await?.into_iter().map(|(n, _)| n));
            }
            names.sort();
            names.dedup();
            strings(names)
        }
        _ => {
            let (level, key) = if let Some(k) = tag.strip_prefix("resource.") {
                ("resource", k)
            } else if let Some(k) = tag.strip_prefix("span.").or_else(|| tag.strip_prefix('.')) {
                ("record", k)
            } else {
                return Err(ApiError::bad(
                    "tag",
                    format!("{tag:?}: name a tag as resource.<key>, span.<key> or an intrinsic"),
                )
                .into());
            };
            let params = listing_params(&st, &p, &[("signal", "traces"), ("level", level)])?;
            let v = crate::query::attribute_keys::values(State(st.clone()), Path(key.to_owned()), params).await?.0;
            v["values"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter_map(|x| {
                    let v = &x["value"];
                    let (ty, text) = match v {
                        Value::String(s) => ("string", s.clone()),
                        Value::Bool(b) => ("bool", b.to_string()),
                        Value::Number(n) if n.is_i64() || n.is_u64() => ("int", n.to_string()),
                        Value::Number(n) => ("float", n.to_string()),
                        _ => return None,
                    };
                    Some(json!({"type": ty, "value": text}))
                })
                .collect()
        }
    };
    Ok(json_answer(json!({"tagValues": values})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_pairs() {
        assert_eq!(
            logfmt(r#" service.name=api  http.route="/a b" q="x\"y" "#).unwrap(),
            vec![
                ("service.name".to_string(), "api".to_string()),
                ("http.route".to_string(), "/a b".to_string()),
                ("q".to_string(), "x\"y".to_string()),
            ]
        );
        assert!(logfmt("").unwrap().is_empty());
        assert!(logfmt("novalue").is_err());
        assert!(logfmt("a=\"open").is_err());
        assert!(logfmt("=x").is_err());
    }
}
