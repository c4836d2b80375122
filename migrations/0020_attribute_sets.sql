-- Attribute sets. A promoted span or log attribute was one row per record in a typed table, with two index
-- entries: about 150 bytes per attribute and per span, 12.7 btree entries per span in all, and PostgreSQL's CPU
-- for those entries bounded the load rate. The promoted attributes whose values repeat (http.route,
-- http.request.method, http.response.status_code, db.system.name, rpc.*, ...) form a handful of distinct sets
-- per million spans (50 to 76 measured with loadgen). Each distinct set is stored once, here, and each record
-- carries its set's key: a search on a set attribute finds the matching sets in this small table, then walks
-- the records of each set along (attr_set_key, time). Keys the promotion config lists as high-cardinality stay
-- one typed row per record; unpromoted attributes stay in the `_other` tables. Records stored before this
-- migration have no set (attr_set_key NULL): their promoted attributes are in the typed tables, where
-- queries keep finding them.

CREATE TABLE otel_attribute_sets (
    set_key BIGINT PRIMARY KEY,
    level SMALLINT NOT NULL CHECK (level IN (2, 3)),
    attributes JSONB NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX otel_attribute_sets_level_idx ON otel_attribute_sets (level);
CREATE INDEX otel_attribute_sets_last_seen_idx ON otel_attribute_sets (last_seen);
COMMENT ON TABLE otel_attribute_sets IS 'Deduplicated sets of promoted, low-cardinality attributes of log records and spans: one row per distinct set, referenced by otel_logs_fact.attr_set_key and otel_spans_fact.attr_set_key.';
COMMENT ON COLUMN otel_attribute_sets.set_key IS 'The set''s identity: the first 8 bytes of a blake3 hash over the level and the canonical attribute list (src/normalize/identity.rs), as a little-endian BIGINT. Computed by the writer, so records carry it without a lookup.';
COMMENT ON COLUMN otel_attribute_sets.level IS 'Promotion level of the owners (src/schema/attributes.rs PromotionLevel): 2 log record, 3 span.';
COMMENT ON COLUMN otel_attribute_sets.attributes IS 'The set''s attributes as one typed JSON object in canonical key order (the normalizer''s typed JSON encoding, as in the _other tables): strings as JSON strings, ints as JSON integers, doubles with a ''.'' or exponent, bools, bytes as {"bytes": base64}.';
COMMENT ON COLUMN otel_attribute_sets.last_seen IS 'Receive time of the newest batch that carried the set, refreshed at most once per refresh interval per writer process (never moved backwards). Maintenance deletes sets whose last_seen is before the first day their signal''s retention keeps; a writer registers a pruned set again the next time a batch carries it after the interval.';

ALTER TABLE otel_spans_fact ADD COLUMN attr_set_key BIGINT;
CREATE INDEX otel_spans_fact_attr_set_time_idx ON otel_spans_fact (attr_set_key, start_time, span_row_id)
    WHERE attr_set_key IS NOT NULL;
COMMENT ON COLUMN otel_spans_fact.attr_set_key IS 'The span''s set of promoted, low-cardinality attributes, otel_attribute_sets.set_key (no FK); NULL when the span has none, and for spans stored before sets existed.';
COMMENT ON INDEX otel_spans_fact_attr_set_time_idx IS 'Spans of an attribute set in (start_time, span_row_id) order: attribute filters, and the newest-first walk of trace search. Partial: spans without a set are not entered, and a search without a set condition cannot pick it as a stand-in time index.';

ALTER TABLE otel_logs_fact ADD COLUMN attr_set_key BIGINT;
CREATE INDEX otel_logs_fact_attr_set_time_idx ON otel_logs_fact (attr_set_key, time, log_id)
    WHERE attr_set_key IS NOT NULL;
COMMENT ON COLUMN otel_logs_fact.attr_set_key IS 'The log record''s set of promoted, low-cardinality attributes, otel_attribute_sets.set_key (no FK); NULL when the record has none, and for records stored before sets existed.';
COMMENT ON INDEX otel_logs_fact_attr_set_time_idx IS 'Log records of an attribute set in (time, log_id) order: attribute filters. Partial, like otel_spans_fact_attr_set_time_idx.';
