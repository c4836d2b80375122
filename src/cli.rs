//! The command line: `ollyscale serve | migrate | maintain | drain | health | wal | loadgen`.

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::logging::LogFormat;

/// OTLP ingestion and query server: durable WAL in front of a PostgreSQL star schema.
#[derive(Parser, Debug)]
#[command(name = "ollyscale", version, about, long_about = None)]
pub struct Cli {
    /// Settings shared by every subcommand (flags > OLLYSCALE_* environment > --config file > defaults).
    #[command(flatten)]
    pub settings: Settings,
    /// Log line format on stderr: text (coloured only on a terminal, never with NO_COLOR set) or json.
    #[arg(long, env = "OLLYSCALE_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: OTLP receivers (4317 gRPC, 4318 HTTP), ingest pipeline and query API (8080).
    ///
    /// Without --database-url it starts and manages its own PostgreSQL under --data-dir.
    Serve,
    /// Apply the schema migrations to the database and exit.
    Migrate,
    /// Create partitions ahead and drop those past retention, then exit.
    Maintain,
    /// Load every record still in the WAL under --data-dir into PostgreSQL, then exit once the WAL is empty.
    ///
    /// For a receiver's volume after scale-down; the server using that WAL must be stopped.
    Drain,
    /// Probe the local server's readiness (GET /readyz on the API port); exit 0 when ready, 1 otherwise.
    Health {
        /// URL to probe instead of http://127.0.0.1:<api-listen port>/readyz.
        #[arg(long)]
        url: Option<String>,
    },
    /// Inspect the write-ahead log under --data-dir (the server may be stopped).
    #[command(subcommand)]
    Wal(WalCommand),
    /// Send synthetic OTLP traffic to a receiver and summarise throughput and acknowledgement latency.
    Loadgen(crate::loadgen::LoadArgs),
}

/// `ollyscale wal ...`.
#[derive(Subcommand, Debug)]
pub enum WalCommand {
    /// Records, bytes, oldest record age and the ingest checkpoint.
    Stats,
    /// A human-readable summary of records.
    Dump {
        /// First sequence to show (default: the oldest record).
        #[arg(long)]
        from: Option<u64>,
        /// How many records to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Records PostgreSQL rejected permanently, with their errors.
    DeadLetters {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}
