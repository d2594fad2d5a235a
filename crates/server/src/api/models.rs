//! Ranking-model versions: publish (admin), list (console roles) and download (every
//! signed-in role: devices score previews with it). See [`crate::models`].

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::console::require_console;
use crate::auth::{Auth, Role};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, JsonText};
use crate::rulebooks::Published;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/models", get(list).post(publish))
        .route("/models/{version}", get(one))
}

/// `GET /models`: the published model versions, oldest first.
async fn list(State(state): State<AppState>, Auth(user): Auth) -> ApiResult<Json<Value>> {
    require_console(&user)?;
    let versions = crate::models::list(&state.db).await?;
    Ok(Json(json!({ "versions": versions })))
}

/// `GET /models/{version}`: the model's JSON exactly as published. A published version
/// never changes, so it may be cached for good.
async fn one(
    State(state): State<AppState>,
    Auth(_user): Auth,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    if !crate::rulebooks::valid_version(&version) {
        return Err(ApiError::NotFound("model".into()));
    }
    let text = match crate::models::source(&state.db, &version).await {
        Ok(t) => t,
        Err(crate::models::ModelsError::Unknown(_)) => {
            return Err(ApiError::NotFound("model".into()));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        text,
    )
        .into_response())
}

/// `POST /models`: the body is a ranking model (`tepat-pmt/1`), stored as sent. 201 when
/// new, 200 when the same version was published with the same content.
async fn publish(
    State(state): State<AppState>,
    Auth(user): Auth,
    JsonText(text): JsonText,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if user.role != Role::Admin {
        return Err(ApiError::forbidden(
            "ranking models are published by an admin",
        ));
    }
    let (status, version, new) = match crate::models::publish(&state.db, Some(&user), &text).await?
    {
        Published::New { version } => (StatusCode::CREATED, version, true),
        Published::Unchanged { version, .. } => (StatusCode::OK, version, false),
    };
    Ok((status, Json(json!({ "version": version, "new": new }))))
}
