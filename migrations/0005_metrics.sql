-- Metrics: the metric dimension, the four data-point tables, exemplars, and the typed attribute tables of
-- every data-point kind. Data points, exemplars and data-point attributes are range-partitioned by day on
-- the data point's time; exemplars and attribute rows carry a copy of it as their partition key, so that
-- they are dropped together. No foreign keys from data points to the dimensions (see 0003_logs.sql).

CREATE TABLE otel_metrics_dim (
    metric_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    metric_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(metric_hash) = 32),
    name TEXT NOT NULL,
    metric_type SMALLINT NOT NULL REFERENCES metric_types (id),
    unit TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    aggregation_temporality SMALLINT REFERENCES aggregation_temporalities (id),
    is_monotonic BOOLEAN,
    metadata JSONB,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);
CREATE INDEX otel_metrics_dim_name_idx ON otel_metrics_dim (name);
COMMENT ON TABLE otel_metrics_dim IS 'One row per distinct metric stream description (opentelemetry.proto.metrics.v1.Metric without its data points), deduplicated by metric_hash. Data points reference it by metric_id.';
COMMENT ON COLUMN otel_metrics_dim.metric_id IS 'Surrogate id of the metric, stored in the metric_id column of every data point.';
COMMENT ON COLUMN otel_metrics_dim.metric_hash IS 'blake3 (32 bytes) of the canonical encoding of the metric''s identity (name, type, unit, description, temporality, monotonicity, metadata; defined by the normalizer): the identity used to deduplicate.';
COMMENT ON COLUMN otel_metrics_dim.name IS 'Metric.name.';
COMMENT ON COLUMN otel_metrics_dim.metric_type IS 'Which Metric.data case the metric has, metric_types.id.';
COMMENT ON COLUMN otel_metrics_dim.unit IS 'Metric.unit; empty when not sent.';
COMMENT ON COLUMN otel_metrics_dim.description IS 'Metric.description; empty when not sent.';
COMMENT ON COLUMN otel_metrics_dim.aggregation_temporality IS 'Sum/Histogram/ExponentialHistogram.aggregation_temporality, aggregation_temporalities.id; NULL for gauges and summaries, which have none.';
COMMENT ON COLUMN otel_metrics_dim.is_monotonic IS 'Sum.is_monotonic; NULL for the other types.';
COMMENT ON COLUMN otel_metrics_dim.metadata IS 'Metric.metadata (repeated KeyValue) as a typed JSON object (the normalizer''s encoding); NULL when empty.';
COMMENT ON COLUMN otel_metrics_dim.first_seen IS 'Receive time of the first batch that carried this metric.';
COMMENT ON COLUMN otel_metrics_dim.last_seen IS 'Receive time of the latest batch that carried this metric.';

CREATE TABLE otel_metrics_data_points_number (
    data_point_id BIGINT NOT NULL,
    metric_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    scope_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    start_time TIMESTAMPTZ,
    start_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (start_time_nanos_fraction BETWEEN 0 AND 999),
    flags INTEGER NOT NULL DEFAULT 0,
    value_int BIGINT,
    value_double DOUBLE PRECISION,
    CHECK (value_int IS NULL OR value_double IS NULL)
) PARTITION BY RANGE (time);
CREATE TABLE otel_metrics_data_points_number_default PARTITION OF otel_metrics_data_points_number DEFAULT;
CREATE INDEX otel_metrics_data_points_number_metric_time_idx ON otel_metrics_data_points_number (metric_id, time);
COMMENT ON TABLE otel_metrics_data_points_number IS 'One row per gauge or sum data point (opentelemetry.proto.metrics.v1.NumberDataPoint). Range-partitioned by time, daily; attributes are in otel_number_dp_attrs_*.';
COMMENT ON COLUMN otel_metrics_data_points_number.data_point_id IS 'Surrogate id of the data point, allocated by the writer from otel_id_block_seq; referenced by its attribute rows and exemplars.';
COMMENT ON COLUMN otel_metrics_data_points_number.metric_id IS 'The metric, otel_metrics_dim.metric_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_number.resource_id IS 'The resource, otel_resources_dim.resource_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_number.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_number.time IS 'NumberDataPoint.time_unix_nano to the microsecond. The partition key.';
COMMENT ON COLUMN otel_metrics_data_points_number.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time (NumberDataPoint.time_unix_nano).';
COMMENT ON COLUMN otel_metrics_data_points_number.start_time IS 'NumberDataPoint.start_time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_metrics_data_points_number.start_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of start_time (NumberDataPoint.start_time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_metrics_data_points_number.flags IS 'NumberDataPoint.flags (uint32 DataPointFlags, bit 0 = no recorded value): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_metrics_data_points_number.value_int IS 'NumberDataPoint.as_int; NULL when the value is a double or unset.';
COMMENT ON COLUMN otel_metrics_data_points_number.value_double IS 'NumberDataPoint.as_double; NULL when the value is an int or unset.';

CREATE TABLE otel_metrics_data_points_histogram (
    data_point_id BIGINT NOT NULL,
    metric_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    scope_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    start_time TIMESTAMPTZ,
    start_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (start_time_nanos_fraction BETWEEN 0 AND 999),
    flags INTEGER NOT NULL DEFAULT 0,
    count BIGINT NOT NULL,
    sum DOUBLE PRECISION,
    min DOUBLE PRECISION,
    max DOUBLE PRECISION,
    bucket_counts BIGINT[] NOT NULL DEFAULT '{}',
    explicit_bounds DOUBLE PRECISION[] NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (time);
CREATE TABLE otel_metrics_data_points_histogram_default PARTITION OF otel_metrics_data_points_histogram DEFAULT;
CREATE INDEX otel_metrics_data_points_histogram_metric_time_idx ON otel_metrics_data_points_histogram (metric_id, time);
COMMENT ON TABLE otel_metrics_data_points_histogram IS 'One row per histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint). Range-partitioned by time, daily; attributes are in otel_histogram_dp_attrs_*.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.data_point_id IS 'Surrogate id of the data point, allocated by the writer from otel_id_block_seq; referenced by its attribute rows and exemplars.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.metric_id IS 'The metric, otel_metrics_dim.metric_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.resource_id IS 'The resource, otel_resources_dim.resource_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.time IS 'HistogramDataPoint.time_unix_nano to the microsecond. The partition key.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time (HistogramDataPoint.time_unix_nano).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.start_time IS 'HistogramDataPoint.start_time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.start_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of start_time (HistogramDataPoint.start_time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.flags IS 'HistogramDataPoint.flags (uint32 DataPointFlags, bit 0 = no recorded value): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.count IS 'HistogramDataPoint.count (uint64; values above the BIGINT range are rejected before storage).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.sum IS 'HistogramDataPoint.sum; NULL when not sent (optional field).';
COMMENT ON COLUMN otel_metrics_data_points_histogram.min IS 'HistogramDataPoint.min; NULL when not sent.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.max IS 'HistogramDataPoint.max; NULL when not sent.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.bucket_counts IS 'HistogramDataPoint.bucket_counts (uint64 each), one more than explicit_bounds, or empty.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.explicit_bounds IS 'HistogramDataPoint.explicit_bounds, the bucket upper bounds in increasing order.';

CREATE TABLE otel_metrics_data_points_exp_histogram (
    data_point_id BIGINT NOT NULL,
    metric_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    scope_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    start_time TIMESTAMPTZ,
    start_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (start_time_nanos_fraction BETWEEN 0 AND 999),
    flags INTEGER NOT NULL DEFAULT 0,
    count BIGINT NOT NULL,
    sum DOUBLE PRECISION,
    min DOUBLE PRECISION,
    max DOUBLE PRECISION,
    scale INTEGER NOT NULL,
    zero_count BIGINT NOT NULL DEFAULT 0,
    zero_threshold DOUBLE PRECISION NOT NULL DEFAULT 0,
    positive_offset INTEGER NOT NULL DEFAULT 0,
    positive_bucket_counts BIGINT[] NOT NULL DEFAULT '{}',
    negative_offset INTEGER NOT NULL DEFAULT 0,
    negative_bucket_counts BIGINT[] NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (time);
CREATE TABLE otel_metrics_data_points_exp_histogram_default PARTITION OF otel_metrics_data_points_exp_histogram DEFAULT;
CREATE INDEX otel_metrics_data_points_exp_histogram_metric_time_idx ON otel_metrics_data_points_exp_histogram (metric_id, time);
COMMENT ON TABLE otel_metrics_data_points_exp_histogram IS 'One row per exponential histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint). Range-partitioned by time, daily; attributes are in otel_exp_histogram_dp_attrs_*.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.data_point_id IS 'Surrogate id of the data point, allocated by the writer from otel_id_block_seq; referenced by its attribute rows and exemplars.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.metric_id IS 'The metric, otel_metrics_dim.metric_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.resource_id IS 'The resource, otel_resources_dim.resource_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.time IS 'ExponentialHistogramDataPoint.time_unix_nano to the microsecond. The partition key.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time (ExponentialHistogramDataPoint.time_unix_nano).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.start_time IS 'ExponentialHistogramDataPoint.start_time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.start_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of start_time (ExponentialHistogramDataPoint.start_time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.flags IS 'ExponentialHistogramDataPoint.flags (uint32 DataPointFlags, bit 0 = no recorded value): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.count IS 'ExponentialHistogramDataPoint.count (uint64; values above the BIGINT range are rejected before storage).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.sum IS 'ExponentialHistogramDataPoint.sum; NULL when not sent (optional field).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.min IS 'ExponentialHistogramDataPoint.min; NULL when not sent.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.max IS 'ExponentialHistogramDataPoint.max; NULL when not sent.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.scale IS 'ExponentialHistogramDataPoint.scale (sint32): bucket boundaries are powers of 2^(2^-scale).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.zero_count IS 'ExponentialHistogramDataPoint.zero_count (uint64).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.zero_threshold IS 'ExponentialHistogramDataPoint.zero_threshold; 0 when not sent.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.positive_offset IS 'ExponentialHistogramDataPoint.positive.offset (sint32): index of the first positive bucket.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.positive_bucket_counts IS 'ExponentialHistogramDataPoint.positive.bucket_counts (uint64 each).';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.negative_offset IS 'ExponentialHistogramDataPoint.negative.offset (sint32): index of the first negative bucket.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.negative_bucket_counts IS 'ExponentialHistogramDataPoint.negative.bucket_counts (uint64 each).';

CREATE TABLE otel_metrics_data_points_summary (
    data_point_id BIGINT NOT NULL,
    metric_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    scope_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    start_time TIMESTAMPTZ,
    start_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (start_time_nanos_fraction BETWEEN 0 AND 999),
    flags INTEGER NOT NULL DEFAULT 0,
    count BIGINT NOT NULL,
    sum DOUBLE PRECISION NOT NULL,
    quantiles DOUBLE PRECISION[] NOT NULL DEFAULT '{}',
    quantile_values DOUBLE PRECISION[] NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (time);
CREATE TABLE otel_metrics_data_points_summary_default PARTITION OF otel_metrics_data_points_summary DEFAULT;
CREATE INDEX otel_metrics_data_points_summary_metric_time_idx ON otel_metrics_data_points_summary (metric_id, time);
COMMENT ON TABLE otel_metrics_data_points_summary IS 'One row per summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint). Range-partitioned by time, daily; attributes are in otel_summary_dp_attrs_*.';
COMMENT ON COLUMN otel_metrics_data_points_summary.data_point_id IS 'Surrogate id of the data point, allocated by the writer from otel_id_block_seq; referenced by its attribute rows and exemplars.';
COMMENT ON COLUMN otel_metrics_data_points_summary.metric_id IS 'The metric, otel_metrics_dim.metric_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_summary.resource_id IS 'The resource, otel_resources_dim.resource_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_summary.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id (no FK).';
COMMENT ON COLUMN otel_metrics_data_points_summary.time IS 'SummaryDataPoint.time_unix_nano to the microsecond. The partition key.';
COMMENT ON COLUMN otel_metrics_data_points_summary.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time (SummaryDataPoint.time_unix_nano).';
COMMENT ON COLUMN otel_metrics_data_points_summary.start_time IS 'SummaryDataPoint.start_time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_metrics_data_points_summary.start_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of start_time (SummaryDataPoint.start_time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_metrics_data_points_summary.flags IS 'SummaryDataPoint.flags (uint32 DataPointFlags, bit 0 = no recorded value): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_metrics_data_points_summary.count IS 'SummaryDataPoint.count (uint64).';
COMMENT ON COLUMN otel_metrics_data_points_summary.sum IS 'SummaryDataPoint.sum.';
COMMENT ON COLUMN otel_metrics_data_points_summary.quantiles IS 'SummaryDataPoint.quantile_values[].quantile, in sent order (parallel to quantile_values).';
COMMENT ON COLUMN otel_metrics_data_points_summary.quantile_values IS 'SummaryDataPoint.quantile_values[].value, parallel to quantiles.';

CREATE TABLE otel_metrics_exemplars (
    data_point_id BIGINT NOT NULL,
    data_point_time TIMESTAMPTZ NOT NULL,
    data_point_kind SMALLINT NOT NULL CHECK (data_point_kind IN (1, 3, 4)),
    exemplar_index INTEGER NOT NULL,
    time TIMESTAMPTZ,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    value_int BIGINT,
    value_double DOUBLE PRECISION,
    trace_id BYTEA CHECK (octet_length(trace_id) = 16),
    span_id BYTEA CHECK (octet_length(span_id) = 8),
    filtered_attributes JSONB,
    CHECK (value_int IS NULL OR value_double IS NULL)
) PARTITION BY RANGE (data_point_time);
CREATE TABLE otel_metrics_exemplars_default PARTITION OF otel_metrics_exemplars DEFAULT;
CREATE INDEX otel_metrics_exemplars_data_point_idx ON otel_metrics_exemplars (data_point_id);
-- Metrics to traces: exemplars recorded in a given trace. Partial, as many exemplars carry no trace.
CREATE INDEX otel_metrics_exemplars_trace_id_idx ON otel_metrics_exemplars (trace_id) WHERE trace_id IS NOT NULL;
COMMENT ON TABLE otel_metrics_exemplars IS 'One row per exemplar (opentelemetry.proto.metrics.v1.Exemplar) of a number, histogram or exponential histogram data point. Range-partitioned by data_point_time, daily, with its data point.';
COMMENT ON COLUMN otel_metrics_exemplars.data_point_id IS 'The data point carrying the exemplar: data_point_id of the table data_point_kind names.';
COMMENT ON COLUMN otel_metrics_exemplars.data_point_time IS 'Copy of the data point''s time: the partition key, so that the exemplar is dropped with its data point.';
COMMENT ON COLUMN otel_metrics_exemplars.data_point_kind IS 'Which data-point table data_point_id refers to: 1 otel_metrics_data_points_number (gauge or sum), 3 otel_metrics_data_points_histogram, 4 otel_metrics_data_points_exp_histogram (the metric_types ids; summaries have no exemplars).';
COMMENT ON COLUMN otel_metrics_exemplars.exemplar_index IS 'Position of the exemplar in the data point''s exemplars (0-based).';
COMMENT ON COLUMN otel_metrics_exemplars.time IS 'Exemplar.time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_metrics_exemplars.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time (Exemplar.time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_metrics_exemplars.value_int IS 'Exemplar.as_int; NULL when the value is a double or unset.';
COMMENT ON COLUMN otel_metrics_exemplars.value_double IS 'Exemplar.as_double; NULL when the value is an int or unset.';
COMMENT ON COLUMN otel_metrics_exemplars.trace_id IS 'Exemplar.trace_id, 16 raw bytes; NULL when the measurement was not in a sampled trace.';
COMMENT ON COLUMN otel_metrics_exemplars.span_id IS 'Exemplar.span_id, 8 raw bytes; NULL when absent.';
COMMENT ON COLUMN otel_metrics_exemplars.filtered_attributes IS 'Exemplar.filtered_attributes as one typed JSON object (the normalizer''s encoding); NULL when empty.';

-- Data-point attributes, one set of six tables per data-point kind. Promoted tables: (key_id, value) for
-- filters, owner for fetching; _other tables only the owner index (no GIN, see docs/schema.md).

CREATE TABLE otel_number_dp_attrs_string (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_number_dp_attrs_string_default PARTITION OF otel_number_dp_attrs_string DEFAULT;
CREATE INDEX otel_number_dp_attrs_string_owner_idx ON otel_number_dp_attrs_string (data_point_id);
CREATE INDEX otel_number_dp_attrs_string_key_value_idx ON otel_number_dp_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_number_dp_attrs_string IS 'Promoted string-valued attributes of a number data point (opentelemetry.proto.metrics.v1.NumberDataPoint.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_number_dp_attrs_string.data_point_id IS 'The data point, otel_metrics_data_points_number.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_number_dp_attrs_string.time IS 'Copy of otel_metrics_data_points_number.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_number_dp_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_number_dp_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_number_dp_attrs_int (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_number_dp_attrs_int_default PARTITION OF otel_number_dp_attrs_int DEFAULT;
CREATE INDEX otel_number_dp_attrs_int_owner_idx ON otel_number_dp_attrs_int (data_point_id);
CREATE INDEX otel_number_dp_attrs_int_key_value_idx ON otel_number_dp_attrs_int (key_id, value);
COMMENT ON TABLE otel_number_dp_attrs_int IS 'Promoted int-valued attributes of a number data point (opentelemetry.proto.metrics.v1.NumberDataPoint.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_number_dp_attrs_int.data_point_id IS 'The data point, otel_metrics_data_points_number.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_number_dp_attrs_int.time IS 'Copy of otel_metrics_data_points_number.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_number_dp_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_number_dp_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_number_dp_attrs_double (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_number_dp_attrs_double_default PARTITION OF otel_number_dp_attrs_double DEFAULT;
CREATE INDEX otel_number_dp_attrs_double_owner_idx ON otel_number_dp_attrs_double (data_point_id);
CREATE INDEX otel_number_dp_attrs_double_key_value_idx ON otel_number_dp_attrs_double (key_id, value);
COMMENT ON TABLE otel_number_dp_attrs_double IS 'Promoted double-valued attributes of a number data point (opentelemetry.proto.metrics.v1.NumberDataPoint.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_number_dp_attrs_double.data_point_id IS 'The data point, otel_metrics_data_points_number.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_number_dp_attrs_double.time IS 'Copy of otel_metrics_data_points_number.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_number_dp_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_number_dp_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_number_dp_attrs_bool (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_number_dp_attrs_bool_default PARTITION OF otel_number_dp_attrs_bool DEFAULT;
CREATE INDEX otel_number_dp_attrs_bool_owner_idx ON otel_number_dp_attrs_bool (data_point_id);
CREATE INDEX otel_number_dp_attrs_bool_key_value_idx ON otel_number_dp_attrs_bool (key_id, value);
COMMENT ON TABLE otel_number_dp_attrs_bool IS 'Promoted bool-valued attributes of a number data point (opentelemetry.proto.metrics.v1.NumberDataPoint.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_number_dp_attrs_bool.data_point_id IS 'The data point, otel_metrics_data_points_number.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_number_dp_attrs_bool.time IS 'Copy of otel_metrics_data_points_number.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_number_dp_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_number_dp_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_number_dp_attrs_bytes (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_number_dp_attrs_bytes_default PARTITION OF otel_number_dp_attrs_bytes DEFAULT;
CREATE INDEX otel_number_dp_attrs_bytes_owner_idx ON otel_number_dp_attrs_bytes (data_point_id);
CREATE INDEX otel_number_dp_attrs_bytes_key_value_idx ON otel_number_dp_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_number_dp_attrs_bytes IS 'Promoted bytes-valued attributes of a number data point (opentelemetry.proto.metrics.v1.NumberDataPoint.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_number_dp_attrs_bytes.data_point_id IS 'The data point, otel_metrics_data_points_number.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_number_dp_attrs_bytes.time IS 'Copy of otel_metrics_data_points_number.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_number_dp_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_number_dp_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_number_dp_attrs_other (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_number_dp_attrs_other_default PARTITION OF otel_number_dp_attrs_other DEFAULT;
CREATE INDEX otel_number_dp_attrs_other_owner_idx ON otel_number_dp_attrs_other (data_point_id);
COMMENT ON TABLE otel_number_dp_attrs_other IS 'Unpromoted attributes of a number data point (opentelemetry.proto.metrics.v1.NumberDataPoint.attributes): one row per number data point that has any, holding them all as one typed JSON object. Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_number_dp_attrs_other.data_point_id IS 'The data point, otel_metrics_data_points_number.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_number_dp_attrs_other.time IS 'Copy of otel_metrics_data_points_number.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_number_dp_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

CREATE TABLE otel_histogram_dp_attrs_string (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_histogram_dp_attrs_string_default PARTITION OF otel_histogram_dp_attrs_string DEFAULT;
CREATE INDEX otel_histogram_dp_attrs_string_owner_idx ON otel_histogram_dp_attrs_string (data_point_id);
CREATE INDEX otel_histogram_dp_attrs_string_key_value_idx ON otel_histogram_dp_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_histogram_dp_attrs_string IS 'Promoted string-valued attributes of a histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_histogram_dp_attrs_string.data_point_id IS 'The data point, otel_metrics_data_points_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_histogram_dp_attrs_string.time IS 'Copy of otel_metrics_data_points_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_histogram_dp_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_histogram_dp_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_histogram_dp_attrs_int (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_histogram_dp_attrs_int_default PARTITION OF otel_histogram_dp_attrs_int DEFAULT;
CREATE INDEX otel_histogram_dp_attrs_int_owner_idx ON otel_histogram_dp_attrs_int (data_point_id);
CREATE INDEX otel_histogram_dp_attrs_int_key_value_idx ON otel_histogram_dp_attrs_int (key_id, value);
COMMENT ON TABLE otel_histogram_dp_attrs_int IS 'Promoted int-valued attributes of a histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_histogram_dp_attrs_int.data_point_id IS 'The data point, otel_metrics_data_points_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_histogram_dp_attrs_int.time IS 'Copy of otel_metrics_data_points_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_histogram_dp_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_histogram_dp_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_histogram_dp_attrs_double (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_histogram_dp_attrs_double_default PARTITION OF otel_histogram_dp_attrs_double DEFAULT;
CREATE INDEX otel_histogram_dp_attrs_double_owner_idx ON otel_histogram_dp_attrs_double (data_point_id);
CREATE INDEX otel_histogram_dp_attrs_double_key_value_idx ON otel_histogram_dp_attrs_double (key_id, value);
COMMENT ON TABLE otel_histogram_dp_attrs_double IS 'Promoted double-valued attributes of a histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_histogram_dp_attrs_double.data_point_id IS 'The data point, otel_metrics_data_points_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_histogram_dp_attrs_double.time IS 'Copy of otel_metrics_data_points_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_histogram_dp_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_histogram_dp_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_histogram_dp_attrs_bool (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_histogram_dp_attrs_bool_default PARTITION OF otel_histogram_dp_attrs_bool DEFAULT;
CREATE INDEX otel_histogram_dp_attrs_bool_owner_idx ON otel_histogram_dp_attrs_bool (data_point_id);
CREATE INDEX otel_histogram_dp_attrs_bool_key_value_idx ON otel_histogram_dp_attrs_bool (key_id, value);
COMMENT ON TABLE otel_histogram_dp_attrs_bool IS 'Promoted bool-valued attributes of a histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_histogram_dp_attrs_bool.data_point_id IS 'The data point, otel_metrics_data_points_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_histogram_dp_attrs_bool.time IS 'Copy of otel_metrics_data_points_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_histogram_dp_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_histogram_dp_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_histogram_dp_attrs_bytes (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_histogram_dp_attrs_bytes_default PARTITION OF otel_histogram_dp_attrs_bytes DEFAULT;
CREATE INDEX otel_histogram_dp_attrs_bytes_owner_idx ON otel_histogram_dp_attrs_bytes (data_point_id);
CREATE INDEX otel_histogram_dp_attrs_bytes_key_value_idx ON otel_histogram_dp_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_histogram_dp_attrs_bytes IS 'Promoted bytes-valued attributes of a histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_histogram_dp_attrs_bytes.data_point_id IS 'The data point, otel_metrics_data_points_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_histogram_dp_attrs_bytes.time IS 'Copy of otel_metrics_data_points_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_histogram_dp_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_histogram_dp_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_histogram_dp_attrs_other (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_histogram_dp_attrs_other_default PARTITION OF otel_histogram_dp_attrs_other DEFAULT;
CREATE INDEX otel_histogram_dp_attrs_other_owner_idx ON otel_histogram_dp_attrs_other (data_point_id);
COMMENT ON TABLE otel_histogram_dp_attrs_other IS 'Unpromoted attributes of a histogram data point (opentelemetry.proto.metrics.v1.HistogramDataPoint.attributes): one row per histogram data point that has any, holding them all as one typed JSON object. Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_histogram_dp_attrs_other.data_point_id IS 'The data point, otel_metrics_data_points_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_histogram_dp_attrs_other.time IS 'Copy of otel_metrics_data_points_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_histogram_dp_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

CREATE TABLE otel_exp_histogram_dp_attrs_string (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_exp_histogram_dp_attrs_string_default PARTITION OF otel_exp_histogram_dp_attrs_string DEFAULT;
CREATE INDEX otel_exp_histogram_dp_attrs_string_owner_idx ON otel_exp_histogram_dp_attrs_string (data_point_id);
CREATE INDEX otel_exp_histogram_dp_attrs_string_key_value_idx ON otel_exp_histogram_dp_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_exp_histogram_dp_attrs_string IS 'Promoted string-valued attributes of a exp histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_string.data_point_id IS 'The data point, otel_metrics_data_points_exp_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_string.time IS 'Copy of otel_metrics_data_points_exp_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_exp_histogram_dp_attrs_int (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_exp_histogram_dp_attrs_int_default PARTITION OF otel_exp_histogram_dp_attrs_int DEFAULT;
CREATE INDEX otel_exp_histogram_dp_attrs_int_owner_idx ON otel_exp_histogram_dp_attrs_int (data_point_id);
CREATE INDEX otel_exp_histogram_dp_attrs_int_key_value_idx ON otel_exp_histogram_dp_attrs_int (key_id, value);
COMMENT ON TABLE otel_exp_histogram_dp_attrs_int IS 'Promoted int-valued attributes of a exp histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_int.data_point_id IS 'The data point, otel_metrics_data_points_exp_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_int.time IS 'Copy of otel_metrics_data_points_exp_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_exp_histogram_dp_attrs_double (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_exp_histogram_dp_attrs_double_default PARTITION OF otel_exp_histogram_dp_attrs_double DEFAULT;
CREATE INDEX otel_exp_histogram_dp_attrs_double_owner_idx ON otel_exp_histogram_dp_attrs_double (data_point_id);
CREATE INDEX otel_exp_histogram_dp_attrs_double_key_value_idx ON otel_exp_histogram_dp_attrs_double (key_id, value);
COMMENT ON TABLE otel_exp_histogram_dp_attrs_double IS 'Promoted double-valued attributes of a exp histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_double.data_point_id IS 'The data point, otel_metrics_data_points_exp_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_double.time IS 'Copy of otel_metrics_data_points_exp_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_exp_histogram_dp_attrs_bool (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_exp_histogram_dp_attrs_bool_default PARTITION OF otel_exp_histogram_dp_attrs_bool DEFAULT;
CREATE INDEX otel_exp_histogram_dp_attrs_bool_owner_idx ON otel_exp_histogram_dp_attrs_bool (data_point_id);
CREATE INDEX otel_exp_histogram_dp_attrs_bool_key_value_idx ON otel_exp_histogram_dp_attrs_bool (key_id, value);
COMMENT ON TABLE otel_exp_histogram_dp_attrs_bool IS 'Promoted bool-valued attributes of a exp histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bool.data_point_id IS 'The data point, otel_metrics_data_points_exp_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bool.time IS 'Copy of otel_metrics_data_points_exp_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_exp_histogram_dp_attrs_bytes (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_exp_histogram_dp_attrs_bytes_default PARTITION OF otel_exp_histogram_dp_attrs_bytes DEFAULT;
CREATE INDEX otel_exp_histogram_dp_attrs_bytes_owner_idx ON otel_exp_histogram_dp_attrs_bytes (data_point_id);
CREATE INDEX otel_exp_histogram_dp_attrs_bytes_key_value_idx ON otel_exp_histogram_dp_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_exp_histogram_dp_attrs_bytes IS 'Promoted bytes-valued attributes of a exp histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bytes.data_point_id IS 'The data point, otel_metrics_data_points_exp_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bytes.time IS 'Copy of otel_metrics_data_points_exp_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_exp_histogram_dp_attrs_other (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_exp_histogram_dp_attrs_other_default PARTITION OF otel_exp_histogram_dp_attrs_other DEFAULT;
CREATE INDEX otel_exp_histogram_dp_attrs_other_owner_idx ON otel_exp_histogram_dp_attrs_other (data_point_id);
COMMENT ON TABLE otel_exp_histogram_dp_attrs_other IS 'Unpromoted attributes of a exp histogram data point (opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.attributes): one row per exp histogram data point that has any, holding them all as one typed JSON object. Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_other.data_point_id IS 'The data point, otel_metrics_data_points_exp_histogram.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_other.time IS 'Copy of otel_metrics_data_points_exp_histogram.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_exp_histogram_dp_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

CREATE TABLE otel_summary_dp_attrs_string (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_summary_dp_attrs_string_default PARTITION OF otel_summary_dp_attrs_string DEFAULT;
CREATE INDEX otel_summary_dp_attrs_string_owner_idx ON otel_summary_dp_attrs_string (data_point_id);
CREATE INDEX otel_summary_dp_attrs_string_key_value_idx ON otel_summary_dp_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_summary_dp_attrs_string IS 'Promoted string-valued attributes of a summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_summary_dp_attrs_string.data_point_id IS 'The data point, otel_metrics_data_points_summary.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_summary_dp_attrs_string.time IS 'Copy of otel_metrics_data_points_summary.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_summary_dp_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_summary_dp_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_summary_dp_attrs_int (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_summary_dp_attrs_int_default PARTITION OF otel_summary_dp_attrs_int DEFAULT;
CREATE INDEX otel_summary_dp_attrs_int_owner_idx ON otel_summary_dp_attrs_int (data_point_id);
CREATE INDEX otel_summary_dp_attrs_int_key_value_idx ON otel_summary_dp_attrs_int (key_id, value);
COMMENT ON TABLE otel_summary_dp_attrs_int IS 'Promoted int-valued attributes of a summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_summary_dp_attrs_int.data_point_id IS 'The data point, otel_metrics_data_points_summary.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_summary_dp_attrs_int.time IS 'Copy of otel_metrics_data_points_summary.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_summary_dp_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_summary_dp_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_summary_dp_attrs_double (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_summary_dp_attrs_double_default PARTITION OF otel_summary_dp_attrs_double DEFAULT;
CREATE INDEX otel_summary_dp_attrs_double_owner_idx ON otel_summary_dp_attrs_double (data_point_id);
CREATE INDEX otel_summary_dp_attrs_double_key_value_idx ON otel_summary_dp_attrs_double (key_id, value);
COMMENT ON TABLE otel_summary_dp_attrs_double IS 'Promoted double-valued attributes of a summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_summary_dp_attrs_double.data_point_id IS 'The data point, otel_metrics_data_points_summary.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_summary_dp_attrs_double.time IS 'Copy of otel_metrics_data_points_summary.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_summary_dp_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_summary_dp_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_summary_dp_attrs_bool (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_summary_dp_attrs_bool_default PARTITION OF otel_summary_dp_attrs_bool DEFAULT;
CREATE INDEX otel_summary_dp_attrs_bool_owner_idx ON otel_summary_dp_attrs_bool (data_point_id);
CREATE INDEX otel_summary_dp_attrs_bool_key_value_idx ON otel_summary_dp_attrs_bool (key_id, value);
COMMENT ON TABLE otel_summary_dp_attrs_bool IS 'Promoted bool-valued attributes of a summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_summary_dp_attrs_bool.data_point_id IS 'The data point, otel_metrics_data_points_summary.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_summary_dp_attrs_bool.time IS 'Copy of otel_metrics_data_points_summary.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_summary_dp_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_summary_dp_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_summary_dp_attrs_bytes (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_summary_dp_attrs_bytes_default PARTITION OF otel_summary_dp_attrs_bytes DEFAULT;
CREATE INDEX otel_summary_dp_attrs_bytes_owner_idx ON otel_summary_dp_attrs_bytes (data_point_id);
CREATE INDEX otel_summary_dp_attrs_bytes_key_value_idx ON otel_summary_dp_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_summary_dp_attrs_bytes IS 'Promoted bytes-valued attributes of a summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_summary_dp_attrs_bytes.data_point_id IS 'The data point, otel_metrics_data_points_summary.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_summary_dp_attrs_bytes.time IS 'Copy of otel_metrics_data_points_summary.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_summary_dp_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_summary_dp_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_summary_dp_attrs_other (
    data_point_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_summary_dp_attrs_other_default PARTITION OF otel_summary_dp_attrs_other DEFAULT;
CREATE INDEX otel_summary_dp_attrs_other_owner_idx ON otel_summary_dp_attrs_other (data_point_id);
COMMENT ON TABLE otel_summary_dp_attrs_other IS 'Unpromoted attributes of a summary data point (opentelemetry.proto.metrics.v1.SummaryDataPoint.attributes): one row per summary data point that has any, holding them all as one typed JSON object. Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_summary_dp_attrs_other.data_point_id IS 'The data point, otel_metrics_data_points_summary.data_point_id (surrogate id).';
COMMENT ON COLUMN otel_summary_dp_attrs_other.time IS 'Copy of otel_metrics_data_points_summary.time of the owning data point: the partition key, so that these rows are dropped with the data point.';
COMMENT ON COLUMN otel_summary_dp_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

