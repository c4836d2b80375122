-- Log body text search (GET /api/v2/logs/search?body=TEXT, a case-insensitive substring): a trigram index on
-- the body text. Without it, a text that matches nothing or little makes PostgreSQL read every record of the
-- window (p95 1.5 s over one hour of 9.7M records; ~0.7 s on 1M); with it, such a search reads only the
-- records that hold all the text's trigrams (under 1 ms for an absent text on 1M). Frequent texts keep the
-- time-ordered scan that stops at the page's LIMIT: the planner chooses per text from the statistics of
-- the index expression (src/query/logs.rs writes the predicate on exactly this expression).
--
-- At most one body_* column is set (CHECK on otel_logs_fact), so COALESCE(body_string, body_json::text) is
-- the one searchable text of a record: a string body, or the JSON text of an array or kvlist body.
--
-- Cost: inserts. Raw COPY of 500k records (3 btree indexes already) took 4.2-5.2 s without this index,
-- 12.5-18 s with it and the default 4 MB pending list, 9.6-13.9 s with the 16 MB one below (short bodies,
-- ~27 characters); ~110-character bodies with a random token went from 5.5 s to 45 s. End to end
-- (bench/e2e.sh 500000 logs): 29.3-29.9k -> 17.2-19.2k records/s. A search also scans the pending list
-- (~5 ms at 6 MB). fastupdate = off made COPY 12-15x slower. See docs/schema.md ("Indexes").
--
-- pg_trgm ships with PostgreSQL (contrib, in Debian's postgresql-NN package) and is a trusted extension:
-- the database owner may create it without being a superuser. The index on the partitioned parent is
-- built on every existing partition now (this locks out writers while it builds) and on each new one as
-- partition maintenance attaches it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX otel_logs_fact_body_trgm_idx ON otel_logs_fact
    USING gin ((COALESCE(body_string, body_json::text)) gin_trgm_ops)
    WITH (gin_pending_list_limit = 16384);

COMMENT ON INDEX otel_logs_fact_body_trgm_idx IS 'Trigrams of the log body text, COALESCE(body_string, body_json::text), for the case-insensitive substring search of /api/v2/logs/search?body= (ILIKE on the same expression). Texts without three letters or digits in a row have no trigram and are searched without it.';
