//! The schema migrations in `migrations/`, embedded in the binary at build time.

use sqlx::PgPool;
use sqlx::migrate::{MigrateError, Migrator};

/// Every migration of `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies the migrations that `pool`'s database has not had yet; a no-op when it is current.
pub async fn run(pool: &PgPool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}

/// Versions of the embedded migrations that `pool`'s database has not applied (successfully). Reads
/// `_sqlx_migrations` only, so a role with SELECT rights can ask; a database never migrated has them all.
pub async fn pending(pool: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await {
            Ok(v) => v,
            // 42P01 undefined_table: no migration has run yet.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e),
        };
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| m.version)
        .collect())
}

/// Returns once every embedded migration is applied, polling while the database is away or behind (another
/// process, such as `ollyscale migrate`, applies them).
pub async fn wait_until_current(pool: &PgPool) {
    let mut said = false;
    loop {
        match pending(pool).await {
            Ok(p) if p.is_empty() => return,
            Ok(p) if !said => {
                tracing::warn!(pending = ?p, "the schema is not migrated yet (run `ollyscale migrate`); waiting");
                said = true;
            }
            Err(e) if !said => {
                tracing::warn!(error = %e, "cannot read the schema version yet; waiting");
                said = true;
            }
            _ => {}
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}
