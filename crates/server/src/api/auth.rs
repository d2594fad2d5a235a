//! Login, logout and the current user.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, ClientAddr, Role, User, bearer};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::scope::{districts_of, villages_of};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct UserView {
    pub username: String,
    pub role: Role,
    /// Assigned region codes at the role's level (empty for national roles).
    pub regions: Vec<String>,
    /// Villages in scope (empty for national roles: analysts and admins see all).
    pub villages: Vec<String>,
    /// Districts in scope (empty for national roles).
    pub districts: Vec<String>,
    pub national: bool,
    /// May push changes ([`Role::can_write`]): the app offers no change to others.
    pub can_write: bool,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: String,
    pub user: UserView,
}

pub fn user_view(state: &AppState, user: &User) -> UserView {
    UserView {
        username: user.username.clone(),
        role: user.role,
        regions: user.regions.clone(),
        villages: villages_of(&state.regions, user),
        districts: districts_of(&state.regions, user),
        national: user.role.is_national(),
        can_write: user.role.can_write(),
    }
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    if req.username.len() > 64 || req.password.len() > 1024 {
        return Err(ApiError::BadCredentials);
    }
    state
        .take_login_token(&req.username, &client)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let (token, expires, user) = crate::auth::login(&state, &req.username, &req.password).await?;
    state.login_succeeded(&req.username, &client);
    let audited = crate::audit::record(
        &state.db.pool,
        crate::audit::NewEntry {
            user: Some(&user),
            action: "login",
            ..Default::default()
        },
    )
    .await;
    match audited {
        Ok(()) => {}
        // A full disk: the login still reads (its session may be a read-only one).
        Err(e) if crate::error::is_disk_full(&e) => {
            state.db.write_failed_full();
            tracing::warn!(user = user.id, "login not audited: the disk is full");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(LoginResponse {
        token,
        expires_at: rfc3339(expires),
        user: user_view(&state, &user),
    }))
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let token = bearer(&headers).ok_or(ApiError::Unauthorized)?;
    state
        .read_only_sessions
        .forget(&crate::auth::token_hash(token));
    crate::auth::revoke(&state.db, token).await?;
    state.sessions.forget(&crate::auth::token_hash(token));
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, Auth(user): Auth) -> Json<UserView> {
    Json(user_view(&state, &user))
}
