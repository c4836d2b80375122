//! Assertions that a decoded value can be stored. Validation before the WAL append makes them hold for every
//! acknowledged record; a failure is a bug or a record written by an older version, and fails only its record.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

/// Asserts that a string can be stored: PostgreSQL `text` and `jsonb` cannot hold U+0000, and one such value
/// would fail the COPY of the whole batch. Validation maps NUL away before the WAL append
/// ([`crate::otlp::storable`]), so only a record written by an older version can fail this; it is then listed as a
/// failure rather than failing its batch.
pub(crate) fn check_text(what: &str, s: &str) -> Result<(), String> {
    if crate::otlp::storable::has_nul(s) {
        return Err(format!("{what} contains a NUL character (U+0000), which PostgreSQL text cannot store"));
    }
    Ok(())
}

/// [`check_text`] for every key and string value of an attribute list, nested values included.
pub(crate) fn check_attributes(what: &str, attrs: &[KeyValue]) -> Result<(), String> {
    for kv in attrs {
        check_text(what, &kv.key)?;
        check_value(what, kv.value.as_ref().and_then(|v| v.value.as_ref()))?;
    }
    Ok(())
}

/// [`check_text`] for the strings inside one AnyValue.
pub(crate) fn check_value(what: &str, value: Option<&Value>) -> Result<(), String> {
    match value {
        Some(Value::StringValue(s)) => check_text(what, s),
        Some(Value::ArrayValue(a)) => a.values.iter().try_for_each(|v| check_value(what, v.value.as_ref())),
        Some(Value::KvlistValue(kv)) => check_attributes(what, &kv.values),
        _ => Ok(()),
    }
}
