//! Contract tests of the Jaeger (v1, v3) and Tempo query APIs: data goes in through the real normalize +
//! write path, requests go through the API port's router (in process), answers are checked field by field
//! against what Grafana's data sources and the Jaeger UI read.

mod jaeger_metrics;
mod jaeger_v1;
mod jaeger_v3;
mod tempo;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use ollyscale::api::{ApiState, router};
use ollyscale::query::QueryOptions;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Status;
use serde_json::Value;
use tower::ServiceExt;

pub use crate::api::{Case, MS, dataset, get, hex, ok, rs, sid, span, tid, url};
pub use crate::storage::{Env, T0, arr, env, i, kv, s};

/// Trace 4's id: the high 64 bits are zero, so Jaeger prints 16 hex digits and Tempo `ab`.
pub fn short_tid() -> Vec<u8> {
    let mut id = vec![0u8; 16];
    id[15] = 0xab;
    id
}

/// The API dataset (traces 1-3, see `crate::api::dataset`) plus trace 4: service `batch`, one CONSUMER span
/// "consume" at T0 + 3 s, 20 ms, status OK, trace state `vendor=x`, an int beyond 2^53 and an array.
pub fn compat_dataset() -> ExportTraceServiceRequest {
    let mut req = dataset();
    let mut consume = span(4, 1, None, "consume", 5, T0 + 3_000 * MS, 20 * MS, 1, vec![]);
    consume.trace_id = short_tid();
    consume.trace_state = "vendor=x".into();
    consume.status = Some(Status { code: 1, message: String::new() });
    consume.attributes = vec![kv("big", i(1 << 60)), kv("list", arr(vec![s("a"), i(1)]))];
    req.resource_spans.push(rs("batch", vec![], vec![consume]));
    req
}

/// A fresh database with [`compat_dataset`] loaded, and the API port's router on it. The widest window is a
/// year, so that listings without a time range (services, operations) reach the fixed test times.
pub async fn loaded() -> (Env, Router) {
    let env = env().await;
    let r = env.traces(&compat_dataset()).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let app = app(&env, None);
    (env, app)
}

/// The API port's router on `env`'s database, optionally requiring a bearer token.
pub fn app(env: &Env, token: Option<&str>) -> Router {
    let options = QueryOptions {
        max_window_nanos: 366 * 24 * 3_600_000_000_000,
        auth_token: token.map(str::to_owned),
        ..Default::default()
    };
    router(ApiState { pool: env.pool().clone(), ..Default::default() }, Some(options))
}

/// GET `uri` with `headers`: status, response headers, body.
pub async fn call(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap();
    (status, headers, bytes.to_vec())
}

/// The object of `list` whose `field` is `value`.
pub fn find<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|x| x[field] == value)
        .unwrap_or_else(|| panic!("no {field} = {value:?} in {list}"))
}

/// Microseconds of a nanosecond time, as a string parameter.
pub fn micros(nanos: u64) -> String {
    (nanos / 1_000).to_string()
}
