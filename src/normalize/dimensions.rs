//! The dimension rows prepare derives from a batch, which the writer upserts (by hash) before the facts that
//! point at them are encoded, and the ones encode derives (metric series and attribute sets, keyed by a hash
//! the records carry), which the writer registers in the batch's transaction.

use opentelemetry_proto::tonic::common::v1::KeyValue;

use super::identity::Hash;

/// A resource to store in `otel_resources_dim` (unique by hash within a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDim {
    /// Identity hash (see [`identity`](super::identity)).
    pub hash: Hash,
    /// The `service.name` attribute when it is a string.
    pub service_name: Option<String>,
    /// The `service.namespace` attribute when it is a string.
    pub service_namespace: Option<String>,
    /// ResourceSpans/ResourceLogs/ResourceMetrics.schema_url.
    pub schema_url: String,
    /// Resource.dropped_attributes_count.
    pub dropped_attributes_count: u32,
    /// The attributes in canonical form: sorted by key, one per key (the last sent), dropped keys removed.
    pub attributes: Vec<KeyValue>,
}

/// An instrumentation scope to store in `otel_scopes_dim` (unique by hash within a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeDim {
    /// Identity hash (see [`identity`](super::identity)).
    pub hash: Hash,
    /// InstrumentationScope.name.
    pub name: String,
    /// InstrumentationScope.version.
    pub version: String,
    /// ScopeSpans/ScopeLogs/ScopeMetrics.schema_url.
    pub schema_url: String,
    /// InstrumentationScope.dropped_attributes_count.
    pub dropped_attributes_count: u32,
    /// The attributes in canonical form: sorted by key, one per key (the last sent), dropped keys removed.
    pub attributes: Vec<KeyValue>,
}

/// A metric description to store in `otel_metrics_dim` (unique by hash within a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDim {
    /// Identity hash (see [`identity`](super::identity)).
    pub hash: Hash,
    /// Metric.name.
    pub name: String,
    /// 1 gauge, 2 sum, 3 histogram, 4 exponential histogram, 5 summary (`metric_types`).
    pub metric_type: i16,
    /// Metric.unit.
    pub unit: String,
    /// Metric.description.
    pub description: String,
    /// aggregation_temporality of sums and (exponential) histograms; `None` for gauges and summaries.
    pub temporality: Option<i16>,
    /// Sum.is_monotonic; `None` for the other types.
    pub is_monotonic: Option<bool>,
    /// Metric.metadata as typed JSON (canonical order, dropped keys removed); `None` when empty.
    pub metadata: Option<String>,
}

/// A metric series to register in `otel_metric_series`: a metric, a resource and a data point attribute set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDim {
    /// The series key (see [`IdentityHasher::series`](super::identity::IdentityHasher::series)), also stored on
    /// each of its data points.
    pub key: i64,
    /// `otel_metrics_dim.metric_id`.
    pub metric_id: i64,
    /// `otel_resources_dim.resource_id`.
    pub resource_id: i64,
    /// The attribute set as typed JSON (canonical order, dropped keys removed).
    pub attributes: String,
}

/// An attribute set to register in `otel_attribute_sets`: the promoted, low-cardinality attributes of a
/// record at a level with sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrSetDim {
    /// The set key (see [`IdentityHasher::attr_set`](super::identity::IdentityHasher::attr_set)), also stored
    /// on each of its records.
    pub key: i64,
    /// The promotion level of its records.
    pub level: crate::schema::PromotionLevel,
    /// The attributes as typed JSON (canonical order).
    pub attributes: String,
}
