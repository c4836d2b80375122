-- A trace's spans in start order. Trace search probes, for each trace it meets, the trace's first span inside
-- the window: with the window in the index, that is one descent whatever the statistics say. On (trace_id)
-- alone, a partition without statistics yet (a new day, a burst) made PostgreSQL AND each trace's few rows with
-- a bitmap of every span of the window, once per trace, past the statement timeout on 300k spans.
DROP INDEX otel_spans_fact_trace_id_idx;
CREATE INDEX otel_spans_fact_trace_time_idx ON otel_spans_fact (trace_id, start_time);
COMMENT ON INDEX otel_spans_fact_trace_time_idx IS 'A trace''s spans by start time: trace by id, and trace search''s first-span probe within the window.';
