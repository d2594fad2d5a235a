//! Program-rules versions from the console: publish (admin) and list (console roles).
//! See [`crate::programs`].

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::console::require_console;
use crate::auth::{Auth, Role};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, JsonText};
use crate::rulebooks::Published;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/programs", get(list).post(publish))
}

/// `GET /programs`: the published program-rules versions, oldest first.
async fn list(State(state): State<AppState>, Auth(user): Auth) -> ApiResult<Json<Value>> {
    require_console(&user)?;
    let versions = crate::programs::list(&state.db).await?;
    Ok(Json(json!({ "versions": versions })))
}

/// `POST /programs`: the body is a programs file (`tepat-programs/1`), stored as sent.
/// 201 when new, 200 when the same version was published with the same content.
async fn publish(
    State(state): State<AppState>,
    Auth(user): Auth,
    JsonText(text): JsonText,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if user.role != Role::Admin {
        return Err(ApiError::forbidden(
            "program rules are published by an admin",
        ));
    }
    let (status, version, new) =
        match crate::programs::publish(&state.db, Some(&user), &text).await? {
            Published::New { version } => (StatusCode::CREATED, version, true),
            Published::Unchanged { version, .. } => (StatusCode::OK, version, false),
        };
    let rules = crate::programs::get(&state.db, &version).await?;
    Ok((
        status,
        Json(json!({
            "version": version,
            "effective_date": rules.source().effective_date.to_string(),
            "new": new,
        })),
    ))
}
