//! The Kubernetes deployment (deploy/): what the manifests say, checked against the product's own CLI and
//! settings, and each role's command line from them run against a real PostgreSQL.

mod drain;
mod manifests;
mod roles;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `deploy/` directory.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Runs the `ollyscale` binary with `args` and `env` (and nothing of the test's own OLLYSCALE_* settings).
pub fn ollyscale(args: &[String], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ollyscale"));
    cmd.args(args)
        .env("RUST_LOG", "info,sqlx=warn")
        .env_remove("OLLYSCALE_CONFIG")
        .env_remove("OLLYSCALE_DATABASE_URL");
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.output().expect("run ollyscale")
}

/// stdout and stderr of a finished command.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `ollyscale wal stats` of a stopped server's data dir: the number of records left.
pub fn wal_records_left(data_dir: &Path) -> u64 {
    let out = ollyscale(&["wal".into(), "stats".into(), "--data-dir".into(), data_dir.display().to_string()], &[]);
    assert!(out.status.success(), "wal stats: {}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    t.lines()
        .find(|l| l.starts_with("records"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no record count in: {t}"))
}
