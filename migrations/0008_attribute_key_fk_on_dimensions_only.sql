-- Per-row foreign-key probes into attribute_keys made COPY into the high-volume attribute tables about
-- six times slower (measured: 500k rows into otel_span_attrs_int, 0.8 s without the FK, 5.2 s with it), and
-- those tables take ten or more rows per span. The writer resolves every key through attribute_keys (in
-- the batch's transaction) before it writes a row, so the constraint checked nothing the writer does not
-- already guarantee. It stays on the resource and scope attribute tables, which are written once per new
-- dimension row.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT rel.relname AS table_name, con.conname AS constraint_name
        FROM pg_constraint con
        JOIN pg_class rel ON rel.oid = con.conrelid
        WHERE con.contype = 'f'
          AND con.confrelid = 'attribute_keys'::regclass
          AND rel.relkind = 'p'
          AND con.conparentid = 0
    LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', c.table_name, c.constraint_name);
        EXECUTE format(
            'COMMENT ON COLUMN %I.key_id IS %L',
            c.table_name,
            'The attribute key (KeyValue.key), attribute_keys.key_id. Not a foreign key on this high-volume table: '
            || 'the writer resolves every key through attribute_keys before writing (see migration 0008).'
        );
    END LOOP;
END $$;
