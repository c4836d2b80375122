//! `ollyscale maintain`: partitions ahead, retention behind, span rollups compacted.

use sqlx::PgPool;

use crate::config::Config;
use crate::db::connect;
use crate::db::partitions::{self, MaintenanceReport, Retention};

/// The retention the configuration asks for.
pub fn retention(config: &Config) -> Retention {
    Retention { traces: config.retention_traces, logs: config.retention_logs, metrics: config.retention_metrics }
}

/// One maintenance pass at the current time.
pub async fn maintain_once(pool: &PgPool, config: &Config) -> Result<MaintenanceReport, partitions::PartitionError> {
    partitions::maintain(pool, chrono::Utc::now(), &retention(config), config.partitions_ahead).await
}

/// Runs one maintenance pass and prints what it did.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = connect::open(&config, 2).await?;
    let report = maintain_once(&db.pool, &config).await?;
    println!("{report}");
    let moved = crate::write::compact::compact_rollups(&db.pool, chrono::Utc::now()).await?;
    println!("span rollups: {moved} minute rows compacted into ten-minute slots");
    Ok(())
}
