//! End to end through the real server and a real PostgreSQL: what was acknowledged ends up in the
//! database exactly once, through SIGKILLs of the server and an outage of the database.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::support::otlp::{kv, traces};
use crate::support::pg::test_db;
use crate::support::server::Server;

/// One export of `signal` kind carrying the unique `marker`: a span named `{marker}-0`, a log record whose
/// body is the marker, or a gauge named after the marker with one data point.
fn export(signal: usize, marker: &str) -> (&'static str, Vec<u8>) {
    let now = ollyscale::time::now_unix_nanos();
    let resource = Some(Resource { attributes: vec![kv("service.name", "e2e")], ..Default::default() });
    match signal % 3 {
        0 => ("traces", traces(marker, 1).encode_to_vec()),
        1 => (
            "logs",
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource,
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord {
                            time_unix_nano: now,
                            severity_number: 9,
                            body: Some(AnyValue { value: Some(Value::StringValue(marker.to_string())) }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    schema_url: String::new(),
                }],
            }
            .encode_to_vec(),
        ),
        _ => (
            "metrics",
            ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource,
                    scope_metrics: vec![ScopeMetrics {
                        metrics: vec![Metric {
                            name: marker.to_string(),
                            data: Some(Data::Gauge(Gauge {
                                data_points: vec![NumberDataPoint {
                                    time_unix_nano: now,
                                    value: Some(number_data_point::Value::AsInt(1)),
                                    ..Default::default()
                                }],
                            })),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    schema_url: String::new(),
                }],
            }
            .encode_to_vec(),
        ),
    }
}

/// Sends exports with fresh markers `{prefix}{n}` over OTLP/HTTP until `stop`, cycling the signals;
/// returns the markers acknowledged.
async fn sender(prefix: String, http: String, stop: Arc<AtomicBool>) -> Vec<String> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut acked = Vec::new();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let marker = format!("{prefix}{n}");
        let (path, body) = export(n, &marker);
        n += 1;
        let ok = client
            .post(format!("{http}/v1/{path}"))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            acked.push(marker);
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    acked
}

/// How many times each marker is in the database, over spans, log bodies and metric data points.
async fn stored(pool: &PgPool) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT left(name, length(name) - 2), count(*) FROM otel_spans_fact GROUP BY name
         UNION ALL SELECT body_string, count(*) FROM otel_logs_fact GROUP BY body_string
         UNION ALL SELECT m.name, count(*) FROM otel_metrics_data_points_number p
                   JOIN otel_metrics_dim m USING (metric_id) GROUP BY m.name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// Waits until the server's WAL is empty (everything committed and released), up to `limit`.
async fn wait_drained(server: &Server, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let metrics = reqwest::get(format!("{}/metrics", server.api_url())).await.unwrap().text().await.unwrap();
        if metrics.lines().any(|l| l == "ollyscale_wal_records 0") {
            return;
        }
        assert!(Instant::now() < deadline, "the WAL did not drain within {limit:?}:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the database holds once every acknowledged marker is there (or `limit` passes): the WAL gauge
/// alone can read empty a moment before the committing transaction is visible to other sessions.
async fn stored_when_complete(pool: &PgPool, acked: &[String], limit: Duration) -> HashMap<String, i64> {
    let deadline = Instant::now() + limit;
    loop {
        let stored = stored(pool).await;
        if acked.iter().all(|m| stored.contains_key(m)) || Instant::now() > deadline {
            return stored;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints a fault test's figures (docs/reliability.md records them): acknowledged, of those stored, and
/// stored more than once.
fn tally(fault: &str, stored: &HashMap<String, i64>, acked: &[String]) {
    let present = acked.iter().filter(|m| stored.contains_key(*m)).count();
    let duplicated = stored.values().filter(|n| **n > 1).count();
    println!("fault: {fault}: acknowledged {}, stored {present}, duplicated {duplicated}", acked.len());
}

/// Checks that every acknowledged marker is in the database at `url` exactly once (printing the figures as
/// `fault`), then stops `cluster` and removes its files.
async fn assert_stored_once_then_remove(
    url: &str,
    acked: &[String],
    fault: &str,
    cluster: ollyscale::db::local_cluster::LocalCluster,
    pg_dir: std::path::PathBuf,
) {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.unwrap();
    let stored = stored_when_complete(&pool, acked, Duration::from_secs(60)).await;
    tally(fault, &stored, acked);
    assert_exactly_once(&stored, acked);
    pool.close().await;
    tokio::task::spawn_blocking(move || {
        cluster.stop();
        let _ = std::fs::remove_dir_all(&pg_dir);
    })
    .await
    .unwrap();
}

fn assert_exactly_once(stored: &HashMap<String, i64>, acked: &[String]) {
    for (marker, n) in stored {
        assert_eq!(*n, 1, "{marker} is in the database {n} times");
    }
    for marker in acked {
        assert!(stored.contains_key(marker), "acknowledged {marker} is missing from the database");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_items_reach_postgres_exactly_once_through_repeated_sigkill() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Mutex::new(Server::start(dir.path(), &db.url, &["--batch-max-delay", "20ms"])));
    let http = server.lock().await.http_url();
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..3).map(|i| tokio::spawn(sender(format!("k{i}-"), http.clone(), stop.clone()))).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..10 {
        // Random moments: some kills land mid-append, some mid-COPY, some between commit and truncation.
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..900))).await;
        let server = server.clone();
        tokio::task::spawn_blocking(move || server.blocking_lock().restart()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    let server = server.lock().await;
    wait_drained(&server, Duration::from_secs(120)).await;
    let stored = stored_when_complete(&db.pool, &acked, Duration::from_secs(30)).await;
    assert!(acked.len() > 100, "too few acknowledgements to test anything: {}", acked.len());
    tally("ollyscale SIGKILLed 10 times under load", &stored, &acked);
    assert_exactly_once(&stored, &acked);
    // The span rollups are written in the same transactions: they count every stored span once too.
    let (spans, rolled): (i64, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM otel_spans_fact), (SELECT sum(span_count)::bigint FROM otel_service_rollups)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(Some(spans), rolled, "span rollups disagree with the spans stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_rollups_deferred_while_draining_a_backlog_survive_sigkill() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    // A backlog: spans acknowledged into the WAL while no database answers.
    let offline = Server::start(dir.path(), "postgres://postgres@127.0.0.1:1/none", &[]);
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    for n in 0..300 {
        let marker = format!("backlog-{n}");
        let resp = client
            .post(format!("{}/v1/traces", offline.http_url()))
            .header("content-type", "application/x-protobuf")
            .body(traces(&marker, 1).encode_to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        acked.push(marker);
    }
    drop(offline);
    // One export per batch, so that nearly every batch has records behind it and defers its rollups; killed
    // while some are deferred.
    let mut server = Server::start(dir.path(), &db.url, &["--batch-max-records", "1"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let pending = "SELECT count(*) FROM otel_span_rollups_pending";
    while sqlx::query_scalar::<_, i64>(pending).fetch_one(&db.pool).await.unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "no batch deferred its rollups:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    wait_drained(&server, Duration::from_secs(120)).await;
    let stored = stored_when_complete(&db.pool, &acked, Duration::from_secs(30)).await;
    tally("ollyscale SIGKILLed while draining a backlog with span rollups deferred", &stored, &acked);
    assert_exactly_once(&stored, &acked);
    let (spans, services, operations, left): (i64, Option<i64>, Option<i64>, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM otel_spans_fact), (SELECT sum(span_count)::bigint FROM otel_service_rollups), \
         (SELECT sum(span_count)::bigint FROM otel_operation_rollups), (SELECT count(*) FROM otel_span_rollups_pending)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((Some(spans), Some(spans), left), (services, operations, 0), "rollups after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_buffered_in_the_wal_and_drains_when_postgres_returns() {
    let (pg_dir, start) = own_cluster("outage");
    let cluster = tokio::task::spawn_blocking(start.clone()).await.unwrap();
    let url = cluster.url("postgres");
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_lazy(&url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &url, &["--batch-max-delay", "20ms"]);
    let stop = Arc::new(AtomicBool::new(false));
    let before = tokio::spawn(sender("before-".into(), server.http_url(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = before.await.unwrap();

    // The outage: PostgreSQL goes away; acknowledgements go on, into the WAL.
    pool.close().await;
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn(sender("during-".into(), server.http_url(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let during = during.await.unwrap();
    assert!(during.len() > 20, "exports must still be acknowledged while the database is down: {}", during.len());
    let metrics = reqwest::get(format!("{}/metrics", server.api_url())).await.unwrap().text().await.unwrap();
    assert!(!metrics.lines().any(|l| l == "ollyscale_wal_records 0"), "the backlog waits in the WAL");
    acked.extend(during);

    let cluster = tokio::task::spawn_blocking(start).await.unwrap();
    wait_drained(&server, Duration::from_secs(120)).await;
    drop(server);
    assert_stored_once_then_remove(&url, &acked, "PostgreSQL down for 3 s under load", cluster, pg_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_api_serves_what_was_ingested_also_from_an_api_only_process() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let ingest = Server::start(dir.path(), &db.url, &["--batch-max-delay", "20ms", "--role", "ingest"]);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/traces", ingest.http_url()))
        .header("content-type", "application/x-protobuf")
        .body(traces("queried", 3).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_drained(&ingest, Duration::from_secs(60)).await;
    let not_here = reqwest::get(format!("{}/api/v2/services", ingest.api_url())).await.unwrap();
    assert_eq!(not_here.status(), 404, "an ingest-only process serves no query API");

    let api_dir = tempfile::tempdir().unwrap();
    let api = Server::start(api_dir.path(), &db.url, &["--role", "api"]);
    assert!(std::net::TcpStream::connect(api.grpc).is_err(), "an API-only process has no receivers");
    // traces() gives span i the trace id 0x0000000000000001+i followed by eight 0x07 bytes.
    let trace_id = "00000000000000010707070707070707";
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let body = reqwest::get(format!("{}/api/v2/traces/{}", api.api_url(), trace_id.to_uppercase())).await.unwrap();
        if body.status() == 200 || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body.status(), 200);
    let v: serde_json::Value = serde_json::from_slice(&body.bytes().await.unwrap()).unwrap();
    assert!(v.to_string().contains("queried-0"), "{v}");
    let unknown = reqwest::get(format!("{}/api/v2/traces/{}", api.api_url(), "ab".repeat(16))).await.unwrap();
    assert_eq!(unknown.status(), 404);
    let openapi = reqwest::get(format!("{}/api/v2/openapi.json", api.api_url())).await.unwrap();
    assert_eq!(openapi.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_analyzes_the_partition_its_spans_grow() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &db.url, &["--batch-max-delay", "20ms"]);
    // Autovacuum's own analyze would race the server's: once it has run, the partition has not grown since
    // its last analyze and the server rightly leaves it alone. So first wait for the server's first
    // maintenance to create the partitions.
    let deadline = Instant::now() + Duration::from_secs(60);
    let parts = loop {
        let parts: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'otel_spans_fact'::regclass AND c.relname <> 'otel_spans_fact_default'",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap_or_default();
        if !parts.is_empty() {
            break parts;
        }
        assert!(Instant::now() < deadline, "the server created no span partitions");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for part in parts {
        sqlx::query(sqlx::AssertSqlSafe(format!(r#"ALTER TABLE "{part}" SET (autovacuum_enabled = false)"#)))
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/traces", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .body(traces("analyzed", 2000).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_drained(&server, Duration::from_secs(60)).await;
    // last_analyze is set by an explicit ANALYZE only (autovacuum's goes to last_autoanalyze).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let analyzed: Option<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_stat_user_tables WHERE relname LIKE 'otel\\_spans\\_fact\\_p%' \
             AND n_live_tup >= 2000 AND last_analyze IS NOT NULL",
        )
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if analyzed.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the server never analyzed the spans' partition");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A cluster of a test's own, that it may stop and kill without disturbing the others, on a fixed port so that
/// the server's URL stays valid across restarts.
fn own_cluster(name: &str) -> (std::path::PathBuf, impl Fn() -> ollyscale::db::local_cluster::LocalCluster + Clone) {
    use ollyscale::db::local_cluster::LocalCluster;
    let pg_dir = std::env::temp_dir().join(format!("ollyscale-{name}-{}", std::process::id()));
    let port = crate::support::ports::free_port();
    let dir = pg_dir.clone();
    (pg_dir, move || LocalCluster::start_on(&dir, false, Some(port)).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_load_five_times_loses_and_duplicates_nothing() {
    let (pg_dir, start) = own_cluster("pgkill");
    let cluster = tokio::task::spawn_blocking(start.clone()).await.unwrap();
    let url = cluster.url("postgres");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &url, &["--batch-max-delay", "20ms"]);
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> =
        (0..3).map(|i| tokio::spawn(sender(format!("q{i}-"), server.http_url(), stop.clone()))).collect();
    let mut cluster = Some(cluster);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for _ in 0..5 {
        // With batches committing every few tens of milliseconds, most kills land inside a COPY transaction.
        tokio::time::sleep(Duration::from_millis(rng.random_range(400..1200))).await;
        let (c, start) = (cluster.take().unwrap(), start.clone());
        cluster = Some(
            tokio::task::spawn_blocking(move || {
                c.kill_immediate();
                start()
            })
            .await
            .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    wait_drained(&server, Duration::from_secs(120)).await;
    drop(server);
    assert!(acked.len() > 100, "too few acknowledgements to test anything: {}", acked.len());
    let fault = "PostgreSQL stopped immediately 5 times under load";
    assert_stored_once_then_remove(&url, &acked, fault, cluster.take().unwrap(), pg_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_wal_during_an_outage_pushes_back_then_drains_with_nothing_lost() {
    let (pg_dir, start) = own_cluster("budget");
    let cluster = tokio::task::spawn_blocking(start.clone()).await.unwrap();
    let url = cluster.url("postgres");
    // Migrate first, then take the database away: every export now waits in a WAL of 256 KiB.
    let migrate = std::process::Command::new(env!("CARGO_BIN_EXE_ollyscale"))
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &url, &["--batch-max-delay", "20ms", "--wal-budget", "256KiB"]);
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    let mut pushed_back = None;
    for n in 0..5_000 {
        let marker = format!("full{n}");
        let resp = client
            .post(format!("{}/v1/traces", server.http_url()))
            .header("content-type", "application/x-protobuf")
            .body(traces(&marker, 1).encode_to_vec())
            .send()
            .await
            .unwrap();
        if resp.status().is_success() {
            acked.push(marker);
        } else {
            pushed_back = Some(resp);
            break;
        }
    }
    let resp = pushed_back.expect("a 256 KiB WAL must fill up during the outage");
    assert_eq!(resp.status(), 503, "push-back is retryable");
    assert!(resp.headers().contains_key("retry-after"), "{:?}", resp.headers());
    assert!(acked.len() > 10, "{}", acked.len());

    // The database returns: the backlog drains, and exports are taken again.
    let cluster = tokio::task::spawn_blocking(start).await.unwrap();
    wait_drained(&server, Duration::from_secs(120)).await;
    let (_, body) = export(0, "after-outage");
    let after = client
        .post(format!("{}/v1/traces", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    acked.push("after-outage".into());
    wait_drained(&server, Duration::from_secs(60)).await;
    drop(server);
    let fault = "WAL budget reached during an outage, then drained";
    assert_stored_once_then_remove(&url, &acked, fault, cluster, pg_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingest_servers_killed_in_turn_write_each_acknowledged_item_once() {
    let db = test_db().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--batch-max-delay", "20ms", "--role", "ingest"];
    let a = Arc::new(Mutex::new(Server::start(dir_a.path(), &db.url, &args)));
    let b = Arc::new(Mutex::new(Server::start(dir_b.path(), &db.url, &args)));
    let api_dir = tempfile::tempdir().unwrap();
    let api = Server::start(api_dir.path(), &db.url, &["--role", "api"]);
    let stop = Arc::new(AtomicBool::new(false));
    let (http_a, http_b) = (a.lock().await.http_url(), b.lock().await.http_url());
    let senders = vec![
        tokio::spawn(sender("a-".into(), http_a, stop.clone())),
        tokio::spawn(sender("b-".into(), http_b, stop.clone())),
    ];
    for round in 0..4 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let victim = if round % 2 == 0 { a.clone() } else { b.clone() };
        tokio::task::spawn_blocking(move || victim.blocking_lock().restart()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    wait_drained(&*a.lock().await, Duration::from_secs(120)).await;
    wait_drained(&*b.lock().await, Duration::from_secs(120)).await;
    let stored = stored_when_complete(&db.pool, &acked, Duration::from_secs(30)).await;
    assert!(acked.iter().any(|m| m.starts_with("a-")) && acked.iter().any(|m| m.starts_with("b-")));
    tally("two ingest servers SIGKILLed in turn", &stored, &acked);
    assert_exactly_once(&stored, &acked);
    // The API process, which writes nothing, serves what both wrote.
    let from = ollyscale::time::now_unix_nanos() - 3_600_000_000_000;
    let services = reqwest::get(format!("{}/api/v2/services?from={from}", api.api_url())).await.unwrap();
    let text = services.text().await.unwrap();
    assert!(text.contains("\"it\"") && text.contains("\"e2e\""), "{text}");
}
