//! The rewrite pass: walks the parsed JSON along the schema, checks each field's JSON type (errors name
//! the field path), brings accepted variants into the canonical form and bounds AnyValue nesting.

use std::borrow::Cow;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::schema::{Kind, Required, Schema};
use crate::otlp::decode::{DecodeError, MAX_ANY_VALUE_DEPTH};
use crate::schema::OtlpEnum;

/// `trace_id` -> `traceId`; names without `_` are returned as they are.
fn lower_camel(key: &str) -> Cow<'_, str> {
    if !key.contains('_') {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One step of a field path in the JSON form of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// A field, by its lowerCamelCase JSON name.
    Key(&'static str),
    /// An element of a repeated field.
    Index(usize),
}

/// The rewrite pass's position in the request, and what it found that the `Value` cannot hold.
pub(super) struct Walker {
    /// The signal, named in errors.
    pub(super) signal: &'static str,
    /// Where in the request the walk is.
    pub(super) path: Vec<Seg>,
    /// Doubles given as "NaN" / "Infinity" / "-Infinity" in fields whose stock deserializer cannot take them.
    pub(super) nonfinite: Vec<(Vec<Seg>, f64)>,
}

impl Walker {
    fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// A decoding error at the current path.
    pub(super) fn err(&self, reason: String) -> DecodeError {
        DecodeError::Json { signal: self.signal, path: self.path_string(), reason }
    }

    /// Runs `f` with `seg` pushed on the path (popped again on success; on error the path is already reported).
    fn at<R>(&mut self, seg: Seg, f: impl FnOnce(&mut Self) -> Result<R, DecodeError>) -> Result<R, DecodeError> {
        self.path.push(seg);
        let out = f(self)?;
        self.path.pop();
        Ok(out)
    }

    fn object<'v>(&self, v: &'v mut Value, what: &str) -> Result<&'v mut Map<String, Value>, DecodeError> {
        match v {
            Value::Object(map) => Ok(map),
            other => Err(self.err(format!("expected a JSON object ({what}), got {}", type_name(other)))),
        }
    }

    fn array<'v>(&self, v: &'v mut Value, what: &str) -> Result<&'v mut Vec<Value>, DecodeError> {
        match v {
            Value::Array(items) => Ok(items),
            other => Err(self.err(format!("expected a JSON array ({what}), got {}", type_name(other)))),
        }
    }

    /// Checks and rewrites a message (JSON object) in place along `schema`.
    pub(super) fn message(&mut self, v: &mut Value, schema: &'static Schema) -> Result<(), DecodeError> {
        let map = self.object(v, schema.name)?;
        let fields = std::mem::take(map);
        let mut out = Map::new();
        for (key, mut value) in fields {
            // protojson: null means the field's default.
            if value.is_null() {
                continue;
            }
            let key = lower_camel(&key);
            // Unknown fields are ignored, as the OTLP/JSON specification requires.
            let Some(&(name, kind)) = schema.fields.iter().find(|(n, _)| *n == key) else {
                continue;
            };
            self.at(Seg::Key(name), |w| w.field(&mut value, kind))?;
            out.insert(name.to_owned(), value);
        }
        for &(name, required) in schema.required {
            out.entry(name).or_insert_with(|| match required {
                Required::EmptyString => Value::String(String::new()),
                Required::EmptyArray => Value::Array(Vec::new()),
            });
        }
        *v = Value::Object(out);
        Ok(())
    }

    fn field(&mut self, v: &mut Value, kind: Kind) -> Result<(), DecodeError> {
        match kind {
            Kind::Msg(schema) => self.message(v, schema),
            Kind::Msgs(schema) => self.each(v, schema.name, |w, item| w.message(item, schema)),
            Kind::Any => self.any_value(v, 1),
            Kind::Attrs => self.key_values(v, 1),
            Kind::Enum(def) => self.enumeration(v, def),
            Kind::U64 => self.integer(v, 0, u64::MAX as i128, "an unsigned 64-bit integer", false),
            Kind::U64s => self.each(v, "unsigned 64-bit integers", |w, item| {
                w.integer(item, 0, u64::MAX as i128, "an unsigned 64-bit integer", false)
            }),
            Kind::I64 => self.integer(v, i64::MIN as i128, i64::MAX as i128, "a signed 64-bit integer", false),
            Kind::U32 => self.integer(v, 0, u32::MAX as i128, "an unsigned 32-bit integer", true),
            Kind::I32 => self.integer(v, i32::MIN as i128, i32::MAX as i128, "a signed 32-bit integer", true),
            Kind::F64 => self.double(v, false),
            Kind::F64s => self.each(v, "doubles", |w, item| w.double(item, false)),
            Kind::F64Special => self.double(v, true),
            Kind::Str => match v {
                Value::String(_) => Ok(()),
                other => Err(self.err(format!("expected a string, got {}", type_name(other)))),
            },
            Kind::Strs => self.each(v, "strings", |w, item| w.field(item, Kind::Str)),
            Kind::Bool => match v {
                Value::Bool(_) => Ok(()),
                other => Err(self.err(format!("expected true or false, got {}", type_name(other)))),
            },
            Kind::Hex => self.hex(v),
        }
    }

    fn each(
        &mut self,
        v: &mut Value,
        what: &str,
        mut f: impl FnMut(&mut Self, &mut Value) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let items = self.array(v, what)?;
        for (i, item) in items.iter_mut().enumerate() {
            self.at(Seg::Index(i), |w| f(w, item))?;
        }
        Ok(())
    }

    fn enumeration(&mut self, v: &mut Value, def: &OtlpEnum) -> Result<(), DecodeError> {
        if let Value::String(name) = v {
            let number = def.value(name).or_else(|| def.value_of_short(&name.to_uppercase()));
            match number {
                Some(n) => *v = Value::from(n),
                None if name.parse::<i32>().is_ok() => {}
                None => {
                    return Err(self.err(format!(
                        "unknown {} {name:?} (expected an integer or a name such as {}...)",
                        def.name, def.prefix
                    )));
                }
            }
        }
        self.integer(v, i32::MIN as i128, i32::MAX as i128, &format!("a {} (integer or name)", def.name), true)
    }

    /// Checks an integer given as a number or a decimal string; `to_number` rewrites strings (and integral
    /// floats) as JSON integers for fields whose stock deserializer only takes numbers.
    fn integer(&mut self, v: &mut Value, min: i128, max: i128, what: &str, to_number: bool) -> Result<(), DecodeError> {
        let parsed: Option<i128> = match &*v {
            Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)).or_else(|| {
                // 1e3 or 5.0: integral doubles are integers in protojson.
                n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1.8e19).map(|f| f as i128)
            }),
            Value::String(s) => s.trim().parse::<i128>().ok(),
            _ => None,
        };
        let Some(n) = parsed else {
            return Err(self.err(format!("expected {what} (a number or a decimal string), got {}", describe(v))));
        };
        if n < min || n > max {
            return Err(self.err(format!("{n} is out of range for {what}")));
        }
        let is_int_number = matches!(&*v, Value::Number(x) if !x.is_f64());
        if to_number || !is_int_number {
            *v = if n < 0 { Value::from(n as i64) } else { Value::from(n as u64) };
        }
        Ok(())
    }

    fn double(&mut self, v: &mut Value, special_ok: bool) -> Result<(), DecodeError> {
        match &*v {
            Value::Number(_) => Ok(()),
            Value::String(s) => {
                let text = s.trim();
                let special = match text {
                    "NaN" => Some(f64::NAN),
                    "Infinity" => Some(f64::INFINITY),
                    "-Infinity" => Some(f64::NEG_INFINITY),
                    _ => None,
                };
                if let Some(x) = special {
                    if !special_ok {
                        // serde_json::Value cannot hold it: a placeholder now, the real value after decoding.
                        self.nonfinite.push((self.path.clone(), x));
                        *v = Value::from(0.0);
                    }
                    return Ok(());
                }
                match text.parse::<f64>() {
                    Ok(f) if f.is_finite() => {
                        // A finite f64 always converts.
                        if let Some(n) = Number::from_f64(f) {
                            *v = Value::Number(n);
                        }
                        Ok(())
                    }
                    _ => Err(self.err(format!(
                        "expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got the string {:?}",
                        truncate(s)
                    ))),
                }
            }
            other => Err(self.err(format!("expected a number, got {}", type_name(other)))),
        }
    }

    fn hex(&mut self, v: &mut Value) -> Result<(), DecodeError> {
        let Value::String(s) = v else {
            return Err(self.err(format!("expected a hex string, got {}", type_name(v))));
        };
        if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(self.err(format!("not hex: character {c:?} at position {i} of {s:?}")));
        }
        if s.len() % 2 != 0 {
            return Err(self.err(format!("odd number of hex digits ({}) in {s:?}", s.len())));
        }
        Ok(())
    }

    fn key_values(&mut self, v: &mut Value, depth: usize) -> Result<(), DecodeError> {
        self.each(v, "KeyValue list", |w, item| {
            let map = w.object(item, "KeyValue")?;
            let fields = std::mem::take(map);
            let mut out = Map::new();
            for (key, mut value) in fields {
                if value.is_null() {
                    continue;
                }
                match &*lower_camel(&key) {
                    "key" => {
                        w.at(Seg::Key("key"), |w| w.field(&mut value, Kind::Str))?;
                        out.insert("key".into(), value);
                    }
                    "value" => {
                        w.at(Seg::Key("value"), |w| w.any_value(&mut value, depth))?;
                        out.insert("value".into(), value);
                    }
                    _ => {}
                }
            }
            out.entry("key").or_insert_with(|| Value::String(String::new()));
            *item = Value::Object(out);
            Ok(())
        })
    }

    fn any_value(&mut self, v: &mut Value, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_ANY_VALUE_DEPTH {
            return Err(DecodeError::TooDeep { signal: self.signal, path: self.path_string() });
        }
        let map = self.object(v, "AnyValue")?;
        let fields = std::mem::take(map);
        let mut out = Map::new();
        for (key, mut value) in fields {
            if value.is_null() {
                continue;
            }
            let (name, kind) = match &*lower_camel(&key) {
                "stringValue" => ("stringValue", Kind::Str),
                "boolValue" => ("boolValue", Kind::Bool),
                "intValue" => ("intValue", Kind::I64),
                "doubleValue" => ("doubleValue", Kind::F64),
                "bytesValue" => {
                    self.at(Seg::Key("bytesValue"), |w| w.base64(&mut value))?;
                    out.insert("bytesValue".into(), value);
                    continue;
                }
                "arrayValue" => {
                    self.at(Seg::Key("arrayValue"), |w| {
                        w.list(&mut value, "ArrayValue", |w, values| {
                            w.each(values, "AnyValue list", |w, item| w.any_value(item, depth + 1))
                        })
                    })?;
                    out.insert("arrayValue".into(), value);
                    continue;
                }
                "kvlistValue" => {
                    self.at(Seg::Key("kvlistValue"), |w| {
                        w.list(&mut value, "KeyValueList", |w, values| w.key_values(values, depth + 1))
                    })?;
                    out.insert("kvlistValue".into(), value);
                    continue;
                }
                _ => continue,
            };
            self.at(Seg::Key(name), |w| w.field(&mut value, kind))?;
            out.insert(name.into(), value);
        }
        *v = Value::Object(out);
        Ok(())
    }

    /// An ArrayValue or KeyValueList object: `{}` and `{"values": null}` become `{"values": []}`.
    fn list(
        &mut self,
        v: &mut Value,
        what: &str,
        f: impl FnOnce(&mut Self, &mut Value) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let map = self.object(v, what)?;
        let mut values = map.remove("values").filter(|v| !v.is_null()).unwrap_or(Value::Array(Vec::new()));
        self.at(Seg::Key("values"), |w| f(w, &mut values))?;
        let mut out = Map::new();
        out.insert("values".into(), values);
        *v = Value::Object(out);
        Ok(())
    }

    /// protojson bytes: standard or URL-safe base64, padded or not; rewritten as padded standard base64.
    fn base64(&mut self, v: &mut Value) -> Result<(), DecodeError> {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        let Value::String(s) = v else {
            return Err(self.err(format!("expected a base64 string, got {}", type_name(v))));
        };
        let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s.as_bytes()).ok())
            .ok_or_else(|| self.err(format!("not base64: {:?}", truncate(s))))?;
        *v = Value::String(STANDARD.encode(bytes));
        Ok(())
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {:?}", truncate(s)),
        Value::Number(n) => format!("the number {n}"),
        other => type_name(other).to_owned(),
    }
}
