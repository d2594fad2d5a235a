//! Serves the built PWA (`--dist`) on the same origin as the API.
//!
//! Hashed assets (Trunk's `style-<hash>.css`, and every file of the app's build
//! directory `app-<hash>/`: its js, main wasm and lazily loaded modules) are immutable for a year;
//! index.html, the service worker and the manifest are `no-cache`. Unknown paths without
//! a file extension fall back to index.html (the client router's routes).

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let Some(dist) = state
        .dist
        .as_deref()
        .filter(|d| d.join("index.html").is_file())
    else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Aplikasi web belum dibangun: jalankan `cargo xtask run`. API tetap tersedia di /api/v1.\n\
             The web app is not built: run `cargo xtask run` (it builds the PWA into dist/). The API still works under /api/v1.\n",
        )
            .into_response();
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response();
    }
    let path = req.uri().path().to_owned();
    let (file, name) = match resolve(dist, &path) {
        Some(found) => found,
        None => {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
    };
    let cache = cache_control(&name);
    let mime = content_type(&name);
    let mut resp = match ServeFile::new(&file)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(req)
        .await
    {
        Ok(r) => r.map(Body::new),
        Err(e) => match e {},
    };
    if name == "index.html"
        && let Some(v) = app_csp(&file)
    {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    // A worker runs under its script's policy: the service worker fetches and caches
    // the app's own files, so it may reach this origin (and nothing else).
    if name == "sw.js" {
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
        );
    }
    if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if let Ok(v) = HeaderValue::from_str(&mime) {
            resp.headers_mut().insert(header::CONTENT_TYPE, v);
        }
    }
    resp
}

/// The app page's Content-Security-Policy: everything from this origin only, wasm
/// compiled by the page's own scripts (`'wasm-unsafe-eval'`), and of inline scripts only
/// the page's own (the loader and the service worker's registration), each by its
/// SHA-256, computed from the built `index.html`; no frame may embed it.
fn app_csp(index: &Path) -> Option<HeaderValue> {
    let html = std::fs::read_to_string(index).ok()?;
    HeaderValue::from_str(&csp_for(&html)).ok()
}

/// The policy for an HTML page with these inline scripts ([`app_csp`]).
pub fn csp_for(html: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let mut hashes = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_start = &after[open_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = sha2::Sha256::digest(&body_start.as_bytes()[..close]);
            hashes.push_str(" 'sha256-");
            hashes.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
            hashes.push('\'');
        }
        rest = &body_start[close..];
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Maps a URL path to a file under `dist`: the file itself, or index.html for client routes.
fn resolve(dist: &Path, url_path: &str) -> Option<(PathBuf, String)> {
    let rel = url_path.trim_start_matches('/');
    let rel_path = Path::new(rel);
    let safe = rel_path
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        && !rel.contains('\\')
        && !rel.contains('%');
    if safe && !rel.is_empty() {
        let candidate = dist.join(rel_path);
        if candidate.is_file() {
            return Some((candidate, rel.to_owned()));
        }
    }
    let last = rel.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        // A missing file (e.g. an old hashed asset) is a 404, never index.html.
        return None;
    }
    Some((dist.join("index.html"), "index.html".to_owned()))
}

/// Whether `path` (relative to dist) never changes under its name: a file in the app's
/// build directory `app-<16 hex digits>/` (named after the hash of its files, which
/// refer to each other by fixed relative names), or a name Trunk hashed:
/// `stem-<16+ hex digits>` before the extension (and `_bg`).
pub fn is_hashed(path: &str) -> bool {
    let hex = |h: &str, min: usize| h.len() >= min && h.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some((dir, rest)) = path.split_once('/') {
        return !rest.is_empty()
            && !rest.contains('/')
            && dir
                .strip_prefix("app-")
                .is_some_and(|h| h.len() == 16 && hex(h, 16));
    }
    let stem = path.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, h)| hex(h, 16))
}

fn cache_control(name: &str) -> &'static str {
    if is_hashed(name) {
        IMMUTABLE
    } else {
        "no-cache"
    }
}

fn content_type(name: &str) -> String {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "wasm" => "application/wasm".into(),
        "js" | "mjs" => "text/javascript; charset=utf-8".into(),
        "html" => "text/html; charset=utf-8".into(),
        "css" => "text/css; charset=utf-8".into(),
        "webmanifest" => "application/manifest+json".into(),
        "json" => "application/json".into(),
        "csv" => "text/csv; charset=utf-8".into(),
        "svg" => "image/svg+xml".into(),
        "png" => "image/png".into(),
        "ico" => "image/x-icon".into(),
        "txt" => "text/plain; charset=utf-8".into(),
        "woff2" => "font/woff2".into(),
        _ => "application/octet-stream".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_hashes_each_inline_script_only() {
        let html = "<head><script type=\"module\">\nimport a from '/x.js';\n</script>\
                    <script src=\"/y.js\"></script><script>go()</script></head>";
        let csp = csp_for(html);
        // printf "\nimport a from '/x.js';\n" | sha256 | base64; printf 'go()' likewise.
        use base64::Engine;
        use sha2::Digest;
        let h = |s: &str| {
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s.as_bytes()))
        };
        assert!(csp.contains(&format!("'sha256-{}'", h("\nimport a from '/x.js';\n"))));
        assert!(csp.contains(&format!("'sha256-{}'", h("go()"))));
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
        assert!(
            !csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'")
        );
    }

    #[test]
    fn hashed_names() {
        assert!(is_hashed("tepat-app-3f2a9c1b0d4e5f67.js"));
        assert!(is_hashed("tepat-app-3f2a9c1b0d4e5f67_bg.wasm"));
        assert!(is_hashed("style-0123456789abcdef0123.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("sw.js"));
        assert!(!is_hashed("manifest.webmanifest"));
        assert!(!is_hashed("icon-192.png"));
        assert!(is_hashed("app-0123456789abcdef/tepat-app.js"));
        assert!(is_hashed("app-0123456789abcdef/tepat-app_bg.wasm"));
        assert!(is_hashed("app-0123456789abcdef/__wasm_split.js"));
        assert!(is_hashed("app-0123456789abcdef/split_keluarga.wasm"));
        assert!(!is_hashed("app-0123456789abcde/tepat-app.js"));
        assert!(!is_hashed("app-0123456789abcdeg/tepat-app.js"));
        assert!(!is_hashed("app-0123456789abcdef/"));
        assert!(!is_hashed("app-0123456789abcdef/x/y.js"));
        assert!(!is_hashed("icons/icon-192.png"));
        assert!(!is_hashed("icons/icon-0123456789abcdef.png"));
    }

    #[test]
    fn resolve_refuses_traversal_and_falls_back_only_for_routes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("index.html"), "x").unwrap();
        std::fs::write(d.path().join("a.js"), "x").unwrap();
        assert_eq!(resolve(d.path(), "/a.js").unwrap().1, "a.js");
        assert_eq!(resolve(d.path(), "/keluarga/123").unwrap().1, "index.html");
        assert_eq!(resolve(d.path(), "/").unwrap().1, "index.html");
        assert!(resolve(d.path(), "/missing-0123456789abcdef.js").is_none());
        assert_eq!(resolve(d.path(), "/../etc/passwd").unwrap().1, "index.html");
        assert!(resolve(d.path(), "/../a.js").is_none());
        std::fs::create_dir(d.path().join("app-0123456789abcdef")).unwrap();
        std::fs::write(d.path().join("app-0123456789abcdef/b.wasm"), "x").unwrap();
        assert_eq!(
            resolve(d.path(), "/app-0123456789abcdef/b.wasm").unwrap().1,
            "app-0123456789abcdef/b.wasm"
        );
        assert!(resolve(d.path(), "/app-0123456789abcdef/c.wasm").is_none());
    }
}
