//! `ollyscale serve`: the long-running server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

use crate::api::{self, ApiState};
use crate::config::Config;
use crate::db::{connect, migrate};

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = connect::open(&config, 16).await?;
    let state = ApiState::default();
    let schema = tokio::spawn(keep_schema(db.pool.clone(), config.clone(), state.clone()));

    let listener = tokio::net::TcpListener::bind(config.api_listen)
        .await
        .with_context(|| format!("bind the API port {}", config.api_listen))?;
    tracing::info!(addr = %config.api_listen, "API listening");
    axum::serve(listener, api::router(state)).with_graceful_shutdown(shutdown_signal()).await?;
    schema.abort();
    tracing::info!("stopped");
    drop(db);
    Ok(())
}

/// Migrates once the database answers (retrying while it does not), then keeps partitions maintained.
async fn keep_schema(pool: PgPool, config: Config, state: ApiState) {
    let mut delay = Duration::from_millis(200);
    loop {
        match migrate::run(&pool).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "migrations failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
    loop {
        match super::maintain::maintain_once(&pool, &config).await {
            Ok(report) => {
                state.health.schema_ready.store(true, Ordering::Release);
                tracing::info!(%report, "partition maintenance done");
                tokio::time::sleep(config.maintenance_interval).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "partition maintenance failed; retrying in 30s");
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    }
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
