-- Reference tables: the OTLP enumerations, seeded here, so that fact columns holding an enum value
-- reference them with a foreign key (an unknown value is rejected) and queries can show the name.

CREATE TABLE log_severity_numbers (
    id SMALLINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE log_severity_numbers IS 'The OTLP enum opentelemetry.proto.logs.v1.SeverityNumber (LogRecord.severity_number): all 25 values, named without the SEVERITY_NUMBER_ prefix.';
COMMENT ON COLUMN log_severity_numbers.id IS 'The SeverityNumber value, 0 (UNSPECIFIED) to 24 (FATAL4).';
COMMENT ON COLUMN log_severity_numbers.name IS 'The SeverityNumber name without the SEVERITY_NUMBER_ prefix, e.g. INFO2.';
INSERT INTO log_severity_numbers (id, name) VALUES
    (0, 'UNSPECIFIED'),
    (1, 'TRACE'), (2, 'TRACE2'), (3, 'TRACE3'), (4, 'TRACE4'),
    (5, 'DEBUG'), (6, 'DEBUG2'), (7, 'DEBUG3'), (8, 'DEBUG4'),
    (9, 'INFO'), (10, 'INFO2'), (11, 'INFO3'), (12, 'INFO4'),
    (13, 'WARN'), (14, 'WARN2'), (15, 'WARN3'), (16, 'WARN4'),
    (17, 'ERROR'), (18, 'ERROR2'), (19, 'ERROR3'), (20, 'ERROR4'),
    (21, 'FATAL'), (22, 'FATAL2'), (23, 'FATAL3'), (24, 'FATAL4');

CREATE TABLE log_body_types (
    id SMALLINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE log_body_types IS 'Which case of the opentelemetry.proto.common.v1.AnyValue oneof a log body (LogRecord.body) holds, and so which otel_logs_fact.body_* column is set. Not an OTLP enum: the ids are ollyscale''s.';
COMMENT ON COLUMN log_body_types.id IS 'ollyscale''s body type id: 0 empty (no body), 1 string, 2 int, 3 double, 4 bool, 5 bytes, 6 array, 7 kvlist.';
COMMENT ON COLUMN log_body_types.name IS 'The AnyValue case without the _value suffix (array and kvlist for array_value and kvlist_value), or empty.';
INSERT INTO log_body_types (id, name) VALUES
    (0, 'empty'), (1, 'string'), (2, 'int'), (3, 'double'), (4, 'bool'), (5, 'bytes'), (6, 'array'), (7, 'kvlist');

CREATE TABLE span_kinds (
    id SMALLINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE span_kinds IS 'The OTLP enum opentelemetry.proto.trace.v1.Span.SpanKind (Span.kind), named without the SPAN_KIND_ prefix.';
COMMENT ON COLUMN span_kinds.id IS 'The SpanKind value, 0 (UNSPECIFIED) to 5 (CONSUMER).';
COMMENT ON COLUMN span_kinds.name IS 'The SpanKind name without the SPAN_KIND_ prefix, e.g. SERVER.';
INSERT INTO span_kinds (id, name) VALUES
    (0, 'UNSPECIFIED'), (1, 'INTERNAL'), (2, 'SERVER'), (3, 'CLIENT'), (4, 'PRODUCER'), (5, 'CONSUMER');

CREATE TABLE status_codes (
    id SMALLINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE status_codes IS 'The OTLP enum opentelemetry.proto.trace.v1.Status.StatusCode (Span.status.code), named without the STATUS_CODE_ prefix.';
COMMENT ON COLUMN status_codes.id IS 'The StatusCode value: 0 UNSET, 1 OK, 2 ERROR.';
COMMENT ON COLUMN status_codes.name IS 'The StatusCode name without the STATUS_CODE_ prefix.';
INSERT INTO status_codes (id, name) VALUES
    (0, 'UNSET'), (1, 'OK'), (2, 'ERROR');

CREATE TABLE metric_types (
    id SMALLINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE metric_types IS 'Which case of the opentelemetry.proto.metrics.v1.Metric.data oneof a metric has (gauge, sum, histogram, exponential_histogram, summary). Not an OTLP enum: the ids are ollyscale''s.';
COMMENT ON COLUMN metric_types.id IS 'ollyscale''s metric type id: 1 gauge, 2 sum, 3 histogram, 4 exponential_histogram, 5 summary.';
COMMENT ON COLUMN metric_types.name IS 'The Metric.data oneof field name.';
INSERT INTO metric_types (id, name) VALUES
    (1, 'gauge'), (2, 'sum'), (3, 'histogram'), (4, 'exponential_histogram'), (5, 'summary');

CREATE TABLE aggregation_temporalities (
    id SMALLINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
COMMENT ON TABLE aggregation_temporalities IS 'The OTLP enum opentelemetry.proto.metrics.v1.AggregationTemporality (Sum, Histogram and ExponentialHistogram .aggregation_temporality), named without the AGGREGATION_TEMPORALITY_ prefix.';
COMMENT ON COLUMN aggregation_temporalities.id IS 'The AggregationTemporality value: 0 UNSPECIFIED, 1 DELTA, 2 CUMULATIVE.';
COMMENT ON COLUMN aggregation_temporalities.name IS 'The AggregationTemporality name without the AGGREGATION_TEMPORALITY_ prefix.';
INSERT INTO aggregation_temporalities (id, name) VALUES
    (0, 'UNSPECIFIED'), (1, 'DELTA'), (2, 'CUMULATIVE');
