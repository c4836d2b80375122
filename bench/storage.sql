-- Storage and raw COPY comparison for docs/benchmarks.md, run against a database loaded through the real
-- pipeline (bench/e2e.sh): bytes and btree entries per span and per log record, by table and index; the
-- JSONB-only baselines of both; the raw COPY rate of the span fact rows.
-- psql -v out=/tmp/spans.bin -f bench/storage.sql

\timing on
\pset footer off

-- Spans stored.
SELECT count(*) AS spans FROM otel_spans_fact;

-- Every relation a span or a log record occupies, per leaf partition: heap (main + fsm + vm), TOAST, and each
-- index with the entries it holds (rows, or the rows a partial index's predicate admits; for GIN the row
-- count). Shared tables (resources, scopes, keys, attribute sets) are counted once for each signal.
CREATE TEMP TABLE bench_sizes (signal text, tbl text, part text, bytes bigint, entries bigint, am text);
CREATE FUNCTION pg_temp.measure(p_signal text, p_rel regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    leaf regclass;
    toast oid;
    ix record;
    n bigint;
BEGIN
    FOR leaf IN SELECT relid FROM pg_partition_tree(p_rel) WHERE isleaf
                UNION ALL SELECT p_rel FROM pg_class WHERE oid = p_rel AND relkind = 'r' AND NOT relispartition LOOP
        INSERT INTO bench_sizes VALUES (p_signal, p_rel::text, 'heap',
            pg_relation_size(leaf, 'main') + pg_relation_size(leaf, 'fsm') + pg_relation_size(leaf, 'vm'), NULL, 'heap');
        SELECT reltoastrelid INTO toast FROM pg_class WHERE oid = leaf;
        IF toast <> 0 THEN
            INSERT INTO bench_sizes VALUES (p_signal, p_rel::text, 'toast', pg_total_relation_size(toast), NULL, 'toast');
        END IF;
        FOR ix IN
            SELECT i.indexrelid, am.amname, pg_get_expr(i.indpred, i.indrelid) AS pred,
                   regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') AS def
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = leaf
        LOOP
            EXECUTE format('SELECT count(*) FROM %s %s', leaf,
                           CASE WHEN ix.pred IS NULL THEN '' ELSE 'WHERE ' || ix.pred END) INTO n;
            INSERT INTO bench_sizes VALUES (p_signal, p_rel::text, ix.def, pg_relation_size(ix.indexrelid), n, ix.amname);
        END LOOP;
    END LOOP;
END $$;
CREATE TEMP TABLE bench_items AS
SELECT 'spans' AS signal, count(*) AS n FROM otel_spans_fact UNION ALL SELECT 'logs', count(*) FROM otel_logs_fact;
SELECT pg_temp.measure('spans', t::regclass) FROM unnest(ARRAY[
    'otel_spans_fact', 'otel_span_events', 'otel_span_links',
    'otel_span_attrs_string', 'otel_span_attrs_int', 'otel_span_attrs_double', 'otel_span_attrs_bool',
    'otel_span_attrs_bytes', 'otel_span_attrs_other',
    'otel_span_event_attrs_string', 'otel_span_event_attrs_int', 'otel_span_event_attrs_double',
    'otel_span_event_attrs_bool', 'otel_span_event_attrs_bytes', 'otel_span_event_attrs_other',
    'otel_span_link_attrs_string', 'otel_span_link_attrs_int', 'otel_span_link_attrs_double',
    'otel_span_link_attrs_bool', 'otel_span_link_attrs_bytes', 'otel_span_link_attrs_other']) t \g /dev/null
SELECT pg_temp.measure('logs', t::regclass) FROM unnest(ARRAY[
    'otel_logs_fact', 'otel_log_attrs_string', 'otel_log_attrs_int', 'otel_log_attrs_double',
    'otel_log_attrs_bool', 'otel_log_attrs_bytes', 'otel_log_attrs_other']) t \g /dev/null
SELECT pg_temp.measure(sig, c.oid::regclass) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace,
    unnest(ARRAY['spans', 'logs']) sig
WHERE ns.nspname = 'public' AND c.relkind = 'r' AND (c.relname LIKE 'otel_resource%' OR c.relname LIKE 'otel_scope%'
      OR c.relname IN ('attribute_keys', 'attribute_keys_in_other', 'otel_attribute_sets')) \g /dev/null

-- Per item: bytes and btree entries, in all and per table (heap / TOAST / indexes).
SELECT s.signal, round(sum(s.bytes)::numeric / i.n, 1) AS bytes_per_item,
       round(sum(s.entries) FILTER (WHERE s.am = 'btree')::numeric / i.n, 2) AS btree_entries_per_item
FROM bench_sizes s JOIN bench_items i USING (signal) GROUP BY s.signal, i.n ORDER BY s.signal DESC;
SELECT s.signal, s.tbl,
       round(sum(s.bytes) FILTER (WHERE s.part = 'heap')::numeric / i.n, 1) AS heap,
       round(coalesce(sum(s.bytes) FILTER (WHERE s.part = 'toast'), 0)::numeric / i.n, 1) AS toast,
       round(coalesce(sum(s.bytes) FILTER (WHERE s.part NOT IN ('heap', 'toast')), 0)::numeric / i.n, 1) AS indexes,
       round(sum(s.bytes)::numeric / i.n, 1) AS total,
       round(coalesce(sum(s.entries) FILTER (WHERE s.am = 'btree'), 0)::numeric / i.n, 2) AS btree_entries
FROM bench_sizes s JOIN bench_items i USING (signal)
GROUP BY s.signal, s.tbl, i.n HAVING sum(s.bytes)::numeric / i.n >= 0.05 ORDER BY s.signal DESC, total DESC;
SELECT s.signal, s.tbl, s.part AS index, round(sum(s.bytes)::numeric / i.n, 1) AS bytes_per_item,
       round(sum(s.entries)::numeric / i.n, 2) AS entries_per_item
FROM bench_sizes s JOIN bench_items i USING (signal)
WHERE s.part NOT IN ('heap', 'toast') AND s.tbl IN ('otel_spans_fact', 'otel_logs_fact')
GROUP BY s.signal, s.tbl, s.part, i.n ORDER BY s.signal DESC, 4 DESC;

-- The same spans as one JSONB document each, the way a JSONB-only store keeps them: every field, the
-- attributes, events and links, and the resource and scope repeated on every span.
DROP TABLE IF EXISTS bench_spans_jsonb;
CREATE TABLE bench_spans_jsonb (doc jsonb NOT NULL);
-- Attributes per owner as one JSON object (typed rows, the _other object, the attribute set and the row's own
-- JSON merged, whichever the schema version has), set-based.
CREATE TEMP TABLE span_attrs AS
SELECT owner, jsonb_object_agg(k.key, a.v) AS attrs
FROM (
    SELECT span_row_id AS owner, key_id, to_jsonb(value) AS v FROM otel_span_attrs_string
    UNION ALL SELECT span_row_id, key_id, to_jsonb(value) FROM otel_span_attrs_int
    UNION ALL SELECT span_row_id, key_id, to_jsonb(value) FROM otel_span_attrs_double
    UNION ALL SELECT span_row_id, key_id, to_jsonb(value) FROM otel_span_attrs_bool
    UNION ALL SELECT span_row_id, key_id, to_jsonb(encode(value, 'base64')) FROM otel_span_attrs_bytes
) a JOIN attribute_keys k USING (key_id)
GROUP BY owner;
INSERT INTO span_attrs SELECT span_row_id, attributes FROM otel_span_attrs_other;
INSERT INTO span_attrs SELECT s.span_row_id, a.attributes FROM otel_spans_fact s
JOIN otel_attribute_sets a ON a.set_key = s.attr_set_key;
INSERT INTO span_attrs SELECT span_row_id, attributes FROM otel_spans_fact WHERE attributes IS NOT NULL;
CREATE TEMP TABLE span_json AS
SELECT owner, jsonb_object_agg(e.key, e.value) AS attrs FROM span_attrs, LATERAL jsonb_each(attrs) e GROUP BY owner;
CREATE INDEX ON span_json (owner);
CREATE TEMP TABLE event_attrs AS
SELECT owner, jsonb_object_agg(k.key, a.v) AS attrs
FROM (
    SELECT event_row_id AS owner, key_id, to_jsonb(value) AS v FROM otel_span_event_attrs_string
    UNION ALL SELECT event_row_id, key_id, to_jsonb(value) FROM otel_span_event_attrs_int
    UNION ALL SELECT event_row_id, key_id, to_jsonb(value) FROM otel_span_event_attrs_double
    UNION ALL SELECT event_row_id, key_id, to_jsonb(value) FROM otel_span_event_attrs_bool
    UNION ALL SELECT event_row_id, key_id, to_jsonb(encode(value, 'base64')) FROM otel_span_event_attrs_bytes
) a JOIN attribute_keys k USING (key_id)
GROUP BY owner;
INSERT INTO event_attrs SELECT event_row_id, attributes FROM otel_span_event_attrs_other;
CREATE TEMP TABLE event_json AS
SELECT owner, jsonb_object_agg(e.key, e.value) AS attrs FROM event_attrs, LATERAL jsonb_each(attrs) e GROUP BY owner;
CREATE INDEX ON event_json (owner);
CREATE TEMP TABLE link_attrs AS
SELECT owner, jsonb_object_agg(k.key, a.v) AS attrs
FROM (
    SELECT link_row_id AS owner, key_id, to_jsonb(value) AS v FROM otel_span_link_attrs_string
    UNION ALL SELECT link_row_id, key_id, to_jsonb(value) FROM otel_span_link_attrs_int
    UNION ALL SELECT link_row_id, key_id, to_jsonb(value) FROM otel_span_link_attrs_double
    UNION ALL SELECT link_row_id, key_id, to_jsonb(value) FROM otel_span_link_attrs_bool
    UNION ALL SELECT link_row_id, key_id, to_jsonb(encode(value, 'base64')) FROM otel_span_link_attrs_bytes
) a JOIN attribute_keys k USING (key_id)
GROUP BY owner;
INSERT INTO link_attrs SELECT link_row_id, attributes FROM otel_span_link_attrs_other;
CREATE TEMP TABLE link_json AS
SELECT owner, jsonb_object_agg(e.key, e.value) AS attrs FROM link_attrs, LATERAL jsonb_each(attrs) e GROUP BY owner;
CREATE INDEX ON link_json (owner);
CREATE TEMP TABLE resource_attrs AS
SELECT owner, jsonb_object_agg(k.key, a.v) AS attrs
FROM (
    SELECT resource_id AS owner, key_id, to_jsonb(value) AS v FROM otel_resource_attrs_string
    UNION ALL SELECT resource_id, key_id, to_jsonb(value) FROM otel_resource_attrs_int
    UNION ALL SELECT resource_id, key_id, to_jsonb(value) FROM otel_resource_attrs_double
    UNION ALL SELECT resource_id, key_id, to_jsonb(value) FROM otel_resource_attrs_bool
    UNION ALL SELECT resource_id, key_id, to_jsonb(encode(value, 'base64')) FROM otel_resource_attrs_bytes
) a JOIN attribute_keys k USING (key_id)
GROUP BY owner;
INSERT INTO resource_attrs SELECT resource_id, attributes FROM otel_resource_attrs_other;
CREATE TEMP TABLE resource_json AS
SELECT owner, jsonb_object_agg(e.key, e.value) AS attrs FROM resource_attrs, LATERAL jsonb_each(attrs) e GROUP BY owner;
CREATE INDEX ON resource_json (owner);
CREATE TEMP TABLE event_docs AS
SELECT e.span_row_id, jsonb_agg(jsonb_build_object('name', e.name,
         'timeUnixNano', (extract(epoch FROM e.time) * 1e9)::bigint + e.time_nanos_fraction,
         'attributes', coalesce(a.attrs, '{}')) ORDER BY e.event_index) AS events
FROM otel_span_events e LEFT JOIN event_json a ON a.owner = e.event_row_id
GROUP BY e.span_row_id;
CREATE INDEX ON event_docs (span_row_id);
CREATE TEMP TABLE link_docs AS
SELECT l.span_row_id, jsonb_agg(jsonb_build_object('traceId', encode(l.trace_id, 'hex'), 'spanId', encode(l.span_id, 'hex'),
         'attributes', coalesce(a.attrs, '{}')) ORDER BY l.link_index) AS links
FROM otel_span_links l LEFT JOIN link_json a ON a.owner = l.link_row_id
GROUP BY l.span_row_id;
CREATE INDEX ON link_docs (span_row_id);
INSERT INTO bench_spans_jsonb
SELECT jsonb_build_object(
    'traceId', encode(s.trace_id, 'hex'), 'spanId', encode(s.span_id, 'hex'),
    'parentSpanId', encode(s.parent_span_id, 'hex'), 'traceState', s.trace_state, 'flags', s.flags,
    'name', s.name, 'kind', s.kind,
    'startTimeUnixNano', (extract(epoch FROM s.start_time) * 1e9)::bigint + s.start_time_nanos_fraction,
    'endTimeUnixNano', (extract(epoch FROM s.end_time) * 1e9)::bigint + s.end_time_nanos_fraction,
    'status', jsonb_build_object('code', s.status_code, 'message', s.status_message),
    'attributes', coalesce(sa.attrs, '{}'),
    'events', coalesce(ed.events, '[]'),
    'links', coalesce(ld.links, '[]'),
    'resource', jsonb_build_object('attributes', coalesce(ra.attrs, '{}'), 'schemaUrl', r.schema_url),
    'scope', jsonb_build_object('name', sc.name, 'version', sc.version))
FROM otel_spans_fact s
JOIN otel_resources_dim r USING (resource_id)
JOIN otel_scopes_dim sc USING (scope_id)
LEFT JOIN span_json sa ON sa.owner = s.span_row_id
LEFT JOIN event_docs ed ON ed.span_row_id = s.span_row_id
LEFT JOIN link_docs ld ON ld.span_row_id = s.span_row_id
LEFT JOIN resource_json ra ON ra.owner = s.resource_id;
-- The indexes a JSONB-only store needs for the same lookups: trace id and time.
CREATE INDEX ON bench_spans_jsonb ((doc->>'traceId'));
CREATE INDEX ON bench_spans_jsonb (((doc->>'startTimeUnixNano')::bigint));
SELECT pg_size_pretty(pg_total_relation_size('bench_spans_jsonb')) AS jsonb_total,
       round(pg_total_relation_size('bench_spans_jsonb')::numeric / (SELECT count(*) FROM bench_spans_jsonb), 1) AS jsonb_bytes_per_span,
       round((SELECT sum(bytes) FROM bench_sizes WHERE signal = 'spans')::numeric
             / pg_total_relation_size('bench_spans_jsonb'), 3) AS star_to_jsonb_ratio;
-- And the indexes it needs for the other searches the star schema's indexes serve: spans of a service in a
-- time window, and spans by attribute value (GIN over the span attributes, jsonb_path_ops: containment only,
-- the smallest GIN opclass).
CREATE INDEX ON bench_spans_jsonb ((doc->'resource'->'attributes'->>'service.name'), ((doc->>'startTimeUnixNano')::bigint));
CREATE INDEX ON bench_spans_jsonb USING gin ((doc->'attributes') jsonb_path_ops);
SELECT pg_size_pretty(pg_total_relation_size('bench_spans_jsonb')) AS jsonb_searchable_total,
       round(pg_total_relation_size('bench_spans_jsonb')::numeric / (SELECT count(*) FROM bench_spans_jsonb), 1) AS jsonb_searchable_bytes_per_span;

-- The same log records as one JSONB document each, with the indexes a JSONB-only store needs for the same
-- lookups (time, trace id): the logs baseline, built the way the spans one is.
CREATE TEMP TABLE log_attrs AS
SELECT owner, jsonb_object_agg(k.key, a.v) AS attrs
FROM (
    SELECT log_id AS owner, key_id, to_jsonb(value) AS v FROM otel_log_attrs_string
    UNION ALL SELECT log_id, key_id, to_jsonb(value) FROM otel_log_attrs_int
    UNION ALL SELECT log_id, key_id, to_jsonb(value) FROM otel_log_attrs_double
    UNION ALL SELECT log_id, key_id, to_jsonb(value) FROM otel_log_attrs_bool
    UNION ALL SELECT log_id, key_id, to_jsonb(encode(value, 'base64')) FROM otel_log_attrs_bytes
) a JOIN attribute_keys k USING (key_id)
GROUP BY owner;
INSERT INTO log_attrs SELECT log_id, attributes FROM otel_log_attrs_other;
INSERT INTO log_attrs SELECT l.log_id, a.attributes FROM otel_logs_fact l
JOIN otel_attribute_sets a ON a.set_key = l.attr_set_key;
INSERT INTO log_attrs SELECT log_id, attributes FROM otel_logs_fact WHERE attributes IS NOT NULL;
CREATE TEMP TABLE log_json AS
SELECT owner, jsonb_object_agg(e.key, e.value) AS attrs FROM log_attrs, LATERAL jsonb_each(attrs) e GROUP BY owner;
CREATE INDEX ON log_json (owner);
DROP TABLE IF EXISTS bench_logs_jsonb;
CREATE TABLE bench_logs_jsonb (doc jsonb NOT NULL);
INSERT INTO bench_logs_jsonb
SELECT jsonb_build_object(
    'timeUnixNano', (extract(epoch FROM l.time) * 1e9)::bigint + l.time_nanos_fraction,
    'observedTimeUnixNano', (extract(epoch FROM l.observed_time) * 1e9)::bigint + l.observed_time_nanos_fraction,
    'severityNumber', l.severity_number, 'severityText', l.severity_text,
    'body', coalesce(to_jsonb(l.body_string), to_jsonb(l.body_int), to_jsonb(l.body_double), to_jsonb(l.body_bool),
                     to_jsonb(encode(l.body_bytes, 'base64')), l.body_json),
    'attributes', coalesce(la.attrs, '{}'),
    'traceId', encode(l.trace_id, 'hex'), 'spanId', encode(l.span_id, 'hex'), 'flags', l.flags,
    'eventName', l.event_name,
    'resource', jsonb_build_object('attributes', coalesce(ra.attrs, '{}'), 'schemaUrl', r.schema_url),
    'scope', jsonb_build_object('name', sc.name, 'version', sc.version))
FROM otel_logs_fact l
JOIN otel_resources_dim r USING (resource_id)
JOIN otel_scopes_dim sc USING (scope_id)
LEFT JOIN log_json la ON la.owner = l.log_id
LEFT JOIN resource_json ra ON ra.owner = l.resource_id;
CREATE INDEX ON bench_logs_jsonb (((doc->>'timeUnixNano')::bigint));
CREATE INDEX ON bench_logs_jsonb ((doc->>'traceId'));
SELECT pg_size_pretty(pg_total_relation_size('bench_logs_jsonb')) AS logs_jsonb_total,
       round(pg_total_relation_size('bench_logs_jsonb')::numeric / greatest((SELECT count(*) FROM bench_logs_jsonb), 1), 1)
           AS jsonb_bytes_per_log,
       round((SELECT sum(bytes) FROM bench_sizes WHERE signal = 'logs')::numeric
             / greatest(pg_total_relation_size('bench_logs_jsonb'), 1), 3) AS star_to_jsonb_ratio;
DROP TABLE bench_logs_jsonb;

-- Raw COPY rate of the same fact rows, no normalization: out to a file, back into a table shaped like
-- otel_spans_fact (same columns, constraints and indexes), timed by \timing.
COPY (SELECT * FROM otel_spans_fact) TO :'out' (FORMAT binary);
DROP TABLE IF EXISTS bench_raw_spans;
-- Its indexes are the fact table's, whatever the schema version.
CREATE TABLE bench_raw_spans (LIKE otel_spans_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
\echo raw COPY of the span fact rows (rows/s = spans / the time below):
COPY bench_raw_spans FROM :'out' (FORMAT binary);
DROP TABLE bench_raw_spans;
