//! The web UI in a real browser: Debian's Chromium, headless, driven over WebDriver (fantoccini) by
//! chromedriver, against the real server binary with data sent over OTLP/HTTP. The tests assert what a person
//! sees, fail on any error in the browser's console, and save a screenshot of each page under
//! `target/ui-screenshots/`.

mod auth;
mod bench;
mod pages;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::{Value, json};

use crate::support::server::Server;

/// How long a page may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(20);

/// A chromedriver process and one headless Chromium session on it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver_pid: u32,
    _profile: tempfile::TempDir,
}

/// A WebDriver command chromedriver has beyond the W3C set: `POST /session/{id}/{path}` with a JSON body.
#[derive(Debug)]
struct Vendor {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Vendor {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

impl Browser {
    /// Starts chromedriver (Debian's `chromium-driver`) on a free port and opens a headless session with a
    /// fresh profile and browser logging on.
    pub async fn start() -> Browser {
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromedriver not found: apt-get install chromium chromium-driver (.ci/run does)");
        let port = crate::support::ports::free_port();
        let mut cmd = std::process::Command::new(driver);
        cmd.arg(format!("--port={port}")).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let driver_pid = ollyscale::db::local_cluster::spawn_tied(cmd, libc::SIGKILL).expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1400,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        // Both rustls providers are linked into the tests; chromedriver is plain HTTP, but the builder asks.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("TLS roots")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("open a Chromium session");
        Browser { client, driver_pid, _profile: profile }
    }

    /// Opens `url` and waits for `css` to be on the page.
    pub async fn open(&self, url: &str, css: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.wait_for(css).await;
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let body = self.text("body").await;
                panic!("{css} did not appear on {}: {e}; the page shows:\n{body}", self.url().await)
            }
        }
    }

    /// Waits until `script` (a JavaScript expression) is true.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.js(&format!("return !!({script});")).await == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not true within {WAIT:?} on {}; the page shows:\n{}",
                    self.url().await,
                    self.text("body").await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        e.click().await.unwrap_or_else(|err| panic!("click {css}: {err}"));
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// The visible text of the first element matching `css` ("" when there is none).
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The values of `attr` of every element matching `css`, in page order.
    pub async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(e.attr(attr).await.unwrap().unwrap_or_default());
        }
        out
    }

    /// The current address.
    pub async fn url(&self) -> String {
        self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default()
    }

    /// Makes the page follow a dark (or light) system theme, as `prefers-color-scheme` reports it.
    pub async fn dark(&self, on: bool) {
        let scheme = if on { "dark" } else { "light" };
        self.client
            .issue_cmd(Vendor {
                path: "goog/cdp/execute",
                body: json!({"cmd": "Emulation.setEmulatedMedia",
                    "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}}),
            })
            .await
            .expect("emulate the colour scheme");
    }

    /// The browser console's entries since the last call.
    pub async fn console(&self) -> Vec<Value> {
        let v = self
            .client
            .issue_cmd(Vendor { path: "se/log", body: json!({"type": "browser"}) })
            .await
            .expect("read the browser log");
        v.as_array().cloned().unwrap_or_default()
    }

    /// Fails on any error in the console since the last call, except entries containing one of `expected`.
    pub async fn no_console_errors(&self, page: &str, expected: &[&str]) {
        let errors: Vec<Value> = self
            .console()
            .await
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .filter(|e| !expected.iter().any(|x| e["message"].as_str().unwrap_or("").contains(x)))
            .collect();
        assert!(errors.is_empty(), "{page}: console errors: {errors:#?}");
    }

    /// Saves a screenshot as `target/ui-screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the session and chromedriver.
    pub async fn close(self) {
        let _ = self.client.close().await;
        // SAFETY: signalling the chromedriver this test started.
        unsafe { libc::kill(self.driver_pid as i32, libc::SIGKILL) };
    }
}

/// Where screenshots and recorded figures go.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("ui-screenshots")
}

/// POSTs an OTLP/HTTP protobuf export to `server`; it must be acknowledged.
pub async fn send(server: &Server, signal: &str, body: Vec<u8>, token: Option<&str>) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/{signal}", server.http_url()))
        .header("content-type", "application/x-protobuf")
        .body(body);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = req.send().await.expect("send OTLP");
    assert!(resp.status().is_success(), "export of {signal} refused: {}", resp.status());
}

/// Sends traces, logs and metrics.
pub async fn send_all(
    server: &Server,
    traces: &ExportTraceServiceRequest,
    logs: &ExportLogsServiceRequest,
    metrics: &ExportMetricsServiceRequest,
) {
    send(server, "traces", traces.encode_to_vec(), None).await;
    send(server, "logs", logs.encode_to_vec(), None).await;
    send(server, "metrics", metrics.encode_to_vec(), None).await;
}

/// Waits until the API answers `path` (under /api/v2) with 200 and `ready` holds for the JSON.
pub async fn wait_api(server: &Server, path: &str, ready: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/api/v2{path}", server.api_url())).await
            && r.status().is_success()
            && let Ok(text) = r.text().await
            && let Ok(v) = serde_json::from_str::<Value>(&text)
            && ready(&v)
        {
            return;
        }
        assert!(Instant::now() < deadline, "{path} did not show the data within 60 s; log:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
