-- The attribute key registry, the resource and scope dimensions and their typed attribute tables.
-- None of these is partitioned: they are small (one row per distinct resource, scope or key) and shared by
-- every signal and every day, so they outlive any partition.

CREATE TABLE attribute_keys (
    key_id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE attribute_keys IS 'Registry of attribute keys (opentelemetry.proto.common.v1.KeyValue.key) for every signal and level, so that typed attribute rows store a 4-byte key_id instead of the key text.';
COMMENT ON COLUMN attribute_keys.key_id IS 'Surrogate id of the key, referenced by every typed attribute table''s key_id.';
COMMENT ON COLUMN attribute_keys.key IS 'The attribute key as sent (KeyValue.key), case-sensitive.';

CREATE TABLE otel_resources_dim (
    resource_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(resource_hash) = 32),
    service_name TEXT,
    service_namespace TEXT,
    schema_url TEXT NOT NULL DEFAULT '',
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);
CREATE INDEX otel_resources_dim_service_name_idx ON otel_resources_dim (service_name);
COMMENT ON TABLE otel_resources_dim IS 'One row per distinct resource (opentelemetry.proto.resource.v1.Resource plus ResourceSpans/ResourceLogs/ResourceMetrics.schema_url), deduplicated by resource_hash; its attributes are in otel_resource_attrs_*. Facts reference it by resource_id.';
COMMENT ON COLUMN otel_resources_dim.resource_id IS 'Surrogate id of the resource, stored in the resource_id column of every fact row.';
COMMENT ON COLUMN otel_resources_dim.resource_hash IS 'blake3 (32 bytes) of the canonical encoding of the resource''s attributes, dropped_attributes_count and schema_url (defined by the normalizer): the identity used to deduplicate.';
COMMENT ON COLUMN otel_resources_dim.service_name IS 'The service.name resource attribute when it is a string, else NULL (also kept in the attribute tables).';
COMMENT ON COLUMN otel_resources_dim.service_namespace IS 'The service.namespace resource attribute when it is a string, else NULL.';
COMMENT ON COLUMN otel_resources_dim.schema_url IS 'ResourceSpans/ResourceLogs/ResourceMetrics.schema_url; empty when not sent.';
COMMENT ON COLUMN otel_resources_dim.dropped_attributes_count IS 'Resource.dropped_attributes_count (uint32).';
COMMENT ON COLUMN otel_resources_dim.first_seen IS 'Receive time of the first batch that carried this resource.';
COMMENT ON COLUMN otel_resources_dim.last_seen IS 'Receive time of the latest batch that carried this resource (updated at most once per batch).';

CREATE TABLE otel_scopes_dim (
    scope_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(scope_hash) = 32),
    name TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    schema_url TEXT NOT NULL DEFAULT '',
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE otel_scopes_dim IS 'One row per distinct instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope plus ScopeSpans/ScopeLogs/ScopeMetrics.schema_url), deduplicated by scope_hash; its attributes are in otel_scope_attrs_*. Facts reference it by scope_id.';
COMMENT ON COLUMN otel_scopes_dim.scope_id IS 'Surrogate id of the scope, stored in the scope_id column of every fact row.';
COMMENT ON COLUMN otel_scopes_dim.scope_hash IS 'blake3 (32 bytes) of the canonical encoding of the scope''s name, version, attributes, dropped_attributes_count and schema_url (defined by the normalizer): the identity used to deduplicate.';
COMMENT ON COLUMN otel_scopes_dim.name IS 'InstrumentationScope.name; empty when not sent.';
COMMENT ON COLUMN otel_scopes_dim.version IS 'InstrumentationScope.version; empty when not sent.';
COMMENT ON COLUMN otel_scopes_dim.schema_url IS 'ScopeSpans/ScopeLogs/ScopeMetrics.schema_url; empty when not sent.';
COMMENT ON COLUMN otel_scopes_dim.dropped_attributes_count IS 'InstrumentationScope.dropped_attributes_count (uint32).';
COMMENT ON COLUMN otel_scopes_dim.first_seen IS 'Receive time of the first batch that carried this scope.';
COMMENT ON COLUMN otel_scopes_dim.last_seen IS 'Receive time of the latest batch that carried this scope.';

-- Resource attributes: PK (resource_id, key_id) and a FK to the dimension (both tables are small).
-- The _other table has a GIN index: searching by any resource attribute is a common need, and these
-- tables are written once per new resource, not once per span.

CREATE TABLE otel_resource_attrs_string (
    resource_id BIGINT NOT NULL REFERENCES otel_resources_dim (resource_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL,
    PRIMARY KEY (resource_id, key_id)
);
CREATE INDEX otel_resource_attrs_string_key_value_idx ON otel_resource_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_resource_attrs_string IS 'Promoted string-valued attributes of a resource (opentelemetry.proto.resource.v1.Resource.attributes, AnyValue.string_value): one row per (owner, key).';
COMMENT ON COLUMN otel_resource_attrs_string.resource_id IS 'The resource, otel_resources_dim.resource_id.';
COMMENT ON COLUMN otel_resource_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_resource_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_resource_attrs_int (
    resource_id BIGINT NOT NULL REFERENCES otel_resources_dim (resource_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL,
    PRIMARY KEY (resource_id, key_id)
);
CREATE INDEX otel_resource_attrs_int_key_value_idx ON otel_resource_attrs_int (key_id, value);
COMMENT ON TABLE otel_resource_attrs_int IS 'Promoted int-valued attributes of a resource (opentelemetry.proto.resource.v1.Resource.attributes, AnyValue.int_value): one row per (owner, key).';
COMMENT ON COLUMN otel_resource_attrs_int.resource_id IS 'The resource, otel_resources_dim.resource_id.';
COMMENT ON COLUMN otel_resource_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_resource_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_resource_attrs_double (
    resource_id BIGINT NOT NULL REFERENCES otel_resources_dim (resource_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (resource_id, key_id)
);
CREATE INDEX otel_resource_attrs_double_key_value_idx ON otel_resource_attrs_double (key_id, value);
COMMENT ON TABLE otel_resource_attrs_double IS 'Promoted double-valued attributes of a resource (opentelemetry.proto.resource.v1.Resource.attributes, AnyValue.double_value): one row per (owner, key).';
COMMENT ON COLUMN otel_resource_attrs_double.resource_id IS 'The resource, otel_resources_dim.resource_id.';
COMMENT ON COLUMN otel_resource_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_resource_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_resource_attrs_bool (
    resource_id BIGINT NOT NULL REFERENCES otel_resources_dim (resource_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL,
    PRIMARY KEY (resource_id, key_id)
);
CREATE INDEX otel_resource_attrs_bool_key_value_idx ON otel_resource_attrs_bool (key_id, value);
COMMENT ON TABLE otel_resource_attrs_bool IS 'Promoted bool-valued attributes of a resource (opentelemetry.proto.resource.v1.Resource.attributes, AnyValue.bool_value): one row per (owner, key).';
COMMENT ON COLUMN otel_resource_attrs_bool.resource_id IS 'The resource, otel_resources_dim.resource_id.';
COMMENT ON COLUMN otel_resource_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_resource_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_resource_attrs_bytes (
    resource_id BIGINT NOT NULL REFERENCES otel_resources_dim (resource_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL,
    PRIMARY KEY (resource_id, key_id)
);
CREATE INDEX otel_resource_attrs_bytes_key_value_idx ON otel_resource_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_resource_attrs_bytes IS 'Promoted bytes-valued attributes of a resource (opentelemetry.proto.resource.v1.Resource.attributes, AnyValue.bytes_value): one row per (owner, key).';
COMMENT ON COLUMN otel_resource_attrs_bytes.resource_id IS 'The resource, otel_resources_dim.resource_id.';
COMMENT ON COLUMN otel_resource_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_resource_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_resource_attrs_other (
    resource_id BIGINT NOT NULL REFERENCES otel_resources_dim (resource_id) ON DELETE CASCADE,
    attributes JSONB NOT NULL,
    PRIMARY KEY (resource_id)
);
CREATE INDEX otel_resource_attrs_other_attributes_idx ON otel_resource_attrs_other USING gin (attributes jsonb_path_ops);
COMMENT ON TABLE otel_resource_attrs_other IS 'Unpromoted attributes of a resource (opentelemetry.proto.resource.v1.Resource.attributes): one row per resource that has any, holding them all as one typed JSON object.';
COMMENT ON COLUMN otel_resource_attrs_other.resource_id IS 'The resource, otel_resources_dim.resource_id.';
COMMENT ON COLUMN otel_resource_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

-- Scope attributes: same layout as the resource attributes.

CREATE TABLE otel_scope_attrs_string (
    scope_id BIGINT NOT NULL REFERENCES otel_scopes_dim (scope_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value TEXT NOT NULL,
    PRIMARY KEY (scope_id, key_id)
);
CREATE INDEX otel_scope_attrs_string_key_value_idx ON otel_scope_attrs_string (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_scope_attrs_string IS 'Promoted string-valued attributes of an instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope.attributes, AnyValue.string_value): one row per (owner, key).';
COMMENT ON COLUMN otel_scope_attrs_string.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id.';
COMMENT ON COLUMN otel_scope_attrs_string.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_scope_attrs_string.value IS 'The attribute value (AnyValue.string_value). Indexed as substr(value, 1, 200) because a btree entry cannot hold arbitrarily long text: filter with substr(value, 1, 200) = substr($v, 1, 200) AND value = $v.';

CREATE TABLE otel_scope_attrs_int (
    scope_id BIGINT NOT NULL REFERENCES otel_scopes_dim (scope_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BIGINT NOT NULL,
    PRIMARY KEY (scope_id, key_id)
);
CREATE INDEX otel_scope_attrs_int_key_value_idx ON otel_scope_attrs_int (key_id, value);
COMMENT ON TABLE otel_scope_attrs_int IS 'Promoted int-valued attributes of an instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope.attributes, AnyValue.int_value): one row per (owner, key).';
COMMENT ON COLUMN otel_scope_attrs_int.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id.';
COMMENT ON COLUMN otel_scope_attrs_int.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_scope_attrs_int.value IS 'The attribute value (AnyValue.int_value, int64).';

CREATE TABLE otel_scope_attrs_double (
    scope_id BIGINT NOT NULL REFERENCES otel_scopes_dim (scope_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope_id, key_id)
);
CREATE INDEX otel_scope_attrs_double_key_value_idx ON otel_scope_attrs_double (key_id, value);
COMMENT ON TABLE otel_scope_attrs_double IS 'Promoted double-valued attributes of an instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope.attributes, AnyValue.double_value): one row per (owner, key).';
COMMENT ON COLUMN otel_scope_attrs_double.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id.';
COMMENT ON COLUMN otel_scope_attrs_double.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_scope_attrs_double.value IS 'The attribute value (AnyValue.double_value); NaN and infinities are stored as such.';

CREATE TABLE otel_scope_attrs_bool (
    scope_id BIGINT NOT NULL REFERENCES otel_scopes_dim (scope_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BOOLEAN NOT NULL,
    PRIMARY KEY (scope_id, key_id)
);
CREATE INDEX otel_scope_attrs_bool_key_value_idx ON otel_scope_attrs_bool (key_id, value);
COMMENT ON TABLE otel_scope_attrs_bool IS 'Promoted bool-valued attributes of an instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope.attributes, AnyValue.bool_value): one row per (owner, key).';
COMMENT ON COLUMN otel_scope_attrs_bool.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id.';
COMMENT ON COLUMN otel_scope_attrs_bool.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_scope_attrs_bool.value IS 'The attribute value (AnyValue.bool_value).';

CREATE TABLE otel_scope_attrs_bytes (
    scope_id BIGINT NOT NULL REFERENCES otel_scopes_dim (scope_id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES attribute_keys (key_id),
    value BYTEA NOT NULL,
    PRIMARY KEY (scope_id, key_id)
);
CREATE INDEX otel_scope_attrs_bytes_key_value_idx ON otel_scope_attrs_bytes (key_id, substr(value, 1, 200));
COMMENT ON TABLE otel_scope_attrs_bytes IS 'Promoted bytes-valued attributes of an instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope.attributes, AnyValue.bytes_value): one row per (owner, key).';
COMMENT ON COLUMN otel_scope_attrs_bytes.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id.';
COMMENT ON COLUMN otel_scope_attrs_bytes.key_id IS 'The attribute key (KeyValue.key), attribute_keys.key_id.';
COMMENT ON COLUMN otel_scope_attrs_bytes.value IS 'The attribute value (AnyValue.bytes_value), raw bytes. Indexed as substr(value, 1, 200) like the string table.';

CREATE TABLE otel_scope_attrs_other (
    scope_id BIGINT NOT NULL REFERENCES otel_scopes_dim (scope_id) ON DELETE CASCADE,
    attributes JSONB NOT NULL,
    PRIMARY KEY (scope_id)
);
CREATE INDEX otel_scope_attrs_other_attributes_idx ON otel_scope_attrs_other USING gin (attributes jsonb_path_ops);
COMMENT ON TABLE otel_scope_attrs_other IS 'Unpromoted attributes of an instrumentation scope (opentelemetry.proto.common.v1.InstrumentationScope.attributes): one row per instrumentation scope that has any, holding them all as one typed JSON object.';
COMMENT ON COLUMN otel_scope_attrs_other.scope_id IS 'The instrumentation scope, otel_scopes_dim.scope_id.';
COMMENT ON COLUMN otel_scope_attrs_other.attributes IS 'All attributes of the owner that are not promoted, and every array or kvlist value, as one JSON object key -> typed value (the normalizer''s typed JSON encoding: strings as JSON strings, bools, ints as JSON integers, doubles as JSON numbers that always carry a ''.'' or exponent, everything else tagged, e.g. {"bytes": base64}, {"kvlist": {...}}, {"double": "NaN"}, arrays as arrays).';

