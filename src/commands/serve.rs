//! `ollyscale serve`: the long-running server.
//!
//! Start-up order matters for the durability promise: the WAL opens (and recovers) before any receiver
//! listens, so no export is acknowledged before its record can be made durable. The database may be
//! down at start: receivers still accept into the WAL, and the pipeline waits for PostgreSQL.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiState};
use crate::config::{Config, Durability, Role};
use crate::db::{connect, migrate};
use crate::normalize::Promotion;
use crate::query::QueryOptions;
use crate::receive::grpc::ExportService;
use crate::receive::{self, Receiver};
use crate::retry::RetryPolicy;
use crate::telemetry::Telemetry;
use crate::write::{self, PipelineOptions};

/// Opens the WAL under the data dir with the configured durability and budget.
pub fn open_wal(config: &Config) -> anyhow::Result<wal::Wal> {
    let options = wal::WalOptions {
        sync_policy: match config.wal_durability {
            Durability::Sync => wal::SyncPolicy::Sync,
            Durability::Buffered => wal::SyncPolicy::Buffered,
        },
        disk_budget_bytes: config.wal_budget,
        ..wal::WalOptions::default()
    };
    let dir = config.wal_dir();
    wal::Wal::open(&dir, options).with_context(|| format!("open the WAL in {}", dir.display()))
}

/// The pipeline's batching settings from the configuration.
pub fn pipeline_options(config: &Config) -> PipelineOptions {
    PipelineOptions {
        max_batch_records: config.batch_max_records,
        max_batch_bytes: config.batch_max_bytes,
        max_batch_delay: config.batch_max_delay,
        writes_in_flight: config.writes_in_flight,
        ..PipelineOptions::default()
    }
}

/// The attribute promotion rules: the configured file (an error names its line) or the shipped defaults.
pub fn load_promotion(config: &Config) -> anyhow::Result<Promotion> {
    Ok(match &config.attributes_config {
        Some(path) => Promotion::from_file(path)?,
        None => Promotion::defaults(),
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let telemetry = Arc::new(Telemetry::default());
    let ingest = config.role != Role::Api;
    let wal = if ingest {
        let wal_config = config.clone();
        let wal = tokio::task::spawn_blocking(move || open_wal(&wal_config)).await??;
        tracing::info!(id = wal.id(), dir = %config.wal_dir().display(), "WAL open");
        Some(Arc::new(wal))
    } else {
        None
    };
    // Read before anything listens: a bad rules file stops start-up with its line number.
    let promotion = Arc::new(load_promotion(&config)?);
    let db = connect::open(&config, 16).await?;
    if let (Some(wal), Durability::Buffered) = (&wal, config.wal_durability) {
        resume_buffered_wal(wal, &db.pool).await;
    }
    // The one shutdown signal: every task and listener below stops on it.
    let shutdown = CancellationToken::new();
    let state =
        ApiState { wal: wal.clone(), telemetry: telemetry.clone(), pool: db.pool.clone(), ..ApiState::default() };
    let mut tasks = tokio::task::JoinSet::new();
    let (schema_tx, schema_rx) = watch::channel(false);
    tasks.spawn(keep_schema(db.pool.clone(), config.clone(), state.clone(), schema_tx, shutdown.clone()));
    if ingest {
        tasks.spawn(keep_rollups_compacted(db.pool.clone(), schema_rx.clone(), shutdown.clone()));
        tasks.spawn(keep_statistics(db.pool.clone(), schema_rx.clone(), shutdown.clone()));
    }
    if let Some(wal) = &wal {
        let options = pipeline_options(&config);
        let (wal, pool, telemetry) = ((**wal).clone(), db.pool.clone(), telemetry.clone());
        let (promotion, dead_letters, shutdown) = (promotion.clone(), config.dead_letter_dir(), shutdown.clone());
        let mut schema = schema_rx;
        let health = state.health.clone();
        tasks.spawn(async move {
            // Writing before the schema exists would make every record look permanently bad, and writing while
            // the first maintenance creates today's partitions races with it (rows routed to the default
            // partition just before a partition for their day is attached are refused).
            if schema.wait_for(|ready| *ready).await.is_err() {
                return;
            }
            let stopping = shutdown.clone();
            let why = match write::spawn(wal, pool, promotion, telemetry, dead_letters, options, shutdown).await {
                Ok(Ok(())) => "it ended".to_string(),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "ingest pipeline stopped; exports are still acknowledged into the WAL");
                    e.to_string()
                }
                Err(e) => {
                    tracing::error!(error = %e, "ingest pipeline panicked");
                    format!("it panicked: {e}")
                }
            };
            if !stopping.is_cancelled() {
                let _ = health.pipeline_stopped.set(why);
            }
        });
    }

    if let Some(wal) = &wal {
        let receiver = Arc::new(Receiver::new(wal.clone(), telemetry.clone(), config.auth_token.as_deref()));
        let grpc = bind(config.grpc_listen, "OTLP/gRPC").await?;
        let http = bind(config.http_listen, "OTLP/HTTP").await?;
        tasks.spawn(serve_grpc(grpc, receiver.clone(), config.clone(), shutdown.clone()));
        let router = receive::http::router(receiver, config.max_request_size as usize);
        match &config.tls {
            Some((cert, key)) => {
                let tls = receive::tls::TlsListener::new(http, receive::tls::server_config(cert, key)?)?;
                tasks.spawn(serve_http(tls, router, shutdown.clone(), "OTLP/HTTP"));
            }
            None => {
                tasks.spawn(serve_http(http, router, shutdown.clone(), "OTLP/HTTP"));
            }
        }
    }
    let api_listener = bind(config.api_listen, "API").await?;
    let query = QueryOptions {
        auth_token: config.auth_token.clone(),
        cors_origins: config.cors_origins.clone(),
        max_window_nanos: u64::try_from(config.max_query_window.as_nanos()).unwrap_or(u64::MAX),
        statement_timeout: config.query_timeout,
        ..QueryOptions::default()
    };
    let query = (config.role != Role::Ingest).then_some(query);
    tasks.spawn(serve_http(api_listener, api::router(state, query), shutdown.clone(), "API"));

    shutdown_signal().await;
    shutdown.cancel();
    // Listeners stop accepting and answer their in-flight requests (each only after its append), the pipeline
    // gives its batches in flight a moment to commit, the maintenance tasks stop; then the WAL closes and a
    // managed PostgreSQL stops last.
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(20), drain).await.is_err() {
        tracing::warn!("some tasks did not stop within 20s");
    }
    if let Some(wal) = wal {
        wal.close();
    }
    drop(db);
    tracing::info!("stopped");
    Ok(())
}

/// A buffered WAL can lose its newest records in a power cut after the pipeline committed them, and would
/// then hand their sequence numbers out again; new records under those numbers would be skipped as already
/// committed. Resuming after the stored checkpoint before anything is appended prevents that. The pipeline
/// does it again once the database answers; if it does not answer within a few seconds, start-up goes on.
async fn resume_buffered_wal(wal: &wal::Wal, pool: &PgPool) {
    let read = tokio::time::timeout(Duration::from_secs(5), write::read_checkpoint(pool, wal.id())).await;
    match read {
        Ok(Ok(Some(checkpoint))) => {
            let w = wal.clone();
            match tokio::task::spawn_blocking(move || w.resume_after(checkpoint)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not resume the WAL after the checkpoint"),
                Err(e) => tracing::warn!(error = %e, "could not resume the WAL after the checkpoint"),
            }
        }
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "checkpoint not readable at start-up; the pipeline resumes later"),
        Err(_) => tracing::warn!("database not answering at start-up; the pipeline resumes the WAL later"),
    }
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("bind the {what} address {addr}"))?;
    tracing::info!(%addr, "{what} listening");
    Ok(listener)
}

/// Serves `router` on a plain or TLS listener until shutdown, then answers the requests in flight.
async fn serve_http<L>(listener: L, router: axum::Router, shutdown: CancellationToken, what: &'static str)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await {
        tracing::error!(error = %e, "{what} server failed");
    }
}

async fn serve_grpc(
    listener: tokio::net::TcpListener,
    receiver: Arc<Receiver>,
    config: Config,
    shutdown: CancellationToken,
) {
    let max = config.max_request_size as usize;
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<ExportService<ExportTraceServiceRequest>>().await;
    health.set_serving::<ExportService<ExportLogsServiceRequest>>().await;
    health.set_serving::<ExportService<ExportMetricsServiceRequest>>().await;
    let mut builder = tonic::transport::Server::builder();
    if let Some((cert, key)) = &config.tls {
        match load_tls(cert, key) {
            Ok(tls) => match builder.tls_config(tls) {
                Ok(b) => builder = b,
                Err(e) => {
                    tracing::error!(error = %e, "invalid TLS configuration for OTLP/gRPC");
                    return;
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot load TLS certificate and key");
                return;
            }
        }
    }
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let result = builder
        .add_service(health_service)
        .add_service(ExportService::<ExportTraceServiceRequest>::new(receiver.clone(), max))
        .add_service(ExportService::<ExportLogsServiceRequest>::new(receiver.clone(), max))
        .add_service(ExportService::<ExportMetricsServiceRequest>::new(receiver, max))
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "OTLP/gRPC server failed");
    }
}

fn load_tls(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<tonic::transport::ServerTlsConfig> {
    let cert = std::fs::read(cert).with_context(|| format!("read {}", cert.display()))?;
    let key = std::fs::read(key).with_context(|| format!("read {}", key.display()))?;
    Ok(tonic::transport::ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(cert, key)))
}

/// Migrates once the database answers (retrying while it does not), then keeps partitions maintained; `ready`
/// turns true after the first maintenance attempt, when writers may start. The API role changes nothing: it
/// waits for the schema another process migrated, so its database role needs only SELECT.
async fn keep_schema(
    pool: PgPool,
    config: Config,
    state: ApiState,
    ready: watch::Sender<bool>,
    shutdown: CancellationToken,
) {
    if config.role == Role::Api {
        let current = shutdown.run_until_cancelled(migrate::wait_until_current(&pool)).await;
        if current.is_some() {
            state.health.schema_ready.store(true, std::sync::atomic::Ordering::Release);
            ready.send_replace(true);
        }
        return;
    }
    let work = async {
        let notify = |e: &sqlx::migrate::MigrateError, delay| {
            tracing::warn!(error = %e, retry_in = ?delay, "migrations failed; retrying");
        };
        let migrated = MIGRATION_RETRY.retry(&shutdown, |_| true, notify, || migrate::run(&pool)).await;
        if migrated.is_err() {
            return;
        }
        loop {
            let outcome = super::maintain::maintain_once(&pool, &config).await;
            // Even a failed first attempt lets writers start: default partitions take rows without a partition.
            ready.send_replace(true);
            match outcome {
                Ok(report) => {
                    state.health.schema_ready.store(true, std::sync::atomic::Ordering::Release);
                    tracing::info!(%report, "partition maintenance done");
                    tokio::time::sleep(config.maintenance_interval).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "partition maintenance failed; retrying in 30s");
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            }
        }
    };
    shutdown.run_until_cancelled(work).await;
}

/// How `serve` retries the migrations while the database does not answer (any error is retried: an operator
/// fixes a schema conflict, and the receivers keep acknowledging into the WAL meanwhile).
const MIGRATION_RETRY: RetryPolicy = RetryPolicy { initial: Duration::from_millis(200), max: Duration::from_secs(30) };

/// How often `serve` compacts the span rollups, and how long after a slot ends it waits for late spans.
const COMPACTION_INTERVAL: Duration = Duration::from_secs(60);
const COMPACTION_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Folds the span rollups' closed minutes into ten-minute slots every minute, once the schema is there.
async fn keep_rollups_compacted(pool: PgPool, mut schema: watch::Receiver<bool>, shutdown: CancellationToken) {
    let work = async {
        if schema.wait_for(|ready| *ready).await.is_err() {
            return;
        }
        loop {
            match write::compact::compact_rollups(&pool, chrono::Utc::now() - COMPACTION_GRACE).await {
                Ok(0) => {}
                Ok(moved) => tracing::debug!(moved, "span rollups compacted"),
                Err(e) => tracing::warn!(error = %e, "span rollup compaction failed; retrying next pass"),
            }
            tokio::time::sleep(COMPACTION_INTERVAL).await;
        }
    };
    shutdown.run_until_cancelled(work).await;
}

/// How often `serve` looks for partitions that grew enough to be analyzed again.
const STATISTICS_INTERVAL: Duration = Duration::from_secs(5);

/// Analyzes grown partitions every few seconds, once the schema is there (see `db::statistics`).
async fn keep_statistics(pool: PgPool, mut schema: watch::Receiver<bool>, shutdown: CancellationToken) {
    let work = async {
        if schema.wait_for(|ready| *ready).await.is_err() {
            return;
        }
        loop {
            match crate::db::statistics::analyze_grown(&pool).await {
                Ok(analyzed) if analyzed.is_empty() => {}
                Ok(analyzed) => tracing::debug!(?analyzed, "grown partitions analyzed"),
                Err(e) => tracing::warn!(error = %e, "analyzing grown partitions failed; retrying next pass"),
            }
            tokio::time::sleep(STATISTICS_INTERVAL).await;
        }
    };
    shutdown.run_until_cancelled(work).await;
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
