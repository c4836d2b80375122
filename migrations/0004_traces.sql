-- Traces: spans, their events and links, and the typed attribute tables of all three, range-partitioned
-- by day on the span's start time. Events, links and every attribute row carry a copy of their span's
-- start_time as their partition key, so that a span and everything hanging off it live in partitions of
-- the same day and are dropped together. No foreign keys to the dimensions (see 0003_logs.sql).

CREATE TABLE otel_spans_fact (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    start_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (start_time_nanos_fraction BETWEEN 0 AND 999),
    end_time TIMESTAMPTZ NOT NULL,
    end_time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (end_time_nanos_fraction BETWEEN 0 AND 999),
    duration_ns BIGINT NOT NULL,
    trace_id BYTEA NOT NULL CHECK (octet_length(trace_id) = 16),
    span_id BYTEA NOT NULL CHECK (octet_length(span_id) = 8),
    parent_span_id BYTEA CHECK (octet_length(parent_span_id) = 8),
    trace_state TEXT NOT NULL DEFAULT '',
    flags INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    kind SMALLINT NOT NULL REFERENCES span_kinds (id),
    status_code SMALLINT NOT NULL REFERENCES status_codes (id),
    status_message TEXT NOT NULL DEFAULT '',
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
    dropped_events_count INTEGER NOT NULL DEFAULT 0,
    dropped_links_count INTEGER NOT NULL DEFAULT 0,
    resource_id BIGINT NOT NULL,
    scope_id BIGINT NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_spans_fact_default PARTITION OF otel_spans_fact DEFAULT;
-- Trace by id. The one random-valued index; daily partitions keep each one small enough to stay cached.
CREATE INDEX otel_spans_fact_trace_id_idx ON otel_spans_fact (trace_id);
-- Time-ordered listing and keyset paging; also the join target of attribute rows (start_time, span_row_id).
CREATE INDEX otel_spans_fact_start_time_idx ON otel_spans_fact (start_time, span_row_id);
-- Spans of a service (its resources) in a time window.
CREATE INDEX otel_spans_fact_resource_time_idx ON otel_spans_fact (resource_id, start_time);
COMMENT ON TABLE otel_spans_fact IS 'One row per span (opentelemetry.proto.trace.v1.Span), with its resource and scope as dimension ids. Range-partitioned by start_time, daily; events, links and attributes are in otel_span_events, otel_span_links and otel_span_attrs_*.';
COMMENT ON COLUMN otel_spans_fact.span_row_id IS 'Surrogate id of the span row, allocated by the writer from otel_id_block_seq (the OTLP id is span_id); referenced by events, links and attribute rows.';
COMMENT ON COLUMN otel_spans_fact.start_time IS 'Span.start_time_unix_nano to the microsecond. The partition key.';
COMMENT ON COLUMN otel_spans_fact.start_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of start_time (Span.start_time_unix_nano).';
COMMENT ON COLUMN otel_spans_fact.end_time IS 'Span.end_time_unix_nano to the microsecond.';
COMMENT ON COLUMN otel_spans_fact.end_time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of end_time (Span.end_time_unix_nano).';
COMMENT ON COLUMN otel_spans_fact.duration_ns IS 'end_time_unix_nano - start_time_unix_nano in nanoseconds, exact (negative if the sender reversed them).';
COMMENT ON COLUMN otel_spans_fact.trace_id IS 'Span.trace_id, 16 raw bytes (shown as lowercase hex by the API).';
COMMENT ON COLUMN otel_spans_fact.span_id IS 'Span.span_id, 8 raw bytes.';
COMMENT ON COLUMN otel_spans_fact.parent_span_id IS 'Span.parent_span_id, 8 raw bytes; NULL for a root span (empty in OTLP).';
COMMENT ON COLUMN otel_spans_fact.trace_state IS 'Span.trace_state (W3C tracestate header value); empty when not sent.';
COMMENT ON COLUMN otel_spans_fact.flags IS 'Span.flags (fixed32: W3C trace flags in bits 0-7, has/is-remote parent in bits 8-9): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_spans_fact.name IS 'Span.name (the operation).';
COMMENT ON COLUMN otel_spans_fact.kind IS 'Span.kind, span_kinds.id.';
COMMENT ON COLUMN otel_spans_fact.status_code IS 'Span.status.code, status_codes.id (2 ERROR is what the API calls an error).';
COMMENT ON COLUMN otel_spans_fact.status_message IS 'Span.status.message; empty when not sent.';
COMMENT ON COLUMN otel_spans_fact.dropped_attributes_count IS 'Span.dropped_attributes_count (uint32).';
COMMENT ON COLUMN otel_spans_fact.dropped_events_count IS 'Span.dropped_events_count (uint32).';
COMMENT ON COLUMN otel_spans_fact.dropped_links_count IS 'Span.dropped_links_count (uint32).';
COMMENT ON COLUMN otel_spans_fact.resource_id IS 'The span''s resource, otel_resources_dim.resource_id (no FK).';
COMMENT ON COLUMN otel_spans_fact.scope_id IS 'The span''s instrumentation scope, otel_scopes_dim.scope_id (no FK).';

CREATE TABLE otel_span_events (
    event_row_id BIGINT NOT NULL,
    span_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    event_index INTEGER NOT NULL,
    time TIMESTAMPTZ,
    time_nanos_fraction SMALLINT NOT NULL DEFAULT 0 CHECK (time_nanos_fraction BETWEEN 0 AND 999),
    name TEXT NOT NULL DEFAULT '',
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_events_default PARTITION OF otel_span_events DEFAULT;
CREATE INDEX otel_span_events_span_idx ON otel_span_events (span_row_id);
COMMENT ON TABLE otel_span_events IS 'One row per span event (opentelemetry.proto.trace.v1.Span.Event). Range-partitioned by span_start_time, daily, with its span; attributes are in otel_span_event_attrs_*.';
COMMENT ON COLUMN otel_span_events.event_row_id IS 'Surrogate id of the event row, allocated by the writer from otel_id_block_seq; referenced by otel_span_event_attrs_*.';
COMMENT ON COLUMN otel_span_events.span_row_id IS 'The span the event belongs to, otel_spans_fact.span_row_id.';
COMMENT ON COLUMN otel_span_events.span_start_time IS 'Copy of the span''s start_time: the partition key, so that the event lives and is dropped with its span.';
COMMENT ON COLUMN otel_span_events.event_index IS 'Position of the event in Span.events (0-based), to keep the sent order.';
COMMENT ON COLUMN otel_span_events.time IS 'Span.Event.time_unix_nano to the microsecond; NULL when 0 (unset).';
COMMENT ON COLUMN otel_span_events.time_nanos_fraction IS 'Sub-microsecond nanoseconds (0..999) of time (Span.Event.time_unix_nano); 0 when unset.';
COMMENT ON COLUMN otel_span_events.name IS 'Span.Event.name.';
COMMENT ON COLUMN otel_span_events.dropped_attributes_count IS 'Span.Event.dropped_attributes_count (uint32).';

CREATE TABLE otel_span_links (
    link_row_id BIGINT NOT NULL,
    span_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    link_index INTEGER NOT NULL,
    trace_id BYTEA NOT NULL CHECK (octet_length(trace_id) = 16),
    span_id BYTEA NOT NULL CHECK (octet_length(span_id) = 8),
    trace_state TEXT NOT NULL DEFAULT '',
    flags INTEGER NOT NULL DEFAULT 0,
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_links_default PARTITION OF otel_span_links DEFAULT;
CREATE INDEX otel_span_links_span_idx ON otel_span_links (span_row_id);
-- Spans that link to a given trace (the reverse direction of a link).
CREATE INDEX otel_span_links_trace_id_idx ON otel_span_links (trace_id);
COMMENT ON TABLE otel_span_links IS 'One row per span link (opentelemetry.proto.trace.v1.Span.Link). Range-partitioned by span_start_time, daily, with its span; attributes are in otel_span_link_attrs_*.';
COMMENT ON COLUMN otel_span_links.link_row_id IS 'Surrogate id of the link row, allocated by the writer from otel_id_block_seq; referenced by otel_span_link_attrs_*.';
COMMENT ON COLUMN otel_span_links.span_row_id IS 'The span that carries the link, otel_spans_fact.span_row_id.';
COMMENT ON COLUMN otel_span_links.span_start_time IS 'Copy of the carrying span''s start_time: the partition key, so that the link lives and is dropped with its span.';
COMMENT ON COLUMN otel_span_links.link_index IS 'Position of the link in Span.links (0-based), to keep the sent order.';
COMMENT ON COLUMN otel_span_links.trace_id IS 'Span.Link.trace_id of the linked span, 16 raw bytes.';
COMMENT ON COLUMN otel_span_links.span_id IS 'Span.Link.span_id of the linked span, 8 raw bytes.';
COMMENT ON COLUMN otel_span_links.trace_state IS 'Span.Link.trace_state; empty when not sent.';
COMMENT ON COLUMN otel_span_links.flags IS 'Span.Link.flags (fixed32, same bits as Span.flags): the u32 bit pattern reinterpreted as a signed INTEGER.';
COMMENT ON COLUMN otel_span_links.dropped_attributes_count IS 'Span.Link.dropped_attributes_count (uint32).';

-- Span, event and link attributes. Promoted tables: (key_id, value) for filters, owner for fetching.
-- The _other tables have only the owner index (no GIN): see 0003_logs.sql and docs/schema.md.

CREATE TABLE otel_span_attrs_string (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_span_attrs_string_default PARTITION OF otel_span_attrs_string DEFAULT;
CREATE INDEX otel_span_attrs_string_owner_idx ON otel_span_attrs_string (span_row_id);
CREATE INDEX otel_span_attrs_string_key_value_idx ON otel_span_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_span_attrs_string IS 'Promoted string-valued attributes of a span (opentelemetry.proto.trace.v1.Span.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_attrs_string.span_row_id IS 'The span, otel_spans_fact.span_row_id (ollyscale''s surrogate id, not the OTLP span_id).';
COMMENT ON COLUMN otel_span_attrs_string.start_time IS 'Copy of otel_spans_fact.start_time of the owning span: the partition key, so that attribute rows are pruned and dropped with their span.';
COMMENT ON COLUMN otel_span_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_span_attrs_int (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_span_attrs_int_default PARTITION OF otel_span_attrs_int DEFAULT;
CREATE INDEX otel_span_attrs_int_owner_idx ON otel_span_attrs_int (span_row_id);
CREATE INDEX otel_span_attrs_int_key_value_idx ON otel_span_attrs_int (key_id, value);
COMMENT ON TABLE otel_span_attrs_int IS 'Promoted int-valued attributes of a span (opentelemetry.proto.trace.v1.Span.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_attrs_int.span_row_id IS 'The span, otel_spans_fact.span_row_id (ollyscale''s surrogate id, not the OTLP span_id).';
COMMENT ON COLUMN otel_span_attrs_int.start_time IS 'Copy of otel_spans_fact.start_time of the owning span: the partition key, so that attribute rows are pruned and dropped with their span.';
COMMENT ON COLUMN otel_span_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_span_attrs_double (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_span_attrs_double_default PARTITION OF otel_span_attrs_double DEFAULT;
CREATE INDEX otel_span_attrs_double_owner_idx ON otel_span_attrs_double (span_row_id);
CREATE INDEX otel_span_attrs_double_key_value_idx ON otel_span_attrs_double (key_id, value);
COMMENT ON TABLE otel_span_attrs_double IS 'Promoted double-valued attributes of a span (opentelemetry.proto.trace.v1.Span.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_attrs_double.span_row_id IS 'The span, otel_spans_fact.span_row_id (ollyscale''s surrogate id, not the OTLP span_id).';
COMMENT ON COLUMN otel_span_attrs_double.start_time IS 'Copy of otel_spans_fact.start_time of the owning span: the partition key, so that attribute rows are pruned and dropped with their span.';
COMMENT ON COLUMN otel_span_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_span_attrs_bool (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_span_attrs_bool_default PARTITION OF otel_span_attrs_bool DEFAULT;
CREATE INDEX otel_span_attrs_bool_owner_idx ON otel_span_attrs_bool (span_row_id);
CREATE INDEX otel_span_attrs_bool_key_value_idx ON otel_span_attrs_bool (key_id, value);
COMMENT ON TABLE otel_span_attrs_bool IS 'Promoted bool-valued attributes of a span (opentelemetry.proto.trace.v1.Span.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_attrs_bool.span_row_id IS 'The span, otel_spans_fact.span_row_id (ollyscale''s surrogate id, not the OTLP span_id).';
COMMENT ON COLUMN otel_span_attrs_bool.start_time IS 'Copy of otel_spans_fact.start_time of the owning span: the partition key, so that attribute rows are pruned and dropped with their span.';
COMMENT ON COLUMN otel_span_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_span_attrs_bytes (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_span_attrs_bytes_default PARTITION OF otel_span_attrs_bytes DEFAULT;
CREATE INDEX otel_span_attrs_bytes_owner_idx ON otel_span_attrs_bytes (span_row_id);
CREATE INDEX otel_span_attrs_bytes_key_value_idx ON otel_span_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_span_attrs_bytes IS 'Promoted bytes-valued attributes of a span (opentelemetry.proto.trace.v1.Span.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_attrs_bytes.span_row_id IS 'The span, otel_spans_fact.span_row_id (ollyscale''s surrogate id, not the OTLP span_id).';
COMMENT ON COLUMN otel_span_attrs_bytes.start_time IS 'Copy of otel_spans_fact.start_time of the owning span: the partition key, so that attribute rows are pruned and dropped with their span.';
COMMENT ON COLUMN otel_span_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_span_attrs_other (
    span_row_id BIGINT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (start_time);
CREATE TABLE otel_span_attrs_other_default PARTITION OF otel_span_attrs_other DEFAULT;
CREATE INDEX otel_span_attrs_other_owner_idx ON otel_span_attrs_other (span_row_id);
COMMENT ON TABLE otel_span_attrs_other IS 'Unpromoted attributes of a span (opentelemetry.proto.trace.v1.Span.attributes): one row per span that has any, holding them all as one typed JSON object. Range-partitioned by start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_attrs_other.span_row_id IS 'The span, otel_spans_fact.span_row_id (ollyscale''s surrogate id, not the OTLP span_id).';
COMMENT ON COLUMN otel_span_attrs_other.start_time IS 'Copy of otel_spans_fact.start_time of the owning span: the partition key, so that attribute rows are pruned and dropped with their span.';
COMMENT ON COLUMN otel_span_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

CREATE TABLE otel_span_event_attrs_string (
    event_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_event_attrs_string_default PARTITION OF otel_span_event_attrs_string DEFAULT;
CREATE INDEX otel_span_event_attrs_string_owner_idx ON otel_span_event_attrs_string (event_row_id);
CREATE INDEX otel_span_event_attrs_string_key_value_idx ON otel_span_event_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_span_event_attrs_string IS 'Promoted string-valued attributes of a span event (opentelemetry.proto.trace.v1.Span.Event.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_event_attrs_string.event_row_id IS 'The span event, otel_span_events.event_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_event_attrs_string.span_start_time IS 'Copy of the owning span''s start_time (otel_span_events.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_event_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_event_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_span_event_attrs_int (
    event_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_event_attrs_int_default PARTITION OF otel_span_event_attrs_int DEFAULT;
CREATE INDEX otel_span_event_attrs_int_owner_idx ON otel_span_event_attrs_int (event_row_id);
CREATE INDEX otel_span_event_attrs_int_key_value_idx ON otel_span_event_attrs_int (key_id, value);
COMMENT ON TABLE otel_span_event_attrs_int IS 'Promoted int-valued attributes of a span event (opentelemetry.proto.trace.v1.Span.Event.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_event_attrs_int.event_row_id IS 'The span event, otel_span_events.event_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_event_attrs_int.span_start_time IS 'Copy of the owning span''s start_time (otel_span_events.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_event_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_event_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_span_event_attrs_double (
    event_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_event_attrs_double_default PARTITION OF otel_span_event_attrs_double DEFAULT;
CREATE INDEX otel_span_event_attrs_double_owner_idx ON otel_span_event_attrs_double (event_row_id);
CREATE INDEX otel_span_event_attrs_double_key_value_idx ON otel_span_event_attrs_double (key_id, value);
COMMENT ON TABLE otel_span_event_attrs_double IS 'Promoted double-valued attributes of a span event (opentelemetry.proto.trace.v1.Span.Event.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_event_attrs_double.event_row_id IS 'The span event, otel_span_events.event_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_event_attrs_double.span_start_time IS 'Copy of the owning span''s start_time (otel_span_events.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_event_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_event_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_span_event_attrs_bool (
    event_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_event_attrs_bool_default PARTITION OF otel_span_event_attrs_bool DEFAULT;
CREATE INDEX otel_span_event_attrs_bool_owner_idx ON otel_span_event_attrs_bool (event_row_id);
CREATE INDEX otel_span_event_attrs_bool_key_value_idx ON otel_span_event_attrs_bool (key_id, value);
COMMENT ON TABLE otel_span_event_attrs_bool IS 'Promoted bool-valued attributes of a span event (opentelemetry.proto.trace.v1.Span.Event.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_event_attrs_bool.event_row_id IS 'The span event, otel_span_events.event_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_event_attrs_bool.span_start_time IS 'Copy of the owning span''s start_time (otel_span_events.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_event_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_event_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_span_event_attrs_bytes (
    event_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_event_attrs_bytes_default PARTITION OF otel_span_event_attrs_bytes DEFAULT;
CREATE INDEX otel_span_event_attrs_bytes_owner_idx ON otel_span_event_attrs_bytes (event_row_id);
CREATE INDEX otel_span_event_attrs_bytes_key_value_idx ON otel_span_event_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_span_event_attrs_bytes IS 'Promoted bytes-valued attributes of a span event (opentelemetry.proto.trace.v1.Span.Event.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_event_attrs_bytes.event_row_id IS 'The span event, otel_span_events.event_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_event_attrs_bytes.span_start_time IS 'Copy of the owning span''s start_time (otel_span_events.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_event_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_event_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_span_event_attrs_other (
    event_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_event_attrs_other_default PARTITION OF otel_span_event_attrs_other DEFAULT;
CREATE INDEX otel_span_event_attrs_other_owner_idx ON otel_span_event_attrs_other (event_row_id);
COMMENT ON TABLE otel_span_event_attrs_other IS 'Unpromoted attributes of a span event (opentelemetry.proto.trace.v1.Span.Event.attributes): one row per span event that has any, holding them all as one typed JSON object. Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_event_attrs_other.event_row_id IS 'The span event, otel_span_events.event_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_event_attrs_other.span_start_time IS 'Copy of the owning span''s start_time (otel_span_events.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_event_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

CREATE TABLE otel_span_link_attrs_string (
    link_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_link_attrs_string_default PARTITION OF otel_span_link_attrs_string DEFAULT;
CREATE INDEX otel_span_link_attrs_string_owner_idx ON otel_span_link_attrs_string (link_row_id);
CREATE INDEX otel_span_link_attrs_string_key_value_idx ON otel_span_link_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_span_link_attrs_string IS 'Promoted string-valued attributes of a span link (opentelemetry.proto.trace.v1.Span.Link.attributes, AnyValue.string_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_link_attrs_string.link_row_id IS 'The span link, otel_span_links.link_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_link_attrs_string.span_start_time IS 'Copy of the owning span''s start_time (otel_span_links.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_link_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_link_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_span_link_attrs_int (
    link_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_link_attrs_int_default PARTITION OF otel_span_link_attrs_int DEFAULT;
CREATE INDEX otel_span_link_attrs_int_owner_idx ON otel_span_link_attrs_int (link_row_id);
CREATE INDEX otel_span_link_attrs_int_key_value_idx ON otel_span_link_attrs_int (key_id, value);
COMMENT ON TABLE otel_span_link_attrs_int IS 'Promoted int-valued attributes of a span link (opentelemetry.proto.trace.v1.Span.Link.attributes, AnyValue.int_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_link_attrs_int.link_row_id IS 'The span link, otel_span_links.link_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_link_attrs_int.span_start_time IS 'Copy of the owning span''s start_time (otel_span_links.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_link_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_link_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_span_link_attrs_double (
    link_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_link_attrs_double_default PARTITION OF otel_span_link_attrs_double DEFAULT;
CREATE INDEX otel_span_link_attrs_double_owner_idx ON otel_span_link_attrs_double (link_row_id);
CREATE INDEX otel_span_link_attrs_double_key_value_idx ON otel_span_link_attrs_double (key_id, value);
COMMENT ON TABLE otel_span_link_attrs_double IS 'Promoted double-valued attributes of a span link (opentelemetry.proto.trace.v1.Span.Link.attributes, AnyValue.double_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_link_attrs_double.link_row_id IS 'The span link, otel_span_links.link_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_link_attrs_double.span_start_time IS 'Copy of the owning span''s start_time (otel_span_links.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_link_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_link_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_span_link_attrs_bool (
    link_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_link_attrs_bool_default PARTITION OF otel_span_link_attrs_bool DEFAULT;
CREATE INDEX otel_span_link_attrs_bool_owner_idx ON otel_span_link_attrs_bool (link_row_id);
CREATE INDEX otel_span_link_attrs_bool_key_value_idx ON otel_span_link_attrs_bool (key_id, value);
COMMENT ON TABLE otel_span_link_attrs_bool IS 'Promoted bool-valued attributes of a span link (opentelemetry.proto.trace.v1.Span.Link.attributes, AnyValue.bool_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_link_attrs_bool.link_row_id IS 'The span link, otel_span_links.link_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_link_attrs_bool.span_start_time IS 'Copy of the owning span''s start_time (otel_span_links.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_link_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_link_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_span_link_attrs_bytes (
    link_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_link_attrs_bytes_default PARTITION OF otel_span_link_attrs_bytes DEFAULT;
CREATE INDEX otel_span_link_attrs_bytes_owner_idx ON otel_span_link_attrs_bytes (link_row_id);
CREATE INDEX otel_span_link_attrs_bytes_key_value_idx ON otel_span_link_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_span_link_attrs_bytes IS 'Promoted bytes-valued attributes of a span link (opentelemetry.proto.trace.v1.Span.Link.attributes, AnyValue.bytes_value): one row per (owner, key). Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_link_attrs_bytes.link_row_id IS 'The span link, otel_span_links.link_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_link_attrs_bytes.span_start_time IS 'Copy of the owning span''s start_time (otel_span_links.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_link_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_span_link_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_span_link_attrs_other (
    link_row_id BIGINT NOT NULL,
    span_start_time TIMESTAMPTZ NOT NULL,
    attributes JSONB NOT NULL
) PARTITION BY RANGE (span_start_time);
CREATE TABLE otel_span_link_attrs_other_default PARTITION OF otel_span_link_attrs_other DEFAULT;
CREATE INDEX otel_span_link_attrs_other_owner_idx ON otel_span_link_attrs_other (link_row_id);
COMMENT ON TABLE otel_span_link_attrs_other IS 'Unpromoted attributes of a span link (opentelemetry.proto.trace.v1.Span.Link.attributes): one row per span link that has any, holding them all as one typed JSON object. Range-partitioned by span_start_time, daily, like its owner, and dropped with it.';
COMMENT ON COLUMN otel_span_link_attrs_other.link_row_id IS 'The span link, otel_span_links.link_row_id (surrogate id).';
COMMENT ON COLUMN otel_span_link_attrs_other.span_start_time IS 'Copy of the owning span''s start_time (otel_span_links.span_start_time): the partition key, so that these rows are dropped with the span.';
COMMENT ON COLUMN otel_span_link_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

