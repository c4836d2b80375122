//! Records (never asserts) how fast the heavy pages render in headless Chromium: the services page with 200
//! services and the waterfall of a 10,000-span trace, from navigation to the page's own "rendered" mark. The
//! figures go to `target/ui-screenshots/bench.txt` and the test output; docs/benchmarks.md keeps them. It does
//! assert that the big waterfall keeps only the visible rows in the page and still reaches its last span.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::{Browser, screenshot_dir, send, wait_api};
use crate::api::{hex, rs, span, tid};
use crate::support::pg::test_db;
use crate::support::server::Server;

const SERVICES: usize = 200;
const SPANS: usize = 10_000;

/// One SERVER span per service, `svc-000` to `svc-199`, each its own trace.
fn many_services(start: u64) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: (0..SERVICES)
            .map(|k| {
                let mut s = span(1, 1, None, "GET /", 2, start + k as u64 * 1_000_000, 5_000_000, 0, vec![]);
                s.trace_id = [&[0x51, (k >> 8) as u8, k as u8][..], &[0x51; 13]].concat();
                rs(&format!("svc-{k:03}"), vec![], vec![s])
            })
            .collect(),
    }
}

/// A trace of 10,000 spans over ten services: a root, 99 children, and 100 grandchildren under each of those.
fn big_trace(start: u64) -> ExportTraceServiceRequest {
    let id = |n: usize| (n as u64 + 1).to_be_bytes().to_vec();
    let mut by_service: Vec<Vec<opentelemetry_proto::tonic::trace::v1::Span>> = vec![Vec::new(); 10];
    for n in 0..SPANS {
        let parent = match n {
            0 => None,
            1..=99 => Some(0),
            _ => Some(1 + (n - 100) / 100 % 99),
        };
        let mut s = span(9, 0, None, &format!("op-{}", n % 37), 2, start + n as u64 * 100_000, 2_000_000, 0, vec![]);
        s.span_id = id(n);
        s.parent_span_id = parent.map(id).unwrap_or_default();
        by_service[n % 10].push(s);
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .enumerate()
            .map(|(k, spans)| rs(&format!("big-{k}"), vec![], spans))
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_render_times_of_the_services_page_and_a_big_waterfall() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &db.url, &["--batch-max-delay", "20ms"]);
    let start = ollyscale::time::now_unix_nanos() - 600_000_000_000;
    send(&server, "traces", many_services(start).encode_to_vec(), None).await;
    send(&server, "traces", big_trace(start).encode_to_vec(), None).await;
    let trace = hex(&tid(9));
    wait_api(&server, "/services", |v| v["services"].as_array().is_some_and(|s| s.len() == SERVICES + 10)).await;
    wait_api(&server, &format!("/traces/{trace}"), |v| v["span_count"] == SPANS).await;

    let b = Browser::start().await;
    let mark = |name: &str| format!("return performance.getEntriesByName('{name}')[0]?.startTime ?? null;");
    let mut report = String::new();
    for run in 0..3 {
        b.open(&format!("{}/services", server.api_url()), "tr[data-service=\"svc-199\"]").await;
        let services_ms = b.js(&mark("services-rendered")).await;
        b.open(&format!("{}/traces/{trace}", server.api_url()), ".span-row").await;
        let trace_ms = b.js(&mark("waterfall-rendered")).await;
        // When the trace's JSON had arrived: the rest of the time is the browser's.
        let fetched = b
            .js("return performance.getEntriesByType('resource').find(e => e.name.includes('/api/v2/traces/'))?.responseEnd ?? null;")
            .await;
        report.push_str(&format!(
            "run {run}: services page ({} services) rendered at {services_ms:.0} ms; waterfall ({SPANS} spans) \
             rendered at {trace_ms:.0} ms, its JSON received at {fetched:.0} ms\n",
            SERVICES + 10,
            services_ms = services_ms.as_f64().unwrap_or(f64::NAN),
            trace_ms = trace_ms.as_f64().unwrap_or(f64::NAN),
            fetched = fetched.as_f64().unwrap_or(f64::NAN),
        ));
    }
    // Virtualised: a screenful of rows in the page, and scrolling to the end shows the last span.
    let rows = b.attrs(".span-row", "data-span-id").await.len();
    assert!(rows < 200, "{rows} rows in the page for a {SPANS}-span trace");
    b.js("const v = document.querySelector('.wf-viewport'); v.scrollTop = v.scrollHeight; return null;").await;
    let body = reqwest::get(format!("{}/api/v2/traces/{trace}", server.api_url())).await.unwrap().text().await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let last = json["spans"][SPANS - 1]["span_id"].as_str().unwrap().to_string();
    b.wait_until("the last span in view", &format!("document.querySelector('[data-span-id=\"{last}\"]')")).await;
    b.screenshot("trace-10k-light").await;
    b.no_console_errors("bench", &[]).await;
    b.close().await;
    println!("{report}");
    std::fs::create_dir_all(screenshot_dir()).unwrap();
    std::fs::write(screenshot_dir().join("bench.txt"), report).unwrap();
}
