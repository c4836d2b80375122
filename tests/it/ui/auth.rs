//! The token prompt of a server with a bearer token, and the page a person sees while the database is down.

use fantoccini::Locator;
use serde_json::json;

use super::Browser;
use crate::support::pg::test_db;
use crate::support::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_asks_for_the_token_once_and_says_when_the_database_is_unreachable() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &db.url, &["--role", "api", "--auth-token", "s3cret"]);
    let b = Browser::start().await;

    b.open(&format!("{}/services", server.api_url()), "dialog.token[open]").await;
    b.screenshot("token-light").await;
    let input = b.client.find(Locator::Css("dialog.token input[name=token]")).await.unwrap();
    input.send_keys("s3cret").await.unwrap();
    b.click("dialog.token button[type=submit]").await;
    // Accepted: the (empty) services page, and the token kept for the tab.
    b.wait_for(".state.empty").await;
    assert!(b.text(".state.empty").await.contains("No services"));
    assert_eq!(b.js("return sessionStorage.getItem('ollyscale.token');").await, json!("s3cret"));
    // The first request's 401 is how the page learns that a token is needed.
    b.no_console_errors("token prompt", &["401"]).await;
    // Another page in the same tab does not ask again.
    b.open(&format!("{}/map", server.api_url()), ".state.empty").await;
    assert!(b.client.find(Locator::Css("dialog.token")).await.is_err(), "asked for the token again");
    b.no_console_errors("after the token", &[]).await;

    // An API whose database does not answer: the page says so instead of staying blank.
    let down_dir = tempfile::tempdir().unwrap();
    let down = Server::start(down_dir.path(), "postgres://ollyscale@127.0.0.1:9/none", &["--role", "api"]);
    b.open(&format!("{}/services", down.api_url()), ".state.error").await;
    let said = b.text(".state.error").await;
    assert!(said.contains("The database is unreachable"), "{said}");
    b.no_console_errors("database down", &["503"]).await;
    b.screenshot("unreachable-light").await;
    b.close().await;
}
