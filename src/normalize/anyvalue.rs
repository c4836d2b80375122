//! THE typed JSON encoding of OTLP `AnyValue`s and attribute lists, used by every `_other` JSONB column,
//! `otel_logs_fact.body_json`, exemplar `filtered_attributes` and metric `metadata`, and its decoder.
//!
//! Encoding (chosen so that the value type survives a trip through PostgreSQL `jsonb`):
//! - string -> JSON string; bool -> JSON bool; int -> JSON integer (no '.', no exponent);
//! - double -> JSON number in plain decimal notation that always contains a '.' (`2.0`, `0.0000001`,
//!   `1000000000000000000000.0`). Not scientific notation: jsonb stores numbers as `numeric` and prints
//!   `1e300` back as an integer, while it keeps the scale of `2.0`. NaN, +Inf, -Inf and -0.0, which `numeric`
//!   cannot hold, are tagged: `{"double": "NaN" | "Infinity" | "-Infinity" | "-0.0"}`;
//! - bytes -> `{"bytes": "<standard base64 with padding>"}`;
//! - array -> JSON array of encoded values; kvlist -> `{"kvlist": {key: value, ...}}`;
//! - empty AnyValue (no value set, or the profiles-only `string_value_strindex`) -> `null`;
//! - attribute list -> JSON object key -> encoded value (a repeated key: the last one wins, as in jsonb).
//!
//! Every JSON object in value position is therefore a one-key tag, which keeps decoding unambiguous.
//! The decoder parses the JSON text itself (rather than via `serde_json::Value`) so that doubles are read
//! with Rust's correctly rounded parser and integers are never confused with doubles.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use std::io::Write as _;

/// Deepest JSON nesting the decoder accepts (a kvlist level costs two): bounds recursion on stored data.
const MAX_JSON_DEPTH: usize = 128;

/// Why typed JSON could not be decoded back into OTLP values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid typed attribute JSON at byte {offset}: {reason}")]
pub struct JsonDecodeError {
    /// Byte offset in the JSON text where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

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

/// Decodes the typed JSON encoding of one value.
pub fn any_value_from_json(text: &str) -> Result<AnyValue, JsonDecodeError> {
    let mut p = Parser::new(text);
    let v = p.value(0)?;
    p.end()?;
    Ok(v)
}

/// Decodes a typed JSON object back into an attribute list (in the object's order).
pub fn attributes_from_json(text: &str) -> Result<Vec<KeyValue>, JsonDecodeError> {
    let mut p = Parser::new(text);
    p.skip_ws();
    let kvs = p.object_members(0)?;
    p.end()?;
    Ok(kvs)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, bytes: text.as_bytes(), pos: 0 }
    }

    fn err<T>(&self, reason: impl Into<String>) -> Result<T, JsonDecodeError> {
        Err(JsonDecodeError { offset: self.pos, reason: reason.into() })
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonDecodeError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(format!("expected '{}'", b as char))
        }
    }

    fn end(&mut self) -> Result<(), JsonDecodeError> {
        if self.peek().is_some() {
            return self.err("unexpected text after the value");
        }
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Result<(), JsonDecodeError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    fn value(&mut self, depth: usize) -> Result<AnyValue, JsonDecodeError> {
        if depth > MAX_JSON_DEPTH {
            return self.err("nested too deep");
        }
        let value = match self.peek() {
            None => return self.err("unexpected end of input"),
            Some(b'n') => {
                self.literal("null")?;
                None
            }
            Some(b't') => {
                self.literal("true")?;
                Some(Value::BoolValue(true))
            }
            Some(b'f') => {
                self.literal("false")?;
                Some(Value::BoolValue(false))
            }
            Some(b'"') => Some(Value::StringValue(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut values = Vec::new();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        values.push(self.value(depth + 1)?);
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err("expected ',' or ']'"),
                        }
                    }
                }
                Some(Value::ArrayValue(ArrayValue { values }))
            }
            Some(b'{') => Some(self.tagged(depth)?),
            Some(b'-' | b'0'..=b'9') => Some(self.number()?),
            Some(_) => return self.err("unexpected character"),
        };
        Ok(AnyValue { value })
    }

    /// A one-key tag object: bytes, kvlist or a special double.
    fn tagged(&mut self, depth: usize) -> Result<Value, JsonDecodeError> {
        self.expect(b'{')?;
        self.skip_ws();
        let tag_at = self.pos;
        let tag = self.string()?;
        self.expect(b':')?;
        let value = match tag.as_str() {
            "bytes" => {
                self.skip_ws();
                let at = self.pos;
                let text = self.string()?;
                match BASE64.decode(text.as_bytes()) {
                    Ok(b) => Value::BytesValue(b),
                    Err(e) => {
                        self.pos = at;
                        return self.err(format!("invalid base64 in bytes value: {e}"));
                    }
                }
            }
            "kvlist" => {
                self.skip_ws();
                Value::KvlistValue(KeyValueList { values: self.object_members(depth + 1)? })
            }
            "double" => {
                self.skip_ws();
                let at = self.pos;
                let d = match self.string()?.as_str() {
                    "NaN" => f64::NAN,
                    "Infinity" => f64::INFINITY,
                    "-Infinity" => f64::NEG_INFINITY,
                    "-0.0" => -0.0,
                    other => {
                        self.pos = at;
                        return self.err(format!("unknown special double {other:?}"));
                    }
                };
                Value::DoubleValue(d)
            }
            _ => {
                self.pos = tag_at;
                return self.err(format!("unknown tag {tag:?} (expected bytes, kvlist or double)"));
            }
        };
        self.expect(b'}')?;
        Ok(value)
    }

    /// A JSON object whose members are attribute keys and typed values.
    fn object_members(&mut self, depth: usize) -> Result<Vec<KeyValue>, JsonDecodeError> {
        if depth > MAX_JSON_DEPTH {
            return self.err("nested too deep");
        }
        self.expect(b'{')?;
        let mut kvs = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(kvs);
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            kvs.push(KeyValue { key, value: Some(value), ..Default::default() });
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(kvs);
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonDecodeError> {
        let start = self.pos;
        let mut is_float = false;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        if digits(self) == 0 {
            return self.err("invalid number");
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            is_float = true;
            self.pos += 1;
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            is_float = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        let text = &self.text[start..self.pos];
        if is_float {
            match text.parse::<f64>() {
                Ok(d) => Ok(Value::DoubleValue(d)),
                Err(e) => {
                    self.pos = start;
                    self.err(format!("invalid double: {e}"))
                }
            }
        } else {
            match text.parse::<i64>() {
                Ok(i) => Ok(Value::IntValue(i)),
                Err(_) => {
                    self.pos = start;
                    self.err("integer outside the int64 range")
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, JsonDecodeError> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return self.err("expected a string");
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            let from = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // `from..pos` stops only at ASCII bytes, so it is on char boundaries.
            out.push_str(&self.text[from..self.pos]);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.bytes.get(self.pos).copied();
                    self.pos += 1;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                        _ => {
                            self.pos -= 1;
                            return self.err("invalid escape");
                        }
                    }
                }
                Some(_) => return self.err("control character in string"),
                None => return self.err("unterminated string"),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonDecodeError> {
        let Some(hex) = self.text.get(self.pos..self.pos + 4) else {
            return self.err("truncated \\u escape");
        };
        match u32::from_str_radix(hex, 16) {
            Ok(v) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(v)
            }
            _ => self.err("invalid \\u escape"),
        }
    }

    fn unicode_escape(&mut self) -> Result<char, JsonDecodeError> {
        let first = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&first) {
            if !self.text[self.pos..].starts_with("\\u") {
                return self.err("unpaired surrogate");
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xdc00..0xe000).contains(&second) {
                return self.err("unpaired surrogate");
            }
            0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
        } else {
            first
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.err("unpaired surrogate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AnyValue {
        AnyValue { value: Some(Value::StringValue(v.to_string())) }
    }
    fn i(v: i64) -> AnyValue {
        AnyValue { value: Some(Value::IntValue(v)) }
    }
    fn d(v: f64) -> AnyValue {
        AnyValue { value: Some(Value::DoubleValue(v)) }
    }
    fn kv(k: &str, v: AnyValue) -> KeyValue {
        KeyValue { key: k.to_string(), value: Some(v), ..Default::default() }
    }
    fn arr(vs: Vec<AnyValue>) -> AnyValue {
        AnyValue { value: Some(Value::ArrayValue(ArrayValue { values: vs })) }
    }
    fn kvl(vs: Vec<KeyValue>) -> AnyValue {
        AnyValue { value: Some(Value::KvlistValue(KeyValueList { values: vs })) }
    }
    fn bytes(b: &[u8]) -> AnyValue {
        AnyValue { value: Some(Value::BytesValue(b.to_vec())) }
    }

    /// Compares doubles bit for bit (NaN == NaN, -0.0 != 0.0), which prost's PartialEq does not.
    fn same(a: &AnyValue, b: &AnyValue) -> bool {
        match (&a.value, &b.value) {
            (Some(Value::DoubleValue(x)), Some(Value::DoubleValue(y))) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (Some(Value::ArrayValue(x)), Some(Value::ArrayValue(y))) => {
                x.values.len() == y.values.len() && x.values.iter().zip(&y.values).all(|(a, b)| same(a, b))
            }
            (Some(Value::KvlistValue(x)), Some(Value::KvlistValue(y))) => same_kvs(&x.values, &y.values),
            _ => a == b,
        }
    }
    fn same_kvs(x: &[KeyValue], y: &[KeyValue]) -> bool {
        x.len() == y.len()
            && x.iter().zip(y).all(|(a, b)| {
                a.key == b.key
                    && same(
                        a.value.as_ref().unwrap_or(&AnyValue::default()),
                        b.value.as_ref().unwrap_or(&AnyValue::default()),
                    )
            })
    }

    fn round_trip(v: AnyValue) {
        let json = any_value_to_json(&v);
        let back = any_value_from_json(&json).unwrap();
        assert!(same(&v, &back), "{v:?} -> {json} -> {back:?}");
    }

    #[test]
    fn scalars_encode_as_documented() {
        assert_eq!(any_value_to_json(&s("a\"b\\c\n\u{1}é")), r#""a\"b\\c\n\u0001é""#);
        assert_eq!(any_value_to_json(&i(-5)), "-5");
        assert_eq!(any_value_to_json(&d(2.0)), "2.0");
        assert_eq!(any_value_to_json(&d(-1.5)), "-1.5");
        assert_eq!(any_value_to_json(&d(1e-7)), "0.0000001");
        assert_eq!(any_value_to_json(&d(1e21)), "1000000000000000000000.0");
        assert_eq!(any_value_to_json(&d(f64::NAN)), r#"{"double":"NaN"}"#);
        assert_eq!(any_value_to_json(&d(f64::INFINITY)), r#"{"double":"Infinity"}"#);
        assert_eq!(any_value_to_json(&d(f64::NEG_INFINITY)), r#"{"double":"-Infinity"}"#);
        assert_eq!(any_value_to_json(&d(-0.0)), r#"{"double":"-0.0"}"#);
        assert_eq!(any_value_to_json(&d(0.0)), "0.0");
        assert_eq!(any_value_to_json(&AnyValue { value: Some(Value::BoolValue(true)) }), "true");
        assert_eq!(any_value_to_json(&bytes(&[0, 1, 2, 255])), r#"{"bytes":"AAEC/w=="}"#);
        assert_eq!(any_value_to_json(&AnyValue::default()), "null");
        assert_eq!(any_value_to_json(&AnyValue { value: Some(Value::StringValueStrindex(3)) }), "null");
    }

    #[test]
    fn containers_encode_as_documented() {
        let v = kvl(vec![
            kv("a", arr(vec![i(1), d(1.0), s("x")])),
            kv("b", kvl(vec![])),
            KeyValue { key: "c".into(), value: None, ..Default::default() },
        ]);
        assert_eq!(any_value_to_json(&v), r#"{"kvlist":{"a":[1,1.0,"x"],"b":{"kvlist":{}},"c":null}}"#);
        assert_eq!(attributes_to_json(&[kv("k", s("v")), kv("n", i(2))]), r#"{"k":"v","n":2}"#);
        assert_eq!(attributes_to_json(&[]), "{}");
    }

    #[test]
    fn every_kind_round_trips() {
        for v in [
            s(""),
            s("plain"),
            s("unicode: 日本語 🚀 \u{0}\u{1f} \"quoted\" back\\slash"),
            i(0),
            i(i64::MIN),
            i(i64::MAX),
            d(0.0),
            d(-0.0),
            d(2.0),
            d(0.1),
            d(-123.456e-300),
            d(f64::MAX),
            d(f64::MIN_POSITIVE),
            d(5e-324),
            d(f64::NAN),
            d(f64::INFINITY),
            d(f64::NEG_INFINITY),
            AnyValue { value: Some(Value::BoolValue(false)) },
            bytes(&[]),
            bytes(&[0, 159, 146, 150, 255]),
            AnyValue::default(),
            arr(vec![]),
            kvl(vec![]),
            arr(vec![i(1), arr(vec![d(2.5), AnyValue::default()]), kvl(vec![kv("x", bytes(b"y"))])]),
            kvl(vec![
                kv("nested", kvl(vec![kv("deeper", kvl(vec![kv("n", d(f64::NAN))]))])),
                kv("ключ", s("значение")),
                kv("", s("empty key")),
            ]),
        ] {
            round_trip(v);
        }
    }

    #[test]
    fn random_doubles_round_trip_exactly() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            // xorshift: covers exponents and mantissas evenly by bits.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            round_trip(d(v));
        }
    }

    #[test]
    fn attribute_lists_round_trip_in_order() {
        let attrs = vec![kv("z", i(1)), kv("a", d(3.0)), kv("m", arr(vec![s("q")]))];
        let json = attributes_to_json(&attrs);
        assert!(same_kvs(&attrs, &attributes_from_json(&json).unwrap()));
    }

    #[test]
    fn decodes_postgres_jsonb_output_form() {
        // jsonb prints with spaces and reorders keys; the types must still come back.
        let back =
            attributes_from_json(r#"{"a": 2.0, "b": 2, "c": {"kvlist": {"x": [1, 1.50]}}, "d": {"bytes": "AQ=="}}"#)
                .unwrap();
        assert_eq!(back[0].value, Some(d(2.0)));
        assert_eq!(back[1].value, Some(i(2)));
        assert_eq!(back[2].value, Some(kvl(vec![kv("x", arr(vec![i(1), d(1.5)]))])));
        assert_eq!(back[3].value, Some(bytes(&[1])));
        // A scientific-notation number without a '.' is still a double.
        assert_eq!(any_value_from_json("1e3").unwrap(), d(1000.0));
        // Escapes a producer other than ours may use.
        assert_eq!(any_value_from_json(r#""\/\b\f\ud83d\ude80""#).unwrap(), s("/\u{8}\u{c}🚀"));
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{",
            "[1,",
            "\"abc",
            "01x",
            "-",
            "1.",
            "99999999999999999999",
            r#"{"unknown":1}"#,
            r#"{"bytes":"***"}"#,
            r#"{"double":"nope"}"#,
            r#"{"kvlist":[]}"#,
            r#""\ud800""#,
            r#""\x""#,
            "tru",
            "1 2",
            "\"a\u{1}\"",
        ] {
            assert!(any_value_from_json(bad).is_err(), "{bad:?} should fail");
        }
        assert!(attributes_from_json("[]").is_err());
        let deep = "[".repeat(500) + &"]".repeat(500);
        assert!(any_value_from_json(&deep).is_err());
    }
}
