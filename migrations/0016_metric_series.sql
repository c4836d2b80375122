-- Metric series: a series is a metric plus a resource plus a data point attribute set. The series query
-- told series apart at read time by hashing every point's attribute rows, and read every point of the
-- metric in the window to find one service's series (1.1-1.4 s for one service's series on 10M points, and
-- a one-hour window of a whole metric over the 500k-point budget). The writer now stamps each data point
-- with its series key and registers the series once, so a query pages through the series of a metric and
-- reads only the points of the series on its page, along (series_key, time).
-- Data points stored before this migration have no series key (it is a hash the writer computes; SQL cannot
-- recompute it), so the series query does not see them; the metric search still does.

CREATE TABLE otel_metric_series (
    series_key BIGINT PRIMARY KEY,
    metric_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    attributes JSONB NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX otel_metric_series_metric_idx ON otel_metric_series (metric_id, resource_id);
COMMENT ON TABLE otel_metric_series IS 'One row per metric series (metric, resource, data point attribute set), registered by the writer in the transaction of the first batch that carries it (INSERT ... ON CONFLICT DO NOTHING). The series query pages through these rows.';
COMMENT ON COLUMN otel_metric_series.series_key IS 'The series identity: the first 8 bytes (little-endian i64) of blake3 over the canonical encoding of metric_id, resource_id and the attribute set without dropped keys (src/normalize/identity.rs, docs/schema.md). Stored in the series_key column of every data point of the series.';
COMMENT ON COLUMN otel_metric_series.metric_id IS 'The metric, otel_metrics_dim.metric_id (no FK, like the data points).';
COMMENT ON COLUMN otel_metric_series.resource_id IS 'The resource, otel_resources_dim.resource_id (no FK).';
COMMENT ON COLUMN otel_metric_series.attributes IS 'The data point attribute set as typed JSON (the encoding of the _other tables, src/normalize/anyvalue.rs), in key order, dropped keys removed: what the series query reports, without reading the points'' attribute rows.';
COMMENT ON COLUMN otel_metric_series.first_seen IS 'When the first batch carrying the series was committed.';

ALTER TABLE otel_metrics_data_points_number ADD COLUMN series_key BIGINT;
ALTER TABLE otel_metrics_data_points_histogram ADD COLUMN series_key BIGINT;
ALTER TABLE otel_metrics_data_points_exp_histogram ADD COLUMN series_key BIGINT;
ALTER TABLE otel_metrics_data_points_summary ADD COLUMN series_key BIGINT;
CREATE INDEX otel_metrics_data_points_number_series_time_idx ON otel_metrics_data_points_number (series_key, time);
CREATE INDEX otel_metrics_data_points_histogram_series_time_idx ON otel_metrics_data_points_histogram (series_key, time);
CREATE INDEX otel_metrics_data_points_exp_histogram_series_time_idx ON otel_metrics_data_points_exp_histogram (series_key, time);
CREATE INDEX otel_metrics_data_points_summary_series_time_idx ON otel_metrics_data_points_summary (series_key, time);
COMMENT ON COLUMN otel_metrics_data_points_number.series_key IS 'The series of the point, otel_metric_series.series_key; NULL for points stored before migration 0016.';
COMMENT ON COLUMN otel_metrics_data_points_histogram.series_key IS 'The series of the point, otel_metric_series.series_key; NULL for points stored before migration 0016.';
COMMENT ON COLUMN otel_metrics_data_points_exp_histogram.series_key IS 'The series of the point, otel_metric_series.series_key; NULL for points stored before migration 0016.';
COMMENT ON COLUMN otel_metrics_data_points_summary.series_key IS 'The series of the point, otel_metric_series.series_key; NULL for points stored before migration 0016.';
