//! OTLP/JSON: lenient decoding of export requests.
//!
//! Decoding is two passes. A schema-aware rewrite of the parsed `serde_json::Value` accepts what the OTel
//! Collector accepts and the stock `with-serde` support of opentelemetry-proto does not (snake_case field names,
//! enum names, empty `{"arrayValue":{}}` / `{"kvlistValue":{}}`, `null` for absent fields, 32-bit integers and
//! doubles as strings), checks every field's JSON type so errors name the field path, and bounds AnyValue
//! nesting. The stock deserializer then builds the prost types from the canonical form.
//!
//! Files: `schema.rs` describes each message's fields and their JSON forms, `rewrite.rs` is the first pass
//! over the parsed JSON, `nonfinite.rs` places non-finite doubles the `Value` could not hold into the typed
//! request.

use serde_json::Value;

use super::decode::DecodeError;
use super::{OtlpRequest, Signal};

mod nonfinite;
mod rewrite;
mod schema;

pub use nonfinite::SetDouble;
pub use rewrite::Seg;

use rewrite::Walker;
use schema::request_schema;

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

#[cfg(test)]
mod tests;
