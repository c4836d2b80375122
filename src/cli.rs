//! The command line: `ollyscale serve | migrate | maintain | drain | health | wal | loadgen`.
//!
//! The subcommands that work on a server's data, database or port (all but `loadgen`) take the server's
//! [`Settings`], so that they read the same flags, `OLLYSCALE_*` variables and `--config` file as the
//! server they act for; `loadgen` is a client and takes only its own arguments.

use std::collections::BTreeSet;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::Settings;
use crate::logging::LogFormat;

/// OTLP ingestion and query server: durable WAL in front of a PostgreSQL star schema.
#[derive(Parser, Debug)]
#[command(name = "ollyscale", version, about, long_about = None)]
pub struct Cli {
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
    Serve(Settings),
    /// Apply the schema migrations to the database and exit.
    Migrate(Settings),
    /// Create partitions ahead and drop those past retention, then exit.
    Maintain(Settings),
    /// Load every record still in the WAL under --data-dir into PostgreSQL, then exit once the WAL is empty.
    ///
    /// For a receiver's volume after scale-down; the server using that WAL must be stopped.
    Drain(Settings),
    /// Probe the local server's readiness (GET /readyz on the API port); exit 0 when ready, 1 otherwise.
    Health {
        /// URL to probe instead of http://127.0.0.1:<api-listen port>/readyz.
        #[arg(long)]
        url: Option<String>,
        /// The server's settings (its --api-listen gives the URL).
        #[command(flatten)]
        settings: Settings,
    },
    /// Inspect the write-ahead log under --data-dir (the server may be stopped).
    Wal {
        /// What to show.
        #[command(subcommand)]
        command: WalCommand,
        /// The server's settings (where its WAL and database are).
        #[command(flatten)]
        settings: Settings,
    },
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

/// Every `OLLYSCALE_*` variable some subcommand reads, from the clap definitions.
pub fn env_vars() -> BTreeSet<String> {
    fn walk(command: &clap::Command, into: &mut BTreeSet<String>) {
        into.extend(command.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into_owned()));
        for sub in command.get_subcommands() {
            walk(sub, into);
        }
    }
    let mut vars = BTreeSet::new();
    walk(&Cli::command(), &mut vars);
    vars
}
