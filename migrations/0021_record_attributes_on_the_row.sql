-- The unpromoted attributes of a span or log record (and the promoted ones the config lists as
-- high-cardinality) move onto the record's own row. In `_other` they were a second row per record, with its
-- own tuple header and owner index entry (245 bytes and one btree entry per loadgen span, of which the JSON
-- is ~170): on the fact row they cost the JSON alone. Records stored before this migration keep theirs in the
-- `_other` tables, where queries keep reading them.

ALTER TABLE otel_spans_fact ADD COLUMN attributes JSONB;
COMMENT ON COLUMN otel_spans_fact.attributes IS 'The span''s attributes that are neither in its attribute set nor dropped (unpromoted keys, high-cardinality promoted keys, arrays, kvlists, type mismatches), as one typed JSON object (the normalizer''s typed JSON encoding, as in the _other tables), {} when there are none. NULL only for spans stored before this column existed: their attributes are in otel_span_attrs_* (queries read those tables for such rows only).';

ALTER TABLE otel_logs_fact ADD COLUMN attributes JSONB;
COMMENT ON COLUMN otel_logs_fact.attributes IS 'The log record''s attributes that are neither in its attribute set nor dropped, as one typed JSON object like otel_spans_fact.attributes, {} when there are none. NULL only for records stored before this column existed: their attributes are in otel_log_attrs_*.';

COMMENT ON TABLE attribute_keys_in_other IS 'Attribute keys that have values in a level''s _other JSONB table or, for spans and log records, in the records'' attributes column; filled by the writer in each batch''s transaction, read by attribute filters to skip the JSON of levels that cannot match.';
