//! Runs the real `ollyscale` binary for a test: free ports, its own data dir, SIGKILL and restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::free_addr;

/// Environment variables as (name, value) pairs.
type Env = Vec<(String, String)>;

/// A running `ollyscale serve` process.
pub struct Server {
    /// The running server's pid (tied to this test process: it gets SIGKILL if we die).
    pid: Option<u32>,
    /// Data directory (WAL) of this server; kept across restarts.
    pub data_dir: PathBuf,
    /// Database URL it uses; None for its own managed PostgreSQL.
    pub database_url: Option<String>,
    /// OTLP/gRPC address.
    pub grpc: SocketAddr,
    /// OTLP/HTTP address.
    pub http: SocketAddr,
    /// API address.
    pub api: SocketAddr,
    extra: Vec<String>,
    /// A whole command line to run instead of `serve --data-dir ... <extra>`, with its environment.
    command: Option<(Vec<String>, Env)>,
    log: PathBuf,
}

/// Whether `pid` still exists (its keeper thread reaps it as soon as it exits).
fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// Waits up to `limit` for `pid` to be gone; false if it is still there.
fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// How often a first start picks fresh ports after another process took one of its ports.
const START_ATTEMPTS: u32 = 5;

impl Server {
    /// Starts a server on fresh ports with `data_dir` and `database_url`, plus `extra` flags, and waits
    /// until its receivers answer.
    pub fn start(data_dir: &Path, database_url: &str, extra: &[&str]) -> Server {
        Self::start_with(data_dir, Some(database_url), extra)
    }

    /// Starts a server with no database configured: it manages its own PostgreSQL under `data_dir`.
    pub fn start_managed(data_dir: &Path) -> Server {
        Self::start_with(data_dir, None, &[])
    }

    /// Starts `ollyscale` with exactly `args` and `env` (a role's command line as a manifest gives it), on
    /// fresh ports given through `OLLYSCALE_*_LISTEN`, logging into `data_dir`, and waits until it listens.
    pub fn start_command(data_dir: &Path, args: &[String], env: &[(String, String)]) -> Server {
        let mut s = Self::new(data_dir, None, args.iter().map(String::as_str));
        s.command = Some((args.to_vec(), env.to_vec()));
        s.spawn_on_fresh_ports();
        s
    }

    fn start_with(data_dir: &Path, database_url: Option<&str>, extra: &[&str]) -> Server {
        let mut s = Self::new(data_dir, database_url, extra.iter().copied());
        s.spawn_on_fresh_ports();
        s
    }

    /// Spawns the server; when it could not bind a port (another process took it after it was picked), again
    /// on fresh ports.
    fn spawn_on_fresh_ports(&mut self) {
        for attempt in 1..=START_ATTEMPTS {
            match self.spawn() {
                Ok(()) => return,
                Err(log) if attempt < START_ATTEMPTS && log.contains("Address already in use") => {
                    self.grpc = free_addr();
                    self.http = free_addr();
                    self.api = free_addr();
                }
                Err(_) => break,
            }
        }
        panic!("ollyscale exited; log:\n{}", self.log_text());
    }

    fn new<'a>(data_dir: &Path, database_url: Option<&str>, extra: impl Iterator<Item = &'a str>) -> Server {
        Server {
            pid: None,
            data_dir: data_dir.to_path_buf(),
            database_url: database_url.map(str::to_string),
            grpc: free_addr(),
            http: free_addr(),
            api: free_addr(),
            extra: extra.map(str::to_string).collect(),
            command: None,
            log: data_dir.join("server.log"),
        }
    }

    /// Spawns the server and waits until it listens; if it exits first, what it logged.
    fn spawn(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(&self.data_dir).unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let logged_before = log.metadata().map_or(0, |m| m.len() as usize);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ollyscale"));
        cmd.env("RUST_LOG", "info,sqlx=warn").env_remove("OLLYSCALE_CONFIG").env_remove("OLLYSCALE_DATABASE_URL");
        match &self.command {
            Some((args, env)) => {
                cmd.args(args)
                    .env("OLLYSCALE_GRPC_LISTEN", self.grpc.to_string())
                    .env("OLLYSCALE_HTTP_LISTEN", self.http.to_string())
                    .env("OLLYSCALE_API_LISTEN", self.api.to_string())
                    .envs(env.iter().map(|(k, v)| (k, v)));
            }
            None => {
                cmd.arg("serve").arg("--data-dir").arg(&self.data_dir);
                if let Some(url) = &self.database_url {
                    cmd.arg("--database-url").arg(url);
                }
                cmd.arg("--grpc-listen")
                    .arg(self.grpc.to_string())
                    .arg("--http-listen")
                    .arg(self.http.to_string())
                    .arg("--api-listen")
                    .arg(self.api.to_string())
                    .args(&self.extra);
            }
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        // Tied to this process, so that an aborted test run leaves no server behind.
        let pid = ollyscale::db::local_cluster::spawn_tied(cmd, libc::SIGKILL).expect("spawn ollyscale");
        self.pid = Some(pid);
        if self.wait_listening() {
            Ok(())
        } else {
            Err(self.log_text().get(logged_before..).unwrap_or_default().to_string())
        }
    }

    /// Waits until the server listens on its ports (true) or exits (false).
    fn wait_listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        let api_only = self.extra.windows(2).any(|w| w[0] == "--role" && w[1] == "api");
        let ports = if api_only { vec![self.api] } else { vec![self.grpc, self.http, self.api] };
        loop {
            let up = ports.iter().all(|a| std::net::TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok());
            if up {
                return true;
            }
            if self.pid.is_some_and(|pid| !alive(pid)) {
                return false;
            }
            assert!(Instant::now() < deadline, "ollyscale did not listen within 60s; log:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILLs the server (no shutdown code runs) and waits for it to be gone.
    pub fn kill9(&mut self) {
        if let Some(pid) = self.pid.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            wait_gone(pid, Duration::from_secs(30));
        }
    }

    /// Starts the server again on the same ports and data dir.
    pub fn restart(&mut self) {
        self.kill9();
        if self.spawn().is_err() {
            panic!("ollyscale exited; log:\n{}", self.log_text());
        }
    }

    /// Asks the server to stop (SIGTERM) and waits up to 30 s.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            if !wait_gone(pid, Duration::from_secs(30)) {
                // SAFETY: as above.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                wait_gone(pid, Duration::from_secs(30));
            }
        }
    }

    /// Base URL of the OTLP/HTTP receiver.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Base URL of the OTLP/gRPC receiver.
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Base URL of the API.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}
