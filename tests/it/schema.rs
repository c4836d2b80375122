//! The schema: every table and comment, the seeded OTLP enumerations, the constraints that guard the
//! encodings, and partition maintenance (created ahead, moved out of DEFAULT, dropped past retention).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ollyscale::db::partitions::{self, MaintenanceReport, PARTITIONED_TABLES, Retention, Signal, partition_name};
use sqlx::{PgPool, Row};

use crate::support::pg::test_db;

const DAY: Duration = Duration::from_secs(86_400);

/// The attribute-bearing levels and, for partitioned ones, their signal.
const ATTR_LEVELS: [(&str, Option<Signal>); 10] = [
    ("resource", None),
    ("scope", None),
    ("log", Some(Signal::Logs)),
    ("span", Some(Signal::Traces)),
    ("span_event", Some(Signal::Traces)),
    ("span_link", Some(Signal::Traces)),
    ("number_dp", Some(Signal::Metrics)),
    ("histogram_dp", Some(Signal::Metrics)),
    ("exp_histogram_dp", Some(Signal::Metrics)),
    ("summary_dp", Some(Signal::Metrics)),
];
const ATTR_TYPES: [&str; 6] = ["string", "int", "double", "bool", "bytes", "other"];

/// Partitioned fact and child tables (besides attribute tables) and their signal.
const PARTITIONED_FACTS: [(&str, Signal); 9] = [
    ("otel_logs_fact", Signal::Logs),
    ("otel_spans_fact", Signal::Traces),
    ("otel_span_events", Signal::Traces),
    ("otel_span_links", Signal::Traces),
    ("otel_metrics_data_points_number", Signal::Metrics),
    ("otel_metrics_data_points_histogram", Signal::Metrics),
    ("otel_metrics_data_points_exp_histogram", Signal::Metrics),
    ("otel_metrics_data_points_summary", Signal::Metrics),
    ("otel_metrics_exemplars", Signal::Metrics),
];

/// The per-minute span rollups (migration 0009), partitioned and expired with the spans.
const PARTITIONED_ROLLUPS: [&str; 3] = ["otel_service_rollups", "otel_operation_rollups", "otel_service_edges"];

/// Every table SCHEMA.md asks for.
fn expected_tables() -> BTreeSet<String> {
    let mut tables: BTreeSet<String> = [
        "log_severity_numbers",
        "log_body_types",
        "span_kinds",
        "status_codes",
        "metric_types",
        "aggregation_temporalities",
        "attribute_keys",
        "attribute_keys_in_other",
        "otel_resources_dim",
        "otel_scopes_dim",
        "otel_metrics_dim",
        "otel_metric_series",
        "otel_attribute_sets",
        "ingest_checkpoints",
        "otel_span_rollups_pending",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    tables.extend(PARTITIONED_FACTS.iter().map(|(t, _)| t.to_string()));
    tables.extend(PARTITIONED_ROLLUPS.iter().map(|t| t.to_string()));
    for (level, _) in ATTR_LEVELS {
        for ty in ATTR_TYPES {
            tables.insert(format!("otel_{level}_attrs_{ty}"));
        }
    }
    tables
}

/// Every table that must be range-partitioned, with its signal.
fn expected_partitioned() -> BTreeMap<String, Signal> {
    let mut tables: BTreeMap<String, Signal> = PARTITIONED_FACTS.iter().map(|(t, s)| (t.to_string(), *s)).collect();
    tables.extend(PARTITIONED_ROLLUPS.iter().map(|t| (t.to_string(), Signal::Traces)));
    for (level, signal) in ATTR_LEVELS {
        if let Some(signal) = signal {
            for ty in ATTR_TYPES {
                tables.insert(format!("otel_{level}_attrs_{ty}"), signal);
            }
        }
    }
    tables
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn days(from: &str, to: &str) -> Vec<NaiveDate> {
    day(from).iter_days().take_while(|d| *d <= day(to)).collect()
}

fn retention_days(traces: u64, logs: u64, metrics: u64) -> Retention {
    Retention { traces: DAY * traces as u32, logs: DAY * logs as u32, metrics: DAY * metrics as u32 }
}

/// SQLSTATE of a failed statement.
fn sqlstate(result: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) -> String {
    let err = result.expect_err("the statement should have been rejected");
    err.as_database_error().and_then(|e| e.code()).map(|c| c.to_string()).unwrap_or_else(|| panic!("{err}"))
}

/// child partition name -> its bound expression, for every partition of a registered parent (UTC rendering).
async fn partitions_of_registered(pool: &PgPool) -> BTreeMap<String, String> {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET TIME ZONE 'UTC'").execute(&mut *conn).await.unwrap();
    let parents: Vec<String> = PARTITIONED_TABLES.iter().map(|t| t.table.to_string()).collect();
    sqlx::query(
        "SELECT c.relname::text AS child, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = ANY($1)",
    )
    .bind(&parents)
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get("child"), r.get("bound")))
    .collect()
}

/// The relation a span row is stored in.
async fn span_home(pool: &PgPool, span_row_id: i64) -> String {
    sqlx::query_scalar("SELECT tableoid::regclass::text FROM otel_spans_fact WHERE span_row_id = $1")
        .bind(span_row_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn insert_span(pool: &PgPool, span_row_id: i64, start: DateTime<Utc>) {
    sqlx::query(
        "INSERT INTO otel_spans_fact (span_row_id, start_time, end_time, duration_ns, trace_id, span_id, name,
                                      kind, status_code, resource_id, scope_id)
         VALUES ($1, $2, $2, 0, $3, $4, 'GET /', 2, 0, 1, 1)",
    )
    .bind(span_row_id)
    .bind(start)
    .bind(vec![7u8; 16])
    .bind(vec![9u8; 8])
    .execute(pool)
    .await
    .unwrap();
}

async fn insert_key(pool: &PgPool, key: &str) -> i32 {
    sqlx::query_scalar("INSERT INTO attribute_keys (key) VALUES ($1) RETURNING key_id")
        .bind(key)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn insert_log(pool: &PgPool, log_id: i64, time: DateTime<Utc>) {
    sqlx::query(
        "INSERT INTO otel_logs_fact (log_id, time, severity_number, body_type, body_string, resource_id, scope_id)
         VALUES ($1, $2, 9, 1, 'hello', 1, 1)",
    )
    .bind(log_id)
    .bind(time)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn every_table_exists_and_has_a_comment() {
    let db = test_db().await;
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, obj_description(c.oid, 'pg_class') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND c.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let actual: BTreeSet<String> = rows.iter().map(|r| r.get("name")).collect();
    let expected = expected_tables();
    assert_eq!(expected.len(), 87);
    assert_eq!(actual, expected);
    for row in &rows {
        let name: String = row.get("name");
        let comment: Option<String> = row.get("comment");
        assert!(comment.is_some_and(|c| c.len() > 20), "table {name} has no meaningful COMMENT");
    }
    let seq_comment: Option<String> =
        sqlx::query_scalar("SELECT obj_description('otel_id_block_seq'::regclass, 'pg_class')")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(seq_comment.is_some(), "otel_id_block_seq has no COMMENT");
}

#[tokio::test]
async fn every_id_hash_fraction_flags_and_json_column_has_a_comment() {
    let db = test_db().await;
    let rows = sqlx::query(
        "SELECT c.relname::text AS tbl, a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS ty,
                col_description(c.oid, a.attnum) AS comment
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND c.relname <> '_sqlx_migrations' AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut special = 0;
    let mut missing = Vec::new();
    for row in &rows {
        let (tbl, col, ty): (String, String, String) = (row.get("tbl"), row.get("col"), row.get("ty"));
        let comment: Option<String> = row.get("comment");
        let is_special = col == "id"
            || col.ends_with("_id")
            || col.contains("hash")
            || col.ends_with("_nanos_fraction")
            || col == "flags"
            || ty == "jsonb";
        if is_special {
            special += 1;
            if comment.is_none_or(|c| c.trim().is_empty()) {
                missing.push(format!("{tbl}.{col}"));
            }
        }
    }
    assert!(special > 150, "only {special} special columns found; the query is wrong");
    assert!(missing.is_empty(), "columns without COMMENT: {missing:?}");
}

#[tokio::test]
async fn every_time_with_a_fraction_is_checked_to_0_999() {
    let db = test_db().await;
    // Every *_nanos_fraction column pairs with its time column and carries a 0..999 CHECK.
    let rows = sqlx::query(
        "SELECT c.relname::text AS tbl, a.attname::text AS col,
                EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.oid
                        AND t.attname = left(a.attname::text, -length('_nanos_fraction'))
                        AND t.atttypid = 'timestamptz'::regtype) AS has_time,
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c'
                        AND k.conkey = ARRAY[a.attnum]
                        AND pg_get_constraintdef(k.oid) LIKE '%>= 0%<= 999%') AS has_check
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND a.attname LIKE '%\\_nanos\\_fraction' AND NOT a.attisdropped",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(rows.len() >= 14, "expected every OTLP time column to have a fraction, found {}", rows.len());
    for row in rows {
        let (tbl, col): (String, String) = (row.get("tbl"), row.get("col"));
        assert!(row.get::<bool, _>("has_time"), "{tbl}.{col} has no matching TIMESTAMPTZ column");
        assert!(row.get::<bool, _>("has_check"), "{tbl}.{col} has no 0..999 CHECK");
    }
}

#[tokio::test]
async fn reference_tables_hold_exactly_the_otlp_enumerations() {
    let db = test_db().await;
    let severities: Vec<String> = [
        "UNSPECIFIED",
        "TRACE",
        "TRACE2",
        "TRACE3",
        "TRACE4",
        "DEBUG",
        "DEBUG2",
        "DEBUG3",
        "DEBUG4",
        "INFO",
        "INFO2",
        "INFO3",
        "INFO4",
        "WARN",
        "WARN2",
        "WARN3",
        "WARN4",
        "ERROR",
        "ERROR2",
        "ERROR3",
        "ERROR4",
        "FATAL",
        "FATAL2",
        "FATAL3",
        "FATAL4",
    ]
    .map(String::from)
    .to_vec();
    let expected: [(&str, Vec<&str>, i16); 6] = [
        ("log_severity_numbers", severities.iter().map(String::as_str).collect(), 0),
        ("log_body_types", vec!["empty", "string", "int", "double", "bool", "bytes", "array", "kvlist"], 0),
        ("span_kinds", vec!["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"], 0),
        ("status_codes", vec!["UNSET", "OK", "ERROR"], 0),
        ("metric_types", vec!["gauge", "sum", "histogram", "exponential_histogram", "summary"], 1),
        ("aggregation_temporalities", vec!["UNSPECIFIED", "DELTA", "CUMULATIVE"], 0),
    ];
    for (table, names, first_id) in expected {
        let sql = format!("SELECT id, name FROM {table} ORDER BY id");
        let rows: Vec<(i16, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await.unwrap();
        let want: Vec<(i16, String)> =
            names.iter().enumerate().map(|(i, n)| (first_id + i as i16, n.to_string())).collect();
        assert_eq!(rows, want, "{table}");
    }
    assert_eq!(count(&db.pool, "SELECT count(*) FROM log_severity_numbers").await, 25);
}

#[tokio::test]
async fn foreign_keys_reject_unknown_enum_values() {
    let db = test_db().await;
    let log = |severity: i16, body_type: i16| {
        sqlx::query(
            "INSERT INTO otel_logs_fact (log_id, time, severity_number, body_type, resource_id, scope_id)
             VALUES (1, now(), $1, $2, 1, 1)",
        )
        .bind(severity)
        .bind(body_type)
        .execute(&db.pool)
    };
    assert_eq!(sqlstate(log(25, 0).await), "23503", "severity 25");
    assert_eq!(sqlstate(log(9, 8).await), "23503", "body type 8");
    log(24, 7).await.unwrap();

    let span = |kind: i16, status: i16| {
        sqlx::query(
            "INSERT INTO otel_spans_fact (span_row_id, start_time, end_time, duration_ns, trace_id, span_id, name,
                                          kind, status_code, resource_id, scope_id)
             VALUES (1, now(), now(), 0, $3, $4, 'x', $1, $2, 1, 1)",
        )
        .bind(kind)
        .bind(status)
        .bind(vec![1u8; 16])
        .bind(vec![1u8; 8])
        .execute(&db.pool)
    };
    assert_eq!(sqlstate(span(6, 0).await), "23503", "kind 6");
    assert_eq!(sqlstate(span(1, 3).await), "23503", "status 3");
    span(5, 2).await.unwrap();

    let metric = |metric_type: i16, temporality: i16| {
        sqlx::query(
            "INSERT INTO otel_metrics_dim (metric_hash, name, metric_type, aggregation_temporality, first_seen,
                                           last_seen)
             VALUES (decode(repeat('ab', 32), 'hex'), 'm', $1, $2, now(), now())",
        )
        .bind(metric_type)
        .bind(temporality)
        .execute(&db.pool)
    };
    assert_eq!(sqlstate(metric(0, 1).await), "23503", "metric type 0");
    assert_eq!(sqlstate(metric(2, 3).await), "23503", "temporality 3");
    assert_eq!(sqlstate(metric(6, 1).await), "23503", "metric type 6");

    // Resource attributes keep their key FK (written once per resource); the high-volume record-level
    // tables rely on the writer instead (migration 0008).
    sqlx::query(
        "INSERT INTO otel_resources_dim (resource_hash, first_seen, last_seen) VALUES (decode(repeat('cd', 32), 'hex'), now(), now())",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let attr = sqlx::query(
        "INSERT INTO otel_resource_attrs_int (resource_id, key_id, value)
         SELECT resource_id, 999, 1 FROM otel_resources_dim",
    )
    .execute(&db.pool)
    .await;
    assert_eq!(sqlstate(attr), "23503", "unknown attribute key");
    let fks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
         WHERE con.contype = 'f' AND con.confrelid = 'attribute_keys'::regclass AND rel.relkind = 'p'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(fks, 0, "no per-row key FK on the partitioned attribute tables");
}

#[tokio::test]
async fn checks_reject_bad_fractions_and_id_lengths() {
    let db = test_db().await;
    let span = |fraction: i16, trace_id: Vec<u8>, parent: Option<Vec<u8>>| {
        sqlx::query(
            "INSERT INTO otel_spans_fact (span_row_id, start_time, start_time_nanos_fraction, end_time, duration_ns,
                                          trace_id, span_id, parent_span_id, name, kind, status_code, resource_id,
                                          scope_id)
             VALUES (1, now(), $1, now(), 0, $2, $3, $4, 'x', 1, 0, 1, 1)",
        )
        .bind(fraction)
        .bind(trace_id)
        .bind(vec![1u8; 8])
        .bind(parent)
        .execute(&db.pool)
    };
    assert_eq!(sqlstate(span(1000, vec![1; 16], None).await), "23514", "fraction 1000");
    assert_eq!(sqlstate(span(-1, vec![1; 16], None).await), "23514", "fraction -1");
    assert_eq!(sqlstate(span(0, vec![1; 15], None).await), "23514", "15-byte trace id");
    assert_eq!(sqlstate(span(0, vec![1; 17], None).await), "23514", "17-byte trace id");
    assert_eq!(sqlstate(span(0, vec![1; 16], Some(vec![1; 16])).await), "23514", "16-byte parent span id");
    span(999, vec![1; 16], None).await.unwrap();
    span(0, vec![1; 16], Some(vec![2; 8])).await.unwrap();

    let log = |trace_id: Option<Vec<u8>>, span_id: Option<Vec<u8>>, fraction: i16| {
        sqlx::query(
            "INSERT INTO otel_logs_fact (log_id, time, observed_time, observed_time_nanos_fraction, severity_number,
                                         body_type, trace_id, span_id, resource_id, scope_id)
             VALUES (1, now(), now(), $3, 0, 0, $1, $2, 1, 1)",
        )
        .bind(trace_id)
        .bind(span_id)
        .bind(fraction)
        .execute(&db.pool)
    };
    assert_eq!(sqlstate(log(Some(vec![1; 15]), None, 0).await), "23514", "log 15-byte trace id");
    assert_eq!(sqlstate(log(None, Some(vec![1; 7]), 0).await), "23514", "log 7-byte span id");
    assert_eq!(sqlstate(log(None, None, 1000).await), "23514", "log observed fraction 1000");
    log(None, None, 999).await.unwrap();

    let resource =
        sqlx::query("INSERT INTO otel_resources_dim (resource_hash, first_seen, last_seen) VALUES ($1, now(), now())")
            .bind(vec![0u8; 31])
            .execute(&db.pool)
            .await;
    assert_eq!(sqlstate(resource), "23514", "31-byte resource hash");

    let number = sqlx::query(
        "INSERT INTO otel_metrics_data_points_number (data_point_id, metric_id, resource_id, scope_id, time,
                                                      value_int, value_double)
         VALUES (1, 1, 1, 1, now(), 1, 1.5)",
    )
    .execute(&db.pool)
    .await;
    assert_eq!(sqlstate(number), "23514", "a number data point with both an int and a double value");
}

#[tokio::test]
async fn the_registry_matches_the_partitioned_tables() {
    let db = test_db().await;
    let rows = sqlx::query(
        "SELECT c.relname::text AS tbl, a.attname::text AS col, pt.partstrat::text AS strategy,
                d.relname::text AS default_partition
         FROM pg_partitioned_table pt
         JOIN pg_class c ON c.oid = pt.partrelid
         JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
         LEFT JOIN pg_class d ON d.oid = pt.partdefid",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let in_db: BTreeMap<String, String> = rows.iter().map(|r| (r.get("tbl"), r.get("col"))).collect();
    for row in &rows {
        let tbl: String = row.get("tbl");
        assert_eq!(row.get::<String, _>("strategy"), "r", "{tbl} is not RANGE partitioned");
        assert_eq!(row.get::<Option<String>, _>("default_partition"), Some(format!("{tbl}_default")));
    }
    let registry: BTreeMap<String, String> =
        PARTITIONED_TABLES.iter().map(|t| (t.table.to_string(), t.column.to_string())).collect();
    assert_eq!(registry.len(), PARTITIONED_TABLES.len(), "duplicate registry entries");
    assert_eq!(registry, in_db);

    let signals: BTreeMap<String, Signal> =
        PARTITIONED_TABLES.iter().map(|t| (t.table.to_string(), t.signal)).collect();
    assert_eq!(signals, expected_partitioned());
    assert_eq!(signals.len(), 60);
}

#[tokio::test]
async fn retention_defaults_are_7_3_30_days() {
    let r = Retention::default();
    assert_eq!((r.traces, r.logs, r.metrics), (DAY * 7, DAY * 3, DAY * 30));
}

#[tokio::test]
async fn partitions_are_created_from_retention_to_days_ahead() {
    let db = test_db().await;
    let now = utc("2026-03-10T15:00:00Z");
    let retention = retention_days(1, 2, 3);
    let report = partitions::ensure_partitions(&db.pool, now, &retention, 2).await.unwrap();

    let partitions = partitions_of_registered(&db.pool).await;
    let mut expected = 0;
    for t in PARTITIONED_TABLES.iter() {
        // From yesterday on: older days of the retention window get a partition only when late rows
        // for them are waiting in the default partition (see the next test).
        let first = "2026-03-09";
        for d in days(first, "2026-03-12") {
            expected += 1;
            let name = partition_name(t.table, d);
            let next = d.succ_opt().unwrap();
            let bound = format!("FOR VALUES FROM ('{d} 00:00:00+00') TO ('{next} 00:00:00+00')");
            assert_eq!(partitions.get(&name), Some(&bound), "{name}");
        }
        let before = partition_name(t.table, day(first).pred_opt().unwrap());
        assert!(!partitions.contains_key(&before), "{before} holds no late rows and must not be created");
        assert!(!partitions.contains_key(&partition_name(t.table, day("2026-03-13"))), "created too far ahead");
        assert_eq!(partitions.get(&format!("{}_default", t.table)).map(String::as_str), Some("DEFAULT"));
    }
    assert_eq!(report.created, expected);
    assert_eq!(partitions.len(), expected + PARTITIONED_TABLES.len());
    assert_eq!(report.dropped, 0);

    // A row of today lands in today's partition, not in the default one.
    insert_span(&db.pool, 1, utc("2026-03-10T23:59:59.999999Z")).await;
    assert_eq!(span_home(&db.pool, 1).await, "otel_spans_fact_p20260310");
}

#[tokio::test]
async fn rows_without_a_partition_land_in_default_and_move_when_it_is_created() {
    let db = test_db().await;
    let retention = retention_days(1, 1, 1);
    partitions::ensure_partitions(&db.pool, utc("2026-05-01T00:00:00Z"), &retention, 1).await.unwrap();

    // 2026-05-05 has no partition yet: the rows must still be accepted.
    let key = insert_key(&db.pool, "http.method").await;
    let t = utc("2026-05-05T08:00:00.123456Z");
    insert_span(&db.pool, 1, t).await;
    insert_span(&db.pool, 2, utc("2026-05-20T00:00:00Z")).await;
    sqlx::query(
        "INSERT INTO otel_span_attrs_string (span_row_id, start_time, key_id, value) VALUES (1, $1, $2, 'GET')",
    )
    .bind(t)
    .bind(key)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO otel_span_events (event_row_id, span_row_id, span_start_time, event_index, name)
         VALUES (10, 1, $1, 0, 'exception')",
    )
    .bind(t)
    .execute(&db.pool)
    .await
    .unwrap();
    insert_log(&db.pool, 5, t).await;
    assert_eq!(span_home(&db.pool, 1).await, "otel_spans_fact_default");
    assert_eq!(count(&db.pool, "SELECT count(*) FROM otel_spans_fact_default").await, 2);

    let report = partitions::ensure_partitions(&db.pool, utc("2026-05-04T06:00:00Z"), &retention, 1).await.unwrap();
    assert_eq!(report.rows_moved, 4, "span, span attribute, event and log of 2026-05-05");
    assert_eq!(span_home(&db.pool, 1).await, "otel_spans_fact_p20260505");
    assert_eq!(span_home(&db.pool, 2).await, "otel_spans_fact_default", "2026-05-20 still has no partition");
    let homes: Vec<String> = sqlx::query_scalar(
        "SELECT tableoid::regclass::text FROM otel_span_attrs_string
         UNION ALL SELECT tableoid::regclass::text FROM otel_span_events
         UNION ALL SELECT tableoid::regclass::text FROM otel_logs_fact ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(homes, ["otel_logs_fact_p20260505", "otel_span_attrs_string_p20260505", "otel_span_events_p20260505"]);
    // Moved rows keep their values, and the moved-into partition has the parent's indexes and FKs.
    let value: String = sqlx::query_scalar(
        "SELECT a.value FROM otel_span_attrs_string a JOIN attribute_keys k USING (key_id)
         WHERE k.key = 'http.method' AND a.start_time = $1",
    )
    .bind(t)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(value, "GET");
    let indexes =
        count(&db.pool, "SELECT count(*) FROM pg_index WHERE indrelid = 'otel_spans_fact_p20260505'::regclass").await;
    assert_eq!(indexes, 4);
    let bad_kind = sqlx::query(
        "INSERT INTO otel_spans_fact_p20260505 (span_row_id, start_time, end_time, duration_ns, trace_id, span_id,
                                                name, kind, status_code, resource_id, scope_id)
         VALUES (9, '2026-05-05T09:00:00Z', '2026-05-05T09:00:00Z', 0, decode(repeat('07', 16), 'hex'),
                 decode(repeat('09', 8), 'hex'), 'x', 9, 0, 1, 1)",
    )
    .execute(&db.pool)
    .await;
    assert_eq!(sqlstate(bad_kind), "23503");
}

#[tokio::test]
async fn expired_partitions_are_dropped_per_signal_with_everything_hanging_off_them() {
    let db = test_db().await;
    let retention = retention_days(2, 1, 3);
    let t0 = utc("2026-03-10T12:00:00Z");
    // Rows of days before yesterday arrive first: their days get partitions because they wait in the
    // default partitions (traces 2026-03-08, metrics 2026-03-07).
    let key = insert_key(&db.pool, "k").await;
    let old_span = utc("2026-03-08T10:00:00Z");
    insert_span(&db.pool, 1, old_span).await;
    sqlx::query("INSERT INTO otel_span_attrs_int (span_row_id, start_time, key_id, value) VALUES (1, $1, $2, 7)")
        .bind(old_span)
        .bind(key)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO otel_metrics_data_points_number (data_point_id, metric_id, resource_id, scope_id, time, value_int)
         VALUES (1, 1, 1, 1, '2026-03-07 10:00:00+00', 5)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    partitions::ensure_partitions(&db.pool, t0, &retention, 2).await.unwrap();
    insert_span(&db.pool, 2, utc("2026-03-09T10:00:00Z")).await;
    insert_log(&db.pool, 1, utc("2026-03-09T23:00:00Z")).await;
    insert_log(&db.pool, 2, utc("2026-03-10T00:00:00Z")).await;
    // Stragglers in the default partitions: one expired, one far in the future.
    insert_span(&db.pool, 3, utc("2026-02-01T00:00:00Z")).await;
    insert_span(&db.pool, 4, utc("2027-01-01T00:00:00Z")).await;

    // One day later: traces keep 2026-03-09.., logs 2026-03-10.., metrics 2026-03-08..
    let t1 = t0 + TimeDelta::days(1);
    let before = partitions_of_registered(&db.pool).await;
    let report = partitions::drop_expired(&db.pool, t1, &retention).await.unwrap();
    let after = partitions_of_registered(&db.pool).await;

    let mut dropped = 0;
    for t in PARTITIONED_TABLES.iter() {
        let (gone, kept) = match t.signal {
            Signal::Traces => ("2026-03-08", "2026-03-09"),
            Signal::Logs => ("2026-03-09", "2026-03-10"),
            // 2026-03-08 held no metrics, so it never got a partition.
            Signal::Metrics => ("2026-03-07", "2026-03-09"),
        };
        let gone = partition_name(t.table, day(gone));
        assert!(before.contains_key(&gone), "{gone} should have existed");
        assert!(!after.contains_key(&gone), "{gone} is past retention and must be dropped");
        assert!(after.contains_key(&partition_name(t.table, day(kept))), "{} must be kept", t.table);
        dropped += 1;
    }
    assert_eq!(report.dropped, dropped);
    assert_eq!(after.len(), before.len() - dropped);
    assert_eq!(report.default_rows_deleted, 1, "the expired straggler in otel_spans_fact_default");
    let spans: Vec<i64> =
        sqlx::query_scalar("SELECT span_row_id FROM otel_spans_fact ORDER BY 1").fetch_all(&db.pool).await.unwrap();
    assert_eq!(spans, [2, 4]);
    assert_eq!(count(&db.pool, "SELECT count(*) FROM otel_span_attrs_int").await, 0);
    let logs: Vec<i64> = sqlx::query_scalar("SELECT log_id FROM otel_logs_fact").fetch_all(&db.pool).await.unwrap();
    assert_eq!(logs, [2]);

    let again = partitions::drop_expired(&db.pool, t1, &retention).await.unwrap();
    assert_eq!((again.dropped, again.default_rows_deleted), (0, 0));
}

/// A metric series no batch has carried within the metrics retention is pruned with the expired partitions
/// (its points are gone); series seen since are kept.
#[tokio::test]
async fn metric_series_not_seen_within_retention_are_pruned() {
    let db = test_db().await;
    let retention = retention_days(2, 1, 3);
    let now = utc("2026-03-10T12:00:00Z");
    for (key, last_seen) in [(1i64, "2026-03-06T23:59:59Z"), (2, "2026-03-07T00:00:00Z"), (3, "2026-03-10T11:00:00Z")] {
        sqlx::query(
            "INSERT INTO otel_metric_series (series_key, metric_id, resource_id, attributes, last_seen) \
             VALUES ($1, 1, 1, '{}', $2)",
        )
        .bind(key)
        .bind(utc(last_seen))
        .execute(&db.pool)
        .await
        .unwrap();
    }
    // Metrics keep 2026-03-07 onwards (three days back from 2026-03-10).
    let report = partitions::drop_expired(&db.pool, now, &retention).await.unwrap();
    assert_eq!(report.series_pruned, 1);
    let kept: Vec<i64> =
        sqlx::query_scalar("SELECT series_key FROM otel_metric_series ORDER BY 1").fetch_all(&db.pool).await.unwrap();
    assert_eq!(kept, [2, 3]);
    assert!(report.to_string().contains("pruned 1 metric series"), "{report}");
    let again = partitions::drop_expired(&db.pool, now, &retention).await.unwrap();
    assert_eq!(again.series_pruned, 0);
}

/// Resources and scopes no batch has used within the longest retention are pruned, with their attribute
/// rows; those seen since are kept.
#[tokio::test]
async fn dimensions_not_seen_within_the_longest_retention_are_pruned() {
    let db = test_db().await;
    // The longest retention is metrics' 3 days: 2026-03-07 onwards is kept at `now`.
    let retention = retention_days(2, 1, 3);
    let now = utc("2026-03-10T12:00:00Z");
    let key = insert_key(&db.pool, "host.name").await;
    for (n, last_seen) in [(1u8, "2026-03-06T23:59:59Z"), (2, "2026-03-07T00:00:00Z")] {
        let resource: i64 = sqlx::query_scalar(
            "INSERT INTO otel_resources_dim (resource_hash, service_name, first_seen, last_seen) \
             VALUES ($1, 'svc', $2, $2) RETURNING resource_id",
        )
        .bind(vec![n; 32])
        .bind(utc(last_seen))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO otel_resource_attrs_string (resource_id, key_id, value) VALUES ($1, $2, 'h')")
            .bind(resource)
            .bind(key)
            .execute(&db.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO otel_scopes_dim (scope_hash, name, first_seen, last_seen) VALUES ($1, 's', $2, $2)")
            .bind(vec![n; 32])
            .bind(utc(last_seen))
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let report = partitions::drop_expired(&db.pool, now, &retention).await.unwrap();
    assert_eq!(report.dimensions_pruned, 2, "the old resource and the old scope");
    let left = |sql: &'static str| count(&db.pool, sql);
    assert_eq!(
        left("SELECT count(*) FROM otel_resources_dim WHERE resource_hash = decode(repeat('02', 32), 'hex')").await,
        1
    );
    assert_eq!(left("SELECT count(*) FROM otel_resources_dim").await, 1);
    assert_eq!(
        left("SELECT count(*) FROM otel_scopes_dim WHERE scope_hash = decode(repeat('02', 32), 'hex')").await,
        1
    );
    assert_eq!(left("SELECT count(*) FROM otel_scopes_dim").await, 1);
    assert_eq!(left("SELECT count(*) FROM otel_resource_attrs_string").await, 1, "the pruned resource's rows go too");
    assert!(report.to_string().contains("2 resources and scopes not seen"), "{report}");
    assert_eq!(partitions::drop_expired(&db.pool, now, &retention).await.unwrap().dimensions_pruned, 0);
}

#[tokio::test]
async fn maintain_is_idempotent() {
    let db = test_db().await;
    let now = utc("2026-07-01T10:00:00Z");
    let retention = retention_days(1, 1, 2);
    let first = partitions::maintain(&db.pool, now, &retention, 1).await.unwrap();
    // Every signal: yesterday (2026-06-30) to one day ahead (2026-07-02); metrics' 2026-06-29 holds no rows.
    assert_eq!(first.created, PARTITIONED_TABLES.len() * 3);
    let before = partitions_of_registered(&db.pool).await;
    let second = partitions::maintain(&db.pool, now, &retention, 1).await.unwrap();
    assert_eq!(second, MaintenanceReport::default());
    assert_eq!(partitions_of_registered(&db.pool).await, before);
}

#[tokio::test]
async fn maintenance_survives_a_deadlock_with_a_writer_of_stragglers() {
    let db = test_db().await;
    let retention = retention_days(1, 1, 1);
    let key = insert_key(&db.pool, "k").await;
    let t = utc("2026-04-02T12:00:00Z");
    // A writer transaction that files stragglers of 2026-04-02 in the reverse of the registry's order:
    // first an attribute row (locking otel_span_attrs_int_default), later its span.
    let mut writer = db.pool.begin().await.unwrap();
    sqlx::query("INSERT INTO otel_span_attrs_int (span_row_id, start_time, key_id, value) VALUES (1, $1, $2, 5)")
        .bind(t)
        .bind(key)
        .execute(&mut *writer)
        .await
        .unwrap();
    // Maintenance locks otel_spans_fact_default, then waits for otel_span_attrs_int_default.
    let pool = db.pool.clone();
    let maintenance =
        tokio::spawn(
            async move { partitions::ensure_partitions(&pool, utc("2026-04-02T00:00:00Z"), &retention, 0).await },
        );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The writer now needs otel_spans_fact_default: a lock cycle that PostgreSQL breaks by failing one side.
    let span = sqlx::query(
        "INSERT INTO otel_spans_fact (span_row_id, start_time, end_time, duration_ns, trace_id, span_id, name,
                                      kind, status_code, resource_id, scope_id)
         VALUES (1, $1, $1, 0, $2, $3, 'x', 1, 0, 1, 1)",
    )
    .bind(t)
    .bind(vec![1u8; 16])
    .bind(vec![1u8; 8])
    .execute(&mut *writer)
    .await;
    let writer_committed = match span {
        Ok(_) => {
            writer.commit().await.unwrap();
            true
        }
        Err(e) => {
            let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.to_string());
            assert_eq!(code.as_deref(), Some("40P01"), "{e}");
            false
        }
    };
    let report = maintenance.await.unwrap().expect("maintenance must retry a unit that lost a deadlock");
    assert_eq!(report.created, PARTITIONED_TABLES.len() * 2);
    let rows = count(&db.pool, "SELECT count(*) FROM otel_span_attrs_int_p20260402").await;
    assert_eq!(rows, if writer_committed { 1 } else { 0 });
    assert_eq!(count(&db.pool, "SELECT count(*) FROM otel_span_attrs_int_default").await, 0);
}

#[tokio::test]
async fn concurrent_maintenance_creates_each_partition_once() {
    let db = test_db().await;
    let now = utc("2026-09-15T23:30:00Z");
    let retention = retention_days(1, 1, 1);
    let (a, b) = tokio::join!(
        partitions::maintain(&db.pool, now, &retention, 1),
        partitions::maintain(&db.pool, now, &retention, 1),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.created + b.created, PARTITIONED_TABLES.len() * 3);
    assert_eq!(partitions_of_registered(&db.pool).await.len(), PARTITIONED_TABLES.len() * 4);
}

#[tokio::test]
async fn maintain_with_the_default_retention_creates_yesterday_to_days_ahead() {
    let db = test_db().await;
    let now = utc("2026-11-26T16:00:00Z");
    let report = partitions::maintain(&db.pool, now, &Retention::default(), 2).await.unwrap();
    let partitions = partitions_of_registered(&db.pool).await;
    let mut expected = 0;
    for t in PARTITIONED_TABLES.iter() {
        let first = day("2026-11-25");
        assert!(!partitions.contains_key(&partition_name(t.table, day("2026-11-24"))));
        for d in first.iter_days().take_while(|d| *d <= day("2026-11-28")) {
            assert!(partitions.contains_key(&partition_name(t.table, d)), "{}", partition_name(t.table, d));
            expected += 1;
        }
    }
    assert_eq!(report.created, expected);
}

#[tokio::test]
async fn retention_beyond_the_time_range_is_an_error_not_a_panic() {
    let db = test_db().await;
    let retention = Retention { traces: Duration::MAX, ..Retention::default() };
    let err = partitions::maintain(&db.pool, utc("2026-01-01T00:00:00Z"), &retention, 2).await.unwrap_err();
    assert!(err.to_string().contains("traces"), "{err}");
}

/// A textual fingerprint of the schema: relations, columns, constraints, indexes, comments, the ledger.
async fn schema_fingerprint(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
           SELECT format('rel %s %s %s', c.relname, c.relkind, obj_description(c.oid, 'pg_class')) AS x
           FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
           UNION ALL
           SELECT format('col %s.%s %s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum))
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
           UNION ALL
           SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace
           UNION ALL
           SELECT format('idx %s', pg_get_indexdef(indexrelid)) FROM pg_index
           WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
           UNION ALL
           SELECT format('mig %s %s %s', version, encode(checksum, 'hex'), success) FROM _sqlx_migrations
           UNION ALL
           SELECT format('seq %s %s', last_value, is_called) FROM otel_id_block_seq
           UNION ALL
           SELECT format('ref %s %s %s', (SELECT count(*) FROM log_severity_numbers),
                         (SELECT count(*) FROM span_kinds), (SELECT count(*) FROM metric_types))
         ) s",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn migrating_twice_changes_nothing() {
    let db = test_db().await;
    let before = schema_fingerprint(&db.pool).await;
    assert!(before.contains("rel otel_spans_fact p"), "fingerprint misses the schema");
    ollyscale::db::migrate::run(&db.pool).await.unwrap();
    ollyscale::db::migrate::run(&db.pool).await.unwrap();
    assert_eq!(schema_fingerprint(&db.pool).await, before);
}

#[tokio::test]
async fn late_rows_of_a_past_day_get_their_partition_and_empty_past_days_get_none() {
    let db = test_db().await;
    let retention = retention_days(7, 7, 7);
    let now = utc("2026-05-10T12:00:00Z");
    partitions::ensure_partitions(&db.pool, now, &retention, 1).await.unwrap();
    // A span of five days ago arrives late: no partition for that day, so it waits in the default one.
    insert_span(&db.pool, 1, utc("2026-05-05T08:00:00Z")).await;
    assert_eq!(span_home(&db.pool, 1).await, "otel_spans_fact_default");
    let report = partitions::ensure_partitions(&db.pool, now, &retention, 1).await.unwrap();
    assert_eq!(report.rows_moved, 1);
    assert_eq!(span_home(&db.pool, 1).await, "otel_spans_fact_p20260505");
    let partitions = partitions_of_registered(&db.pool).await;
    assert!(partitions.contains_key("otel_span_events_p20260505"), "the whole signal's day is created");
    assert!(!partitions.contains_key("otel_spans_fact_p20260506"), "a past day without rows gets no partition");
    assert!(!partitions.contains_key("otel_logs_fact_p20260505"), "other signals are not affected");
}

/// An attribute set no batch has carried within its signal's retention is pruned (its records are gone); sets
/// seen since are kept, each judged by its own signal's retention.
#[tokio::test]
async fn attribute_sets_not_seen_within_their_signal_retention_are_pruned() {
    let db = test_db().await;
    // Traces keep 2026-03-08 onwards at `now`, logs 2026-03-09 onwards.
    let retention = retention_days(2, 1, 3);
    let now = utc("2026-03-10T12:00:00Z");
    for (key, level, last_seen) in [
        (1i64, 3i16, "2026-03-07T23:59:59Z"),
        (2, 3, "2026-03-08T00:00:00Z"),
        (3, 2, "2026-03-08T23:59:59Z"),
        (4, 2, "2026-03-09T00:00:00Z"),
    ] {
        sqlx::query(
            "INSERT INTO otel_attribute_sets (set_key, level, attributes, last_seen) VALUES ($1, $2, '{}', $3)",
        )
        .bind(key)
        .bind(level)
        .bind(utc(last_seen))
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let report = partitions::drop_expired(&db.pool, now, &retention).await.unwrap();
    assert_eq!(report.attr_sets_pruned, 2);
    let kept: Vec<i64> =
        sqlx::query_scalar("SELECT set_key FROM otel_attribute_sets ORDER BY 1").fetch_all(&db.pool).await.unwrap();
    assert_eq!(kept, [2, 4]);
    assert!(report.to_string().contains("2 attribute sets"), "{report}");
    let again = partitions::drop_expired(&db.pool, now, &retention).await.unwrap();
    assert_eq!(again.attr_sets_pruned, 0);
}
