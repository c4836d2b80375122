-- The span rollups are updated in place by every batch (one upsert per key and minute). Their partitions
-- leave half of each heap page free (fillfactor 50), so that an update finds room on the row's own page and
-- adds no index entries (a HOT update): measured on 8,000 operation rows upserted 15 times, 30% less time
-- and a seventh of the table's pages. Partitions created from now on get it from src/schema/tables.rs
-- (ROLLUP_FILLFACTOR); this gives it to the DEFAULT partitions and to the daily ones that exist.
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN
        SELECT i.inhrelid::regclass FROM pg_inherits i
        WHERE i.inhparent IN ('otel_service_rollups'::regclass, 'otel_operation_rollups'::regclass,
                              'otel_service_edges'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s SET (fillfactor = 50)', part);
    END LOOP;
END
$$;
