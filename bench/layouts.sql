-- Candidate storage layouts for spans and log records, built from a database loaded by the current product
-- (bench/e2e.sh with KEEP=1, and logs loaded too, e.g. API_BENCH=1), measured side by side in one run:
-- bytes per item by table, TOAST and index, btree entries per item, the ratio to a JSONB-only table, and the
-- raw COPY time of each layout's rows into empty tables that already have the layout's indexes.
--
--   psql -X -v dir=/tmp/lab-copy -v low_card_max=1000 -f layouts.sql "$URL"
--
-- :dir is a directory the PostgreSQL server can write (COPY files); :low_card_max is the rule for a
-- deduplicated key: a promoted (key, type) whose distinct values in the loaded data are at most this many
-- goes into the attribute set, every other one is encoded on the fact row.
--
-- Everything is created in the schema `lab` (dropped first), and bench_spans_jsonb / bench_logs_jsonb in
-- public; the product's tables are only read. Layouts:
--   current             the product's tables as loaded (partitioned; sizes as ingest left them)
--   jsonb-only          one JSONB document per item, indexes on trace id and time (bench/storage.sql)
--   jsonb-only+search   the same plus service+time and a jsonb_path_ops GIN on the attributes
--   b-json / b-bin      attribute sets: low-cardinality promoted attributes deduplicated into sets (typed
--                       set rows with a (key_id, value, set_id) index), the fact row carries attr_set_id
--                       with an (attr_set_id, time, id) index, and every other attribute (high-cardinality
--                       promoted and unpromoted) is encoded on the fact row keyed by key id: as jsonb
--                       ({"16": "/a/b", ...}) or as a compact bytea (varint key id, type tag, value)
--   c                   b-bin with a BRIN index on time instead of the (time, id) btree
--   c2                  c, and the set widened to a span "series": resource, scope, name, kind, status
--                       and the attribute set, deduplicated together; the fact row carries series_id only,
--                       and one (series_id, time, id) btree serves service, operation and attribute searches
--   d / d2              c / c2 with the fact columns ordered by alignment (8-byte, 4, 2, then varlena)
-- Events and links keep their tables in b..d2, with their attributes encoded inline as key-id jsonb.
-- Index sizes of the candidates are those left by COPY into indexed tables in id order (as ingest fills
-- them); the JSONB-only baselines build their indexes after the load (denser), as bench/storage.sql does.

\set ON_ERROR_STOP on
\pset footer off
SET work_mem = '512MB';
SET maintenance_work_mem = '512MB';
SET max_parallel_workers_per_gather = 0;

DROP SCHEMA IF EXISTS lab CASCADE;
CREATE SCHEMA lab;

-- ---------------------------------------------------------------------------------------------------------
-- Measuring: every relation of a layout, per leaf partition: heap (main + fsm + vm), TOAST (with its
-- index), and each index with the number of entries it holds (rows, or rows matching a partial index's
-- predicate; for GIN the row count, not its entry count).
-- ---------------------------------------------------------------------------------------------------------
CREATE TABLE lab.sizes (layout text, signal text, component text, part text, bytes bigint, entries bigint,
                        am text);
CREATE TABLE lab.items (signal text PRIMARY KEY, n bigint);

CREATE FUNCTION lab.measure(p_layout text, p_signal text, p_component text, p_rel regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    leaf regclass;
    toast oid;
    ix record;
    n bigint;
BEGIN
    -- pg_partition_tree is empty for a table that is not partitioned: then the table itself.
    FOR leaf IN SELECT relid FROM pg_partition_tree(p_rel) WHERE isleaf
                UNION ALL SELECT p_rel FROM pg_class WHERE oid = p_rel AND relkind = 'r' AND NOT relispartition LOOP
        INSERT INTO lab.sizes VALUES (p_layout, p_signal, p_component, 'heap',
            pg_relation_size(leaf, 'main') + pg_relation_size(leaf, 'fsm') + pg_relation_size(leaf, 'vm'), NULL, 'heap');
        SELECT reltoastrelid INTO toast FROM pg_class WHERE oid = leaf;
        IF toast <> 0 THEN
            INSERT INTO lab.sizes VALUES (p_layout, p_signal, p_component, 'toast', pg_total_relation_size(toast), NULL, 'toast');
        END IF;
        FOR ix IN
            SELECT i.indexrelid, am.amname, pg_get_expr(i.indpred, i.indrelid) AS pred,
                   regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') AS def
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = leaf
        LOOP
            EXECUTE format('SELECT count(*) FROM %s %s', leaf,
                           CASE WHEN ix.pred IS NULL THEN '' ELSE 'WHERE ' || ix.pred END) INTO n;
            INSERT INTO lab.sizes VALUES (p_layout, p_signal, p_component, ix.def, pg_relation_size(ix.indexrelid), n, ix.amname);
        END LOOP;
    END LOOP;
END $$;

-- The dimensions every layout shares (resources, scopes, keys), one component.
CREATE FUNCTION lab.measure_dims(p_layout text, p_signal text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r regclass;
BEGIN
    FOR r IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
               AND (c.relname LIKE 'otel_resource%' OR c.relname LIKE 'otel_scope%' OR c.relname = 'attribute_keys')
    LOOP
        PERFORM lab.measure(p_layout, p_signal, 'dimensions (resources, scopes, keys)', r);
    END LOOP;
END $$;

ANALYZE;
INSERT INTO lab.items SELECT 'spans', count(*) FROM otel_spans_fact;
INSERT INTO lab.items SELECT 'logs', count(*) FROM otel_logs_fact;
SELECT * FROM lab.items;

-- ---------------------------------------------------------------------------------------------------------
-- (a) The current layout, as loaded.
-- ---------------------------------------------------------------------------------------------------------
SELECT lab.measure('a current', 'spans', t, t::regclass) FROM unnest(ARRAY[
    'otel_spans_fact', 'otel_span_events', 'otel_span_links',
    'otel_span_attrs_string', 'otel_span_attrs_int', 'otel_span_attrs_double', 'otel_span_attrs_bool',
    'otel_span_attrs_bytes', 'otel_span_attrs_other',
    'otel_span_event_attrs_string', 'otel_span_event_attrs_int', 'otel_span_event_attrs_double',
    'otel_span_event_attrs_bool', 'otel_span_event_attrs_bytes', 'otel_span_event_attrs_other',
    'otel_span_link_attrs_string', 'otel_span_link_attrs_int', 'otel_span_link_attrs_double',
    'otel_span_link_attrs_bool', 'otel_span_link_attrs_bytes', 'otel_span_link_attrs_other']) t \g /dev/null
SELECT lab.measure_dims('a current', 'spans') \g /dev/null
SELECT lab.measure('a current', 'logs', t, t::regclass) FROM unnest(ARRAY[
    'otel_logs_fact', 'otel_log_attrs_string', 'otel_log_attrs_int', 'otel_log_attrs_double',
    'otel_log_attrs_bool', 'otel_log_attrs_bytes', 'otel_log_attrs_other']) t \g /dev/null
SELECT lab.measure_dims('a current', 'logs') \g /dev/null

-- ---------------------------------------------------------------------------------------------------------
-- JSONB-only baselines. Spans: exactly bench/storage.sql's construction. Logs: the same way (every field,
-- attributes, resource and scope repeated), indexed on trace id and time.
-- ---------------------------------------------------------------------------------------------------------
CREATE FUNCTION lab.attrs_json(p_level text, p_owner text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    -- The SQL that makes one JSON object per owner of a level's attributes (typed rows and _other merged).
    SELECT format($f$
        SELECT owner, jsonb_object_agg(key, v) AS attrs FROM (
            SELECT owner, k.key, a.v FROM (
                SELECT %2$s AS owner, key_id, to_jsonb(value) AS v FROM otel_%1$s_attrs_string
                UNION ALL SELECT %2$s, key_id, to_jsonb(value) FROM otel_%1$s_attrs_int
                UNION ALL SELECT %2$s, key_id, to_jsonb(value) FROM otel_%1$s_attrs_double
                UNION ALL SELECT %2$s, key_id, to_jsonb(value) FROM otel_%1$s_attrs_bool
                UNION ALL SELECT %2$s, key_id, to_jsonb(encode(value, 'base64')) FROM otel_%1$s_attrs_bytes
            ) a JOIN attribute_keys k USING (key_id)
            UNION ALL
            SELECT %2$s, e.key, e.value FROM otel_%1$s_attrs_other, LATERAL jsonb_each(attributes) e
        ) x GROUP BY owner$f$, p_level, p_owner)
$$;
CREATE FUNCTION lab.materialize(p_name text, p_sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE lab.%I AS %s', p_name, p_sql);
    EXECUTE format('CREATE INDEX ON lab.%I (owner)', p_name);
    EXECUTE format('ANALYZE lab.%I', p_name);
END $$;
SELECT lab.materialize('span_json', lab.attrs_json('span', 'span_row_id')) \g /dev/null
SELECT lab.materialize('event_json', lab.attrs_json('span_event', 'event_row_id')) \g /dev/null
SELECT lab.materialize('link_json', lab.attrs_json('span_link', 'link_row_id')) \g /dev/null
SELECT lab.materialize('resource_json', lab.attrs_json('resource', 'resource_id')) \g /dev/null
SELECT lab.materialize('log_json', lab.attrs_json('log', 'log_id')) \g /dev/null

CREATE TABLE lab.event_docs AS
SELECT e.span_row_id, jsonb_agg(jsonb_build_object('name', e.name,
         'timeUnixNano', (extract(epoch FROM e.time) * 1e9)::bigint + e.time_nanos_fraction,
         'attributes', coalesce(a.attrs, '{}')) ORDER BY e.event_index) AS events
FROM otel_span_events e LEFT JOIN lab.event_json a ON a.owner = e.event_row_id
GROUP BY e.span_row_id;
CREATE INDEX ON lab.event_docs (span_row_id);
CREATE TABLE lab.link_docs AS
SELECT l.span_row_id, jsonb_agg(jsonb_build_object('traceId', encode(l.trace_id, 'hex'), 'spanId', encode(l.span_id, 'hex'),
         'attributes', coalesce(a.attrs, '{}')) ORDER BY l.link_index) AS links
FROM otel_span_links l LEFT JOIN lab.link_json a ON a.owner = l.link_row_id
GROUP BY l.span_row_id;
CREATE INDEX ON lab.link_docs (span_row_id);

DROP TABLE IF EXISTS bench_spans_jsonb;
CREATE TABLE bench_spans_jsonb (doc jsonb NOT NULL);
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
LEFT JOIN lab.span_json sa ON sa.owner = s.span_row_id
LEFT JOIN lab.event_docs ed ON ed.span_row_id = s.span_row_id
LEFT JOIN lab.link_docs ld ON ld.span_row_id = s.span_row_id
LEFT JOIN lab.resource_json ra ON ra.owner = s.resource_id;
CREATE INDEX ON bench_spans_jsonb ((doc->>'traceId'));
CREATE INDEX ON bench_spans_jsonb (((doc->>'startTimeUnixNano')::bigint));
SELECT lab.measure('jsonb-only', 'spans', 'bench_spans_jsonb', 'bench_spans_jsonb') \g /dev/null
CREATE INDEX ON bench_spans_jsonb ((doc->'resource'->'attributes'->>'service.name'), ((doc->>'startTimeUnixNano')::bigint));
CREATE INDEX ON bench_spans_jsonb USING gin ((doc->'attributes') jsonb_path_ops);
SELECT lab.measure('jsonb-only+search', 'spans', 'bench_spans_jsonb', 'bench_spans_jsonb') \g /dev/null
-- Measured: dropped, as every staging table below once used, to keep the run within the disk it has.
DROP TABLE bench_spans_jsonb, lab.span_json, lab.event_docs, lab.link_docs;

DROP TABLE IF EXISTS bench_logs_jsonb;
CREATE TABLE bench_logs_jsonb (doc jsonb NOT NULL);
INSERT INTO bench_logs_jsonb
SELECT jsonb_strip_nulls(jsonb_build_object(
    'timeUnixNano', CASE WHEN NOT l.time_unset THEN (extract(epoch FROM l.time) * 1e9)::bigint + l.time_nanos_fraction END,
    'observedTimeUnixNano', (extract(epoch FROM l.observed_time) * 1e9)::bigint + l.observed_time_nanos_fraction,
    'severityNumber', l.severity_number, 'severityText', l.severity_text,
    'body', coalesce(to_jsonb(l.body_string), to_jsonb(l.body_int), to_jsonb(l.body_double), to_jsonb(l.body_bool),
                     to_jsonb(encode(l.body_bytes, 'base64')), l.body_json),
    'attributes', coalesce(la.attrs, '{}'),
    'traceId', encode(l.trace_id, 'hex'), 'spanId', encode(l.span_id, 'hex'), 'flags', l.flags,
    'eventName', l.event_name, 'droppedAttributesCount', l.dropped_attributes_count,
    'resource', jsonb_build_object('attributes', coalesce(ra.attrs, '{}'), 'schemaUrl', r.schema_url),
    'scope', jsonb_build_object('name', sc.name, 'version', sc.version)))
FROM otel_logs_fact l
JOIN otel_resources_dim r USING (resource_id)
JOIN otel_scopes_dim sc USING (scope_id)
LEFT JOIN lab.log_json la ON la.owner = l.log_id
LEFT JOIN lab.resource_json ra ON ra.owner = l.resource_id;
CREATE INDEX ON bench_logs_jsonb ((doc->>'traceId'));
CREATE INDEX ON bench_logs_jsonb (((doc->>'timeUnixNano')::bigint));
SELECT lab.measure('jsonb-only', 'logs', 'bench_logs_jsonb', 'bench_logs_jsonb') \g /dev/null
CREATE INDEX ON bench_logs_jsonb ((doc->'resource'->'attributes'->>'service.name'), ((doc->>'timeUnixNano')::bigint));
CREATE INDEX ON bench_logs_jsonb USING gin ((doc->'attributes') jsonb_path_ops);
SELECT lab.measure('jsonb-only+search', 'logs', 'bench_logs_jsonb', 'bench_logs_jsonb') \g /dev/null
DROP TABLE bench_logs_jsonb, lab.log_json;

-- ---------------------------------------------------------------------------------------------------------
-- Attribute encodings shared by the candidates.
-- ---------------------------------------------------------------------------------------------------------
-- Key ids for every key, promoted or not (the product would register unpromoted keys in attribute_keys).
CREATE TABLE lab.keys AS SELECT key_id, key FROM attribute_keys;
INSERT INTO lab.keys
SELECT (SELECT max(key_id) FROM attribute_keys) + row_number() OVER (ORDER BY key), key
FROM (SELECT DISTINCT jsonb_object_keys(attributes) AS key FROM otel_span_attrs_other
      UNION SELECT jsonb_object_keys(attributes) FROM otel_span_event_attrs_other
      UNION SELECT jsonb_object_keys(attributes) FROM otel_span_link_attrs_other
      UNION SELECT jsonb_object_keys(attributes) FROM otel_log_attrs_other) k
WHERE key NOT IN (SELECT key FROM attribute_keys);
CREATE UNIQUE INDEX ON lab.keys (key);

-- The compact encoding of one attribute: varint key id (unsigned LEB128), a type tag byte, the value
-- (1 string: varint length + UTF-8; 2 int: zigzag varint, as protobuf's sint64; 3 double: 8 bytes;
-- 4/5 bool false/true: no value; 6 bytes: varint length + bytes; 7 anything else (arrays, kvlists, tagged
-- values): varint length + the typed JSON text). An _other value ('other') is decoded from the product's
-- typed JSON first (ints without '.', doubles with '.' or an exponent, {"bytes": base64}).
-- plpgsql, not SQL functions: these are called ~10 times per span, and SQL functions that are not
-- inlined cost ~40x more per call here.
CREATE FUNCTION lab.venc(v bigint) RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE out bytea := ''; b int;
BEGIN
    IF v >= 0 AND v < 128 THEN RETURN set_byte('\x00'::bytea, 0, v::int); END IF;
    IF v >= 0 AND v < 16384 THEN RETURN set_byte(set_byte('\x0000'::bytea, 0, (v & 127)::int | 128), 1, (v >> 7)::int); END IF;
    LOOP
        b := (v & 127)::int;
        v := (v >> 7) & x'01ffffffffffffff'::bigint;
        IF v = 0 THEN RETURN out || set_byte('\x00'::bytea, 0, b); END IF;
        out := out || set_byte('\x00'::bytea, 0, b | 128);
    END LOOP;
END $$;
CREATE FUNCTION lab.enc_attr(k int, vtype text, s text, i bigint, d float8, b bool, bs bytea, j jsonb) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE t text; u bytea;
BEGIN
    IF vtype = 'other' THEN
        t := jsonb_typeof(j);
        IF t = 'string' THEN s := j #>> '{}';
        ELSIF t = 'boolean' THEN b := (j::text)::bool;
        ELSIF t = 'number' THEN
            IF strpos(j::text, '.') > 0 OR strpos(lower(j::text), 'e') > 0 THEN d := (j::text)::float8; ELSE i := (j::text)::bigint; END IF;
        ELSIF t = 'object' AND j ? 'bytes' THEN bs := decode(j->>'bytes', 'base64');
        END IF;
    END IF;
    IF s IS NOT NULL THEN u := convert_to(s, 'UTF8'); RETURN lab.venc(k) || '\x01'::bytea || lab.venc(octet_length(u)) || u;
    ELSIF i IS NOT NULL THEN RETURN lab.venc(k) || '\x02'::bytea || lab.venc((i << 1) # (i >> 63));
    ELSIF d IS NOT NULL THEN RETURN lab.venc(k) || '\x03'::bytea || float8send(d);
    ELSIF b IS NOT NULL THEN RETURN lab.venc(k) || CASE WHEN b THEN '\x05'::bytea ELSE '\x04'::bytea END;
    ELSIF bs IS NOT NULL THEN RETURN lab.venc(k) || '\x06'::bytea || lab.venc(octet_length(bs)) || bs;
    ELSE u := convert_to(j::text, 'UTF8'); RETURN lab.venc(k) || '\x07'::bytea || lab.venc(octet_length(u)) || u;
    END IF;
END $$;
-- Every attribute of a level as one row: owner, key, type and typed value, or the JSON value of _other.
CREATE FUNCTION lab.attrs_rows(p_level text, p_owner text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT format($f$
        SELECT %2$s AS owner, key_id, 'string' AS vtype, value AS s, NULL::bigint AS i, NULL::float8 AS d, NULL::bool AS b, NULL::bytea AS by, NULL::jsonb AS j FROM otel_%1$s_attrs_string
        UNION ALL SELECT %2$s, key_id, 'int', NULL, value, NULL, NULL, NULL, NULL FROM otel_%1$s_attrs_int
        UNION ALL SELECT %2$s, key_id, 'double', NULL, NULL, value, NULL, NULL, NULL FROM otel_%1$s_attrs_double
        UNION ALL SELECT %2$s, key_id, 'bool', NULL, NULL, NULL, value, NULL, NULL FROM otel_%1$s_attrs_bool
        UNION ALL SELECT %2$s, key_id, 'bytes', NULL, NULL, NULL, NULL, value, NULL FROM otel_%1$s_attrs_bytes
        UNION ALL SELECT %2$s, k.key_id, 'other', NULL, NULL, NULL, NULL, NULL, e.value
                  FROM otel_%1$s_attrs_other, LATERAL jsonb_each(attributes) e JOIN lab.keys k ON k.key = e.key$f$,
        p_level, p_owner)
$$;
-- A typed value as JSON (for the key-id jsonb encoding).
CREATE FUNCTION lab.to_json(s text, i bigint, d float8, b bool, by bytea, j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(to_jsonb(s), to_jsonb(i), to_jsonb(d), to_jsonb(b),
                    CASE WHEN by IS NOT NULL THEN jsonb_build_object('bytes', encode(by, 'base64')) END, j)
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Which promoted keys are low-cardinality (deduplicated into sets), from the loaded data.
-- ---------------------------------------------------------------------------------------------------------
CREATE FUNCTION lab.classify(p_level text, p_owner text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        INSERT INTO lab.key_stats
        SELECT %1$L, a.key_id, k.key, a.vtype, count(*), count(DISTINCT coalesce(s, i::text, d::text, b::text, encode(by, 'hex'))),
               count(DISTINCT coalesce(s, i::text, d::text, b::text, encode(by, 'hex'))) <= %3$s
        FROM lab.%2$s_rows a JOIN lab.keys k USING (key_id) WHERE a.vtype <> 'other' GROUP BY a.key_id, k.key, a.vtype$f$,
        p_level, p_level, current_setting('lab.low_card_max')::int);
END $$;
SELECT set_config('lab.low_card_max', :'low_card_max', false) \g /dev/null
CREATE TABLE lab.key_stats (level text, key_id int, key text, vtype text, occurrences bigint, distinct_values bigint, low boolean);
CREATE FUNCTION lab.materialize_rows(p_level text, p_owner text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE lab.%1$s_rows AS %2$s', p_level, lab.attrs_rows(p_level, p_owner));
END $$;
SELECT lab.materialize_rows('span', 'span_row_id') \g /dev/null
SELECT lab.materialize_rows('log', 'log_id') \g /dev/null
SELECT lab.classify('span', 'span_row_id') \g /dev/null
SELECT lab.classify('log', 'log_id') \g /dev/null
\echo promoted keys: occurrences, distinct values, low-cardinality (deduplicated in sets) by the rule distinct <= :low_card_max
SELECT level, key, vtype, occurrences, distinct_values, low FROM lab.key_stats ORDER BY level, key;

-- ---------------------------------------------------------------------------------------------------------
-- Attribute sets and per-item encoded attributes, for a level (span or log).
--   lab.<level>_attr_sets(set_id, hash)               one row per distinct set (sha256 here; blake3 in the product)
--   lab.<level>_set_attrs_<type>(set_id, key_id, value) its typed attributes, PK (set_id, key_id), index (key_id, value, set_id)
--   lab.<level>_set_of(owner, set_id)                  staging: each item's set
--   lab.<level>_enc(owner, attrs_json, attrs_bin)      staging: each item's encoded attributes
-- ---------------------------------------------------------------------------------------------------------
CREATE FUNCTION lab.build_sets(p_level text, p_owner text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    EXECUTE format($f$
        CREATE TABLE lab.%1$s_set_of AS
        SELECT owner, sha256(convert_to(string_agg(r.key_id || ':' || r.vtype || ':' ||
                   coalesce(s, i::text, d::text, b::text, encode(by, 'hex')), E'\x1f' ORDER BY r.key_id), 'UTF8')) AS hash
        FROM lab.%1$s_rows r JOIN lab.key_stats k ON k.level = %1$L AND k.key_id = r.key_id AND k.vtype = r.vtype AND k.low
        GROUP BY owner$f$, p_level);
    EXECUTE format($f$
        CREATE TABLE lab.%1$s_attr_sets (set_id integer NOT NULL, hash bytea NOT NULL);
        INSERT INTO lab.%1$s_attr_sets SELECT row_number() OVER (ORDER BY min(owner)), hash FROM lab.%1$s_set_of GROUP BY hash;
        CREATE UNIQUE INDEX ON lab.%1$s_attr_sets (hash);
        ALTER TABLE lab.%1$s_set_of ADD COLUMN set_id integer;
        UPDATE lab.%1$s_set_of o SET set_id = s.set_id FROM lab.%1$s_attr_sets s WHERE s.hash = o.hash;
        CREATE INDEX ON lab.%1$s_set_of (owner);
        ANALYZE lab.%1$s_set_of$f$, p_level);
    -- One representative item per set gives the set's typed rows.
    EXECUTE format($f$
        CREATE TABLE lab.%1$s_rep_rows AS
        SELECT rep.set_id, r.* FROM (SELECT set_id, min(owner) AS owner FROM lab.%1$s_set_of GROUP BY set_id) rep
        JOIN lab.%1$s_rows r USING (owner)
        JOIN lab.key_stats k ON k.level = %1$L AND k.key_id = r.key_id AND k.vtype = r.vtype AND k.low$f$, p_level);
    FOREACH t IN ARRAY ARRAY['string', 'int', 'double', 'bool', 'bytes'] LOOP
        EXECUTE format($f$
            CREATE TABLE lab.%1$s_set_attrs_%2$s (set_id integer NOT NULL, key_id integer NOT NULL, value %3$s NOT NULL,
                                                 PRIMARY KEY (set_id, key_id));
            CREATE INDEX ON lab.%1$s_set_attrs_%2$s (key_id, %4$s, set_id);
            INSERT INTO lab.%1$s_set_attrs_%2$s
            SELECT set_id, key_id, %5$s FROM lab.%1$s_rep_rows WHERE vtype = %2$L$f$,
            p_level, t, CASE t WHEN 'string' THEN 'text' WHEN 'int' THEN 'bigint' WHEN 'double' THEN 'float8' WHEN 'bool' THEN 'boolean' ELSE 'bytea' END,
            CASE WHEN t IN ('string', 'bytes') THEN 'substr(value, 1, 200)' ELSE 'value' END,
            CASE t WHEN 'string' THEN 's' WHEN 'int' THEN 'i' WHEN 'double' THEN 'd' WHEN 'bool' THEN 'b' ELSE 'by' END);
    END LOOP;
    EXECUTE format($f$
        CREATE TABLE lab.%1$s_enc AS
        SELECT owner, jsonb_object_agg(r.key_id::text, coalesce(j, lab.to_json(s, i, d, b, by, j))) AS attrs_json,
               string_agg(lab.enc_attr(r.key_id, r.vtype, s, i, d, b, by, j), ''::bytea ORDER BY r.key_id) AS attrs_bin
        FROM lab.%1$s_rows r LEFT JOIN lab.key_stats k ON k.level = %1$L AND k.key_id = r.key_id AND k.vtype = r.vtype
        WHERE NOT coalesce(k.low, false)
        GROUP BY owner;
        CREATE INDEX ON lab.%1$s_enc (owner);
        ANALYZE lab.%1$s_enc$f$, p_level);
END $$;
SELECT lab.build_sets('span', 'span_row_id') \g /dev/null
SELECT lab.build_sets('log', 'log_id') \g /dev/null
\echo distinct attribute sets (per level), and items per set
SELECT 'span' AS level, count(*) AS sets, (SELECT n FROM lab.items WHERE signal = 'spans') / greatest(count(*), 1) AS items_per_set FROM lab.span_attr_sets
UNION ALL SELECT 'log', count(*), (SELECT n FROM lab.items WHERE signal = 'logs') / greatest(count(*), 1) FROM lab.log_attr_sets;
\echo encoded attributes per item (average bytes of the value, before any compression)
SELECT 'span' AS level, round(avg(pg_column_size(attrs_json)), 1) AS jsonb_bytes, round(avg(pg_column_size(attrs_bin)), 1) AS bytea_bytes FROM lab.span_enc
UNION ALL SELECT 'log', round(avg(pg_column_size(attrs_json)), 1), round(avg(pg_column_size(attrs_bin)), 1) FROM lab.log_enc
UNION ALL SELECT 'span _other today', round(avg(pg_column_size(attributes)), 1), NULL FROM otel_span_attrs_other
UNION ALL SELECT 'log _other today', round(avg(pg_column_size(attributes)), 1), NULL FROM otel_log_attrs_other;

-- Span series for c2: resource, scope, name, kind, status and attribute set, deduplicated together.
CREATE TABLE lab.span_series (series_id integer NOT NULL, hash bytea NOT NULL, resource_id bigint NOT NULL,
    scope_id bigint NOT NULL, kind smallint NOT NULL, status_code smallint NOT NULL, attr_set_id integer, name text NOT NULL);
INSERT INTO lab.span_series
SELECT row_number() OVER (ORDER BY min(f.span_row_id)),
       sha256(convert_to(concat_ws(E'\x1f', f.resource_id, f.scope_id, f.kind, f.status_code, o.set_id, f.name), 'UTF8')),
       f.resource_id, f.scope_id, f.kind, f.status_code, o.set_id, f.name
FROM otel_spans_fact f LEFT JOIN lab.span_set_of o ON o.owner = f.span_row_id
GROUP BY f.resource_id, f.scope_id, f.kind, f.status_code, o.set_id, f.name;
CREATE UNIQUE INDEX ON lab.span_series (hash);
-- The searches that resolve series: a service's resources, an operation, an attribute set.
CREATE INDEX ON lab.span_series (resource_id, name);
CREATE INDEX ON lab.span_series (attr_set_id);
ANALYZE lab.span_series;
SELECT count(*) AS span_series FROM lab.span_series;

-- Each candidate's fact rows, in id order (the order ingest appends them).
CREATE VIEW lab.span_fact_rows AS
SELECT f.*, o.set_id AS attr_set_id, e.attrs_json, e.attrs_bin, sr.series_id
FROM otel_spans_fact f
LEFT JOIN lab.span_set_of o ON o.owner = f.span_row_id
LEFT JOIN lab.span_enc e ON e.owner = f.span_row_id
LEFT JOIN lab.span_series sr ON sr.resource_id = f.resource_id AND sr.scope_id = f.scope_id AND sr.kind = f.kind
     AND sr.status_code = f.status_code AND sr.attr_set_id IS NOT DISTINCT FROM o.set_id AND sr.name = f.name;
CREATE TABLE lab.span_fact_m AS SELECT * FROM lab.span_fact_rows ORDER BY span_row_id;
DROP VIEW lab.span_fact_rows;
DROP TABLE lab.span_rows, lab.log_rows, lab.span_rep_rows, lab.log_rep_rows, lab.span_enc;

\set fact_cols 'span_row_id, start_time, start_time_nanos_fraction, end_time, end_time_nanos_fraction, duration_ns, trace_id, span_id, parent_span_id, trace_state, flags, name, kind, status_code, status_message, dropped_attributes_count, dropped_events_count, dropped_links_count, resource_id, scope_id'
-- COPY files, binary, written by the server.
SELECT :'dir' || '/spans_current.bin' AS f_cur, :'dir' || '/spans_b_json.bin' AS f_bj, :'dir' || '/spans_b_bin.bin' AS f_bb,
       :'dir' || '/spans_c2.bin' AS f_c2, :'dir' || '/spans_d.bin' AS f_d, :'dir' || '/spans_d2.bin' AS f_d2,
       :'dir' || '/span_attrs_string.bin' AS f_as, :'dir' || '/span_attrs_int.bin' AS f_ai, :'dir' || '/span_attrs_other.bin' AS f_ao,
       :'dir' || '/logs_current.bin' AS f_lcur, :'dir' || '/logs_b.bin' AS f_lb, :'dir' || '/logs_d.bin' AS f_ld,
       :'dir' || '/log_attrs_string.bin' AS f_las, :'dir' || '/log_attrs_other.bin' AS f_lao \gset
COPY (SELECT :fact_cols FROM lab.span_fact_m) TO :'f_cur' (FORMAT binary);
COPY (SELECT :fact_cols, attr_set_id, attrs_json FROM lab.span_fact_m) TO :'f_bj' (FORMAT binary);
COPY (SELECT :fact_cols, attr_set_id, attrs_bin FROM lab.span_fact_m) TO :'f_bb' (FORMAT binary);
COPY (SELECT span_row_id, start_time, start_time_nanos_fraction, end_time, end_time_nanos_fraction, duration_ns, trace_id, span_id,
             parent_span_id, trace_state, flags, status_message, dropped_attributes_count, dropped_events_count, dropped_links_count,
             series_id, attrs_bin FROM lab.span_fact_m) TO :'f_c2' (FORMAT binary);
COPY (SELECT span_row_id, start_time, end_time, duration_ns, resource_id, scope_id, flags, dropped_attributes_count,
             dropped_events_count, dropped_links_count, attr_set_id, start_time_nanos_fraction, end_time_nanos_fraction, kind,
             status_code, trace_id, span_id, parent_span_id, name, trace_state, status_message, attrs_bin FROM lab.span_fact_m) TO :'f_d' (FORMAT binary);
COPY (SELECT span_row_id, start_time, end_time, duration_ns, flags, dropped_attributes_count, dropped_events_count,
             dropped_links_count, series_id, start_time_nanos_fraction, end_time_nanos_fraction, trace_id, span_id,
             parent_span_id, trace_state, status_message, attrs_bin FROM lab.span_fact_m) TO :'f_d2' (FORMAT binary);
-- Today's attribute rows (for the current layout's full COPY: fact + attribute rows).
COPY (SELECT * FROM otel_span_attrs_string ORDER BY span_row_id, key_id) TO :'f_as' (FORMAT binary);
COPY (SELECT * FROM otel_span_attrs_int ORDER BY span_row_id, key_id) TO :'f_ai' (FORMAT binary);
COPY (SELECT * FROM otel_span_attrs_other ORDER BY span_row_id) TO :'f_ao' (FORMAT binary);

-- ---------------------------------------------------------------------------------------------------------
-- Empty tables of each layout, with their indexes, then the timed COPYs (\timing), then the sizes.
-- ---------------------------------------------------------------------------------------------------------
CREATE TABLE lab.cur_spans (LIKE otel_spans_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX ON lab.cur_spans (trace_id, start_time);                      -- trace by id
CREATE INDEX ON lab.cur_spans (start_time, span_row_id);                   -- time listing, attribute-row joins
CREATE INDEX ON lab.cur_spans (resource_id, start_time, span_row_id);      -- service walk
CREATE TABLE lab.cur_attrs_string (LIKE otel_span_attrs_string INCLUDING DEFAULTS);
CREATE INDEX ON lab.cur_attrs_string (span_row_id);
CREATE INDEX ON lab.cur_attrs_string (key_id, substr(value, 1, 200), start_time, span_row_id);
CREATE TABLE lab.cur_attrs_int (LIKE otel_span_attrs_int INCLUDING DEFAULTS);
CREATE INDEX ON lab.cur_attrs_int (span_row_id);
CREATE INDEX ON lab.cur_attrs_int (key_id, value, start_time, span_row_id);
CREATE TABLE lab.cur_attrs_other (LIKE otel_span_attrs_other INCLUDING DEFAULTS);
CREATE INDEX ON lab.cur_attrs_other (span_row_id);

-- b-json and b-bin: the current fact columns + attr_set_id + encoded attributes; the three current indexes
-- plus (attr_set_id, start_time, span_row_id) for attribute search (walked newest first per set).
CREATE TABLE lab.b_json_spans (LIKE otel_spans_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE lab.b_json_spans ADD COLUMN attr_set_id integer, ADD COLUMN attrs jsonb;
CREATE TABLE lab.b_bin_spans (LIKE otel_spans_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE lab.b_bin_spans ADD COLUMN attr_set_id integer, ADD COLUMN attrs bytea;
CREATE INDEX ON lab.b_json_spans (trace_id, start_time);
CREATE INDEX ON lab.b_json_spans (start_time, span_row_id);
CREATE INDEX ON lab.b_json_spans (resource_id, start_time, span_row_id);
CREATE INDEX ON lab.b_json_spans (attr_set_id, start_time, span_row_id);
CREATE INDEX ON lab.b_bin_spans (trace_id, start_time);
CREATE INDEX ON lab.b_bin_spans (start_time, span_row_id);
CREATE INDEX ON lab.b_bin_spans (resource_id, start_time, span_row_id);
CREATE INDEX ON lab.b_bin_spans (attr_set_id, start_time, span_row_id);

-- c: b-bin with BRIN on start_time instead of the (start_time, span_row_id) btree. Remaining btrees: trace by
-- id; a service's spans newest first; an attribute set's spans newest first. Time-window scans without a
-- service or attribute use the BRIN (bitmap scan of the window's block ranges, then a sort).
CREATE TABLE lab.c_spans (LIKE lab.b_bin_spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX ON lab.c_spans (trace_id, start_time);
CREATE INDEX ON lab.c_spans (resource_id, start_time, span_row_id);
CREATE INDEX ON lab.c_spans (attr_set_id, start_time, span_row_id);
CREATE INDEX ON lab.c_spans USING brin (start_time);

-- c2: the fact row carries series_id (resource, scope, name, kind, status, attribute set) instead of those
-- five columns; btrees: trace by id, and (series_id, start_time, span_row_id) for service, operation,
-- status and attribute searches (resolve the series ids, walk each newest first, merge).
CREATE TABLE lab.c2_spans (
    span_row_id bigint NOT NULL, start_time timestamptz NOT NULL, start_time_nanos_fraction smallint NOT NULL DEFAULT 0,
    end_time timestamptz NOT NULL, end_time_nanos_fraction smallint NOT NULL DEFAULT 0, duration_ns bigint NOT NULL,
    trace_id bytea NOT NULL, span_id bytea NOT NULL, parent_span_id bytea, trace_state text NOT NULL DEFAULT '',
    flags integer NOT NULL DEFAULT 0, status_message text NOT NULL DEFAULT '', dropped_attributes_count integer NOT NULL DEFAULT 0,
    dropped_events_count integer NOT NULL DEFAULT 0, dropped_links_count integer NOT NULL DEFAULT 0,
    series_id integer NOT NULL, attrs bytea);
CREATE INDEX ON lab.c2_spans (trace_id, start_time);
CREATE INDEX ON lab.c2_spans (series_id, start_time, span_row_id);
CREATE INDEX ON lab.c2_spans USING brin (start_time);

-- d and d2: c and c2 with the columns in alignment order (8-byte, 4-byte, 2-byte, then variable length).
CREATE TABLE lab.d_spans (
    span_row_id bigint NOT NULL, start_time timestamptz NOT NULL, end_time timestamptz NOT NULL, duration_ns bigint NOT NULL,
    resource_id bigint NOT NULL, scope_id bigint NOT NULL, flags integer NOT NULL DEFAULT 0,
    dropped_attributes_count integer NOT NULL DEFAULT 0, dropped_events_count integer NOT NULL DEFAULT 0,
    dropped_links_count integer NOT NULL DEFAULT 0, attr_set_id integer, start_time_nanos_fraction smallint NOT NULL DEFAULT 0,
    end_time_nanos_fraction smallint NOT NULL DEFAULT 0, kind smallint NOT NULL, status_code smallint NOT NULL,
    trace_id bytea NOT NULL, span_id bytea NOT NULL, parent_span_id bytea, name text NOT NULL, trace_state text NOT NULL DEFAULT '',
    status_message text NOT NULL DEFAULT '', attrs bytea);
CREATE INDEX ON lab.d_spans (trace_id, start_time);
CREATE INDEX ON lab.d_spans (resource_id, start_time, span_row_id);
CREATE INDEX ON lab.d_spans (attr_set_id, start_time, span_row_id);
CREATE INDEX ON lab.d_spans USING brin (start_time);
CREATE TABLE lab.d2_spans (
    span_row_id bigint NOT NULL, start_time timestamptz NOT NULL, end_time timestamptz NOT NULL, duration_ns bigint NOT NULL,
    flags integer NOT NULL DEFAULT 0, dropped_attributes_count integer NOT NULL DEFAULT 0,
    dropped_events_count integer NOT NULL DEFAULT 0, dropped_links_count integer NOT NULL DEFAULT 0, series_id integer NOT NULL,
    start_time_nanos_fraction smallint NOT NULL DEFAULT 0, end_time_nanos_fraction smallint NOT NULL DEFAULT 0,
    trace_id bytea NOT NULL, span_id bytea NOT NULL, parent_span_id bytea, trace_state text NOT NULL DEFAULT '',
    status_message text NOT NULL DEFAULT '', attrs bytea);
CREATE INDEX ON lab.d2_spans (trace_id, start_time);
CREATE INDEX ON lab.d2_spans (series_id, start_time, span_row_id);
CREATE INDEX ON lab.d2_spans USING brin (start_time);

CHECKPOINT;
\timing on
\echo COPY current fact rows (3 btrees)
COPY lab.cur_spans FROM :'f_cur' (FORMAT binary);
\echo COPY current string attribute rows (2 btrees)
COPY lab.cur_attrs_string FROM :'f_as' (FORMAT binary);
\echo COPY current int attribute rows (2 btrees)
COPY lab.cur_attrs_int FROM :'f_ai' (FORMAT binary);
\echo COPY current _other rows (1 btree)
COPY lab.cur_attrs_other FROM :'f_ao' (FORMAT binary);
\echo COPY b-json fact rows (4 btrees)
COPY lab.b_json_spans FROM :'f_bj' (FORMAT binary);
\echo COPY b-bin fact rows (4 btrees)
COPY lab.b_bin_spans FROM :'f_bb' (FORMAT binary);
\echo COPY c fact rows (3 btrees + BRIN)
COPY lab.c_spans FROM :'f_bb' (FORMAT binary);
\echo COPY c2 fact rows (2 btrees + BRIN)
COPY lab.c2_spans FROM :'f_c2' (FORMAT binary);
\echo COPY d fact rows (c reordered)
COPY lab.d_spans FROM :'f_d' (FORMAT binary);
\echo COPY d2 fact rows (c2 reordered)
COPY lab.d2_spans FROM :'f_d2' (FORMAT binary);
\echo COPY current fact rows again (drift check)
TRUNCATE lab.cur_spans;
COPY lab.cur_spans FROM :'f_cur' (FORMAT binary);
\timing off

-- Events and links in the candidates: their tables and indexes as today, attributes inline as key-id jsonb.
CREATE FUNCTION lab.inline_json(p_level text, p_owner text, p_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE lab.%I AS SELECT owner, jsonb_object_agg(key_id::text, coalesce(j, lab.to_json(s, i, d, b, by, j))) AS attrs FROM (%s) r GROUP BY owner',
                   p_name, lab.attrs_rows(p_level, p_owner));
    EXECUTE format('CREATE INDEX ON lab.%I (owner)', p_name);
END $$;
SELECT lab.inline_json('span_event', 'event_row_id', 'event_inline') \g /dev/null
SELECT lab.inline_json('span_link', 'link_row_id', 'link_inline') \g /dev/null
CREATE TABLE lab.cand_events (LIKE otel_span_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE lab.cand_events ADD COLUMN attrs jsonb;
CREATE INDEX ON lab.cand_events (span_row_id);
INSERT INTO lab.cand_events SELECT e.*, a.attrs FROM otel_span_events e LEFT JOIN lab.event_inline a ON a.owner = e.event_row_id ORDER BY e.event_row_id;
CREATE TABLE lab.cand_links (LIKE otel_span_links INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE lab.cand_links ADD COLUMN attrs jsonb;
CREATE INDEX ON lab.cand_links (span_row_id);
CREATE INDEX ON lab.cand_links (trace_id);
INSERT INTO lab.cand_links SELECT l.*, a.attrs FROM otel_span_links l LEFT JOIN lab.link_inline a ON a.owner = l.link_row_id ORDER BY l.link_row_id;

-- Sizes of the candidates. The set tables and events/links are shared by b..d; c2/d2 add the series table.
CREATE FUNCTION lab.measure_sets(p_layout text, p_signal text, p_level text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    PERFORM lab.measure(p_layout, p_signal, 'attribute sets', format('lab.%s_attr_sets', p_level)::regclass);
    FOREACH t IN ARRAY ARRAY['string', 'int', 'double', 'bool', 'bytes'] LOOP
        PERFORM lab.measure(p_layout, p_signal, 'attribute sets', format('lab.%s_set_attrs_%s', p_level, t)::regclass);
    END LOOP;
END $$;
SELECT lab.measure('a current, fact re-COPYed', 'spans', 'fact (re-COPYed)', 'lab.cur_spans') \g /dev/null
SELECT lab.measure(l, 'spans', 'fact', t::regclass), lab.measure_sets(l, 'spans', 'span'),
       lab.measure(l, 'spans', 'events, links (attrs inline)', 'lab.cand_events'),
       lab.measure(l, 'spans', 'events, links (attrs inline)', 'lab.cand_links'),
       lab.measure_dims(l, 'spans')
FROM (VALUES ('b-json', 'lab.b_json_spans'), ('b-bin', 'lab.b_bin_spans'), ('c', 'lab.c_spans'), ('c2', 'lab.c2_spans'),
             ('d', 'lab.d_spans'), ('d2', 'lab.d2_spans')) v(l, t) \g /dev/null
SELECT lab.measure(l, 'spans', 'series', 'lab.span_series') FROM (VALUES ('c2'), ('d2')) v(l) \g /dev/null

-- Column compression of the encoded attributes (pglz, lz4), with toast_tuple_target lowered to its minimum
-- (128), heap + TOAST only (the indexes do not change). Expected and measured: no change at all, because
-- PostgreSQL only invokes the toaster (and so compression) for a tuple longer than TOAST_TUPLE_THRESHOLD
-- (~2 kB); toast_tuple_target only sets how far it shrinks a tuple once invoked. Rows of 200-300 bytes
-- are never compressed whatever the column's COMPRESSION setting.
CREATE FUNCTION lab.compression(p_col text, p_method text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text := format('comp_%s_%s', p_col, p_method);
BEGIN
    EXECUTE format('CREATE TABLE lab.%I (LIKE lab.d_spans) WITH (toast_tuple_target = 128)', t);
    IF p_col = 'json' THEN EXECUTE format('ALTER TABLE lab.%I ALTER COLUMN attrs TYPE jsonb USING NULL', t); END IF;
    EXECUTE format('ALTER TABLE lab.%I ALTER COLUMN attrs SET COMPRESSION %s', t, p_method);
    EXECUTE format('INSERT INTO lab.%I SELECT span_row_id, start_time, end_time, duration_ns, resource_id, scope_id, flags, dropped_attributes_count, dropped_events_count, dropped_links_count, attr_set_id, start_time_nanos_fraction, end_time_nanos_fraction, kind, status_code, trace_id, span_id, parent_span_id, name, trace_state, status_message, attrs_%s FROM lab.span_fact_m ORDER BY span_row_id', t, p_col);
    PERFORM lab.measure('d, attrs ' || p_col || ' ' || p_method || ' (toast_tuple_target 128)', 'spans', 'fact heap only', format('lab.%I', t)::regclass);
    EXECUTE format('DROP TABLE lab.%I', t);
END $$;
SELECT lab.compression(c, m) FROM (VALUES ('json'), ('bin')) a(c), (VALUES ('pglz'), ('lz4')) b(m) \g /dev/null
-- The reference for those: the same d rows with default settings, heap only.
CREATE TABLE lab.comp_bin_none (LIKE lab.d_spans);
INSERT INTO lab.comp_bin_none SELECT * FROM lab.d_spans ORDER BY span_row_id;
SELECT lab.measure('d, attrs bin uncompressed (default)', 'spans', 'fact heap only', 'lab.comp_bin_none') \g /dev/null
DROP TABLE lab.comp_bin_none;
CREATE TABLE lab.comp_json_none (LIKE lab.d_spans);
ALTER TABLE lab.comp_json_none ALTER COLUMN attrs TYPE jsonb USING NULL;
INSERT INTO lab.comp_json_none SELECT span_row_id, start_time, end_time, duration_ns, resource_id, scope_id, flags, dropped_attributes_count, dropped_events_count, dropped_links_count, attr_set_id, start_time_nanos_fraction, end_time_nanos_fraction, kind, status_code, trace_id, span_id, parent_span_id, name, trace_state, status_message, attrs_json FROM lab.span_fact_m ORDER BY span_row_id;
SELECT lab.measure('d, attrs json uncompressed (default)', 'spans', 'fact heap only', 'lab.comp_json_none') \g /dev/null
DROP TABLE lab.comp_json_none, lab.span_fact_m;

-- ---------------------------------------------------------------------------------------------------------
-- Logs: current fact rows vs b (attr_set_id + encoded attributes, + (attr_set_id, time, log_id)) vs d (b-bin,
-- BRIN on time instead of (time, log_id), alignment column order). The body trigram GIN is the same in every
-- layout (same bodies), so it is left out of the COPYs and counted once, from the loaded table.
-- ---------------------------------------------------------------------------------------------------------
CREATE TABLE lab.log_fact_m AS
SELECT l.*, o.set_id AS attr_set_id, e.attrs_json, e.attrs_bin
FROM otel_logs_fact l LEFT JOIN lab.log_set_of o ON o.owner = l.log_id LEFT JOIN lab.log_enc e ON e.owner = l.log_id
ORDER BY l.log_id;
DROP TABLE lab.log_enc;
\set log_cols 'log_id, time, time_nanos_fraction, time_unset, observed_time, observed_time_nanos_fraction, severity_number, severity_text, body_type, body_string, body_int, body_double, body_bool, body_bytes, body_json, trace_id, span_id, flags, event_name, dropped_attributes_count, resource_id, scope_id'
COPY (SELECT :log_cols FROM lab.log_fact_m) TO :'f_lcur' (FORMAT binary);
COPY (SELECT :log_cols, attr_set_id, attrs_bin FROM lab.log_fact_m) TO :'f_lb' (FORMAT binary);
COPY (SELECT log_id, time, observed_time, body_int, body_double, resource_id, scope_id, flags, dropped_attributes_count,
             attr_set_id, time_nanos_fraction, observed_time_nanos_fraction, severity_number, body_type, time_unset, body_bool,
             trace_id, span_id, severity_text, body_string, body_bytes, body_json, event_name, attrs_bin FROM lab.log_fact_m) TO :'f_ld' (FORMAT binary);
COPY (SELECT * FROM otel_log_attrs_string ORDER BY log_id, key_id) TO :'f_las' (FORMAT binary);
COPY (SELECT * FROM otel_log_attrs_other ORDER BY log_id) TO :'f_lao' (FORMAT binary);

CREATE TABLE lab.cur_logs (LIKE otel_logs_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX ON lab.cur_logs (time, log_id);                                  -- keyset paging
CREATE INDEX ON lab.cur_logs (trace_id) WHERE trace_id IS NOT NULL;           -- logs of a trace
CREATE INDEX ON lab.cur_logs (resource_id, time);                             -- logs of a service
CREATE TABLE lab.cur_log_attrs_string (LIKE otel_log_attrs_string INCLUDING DEFAULTS);
CREATE INDEX ON lab.cur_log_attrs_string (log_id);
CREATE INDEX ON lab.cur_log_attrs_string (key_id, substr(value, 1, 200));
CREATE TABLE lab.cur_log_attrs_other (LIKE otel_log_attrs_other INCLUDING DEFAULTS);
CREATE INDEX ON lab.cur_log_attrs_other (log_id);
CREATE TABLE lab.b_logs (LIKE otel_logs_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE lab.b_logs ADD COLUMN attr_set_id integer, ADD COLUMN attrs bytea;
CREATE INDEX ON lab.b_logs (time, log_id);
CREATE INDEX ON lab.b_logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX ON lab.b_logs (resource_id, time);
CREATE INDEX ON lab.b_logs (attr_set_id, time, log_id);                       -- logs with a promoted attribute value
CREATE TABLE lab.d_logs (
    log_id bigint NOT NULL, time timestamptz NOT NULL, observed_time timestamptz, body_int bigint, body_double float8,
    resource_id bigint NOT NULL, scope_id bigint NOT NULL, flags integer NOT NULL DEFAULT 0,
    dropped_attributes_count integer NOT NULL DEFAULT 0, attr_set_id integer, time_nanos_fraction smallint NOT NULL DEFAULT 0,
    observed_time_nanos_fraction smallint NOT NULL DEFAULT 0, severity_number smallint NOT NULL, body_type smallint NOT NULL,
    time_unset boolean NOT NULL DEFAULT false, body_bool boolean, trace_id bytea, span_id bytea, severity_text text NOT NULL DEFAULT '',
    body_string text, body_bytes bytea, body_json jsonb, event_name text NOT NULL DEFAULT '', attrs bytea);
CREATE INDEX ON lab.d_logs USING brin (time);
CREATE INDEX ON lab.d_logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX ON lab.d_logs (resource_id, time, log_id);
CREATE INDEX ON lab.d_logs (attr_set_id, time, log_id);

CHECKPOINT;
\timing on
\echo COPY current log fact rows (3 btrees)
COPY lab.cur_logs FROM :'f_lcur' (FORMAT binary);
\echo COPY current log string attribute rows (2 btrees)
COPY lab.cur_log_attrs_string FROM :'f_las' (FORMAT binary);
\echo COPY current log _other rows (1 btree)
COPY lab.cur_log_attrs_other FROM :'f_lao' (FORMAT binary);
\echo COPY b log fact rows (4 btrees)
COPY lab.b_logs FROM :'f_lb' (FORMAT binary);
\echo COPY d log fact rows (3 btrees + BRIN)
COPY lab.d_logs FROM :'f_ld' (FORMAT binary);
\timing off

CREATE FUNCTION lab.measure_trgm(p_layout text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO lab.sizes
    SELECT p_layout, 'logs', 'body trigram GIN (as loaded)', 'gin trgm (body, as loaded)', sum(pg_relation_size(i.indexrelid)), NULL, 'gin'
    FROM pg_partition_tree('otel_logs_fact') t JOIN pg_index i ON i.indrelid = t.relid
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE t.isleaf AND am.amname = 'gin'
$$;
SELECT lab.measure('a current, fact re-COPYed', 'logs', 'fact (re-COPYed)', 'lab.cur_logs') \g /dev/null
SELECT lab.measure(l, 'logs', 'fact', t::regclass), lab.measure_sets(l, 'logs', 'log'), lab.measure_dims(l, 'logs'), lab.measure_trgm(l)
FROM (VALUES ('b-bin', 'lab.b_logs'), ('d', 'lab.d_logs')) v(l, t) \g /dev/null

-- ---------------------------------------------------------------------------------------------------------
-- Results.
-- ---------------------------------------------------------------------------------------------------------
VACUUM ANALYZE lab.c_spans, lab.c2_spans, lab.d_spans, lab.d2_spans, lab.b_bin_spans;
CREATE VIEW lab.per_item AS
SELECT s.layout, s.signal, s.component, s.part, s.am,
       round(sum(s.bytes)::numeric / i.n, 1) AS bytes_per_item,
       round(sum(s.entries) FILTER (WHERE s.am = 'btree')::numeric / i.n, 2) AS btree_entries_per_item
FROM lab.sizes s JOIN lab.items i USING (signal)
GROUP BY s.layout, s.signal, s.component, s.part, s.am, i.n;
\echo bytes per item by table and index
SELECT layout, signal, component, part, bytes_per_item, btree_entries_per_item
FROM lab.per_item WHERE bytes_per_item > 0.05 OR btree_entries_per_item > 0.005
ORDER BY signal, layout, component, part;
\echo totals (ratio to the JSONB-only table with trace id and time indexes)
WITH t AS (
    SELECT layout, signal, sum(bytes_per_item) AS bytes_per_item, sum(btree_entries_per_item) AS btree_entries_per_item,
           sum(bytes_per_item) FILTER (WHERE am = 'gin' AND part LIKE '%trgm%') AS trgm
    FROM lab.per_item GROUP BY layout, signal)
SELECT t.layout, t.signal, t.bytes_per_item, t.btree_entries_per_item,
       round(t.bytes_per_item / b.bytes_per_item, 3) AS ratio_to_jsonb_only,
       round((t.bytes_per_item - coalesce(t.trgm, 0)) / b.bytes_per_item, 3) AS ratio_without_body_trgm
FROM t JOIN t b ON b.signal = t.signal AND b.layout = 'jsonb-only'
ORDER BY t.signal, t.layout;

-- ---------------------------------------------------------------------------------------------------------
-- Search: spans with http.route = X in the last hour of the data (newest first, a page of 100; and how many).
-- Current: walk the string attribute index (key_id, substr(value), start_time, span_row_id), join the facts.
-- c: resolve the route's attribute sets, walk each set's (attr_set_id, start_time, span_row_id) newest
-- first, merge. c2: the same through the series that carry those sets. Each is run twice; read the second.
-- ---------------------------------------------------------------------------------------------------------
SELECT key_id AS route_key FROM attribute_keys WHERE key = 'http.route' \gset
SELECT value AS route FROM otel_span_attrs_string WHERE key_id = :route_key GROUP BY value ORDER BY count(*) DESC, value LIMIT 1 \gset
SELECT max(start_time) AS t_to FROM otel_spans_fact \gset
\echo route :route up to :t_to


-- current, page
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, f.name FROM otel_span_attrs_string a
JOIN otel_spans_fact f ON f.start_time = a.start_time AND f.span_row_id = a.span_row_id
WHERE a.key_id = :route_key AND substr(a.value, 1, 200) = substr(:'route', 1, 200) AND a.value = :'route'
  AND a.start_time > :'t_to'::timestamptz - interval '1 hour' AND a.start_time <= :'t_to'::timestamptz
ORDER BY a.start_time DESC, a.span_row_id DESC LIMIT 100;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, f.name FROM otel_span_attrs_string a
JOIN otel_spans_fact f ON f.start_time = a.start_time AND f.span_row_id = a.span_row_id
WHERE a.key_id = :route_key AND substr(a.value, 1, 200) = substr(:'route', 1, 200) AND a.value = :'route'
  AND a.start_time > :'t_to'::timestamptz - interval '1 hour' AND a.start_time <= :'t_to'::timestamptz
ORDER BY a.start_time DESC, a.span_row_id DESC LIMIT 100;
-- current, count
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT count(*) FROM otel_span_attrs_string a
WHERE a.key_id = :route_key AND substr(a.value, 1, 200) = substr(:'route', 1, 200) AND a.value = :'route'
  AND a.start_time > :'t_to'::timestamptz - interval '1 hour' AND a.start_time <= :'t_to'::timestamptz;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT count(*) FROM otel_span_attrs_string a
WHERE a.key_id = :route_key AND substr(a.value, 1, 200) = substr(:'route', 1, 200) AND a.value = :'route'
  AND a.start_time > :'t_to'::timestamptz - interval '1 hour' AND a.start_time <= :'t_to'::timestamptz;
-- c, page
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, f.name
FROM (SELECT set_id FROM lab.span_set_attrs_string
      WHERE key_id = :route_key AND substr(value, 1, 200) = substr(:'route', 1, 200) AND value = :'route') s
CROSS JOIN LATERAL (
    SELECT * FROM lab.c_spans f WHERE f.attr_set_id = s.set_id
      AND f.start_time > :'t_to'::timestamptz - interval '1 hour' AND f.start_time <= :'t_to'::timestamptz
    ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100) f
ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, f.name
FROM (SELECT set_id FROM lab.span_set_attrs_string
      WHERE key_id = :route_key AND substr(value, 1, 200) = substr(:'route', 1, 200) AND value = :'route') s
CROSS JOIN LATERAL (
    SELECT * FROM lab.c_spans f WHERE f.attr_set_id = s.set_id
      AND f.start_time > :'t_to'::timestamptz - interval '1 hour' AND f.start_time <= :'t_to'::timestamptz
    ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100) f
ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100;
-- c, count
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT count(*) FROM lab.c_spans f
WHERE f.attr_set_id IN (SELECT set_id FROM lab.span_set_attrs_string
                        WHERE key_id = :route_key AND substr(value, 1, 200) = substr(:'route', 1, 200) AND value = :'route')
  AND f.start_time > :'t_to'::timestamptz - interval '1 hour' AND f.start_time <= :'t_to'::timestamptz;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT count(*) FROM lab.c_spans f
WHERE f.attr_set_id IN (SELECT set_id FROM lab.span_set_attrs_string
                        WHERE key_id = :route_key AND substr(value, 1, 200) = substr(:'route', 1, 200) AND value = :'route')
  AND f.start_time > :'t_to'::timestamptz - interval '1 hour' AND f.start_time <= :'t_to'::timestamptz;
-- c2, page (series of the route's sets)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, sr.name
FROM lab.span_series sr
CROSS JOIN LATERAL (
    SELECT * FROM lab.c2_spans f WHERE f.series_id = sr.series_id
      AND f.start_time > :'t_to'::timestamptz - interval '1 hour' AND f.start_time <= :'t_to'::timestamptz
    ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100) f
WHERE sr.attr_set_id IN (SELECT set_id FROM lab.span_set_attrs_string
                         WHERE key_id = :route_key AND substr(value, 1, 200) = substr(:'route', 1, 200) AND value = :'route')
ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, sr.name
FROM lab.span_series sr
CROSS JOIN LATERAL (
    SELECT * FROM lab.c2_spans f WHERE f.series_id = sr.series_id
      AND f.start_time > :'t_to'::timestamptz - interval '1 hour' AND f.start_time <= :'t_to'::timestamptz
    ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100) f
WHERE sr.attr_set_id IN (SELECT set_id FROM lab.span_set_attrs_string
                         WHERE key_id = :route_key AND substr(value, 1, 200) = substr(:'route', 1, 200) AND value = :'route')
ORDER BY f.start_time DESC, f.span_row_id DESC LIMIT 100;
-- Time listing without a filter (newest 100 spans of the hour): current btree vs c's BRIN.
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT span_row_id, start_time, trace_id, name FROM otel_spans_fact
WHERE start_time > :'t_to'::timestamptz - interval '1 hour' AND start_time <= :'t_to'::timestamptz
ORDER BY start_time DESC, span_row_id DESC LIMIT 100;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT span_row_id, start_time, trace_id, name FROM lab.c_spans
WHERE start_time > :'t_to'::timestamptz - interval '1 hour' AND start_time <= :'t_to'::timestamptz
ORDER BY start_time DESC, span_row_id DESC LIMIT 100;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT span_row_id, start_time, trace_id, name FROM lab.c_spans
WHERE start_time > :'t_to'::timestamptz - interval '5 minutes' AND start_time <= :'t_to'::timestamptz
ORDER BY start_time DESC, span_row_id DESC LIMIT 100;
-- current, page, in the form the product's trace search uses (src/query/record_attributes.rs, Form::Walk):
-- the newest 100 matching attribute rows by index order first, then their facts.
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, f.name
FROM (SELECT a.start_time, a.span_row_id FROM otel_span_attrs_string a
      WHERE a.key_id = :route_key AND substr(a.value, 1, 200) = substr(:'route', 1, 200) AND a.value = :'route'
        AND a.start_time > :'t_to'::timestamptz - interval '1 hour' AND a.start_time <= :'t_to'::timestamptz
      ORDER BY a.start_time DESC, a.span_row_id DESC LIMIT 100) a
JOIN otel_spans_fact f ON f.start_time = a.start_time AND f.span_row_id = a.span_row_id
ORDER BY a.start_time DESC, a.span_row_id DESC;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT f.span_row_id, f.start_time, f.trace_id, f.name
FROM (SELECT a.start_time, a.span_row_id FROM otel_span_attrs_string a
      WHERE a.key_id = :route_key AND substr(a.value, 1, 200) = substr(:'route', 1, 200) AND a.value = :'route'
        AND a.start_time > :'t_to'::timestamptz - interval '1 hour' AND a.start_time <= :'t_to'::timestamptz
      ORDER BY a.start_time DESC, a.span_row_id DESC LIMIT 100) a
JOIN otel_spans_fact f ON f.start_time = a.start_time AND f.span_row_id = a.span_row_id
ORDER BY a.start_time DESC, a.span_row_id DESC;
