//! The HTTP API under `/api/v1`. Each area has a `router()`; they merge here.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::error::ApiError;
use crate::state::{AppState, MAX_BODY_BYTES};

pub mod accounts;
pub mod auth;
pub mod basic;
pub mod console;
pub mod dashboard;
pub mod evidence;
pub mod models;
pub mod padan;
pub mod participation;
pub mod penetapan;
pub mod programs;
pub mod queue;
pub mod ranking;
pub mod review;
pub mod sync;
pub mod transfer;

/// The OpenAPI description, checked in and served as is.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(basic::router())
        .merge(auth::router())
        .merge(sync::router())
        .merge(review::router())
        .merge(queue::router())
        .merge(evidence::router())
        .merge(console::router())
        .merge(accounts::router())
        .merge(dashboard::router())
        .merge(transfer::router())
        .merge(ranking::router())
        .merge(penetapan::router())
        .merge(participation::router())
        .merge(programs::router())
        .merge(models::router())
        .merge(padan::router())
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn openapi() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
}

async fn not_found() -> ApiError {
    ApiError::NotFound("API route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
