//! Every page against one server holding the API tests' dataset (sent over OTLP, moved to five minutes ago),
//! in a light and a dark theme: what a person sees, no console errors, a screenshot each.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data, number_data_point,
};
use serde_json::json;

use super::{Browser, send_all, wait_api};
use crate::api::{T0, dataset, hex, kv, log_dataset, resource, s, sid, tid};
use crate::support::pg::test_db;
use crate::support::server::Server;

const MIN: u64 = 60_000_000_000;

/// The trace dataset with every time moved by `by` nanoseconds.
fn traces_moved(by: u64) -> ExportTraceServiceRequest {
    let mut req = dataset();
    for span in req.resource_spans.iter_mut().flat_map(|r| &mut r.scope_spans).flat_map(|s| &mut s.spans) {
        span.start_time_unix_nano += by;
        span.end_time_unix_nano += by;
        for e in &mut span.events {
            e.time_unix_nano += by;
        }
    }
    req
}

/// The log dataset with every time moved by `by` nanoseconds.
fn logs_moved(by: u64) -> ExportLogsServiceRequest {
    let mut req = log_dataset();
    for log in req.resource_logs.iter_mut().flat_map(|r| &mut r.scope_logs).flat_map(|s| &mut s.log_records) {
        log.time_unix_nano += by;
        log.observed_time_unix_nano += by;
    }
    req
}

/// A gauge `ui.temperature` of frontend with six points two minutes apart, the last at `last`.
fn gauge(last: u64) -> ExportMetricsServiceRequest {
    let point = |k: u64, v: f64, attrs: Vec<KeyValue>| NumberDataPoint {
        time_unix_nano: last - (5 - k) * 2 * MIN,
        value: Some(number_data_point::Value::AsDouble(v)),
        attributes: attrs,
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(vec![kv("service.name", s("frontend"))])),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "ui.temperature".into(),
                    unit: "Cel".into(),
                    data: Some(Data::Gauge(Gauge {
                        data_points: (0..6)
                            .map(|k| point(k, 40.0 + (k * k) as f64, vec![kv("core", s("0"))]))
                            .collect(),
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_shows_the_data_sent_in_light_and_dark_without_console_errors() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &db.url, &["--batch-max-delay", "20ms"]);
    let now = ollyscale::time::now_unix_nanos();
    let start = now - 5 * MIN;
    send_all(&server, &traces_moved(start - T0), &logs_moved(start - T0), &gauge(now - MIN)).await;
    let from = (now - 60 * MIN).to_string();
    wait_api(&server, "/services", |v| v["services"].as_array().is_some_and(|s| s.len() == 2)).await;
    wait_api(&server, &format!("/logs/search?from={from}"), |v| v["logs"].as_array().is_some_and(|l| l.len() == 4))
        .await;
    wait_api(&server, &format!("/metrics/search?from={from}&name=ui.temperature"), |v| v["metrics"] != json!([])).await;

    let b = Browser::start().await;
    let base = server.api_url();
    for (theme, dark) in [("light", false), ("dark", true)] {
        b.dark(dark).await;
        services(&b, &base, theme).await;
        trace_view(&b, &base, theme).await;
        trace_search(&b, &base, theme).await;
        logs(&b, &base, theme).await;
        metrics(&b, &base, theme).await;
        map(&b, &base, theme).await;
    }
    live_tail(&b, &server).await;
    b.close().await;
}

/// Live tail shows a record sent after the page opened, without a reload.
async fn live_tail(b: &Browser, server: &Server) {
    b.open(&format!("{}/logs?live=1", server.api_url()), "[role=status]").await;
    b.wait_until("the tail shows the dataset", "document.querySelectorAll('details.log').length === 4").await;
    let mut req = logs_moved(0);
    req.resource_logs.truncate(1);
    req.resource_logs[0].scope_logs[0].log_records.truncate(1);
    let rec = &mut req.resource_logs[0].scope_logs[0].log_records[0];
    rec.time_unix_nano = ollyscale::time::now_unix_nanos();
    rec.body = Some(s("a record sent while tailing"));
    super::send(server, "logs", prost::Message::encode_to_vec(&req), None).await;
    b.wait_until(
        "the new record on top",
        "document.querySelector('details.log .body')?.textContent === 'a record sent while tailing'",
    )
    .await;
    b.no_console_errors("live tail", &[]).await;
}

/// The cells of the services table's row of `service`.
async fn service_row(b: &Browser, service: &str) -> Vec<String> {
    let v = b
        .js(&format!(
            "return [...document.querySelectorAll('tr[data-service=\"{service}\"] td')].map(td => td.textContent);"
        ))
        .await;
    serde_json::from_value(v).unwrap()
}

async fn services(b: &Browser, base: &str, theme: &str) {
    b.open(&format!("{base}/"), "tr[data-service]").await;
    let dark = b.js("return matchMedia('(prefers-color-scheme: dark)').matches;").await;
    assert_eq!(dark, json!(theme == "dark"), "the page follows the emulated theme");
    assert_eq!(b.attrs("tr[data-service]", "data-service").await.len(), 2);
    // Columns: service, requests, rate, errors, p50, p95, p99, spans.
    let frontend = service_row(b, "frontend").await;
    assert_eq!(frontend[0], "frontend");
    assert_eq!(frontend[1], "2", "{frontend:?}");
    assert_eq!(frontend[3], "50.0% (1)", "{frontend:?}");
    assert_eq!(frontend[4], "100ms", "{frontend:?}");
    let checkout = service_row(b, "checkout").await;
    assert_eq!(checkout[1], "3", "{checkout:?}");
    assert_eq!(checkout[7], "5", "{checkout:?}");
    b.no_console_errors("services", &[]).await;
    b.screenshot(&format!("services-{theme}")).await;

    // A service's page: charts over time and its operations.
    b.click("tr[data-service=\"frontend\"] a").await;
    b.wait_for("section table").await;
    assert!(b.url().await.ends_with("/services/frontend"), "{}", b.url().await);
    b.wait_until("three charts", "document.querySelectorAll('.charts svg.chart').length === 3").await;
    let ops = b.text("section table").await;
    assert!(ops.contains("GET /cart") && ops.contains("GET /pay"), "{ops}");
    b.no_console_errors("service", &[]).await;
    b.screenshot(&format!("service-{theme}")).await;
}

async fn trace_view(b: &Browser, base: &str, theme: &str) {
    let t1 = hex(&tid(1));
    b.open(&format!("{base}/traces/{t1}"), ".span-row").await;
    // One bar per span, parents before their children.
    let order = b.attrs(".span-row", "data-span-id").await;
    let expected: Vec<String> = (1..=4).map(|k| hex(&sid(1, k))).collect();
    assert_eq!(order, expected);
    assert_eq!(b.attrs(".span-row", "data-depth").await, ["0", "1", "2", "2"]);
    assert_eq!(b.attrs(".span-row .wf-bar", "style").await.len(), 4);
    // The span panel: attributes by level, the event, the link, the span's logs.
    b.click(".span-row").await;
    b.wait_for(".span-panel table.kv").await;
    let panel = b.text(".span-panel").await;
    for seen in ["GET /cart", "user", "alice", "team", "web", "tracer", "cache miss", "SERVER"] {
        assert!(panel.contains(seen), "the span panel lacks {seen:?}:\n{panel}");
    }
    b.js("window.scrollTo(0, 0); return null;").await;
    b.screenshot(&format!("trace-{theme}")).await;
    let link = b.attrs(".span-panel a.span-link", "href").await;
    assert_eq!(link.len(), 1);
    assert!(link[0].contains(&format!("/traces/{}", hex(&tid(3)))), "{link:?}");
    let logs_button = b
        .client
        .find(fantoccini::Locator::XPath("//aside//button[text()='Logs of this span']"))
        .await
        .expect("a logs-of-this-span button");
    logs_button.click().await.unwrap();
    b.wait_for(".span-logs details.log").await;
    assert!(b.text(".span-logs").await.contains("cart viewed"));
    assert!(b.url().await.contains(&format!("span={}", hex(&sid(1, 1)))), "the selected span is in the address");
    // Collapsing the checkout span hides its two children.
    b.click(".span-row[data-depth=\"1\"] button.toggle").await;
    b.wait_until("collapsed", "document.querySelectorAll('.span-row').length === 2").await;
    b.click(".span-row[data-depth=\"1\"] button.toggle").await;
    b.wait_until("expanded", "document.querySelectorAll('.span-row').length === 4").await;
    b.no_console_errors("trace", &[]).await;
}

async fn trace_search(b: &Browser, base: &str, theme: &str) {
    // A deep link restores the form and shows the one matching trace.
    let q = "service=frontend&name=GET%20%2Fpay&status=ERROR&min_duration=100ms&attr=user%20eq%20bob";
    b.open(&format!("{base}/traces?{q}"), ".trace-row").await;
    let form = b
        .js("const f = document.querySelector('form.search'); \
             return ['service', 'name', 'status', 'min_duration', 'attr'].map(n => f.elements[n].value);")
        .await;
    assert_eq!(form, json!(["frontend", "GET /pay", "ERROR", "100ms", "user eq bob"]));
    assert_eq!(b.attrs(".trace-row", "data-trace-id").await, [hex(&tid(2))]);
    b.no_console_errors("trace search (deep link)", &[]).await;
    // All traces: three rows and three points on the scatter plot; a point opens its trace.
    b.open(&format!("{base}/traces"), ".trace-row").await;
    assert_eq!(b.attrs(".trace-row", "data-trace-id").await.len(), 3);
    assert_eq!(b.attrs("svg.chart circle.dot", "cx").await.len(), 3);
    let row = b.text(".trace-row").await;
    assert!(
        row.contains("checkout") && row.contains("cron") && row.contains("1 span") && !row.contains("1 spans"),
        "newest first: {row}"
    );
    b.screenshot(&format!("traces-{theme}")).await;
    b.click("svg.chart circle.dot.error").await;
    b.wait_for(".span-row").await;
    assert!(b.url().await.contains(&format!("/traces/{}", hex(&tid(2)))), "{}", b.url().await);
    b.no_console_errors("trace search", &[]).await;
}

async fn logs(b: &Browser, base: &str, theme: &str) {
    b.open(&format!("{base}/logs"), "details.log").await;
    assert_eq!(b.attrs("details.log", "data-severity").await, ["DEBUG", "ERROR", "WARN", "INFO"]);
    b.wait_for("svg.chart rect.bar").await;
    let bars = b.attrs("svg.chart rect.bar", "data-key").await;
    for sev in ["DEBUG", "INFO", "WARN", "ERROR"] {
        assert!(bars.iter().any(|k| k == sev), "no {sev} bar in {bars:?}");
    }
    b.click("details.log summary").await;
    b.no_console_errors("logs", &[]).await;
    b.screenshot(&format!("logs-{theme}")).await;
    // The body search finds the record, and its trace link opens that trace at its span.
    b.open(&format!("{base}/logs?body=payment"), "details.log").await;
    assert_eq!(b.attrs("details.log", "data-severity").await.len(), 1);
    assert!(b.text("details.log summary").await.contains("payment failed"));
    assert_eq!(b.js("return document.querySelector('form.search').elements.body.value;").await, json!("payment"));
    b.click("details.log summary").await;
    b.click("details.log a.trace-link").await;
    b.wait_for(".span-row.selected").await;
    assert!(b.url().await.contains(&format!("/traces/{}", hex(&tid(2)))), "{}", b.url().await);
    assert_eq!(b.attrs(".span-row.selected", "data-span-id").await, [hex(&sid(2, 2))]);
    b.no_console_errors("logs search", &[]).await;
}

async fn metrics(b: &Browser, base: &str, theme: &str) {
    b.open(&format!("{base}/metrics?name=ui.temperature"), "svg.chart path.line").await;
    assert_eq!(b.attrs("svg.chart path.line", "data-points").await, ["6"]);
    let legend = b.text(".legend").await;
    assert!(legend.contains("frontend {core=0}"), "{legend}");
    b.no_console_errors("metrics", &[]).await;
    b.screenshot(&format!("metrics-{theme}")).await;
}

async fn map(b: &Browser, base: &str, theme: &str) {
    b.open(&format!("{base}/map"), "svg.map g.edge").await;
    let calls = b.attrs("g.edge[data-source=\"frontend\"][data-target=\"checkout\"]", "data-calls").await;
    assert_eq!(calls, ["2"]);
    assert_eq!(b.attrs("g.edge[data-source=\"checkout\"][data-target=\"postgresql\"]", "data-calls").await, ["1"]);
    b.no_console_errors("map", &[]).await;
    b.screenshot(&format!("map-{theme}")).await;
    b.click("g.node[data-node=\"checkout\"]").await;
    b.wait_for("section table").await;
    assert!(b.url().await.contains("/services/checkout"), "{}", b.url().await);
    b.no_console_errors("map click", &[]).await;
}
