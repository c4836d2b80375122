//! The `ollyscale` binary: parses settings and runs a subcommand.

use std::process::ExitCode;

use clap::Parser;
use ollyscale::cli::{Cli, Command};
use ollyscale::commands;

// Decoding OTLP allocates a string per attribute key and value, and glibc's malloc and free took ~15% of
// the machine's CPU in a profile of an end-to-end load (malloc_consolidate, _int_free among the top symbols).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = ollyscale::config::check_environment(std::env::vars().map(|(k, _)| k))
        .map_err(anyhow::Error::from)
        .and_then(|()| cli.settings.resolve().map_err(anyhow::Error::from))
        .and_then(|config| {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async {
                match cli.command {
                    Command::Serve => commands::serve::run(config).await,
                    Command::Migrate => commands::migrate::run(config).await,
                    Command::Maintain => commands::maintain::run(config).await,
                    Command::Wal(c) => commands::wal::run(config, c).await,
                    Command::Loadgen(args) => {
                        let summary = ollyscale::loadgen::run(args).await?;
                        println!("{summary}");
                        Ok(())
                    }
                }
            })
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ollyscale: {e:#}");
            ExitCode::FAILURE
        }
    }
}
