//! The web UI on the API port: the files of `ui/` embedded in the executable (rust-embed; a debug build reads
//! them from the source tree), the page URLs answered with the UI's index (the browser-side router picks the
//! page), assets with their content type and an ETag to revalidate against.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(rust_embed::Embed)]
#[folder = "ui/"]
struct Files;

/// The page URLs of the UI (the UI's metrics explorer at `/metrics` shares its path with the Prometheus
/// exposition: see [`wants_html`]).
pub const PAGES: &[&str] = &["/", "/services", "/services/{service}", "/traces", "/traces/{trace_id}", "/logs", "/map"];

/// The router of the UI's pages and assets; the API port merges it next to `/api/v2`.
pub fn router() -> Router {
    let mut r = Router::new();
    for page in PAGES {
        r = r.route(page, get(index));
    }
    r.route("/assets/{*path}", get(asset))
}

/// Whether a request for a shared path comes from a browser opening a page (it lists `text/html` in
/// Accept) rather than from a program (scrapers and curl do not).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/html")))
}

/// The UI's index: never cached without asking, so a new build's asset list is seen at once.
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers, "no-cache")
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // Cached for five minutes, then revalidated with the ETag (a 304 when the build did not change it).
    serve(&format!("assets/{path}"), &headers, "public, max-age=300, must-revalidate")
}

fn serve(path: &str, headers: &HeaderMap, cache: &'static str) -> Response {
    let Some(file) = Files::get(path) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "no such file\n")
            .into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { file.data.into_owned().into_response() };
    let h = resp.headers_mut();
    let mime = match file.metadata.mimetype() {
        // The browser runs modules only when served as JavaScript; text types get their charset.
        "application/javascript" => "text/javascript; charset=utf-8".to_string(),
        m if m.starts_with("text/") => format!("{m}; charset=utf-8"),
        m => m.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn call(uri: &str, headers: &[(&str, &str)]) -> Response {
        let app = crate::api::router(crate::api::ApiState::default(), Some(crate::query::QueryOptions::default()));
        let mut req = Request::get(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap()
    }

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[tokio::test]
    async fn pages_answer_the_index_and_the_api_keeps_its_json_404() {
        for uri in ["/", "/services", "/services/checkout", "/traces?service=a", "/traces/00ff", "/logs", "/map"] {
            let r = call(uri, &[]).await;
            assert_eq!(r.status(), StatusCode::OK, "{uri}");
            assert_eq!(header_of(&r, header::CONTENT_TYPE), "text/html; charset=utf-8", "{uri}");
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache", "{uri}");
        }
        let r = call("/api/v2/nope", &[("accept", "text/html")]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/json");
    }

    #[tokio::test]
    async fn metrics_is_the_explorer_for_browsers_and_the_exposition_for_scrapers() {
        let r = call("/metrics?name=x", &[("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")]).await;
        assert_eq!(header_of(&r, header::CONTENT_TYPE), "text/html; charset=utf-8");
        let r = call("/metrics", &[("accept", "text/plain;version=0.0.4;q=0.3,*/*;q=0.1")]).await;
        assert!(header_of(&r, header::CONTENT_TYPE).starts_with("text/plain"));
        let r = call("/metrics", &[]).await;
        assert!(header_of(&r, header::CONTENT_TYPE).starts_with("text/plain"));
    }

    #[tokio::test]
    async fn assets_have_their_type_and_revalidate_with_the_etag() {
        let r = call("/assets/app.js", &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header_of(&r, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
        assert!(header_of(&r, header::CACHE_CONTROL).contains("must-revalidate"));
        let etag = header_of(&r, header::ETAG).to_string();
        assert!(etag.starts_with('"'), "{etag}");
        let again = call("/assets/app.js", &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let css = call("/assets/style.css", &[]).await;
        assert_eq!(header_of(&css, header::CONTENT_TYPE), "text/css; charset=utf-8");
        assert_eq!(call("/assets/nope.js", &[]).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(call("/assets/../Cargo.toml", &[]).await.status(), StatusCode::NOT_FOUND);
    }
}
