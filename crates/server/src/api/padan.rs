//! `POST /padan/import?source=dukcapil|pln`: a Dukcapil or PLN extract (CSV) matched
//! with the register in the caller's area; each new finding is queued for review. See
//! [`crate::padan`].

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;

use crate::auth::{Auth, Role};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query, RawBody};
use crate::padan::{ImportReport, Source};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/padan/import",
        post(import).layer(axum::extract::DefaultBodyLimit::max(
            crate::api::transfer::MAX_IMPORT_BYTES,
        )),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    pub source: Source,
}

async fn import(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<ImportQuery>,
    RawBody(body): RawBody,
) -> ApiResult<Json<ImportReport>> {
    if !(user.role.can_review() || user.role == Role::Analyst) {
        return Err(ApiError::forbidden(
            "padan import (supervisors, dinsos, analysts, admins)",
        ));
    }
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let today = crate::ranking::utc_date(state.now());
    let report = crate::padan::import(&state.db, Some(&user), q.source, &body, today).await?;
    tracing::info!(
        user = user.id,
        source = q.source.name(),
        rows = report.rows,
        findings = report.findings,
        created = report.created,
        "padan import"
    );
    Ok(Json(report))
}
