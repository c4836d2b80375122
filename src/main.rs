//! The `ollyscale` binary: parses settings and runs a subcommand.

use std::process::ExitCode;

use clap::Parser;
use ollyscale::cli::{Cli, Command};
use ollyscale::commands;
use ollyscale::logging::LogFormat;

// Decoding OTLP allocates a string per attribute key and value, and glibc's malloc and free took ~15% of
// the machine's CPU in a profile of an end-to-end load (malloc_consolidate, _int_free among the top symbols).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ollyscale::logging::init(cli.log_format);
    // rustls picks a crypto provider for the whole process only when exactly one is compiled in; tonic's TLS and
    // sqlx's use that default, so name ours (ring) rather than depend on which features the build unified.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // vars_os: a variable that is not UTF-8 must not panic here; its name is still checked.
    let vars = std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()));
    let result = ollyscale::config::check_environment(vars, &ollyscale::cli::env_vars())
        .map_err(anyhow::Error::from)
        .and_then(|()| run(cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match cli.log_format {
                // A log pipeline parses every line: the reason for exiting is one of them.
                LogFormat::Json => tracing::error!(error = format!("{e:#}"), "ollyscale: stopped"),
                LogFormat::Text => eprintln!("ollyscale: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs the subcommand; a setting that cannot be used stops it before anything starts.
fn run(command: Command) -> anyhow::Result<()> {
    // Named, so that a profile or `top -H` tells the CPU work (decode, normalize, encode) from the async
    // workers; unnamed, rayon's threads take the name of the tokio worker that first used the pool.
    rayon::ThreadPoolBuilder::new().thread_name(|i| format!("rayon-{i}")).build_global()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match command {
            Command::Serve(settings) => commands::serve::run(settings.resolve()?).await,
            Command::Migrate(settings) => commands::migrate::run(settings.resolve()?).await,
            Command::Maintain(settings) => commands::maintain::run(settings.resolve()?).await,
            Command::Drain(settings) => commands::drain::run(settings.resolve()?).await,
            Command::Health { url, settings } => commands::health::run(settings.resolve()?, url).await,
            Command::Wal { command, settings } => commands::wal::run(settings.resolve()?, command).await,
            Command::Loadgen(args) => {
                let summary = ollyscale::loadgen::run(args).await?;
                println!("{summary}");
                Ok(())
            }
        }
    })
}
