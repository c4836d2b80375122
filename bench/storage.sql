-- Storage and raw COPY comparison for docs/benchmarks.md, run against a database loaded through the real
-- pipeline (bench/e2e.sh). psql -v out=/tmp/spans.bin -f bench/storage.sql

\timing on
\pset footer off

-- Spans stored.
SELECT count(*) AS spans FROM otel_spans_fact;

-- Bytes of everything a span occupies in the star schema (facts, events, links, all their attribute
-- tables, with indexes and TOAST), plus the resource and scope dimensions they share.
WITH rels AS (
    SELECT t.relid
    FROM unnest(ARRAY[
        'otel_spans_fact', 'otel_span_events', 'otel_span_links',
        'otel_span_attrs_string', 'otel_span_attrs_int', 'otel_span_attrs_double', 'otel_span_attrs_bool',
        'otel_span_attrs_bytes', 'otel_span_attrs_other',
        'otel_span_event_attrs_string', 'otel_span_event_attrs_int', 'otel_span_event_attrs_double',
        'otel_span_event_attrs_bool', 'otel_span_event_attrs_bytes', 'otel_span_event_attrs_other',
        'otel_span_link_attrs_string', 'otel_span_link_attrs_int', 'otel_span_link_attrs_double',
        'otel_span_link_attrs_bool', 'otel_span_link_attrs_bytes', 'otel_span_link_attrs_other'
    ]::regclass[]) AS p(parent), LATERAL pg_partition_tree(p.parent) t
    WHERE t.isleaf
    UNION ALL
    SELECT c.oid FROM pg_class c
    WHERE c.relkind = 'r' AND (c.relname LIKE 'otel_resource%' OR c.relname LIKE 'otel_scope%' OR c.relname = 'attribute_keys')
)
SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) AS star_schema_total,
       round(sum(pg_total_relation_size(relid))::numeric / (SELECT count(*) FROM otel_spans_fact), 1) AS star_bytes_per_span
FROM rels;

-- The same spans as one JSONB document each, the way a JSONB-only store keeps them: every field, the
-- attributes, events and links, and the resource and scope repeated on every span.
DROP TABLE IF EXISTS bench_spans_jsonb;
CREATE TABLE bench_spans_jsonb (doc jsonb NOT NULL);
-- Attributes per owner as one JSON object (typed rows and the _other object merged), set-based.
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
       round(pg_total_relation_size('bench_spans_jsonb')::numeric / (SELECT count(*) FROM bench_spans_jsonb), 1) AS jsonb_bytes_per_span;
-- And the indexes it needs for the other searches the star schema's indexes serve: spans of a service in a
-- time window, and spans by attribute value (GIN over the span attributes, jsonb_path_ops: containment only,
-- the smallest GIN opclass).
CREATE INDEX ON bench_spans_jsonb ((doc->'resource'->'attributes'->>'service.name'), ((doc->>'startTimeUnixNano')::bigint));
CREATE INDEX ON bench_spans_jsonb USING gin ((doc->'attributes') jsonb_path_ops);
SELECT pg_size_pretty(pg_total_relation_size('bench_spans_jsonb')) AS jsonb_searchable_total,
       round(pg_total_relation_size('bench_spans_jsonb')::numeric / (SELECT count(*) FROM bench_spans_jsonb), 1) AS jsonb_searchable_bytes_per_span;

-- Raw COPY rate of the same fact rows, no normalization: out to a file, back into a table shaped like
-- otel_spans_fact (same columns, constraints and indexes), timed by \timing.
COPY (SELECT * FROM otel_spans_fact) TO :'out' (FORMAT binary);
DROP TABLE IF EXISTS bench_raw_spans;
CREATE TABLE bench_raw_spans (LIKE otel_spans_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX ON bench_raw_spans (trace_id);
CREATE INDEX ON bench_raw_spans (start_time, span_row_id);
CREATE INDEX ON bench_raw_spans (resource_id, start_time);
\echo raw COPY of the span fact rows (rows/s = spans / the time below):
COPY bench_raw_spans FROM :'out' (FORMAT binary);
DROP TABLE bench_raw_spans;
