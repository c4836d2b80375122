//! /api/v2/traces: search summaries with every filter, trace by id (waterfall and OTLP), spans, errors.

use super::*;

#[tokio::test]
async fn search_returns_summaries_newest_first() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &wurl("/traces/search", &[])).await;
    assert_eq!(root_names(&v), ["cron", "GET /pay", "GET /cart"]);
    let cart = &v["traces"][2];
    assert_eq!(cart["trace_id"], hex(&tid(1)));
    assert_eq!(cart["root_service"], "frontend");
    assert_eq!(cart["start_time_unix_nano"], T0.to_string());
    assert_eq!(cart["duration_ns"], 100 * MS);
    assert_eq!(cart["span_count"], 4);
    assert_eq!(cart["error_count"], 0);
    assert_eq!(cart["services"], serde_json::json!(["checkout", "frontend"]));
    let pay = &v["traces"][1];
    assert_eq!(pay["error_count"], 2);
    assert_eq!(pay["duration_ns"], 300 * MS);
}

#[tokio::test]
async fn search_filters() {
    let (_env, app) = loaded().await;
    let cases: Vec<Case> = vec![
        (vec![("service", "frontend")], vec!["GET /pay", "GET /cart"]),
        (vec![("service", "nobody")], vec![]),
        (vec![("namespace", "shop")], vec!["cron", "GET /pay", "GET /cart"]),
        (vec![("name", "SELECT")], vec!["GET /cart"]),
        (vec![("kind", "internal")], vec!["cron"]),
        (vec![("kind", "3")], vec!["GET /cart"]),
        (vec![("status", "error")], vec!["GET /pay"]),
        (vec![("status", "STATUS_CODE_UNSET"), ("service", "checkout"), ("kind", "server")], vec!["GET /cart"]),
        (vec![("min_duration", "250ms")], vec!["cron", "GET /pay"]),
        (vec![("max_duration", "3ms")], vec!["GET /cart"]),
        (vec![("min_duration", "100ms"), ("max_duration", "0.5s")], vec!["GET /pay", "GET /cart"]),
        // Promoted span attributes of each type.
        (vec![("attr", "p.status eq 500")], vec!["GET /pay"]),
        (vec![("attr", "p.status gte 200")], vec!["GET /pay", "GET /cart"]),
        (vec![("attr", "p.status lt 500")], vec!["GET /cart"]),
        (vec![("attr", "p.ratio gt 0.6")], vec!["cron"]),
        (vec![("attr", "p.flag eq true")], vec!["cron"]),
        (vec![("attr", "p.route contains pa")], vec!["GET /pay"]),
        (vec![("attr", "p.route ne /pay")], vec!["GET /cart"]),
        // Unpromoted span attributes.
        (vec![("attr", "user eq carol")], vec!["cron"]),
        (vec![("attr", "user ne carol")], vec!["GET /pay", "GET /cart"]),
        (vec![("attr", "db.system exists")], vec!["GET /cart"]),
        (vec![("attr", "user gt b")], vec!["cron", "GET /pay"]),
        // Resource attributes, promoted (p.region) and not (team).
        (vec![("resource_attr", "p.region eq us")], vec!["cron", "GET /pay", "GET /cart"]),
        (vec![("resource_attr", "p.region eq us"), ("name", "GET /pay")], vec![]),
        (vec![("resource_attr", "team eq web")], vec!["GET /pay", "GET /cart"]),
        // An `eq` filter with other filters, all on the same span.
        (vec![("attr", "p.route eq /pay"), ("attr", "user eq bob")], vec!["GET /pay"]),
        (vec![("attr", "p.route eq /cart"), ("attr", "db.system exists")], vec![]),
        (vec![("attr", "p.route eq /cart"), ("name", "GET /cart")], vec!["GET /cart"]),
        (vec![("attr", "p.route eq /cart"), ("service", "checkout")], vec![]),
        (vec![("attr", "p.status eq 200"), ("attr", "user ne alice")], vec![]),
        (vec![("attr", "p.ratio eq 0.75")], vec!["cron"]),
        (vec![("attr", "user eq carol"), ("attr", "p.flag eq true")], vec!["cron"]),
        // Everything applies to one span, combined with AND.
        (vec![("attr", "user eq alice"), ("resource_attr", "team eq web"), ("kind", "server")], vec!["GET /cart"]),
        (vec![("attr", "user eq alice"), ("resource_attr", "team eq pay")], vec![]),
    ];
    // The same answers whether the search scans matching spans in one step or one span at a time.
    let stepwise =
        [1, 3].map(|chunk| router(_env.pool().clone(), QueryOptions { trace_scan_chunk: chunk, ..Default::default() }));
    for (params, want) in cases {
        let v = ok(&app, &wurl("/traces/search", &params)).await;
        assert_eq!(root_names(&v), want, "{params:?}");
        for app in &stepwise {
            for limit in ["1", "2", "100"] {
                let mut names = Vec::new();
                let mut cursor: Option<String> = None;
                loop {
                    let mut p = params.clone();
                    p.push(("limit", limit));
                    if let Some(c) = &cursor {
                        p.push(("cursor", c));
                    }
                    let v = ok(app, &wurl("/traces/search", &p)).await;
                    names.extend(root_names(&v));
                    match v["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_string()),
                        None => break,
                    }
                }
                assert_eq!(names, want, "{params:?} limit {limit}");
            }
        }
    }
}

/// An `eq` attribute filter over many traces (promoted and unpromoted keys): every matching trace once,
/// newest first, whatever the page size and scan step, also when a trace has several matching spans.
#[tokio::test]
async fn attribute_search_pages_through_many_matching_traces() {
    let env = env().await;
    let spans: Vec<Span> = (0..60u8)
        .flat_map(|k| {
            let route = format!("/op{}", k % 3);
            let attrs = || vec![kv("p.route", s(&route)), kv("route", s(&route))];
            let start = T0 + u64::from(k) * 10 * MS;
            [
                span(k + 1, 1, None, &format!("t{k}"), 2, start, 5 * MS, 0, attrs()),
                span(k + 1, 2, Some(1), "child", 3, start + MS, 2 * MS, 0, attrs()),
                span(k + 1, 3, Some(1), "other", 3, start + 2 * MS, MS, 0, vec![]),
            ]
        })
        .collect();
    let r = env.traces(&ExportTraceServiceRequest { resource_spans: vec![rs("svc", vec![], spans)] }).await;
    assert!(r.dead_lettered.is_empty(), "{r:?}");
    let want: Vec<String> = (0..60u8).rev().filter(|k| k % 3 == 1).map(|k| format!("t{k}")).collect();
    let apps = [1, 3, 2000]
        .map(|chunk| router(env.pool().clone(), QueryOptions { trace_scan_chunk: chunk, ..Default::default() }));
    for filter in ["p.route eq /op1", "route eq /op1"] {
        for app in &apps {
            for limit in ["1", "7", "100"] {
                let mut names = Vec::new();
                let mut cursor: Option<String> = None;
                loop {
                    let mut p = vec![("attr", filter), ("limit", limit)];
                    if let Some(c) = &cursor {
                        p.push(("cursor", c));
                    }
                    let v = ok(app, &wurl("/traces/search", &p)).await;
                    names.extend(root_names(&v));
                    match v["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_string()),
                        None => break,
                    }
                }
                assert_eq!(names, want, "{filter} limit {limit}");
            }
        }
    }
}

#[tokio::test]
async fn search_pages_with_a_cursor() {
    let (_env, app) = loaded().await;
    let p1 = ok(&app, &wurl("/traces/search", &[("limit", "2")])).await;
    assert_eq!(root_names(&p1), ["cron", "GET /pay"]);
    let c = p1["next_cursor"].as_str().unwrap().to_string();
    let p2 = ok(&app, &wurl("/traces/search", &[("limit", "2"), ("cursor", &c)])).await;
    assert_eq!(root_names(&p2), ["GET /cart"]);
    assert!(p2["next_cursor"].is_null());
    // A cursor of another listing is refused.
    let logs = ok(&app, &wurl("/logs/search", &[("limit", "1")])).await;
    let lc = logs["next_cursor"].as_str().unwrap();
    bad(&app, &wurl("/traces/search", &[("cursor", lc)]), "cursor").await;
}

#[tokio::test]
async fn trace_by_id_is_a_waterfall_with_everything() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &format!("/traces/{}", hex(&tid(1)).to_uppercase())).await;
    assert_eq!(v["trace_id"], hex(&tid(1)));
    assert_eq!(v["span_count"], 4);
    let spans = v["spans"].as_array().unwrap();
    let names: Vec<(&str, u64)> =
        spans.iter().map(|s| (s["name"].as_str().unwrap(), s["depth"].as_u64().unwrap())).collect();
    assert_eq!(names, [("GET /cart", 0), ("checkout", 1), ("SELECT", 2), ("publish", 2)]);
    let root = &spans[0];
    assert_eq!(root["kind"], "SERVER");
    assert_eq!(root["status"]["code"], "UNSET");
    assert_eq!(root["parent_span_id"], Value::Null);
    assert_eq!(root["attributes"]["p.status"], 200);
    assert_eq!(root["attributes"]["p.ratio"], 0.5);
    assert_eq!(root["attributes"]["user"], "alice");
    assert_eq!(root["events"][0]["name"], "cache miss");
    assert_eq!(root["events"][0]["attributes"]["key"], "cart:1");
    assert_eq!(root["events"][0]["time_unix_nano"], (T0 + 5 * MS).to_string());
    assert_eq!(root["links"][0]["trace_id"], hex(&tid(3)));
    assert_eq!(root["links"][0]["attributes"]["why"], "batch");
    assert_eq!(root["resource"]["service_name"], "frontend");
    assert_eq!(root["resource"]["attributes"]["team"], "web");
    assert_eq!(root["scope"]["name"], "tracer");
    assert_eq!(spans[2]["service_name"], "checkout");
    assert_eq!(spans[2]["parent_span_id"], hex(&sid(1, 2)));
    assert_eq!(spans[2]["attributes"]["db.system"], "postgresql");
}

/// Attribute lists sorted by key at every level, resources by service name, spans by start time: what
/// storage does not keep (attribute order, resource order).
fn canon(mut req: ExportTraceServiceRequest) -> ExportTraceServiceRequest {
    let sort = |a: &mut Vec<KeyValue>| a.sort_by(|x, y| x.key.cmp(&y.key));
    for rs in &mut req.resource_spans {
        if let Some(r) = &mut rs.resource {
            sort(&mut r.attributes);
        }
        for ss in &mut rs.scope_spans {
            if let Some(sc) = &mut ss.scope {
                sort(&mut sc.attributes);
            }
            ss.spans.sort_by_key(|s| (s.start_time_unix_nano, s.span_id.clone()));
            for sp in &mut ss.spans {
                sort(&mut sp.attributes);
                for e in &mut sp.events {
                    sort(&mut e.attributes);
                }
                for l in &mut sp.links {
                    sort(&mut l.attributes);
                }
            }
        }
    }
    let service = |rs: &ResourceSpans| format!("{:?}", rs.resource.as_ref().map(|r| r.attributes.clone()));
    req.resource_spans.sort_by_key(service);
    req
}

#[tokio::test]
async fn trace_by_id_as_otlp_json_round_trips_and_re_exports() {
    let env = env().await;
    let mut input = dataset();
    // Every scalar type plus an array, promoted and not, on the root span.
    input.resource_spans[0].scope_spans[0].spans[0].attributes.extend([
        kv("p.blob", crate::storage::by(&[0, 255])),
        kv("tags", crate::storage::arr(vec![s("a"), i(1), d(2.0), b(false)])),
        kv("u.double", d(-1.25e-7)),
        kv("p.big", i(i64::MIN)),
    ]);
    env.traces(&input).await;
    let app = api(&env);
    let path = url(&format!("/traces/{}", hex(&tid(1))), &[("format", "otlp")]);
    let v = ok(&app, &path).await;
    // OTLP/JSON: camelCase, hex ids, decodable by the OTLP types.
    assert_eq!(v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"], hex(&tid(1)), "{v}");
    // The receivers' own OTLP/JSON decoder (what an OTLP/HTTP endpoint runs on a JSON body) reads it too.
    let via_receiver: ExportTraceServiceRequest =
        ollyscale::otlp::json::decode_json(serde_json::to_vec(&v).unwrap().as_slice()).unwrap();
    let got: ExportTraceServiceRequest = serde_json::from_value(v).unwrap();
    assert_eq!(via_receiver, got);
    let mut want = input.clone();
    for rs in &mut want.resource_spans {
        rs.scope_spans[0].spans.retain(|s| s.trace_id == tid(1));
    }
    assert_eq!(canon(got.clone()), canon(want.clone()));
    // Re-exported to another receiver (here: our own pipeline on a fresh database), it is the same trace.
    let other = super::env().await;
    let report = other.traces(&got).await;
    assert!(report.dead_lettered.is_empty(), "{report:?}");
    let again = ok(&api(&other), &path).await;
    let again: ExportTraceServiceRequest = serde_json::from_value(again).unwrap();
    assert_eq!(canon(again), canon(want));
}

#[tokio::test]
async fn spans_of_a_trace_by_start_time() {
    let (_env, app) = loaded().await;
    let v = ok(&app, &format!("/traces/{}/spans", hex(&tid(2)))).await;
    let names: Vec<&str> = v["spans"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["GET /pay", "pay"]);
    assert_eq!(v["spans"][1]["status"]["code"], "ERROR");
    assert_eq!(v["spans"][1]["service_name"], "checkout");
    assert_eq!(v["spans"][0]["attributes"]["p.status"], 500);
}

#[tokio::test]
async fn unknown_trace_is_404_and_bad_ids_are_400() {
    let (_env, app) = loaded().await;
    for path in [format!("/traces/{}", "ab".repeat(16)), format!("/traces/{}/spans", "AB".repeat(16))] {
        let (st, v) = get(&app, &path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["error"]["code"], "not_found");
    }
    bad(&app, "/traces/1234", "trace_id").await;
    bad(&app, &format!("/traces/{}/spans", "g".repeat(32)), "trace_id").await;
    bad(&app, &url(&format!("/traces/{}", hex(&tid(1))), &[("format", "xml")]), "format").await;
    bad(&app, "/traces/search", "from").await;
    bad(&app, &wurl("/traces/search", &[("kind", "sideways")]), "kind").await;
    bad(&app, &wurl("/traces/search", &[("status", "meh")]), "status").await;
    bad(&app, &wurl("/traces/search", &[("min_duration", "5 parsecs")]), "min_duration").await;
    bad(&app, &wurl("/traces/search", &[("max_duration", "-1ms")]), "max_duration").await;
}

/// Trace search pages have no gaps or repeats while traces keep arriving (newer ones before the cursor,
/// older ones after it).
#[tokio::test]
async fn trace_paging_has_no_gaps_or_repeats_under_inserts() {
    let env = super::env().await;
    // Small scan steps, so that pages need several of them.
    let app = router(env.pool().clone(), QueryOptions { trace_scan_chunk: 5, ..Default::default() });
    let batch = |base: i64, n: u8, first_id: u8| ExportTraceServiceRequest {
        resource_spans: vec![rs(
            "pager",
            vec![],
            (0..n)
                .flat_map(|k| {
                    let t = first_id + k;
                    let at = (T0 as i64 + base + i64::from(k / 2) * MS as i64) as u64;
                    // Two spans per trace, so that grouping matters.
                    [
                        span(t, 1, None, &format!("t{t}"), 2, at, MS, 0, vec![]),
                        span(t, 2, Some(1), "child", 1, at + 1, MS, 0, vec![]),
                    ]
                })
                .collect(),
        )],
    };
    env.traces(&batch(0, 30, 1)).await;
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages: u8 = 0;
    loop {
        let mut params = vec![("limit", "4".to_string())];
        if let Some(c) = &cursor {
            params.push(("cursor", c.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = ok(&app, &wurl("/traces/search", &p)).await;
        seen.extend(v["traces"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap().to_string()));
        pages += 1;
        env.traces(&batch(500 * MS as i64, 2, 100 + pages * 2)).await;
        env.traces(&batch(-500 * MS as i64, 2, 200 + pages * 2)).await;
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a trace was returned twice");
    for t in 1..=30u8 {
        assert!(seen.contains(&hex(&tid(t))), "trace {t} missing");
    }
    assert!(!seen.contains(&hex(&tid(102))), "a newer trace appeared behind the cursor");
    assert!(seen.contains(&hex(&tid(202))), "an older trace that arrived while paging was not reached");
}

#[tokio::test]
async fn service_search_merges_the_service_resources_newest_first() {
    let env = super::env().await;
    let app = router(env.pool().clone(), QueryOptions { trace_scan_chunk: 3, ..Default::default() });
    // One service on three pods (three resources) and a busy other service, traces interleaved in time.
    let pod = |name: &str, traces: &[u8]| {
        rs(
            if name == "noise" { "other" } else { "walker" },
            vec![kv("k8s.pod.name", s(name))],
            traces
                .iter()
                .map(|&t| span(t, 1, None, &format!("t{t}"), 2, T0 + u64::from(t) * MS, MS, 0, vec![]))
                .collect(),
        )
    };
    let noise: Vec<u8> = (100..160).collect();
    env.traces(&ExportTraceServiceRequest {
        resource_spans: vec![
            pod("a", &[1, 4, 7, 10, 13]),
            pod("b", &[2, 5, 8, 11]),
            pod("c", &[3, 6, 9, 12]),
            pod("noise", &noise),
        ],
    })
    .await;
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("limit", "2".to_string()), ("service", "walker".to_string())];
        if let Some(c) = &cursor {
            params.push(("cursor", c.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = ok(&app, &wurl("/traces/search", &p)).await;
        seen.extend(v["traces"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap().to_string()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let want: Vec<String> = (1..=13u8).rev().map(|t| hex(&tid(t))).collect();
    assert_eq!(seen, want, "every trace of the service's three pods, once, newest first");
}

#[tokio::test]
async fn attribute_search_walks_matches_newest_first_across_pages() {
    let env = super::env().await;
    let app = router(env.pool().clone(), QueryOptions { trace_scan_chunk: 1, ..Default::default() });
    // 12 traces with p.route /hit (every third also has a span with /miss), 20 with /miss only; and two
    // long values that share their first 200 characters.
    let long = "x".repeat(200);
    let mut spans = Vec::new();
    for t in 1..=32u8 {
        let route = if t <= 12 { "/hit" } else { "/miss" };
        let at = T0 + u64::from(t) * MS;
        spans.push(span(t, 1, None, &format!("t{t}"), 2, at, MS, 0, vec![kv("p.route", s(route))]));
        if t % 3 == 0 {
            spans.push(span(t, 2, Some(1), "child", 1, at + 1, MS, 0, vec![kv("p.route", s("/miss"))]));
        }
    }
    spans.push(span(40, 1, None, "long-a", 2, T0 + 40 * MS, MS, 0, vec![kv("p.route", s(&format!("{long}a")))]));
    spans.push(span(41, 1, None, "long-b", 2, T0 + 41 * MS, MS, 0, vec![kv("p.route", s(&format!("{long}b")))]));
    env.traces(&ExportTraceServiceRequest { resource_spans: vec![rs("walker", vec![], spans)] }).await;
    let search = |filter: String| {
        let app = app.clone();
        async move {
            let mut seen: Vec<String> = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut params = vec![("limit", "2".to_string()), ("attr", filter.clone())];
                if let Some(c) = &cursor {
                    params.push(("cursor", c.clone()));
                }
                let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let v = ok(&app, &wurl("/traces/search", &p)).await;
                seen.extend(
                    v["traces"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap().to_string()),
                );
                match v["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break seen,
                }
            }
        }
    };
    let hits: Vec<String> = (1..=12u8).rev().map(|t| hex(&tid(t))).collect();
    assert_eq!(search("p.route eq /hit".into()).await, hits, "every matching trace once, newest first");
    let misses = search("p.route eq /miss".into()).await;
    let mut want: Vec<u8> = (13..=32).collect();
    want.extend([3, 6, 9, 12]);
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(misses, want.iter().map(|t| hex(&tid(*t))).collect::<Vec<_>>());
    // Values longer than the indexed prefix are still compared whole.
    assert_eq!(search(format!("p.route eq {long}b")).await, [hex(&tid(41))]);
}

/// A trace search walks the time index, or its service's resources' index, newest first and stops at the
/// page: it reads about as many index entries as the page needs, not the window's, in a partition without
/// statistics too. (Where PostgreSQL read the whole window in a bitmap scan instead, it did so on partitions
/// of about a million rows, beyond what this test loads; docs/benchmarks.md has those measurements.)
#[tokio::test]
async fn searches_read_a_page_of_the_walk_without_statistics() {
    let env = super::env().await;
    let spans: Vec<Span> = (0..2_000u32)
        .map(|k| {
            let mut sp = span(0, 1, None, "walk", 2, T0 + u64::from(k) * MS, 200 * MS, 0, vec![]);
            sp.trace_id = k.to_be_bytes().repeat(4);
            sp
        })
        .collect();
    env.traces(&ExportTraceServiceRequest { resource_spans: vec![rs("walker", vec![], spans)] }).await;
    let pool = env.pool();
    env.forget_statistics("otel_spans_fact").await;
    // One connection, so that the index statistics it flushes after each search are that search's.
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let app = router(one.clone(), QueryOptions::default());
    for (index, params) in [
        ("start_time", vec![("min_duration", "100ms"), ("limit", "5")]),
        ("resource_id", vec![("service", "walker"), ("min_duration", "100ms"), ("limit", "5")]),
    ] {
        let before = index_entries_read(&one, index).await;
        let v = ok(&app, &wurl("/traces/search", &params)).await;
        let names: Vec<&str> =
            v["traces"].as_array().unwrap().iter().map(|t| t["root_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["walk"; 5]);
        let read = index_entries_read(&one, index).await - before;
        assert!(read > 0 && read < 200, "{index} index: {read} entries read for a page of 5 traces of 2,000");
    }
}

/// Entries of the default spans partition's `<name>...` index read so far, the statistics of `pool`'s one
/// connection flushed first.
async fn index_entries_read(pool: &sqlx::PgPool, name: &str) -> i64 {
    sqlx::query("SELECT pg_stat_force_next_flush()").execute(pool).await.unwrap();
    sqlx::query_scalar(
        "SELECT COALESCE(sum(idx_tup_read), 0)::int8 FROM pg_stat_user_indexes \
         WHERE relname = 'otel_spans_fact_default' AND indexrelname LIKE $1",
    )
    .bind(format!("otel_spans_fact_default_{name}%"))
    .fetch_one(pool)
    .await
    .unwrap()
}
