//! The whole application router and the `serve` loop.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::db::Db;
use crate::state::{AppState, Settings};

/// API under `/api/v1`, the PWA everywhere else; responses compressed (br, gzip).
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", crate::api::api_router())
        .route("/api", axum::routing::any(api_root))
        .fallback(crate::static_files::serve)
        .layer(CompressionLayer::new().br(true).gzip(true))
        // Logs method, path and status only: never bodies, which carry NIKs and names.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
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
    axum::serve(
        listener,
        app(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
    state.db.pool.close().await;
    tracing::info!("shut down cleanly");
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
