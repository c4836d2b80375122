//! The OTLP enumerations the facts store, named from `opentelemetry-proto`'s generated enums. A fact column
//! holds the protobuf value (a SMALLINT referencing the migrations' lookup table of the same values,
//! migrations/0001); the API and the lookup tables name a value by its protobuf name without the type's
//! prefix (`SPAN_KIND_SERVER` -> `SERVER`). Which values can be stored at all is [`crate::otlp::storable`]'s
//! business.

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

/// One OTLP enumeration, read through its generated enum's `as_str_name` / `from_str_name` / `try_from`.
#[derive(Debug, Clone, Copy)]
pub struct OtlpEnum {
    /// The protobuf enum's name, e.g. `SpanKind`.
    pub name: &'static str,
    /// The prefix of its value names, e.g. `SPAN_KIND_`.
    pub prefix: &'static str,
    by_name: fn(&str) -> Option<i32>,
    by_value: fn(i32) -> Option<&'static str>,
}

impl OtlpEnum {
    /// The value of a protobuf value name (`SPAN_KIND_SERVER`, exact case).
    pub fn value(&self, name: &str) -> Option<i32> {
        (self.by_name)(name)
    }

    /// The value of a name without the prefix (`SERVER`, exact case).
    pub fn value_of_short(&self, short: &str) -> Option<i32> {
        (self.by_name)(&format!("{}{short}", self.prefix))
    }

    /// A value's name without the prefix (`SERVER`); None for a value the protobuf does not define.
    pub fn short_name(&self, value: i32) -> Option<&'static str> {
        (self.by_value)(value).map(|name| name.strip_prefix(self.prefix).unwrap_or(name))
    }

    /// Every value's name without the prefix, indexed by value (OTLP enumerations are dense from 0).
    pub fn short_names(&self) -> Vec<&'static str> {
        (0..).map_while(|v| self.short_name(v)).collect()
    }
}

/// `Span.kind`.
pub const SPAN_KIND: OtlpEnum = OtlpEnum {
    name: "SpanKind",
    prefix: "SPAN_KIND_",
    by_name: |s| SpanKind::from_str_name(s).map(|v| v as i32),
    by_value: |v| SpanKind::try_from(v).ok().map(|v| v.as_str_name()),
};

/// `Span.status.code`.
pub const STATUS_CODE: OtlpEnum = OtlpEnum {
    name: "StatusCode",
    prefix: "STATUS_CODE_",
    by_name: |s| StatusCode::from_str_name(s).map(|v| v as i32),
    by_value: |v| StatusCode::try_from(v).ok().map(|v| v.as_str_name()),
};

/// `LogRecord.severity_number`.
pub const SEVERITY_NUMBER: OtlpEnum = OtlpEnum {
    name: "SeverityNumber",
    prefix: "SEVERITY_NUMBER_",
    by_name: |s| SeverityNumber::from_str_name(s).map(|v| v as i32),
    by_value: |v| SeverityNumber::try_from(v).ok().map(|v| v.as_str_name()),
};

/// `aggregation_temporality` of sums and (exponential) histograms.
pub const AGGREGATION_TEMPORALITY: OtlpEnum = OtlpEnum {
    name: "AggregationTemporality",
    prefix: "AGGREGATION_TEMPORALITY_",
    by_name: |s| AggregationTemporality::from_str_name(s).map(|v| v as i32),
    by_value: |v| AggregationTemporality::try_from(v).ok().map(|v| v.as_str_name()),
};

/// Severity numbers per class: the data model's ranges are 1-4 TRACE, 5-8 DEBUG, ... 21-24 FATAL.
pub const SEVERITY_CLASS_WIDTH: i32 = 4;

/// The name of severity class `class` (0 UNSPECIFIED, 1 TRACE, ... 6 FATAL): that of its first severity
/// number. None beyond FATAL.
pub fn severity_class_name(class: i32) -> Option<&'static str> {
    let first = match class {
        0 => 0,
        c if c > 0 => (c - 1) * SEVERITY_CLASS_WIDTH + 1,
        _ => return None,
    };
    SEVERITY_NUMBER.short_name(first)
}

/// Every severity class's name, indexed by class: UNSPECIFIED, TRACE, DEBUG, INFO, WARN, ERROR, FATAL.
pub fn severity_class_names() -> Vec<&'static str> {
    (0..).map_while(severity_class_name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_protobuf_names_without_their_prefix() {
        assert_eq!(SPAN_KIND.short_names(), ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]);
        assert_eq!(STATUS_CODE.short_names(), ["UNSET", "OK", "ERROR"]);
        assert_eq!(AGGREGATION_TEMPORALITY.short_names(), ["UNSPECIFIED", "DELTA", "CUMULATIVE"]);
        assert_eq!(SEVERITY_NUMBER.short_names().len(), 25);
        assert_eq!(SEVERITY_NUMBER.short_name(19), Some("ERROR3"));
        assert_eq!(SPAN_KIND.value_of_short("CLIENT"), Some(3));
        assert_eq!(SPAN_KIND.value_of_short("client"), None);
        assert_eq!(SPAN_KIND.value("SPAN_KIND_CLIENT"), Some(3));
        assert_eq!(STATUS_CODE.short_name(3), None);
    }

    #[test]
    fn severity_classes_are_named_for_their_first_number() {
        assert_eq!(severity_class_names(), ["UNSPECIFIED", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);
        assert_eq!(severity_class_name(-1), None);
    }
}
