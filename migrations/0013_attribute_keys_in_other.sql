-- Which attribute keys have ever been stored in a level's `_other` JSONB. An attribute filter reads the typed
-- tables through their (key_id, value) indexes, but `_other` has no key index: it was scanned over the whole
-- window for every filter, even on a promoted key whose values never went there (1.7 s of a 3.7 s trace
-- search by http.route on 10M spans). The writer registers each (level, key) in the batch's transaction
-- before the batch's `_other` rows are visible, so a query that finds no row here may skip the scan.
-- Rows are never removed (retention may drop every `_other` row of a key: the scan then finds nothing, as
-- before).
CREATE TABLE attribute_keys_in_other (
    level SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 6),
    key TEXT NOT NULL,
    PRIMARY KEY (level, key)
);
COMMENT ON TABLE attribute_keys_in_other IS 'Attribute keys that have values in a level''s _other JSONB table; filled by the writer in each batch''s transaction, read by attribute filters to skip _other tables that cannot match.';
COMMENT ON COLUMN attribute_keys_in_other.level IS 'Promotion level (src/normalize/promotion.rs Level): 0 resource, 1 scope, 2 log record, 3 span, 4 span event, 5 span link, 6 metric data point (all four data point kinds).';
COMMENT ON COLUMN attribute_keys_in_other.key IS 'The attribute key, as in the _other JSONB object.';

-- What is already stored.
INSERT INTO attribute_keys_in_other (level, key)
SELECT DISTINCT l, k FROM (
    SELECT 0 AS l, jsonb_object_keys(attributes) AS k FROM otel_resource_attrs_other
    UNION ALL SELECT 1, jsonb_object_keys(attributes) FROM otel_scope_attrs_other
    UNION ALL SELECT 2, jsonb_object_keys(attributes) FROM otel_log_attrs_other
    UNION ALL SELECT 3, jsonb_object_keys(attributes) FROM otel_span_attrs_other
    UNION ALL SELECT 4, jsonb_object_keys(attributes) FROM otel_span_event_attrs_other
    UNION ALL SELECT 5, jsonb_object_keys(attributes) FROM otel_span_link_attrs_other
    UNION ALL SELECT 6, jsonb_object_keys(attributes) FROM otel_number_dp_attrs_other
    UNION ALL SELECT 6, jsonb_object_keys(attributes) FROM otel_histogram_dp_attrs_other
    UNION ALL SELECT 6, jsonb_object_keys(attributes) FROM otel_exp_histogram_dp_attrs_other
    UNION ALL SELECT 6, jsonb_object_keys(attributes) FROM otel_summary_dp_attrs_other
) AS stored;
