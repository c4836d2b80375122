-- The writer merges the span rollups' latency histograms itself (src/write/rollup_tables.rs): it locks a
-- chunk's rows and reads them back in one statement, adds in memory, and overwrites them in a second. The
-- PL/pgSQL merge it replaces took most of each upsert's time (docs/benchmarks.md, "Rollup histograms merged
-- by the writer"), and nothing else calls it.
DROP FUNCTION ollyscale_latency_merge(BIGINT[], BIGINT[]);
