//! What the schema can store, defined once. [`super::validate`] applies these rules to every item before the WAL
//! append, so an acknowledged item is always storable; `normalize` calls the same functions only as assertions
//! (a failure there is a bug, or a record written by an older version, and goes to the dead-letter store).
//!
//! Every value PostgreSQL or the schema cannot hold as sent gets one of two treatments:
//! - **mapped**, stored with a documented change: U+0000 (NUL) in any string becomes U+FFFD, the Unicode
//!   replacement character, because PostgreSQL `text` and `jsonb` cannot hold NUL. Nothing else is changed.
//! - **refused**: the item (span, log record or data point) is dropped and counted in the answer's
//!   `partial_success`, with a message naming the first problems. A problem on a resource or scope refuses every
//!   item under it. An unknown enum value is refused rather than stored as a number: the fact columns reference
//!   the OTLP enumerations (`span_kinds`, `status_codes`, ...), and a value outside them has no meaning to show.
//!
//! The limits on indexed text come from PostgreSQL's btree, whose entries cannot exceed about a third of a page
//! (2,704 bytes): an attribute key (unique in `attribute_keys`), `service.name` and `service.namespace` (indexed
//! on the resource) and a metric name (indexed on the metric) are refused beyond [`MAX_INDEXED_TEXT_BYTES`].
//! Attribute values, span names and log bodies of any length are stored (their indexes cover a prefix).

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

/// What U+0000 in a string is stored as.
pub const NUL_REPLACEMENT: char = '\u{FFFD}';

/// Longest attribute key, `service.name`, `service.namespace` or metric name stored, in bytes (UTF-8): they are
/// indexed whole, and well under the btree entry limit even with the other columns of their indexes.
pub const MAX_INDEXED_TEXT_BYTES: usize = 1024;

/// Exponential histogram scales the OTLP data model defines (`ExponentialHistogramDataPoint.scale`).
pub const EXP_HISTOGRAM_SCALES: std::ops::RangeInclusive<i32> = -10..=20;

/// Replaces every U+0000 of `s` with [`NUL_REPLACEMENT`]; true when anything changed.
pub fn replace_nul(s: &mut String) -> bool {
    if !s.as_bytes().contains(&0) {
        return false;
    }
    *s = s.replace('\0', &NUL_REPLACEMENT.to_string());
    true
}

/// [`replace_nul`] for every key and string inside an attribute list, nested values included.
pub fn replace_nul_in_attributes(attrs: &mut [KeyValue]) -> bool {
    let mut changed = false;
    for kv in attrs {
        changed |= replace_nul(&mut kv.key);
        if let Some(v) = kv.value.as_mut() {
            changed |= replace_nul_in_value(v);
        }
    }
    changed
}

/// [`replace_nul`] for every string inside one AnyValue (keys of nested lists included).
pub fn replace_nul_in_value(value: &mut AnyValue) -> bool {
    match value.value.as_mut() {
        Some(Value::StringValue(s)) => replace_nul(s),
        Some(Value::ArrayValue(a)) => a.values.iter_mut().fold(false, |c, v| replace_nul_in_value(v) | c),
        Some(Value::KvlistValue(kv)) => replace_nul_in_attributes(&mut kv.values),
        _ => false,
    }
}

/// True when a string holds U+0000 (which [`replace_nul`] would have replaced).
pub fn has_nul(s: &str) -> bool {
    s.as_bytes().contains(&0)
}

/// Refuses an indexed text longer than [`MAX_INDEXED_TEXT_BYTES`].
pub fn check_indexed_text(what: &str, s: &str) -> Result<(), String> {
    if s.len() > MAX_INDEXED_TEXT_BYTES {
        return Err(format!("{what} is {} bytes long, longer than the {MAX_INDEXED_TEXT_BYTES} bytes stored", s.len()));
    }
    Ok(())
}

/// Refuses an attribute list with a key longer than [`MAX_INDEXED_TEXT_BYTES`] (nested lists' keys are stored
/// in JSON, unindexed, and may be of any length).
pub fn check_keys(what: &str, attrs: &[KeyValue]) -> Result<(), String> {
    match attrs.iter().position(|kv| kv.key.len() > MAX_INDEXED_TEXT_BYTES) {
        Some(i) => check_indexed_text(&format!("{what}[{i}]'s key"), &attrs[i].key),
        None => Ok(()),
    }
}

/// The stored `span_kinds` id of a `Span.kind`.
pub fn span_kind(value: i32) -> Result<i16, String> {
    SpanKind::try_from(value).map(|k| k as i16).map_err(|_| {
        format!(
            "kind {value} is not a SpanKind (0 {} to 5 {})",
            SpanKind::Unspecified.as_str_name(),
            SpanKind::Consumer.as_str_name()
        )
    })
}

/// The stored `status_codes` id of a `Status.code`.
pub fn status_code(value: i32) -> Result<i16, String> {
    StatusCode::try_from(value).map(|c| c as i16).map_err(|_| {
        format!(
            "status code {value} is not a StatusCode (0 {} to 2 {})",
            StatusCode::Unset.as_str_name(),
            StatusCode::Error.as_str_name()
        )
    })
}

/// The stored `log_severity_numbers` id of a `LogRecord.severity_number`.
pub fn severity_number(value: i32) -> Result<i16, String> {
    SeverityNumber::try_from(value).map(|s| s as i16).map_err(|_| {
        format!(
            "severity_number {value} is not a SeverityNumber (0 {} to 24 {})",
            SeverityNumber::Unspecified.as_str_name(),
            SeverityNumber::Fatal4.as_str_name()
        )
    })
}

/// The stored `aggregation_temporalities` id of a metric's `aggregation_temporality`.
pub fn aggregation_temporality(value: i32) -> Result<i16, String> {
    AggregationTemporality::try_from(value).map(|t| t as i16).map_err(|_| {
        format!(
            "aggregation_temporality {value} is not an AggregationTemporality (0 {} to 2 {})",
            AggregationTemporality::Unspecified.as_str_name(),
            AggregationTemporality::Cumulative.as_str_name()
        )
    })
}

/// Refuses an exponential histogram scale outside [`EXP_HISTOGRAM_SCALES`], and buckets whose last index does
/// not fit the `sint32` the data model gives bucket indexes.
pub fn check_exp_histogram(scale: i32, buckets: &[(&str, i32, usize)]) -> Result<(), String> {
    if !EXP_HISTOGRAM_SCALES.contains(&scale) {
        return Err(format!(
            "scale {scale} is outside {}..={} (the exponential histogram scales OTLP defines)",
            EXP_HISTOGRAM_SCALES.start(),
            EXP_HISTOGRAM_SCALES.end()
        ));
    }
    for (which, offset, len) in buckets {
        if i64::from(*offset) + *len as i64 - 1 > i64::from(i32::MAX) {
            return Err(format!("{which}: offset {offset} with {len} buckets puts bucket indexes beyond i32"));
        }
    }
    Ok(())
}

/// Refuses a summary quantile outside 0..=1 (NaN included).
pub fn check_quantile(index: usize, quantile: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&quantile) {
        return Err(format!("quantile_values[{index}].quantile {quantile} is outside 0..=1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn s(v: &str) -> AnyValue {
        AnyValue { value: Some(Value::StringValue(v.into())) }
    }

    #[test]
    fn nul_becomes_the_replacement_character_everywhere() {
        let mut text = "a\0b\0".to_string();
        assert!(replace_nul(&mut text));
        assert_eq!(text, "a\u{FFFD}b\u{FFFD}");
        let mut clean = "ab".to_string();
        assert!(!replace_nul(&mut clean));

        let nested = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key: "k\0".into(),
                    value: Some(AnyValue {
                        value: Some(Value::ArrayValue(ArrayValue { values: vec![s("x"), s("y\0")] })),
                    }),
                    key_strindex: 0,
                }],
            })),
        };
        let mut attrs = vec![KeyValue { key: "top\0".into(), value: Some(nested), key_strindex: 0 }];
        assert!(replace_nul_in_attributes(&mut attrs));
        assert_eq!(attrs[0].key, "top\u{FFFD}");
        let Some(Value::KvlistValue(kv)) = &attrs[0].value.as_ref().unwrap().value else { panic!("kvlist") };
        assert_eq!(kv.values[0].key, "k\u{FFFD}");
        let Some(Value::ArrayValue(a)) = &kv.values[0].value.as_ref().unwrap().value else { panic!("array") };
        assert_eq!(a.values[1], s("y\u{FFFD}"));
        assert!(!replace_nul_in_attributes(&mut attrs), "a second pass finds nothing");
        assert!(!has_nul(&attrs[0].key));
    }

    #[test]
    fn enums_accept_exactly_the_protobuf_values() {
        assert_eq!(span_kind(5), Ok(5));
        assert!(
            span_kind(9)
                .unwrap_err()
                .contains("kind 9 is not a SpanKind (0 SPAN_KIND_UNSPECIFIED to 5 SPAN_KIND_CONSUMER)")
        );
        assert!(span_kind(-1).is_err());
        assert_eq!(status_code(2), Ok(2));
        assert!(status_code(3).is_err());
        assert_eq!(severity_number(24), Ok(24));
        assert!(severity_number(25).unwrap_err().contains("SEVERITY_NUMBER_FATAL4"));
        assert_eq!(aggregation_temporality(2), Ok(2));
        assert!(aggregation_temporality(7).is_err());
    }

    #[test]
    fn indexed_text_and_keys_have_a_byte_limit() {
        let long = "k".repeat(MAX_INDEXED_TEXT_BYTES + 1);
        assert!(check_indexed_text("metric name", &"m".repeat(MAX_INDEXED_TEXT_BYTES)).is_ok());
        assert!(check_indexed_text("metric name", &long).unwrap_err().starts_with("metric name is 1025 bytes"));
        let attrs = vec![
            KeyValue { key: "ok".into(), value: None, key_strindex: 0 },
            KeyValue { key: long, value: Some(s("v")), key_strindex: 0 },
        ];
        assert!(check_keys("attributes", &attrs).unwrap_err().starts_with("attributes[1]'s key is 1025 bytes"));
    }

    #[test]
    fn exponential_histogram_and_quantile_ranges() {
        assert!(check_exp_histogram(20, &[("positive", 5, 3)]).is_ok());
        assert!(check_exp_histogram(-10, &[]).is_ok());
        assert!(check_exp_histogram(21, &[]).unwrap_err().contains("scale 21"));
        assert!(check_exp_histogram(i32::MIN, &[]).is_err());
        assert!(check_exp_histogram(0, &[("positive", i32::MAX, 1)]).is_ok());
        assert!(check_exp_histogram(0, &[("negative", i32::MAX, 2)]).unwrap_err().starts_with("negative: offset"));
        assert!(check_quantile(0, 0.0).is_ok() && check_quantile(0, 1.0).is_ok());
        assert!(check_quantile(1, 1.5).unwrap_err().contains("quantile_values[1].quantile 1.5"));
        assert!(check_quantile(0, -0.1).is_err());
        assert!(check_quantile(0, f64::NAN).is_err());
    }
}
