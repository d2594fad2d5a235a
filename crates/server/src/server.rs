//! The whole application router and the `serve` loop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::ConnectInfo;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::db::Db;
use crate::state::{AppState, Settings};

/// API under `/api/v1`, the PWA everywhere else; responses compressed (br, gzip).
pub fn app(state: AppState) -> Router {
    app_with(state, Limits::default().body_pause)
}

/// [`app`] with a request body that may pause at most `body_pause` between chunks
/// (then 408 and the connection closes).
pub fn app_with(state: AppState, body_pause: Duration) -> Router {
    Router::new()
        .nest("/api/v1", crate::api::api_router())
        .route("/api", axum::routing::any(api_root))
        .fallback(crate::static_files::serve)
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(RequestBodyTimeoutLayer::new(body_pause))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            storage_watch,
        ))
        // Logs method, path (identifiers redacted) and status only: never bodies or
        // query strings, which carry NIKs, No. KKs and names.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("http", method = %req.method(), path = %redact_path(req.uri().path()))
            }),
        )
        .with_state(state)
}

/// Headers on every response: no MIME sniffing, no referrer, no framing, a
/// Content-Security-Policy (the app page sets its own, [`crate::static_files`]; anything
/// else may load nothing), HSTS when the server is reached over TLS (`TEPAT_HSTS`), and
/// `Cache-Control: no-store` on every API answer that does not set its own (families,
/// names and NIKs must not stay in a browser's or a proxy's cache).
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let api = req.uri().path().starts_with("/api");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    if state.settings.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A request path as logs may show it: every segment that holds a long number (a No.
/// KK or NIK, whatever else is around it or however it is percent-encoded) becomes
/// `{id}`. Region codes (`32.01.01.2001`) and route words stay.
pub fn redact_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let decoded = percent_decode(seg);
            let digits = decoded.bytes().filter(u8::is_ascii_digit).count();
            let parts: Vec<&str> = decoded.split('.').collect();
            let region_code = parts.len() <= 4
                && parts
                    .iter()
                    .zip([2, 2, 2, 4])
                    .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_digit()));
            if digits >= 8 && !region_code {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `%XX` decoded (invalid escapes kept as they are), lossily as UTF-8.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Tells the database's health what writes found: a response marked
/// [`crate::error::StorageFullMark`] (a write failed on a full disk) makes `/health`
/// degraded; a successful write (a 2xx answer to anything but GET or HEAD, none of
/// whose writes failed) clears it.
async fn storage_watch(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let write = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let failures = state.db.full_failures();
    let resp = next.run(req).await;
    if resp
        .extensions()
        .get::<crate::error::StorageFullMark>()
        .is_some()
    {
        state.db.write_failed_full();
    } else if write
        && resp.status().is_success()
        && state.db.full_since().is_some()
        // No write of this request failed on the full disk (a login may still
        // succeed with a session kept in memory).
        && state.db.full_failures() == failures
    {
        state.db.write_succeeded();
    }
    resp
}

async fn api_root() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("API route (use /api/v1)".into())
}

pub struct ServeOptions {
    pub addr: SocketAddr,
    pub database_url: String,
    pub dist: Option<PathBuf>,
    pub demo: bool,
}

/// What one client may hold of the server: against slow and idle sockets.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request's head (request line and headers) must arrive within this, from the
    /// first byte or, on a kept-alive connection, from the end of the last response:
    /// it is also the idle timeout. Then the connection is closed.
    pub header_read: Duration,
    /// A request body may pause this long between chunks (then 408); see [`app_with`].
    pub body_pause: Duration,
    /// Connections open at once; the next ones wait in the listen queue until one closes.
    pub max_connections: usize,
}

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&v| v > 0)
            .unwrap_or(default),
    )
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: env_secs("TEPAT_HEADER_TIMEOUT_SECS", 10),
            body_pause: env_secs("TEPAT_BODY_TIMEOUT_SECS", 30),
            max_connections: std::env::var("TEPAT_MAX_CONNECTIONS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .unwrap_or(1024),
        }
    }
}

/// Connects, migrates, seeds (with `demo`), binds, prints `Tepat listening on http://ADDR`
/// and serves until Ctrl-C or SIGTERM.
pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    let db = Db::connect(&opts.database_url).await?;
    let state = AppState::new(db, opts.dist.clone(), Settings::default())?;
    if opts.demo {
        crate::seed::seed_demo(&state, &mut std::io::stdout()).await?;
    }
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .with_context(|| format!("binding {}", opts.addr))?;
    let local = listener.local_addr()?;
    if let Some(dist) = &opts.dist
        && !dist.join("index.html").is_file()
    {
        tracing::warn!(dist = %dist.display(), "PWA not built; `/` answers 503 until `cargo xtask run` builds it");
    }
    println!("Tepat listening on http://{local}");
    let limits = Limits::default();
    serve_on(
        listener,
        app_with(state.clone(), limits.body_pause),
        limits,
        shutdown_signal(),
    )
    .await?;
    state.db.pool.close().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then lets the
/// open connections finish (at most 30 s). Each request carries its peer's
/// `ConnectInfo<SocketAddr>`.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    // HTTP/1.1 only: a client's first bytes are read as a request head at once, under
    // the header timeout (sniffing for HTTP/2 would wait for them without one). Browsers
    // speak HTTP/2 only over TLS, which a reverse proxy in front terminates.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.context("connection slots")?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then accept again.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                async move {
                    use tower::ServiceExt;
                    app.oneshot(req.map(axum::body::Body::new)).await
                }
            });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("connections still open after 30 s; closing");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::redact_path;

    #[test]
    fn paths_lose_their_identifiers() {
        assert_eq!(
            redact_path("/api/v1/households/3201012906870001"),
            "/api/v1/households/{id}"
        );
        assert_eq!(
            redact_path("/api/v1/x/kk-3201012906870001.json/history"),
            "/api/v1/x/{id}/history"
        );
        assert_eq!(
            redact_path("/api/v1/x/%33%32%30%31%30%31%32%39%30%36"),
            "/api/v1/x/{id}"
        );
        assert_eq!(
            redact_path("/api/v1/assignments/village/32.01.01.2001"),
            "/api/v1/assignments/village/32.01.01.2001"
        );
        assert_eq!(redact_path("/api/v1/sync/pull"), "/api/v1/sync/pull");
        assert_eq!(
            redact_path("/api/v1/x/3201.0129.0687.0001"),
            "/api/v1/x/{id}"
        );
    }
}
