//! `ollyscale drain`: what a stopped receiver acknowledged but never loaded (its database was away) is
//! loaded once the database is back, exactly once, and the WAL ends empty.

use prost::Message;

use super::{ollyscale, text, wal_records_left};
use crate::receive::NO_DATABASE;
use crate::support::otlp::traces;
use crate::support::pg::test_db;
use crate::support::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_loads_every_pending_record_and_empties_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, NO_DATABASE, &["--role", "ingest"]);
    let client = reqwest::Client::new();
    for i in 0..5 {
        let resp = client
            .post(format!("{}/v1/traces", server.http_url()))
            .header("content-type", "application/x-protobuf")
            .body(traces(&format!("drain{i}"), 3).encode_to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    server.stop();
    assert_eq!(wal_records_left(&data), 5, "acknowledged, not loaded");
    // Logs written to a file (as a container runtime stores them) carry no colour codes.
    let log = server.log_text();
    assert!(log.contains("INFO") && !log.contains('\u{1b}'), "{log}");

    let db = test_db().await;
    let args: Vec<String> =
        ["drain", "--data-dir", data.to_str().unwrap(), "--database-url", &db.url].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || ollyscale(&args, &[])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("5 records to load") && text(&out).contains("WAL is empty"), "{}", text(&out));
    assert_eq!(wal_records_left(&data), 0);
    let mut names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM otel_spans_fact").fetch_all(&db.pool).await.unwrap();
    names.sort();
    let mut expected: Vec<String> = (0..5).flat_map(|i| (0..3).map(move |j| format!("drain{i}-{j}"))).collect();
    expected.sort();
    assert_eq!(names, expected, "every span once");

    // Nothing left: a second drain has nothing to do.
    let args: Vec<String> =
        ["drain", "--data-dir", data.to_str().unwrap(), "--database-url", &db.url].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || ollyscale(&args, &[])).await.unwrap();
    assert!(out.status.success() && text(&out).contains("0 records to load"), "{}", text(&out));
}
