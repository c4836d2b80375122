//! Attribute storage: the levels that own attributes, each with one table per scalar value type
//! (`<prefix>_string|int|double|bool|bytes`, indexed, for promoted keys) and one `_other` table (a typed JSON
//! object per owner with everything else), the levels whose promoted low-cardinality attributes are
//! deduplicated into attribute sets instead (`otel_attribute_sets`), and the coarser levels of the promotion
//! config that decide which keys are promoted (migrations/0002 to 0005 and 0020, docs/schema.md).

use std::sync::LazyLock;

use opentelemetry_proto::tonic::common::v1::any_value::Value;

use super::Signal;

/// The levels of the promotion config, also `attribute_keys_in_other.level` (the discriminant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromotionLevel {
    /// Resource.attributes.
    Resource = 0,
    /// InstrumentationScope.attributes.
    Scope = 1,
    /// LogRecord.attributes.
    Log = 2,
    /// Span.attributes.
    Span = 3,
    /// Span.Event.attributes.
    SpanEvent = 4,
    /// Span.Link.attributes.
    SpanLink = 5,
    /// Attributes of every kind of metric data point.
    DataPoint = 6,
}

impl PromotionLevel {
    /// Whether the level's promoted attributes go to a deduplicated attribute set (unless the key is
    /// listed as high-cardinality): the levels of [`ATTR_LEVELS`] that have [`AttrLevel::sets`].
    #[inline]
    pub fn has_attribute_sets(self) -> bool {
        LEVELS_WITH_SETS & (1 << self as u8) != 0
    }

    /// Every level, in discriminant order.
    pub const ALL: [PromotionLevel; 7] = [
        PromotionLevel::Resource,
        PromotionLevel::Scope,
        PromotionLevel::Log,
        PromotionLevel::Span,
        PromotionLevel::SpanEvent,
        PromotionLevel::SpanLink,
        PromotionLevel::DataPoint,
    ];

    /// The level's name in the config file.
    pub fn name(self) -> &'static str {
        match self {
            PromotionLevel::Resource => "resource",
            PromotionLevel::Scope => "scope",
            PromotionLevel::Log => "log",
            PromotionLevel::Span => "span",
            PromotionLevel::SpanEvent => "span_event",
            PromotionLevel::SpanLink => "span_link",
            PromotionLevel::DataPoint => "data_point",
        }
    }
}

/// The scalar value types that have a typed table at every level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// AnyValue.string_value -> `_string`.
    String = 0,
    /// AnyValue.int_value -> `_int`.
    Int = 1,
    /// AnyValue.double_value -> `_double`.
    Double = 2,
    /// AnyValue.bool_value -> `_bool`.
    Bool = 3,
    /// AnyValue.bytes_value -> `_bytes`.
    Bytes = 4,
}

impl ValueType {
    /// Every type, in table order.
    pub const ALL: [ValueType; 5] =
        [ValueType::String, ValueType::Int, ValueType::Double, ValueType::Bool, ValueType::Bytes];

    /// The table name suffix (without `_`), also the type's name in the API.
    pub const fn suffix(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Int => "int",
            ValueType::Double => "double",
            ValueType::Bool => "bool",
            ValueType::Bytes => "bytes",
        }
    }

    /// The SQL type of the table's `value` column.
    pub const fn sql_type(self) -> &'static str {
        match self {
            ValueType::String => "text",
            ValueType::Int => "bigint",
            ValueType::Double => "float8",
            ValueType::Bool => "boolean",
            ValueType::Bytes => "bytea",
        }
    }

    /// The scalar type of an AnyValue, `None` for arrays, kvlists and empty values.
    pub fn of(value: Option<&Value>) -> Option<ValueType> {
        match value? {
            Value::StringValue(_) => Some(ValueType::String),
            Value::IntValue(_) => Some(ValueType::Int),
            Value::DoubleValue(_) => Some(ValueType::Double),
            Value::BoolValue(_) => Some(ValueType::Bool),
            Value::BytesValue(_) => Some(ValueType::Bytes),
            Value::ArrayValue(_) | Value::KvlistValue(_) | Value::StringValueStrindex(_) => None,
        }
    }
}

/// The table of deduplicated attribute sets of the levels that have them (migrations/0020_attribute_sets.sql).
pub const ATTR_SETS_TABLE: &str = "otel_attribute_sets";

/// The fact column that holds a record's attribute set key (NULL when the record has no set attribute).
pub const ATTR_SET_COLUMN: &str = "attr_set_key";

/// Suffix of the table of everything a level does not promote.
pub const OTHER_SUFFIX: &str = "other";

/// Tables per level: one per [`ValueType`], then `_other`.
pub const TABLES_PER_LEVEL: usize = ValueType::ALL.len() + 1;

/// An owner of attributes and its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrLevel {
    index: usize,
    /// Table name prefix; the tables are `<prefix>_string|int|double|bool|bytes|other`.
    pub prefix: &'static str,
    /// The owner id column.
    pub owner: &'static str,
    /// The partition column, copied from the owner (None for resources and scopes, which are not partitioned).
    pub time: Option<&'static str>,
    /// The signal whose retention drops the partitions (None where `time` is None).
    pub signal: Option<Signal>,
    /// The promotion config level that decides which keys go to the typed tables.
    pub promotion: PromotionLevel,
    /// The fact table whose rows are the owners, for levels whose promoted attributes are deduplicated into
    /// attribute sets (each row carries [`ATTR_SET_COLUMN`]); `None` where every promoted attribute is a row
    /// of the typed tables.
    pub sets: Option<&'static str>,
}

const fn level(
    index: usize,
    prefix: &'static str,
    owner: &'static str,
    partition: Option<(&'static str, Signal)>,
    promotion: PromotionLevel,
) -> AttrLevel {
    let (time, signal) = match partition {
        Some((time, signal)) => (Some(time), Some(signal)),
        None => (None, None),
    };
    AttrLevel { index, prefix, owner, time, signal, promotion, sets: None }
}

/// `level` with its promoted low-cardinality attributes deduplicated into sets owned by rows of `fact`.
const fn with_sets(level: AttrLevel, fact: &'static str) -> AttrLevel {
    AttrLevel { sets: Some(fact), ..level }
}

use PromotionLevel as P;
use Signal::{Logs, Metrics, Traces};

/// Resource attributes.
pub const RESOURCE: AttrLevel = level(0, "otel_resource_attrs", "resource_id", None, P::Resource);
/// Scope attributes.
pub const SCOPE: AttrLevel = level(1, "otel_scope_attrs", "scope_id", None, P::Scope);
/// Log record attributes.
pub const LOG: AttrLevel =
    with_sets(level(2, "otel_log_attrs", "log_id", Some(("time", Logs)), P::Log), super::tables::LOGS.table);
/// Span attributes.
pub const SPAN: AttrLevel = with_sets(
    level(3, "otel_span_attrs", "span_row_id", Some(("start_time", Traces)), P::Span),
    super::tables::SPANS.table,
);
/// Span event attributes.
pub const SPAN_EVENT: AttrLevel =
    level(4, "otel_span_event_attrs", "event_row_id", Some(("span_start_time", Traces)), P::SpanEvent);
/// Span link attributes.
pub const SPAN_LINK: AttrLevel =
    level(5, "otel_span_link_attrs", "link_row_id", Some(("span_start_time", Traces)), P::SpanLink);
/// Gauge and sum data point attributes.
pub const NUMBER_DP: AttrLevel =
    level(6, "otel_number_dp_attrs", "data_point_id", Some(("time", Metrics)), P::DataPoint);
/// Histogram data point attributes.
pub const HISTOGRAM_DP: AttrLevel =
    level(7, "otel_histogram_dp_attrs", "data_point_id", Some(("time", Metrics)), P::DataPoint);
/// Exponential histogram data point attributes.
pub const EXP_HISTOGRAM_DP: AttrLevel =
    level(8, "otel_exp_histogram_dp_attrs", "data_point_id", Some(("time", Metrics)), P::DataPoint);
/// Summary data point attributes.
pub const SUMMARY_DP: AttrLevel =
    level(9, "otel_summary_dp_attrs", "data_point_id", Some(("time", Metrics)), P::DataPoint);

/// A bit per [`PromotionLevel`] whose attribute level has sets, derived from [`ATTR_LEVELS`] at compile time:
/// the promotion decision asks for every attribute written.
const LEVELS_WITH_SETS: u8 = {
    let mut bits = 0u8;
    let mut i = 0;
    while i < ATTR_LEVELS.len() {
        if ATTR_LEVELS[i].sets.is_some() {
            bits |= 1 << ATTR_LEVELS[i].promotion as u8;
        }
        i += 1;
    }
    bits
};

/// Every attribute level, dimensions first, each at its [`AttrLevel::index`].
pub const ATTR_LEVELS: [AttrLevel; 10] =
    [RESOURCE, SCOPE, LOG, SPAN, SPAN_EVENT, SPAN_LINK, NUMBER_DP, HISTOGRAM_DP, EXP_HISTOGRAM_DP, SUMMARY_DP];

/// Every level's table names, in [`AttrLevel::tables`] order.
static TABLE_NAMES: LazyLock<Vec<[String; TABLES_PER_LEVEL]>> = LazyLock::new(|| {
    ATTR_LEVELS
        .iter()
        .map(|l| {
            std::array::from_fn(|i| {
                let suffix = ValueType::ALL.get(i).map_or(OTHER_SUFFIX, |t| t.suffix());
                format!("{}_{suffix}", l.prefix)
            })
        })
        .collect()
});

impl AttrLevel {
    /// Position in [`ATTR_LEVELS`].
    pub const fn index(self) -> usize {
        self.index
    }

    /// The typed table of values of type `t`.
    pub fn table(self, t: ValueType) -> &'static str {
        &TABLE_NAMES[self.index][t as usize]
    }

    /// The `_other` table.
    pub fn other_table(self) -> &'static str {
        &TABLE_NAMES[self.index][ValueType::ALL.len()]
    }

    /// The level's tables: one per [`ValueType`] in [`ValueType::ALL`] order, then `_other`.
    pub fn tables(self) -> [&'static str; TABLES_PER_LEVEL] {
        std::array::from_fn(|i| TABLE_NAMES[self.index][i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_sit_at_their_index_and_partitioned_ones_have_a_signal() {
        for (i, level) in ATTR_LEVELS.iter().enumerate() {
            assert_eq!(level.index(), i, "{}", level.prefix);
            assert_eq!(level.time.is_some(), level.signal.is_some(), "{}", level.prefix);
        }
    }

    #[test]
    fn table_names_join_prefix_and_type() {
        assert_eq!(SPAN.table(ValueType::Int), "otel_span_attrs_int");
        assert_eq!(SUMMARY_DP.other_table(), "otel_summary_dp_attrs_other");
        assert_eq!(
            RESOURCE.tables(),
            [
                "otel_resource_attrs_string",
                "otel_resource_attrs_int",
                "otel_resource_attrs_double",
                "otel_resource_attrs_bool",
                "otel_resource_attrs_bytes",
                "otel_resource_attrs_other"
            ]
        );
    }
}
