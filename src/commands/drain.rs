//! `ollyscale drain`: empties a WAL into PostgreSQL and exits, so that a receiver's volume can be deleted
//! after its pod is gone (scale-down) without losing what it acknowledged.
//!
//! It runs the same pipeline as `serve` (exactly once through the ingest checkpoint, dead letters for what
//! PostgreSQL refuses) on the WAL under the data dir, and stops once every record is committed and truncated.
//! It does not migrate: the schema must be current (it waits until it is).

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use super::serve::{load_promotion, open_wal, pipeline_options, shutdown_signal};
use crate::config::Config;
use crate::db::{connect, migrate};
use crate::telemetry::Telemetry;
use crate::write;

/// Loads the WAL into PostgreSQL until it is empty; fails if the pipeline stops first or on SIGINT/SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let wal = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || open_wal(&config)).await??
    };
    let promotion = Arc::new(load_promotion(&config)?);
    let start = wal.stats()?.records;
    println!("WAL {}: {start} records to load", wal.id());
    if start == 0 {
        wal.close();
        println!("WAL is empty");
        return Ok(());
    }
    let db = connect::open(&config, 4).await?;
    let interrupted = tokio::select! {
        () = migrate::wait_until_current(&db.pool) => false,
        () = shutdown_signal() => true,
    };
    if interrupted {
        wal.close();
        bail!("interrupted before the schema was current; the WAL still holds {start} records");
    }
    let stop = CancellationToken::new();
    let mut pipeline = write::spawn(
        wal.clone(),
        db.pool.clone(),
        promotion,
        Arc::new(Telemetry::default()),
        config.dead_letter_dir(),
        pipeline_options(&config),
        stop.clone(),
    );
    let signal = shutdown_signal();
    tokio::pin!(signal);
    let outcome = loop {
        let left = wal.stats()?.records;
        if left == 0 {
            break Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
            () = &mut signal => break Err(anyhow::anyhow!("interrupted; the WAL still holds {left} records")),
            ended = &mut pipeline => {
                wal.close();
                return match ended {
                    Ok(Ok(())) => Err(anyhow::anyhow!("the pipeline ended with {left} records left")),
                    Ok(Err(e)) => Err(anyhow::anyhow!("the pipeline stopped with {left} records left: {e}")),
                    Err(e) => Err(anyhow::anyhow!("the pipeline panicked with {left} records left: {e}")),
                };
            }
        }
    };
    stop.cancel();
    if let Ok(Err(e)) = pipeline.await {
        tracing::warn!(error = %e, "pipeline stopped with an error after the drain");
    }
    wal.close();
    outcome?;
    println!("WAL is empty: {start} records loaded");
    Ok(())
}
