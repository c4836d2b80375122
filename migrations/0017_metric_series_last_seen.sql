-- Metric series are pruned once no batch has carried them within the metrics retention: their points are
-- gone with the expired partitions, and without pruning the registry grows with every series ever seen
-- (a pod name or a user id in a metric's attributes makes new series every day). The writer refreshes
-- last_seen the way it does for resources and scopes: when a batch carries the series and this process has
-- not refreshed it within the refresh interval (5 minutes by default). Existing rows start from now.

ALTER TABLE otel_metric_series ADD COLUMN last_seen TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX otel_metric_series_last_seen_idx ON otel_metric_series (last_seen);
COMMENT ON COLUMN otel_metric_series.last_seen IS 'Receive time of the newest batch that carried the series, refreshed at most once per refresh interval per writer process (never moved backwards). Maintenance deletes series whose last_seen is before the first day the metrics retention keeps; a writer registers a pruned series again the next time a batch carries it after the interval.';
