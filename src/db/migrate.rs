//! The schema migrations in `migrations/`, embedded in the binary at build time.

use sqlx::PgPool;
use sqlx::migrate::{MigrateError, Migrator};

/// Every migration of `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies the migrations that `pool`'s database has not had yet; a no-op when it is current.
pub async fn run(pool: &PgPool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}
