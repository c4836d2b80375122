//! Hostile-input checks: each function runs arbitrary bytes through one of the product's parsers, as the
//! server would, and panics only when an invariant the server relies on is broken (never on bad input, which
//! must come back as an error). The fuzz targets under `fuzz/` and the corpus replay test call these, so a
//! fuzzer finding and its regression test exercise the same code.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::normalize::{self, FactIds, Ids, Promotion};
use crate::otlp::{self, DecodeError, OtlpRequest, Signal, validate::Validate};
use crate::query::params::{self, AttrScope, Op, Params};
use crate::query::{cursor, error::ApiError};
use crate::receive::decompress::{DecompressError, decompress as decompress_body};
use crate::time;

/// The decompressed-size limit used by [`decompress`]: small, so that bombs reach it within a fuzz input.
pub const DECOMPRESS_LIMIT: usize = 64 * 1024;

/// The signal a leading selector byte names (`byte % 3`: traces, logs, metrics), and the rest of the input.
pub fn split_signal(data: &[u8]) -> Option<(Signal, &[u8])> {
    let (first, rest) = data.split_first()?;
    let signal = match first % 3 {
        0 => Signal::Traces,
        1 => Signal::Logs,
        _ => Signal::Metrics,
    };
    Some((signal, rest))
}

/// Which decoder [`request`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/x-protobuf` and gRPC.
    Protobuf,
    /// `application/json` (the lenient OTLP/JSON decoder).
    Json,
}

/// Decodes `bytes` as an export request of `signal` and validates it, as the receivers do; checks the item
/// accounting of the answer. Returns the validated request re-encoded as protobuf (what the WAL would hold), or
/// `None` when the request is refused as a whole or nothing in it is kept.
pub fn request(signal: Signal, body: Body, bytes: &[u8]) -> Option<Vec<u8>> {
    match signal {
        Signal::Traces => request_of::<ExportTraceServiceRequest>(body, bytes),
        Signal::Logs => request_of::<ExportLogsServiceRequest>(body, bytes),
        Signal::Metrics => request_of::<ExportMetricsServiceRequest>(body, bytes),
    }
}

fn request_of<T: OtlpRequest + Validate>(body: Body, bytes: &[u8]) -> Option<Vec<u8>> {
    let decoded: Result<T, DecodeError> = match body {
        Body::Protobuf => otlp::decode_protobuf(bytes),
        Body::Json => otlp::decode_json(bytes),
    };
    let req = match decoded {
        Ok(req) => req,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "a decode error must say what is wrong");
            return None;
        }
    };
    let received = req.item_count();
    let validated = otlp::validate(req);
    let kept = validated.request.item_count();
    assert_eq!(kept + validated.rejected, received, "every item is either kept or counted as rejected");
    assert!(validated.rejected == 0 || !validated.message.is_empty(), "a rejection is explained");
    let response = validated.response();
    let _ = response.to_json();
    if kept == 0 {
        return None;
    }
    let payload = validated.request.encode_to_vec();
    // The WAL payload must decode again to the same request, or the writer would see something else.
    let again: T = otlp::decode_protobuf(&payload).expect("a validated request re-encodes to a decodable payload");
    assert!(again.encode_to_vec() == payload, "a validated request survives its protobuf round trip unchanged");
    Some(payload)
}

/// The invariant behind every acknowledgement: a request that decoding and validation accept becomes COPY
/// streams. Panics, naming the problem, when normalization refuses or fails on what validation accepted.
pub fn normalize(signal: Signal, body: Body, bytes: &[u8]) {
    let Some(payload) = request(signal, body, bytes) else {
        return;
    };
    let record =
        wal::Record { seq: 1, kind: signal.wal_kind(), received_at_unix_nanos: 1_764_172_800_000_000_000, payload };
    let promotion = Promotion::defaults();
    let prepared = normalize::prepare(&[record], &promotion);
    if let Some((_, why)) = prepared.failures().first() {
        panic!("validation accepted a request that normalization refuses: {why}");
    }
    let ids = placeholder_ids(&prepared);
    if let Err(e) = normalize::encode(&prepared, &ids, &promotion) {
        panic!("validation accepted a request that cannot be encoded: {e}");
    }
}

/// Ids for every dimension, key and fact of a prepared batch, as the writer would resolve them (distinct
/// arbitrary values; encoding only copies them).
pub fn placeholder_ids(prepared: &normalize::PreparedBatch) -> Ids {
    Ids {
        resources: prepared.resources().iter().zip(100..).map(|(d, id)| (d.hash, id)).collect(),
        scopes: prepared.scopes().iter().zip(200..).map(|(d, id)| (d.hash, id)).collect(),
        metrics: prepared.metrics().iter().zip(300..).map(|(d, id)| (d.hash, id)).collect(),
        keys: prepared.keys().iter().zip(1..).map(|(k, id)| (k.clone(), id)).collect(),
        facts: FactIds { blocks: (0..FactIds::blocks_needed(prepared.counts().ids())).map(|b| 7 + b as i64).collect() },
    }
}

/// Content-Encodings tried by [`decompress`], chosen by the first input byte.
const ENCODINGS: [&str; 8] = ["", "identity", "gzip", "x-gzip", "deflate", "zstd", " GZIP ", "br"];

/// The request decompression path against [`DECOMPRESS_LIMIT`]. Input: a mode byte, an encoding byte, then
/// data. Mode 0 decompresses the data as sent (hostile compressed streams); otherwise the data repeated
/// `mode` times is compressed first and must come back exactly, or as too large when it exceeds the limit
/// (bombs up to 255 times the input).
pub fn decompress(data: &[u8]) -> Option<()> {
    let (&mode, rest) = data.split_first()?;
    let (&enc, payload) = rest.split_first()?;
    let encoding = ENCODINGS[enc as usize % ENCODINGS.len()];
    if mode == 0 {
        match decompress_body(encoding, Bytes::copy_from_slice(payload), DECOMPRESS_LIMIT) {
            Ok(out) => {
                assert!(out.len() <= DECOMPRESS_LIMIT, "output beyond the limit: {}", out.len());
                if encoding.trim().is_empty() || encoding == "identity" {
                    assert_eq!(&out[..], payload, "identity returns the body unchanged");
                }
            }
            Err(DecompressError::Unsupported(e)) => assert_eq!(encoding, "br", "{e} is supported"),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        return Some(());
    }
    let plain = payload.repeat(mode as usize);
    let compressed = compress(encoding.trim(), &plain)?;
    match decompress_body(encoding, Bytes::from(compressed), DECOMPRESS_LIMIT) {
        Ok(out) => {
            // An uncompressed body is bounded earlier, while it is received.
            let identity = matches!(encoding.trim(), "" | "identity");
            assert!(identity || plain.len() <= DECOMPRESS_LIMIT, "{} bytes passed the limit", plain.len());
            assert!(out[..] == plain[..], "{encoding} round trip changed the body");
        }
        Err(DecompressError::TooLarge { limit }) => {
            assert_eq!(limit, DECOMPRESS_LIMIT);
            assert!(plain.len() > limit, "{} bytes refused as beyond {limit}", plain.len());
        }
        Err(e) => panic!("a valid {encoding} stream of {} bytes was refused: {e}", plain.len()),
    }
    Some(())
}

fn compress(encoding: &str, plain: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let gzip = |p: &[u8]| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(p).ok()?;
        enc.finish().ok()
    };
    match encoding.to_ascii_lowercase().as_str() {
        "" | "identity" => Some(plain.to_vec()),
        "gzip" | "x-gzip" => gzip(plain),
        "deflate" => {
            let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(plain).ok()?;
            enc.finish().ok()
        }
        "zstd" => zstd::stream::encode_all(plain, 1).ok(),
        _ => None,
    }
}

/// Listing kinds whose cursors [`query_params`] decodes.
const CURSOR_KINDS: [&str; 4] = ["logs", "spans", "metrics", "series"];

/// Every query parameter parser over a query string built from the input (`&`-separated `name=value` pairs,
/// no percent-decoding, so any text reaches the parsers), plus the raw input given to each text parser.
pub fn query_params(data: &[u8]) -> Option<()> {
    let text = std::str::from_utf8(data).ok()?;
    let pairs: Vec<(String, String)> = text
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let p = Params::from_pairs(pairs);
    for max_width in [3_600_000_000_000, u64::MAX] {
        for required in [false, true] {
            if let Ok(Some(w)) = params::window(&p, required, max_width) {
                assert!(w.to > w.from && w.width() <= max_width, "window {w:?}");
                assert!(w.from_ts() <= w.to_ts());
            }
        }
    }
    if let Ok(n) = params::limit(&p, 100, 1000) {
        assert!((1..=1000).contains(&n));
    }
    for name in ["step", "min_duration", "max_duration"] {
        let _ = params::duration(&p, name);
    }
    if let Ok(Some(kind)) = params::span_kind(&p) {
        assert!((0..6).contains(&kind), "span kind {kind}");
    }
    if let Ok(Some(code)) = params::status_code(&p) {
        assert!((0..3).contains(&code), "status code {code}");
    }
    if let Ok(Some(severity)) = params::min_severity(&p) {
        assert!((1..=24).contains(&severity), "severity {severity}");
    }
    if let Ok(filters) = params::attr_filters(&p) {
        filters.iter().for_each(check_filter);
    }
    for kind in CURSOR_KINDS {
        if let Ok(Some(key)) = cursor::from_params(&p, kind) {
            check_cursor(kind, &key);
        }
    }
    for value in p.all("trace_id") {
        let _ = params::trace_id("trace_id", value);
    }
    for value in p.all("span_id") {
        let _ = params::span_id("span_id", value);
    }
    // The whole input to each text parser too.
    let _ = params::text("q", text);
    if let Ok(f) = params::parse_attr_filter("attr", AttrScope::Record, text) {
        check_filter(&f);
    }
    if let Ok(nanos) = time::parse_time(text) {
        assert!(nanos <= time::MAX_UNIX_NANOS);
        let _ = params::nanos_floor_ts(nanos);
    }
    if let Ok(nanos) = params::parse_duration(text) {
        let shown = params::human_duration(nanos);
        assert_eq!(params::parse_duration(&shown), Ok(nanos), "{shown} reads back as {nanos} ns");
    }
    for kind in CURSOR_KINDS {
        if let Ok(key) = cursor::decode(kind, text) {
            check_cursor(kind, &key);
        }
    }
    let _ = crate::ids::parse_trace_id(text);
    let _ = crate::ids::parse_span_id(text);
    Some(())
}

fn check_filter(f: &params::AttrFilter) {
    assert!(!f.key.is_empty(), "{f:?}");
    assert_eq!(f.op == Op::Exists, f.value.is_empty(), "{f:?}");
}

fn check_cursor(kind: &str, key: &[serde_json::Value]) {
    let again = cursor::decode(kind, &cursor::encode(kind, key));
    assert!(matches!(&again, Ok(k) if k == key), "cursor round trip: {key:?} -> {again:?}");
    for i in 0..key.len() + 1 {
        let _: Result<i64, ApiError> = cursor::int(key, i);
        let _: Result<String, ApiError> = cursor::string(key, i);
    }
}
