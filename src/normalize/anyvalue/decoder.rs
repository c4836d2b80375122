//! The typed JSON decoder: a parser of its own, so doubles are read with Rust's correctly rounded parser
//! and integers are never confused with doubles.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};

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
