//! Cross-cutting behaviour: injection attempts, database down and back, statement timeout, auth, CORS,
//! unknown endpoints.

use std::time::Duration;

use super::*;
use axum::http::header;

use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

const PAYLOADS: &[&str] = &[
    "'; DROP TABLE otel_spans_fact; --",
    "x' OR '1'='1",
    "\") OR 1=1; DELETE FROM attribute_keys; --",
    "$1",
    "%_\\",
    "\u{0}",
    "ü ✓ 日本",
    "frontend'||(SELECT pg_sleep(5))||'",
];

/// Every string parameter of every endpoint, with each payload: the answer is data (200) or a 400, never
/// anything else, and afterwards every table and row is still there.
#[tokio::test]
async fn injection_attempts_return_data_or_400_and_never_execute() {
    let (env, app) = loaded().await;
    let before: i64 = env.scalar("SELECT count(*) FROM otel_spans_fact").await;
    let tid1 = hex(&tid(1));
    for payload in PAYLOADS {
        let uris = [
            wurl("/logs/search", &[("service", payload)]),
            wurl("/logs/search", &[("namespace", payload)]),
            wurl("/logs/search", &[("body", payload)]),
            wurl("/logs/search", &[("min_severity", payload)]),
            wurl("/logs/search", &[("trace_id", payload)]),
            wurl("/logs/search", &[("attr", &format!("p.user eq {payload}"))]),
            wurl("/logs/search", &[("attr", &format!("{payload} exists"))]),
            wurl("/logs/search", &[("resource_attr", &format!("team contains {payload}"))]),
            wurl("/logs/search", &[("cursor", payload)]),
            wurl("/logs/search", &[("limit", payload)]),
            wurl("/logs/search", &[(payload, "x")]),
            url("/logs/search", &[("from", payload)]),
            url(&format!("/logs/trace/{}", enc(payload)), &[]),
            url(&format!("/logs/trace/{tid1}/span/{}", enc(payload)), &[]),
            wurl("/traces/search", &[("service", payload)]),
            wurl("/traces/search", &[("name", payload)]),
            wurl("/traces/search", &[("kind", payload)]),
            wurl("/traces/search", &[("status", payload)]),
            wurl("/traces/search", &[("min_duration", payload)]),
            wurl("/traces/search", &[("attr", &format!("user gt {payload}"))]),
            wurl("/traces/search", &[("attr", &format!("user ne {payload}"))]),
            wurl("/traces/search", &[("attr", &format!("user matches {payload}"))]),
            wurl("/logs/search", &[("attr", &format!("p.user not_matches {payload}"))]),
            wurl("/traces/search", &[("resource_attr", &format!("{payload} eq 1"))]),
            url(&format!("/traces/{}", enc(payload)), &[]),
            url(&format!("/traces/{tid1}"), &[("format", payload)]),
            url(&format!("/traces/{}/spans", enc(payload)), &[]),
            wurl("/services", &[("namespace", payload)]),
            wurl(&format!("/services/{}/operations", enc(payload)), &[]),
            wurl("/service-map", &[("namespace", payload)]),
            wurl("/attributes", &[("signal", payload)]),
            wurl("/attributes", &[("signal", "traces"), ("prefix", payload)]),
            wurl("/attributes", &[("signal", "traces"), ("level", payload)]),
            wurl(&format!("/attributes/{}/values", enc(payload)), &[("signal", "traces")]),
            wurl("/attributes/user/values", &[("signal", "logs"), ("prefix", payload)]),
            wurl("/metrics/search", &[("name", payload)]),
            wurl("/metrics/search", &[("service", payload)]),
            wurl("/metrics/search", &[("type", payload)]),
            wurl("/metrics/search", &[("attr", &format!("k contains {payload}"))]),
            wurl("/metrics/series", &[("name", payload)]),
            wurl("/metrics/series", &[("name", "x"), ("agg", payload)]),
            wurl("/metrics/series", &[("name", "x"), ("step", payload)]),
        ];
        for uri in uris {
            let (st, v) = get(&app, &uri).await;
            assert!(
                st == StatusCode::OK || st == StatusCode::BAD_REQUEST || st == StatusCode::NOT_FOUND,
                "{uri}: {st} {v}"
            );
            if st != StatusCode::OK {
                assert!(v["error"]["code"].is_string(), "{uri}: {v}");
            }
        }
    }
    let after: i64 = env.scalar("SELECT count(*) FROM otel_spans_fact").await;
    assert_eq!(before, after);
    let keys: i64 = env.scalar("SELECT count(*) FROM attribute_keys").await;
    assert!(keys > 0);
    // A payload that matches as plain data is found as data.
    let v = ok(&app, &wurl("/traces/search", &[("attr", "user eq x' OR '1'='1")])).await;
    assert_eq!(root_names(&v), Vec::<String>::new());
}

async fn admin(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

/// A connection to the server's `postgres` database (a database cannot refuse connections to itself).
async fn server_admin(url: &str) -> PgConnection {
    let opts: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    opts.database("postgres").connect().await.unwrap()
}

/// The API answers 503 while its database refuses connections, keeps running, and answers again by itself
/// once the database is back.
#[tokio::test]
async fn database_down_gives_503_and_recovers() {
    let (env, _) = loaded().await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy(&env.db.url)
        .unwrap();
    let app = router(pool, QueryOptions { acquire_timeout: Duration::from_secs(2), ..Default::default() });
    let uri = wurl("/traces/search", &[]);
    assert_eq!(root_names(&ok(&app, &uri).await).len(), 3);

    let mut adm = server_admin(&env.db.url).await;
    let name = env.db.name.clone();
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false")))
        .execute(&mut adm)
        .await
        .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .execute(&mut adm)
    .await
    .unwrap();
    for path in [uri.clone(), format!("/traces/{}", hex(&tid(1))), wurl("/services", &[])] {
        let started = std::time::Instant::now();
        let (st, v) = get(&app, &path).await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{path}: {v}");
        assert_eq!(v["error"]["code"], "database_unavailable");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true")))
        .execute(&mut adm)
        .await
        .unwrap();
    // Back without a restart of anything.
    assert_eq!(root_names(&ok(&app, &uri).await).len(), 3);
}

/// A router whose pool points at a closed port answers 503, not a hang or a crash.
#[tokio::test]
async fn unreachable_database_gives_503() {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let app = router(pool, QueryOptions::default());
    let (st, v) = get(&app, &format!("/traces/{}", hex(&tid(1)))).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["error"]["code"], "database_unavailable");
    // Parameter errors are still reported without a database.
    bad(&app, "/traces/xyz", "trace_id").await;
}

/// A query that runs past the statement timeout (here: blocked by a lock) is cancelled and answered 503.
#[tokio::test]
async fn statement_timeout_cancels_runaway_queries() {
    let (env, _) = loaded().await;
    let app = router(
        env.pool().clone(),
        QueryOptions { statement_timeout: Duration::from_millis(300), ..Default::default() },
    );
    let mut adm = admin(&env.db.url).await;
    let mut lock = adm.begin().await.unwrap();
    sqlx::query("LOCK TABLE otel_resources_dim IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let started = std::time::Instant::now();
    let (st, v) = get(&app, &wurl("/services", &[])).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["error"]["code"], "query_timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    lock.rollback().await.unwrap();
    ok(&app, &wurl("/services", &[])).await;
}

async fn raw(app: &axum::Router, req: Request<Body>) -> axum::response::Response {
    app.clone().oneshot(req).await.unwrap()
}

#[tokio::test]
async fn bearer_token_when_configured() {
    let (env, _) = loaded().await;
    let app = router(env.pool().clone(), QueryOptions { auth_token: Some("s3cret".into()), ..Default::default() });
    let uri = wurl("/services", &[]);
    let (st, v) = get(&app, &uri).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthorized");
    for token in ["Bearer wrong", "Bearer s3cre", "s3cret", "Basic s3cret"] {
        let resp =
            raw(&app, Request::get(&uri).header(header::AUTHORIZATION, token).body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{token}");
    }
    let resp =
        raw(&app, Request::get(&uri).header(header::AUTHORIZATION, "Bearer s3cret").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn cors_for_configured_origins() {
    let (env, _) = loaded().await;
    let app = router(
        env.pool().clone(),
        QueryOptions {
            cors_origins: vec!["https://ui.example".into()],
            auth_token: Some("t".into()),
            ..Default::default()
        },
    );
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/services")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let resp = raw(&app, preflight("https://ui.example")).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(resp.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://ui.example");
    let resp = raw(&app, preflight("https://evil.example")).await;
    assert!(resp.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // Without configured origins, no CORS headers at all.
    let plain = api(&env);
    let resp = raw(
        &plain,
        Request::get(wurl("/services", &[])).header(header::ORIGIN, "https://ui.example").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn unknown_endpoint_is_a_json_404() {
    let (_env, app) = loaded().await;
    let (st, v) = get(&app, "/nothing/here").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
}
