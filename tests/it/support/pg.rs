//! A real PostgreSQL for every test: one server per test run, one fresh database per test.
//!
//! The server is, in order of preference: `TEST_DATABASE_URL`; a testcontainers Postgres where a
//! Docker engine answers; a throwaway cluster from the local PostgreSQL binaries. Each test database
//! is cloned from a template that was migrated once, which takes milliseconds. Everything this
//! process created is removed when it exits, also after failed or panicking tests (an `atexit` hook;
//! a SIGKILLed test run still takes its local cluster down through the server's death signal).

use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use ollyscale::db::local_cluster::LocalCluster;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::OnceCell;

/// A fresh, migrated database for one test.
pub struct TestDb {
    /// A pool on the test's database.
    pub pool: PgPool,
    /// The database's connection URL, for spawned servers.
    pub url: String,
    /// The database's name.
    pub name: String,
}

/// The server shared by the whole test run.
struct Server {
    /// Options for the maintenance database (`postgres`, or the one TEST_DATABASE_URL names).
    admin: PgConnectOptions,
    /// Name of the migrated template database.
    template: String,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);
/// What to undo at exit: databases to drop on a user-provided server, a cluster, a container.
static CLEANUP: Mutex<Cleanup> = Mutex::new(Cleanup { databases: Vec::new(), cluster: None, container: None });

struct Cleanup {
    databases: Vec<String>,
    cluster: Option<LocalCluster>,
    container: Option<String>,
}

extern "C" fn cleanup_at_exit() {
    let Ok(mut cleanup) = CLEANUP.lock() else { return };
    if let Some(cluster) = cleanup.cluster.take() {
        cluster.stop();
    }
    if let Some(id) = cleanup.container.take() {
        let _ = std::process::Command::new("docker").args(["rm", "-f", "-v", &id]).output();
    }
    let databases = std::mem::take(&mut cleanup.databases);
    if databases.is_empty() {
        return;
    }
    let Some(server) = SERVER.get() else { return };
    let admin = server.admin.clone();
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    rt.block_on(async move {
        let Ok(mut conn) = admin.connect().await else { return };
        for db in databases.iter().rev() {
            let sql = format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
        }
    });
}

fn docker_answers() -> bool {
    if std::env::var_os("DOCKER_HOST").is_none() && !Path::new("/var/run/docker.sock").exists() {
        return false;
    }
    std::process::Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

async fn start_server() -> Server {
    // SAFETY: registering a plain extern "C" function with no captured state.
    unsafe { libc::atexit(cleanup_at_exit) };
    let admin = if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL is not a valid PostgreSQL URL")
    } else if docker_answers() {
        use testcontainers_modules::postgres::Postgres;
        use testcontainers_modules::testcontainers::runners::AsyncRunner;
        let container = Postgres::default().start().await.expect("start the PostgreSQL container");
        let port = container.get_host_port_ipv4(5432).await.expect("container port");
        let host = container.get_host().await.expect("container host").to_string();
        CLEANUP.lock().unwrap().container = Some(container.id().to_string());
        // The container is removed at exit by id; dropping the handle here must not stop it.
        std::mem::forget(container);
        PgConnectOptions::from_str(&format!("postgres://postgres:postgres@{host}:{port}/postgres")).unwrap()
    } else {
        let dir = std::env::temp_dir().join(format!("ollyscale-test-pg-{}", std::process::id()));
        let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&dir, true))
            .await
            .unwrap()
            .expect("start a throwaway PostgreSQL cluster from the local binaries");
        let url = cluster.url("postgres");
        CLEANUP.lock().unwrap().cluster = Some(cluster);
        PgConnectOptions::from_str(&url).unwrap()
    };
    let admin = admin.disable_statement_logging();
    let template = format!("ollyscale_test_{}_template", std::process::id());
    let mut conn = admin.connect().await.expect("connect to the test PostgreSQL server");
    let create = format!("CREATE DATABASE \"{template}\"");
    sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut conn).await.expect("create the template database");
    CLEANUP.lock().unwrap().databases.push(template.clone());
    conn.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(admin.clone().database(&template))
        .await
        .expect("connect to the template database");
    ollyscale::db::migrate::run(&pool).await.expect("migrate the template database");
    pool.close().await;
    Server { admin, template }
}

/// A new database, cloned from the migrated template, on the run's PostgreSQL server.
pub async fn test_db() -> TestDb {
    let server = SERVER.get_or_init(start_server).await;
    let name = format!("ollyscale_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut conn = server.admin.connect().await.expect("connect to the test PostgreSQL server");
    let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{}\"", server.template);
    // Cloning takes a lock on the template; concurrent clones wait for each other but the server
    // reports "being accessed by other users" if they overlap, so retry briefly.
    let mut attempts = 0;
    loop {
        match sqlx::query(sqlx::AssertSqlSafe(create.clone())).execute(&mut conn).await {
            Ok(_) => break,
            Err(e) if attempts < 50 && e.to_string().contains("being accessed by other users") => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("create test database {name}: {e}"),
        }
    }
    CLEANUP.lock().unwrap().databases.push(name.clone());
    conn.close().await.ok();
    let options = server.admin.clone().database(&name);
    let url = options.to_url_lossy().to_string();
    let pool =
        PgPoolOptions::new().max_connections(8).connect_with(options).await.expect("connect to the test database");
    TestDb { pool, url, name }
}
