-- Span rollups of batches written while the writer is behind. Each batch's rollups were upserted into the
-- three rollup tables in its own transaction, a few thousand rows per batch on a many-operation load, which
-- cost about a fifth of the machine (docs/benchmarks.md). While more WAL records wait behind a batch, the batch
-- now stores its rollups here as one row instead, in its own transaction (so they stay exactly once), and a
-- later batch of the same WAL takes every such row, adds them to its own rollups and upserts the sum: the
-- rows of one minute are upserted once per flush rather than once per batch.

CREATE TABLE otel_span_rollups_pending (
    wal_id TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    rollups BYTEA NOT NULL,
    PRIMARY KEY (wal_id, last_seq)
);
-- Written once and read once: compressing it would cost the writer CPU for nothing.
ALTER TABLE otel_span_rollups_pending ALTER COLUMN rollups SET STORAGE EXTERNAL;
COMMENT ON TABLE otel_span_rollups_pending IS 'Span rollups (services, operations, service-map edges) of committed batches not yet added to otel_service_rollups, otel_operation_rollups and otel_service_edges: one row per batch, inserted in the batch''s transaction while WAL records waited behind it, deleted by the later batch of the same WAL that adds them (src/write/rollup_pending.rs). Empty whenever the writer has caught up.';
COMMENT ON COLUMN otel_span_rollups_pending.wal_id IS 'The WAL whose batch wrote the row (ingest_checkpoints.wal_id); only that WAL''s writer takes it.';
COMMENT ON COLUMN otel_span_rollups_pending.last_seq IS 'The batch''s last WAL sequence (its checkpoint).';
COMMENT ON COLUMN otel_span_rollups_pending.rollups IS 'The batch''s rollup rows, encoded by src/write/rollup_pending.rs (a format byte, then bincode of the three maps, latency histograms in their stored form).';
