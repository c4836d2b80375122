//! The command line as users run it: settings errors, migrate, maintain, wal stats/dump, and `serve` with
//! no configuration managing its own PostgreSQL.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use prost::Message;

use crate::receive::NO_DATABASE;
use crate::support::otlp::traces;
use crate::support::pg::test_db;
use crate::support::server::Server;

fn ollyscale(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ollyscale"));
    cmd.args(args).env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn help_is_there_for_every_subcommand() {
    for sub in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["maintain", "--help"],
        &["wal", "--help"],
        &["loadgen", "--help"],
    ] {
        let out = ollyscale(sub, &[]);
        assert!(out.status.success(), "{sub:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{sub:?}");
    }
    let out = ollyscale(&["serve", "--help"], &[]);
    for flag in
        ["--data-dir", "--database-url", "--grpc-listen", "--wal-budget", "--wal-durability", "OLLYSCALE_DATA_DIR"]
    {
        assert!(text(&out).contains(flag), "serve --help lacks {flag}");
    }
}

#[test]
fn invalid_settings_stop_start_up_naming_the_setting_and_the_allowed_values() {
    let out = ollyscale(&["serve", "--wal-durability", "sometimes"], &[]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("sometimes") && t.contains("sync") && t.contains("buffered"), "{t}");

    let out = ollyscale(&["migrate"], &[("OLLYSCALE_DATA_DIRR", "/tmp/x")]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("OLLYSCALE_DATA_DIRR") && t.contains("OLLYSCALE_DATA_DIR,"), "{t}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ollyscale.toml");
    std::fs::write(&file, "data_dir = \"/tmp/x\"\nwal_budgett = \"1GiB\"\n").unwrap();
    let out = ollyscale(&["serve", "--config", file.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("line 2") && t.contains("wal_budgett") && t.contains("wal_budget"), "{t}");

    let out = ollyscale(&["serve", "--wal-budget", "lots"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("lots"), "{}", text(&out));
}

#[test]
fn an_invalid_promotion_file_stops_serve_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attributes.toml");
    std::fs::write(&file, "[span]\nstring = [\"http.*\"]\n[spam]\nint = [\"x\"]\n").unwrap();
    let out = ollyscale(
        &["serve", "--attributes-config", file.to_str().unwrap(), "--database-url", NO_DATABASE],
        &[("OLLYSCALE_DATA_DIR", dir.path().join("data").to_str().unwrap())],
    );
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("line 3") && t.contains("spam"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_maintain_run_against_an_existing_database() {
    let db = test_db().await;
    sqlx::query("DROP SCHEMA public CASCADE").execute(&db.pool).await.unwrap();
    sqlx::query("CREATE SCHEMA public").execute(&db.pool).await.unwrap();
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || ollyscale(&["migrate", "--database-url", &url], &[])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("schema is current"));
    let spans: i64 = sqlx::query_scalar("SELECT count(*) FROM otel_spans_fact").fetch_one(&db.pool).await.unwrap();
    assert_eq!(spans, 0);
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        ollyscale(&["maintain", "--database-url", &url, "--retention-traces", "2d"], &[])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("otel_spans_fact_p{today}"))
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(exists, "maintain creates today's partitions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_stats_and_dump_describe_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), NO_DATABASE, &[]);
    let client = reqwest::Client::new();
    for i in 0..3 {
        let resp = client
            .post(format!("{}/v1/traces", server.http_url()))
            .header("content-type", "application/x-protobuf")
            .body(traces(&format!("dump{i}"), 2).encode_to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    server.stop();
    let data = dir.path().to_str().unwrap().to_string();
    let out = ollyscale(&["wal", "stats", "--data-dir", &data], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.lines().any(|l| l.starts_with("records") && l.trim_end().ends_with(" 3")), "{t}");
    assert!(t.contains("last seq        3"), "{t}");
    let out = ollyscale(&["wal", "dump", "--data-dir", &data, "--from", "2", "--limit", "5"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 2, "{t}");
    assert!(lines[0].trim_start().starts_with("2 ") && lines[0].contains("traces"), "{t}");
    let out = ollyscale(&["wal", "dead-letters", "--data-dir", &data], &[]);
    assert!(out.status.success());
    assert!(text(&out).contains("no dead letters"));
}

/// `ollyscale serve` with no database configured initialises, starts and stops a PostgreSQL of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_configuration_manages_its_own_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_managed(&data);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/traces", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .body(traces("managed", 2).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let metrics = reqwest::get(format!("{}/metrics", server.api_url())).await.unwrap().text().await.unwrap();
        if metrics.contains("ollyscale_rows_written_total{table=\"otel_spans_fact\"} 2") {
            break;
        }
        assert!(Instant::now() < deadline, "spans not written to the managed database:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(data.join("postgres/data/PG_VERSION").exists());
    server.stop();
    // Stopped with the server: no postgres process serves that directory any more.
    let pg_data = data.join("postgres/data");
    let deadline = Instant::now() + Duration::from_secs(20);
    while pg_data.join("postmaster.pid").exists() {
        assert!(Instant::now() < deadline, "the managed PostgreSQL was left running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadgen_sends_every_signal_over_every_protocol_and_all_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), NO_DATABASE, &[]);
    for (protocol, endpoint, gzip, distinct) in [
        ("grpc", server.grpc_url(), false, "0"),
        ("grpc", server.grpc_url(), true, "2"),
        ("http-protobuf", server.http_url(), true, "0"),
        ("http-json", server.http_url(), false, "2"),
    ] {
        let mut args = vec![
            "loadgen".to_string(),
            "--endpoint".into(),
            endpoint,
            "--protocol".into(),
            protocol.into(),
            "--signals".into(),
            "traces,logs,metrics".into(),
            "--items".into(),
            "3000".into(),
            "--batch-size".into(),
            "200".into(),
            "--spans-per-trace".into(),
            "30".into(),
            "--concurrency".into(),
            "3".into(),
            "--quiet".into(),
            "--distinct".into(),
            distinct.into(),
        ];
        if gzip {
            args.push("--gzip".into());
        }
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ollyscale(&args, &[])
        })
        .await
        .unwrap();
        let t = text(&out);
        assert!(out.status.success(), "{protocol}: {t}");
        let field = |name: &str| -> u64 {
            t.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} missing in: {t}"))
        };
        assert!(field("sent") >= 9000, "{protocol}: {t}");
        assert_eq!(field("acknowledged"), field("sent"), "{protocol}: {t}");
        assert_eq!(field("rejected"), 0, "{protocol}: {t}");
        assert!(t.contains("ack latency   p50"), "{t}");
    }
    server.stop();
}

/// `--rate` paces the exporters: 3,072 spans at 6,000/s over 4 exporters take about half a second (each
/// exporter sends a request of 256 every 171 ms, on its own staggered schedule), and all of it is
/// acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadgen_rate_paces_the_exporters() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), NO_DATABASE, &[]);
    let endpoint = server.grpc_url();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        ollyscale(
            &[
                "loadgen",
                "--endpoint",
                &endpoint,
                "--items",
                "3072",
                "--batch-size",
                "256",
                "--concurrency",
                "4",
                "--rate",
                "6000",
                "--quiet",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("acknowledged  3072"), "{t}");
    // 12 requests, 3 per exporter: each exporter's third leaves 2 periods (342 ms) after its first. A lower
    // bound with room to spare (unpaced, this takes ~50 ms); no upper bound, which would time the machine.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}: {t}");
    server.stop();
}
