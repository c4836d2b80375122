//! Each production role's exact command line from the manifests, run here against a real PostgreSQL in the
//! order of a rollout: the migration Job, the receivers, the API with a SELECT-only role (granted by the
//! CloudNativePG Cluster's own bootstrap SQL), the smoke test through both, then the drain of a receiver's
//! volume. Every process also sees the service-link variables Kubernetes injects when they are not turned off.

use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use serde_json::Value;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use super::manifests::{args, container, find, overlay, settings_file};
use super::{deploy_dir, ollyscale, text, wal_records_left};
use crate::support::pg::test_db;
use crate::support::server::Server;

const TOKEN: &str = "smoke-token-0123456789";

/// What Kubernetes puts into a pod's environment for the Service `ollyscale` and CloudNativePG's
/// `ollyscale-db-rw` when `enableServiceLinks` is on.
fn service_links() -> Vec<(String, String)> {
    [
        ("OLLYSCALE_SERVICE_HOST", "10.96.0.10"),
        ("OLLYSCALE_SERVICE_PORT", "4317"),
        ("OLLYSCALE_SERVICE_PORT_OTLP_GRPC", "4317"),
        ("OLLYSCALE_PORT", "tcp://10.96.0.10:4317"),
        ("OLLYSCALE_PORT_4317_TCP", "tcp://10.96.0.10:4317"),
        ("OLLYSCALE_PORT_4317_TCP_PROTO", "tcp"),
        ("OLLYSCALE_PORT_4317_TCP_PORT", "4317"),
        ("OLLYSCALE_PORT_4317_TCP_ADDR", "10.96.0.10"),
        ("OLLYSCALE_DB_RW_SERVICE_HOST", "10.96.0.11"),
        ("OLLYSCALE_DB_RW_PORT_5432_TCP", "tcp://10.96.0.11:5432"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A workload's command line and environment as the pod would get them: secrets resolved by `secret`, the
/// settings file at `config`, the data dir at `data_dir` (the pod's volume).
fn command_line(
    workload: &Value,
    config: &Path,
    data_dir: &Path,
    secret: &dyn Fn(&str, &str) -> String,
) -> (Vec<String>, Vec<(String, String)>) {
    let mut argv = args(workload);
    let at = argv.iter().position(|a| a == "--config").expect("--config") + 1;
    argv[at] = config.display().to_string();
    let mut env = service_links();
    env.push(("OLLYSCALE_DATA_DIR".into(), data_dir.display().to_string()));
    for e in container(workload)["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap().to_string();
        let value = match e["value"].as_str() {
            Some(v) => v.to_string(),
            None => {
                let r = &e["valueFrom"]["secretKeyRef"];
                secret(r["name"].as_str().unwrap(), r["key"].as_str().unwrap())
            }
        };
        env.push((name, value));
    }
    (argv, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_runs_from_its_manifest_against_one_database() {
    let docs = overlay("production");
    let db = test_db().await;
    // A database the migration Job finds empty.
    sqlx::query("DROP SCHEMA public CASCADE").execute(&db.pool).await.unwrap();
    sqlx::query("CREATE SCHEMA public").execute(&db.pool).await.unwrap();
    let owner: String = sqlx::query_scalar("SELECT current_user").fetch_one(&db.pool).await.unwrap();
    let api_role = format!("{}_api", db.name);
    // The Cluster's bootstrap SQL, for this database, its owner and a role name of this test's own.
    let bootstrap = find(&docs, "Cluster", "ollyscale-db")["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap()
                .replace("ollyscale_api", &format!("\"{api_role}\""))
                .replace("DATABASE ollyscale", &format!("DATABASE \"{}\"", db.name))
                .replace("FOR ROLE ollyscale", &format!("FOR ROLE \"{owner}\""))
        })
        .collect::<Vec<_>>();
    for statement in &bootstrap {
        sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(&db.pool).await.unwrap();
    }
    let api_url = PgConnectOptions::from_str(&db.url).unwrap().username(&api_role).to_url_lossy().to_string();
    let (owner_url, api_url2) = (db.url.clone(), api_url.clone());
    let secret = move |name: &str, key: &str| -> String {
        match (name, key) {
            ("ollyscale-db-app", "uri") => owner_url.clone(),
            ("ollyscale-db-api", "uri") => api_url2.clone(),
            ("ollyscale-auth", "token") => TOKEN.to_string(),
            _ => panic!("the test has no value for secret {name} key {key}"),
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ollyscale.toml");
    std::fs::write(&config, settings_file(&docs)).unwrap();

    // 1. The migration Job.
    let (argv, env) =
        command_line(find(&docs, "Job", "ollyscale-migrate"), &config, &dir.path().join("migrate"), &secret);
    let out = tokio::task::spawn_blocking(move || ollyscale(&argv, &env)).await.unwrap();
    assert!(out.status.success(), "migrate: {}", text(&out));
    // --log-format json: every line a log pipeline reads is a JSON object.
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(stderr.lines().count() >= 1);
    for line in stderr.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{line}");
    }

    // 2. A receiver, on its own volume.
    let receiver_data = dir.path().join("otlp-receiver-0");
    let (argv, env) = command_line(find(&docs, "StatefulSet", "otlp-receiver"), &config, &receiver_data, &secret);
    let mut receiver = Server::start_command(&receiver_data, &argv, &env);

    // 3. The API, with the SELECT-only role.
    let api_data = dir.path().join("api");
    let (argv, env) = command_line(find(&docs, "Deployment", "api"), &config, &api_data, &secret);
    let mut api = Server::start_command(&api_data, &argv, &env);
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let r = client.get(format!("{}/readyz", api.api_url())).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the API is not ready: {}", api.log_text());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The image's HEALTHCHECK, as the container would run it (API address from the environment).
    let health_env = vec![("OLLYSCALE_API_LISTEN".to_string(), api.api.to_string())];
    let out = tokio::task::spawn_blocking(move || ollyscale(&["health".into()], &health_env)).await.unwrap();
    assert!(out.status.success(), "health: {}", text(&out));

    // 4. The smoke test, through the receiver and the API.
    let script = deploy_dir().join("smoke-test.sh");
    let (otlp, api_base) = (receiver.http_url(), api.api_url());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(script)
            .arg(otlp)
            .arg(api_base)
            .env("OLLYSCALE_AUTH_TOKEN", TOKEN)
            .env("SMOKE_TIMEOUT", "60")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "smoke test: {}\nreceiver:\n{}\napi:\n{}",
        text(&out),
        receiver.log_text(),
        api.log_text()
    );
    assert!(text(&out).contains("smoke test passed"), "{}", text(&out));
    let api_log = api.log_text();
    assert!(
        !api_log.contains("migrations failed") && !api_log.contains("partition maintenance"),
        "the API changed the schema: {api_log}"
    );
    api.stop();
    // With the API gone, the health check fails: the runtime marks the container unhealthy.
    let health_env = vec![("OLLYSCALE_API_LISTEN".to_string(), api.api.to_string())];
    let out = tokio::task::spawn_blocking(move || ollyscale(&["health".into()], &health_env)).await.unwrap();
    assert!(!out.status.success(), "health of a stopped server: {}", text(&out));
    assert!(text(&out).contains("/readyz"), "{}", text(&out));

    // 5. The receiver stops; its volume is drained with the same settings and secret.
    receiver.stop();
    let (_, env) = command_line(find(&docs, "StatefulSet", "otlp-receiver"), &config, &receiver_data, &secret);
    let argv = vec!["drain".to_string(), "--config".into(), config.display().to_string()];
    let out = tokio::task::spawn_blocking(move || ollyscale(&argv, &env)).await.unwrap();
    assert!(out.status.success(), "drain: {}", text(&out));
    assert!(text(&out).contains("WAL is empty"), "{}", text(&out));
    assert_eq!(wal_records_left(&receiver_data), 0);
}

/// A look-alike of a setting is still refused when service links are accepted.
#[test]
fn a_typo_still_stops_start_up_among_service_links() {
    let mut env = service_links();
    env.push(("OLLYSCALE_GRPC_PORT".into(), "4317".into()));
    let out = ollyscale(&["migrate".into()], &env);
    assert!(!out.status.success());
    assert!(text(&out).contains("unknown environment variable OLLYSCALE_GRPC_PORT"), "{}", text(&out));
}

/// Data that never reaches the database (the receiver's database is away) fails the smoke test, which says
/// per signal what it sent and what the API returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smoke_test_fails_naming_what_differed() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Server::start(&dir.path().join("ingest"), crate::receive::NO_DATABASE, &["--role", "ingest"]);
    let api = Server::start(&dir.path().join("api"), &db.url, &["--role", "api"]);
    let script = deploy_dir().join("smoke-test.sh");
    let (otlp, api_base) = (receiver.http_url(), api.api_url());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash").arg(script).arg(otlp).arg(api_base).env("SMOKE_TIMEOUT", "2").output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("smoke test FAILED"), "{t}");
    for what in ["spans: sent 1, the API returned 0", "log records: sent 2, the API returned 0", "metrics: sent"] {
        assert!(t.contains(what), "{what} missing in: {t}");
    }
}
