//! `ollyscale migrate`: apply the embedded schema migrations.

use crate::config::Config;
use crate::db::{connect, migrate};

/// Applies every pending migration, then runs partition maintenance so the new schema can take rows.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = connect::open(&config, 2).await?;
    migrate::run(&db.pool).await?;
    let report = super::maintain::maintain_once(&db.pool, &config).await?;
    tracing::info!(?report, "schema is current");
    println!("schema is current ({} migrations)", migrate::MIGRATOR.iter().count());
    Ok(())
}
