//! /api/v2/logs: search with every filter, logs of a trace and of a span, paging, errors.

use super::*;

fn bodies(v: &Value) -> Vec<String> {
    v["logs"].as_array().unwrap().iter().map(|l| l["body"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn search_returns_newest_first_with_every_field() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/logs/search", &[])).await;
    assert_eq!(bodies(&v), ["heartbeat", "payment failed", "slow query 50% of budget", "cart viewed"]);
    assert!(v["next_cursor"].is_null());
    let cart = &v["logs"][3];
    assert_eq!(cart["time_unix_nano"], (T0 + MS).to_string());
    assert_eq!(cart["time"], "2026-11-26T10:00:00.124456789Z");
    assert_eq!(cart["observed_time_unix_nano"], (T0 + MS + 7).to_string());
    assert_eq!(cart["severity_number"], 9);
    assert_eq!(cart["trace_id"], hex(&tid(1)));
    assert_eq!(cart["span_id"], hex(&sid(1, 1)));
    assert_eq!(cart["service_name"], "frontend");
    assert_eq!(cart["service_namespace"], "shop");
    assert_eq!(cart["scope"]["name"], "logger");
    // Promoted and unpromoted attributes come back together, typed.
    assert_eq!(cart["attributes"]["p.user"], "alice");
    assert_eq!(cart["attributes"]["latency_ms"], 12);
    assert_eq!(cart["resource_attributes"]["team"], "frontend");
    assert_eq!(cart["resource_attributes"]["service.name"], "frontend");
    assert!(v["logs"][0]["trace_id"].is_null());
}

#[tokio::test]
async fn search_filters() {
    let (_env, app) = loaded().await;
    let trace1 = "01".repeat(16);
    let cases: Vec<Case> = vec![
        (vec![("service", "checkout")], vec!["payment failed", "slow query 50% of budget"]),
        (vec![("namespace", "shop"), ("service", "frontend")], vec!["heartbeat", "cart viewed"]),
        (vec![("namespace", "other")], vec![]),
        (vec![("min_severity", "WARN")], vec!["payment failed", "slow query 50% of budget"]),
        (vec![("min_severity", "17")], vec!["payment failed"]),
        (vec![("body", "QUERY 50%")], vec!["slow query 50% of budget"]),
        // LIKE wildcards in the text are literal.
        (vec![("body", "_")], vec![]),
        (vec![("trace_id", &trace1)], vec!["slow query 50% of budget", "cart viewed"]),
        // Promoted (p.*) record attributes.
        (vec![("attr", "p.user eq bob")], vec!["payment failed"]),
        (vec![("attr", "p.user ne bob")], vec!["heartbeat", "cart viewed"]),
        (vec![("attr", "p.code gte 400")], vec!["payment failed"]),
        (vec![("attr", "p.user contains ali")], vec!["cart viewed"]),
        // Unpromoted ones (in _other).
        (vec![("attr", "latency_ms gt 50")], vec!["slow query 50% of budget"]),
        (vec![("attr", "latency_ms lte 12")], vec!["cart viewed"]),
        (vec![("attr", "latency_ms exists")], vec!["slow query 50% of budget", "cart viewed"]),
        (vec![("attr", "latency_ms eq 80")], vec!["slow query 50% of budget"]),
        // Resource attributes, unpromoted and promoted.
        (vec![("resource_attr", "team eq checkout")], vec!["payment failed", "slow query 50% of budget"]),
        (vec![("resource_attr", "service.name eq frontend")], vec!["heartbeat", "cart viewed"]),
        // ANDed.
        (
            vec![("attr", "latency_ms exists"), ("resource_attr", "team eq frontend"), ("min_severity", "1")],
            vec!["cart viewed"],
        ),
    ];
    for (params, want) in cases {
        let v = ok(&app, &wurl("/logs/search", &params)).await;
        assert_eq!(bodies(&v), want, "{params:?}");
    }
}

#[tokio::test]
async fn logs_of_a_trace_and_span_in_either_case() {
    let (_env, app) = loaded().await;
    let lower = ok(&app, &format!("/logs/trace/{}", hex(&tid(1)))).await;
    assert_eq!(bodies(&lower), ["cart viewed", "slow query 50% of budget"]);
    let upper = ok(&app, &format!("/logs/trace/{}", hex(&tid(1)).to_uppercase())).await;
    assert_eq!(lower, upper);
    let v = ok(&app, &format!("/logs/trace/{}/span/{}", hex(&tid(1)), hex(&sid(1, 3)).to_uppercase())).await;
    assert_eq!(bodies(&v), ["slow query 50% of budget"]);
    // Oldest first, one per page.
    let p1 = ok(&app, &url(&format!("/logs/trace/{}", hex(&tid(1))), &[("limit", "1")])).await;
    assert_eq!(bodies(&p1), ["cart viewed"]);
    let c = p1["next_cursor"].as_str().unwrap();
    let p2 = ok(&app, &url(&format!("/logs/trace/{}", hex(&tid(1))), &[("limit", "1"), ("cursor", c)])).await;
    assert_eq!(bodies(&p2), ["slow query 50% of budget"]);
    assert!(p2["next_cursor"].is_null());
    // A newest-first cursor does not fit the oldest-first listing.
    let s1 = ok(&app, &wurl("/logs/search", &[("limit", "1")])).await;
    bad(
        &app,
        &url(&format!("/logs/trace/{}", hex(&tid(1))), &[("cursor", s1["next_cursor"].as_str().unwrap())]),
        "cursor",
    )
    .await;
    // A trace without logs is an empty list, not an error (the trace may have no logs).
    let v = ok(&app, &format!("/logs/trace/{}", hex(&tid(9)))).await;
    assert_eq!(bodies(&v), Vec::<String>::new());
}

#[tokio::test]
async fn malformed_parameters_are_400_naming_them() {
    let (_env, app) = loaded().await;
    bad(&app, "/logs/search", "from").await;
    bad(&app, &url("/logs/search", &[("from", "last tuesday")]), "from").await;
    bad(&app, &url("/logs/search", &[("from", "2026-01-01T00:00:00Z"), ("to", "2025-01-01T00:00:00Z")]), "to").await;
    bad(&app, &url("/logs/search", &[("from", "2026-01-01T00:00:00Z"), ("to", "2026-03-01T00:00:00Z")]), "from").await;
    bad(&app, &wurl("/logs/search", &[("min_severity", "LOUD")]), "min_severity").await;
    bad(&app, &wurl("/logs/search", &[("trace_id", "xyz")]), "trace_id").await;
    bad(&app, &wurl("/logs/search", &[("attr", "k like v")]), "attr").await;
    bad(&app, &wurl("/logs/search", &[("resource_attr", "k eq")]), "resource_attr").await;
    bad(&app, &wurl("/logs/search", &[("limit", "100000")]), "limit").await;
    bad(&app, &wurl("/logs/search", &[("cursor", "garbage")]), "cursor").await;
    bad(&app, &wurl("/logs/search", &[("servce", "x")]), "servce").await;
    bad(&app, "/logs/trace/0102", "trace_id").await;
    bad(&app, &format!("/logs/trace/{}/span/zz", hex(&tid(1))), "span_id").await;
}

/// Pages through the logs of a window while new records keep arriving inside it: every record that existed
/// when paging started is seen exactly once, and no record is seen twice.
#[tokio::test]
async fn keyset_paging_has_no_gaps_or_repeats_under_inserts() {
    let env = env().await;
    let app = api(&env);
    let batch = |start: i64, n: u64, tag: &str| {
        let records = (0..n)
            .map(|k| {
                // Several records share a timestamp, so the id breaks ties.
                let at = (T0 as i64 + (start + (k / 3) as i64) * MS as i64) as u64;
                let mut r = crate::storage::log(at, &format!("{tag}-{k}"));
                r.observed_time_unix_nano = r.time_unix_nano;
                r
            })
            .collect();
        crate::storage::logs_req(resource(vec![kv("service.name", s("pager"))]), scope("l", "1"), records)
    };
    env.logs(&batch(0, 60, "old")).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("limit", "7".to_string())];
        if let Some(c) = &cursor {
            params.push(("cursor", c.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = ok(&app, &wurl("/logs/search", &p)).await;
        seen.extend(bodies(&v));
        pages += 1;
        // Newer records (already passed in newest-first order) and older ones (still ahead) arrive mid-paging.
        env.logs(&batch(100 + pages * 10, 3, &format!("new{pages}"))).await;
        env.logs(&batch(-100 - pages * 10, 3, &format!("older{pages}"))).await;
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a record was returned twice: {seen:?}");
    for k in 0..60 {
        assert!(seen.contains(&format!("old-{k}")), "old-{k} missing");
    }
    assert!(pages >= 9, "{pages}");
    // Records older than the cursor that arrived while paging are reached too.
    assert!(seen.iter().any(|b| b.starts_with("older1-")), "{seen:?}");
    assert!(!seen.iter().any(|b| b.starts_with("new")), "{seen:?}");
}

/// The body text of a log in an answer: a string body as is, any other body as its JSON text.
fn body_texts(v: &Value) -> Vec<String> {
    v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| match &l["body"] {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The body search is a case-insensitive substring of the string body or of the JSON text of an array or kvlist
/// body, with `%`, `_` and `\` literal, whether PostgreSQL answers it from the trigram index (rare and absent
/// texts), by the time-ordered scan (frequent texts), or without the index (texts of fewer than three letters
/// or digits in a row, which have no trigram). The cases run twice: as planned, and through the trigram index.
#[tokio::test]
async fn body_search_is_a_literal_case_insensitive_substring() {
    use crate::storage::{arr, kvl, log, logs_req};
    let env = env().await;
    let mut records: Vec<LogRecord> = (0..40).map(|k| log(T0 + k * MS, &format!("filler record {k}"))).collect();
    let mut at = T0 + 100 * MS;
    let mut add = |body: opentelemetry_proto::tonic::common::v1::AnyValue| {
        let mut r = log(at, "");
        r.body = Some(body);
        records.push(r);
        at += MS;
    };
    add(s("User 42 logged IN"));
    add(s("disk at 50% on /var"));
    add(s(r"saved to C:\Temp\file_name.txt"));
    add(s("ok"));
    add(kvl(vec![kv("msg", s("Payment DECLINED")), kv("code", i(402))]));
    add(arr(vec![s("alpha"), s("Beta-Gamma")]));
    add(i(1234567));
    let r = env.logs(&logs_req(resource(vec![kv("service.name", s("search"))]), scope("l", "1"), records)).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");

    let payment = r#"{"kvlist":{"code":402,"msg":"Payment DECLINED"}}"#;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // Rare texts, in any case.
        ("user 42 LOGGED", vec!["User 42 logged IN"]),
        ("filler record 7", vec!["filler record 7"]),
        (
            "FILLER RECORD 3",
            vec![
                "filler record 39",
                "filler record 38",
                "filler record 37",
                "filler record 36",
                "filler record 35",
                "filler record 34",
                "filler record 33",
                "filler record 32",
                "filler record 31",
                "filler record 30",
                "filler record 3",
            ],
        ),
        // No match, with and without trigrams.
        ("nowhere to be found", vec![]),
        ("zq", vec![]),
        // Texts without a trigram still match.
        ("OK", vec!["ok"]),
        ("42", vec!["User 42 logged IN"]),
        // LIKE's special characters are literal.
        ("%", vec!["disk at 50% on /var"]),
        ("50% ON", vec!["disk at 50% on /var"]),
        ("5_%", vec![]),
        ("_", vec![r"saved to C:\Temp\file_name.txt"]),
        ("file_name", vec![r"saved to C:\Temp\file_name.txt"]),
        ("file%name", vec![]),
        (r"\", vec![r"saved to C:\Temp\file_name.txt"]),
        (r"c:\temp\FILE", vec![r"saved to C:\Temp\file_name.txt"]),
        (r"c:\\temp", vec![]),
        // Array and kvlist bodies are searched in their JSON text; other body types are not searched.
        ("payment declined", vec![payment]),
        ("beta-gamma", vec![r#"["alpha","Beta-Gamma"]"#]),
        ("1234567", vec![]),
    ];

    // As planned: on so few records PostgreSQL reads them in time order.
    check_body_search(&api(&env), &cases).await;

    // Through the trigram index: without the time-led indexes and with sequential scans off, it is the one
    // way to the records that PostgreSQL has left for a text with a trigram.
    let pool = env.pool();
    sqlx::query("DROP INDEX otel_logs_fact_time_idx, otel_logs_fact_resource_time_idx").execute(pool).await.unwrap();
    sqlx::query("ANALYZE otel_logs_fact").execute(pool).await.unwrap();
    let opts = (*pool.connect_options()).clone().options([("enable_seqscan", "off")]);
    let forced = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_with(opts).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT log_id FROM otel_logs_fact l WHERE l.time >= $1 \
         AND COALESCE(l.body_string, l.body_json::text) ILIKE '%payment declined%' ORDER BY l.time DESC LIMIT 5",
    )
    .bind(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)
    .fetch_all(&forced)
    .await
    .unwrap();
    assert!(plan.iter().any(|l| l.contains("Bitmap Index Scan on otel_logs_fact_default_coalesce_idx")), "{plan:#?}");
    check_body_search(&ollyscale::query::router(forced, QueryOptions::default()), &cases).await;
}

/// A body search walks the newest 5,000 records of the window before it reads the trigram index for the rest
/// (so that its plan does not depend on statistics): matches on both sides of that edge come back in order,
/// once each, across pages, and a frequent text is answered from the walk.
#[tokio::test]
async fn body_search_finds_matches_on_both_sides_of_the_walk() {
    use crate::storage::{log, logs_req};
    let env = env().await;
    let needles = [10u64, 500, 2_000, 5_990];
    let records: Vec<LogRecord> = (0..6_000u64)
        .map(|k| {
            let body = if needles.contains(&k) { format!("needle {k}") } else { format!("filler {k}") };
            log(T0 + k * MS / 10, &body)
        })
        .collect();
    let r = env.logs(&logs_req(resource(vec![kv("service.name", s("walk"))]), scope("l", "1"), records)).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let app = api(&env);

    let seen = all_pages(&app, &[("body", "needle"), ("limit", "2")]).await;
    assert_eq!(seen, ["needle 5990", "needle 2000", "needle 500", "needle 10"]);
    let v = ok(&app, &wurl("/logs/search", &[("body", "FILLER"), ("limit", "3")])).await;
    assert_eq!(body_texts(&v), ["filler 5999", "filler 5998", "filler 5997"]);
    let v = ok(&app, &wurl("/logs/search", &[("body", "needle 1"), ("limit", "5")])).await;
    assert_eq!(body_texts(&v), ["needle 10"]);

    // Without statistics (a new partition, a burst), the rest of the window beyond the walk is read through
    // the trigram index alone: a range on time looked like 0.5% of the partition, and PostgreSQL read the
    // whole rest of the window through the time index.
    let pool = env.pool();
    env.forget_statistics("otel_logs_fact").await;
    let window = ollyscale::query::params::Window { from: T0, to: T0 + 600 * MS };
    let edge = (chrono::DateTime::from_timestamp_nanos((T0 + 999 * MS / 10) as i64), i64::MAX);
    let rest_query = || ollyscale::query::logs::body_rest_query("needle", window, edge, 3);
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(ollyscale::query::logs::REST_SETTINGS).execute(&mut *tx).await.unwrap();
    let mut qb = rest_query();
    let mut q = qb.build();
    let args = sqlx::Execute::take_arguments(&mut q).unwrap().unwrap();
    let sql = format!("EXPLAIN {}", sqlx::Execute::sql(q).as_str());
    let plan: Vec<String> = sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), args).fetch_all(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    let reads: Vec<&String> = plan.iter().filter(|l| l.contains("otel_logs_fact_default")).collect();
    assert!(reads.iter().any(|l| l.contains("Bitmap Index Scan on otel_logs_fact_default_coalesce_idx")), "{plan:#?}");
    assert!(reads.iter().all(|l| l.contains("coalesce_idx") || l.contains("Bitmap Heap Scan")), "{plan:#?}");
    let rest = rest_query().build().fetch_all(pool).await.unwrap();
    let rest: Vec<String> = rest.iter().map(|r| sqlx::Row::get(r, "body_string")).collect();
    assert_eq!(rest, ["needle 500", "needle 10"]);
    let v = ok(&app, &wurl("/logs/search", &[("body", "needle"), ("limit", "3")])).await;
    assert_eq!(body_texts(&v), ["needle 5990", "needle 2000", "needle 500"]);
}

/// The body texts of every page of a log search with `params`, following `next_cursor` to the end.
async fn all_pages(app: &Router, params: &[(&str, &str)]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page = params.to_vec();
        if let Some(c) = &cursor {
            page.push(("cursor", c.as_str()));
        }
        let v = ok(app, &wurl("/logs/search", &page)).await;
        seen.extend(body_texts(&v));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return seen,
        }
    }
}

async fn check_body_search(app: &Router, cases: &[(&str, Vec<&str>)]) {
    for (text, want) in cases {
        let v = ok(app, &wurl("/logs/search", &[("body", text)])).await;
        assert_eq!(body_texts(&v), *want, "body={text}");
    }
    // Paging through a body search.
    let seen = all_pages(app, &[("body", "filler RECORD 1"), ("limit", "4")]).await;
    let want: Vec<String> = (10..20).rev().chain([1]).map(|k| format!("filler record {k}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn volume_counts_matching_records_per_bucket_and_severity() {
    let (_env, app) = loaded().await;
    let (from, to) = (T0.to_string(), (T0 + 10 * MS).to_string());
    let q = |extra: &[(&str, &str)]| {
        let mut p = vec![("from", from.as_str()), ("to", to.as_str()), ("step", "1ms")];
        p.extend_from_slice(extra);
        url("/logs/volume", &p)
    };
    let v = ok(&app, &q(&[])).await;
    assert_eq!(v["step_ns"], MS);
    let buckets = v["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 10);
    assert_eq!(buckets[1]["start_unix_nano"], (T0 + MS).to_string());
    let counts: Vec<&Value> = buckets.iter().map(|b| &b["counts"]).collect();
    assert_eq!(counts[0], &serde_json::json!({}));
    assert_eq!(counts[1], &serde_json::json!({"INFO": 1}));
    assert_eq!(counts[2], &serde_json::json!({"WARN": 1}));
    assert_eq!(counts[3], &serde_json::json!({"ERROR": 1}));
    assert_eq!(counts[4], &serde_json::json!({"DEBUG": 1}));
    // The search's filters apply.
    let v = ok(&app, &q(&[("service", "checkout"), ("min_severity", "ERROR")])).await;
    let total: i64 = v["buckets"].as_array().unwrap().iter().filter_map(|b| b["counts"]["ERROR"].as_i64()).sum();
    assert_eq!(total, 1);
    assert_eq!(v["buckets"][3]["counts"], serde_json::json!({"ERROR": 1}));
    let v = ok(&app, &q(&[("body", "CART")])).await;
    assert_eq!(v["buckets"][1]["counts"], serde_json::json!({"INFO": 1}));
    assert_eq!(v["buckets"][2]["counts"], serde_json::json!({}));
    // About 60 buckets by default; a step making too many buckets, or none, is refused.
    let v = ok(&app, &wurl("/logs/volume", &[])).await;
    assert_eq!(v["buckets"].as_array().unwrap().len(), 60);
    bad(&app, &wurl("/logs/volume", &[("step", "1ms")]), "step").await;
    bad(&app, &wurl("/logs/volume", &[("step", "0s")]), "step").await;
    bad(&app, &url("/logs/volume", &[]), "from").await;
    bad(&app, &wurl("/logs/volume", &[("limit", "5")]), "limit").await;
}
