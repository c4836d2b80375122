//! `ollyscale wal ...`: inspect the write-ahead log (stats, dump, dead letters).

use crate::cli::WalCommand;
use crate::config::Config;
use crate::schema::Signal;

/// Runs one `wal` subcommand against the WAL under the data dir.
pub async fn run(config: Config, command: WalCommand) -> anyhow::Result<()> {
    let wal = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || super::serve::open_wal(&config)).await??
    };
    match command {
        WalCommand::Stats => {
            let s = wal.stats()?;
            println!("wal id          {}", wal.id());
            println!("records         {}", s.records);
            println!("live bytes      {}", s.bytes);
            println!("disk bytes      {}", s.disk_bytes);
            println!("budget bytes    {}", s.budget_bytes);
            println!("first seq       {}", s.first_seq.map_or("-".into(), |v| v.to_string()));
            println!("last seq        {}", s.last_seq.map_or("-".into(), |v| v.to_string()));
            println!("truncated thru  {}", s.truncated_through.map_or("-".into(), |v| v.to_string()));
            println!("oldest age      {}", s.oldest_age().map_or("-".into(), |d| format!("{:.1}s", d.as_secs_f64())));
            println!("segments        {}", s.segments);
            match checkpoint(&config, wal.id()).await {
                Ok(Some(seq)) => println!("checkpoint      {seq} (committed to PostgreSQL)"),
                Ok(None) => println!("checkpoint      - (nothing committed yet)"),
                Err(e) => println!("checkpoint      unknown ({e})"),
            }
        }
        WalCommand::Dump { from, limit } => {
            let from = from.or(wal.stats()?.first_seq).unwrap_or(0);
            for r in wal.summaries(from, limit)? {
                let at = chrono::DateTime::from_timestamp_nanos(r.received_at_unix_nanos as i64);
                println!(
                    "{:>10}  {:<7}  {}  {:>9} bytes",
                    r.seq,
                    Signal::from_wal_kind(r.kind).map_or("?", |s| s.as_str()),
                    at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                    r.payload_len
                );
            }
        }
        WalCommand::DeadLetters { limit } => {
            let store = crate::write::DeadLetterStore::new(config.dead_letter_dir());
            let letters = store.list()?;
            if letters.is_empty() {
                println!("no dead letters in {}", config.dead_letter_dir().display());
            }
            for d in letters.iter().take(limit) {
                let at = chrono::DateTime::from_timestamp_nanos(d.received_at_unix_nanos as i64);
                println!(
                    "{:>10}  {:<7}  {}  {:>9} bytes  {}",
                    d.seq,
                    d.signal.map_or("?", |s| s.as_str()),
                    at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                    d.payload.len(),
                    d.error
                );
            }
        }
    }
    wal.close();
    Ok(())
}

/// The ingest checkpoint of this WAL in PostgreSQL, if the database is reachable.
async fn checkpoint(config: &Config, wal_id: &str) -> anyhow::Result<Option<i64>> {
    if config.database_url.is_none() {
        anyhow::bail!("no --database-url (the managed database is not started by this command)");
    }
    let db = crate::db::connect::open(config, 1).await?;
    let seq = sqlx::query_scalar::<_, i64>("SELECT last_seq FROM ingest_checkpoints WHERE wal_id = $1")
        .bind(wal_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(seq)
}
