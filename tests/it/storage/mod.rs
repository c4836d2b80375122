//! DB-level tests of normalize + write: WAL records built in memory go through the batch writer into a real
//! PostgreSQL; the tests read the tables (or rebuild OTLP from them) to check what was stored, and ask the
//! product's query code (`/api/v2`, in process) to check what the stored rows answer.

mod attribute_sets;
mod attributes;
mod batches;
mod deferred_rollups;
mod logs;
mod metrics;
mod pipeline;
mod rebuild;
mod resources;
mod rollups;
mod roundtrip;
mod statistics;
mod traces;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ollyscale::normalize::Promotion;
use ollyscale::schema::Signal;
use ollyscale::telemetry::Telemetry;
use ollyscale::write::{CacheOptions, DeadLetterStore, DimCaches, IngestReport, Writer};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::support::pg::{TestDb, test_db};

/// Promotion used by most tests: `p.*` and `service.*` promoted (any scalar type) at every level, `secret.*`
/// dropped everywhere; everything else goes to `_other`.
pub const TEST_PROMOTION: &str = r#"
drop = ["secret.*"]
[resource]
any = ["service.*", "p.*"]
[scope]
any = ["p.*"]
[log]
any = ["p.*"]
[span]
any = ["p.*"]
[span_event]
any = ["p.*"]
[span_link]
any = ["p.*"]
[data_point]
any = ["p.*"]
"#;

/// A writer on a fresh database, with WAL sequences handed out by the test.
pub struct Env {
    pub db: TestDb,
    pub writer: Writer,
    pub telemetry: Arc<Telemetry>,
    pub dead_letters: DeadLetterStore,
    pub _dir: tempfile::TempDir,
    next_seq: AtomicU64,
    shutdown: CancellationToken,
}

/// A fresh database and writer with [`TEST_PROMOTION`].
pub async fn env() -> Env {
    env_with(Promotion::from_toml_str(TEST_PROMOTION).unwrap()).await
}

/// A fresh database and writer with the given promotion config.
pub async fn env_with(promotion: Promotion) -> Env {
    let db = test_db().await;
    env_on(db, promotion, "00000000000000000000000000000001")
}

/// A fresh database and a writer with [`TEST_PROMOTION`] that refreshes `last_seen` on every batch.
pub async fn env_refreshing_every_batch() -> Env {
    let promotion = Promotion::from_toml_str(TEST_PROMOTION).unwrap();
    env_on_with(test_db().await, promotion, "00000000000000000000000000000001", &refresh_every_batch())
}

/// Cache options under which `last_seen` is refreshed on every batch that uses a row.
pub fn refresh_every_batch() -> CacheOptions {
    CacheOptions { last_seen_refresh: std::time::Duration::ZERO, ..Default::default() }
}

/// A writer for `wal_id` on an existing database.
pub fn env_on(db: TestDb, promotion: Promotion, wal_id: &str) -> Env {
    env_on_with(db, promotion, wal_id, &CacheOptions::default())
}

/// A writer for `wal_id` on an existing database, with the given cache options.
pub fn env_on_with(db: TestDb, promotion: Promotion, wal_id: &str, caches: &CacheOptions) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Arc::new(Telemetry::default());
    let dead_letters = DeadLetterStore::new(dir.path().join("dead-letters"));
    let writer = Writer::new(
        db.pool.clone(),
        Arc::new(DimCaches::new(caches)),
        Arc::new(promotion),
        telemetry.clone(),
        wal_id,
        dead_letters.clone(),
    );
    let shutdown = CancellationToken::new();
    Env { db, writer, telemetry, dead_letters, _dir: dir, next_seq: AtomicU64::new(1), shutdown }
}

/// Receive time used for every record: 2026-11-26T12:00:00.123456789Z.
pub const RECEIVED_AT: u64 = 1_795_694_400_123_456_789;

impl Env {
    pub fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// Leaves the default partition of `table` without statistics, as a new partition or one filled in a
    /// burst is: its and its parent's pg_statistic rows deleted, its row count unknown, autovacuum off.
    pub async fn forget_statistics(&self, table: &str) {
        for sql in [
            format!("ALTER TABLE {table}_default SET (autovacuum_enabled = off)"),
            format!("DELETE FROM pg_statistic WHERE starelid IN ('{table}_default'::regclass, '{table}'::regclass)"),
            format!("UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = '{table}_default'::regclass"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(self.pool()).await.unwrap();
        }
    }

    /// A WAL record with the next sequence.
    pub fn record(&self, signal: Signal, payload: Vec<u8>) -> wal::Record {
        wal::Record {
            seq: self.next_seq.fetch_add(1, Ordering::SeqCst),
            kind: signal.wal_kind(),
            received_at_unix_nanos: RECEIVED_AT,
            payload,
        }
    }

    pub fn logs_record(&self, req: &ExportLogsServiceRequest) -> wal::Record {
        self.record(Signal::Logs, req.encode_to_vec())
    }

    pub fn traces_record(&self, req: &ExportTraceServiceRequest) -> wal::Record {
        self.record(Signal::Traces, req.encode_to_vec())
    }

    pub fn metrics_record(&self, req: &ExportMetricsServiceRequest) -> wal::Record {
        self.record(Signal::Metrics, req.encode_to_vec())
    }

    pub async fn ingest(&self, records: Vec<wal::Record>) -> IngestReport {
        self.writer.ingest(records, &self.shutdown).await.unwrap()
    }

    pub async fn logs(&self, req: &ExportLogsServiceRequest) -> IngestReport {
        let r = self.logs_record(req);
        self.ingest(vec![r]).await
    }

    pub async fn traces(&self, req: &ExportTraceServiceRequest) -> IngestReport {
        let r = self.traces_record(req);
        self.ingest(vec![r]).await
    }

    pub async fn metrics(&self, req: &ExportMetricsServiceRequest) -> IngestReport {
        let r = self.metrics_record(req);
        self.ingest(vec![r]).await
    }

    /// `SELECT count(*) FROM <table>` (table names are test constants).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    /// A single scalar from a query (test-authored SQL).
    pub async fn scalar<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(self.pool()).await.unwrap()
    }
}

// ---- OTLP builders ----

pub fn s(v: &str) -> AnyValue {
    AnyValue { value: Some(Value::StringValue(v.into())) }
}
pub fn i(v: i64) -> AnyValue {
    AnyValue { value: Some(Value::IntValue(v)) }
}
pub fn d(v: f64) -> AnyValue {
    AnyValue { value: Some(Value::DoubleValue(v)) }
}
pub fn b(v: bool) -> AnyValue {
    AnyValue { value: Some(Value::BoolValue(v)) }
}
pub fn by(v: &[u8]) -> AnyValue {
    AnyValue { value: Some(Value::BytesValue(v.to_vec())) }
}
pub fn arr(v: Vec<AnyValue>) -> AnyValue {
    AnyValue { value: Some(Value::ArrayValue(ArrayValue { values: v })) }
}
pub fn kvl(v: Vec<KeyValue>) -> AnyValue {
    AnyValue { value: Some(Value::KvlistValue(KeyValueList { values: v })) }
}
pub fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue { key: key.into(), value: Some(value), ..Default::default() }
}

pub fn resource(attrs: Vec<KeyValue>) -> Resource {
    Resource { attributes: attrs, ..Default::default() }
}

pub fn scope(name: &str, version: &str) -> InstrumentationScope {
    InstrumentationScope { name: name.into(), version: version.into(), ..Default::default() }
}

/// A log record at `time` with a string body.
pub fn log(time: u64, body: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(s(body)),
        ..Default::default()
    }
}

/// One ResourceLogs / ScopeLogs request.
pub fn logs_req(res: Resource, sc: InstrumentationScope, records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(res),
            scope_logs: vec![ScopeLogs { scope: Some(sc), log_records: records, schema_url: String::new() }],
            schema_url: String::new(),
        }],
    }
}

/// A log request with one record under a resource `service.name = svc`.
pub fn simple_logs(svc: &str, body: &str) -> ExportLogsServiceRequest {
    logs_req(resource(vec![kv("service.name", s(svc))]), scope("lib", "1.0"), vec![log(T0, body)])
}

/// A fixed time with sub-microsecond digits: 2026-11-26T10:00:00.123456789Z.
pub const T0: u64 = 1_795_687_200_123_456_789;
