//! The typed JSON encoder: appends values and attribute lists to a buffer, or returns them as strings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use std::io::Write as _;

/// Appends the typed JSON encoding of `value` to `out`.
pub fn write_any_value(out: &mut Vec<u8>, value: &AnyValue) {
    write_value(out, value.value.as_ref());
}

/// Appends the typed JSON encoding of an optional `AnyValue` oneof (`None` -> `null`).
pub fn write_value(out: &mut Vec<u8>, value: Option<&Value>) {
    match value {
        None | Some(Value::StringValueStrindex(_)) => out.extend_from_slice(b"null"),
        Some(Value::StringValue(s)) => write_json_string(out, s),
        Some(Value::BoolValue(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Some(Value::IntValue(i)) => {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) => write_double(out, *d),
        Some(Value::BytesValue(b)) => {
            out.extend_from_slice(b"{\"bytes\":\"");
            let start = out.len();
            out.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
            let written = BASE64.encode_slice(b, &mut out[start..]).unwrap_or(0);
            out.truncate(start + written);
            out.extend_from_slice(b"\"}");
        }
        Some(Value::ArrayValue(a)) => {
            out.push(b'[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_any_value(out, v);
            }
            out.push(b']');
        }
        Some(Value::KvlistValue(kv)) => {
            out.extend_from_slice(b"{\"kvlist\":");
            write_attributes(out, &kv.values);
            out.push(b'}');
        }
    }
}

/// Appends an attribute list as a JSON object key -> typed value.
pub fn write_attributes(out: &mut Vec<u8>, attributes: &[KeyValue]) {
    out.push(b'{');
    for (i, kv) in attributes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_member(out, &kv.key, kv.value.as_ref());
    }
    out.push(b'}');
}

/// Appends one `"key":value` object member (without separators).
pub fn write_member(out: &mut Vec<u8>, key: &str, value: Option<&AnyValue>) {
    write_json_string(out, key);
    out.push(b':');
    write_value(out, value.and_then(|v| v.value.as_ref()));
}

/// The typed JSON encoding of `value` as a string.
pub fn any_value_to_json(value: &AnyValue) -> String {
    let mut out = Vec::new();
    write_any_value(&mut out, value);
    // The writer emits only UTF-8: JSON syntax, escaped str contents and base64.
    String::from_utf8(out).unwrap_or_default()
}

/// The typed JSON encoding of an attribute list (a JSON object) as a string.
pub fn attributes_to_json(attributes: &[KeyValue]) -> String {
    let mut out = Vec::new();
    write_attributes(&mut out, attributes);
    String::from_utf8(out).unwrap_or_default()
}

fn write_double(out: &mut Vec<u8>, d: f64) {
    if d.is_nan() {
        out.extend_from_slice(br#"{"double":"NaN"}"#);
    } else if d == f64::INFINITY {
        out.extend_from_slice(br#"{"double":"Infinity"}"#);
    } else if d == f64::NEG_INFINITY {
        out.extend_from_slice(br#"{"double":"-Infinity"}"#);
    } else if d == 0.0 && d.is_sign_negative() {
        out.extend_from_slice(br#"{"double":"-0.0"}"#);
    } else {
        let start = out.len();
        // Display prints the shortest digits that round-trip, never in scientific notation.
        let _ = write!(out, "{d}");
        if !out[start..].contains(&b'.') {
            out.extend_from_slice(b".0");
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain_from..i]);
        plain_from = i + 1;
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
    }
    out.extend_from_slice(&bytes[plain_from..]);
    out.push(b'"');
}
