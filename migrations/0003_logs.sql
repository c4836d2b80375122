-- Logs: the log record fact and its typed attribute tables, all range-partitioned by day on the record's
-- time. Daily partitions are created (ahead) and dropped (past retention) by src/db/partitions.rs; the
-- DEFAULT partitions catch rows for which no daily partition exists yet, so that a batch never fails on
-- its timestamps, and partition maintenance moves those rows into their partition when it creates it.
--
-- No foreign keys from facts to the dimensions (resource_id, scope_id): each would cost an index probe
-- per inserted row, the writer resolves the ids itself in the same transaction, and dimensions are never
-- deleted while facts reference them. Foreign keys to the tiny reference tables stay: they keep enum
-- values honest, and their probes hit a few cached pages.

CREATE TABLE otel_logs_fact (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    time_unset BOOLEAN NOT NULL DEFAULT false,
    observed_time TIMESTAMPTZ,
    observed_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (observed_time_nanos_fraction BETWEEN 0 AND 999),
    severity_number SMALLINT NOT NULL REFERENCES log_severity_numbers (id),
    severity_text TEXT NOT NULL DEFAULT '',
    body_type SMALLINT NOT NULL REFERENCES log_body_types (id),
    body_string TEXT,
    body_int BIGINT,
    body_double DOUBLE PRECISION,
    body_bool BOOLEAN,
    body_bytes BYTEA,
    body_json JSONB,
    trace_id BYTEA CHECK (octet_length(trace_id) = 16),
    span_id BYTEA CHECK (octet_length(span_id) = 8),
    flags INTEGER NOT NULL DEFAULT 0,
    event_name TEXT NOT NULL DEFAULT '',
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
    resource_id BIGINT NOT NULL,
    scope_id BIGINT NOT NULL,
    CHECK (num_nonnulls(body_string, body_int, body_double, body_bool, body_bytes, body_json) <= 1)
) PARTITION BY RANGE (time);
CREATE TABLE otel_logs_fact_default PARTITION OF otel_logs_fact DEFAULT;
-- Keyset paging (ORDER BY time DESC, log_id DESC): appends at the right edge, cheap on ingest.
CREATE INDEX otel_logs_fact_time_idx ON otel_logs_fact (time, log_id);
-- Logs of a trace; most logs carry no trace context, so the partial index stays small.
CREATE INDEX otel_logs_fact_trace_id_idx ON otel_logs_fact (trace_id) WHERE trace_id IS NOT NULL;
-- Logs of a service (its resources) in a time window.
CREATE INDEX otel_logs_fact_resource_time_idx ON otel_logs_fact (resource_id, time);
COMMENT ON TABLE otel_logs_fact IS 'One row per log record (opentelemetry.proto.logs.v1.LogRecord), with its resource and scope as dimension ids. Range-partitioned by time, daily; attributes are in otel_log_attrs_*.';
COMMENT ON COLUMN otel_logs_fact.log_id IS 'Surrogate id of the record, allocated by the writer from otel_id_block_seq (unique together with time).';
COMMENT ON COLUMN otel_logs_fact.time IS 'LogRecord.time_unix_nano to the microsecond; when that is 0 (unset), the observed time, or else the receive time (see time_unset). The partition key.';
COMMENT ON COLUMN otel_logs_fact.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time: time + fraction is the exact unix-nanosecond value.';
COMMENT ON COLUMN otel_logs_fact.time_unset IS 'True when LogRecord.time_unix_nano was 0 and time holds a substitute (observed or receive time).';
COMMENT ON COLUMN otel_logs_fact.observed_time IS 'LogRecord.observed_time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_logs_fact.observed_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of observed_time (LogRecord.observed_time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_logs_fact.severity_number IS 'LogRecord.severity_number, log_severity_numbers.id.';
COMMENT ON COLUMN otel_logs_fact.severity_text IS 'LogRecord.severity_text; empty when not sent.';
COMMENT ON COLUMN otel_logs_fact.body_type IS 'Which AnyValue case LogRecord.body holds (log_body_types.id), and so which body_* column is set (none for 0 empty).';
COMMENT ON COLUMN otel_logs_fact.body_string IS 'LogRecord.body when it is a string_value.';
COMMENT ON COLUMN otel_logs_fact.body_int IS 'LogRecord.body when it is an int_value.';
COMMENT ON COLUMN otel_logs_fact.body_double IS 'LogRecord.body when it is a double_value.';
COMMENT ON COLUMN otel_logs_fact.body_bool IS 'LogRecord.body when it is a bool_value.';
COMMENT ON COLUMN otel_logs_fact.body_bytes IS 'LogRecord.body when it is a bytes_value.';
COMMENT ON COLUMN otel_logs_fact.body_json IS 'LogRecord.body when it is an array_value or kvlist_value, in the normalizer''s typed JSON encoding (arrays as arrays, kvlists as objects of typed values).';
COMMENT ON COLUMN otel_logs_fact.trace_id IS 'LogRecord.trace_id, 16 raw bytes (shown as lowercase hex by the API); NULL when the record has no trace context.';
COMMENT ON COLUMN otel_logs_fact.span_id IS 'LogRecord.span_id, 8 raw bytes; NULL when absent.';
COMMENT ON COLUMN otel_logs_fact.flags IS 'LogRecord.flags (fixed32, W3C trace flags in the low byte): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_logs_fact.event_name IS 'LogRecord.event_name; empty when not sent.';
COMMENT ON COLUMN otel_logs_fact.dropped_attributes_count IS 'LogRecord.dropped_attributes_count (uint32).';
COMMENT ON COLUMN otel_logs_fact.resource_id IS 'The record''s resource, otel_resources_dim.resource_id (no FK, see the migration header).';
COMMENT ON COLUMN otel_logs_fact.scope_id IS 'The record''s instrumentation scope, otel_scopes_dim.scope_id (no FK).';

-- Log attributes. Promoted tables: (key_id, value) for filters, owner for fetching. The _other table
-- has only the owner index: a GIN index on every record's attributes costs more on ingest than the
-- occasional filter on an unpromoted key gains (that filter scans the time-pruned partitions).

CREATE TABLE otel_log_attrs_string (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_log_attrs_string_default PARTITION OF otel_log_attrs_string DEFAULT;
CREATE INDEX otel_log_attrs_string_owner_idx ON otel_log_attrs_string (log_id);
CREATE INDEX otel_log_attrs_string_key_value_idx ON otel_log_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_log_attrs_string IS 'Promoted string-valued attributes of a log record (opentelemetry.proto.logs.v1.LogRecord.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_log_attrs_string.log_id IS 'The log record, otel_logs_fact.log_id.';
COMMENT ON COLUMN otel_log_attrs_string.time IS 'Copy of otel_logs_fact.time of the owning log record: the partition key, so that attribute rows are pruned and dropped with their record.';
COMMENT ON COLUMN otel_log_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_log_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_log_attrs_int (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_log_attrs_int_default PARTITION OF otel_log_attrs_int DEFAULT;
CREATE INDEX otel_log_attrs_int_owner_idx ON otel_log_attrs_int (log_id);
CREATE INDEX otel_log_attrs_int_key_value_idx ON otel_log_attrs_int (key_id, value);
COMMENT ON TABLE otel_log_attrs_int IS 'Promoted int-valued attributes of a log record (opentelemetry.proto.logs.v1.LogRecord.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_log_attrs_int.log_id IS 'The log record, otel_logs_fact.log_id.';
COMMENT ON COLUMN otel_log_attrs_int.time IS 'Copy of otel_logs_fact.time of the owning log record: the partition key, so that attribute rows are pruned and dropped with their record.';
COMMENT ON COLUMN otel_log_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_log_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_log_attrs_double (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_log_attrs_double_default PARTITION OF otel_log_attrs_double DEFAULT;
CREATE INDEX otel_log_attrs_double_owner_idx ON otel_log_attrs_double (log_id);
CREATE INDEX otel_log_attrs_double_key_value_idx ON otel_log_attrs_double (key_id, value);
COMMENT ON TABLE otel_log_attrs_double IS 'Promoted double-valued attributes of a log record (opentelemetry.proto.logs.v1.LogRecord.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_log_attrs_double.log_id IS 'The log record, otel_logs_fact.log_id.';
COMMENT ON COLUMN otel_log_attrs_double.time IS 'Copy of otel_logs_fact.time of the owning log record: the partition key, so that attribute rows are pruned and dropped with their record.';
COMMENT ON COLUMN otel_log_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_log_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_log_attrs_bool (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_log_attrs_bool_default PARTITION OF otel_log_attrs_bool DEFAULT;
CREATE INDEX otel_log_attrs_bool_owner_idx ON otel_log_attrs_bool (log_id);
CREATE INDEX otel_log_attrs_bool_key_value_idx ON otel_log_attrs_bool (key_id, value);
COMMENT ON TABLE otel_log_attrs_bool IS 'Promoted bool-valued attributes of a log record (opentelemetry.proto.logs.v1.LogRecord.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_log_attrs_bool.log_id IS 'The log record, otel_logs_fact.log_id.';
COMMENT ON COLUMN otel_log_attrs_bool.time IS 'Copy of otel_logs_fact.time of the owning log record: the partition key, so that attribute rows are pruned and dropped with their record.';
COMMENT ON COLUMN otel_log_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_log_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_log_attrs_bytes (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_log_attrs_bytes_default PARTITION OF otel_log_attrs_bytes DEFAULT;
CREATE INDEX otel_log_attrs_bytes_owner_idx ON otel_log_attrs_bytes (log_id);
CREATE INDEX otel_log_attrs_bytes_key_value_idx ON otel_log_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_log_attrs_bytes IS 'Promoted bytes-valued attributes of a log record (opentelemetry.proto.logs.v1.LogRecord.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_log_attrs_bytes.log_id IS 'The log record, otel_logs_fact.log_id.';
COMMENT ON COLUMN otel_log_attrs_bytes.time IS 'Copy of otel_logs_fact.time of the owning log record: the partition key, so that attribute rows are pruned and dropped with their record.';
COMMENT ON COLUMN otel_log_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_log_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_log_attrs_other (
    log_id BIGINT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (time);
CREATE TABLE otel_log_attrs_other_default PARTITION OF otel_log_attrs_other DEFAULT;
CREATE INDEX otel_log_attrs_other_owner_idx ON otel_log_attrs_other (log_id);
COMMENT ON TABLE otel_log_attrs_other IS 'Unpromoted attributes of a log record (opentelemetry.proto.logs.v1.LogRecord.attributes): one row per log record that has any, holding them all as one typed JSON object. Range-partitioned by time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_log_attrs_other.log_id IS 'The log record, otel_logs_fact.log_id.';
COMMENT ON COLUMN otel_log_attrs_other.time IS 'Copy of otel_logs_fact.time of the owning log record: the partition key, so that attribute rows are pruned and dropped with their record.';
COMMENT ON COLUMN otel_log_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

