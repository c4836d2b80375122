-- Compaction of the span rollups into ten-minute slots. A one-hour window of per-minute rows is 60 rows per
-- service (12,000 at 200 services) and the API merges every one of them per request: ~5 µs a row, 65 ms for
-- the services list on the 10-million-span benchmark. Once a slot has closed, maintenance (src/write/compact.rs)
-- replaces its minute rows with one row per key at the slot's start, so an hour is about 6 slot rows plus the
-- minutes not yet compacted.
--
-- `minutes` says which a row is. The writer always adds minute rows; one that lands on a slot row's bucket (a
-- late span in the slot's first minute) adds to that row, which stays a slot row (upserts keep the larger
-- `minutes`), and a late span in another minute of a compacted slot makes a minute row that the next pass
-- folds into the slot. Either way every span is counted once.

ALTER TABLE otel_service_rollups ADD COLUMN minutes SMALLINT NOT NULL DEFAULT 1 CHECK (minutes IN (1, 10));
ALTER TABLE otel_operation_rollups ADD COLUMN minutes SMALLINT NOT NULL DEFAULT 1 CHECK (minutes IN (1, 10));
ALTER TABLE otel_service_edges ADD COLUMN minutes SMALLINT NOT NULL DEFAULT 1 CHECK (minutes IN (1, 10));

COMMENT ON COLUMN otel_service_rollups.minutes IS 'Minutes the row covers from bucket: 1 as the writer adds it, 10 once compaction has folded the minutes of a closed ten-minute slot into it (bucket is then the slot''s start).';
COMMENT ON COLUMN otel_operation_rollups.minutes IS 'Minutes the row covers from bucket: 1 as the writer adds it, 10 once compaction has folded the minutes of a closed ten-minute slot into it (bucket is then the slot''s start).';
COMMENT ON COLUMN otel_service_edges.minutes IS 'Minutes the row covers from bucket: 1 as the writer adds it, 10 once compaction has folded the minutes of a closed ten-minute slot into it (bucket is then the slot''s start).';

-- What compaction reads: the minute rows left, by bucket. Partial, so it holds only the rows not yet compacted.
CREATE INDEX otel_service_rollups_minute_rows_idx ON otel_service_rollups (bucket) WHERE minutes = 1;
CREATE INDEX otel_operation_rollups_minute_rows_idx ON otel_operation_rollups (bucket) WHERE minutes = 1;
CREATE INDEX otel_service_edges_minute_rows_idx ON otel_service_edges (bucket) WHERE minutes = 1;
COMMENT ON INDEX otel_service_rollups_minute_rows_idx IS 'Minute rows not yet compacted, for src/write/compact.rs.';
COMMENT ON INDEX otel_operation_rollups_minute_rows_idx IS 'Minute rows not yet compacted, for src/write/compact.rs.';
COMMENT ON INDEX otel_service_edges_minute_rows_idx IS 'Minute rows not yet compacted, for src/write/compact.rs.';
