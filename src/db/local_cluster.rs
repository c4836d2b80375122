//! A PostgreSQL cluster run from the local PostgreSQL binaries, owned by this process.
//!
//! `ollyscale serve` uses it when no database URL is configured, and the test harness uses it for a
//! throwaway cluster. The `postgres` server refuses to run as root, so as root the cluster's files
//! belong to the `postgres` system user and the binaries run under that uid.
//!
//! The cluster trusts every connection it accepts (`initdb -A trust`), so `serve`'s cluster
//! ([`LocalCluster::start_private`]) listens only on its unix socket, in the cluster's directory (mode 0700):
//! only this OS user (and root) can reach it, and no TCP port is taken. The test harness's clusters
//! ([`LocalCluster::start`]) listen on a loopback TCP port too, for the server processes, TLS and tools the
//! tests point at them.
//!
//! The server process is started from a dedicated thread that lives as long as this process, with
//! `PR_SET_PDEATHSIG`, so that a SIGKILLed owner does not leave a PostgreSQL server behind
//! (the kernel ties the death signal to the spawning thread, hence the dedicated thread).

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Errors starting or stopping a local cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "no PostgreSQL server binaries found (looked on PATH and in /usr/lib/postgresql/*/bin); install the \
         PostgreSQL server (Debian/Ubuntu: apt-get install postgresql) or pass --database-url"
    )]
    BinariesNotFound,
    /// Running as root but no `postgres` user exists to own the cluster.
    #[error("running as root and there is no `postgres` user to run PostgreSQL as; create one or pass --database-url")]
    NoPostgresUser,
    /// A command (initdb, postgres) failed.
    #[error("{what} failed: {detail}")]
    Command {
        /// Which step failed.
        what: &'static str,
        /// Its output or the OS error.
        detail: String,
    },
    /// The server did not accept connections in time.
    #[error("PostgreSQL did not start within {0:?}; see {1}")]
    StartTimeout(Duration, PathBuf),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError + '_ {
    move |source| ClusterError::Io { path: path.to_path_buf(), source }
}

/// Where the PostgreSQL server binaries (`initdb`, `postgres`) live: the newest
/// `/usr/lib/postgresql/<major>/bin`, else the directory of `initdb` on PATH.
pub fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists())
        .ok_or(ClusterError::BinariesNotFound)
}

/// The uid/gid to run PostgreSQL as: `None` to run as ourselves, `Some` when we are root.
fn run_as() -> Result<Option<(u32, u32)>, ClusterError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = c"postgres";
    // SAFETY: getpwnam reads a NUL-terminated name; the result is copied before any other call.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(ClusterError::NoPostgresUser);
    }
    // SAFETY: pw is non-null and points to a passwd struct valid until the next getpw* call.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

fn command(bin: &Path, user: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(bin);
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
        // A root HOME is unreadable for the postgres user; some locales look there.
        cmd.env("HOME", "/tmp");
    }
    cmd.env("LC_ALL", "C");
    cmd
}

fn chown_recursive(path: &Path, uid: u32, gid: u32) -> Result<(), ClusterError> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io_err(path))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io_err(path))? {
            let entry = entry.map_err(io_err(path))?;
            chown_recursive(&entry.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Picks a free TCP port on the loopback interface.
fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_err(Path::new("127.0.0.1:0")))?;
    let port = listener.local_addr().map_err(io_err(Path::new("127.0.0.1:0")))?.port();
    Ok(port)
}

/// The port number of a cluster without TCP: it only names the socket file, in the cluster's own directory.
const SOCKET_ONLY_PORT: u16 = 5432;

/// A running PostgreSQL server started from local binaries.
pub struct LocalCluster {
    dir: PathBuf,
    port: u16,
    pid: u32,
    remove_on_stop: bool,
}

impl LocalCluster {
    /// Starts (creating with initdb on first use) a cluster whose files live in `dir`, on a free port.
    ///
    /// `dir` must be traversable by the `postgres` user when running as root. With `throwaway`, the
    /// directory is removed by [`LocalCluster::stop`].
    pub fn start(dir: &Path, throwaway: bool) -> Result<Self, ClusterError> {
        Self::start_on(dir, throwaway, None)
    }

    /// As [`LocalCluster::start`], on `port` when given (a restarted cluster keeps its clients' URLs).
    pub fn start_on(dir: &Path, throwaway: bool, port: Option<u16>) -> Result<Self, ClusterError> {
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        Self::launch(dir, throwaway, port, true)
    }

    /// Starts (creating with initdb on first use) a cluster in `dir` that listens only on its unix socket in
    /// `dir`, for this process alone: see [`LocalCluster::connect_options`]. Keeps its files on stop.
    pub fn start_private(dir: &Path) -> Result<Self, ClusterError> {
        Self::launch(dir, false, SOCKET_ONLY_PORT, false)
    }

    fn launch(dir: &Path, throwaway: bool, port: u16, tcp: bool) -> Result<Self, ClusterError> {
        let bin = find_bin_dir()?;
        let user = run_as()?;
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let data = dir.join("data");
        if let Some((uid, gid)) = user {
            chown_recursive(dir, uid, gid)?;
            // The postgres user must be able to reach the directory through its parents.
            let mut perms = std::fs::metadata(dir).map_err(io_err(dir))?.permissions();
            perms.set_mode(0o700);
            std::fs::set_permissions(dir, perms).map_err(io_err(dir))?;
        }
        if !data.join("PG_VERSION").exists() {
            let out = command(&bin.join("initdb"), user)
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
                .output()
                .map_err(|e| ClusterError::Command { what: "initdb", detail: e.to_string() })?;
            if !out.status.success() {
                return Err(ClusterError::Command {
                    what: "initdb",
                    detail: String::from_utf8_lossy(&out.stderr).into_owned(),
                });
            }
        }
        // A stale pid file from a killed server would stop the new one from starting; postgres itself
        // checks whether that pid still runs, so only remove it when it does not.
        let pid_file = data.join("postmaster.pid");
        if let Ok(text) = std::fs::read_to_string(&pid_file) {
            let stale = text
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<i32>().ok())
                // SAFETY: kill with signal 0 only checks for existence.
                .is_none_or(|pid| unsafe { libc::kill(pid, 0) } != 0);
            if stale {
                let _ = std::fs::remove_file(&pid_file);
            }
        }
        let log = dir.join("postgres.log");
        let log_file = std::fs::File::create(&log).map_err(io_err(&log))?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&log, Some(uid), Some(gid)).map_err(io_err(&log))?;
        }
        let mut cmd = command(&bin.join("postgres"), user);
        cmd.arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-h", if tcp { "127.0.0.1" } else { "" }, "-k"])
            .arg(dir)
            .args(["-c", "fsync=on", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        let pid = spawn_kept(cmd)?;
        let cluster = LocalCluster { dir: dir.to_path_buf(), port, pid, remove_on_stop: throwaway };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let accepting = if tcp {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            } else {
                UnixStream::connect(cluster.socket_path()).is_ok()
            };
            if accepting && data.join("postmaster.pid").exists() {
                // Accepting connections is not yet accepting queries; ready is signalled in the pid file.
                let ready = std::fs::read_to_string(data.join("postmaster.pid"))
                    .map(|t| t.lines().any(|l| l.trim() == "ready"))
                    .unwrap_or(false);
                if ready {
                    return Ok(cluster);
                }
            }
            // SAFETY: kill with signal 0 only checks for existence.
            if unsafe { libc::kill(pid as i32, 0) } != 0 {
                let detail = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(ClusterError::Command { what: "postgres", detail });
            }
            if Instant::now() > deadline {
                return Err(ClusterError::StartTimeout(Duration::from_secs(30), log));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port the server listens on: TCP on 127.0.0.1 (and the socket's name) for a cluster from
    /// [`LocalCluster::start`], the socket's name alone for one from [`LocalCluster::start_private`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A TCP connection URL for `database` as the `postgres` superuser (a cluster from [`LocalCluster::start`]).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, database)
    }

    /// Connection options for `database` as the `postgres` superuser over the unix socket, which every
    /// cluster has (no TLS: it would protect nothing on a socket).
    pub fn connect_options(&self, database: &str) -> sqlx::postgres::PgConnectOptions {
        sqlx::postgres::PgConnectOptions::new_without_pgpass()
            .socket(&self.dir)
            .ssl_mode(sqlx::postgres::PgSslMode::Disable)
            .port(self.port)
            .username("postgres")
            .database(database)
    }

    fn socket_path(&self) -> PathBuf {
        self.dir.join(format!(".s.PGSQL.{}", self.port))
    }

    /// Stops the server as `pg_ctl stop -m immediate` does (SIGQUIT: no checkpoint, transactions in flight are
    /// cut, crash recovery runs at the next start), and waits for it to be gone. Keeps the files.
    pub fn kill_immediate(&self) {
        // SAFETY: signalling the postmaster this process started.
        unsafe { libc::kill(self.pid as i32, libc::SIGQUIT) };
        // SAFETY: existence check only.
        while unsafe { libc::kill(self.pid as i32, 0) } == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server (fast shutdown, then immediate) and removes a throwaway cluster's files.
    pub fn stop(&self) {
        stop_pid(self.pid);
        if self.remove_on_stop {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Stops a postmaster: SIGINT (fast shutdown) and, if it lingers, SIGQUIT (immediate).
fn stop_pid(pid: u32) {
    let pid = pid as i32;
    // SAFETY: sending a signal to a pid we started.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: existence check only.
    while unsafe { libc::kill(pid, 0) } == 0 {
        if Instant::now() > deadline {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGQUIT) };
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Spawns `cmd` so that it receives `signal` when this process dies, however it dies, and reaps it
/// when it exits; returns its pid.
///
/// The kernel sends PR_SET_PDEATHSIG when the spawning *thread* exits, so the child is spawned from a
/// thread that stays (parked) for the life of the process.
pub fn spawn_tied(mut cmd: Command, signal: i32) -> std::io::Result<u32> {
    let (tx, rx) = mpsc::channel::<std::io::Result<u32>>();
    std::thread::Builder::new().name("child-keeper".into()).spawn(move || {
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, signal);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(mut child) => {
                let _ = tx.send(Ok(child.id()));
                let _ = child.wait();
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
        loop {
            std::thread::park();
        }
    })?;
    rx.recv().map_err(std::io::Error::other)?
}

/// Spawns the postmaster tied to this process: SIGQUIT makes it shut down immediately, backends included.
fn spawn_kept(cmd: Command) -> Result<u32, ClusterError> {
    spawn_tied(cmd, libc::SIGQUIT).map_err(|e| ClusterError::Command { what: "postgres", detail: e.to_string() })
}
