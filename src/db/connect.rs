//! Obtaining the database: the configured URL, or a PostgreSQL cluster managed under the data dir.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use super::local_cluster::{ClusterError, LocalCluster};
use crate::config::Config;

/// Why no database could be had.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The database URL does not parse.
    #[error("invalid database URL: {0}")]
    Url(sqlx::Error),
    /// The managed cluster could not start.
    #[error("managed PostgreSQL: {0}")]
    Cluster(#[from] ClusterError),
    /// PostgreSQL refused or could not be reached.
    #[error("PostgreSQL: {0}")]
    Sql(#[from] sqlx::Error),
    /// The schema could not be migrated.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A pool, and the managed cluster behind it when there is one (stopped on drop).
pub struct Database {
    /// The connection pool.
    pub pool: PgPool,
    /// The connection options the pool was made from.
    pub options: PgConnectOptions,
    cluster: Option<LocalCluster>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            cluster.stop();
        }
    }
}

/// Name of the database inside a managed cluster.
const MANAGED_DB: &str = "ollyscale";

/// Connects to the configured database, or starts the managed one (creating its database).
///
/// The pool is lazy: a database that is down now does not stop the caller, queries fail until
/// it is back.
pub async fn open(config: &Config, max_connections: u32) -> Result<Database, ConnectError> {
    let (options, cluster) = match &config.database_url {
        Some(url) => (PgConnectOptions::from_str(url).map_err(ConnectError::Url)?, None),
        None => {
            let dir = std::path::absolute(config.postgres_dir())
                .map_err(|source| ClusterError::Io { path: config.postgres_dir(), source })?;
            let cluster = tokio::task::spawn_blocking(move || LocalCluster::start_private(&dir))
                .await
                .map_err(|e| ClusterError::Command { what: "postgres", detail: e.to_string() })??;
            let admin = cluster.connect_options("postgres");
            let mut conn = admin.connect().await?;
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(MANAGED_DB)
                .fetch_one(&mut conn)
                .await?;
            if !exists {
                sqlx::query("CREATE DATABASE ollyscale").execute(&mut conn).await?;
            }
            conn.close().await?;
            (admin.database(MANAGED_DB), Some(cluster))
        }
    };
    let options = options.disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.clone());
    Ok(Database { pool, options, cluster })
}
