//! The ingest checkpoint of a WAL in PostgreSQL: the highest sequence whose data is committed, locked and
//! advanced in each batch's transaction.

use sqlx::{PgConnection, PgPool};

use super::WriteError;

/// Reads the committed checkpoint of a WAL: the highest sequence whose data is in the database.
pub async fn read_checkpoint(pool: &PgPool, wal_id: &str) -> Result<Option<u64>, sqlx::Error> {
    let row: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM ingest_checkpoints WHERE wal_id = $1")
        .bind(wal_id)
        .fetch_optional(pool)
        .await?;
    // The writer only stores sequences converted from u64, so a negative value was written by someone else.
    Ok(row.map(|s| u64::try_from(s).unwrap_or(0)))
}

pub(super) fn seq_i64(seq: u64) -> Result<i64, WriteError> {
    i64::try_from(seq).map_err(|_| WriteError::SeqOutOfRange(seq))
}

/// Locks this WAL's checkpoint row and refuses the batch if the checkpoint already covers its first record,
/// so that two attempts at the same records (a retry after a COMMIT whose outcome was lost, or two writers of
/// one WAL) cannot both commit them: the second waits for the first's COMMIT here, then sees its checkpoint.
/// The row must exist to be locked: the first batch of a WAL creates it, and a concurrent one waits on that.
pub(super) async fn lock_checkpoint(conn: &mut PgConnection, wal_id: &str, first_seq: u64) -> Result<(), WriteError> {
    sqlx::query("INSERT INTO ingest_checkpoints (wal_id, last_seq) VALUES ($1, 0) ON CONFLICT (wal_id) DO NOTHING")
        .bind(wal_id)
        .execute(&mut *conn)
        .await?;
    let committed: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM ingest_checkpoints WHERE wal_id = $1 FOR UPDATE")
            .bind(wal_id)
            .fetch_optional(&mut *conn)
            .await?;
    match committed {
        Some(cp) if cp >= seq_i64(first_seq)? => {
            Err(WriteError::AlreadyCommitted { first_seq, checkpoint: u64::try_from(cp).unwrap_or(0) })
        }
        _ => Ok(()),
    }
}

pub(super) async fn upsert_checkpoint(conn: &mut PgConnection, wal_id: &str, seq: i64) -> Result<(), sqlx::Error> {
    // GREATEST: a checkpoint never goes backwards, whatever order writers commit in.
    sqlx::query(
        "INSERT INTO ingest_checkpoints (wal_id, last_seq, updated_at) VALUES ($1, $2, now()) \
         ON CONFLICT (wal_id) DO UPDATE \
         SET last_seq = GREATEST(ingest_checkpoints.last_seq, EXCLUDED.last_seq), updated_at = now()",
    )
    .bind(wal_id)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(())
}
