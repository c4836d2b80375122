-- Ingest bookkeeping: how far each write-ahead log has been committed, and the id block sequence.

CREATE TABLE ingest_checkpoints (
    wal_id TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE ingest_checkpoints IS 'One row per write-ahead log (per receiver instance): the last WAL sequence whose data is committed here. The writer upserts it in the same transaction as the batch data, so after a crash replay resumes exactly after it (ollyscale bookkeeping, no OTLP message).';
COMMENT ON COLUMN ingest_checkpoints.wal_id IS 'The WAL''s persistent identity (created with the WAL, kept across restarts).';
COMMENT ON COLUMN ingest_checkpoints.last_seq IS 'The highest WAL sequence number whose batch is committed in this database.';
COMMENT ON COLUMN ingest_checkpoints.updated_at IS 'When the checkpoint last advanced.';

-- Surrogate ids of fact rows (log_id, span_row_id, event_row_id, link_row_id, data_point_id): one nextval
-- reserves a block of 65536 ids (id = nextval * 65536 + i), so a writer allocates ids for a whole batch
-- with one round trip and partitioned facts need no IDENTITY. MAXVALUE keeps nextval * 65536 + 65535
-- within BIGINT.
CREATE SEQUENCE otel_id_block_seq AS BIGINT START WITH 1 MINVALUE 1 MAXVALUE 140737488355327 NO CYCLE;
COMMENT ON SEQUENCE otel_id_block_seq IS 'Id blocks for fact rows: nextval n reserves the ids n * 65536 .. n * 65536 + 65535 (for log_id, span_row_id, event_row_id, link_row_id, data_point_id).';
