//! Opaque keyset cursors: the sort key of the last row of a page, tagged with the listing it belongs to,
//! as base64url JSON. Clients pass it back unchanged; a cursor from another listing or a damaged one is a
//! 400 naming `cursor`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::error::ApiError;
use super::params::Params;

/// Encodes the sort key `key` of listing `kind` as an opaque cursor.
pub fn encode(kind: &str, key: &[Value]) -> String {
    let mut all = Vec::with_capacity(key.len() + 2);
    all.push(Value::from(1));
    all.push(Value::from(kind));
    all.extend_from_slice(key);
    URL_SAFE_NO_PAD.encode(Value::Array(all).to_string())
}

/// Decodes a cursor of listing `kind` into its sort key.
pub fn decode(kind: &str, text: &str) -> Result<Vec<Value>, ApiError> {
    let bad = || ApiError::bad("cursor", "not a cursor returned by this listing; start again without one");
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
    let Ok(Value::Array(mut all)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(bad());
    };
    if all.len() < 2 || all[0] != 1 || all[1] != kind {
        return Err(bad());
    }
    Ok(all.split_off(2))
}

/// The `cursor` parameter of listing `kind`, decoded.
pub fn from_params(p: &Params, kind: &str) -> Result<Option<Vec<Value>>, ApiError> {
    p.one("cursor")?.map(|c| decode(kind, c)).transpose()
}

/// An i64 part of a decoded cursor.
pub fn int(key: &[Value], i: usize) -> Result<i64, ApiError> {
    key.get(i).and_then(Value::as_i64).ok_or_else(|| ApiError::bad("cursor", "damaged cursor; start again without one"))
}

/// A string part of a decoded cursor.
pub fn string(key: &[Value], i: usize) -> Result<String, ApiError> {
    key.get(i)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad("cursor", "damaged cursor; start again without one"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = encode("logs", &[Value::from(17), Value::from("ab|c")]);
        assert!(c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
        let key = decode("logs", &c).unwrap();
        assert_eq!(int(&key, 0).unwrap(), 17);
        assert_eq!(string(&key, 1).unwrap(), "ab|c");
        assert!(decode("traces", &c).is_err());
        assert!(decode("logs", "not base64!").is_err());
        assert!(decode("logs", &URL_SAFE_NO_PAD.encode("{}")).is_err());
        assert!(int(&key, 1).is_err());
        assert!(string(&key, 5).is_err());
    }
}
