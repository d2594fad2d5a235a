//! Accounts and assignments for the console: the admin manages every account, Dinsos
//! the facilitators and koordinators of its regency; every other role is refused. The
//! work is [`crate::accounts`] (the CLI's functions too); these handlers check the role,
//! take a write token (the rate limit), and say what changed.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::{self, Account, Assign, NewAccount};
use crate::auth::{Auth, Role, User};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{username}/disable", post(disable))
        .route("/accounts/{username}/enable", post(enable))
        .route("/accounts/{username}/password", post(password))
        .route("/accounts/{username}/assignments", put(assignments))
        .route("/assignments/village/{code}", put(move_village))
        .route("/regions/children", get(children))
}

/// Account management: admins, and Dinsos for its regency.
fn require_manager(user: &User) -> ApiResult<()> {
    if matches!(user.role, Role::Admin | Role::DinsosAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "accounts (admins, dinsos for its regency)",
        ))
    }
}

/// A write: the role, then the account's rate limit.
fn begin_write(state: &AppState, user: &User) -> ApiResult<()> {
    require_manager(user)?;
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

/// Families (current heads) per village, for the villages given.
async fn families_by_village(
    state: &AppState,
    villages: &[&str],
) -> ApiResult<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    if villages.is_empty() {
        return Ok(out);
    }
    for chunk in villages.chunks(400) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT village, COUNT(*) FROM households WHERE village IN ({}) GROUP BY village",
            params.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        out.extend(q.fetch_all(&state.db.pool).await?);
    }
    Ok(out)
}

/// An account as the API shows it: its assignments with their names, and for a
/// facilitator the worklist size (families in its villages).
fn view(state: &AppState, a: &Account, families: &std::collections::HashMap<String, i64>) -> Value {
    let assignments: Vec<Value> = a
        .regions
        .iter()
        .map(|code| {
            json!({
                "code": code,
                "name": state.regions.name(code),
                "families": (a.role == Role::Facilitator)
                    .then(|| families.get(code).copied().unwrap_or(0)),
            })
        })
        .collect();
    let worklist = (a.role == Role::Facilitator).then(|| {
        a.regions
            .iter()
            .map(|c| families.get(c).copied().unwrap_or(0))
            .sum::<i64>()
    });
    json!({
        "username": a.username,
        "display_name": a.display_name,
        "role": a.role,
        "disabled": a.disabled,
        "created_at": rfc3339(a.created_at),
        "regions": a.regions,
        "assignments": assignments,
        "worklist": worklist,
    })
}

async fn view_one(state: &AppState, a: &Account) -> ApiResult<Value> {
    let villages: Vec<&str> = a.regions.iter().map(String::as_str).collect();
    let families = if a.role == Role::Facilitator {
        families_by_village(state, &villages).await?
    } else {
        Default::default()
    };
    Ok(view(state, a, &families))
}

/// One account and one of its assignments (none: `NULL`), as the list reads them.
type AccountRow = (
    i64,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<String>,
);

/// `GET /accounts`: every account for the admin; for Dinsos those it manages.
async fn list(State(state): State<AppState>, Auth(user): Auth) -> ApiResult<Json<Value>> {
    require_manager(&user)?;
    let rows: Vec<AccountRow> =
        sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.created_at, a.region FROM users u \
             LEFT JOIN assignments a ON a.user_id = u.id ORDER BY u.username, a.region",
        )
        .fetch_all(&state.db.pool)
        .await?;
    let mut all: Vec<Account> = Vec::new();
    for (id, username, display_name, role, disabled, created_at, region) in rows {
        if all.last().is_none_or(|a| a.id != id) {
            let Some(role) = Role::parse(&role) else {
                continue;
            };
            all.push(Account {
                id,
                username,
                display_name,
                role,
                disabled: disabled != 0,
                created_at,
                regions: Vec::new(),
            });
        }
        if let Some(last) = all.last_mut()
            && last.id == id
        {
            last.regions.extend(region);
        }
    }
    all.retain(|a| accounts::manages(Some(&user), a.role, &a.regions));
    let villages: Vec<&str> = all
        .iter()
        .filter(|a| a.role == Role::Facilitator)
        .flat_map(|a| a.regions.iter().map(String::as_str))
        .collect();
    let families = families_by_village(&state, &villages).await?;
    let out: Vec<Value> = all.iter().map(|a| view(&state, a, &families)).collect();
    Ok(Json(json!({ "accounts": out })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub role: Role,
    pub password: String,
    #[serde(default)]
    pub regions: Vec<String>,
}

/// `POST /accounts`: a new account, with its first assignments (Dinsos must give some
/// in its regency, for a facilitator or koordinator).
async fn create(
    State(state): State<AppState>,
    Auth(user): Auth,
    Json(req): Json<CreateRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    begin_write(&state, &user)?;
    if req
        .display_name
        .as_ref()
        .is_some_and(|d| d.chars().count() > 100)
    {
        return Err(ApiError::unprocessable(
            "Nama tampilan paling banyak 100 karakter. / The display name may have at most 100 characters.",
            json!({ "path": "display_name" }),
        ));
    }
    let new = NewAccount {
        username: &req.username,
        display_name: req.display_name.as_deref(),
        role: req.role,
        password: &req.password,
        regions: &req.regions,
    };
    accounts::create(&state.db, &state.regions, Some(&user), new).await?;
    let account = accounts::find(&state.db, &req.username)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("account just created is gone")))?;
    Ok((StatusCode::CREATED, Json(view_one(&state, &account).await?)))
}

async fn set_disabled(
    state: AppState,
    user: User,
    username: String,
    disabled: bool,
) -> ApiResult<Json<Value>> {
    begin_write(&state, &user)?;
    let account = accounts::set_disabled(&state.db, Some(&user), &username, disabled).await?;
    state.sessions.forget_user(account.id);
    Ok(Json(view_one(&state, &account).await?))
}

/// `POST /accounts/{username}/disable`: the account cannot sign in, and its sessions
/// are revoked (pull and push stop at once).
async fn disable(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(username): Path<String>,
) -> ApiResult<Json<Value>> {
    set_disabled(state, user, username, true).await
}

/// `POST /accounts/{username}/enable`: it may sign in again (old sessions stay revoked).
async fn enable(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(username): Path<String>,
) -> ApiResult<Json<Value>> {
    set_disabled(state, user, username, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

/// `POST /accounts/{username}/password`: a new password.
async fn password(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(username): Path<String>,
    Json(req): Json<PasswordRequest>,
) -> ApiResult<StatusCode> {
    begin_write(&state, &user)?;
    accounts::reset_password(&state.db, Some(&user), &username, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentsRequest {
    pub regions: Vec<String>,
}

/// `PUT /accounts/{username}/assignments`: the account's regions from now on.
async fn assignments(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(username): Path<String>,
    Json(req): Json<AssignmentsRequest>,
) -> ApiResult<Json<Value>> {
    begin_write(&state, &user)?;
    if req.regions.len() > 1000 {
        return Err(ApiError::unprocessable(
            "Paling banyak 1000 wilayah. / At most 1000 regions.",
            json!({ "path": "regions" }),
        ));
    }
    let account = accounts::assign(
        &state.db,
        &state.regions,
        Some(&user),
        &username,
        &req.regions,
        Assign::Set,
    )
    .await?;
    state.sessions.forget_user(account.id);
    Ok(Json(view_one(&state, &account).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The facilitator who has the village from now on.
    pub facilitator: String,
}

/// `PUT /assignments/village/{code}`: the village moves to one facilitator in one
/// transaction, taken from whoever had it.
async fn move_village(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(code): Path<String>,
    Json(req): Json<MoveRequest>,
) -> ApiResult<Json<Value>> {
    begin_write(&state, &user)?;
    let moved = accounts::move_village(
        &state.db,
        &state.regions,
        Some(&user),
        &code,
        &req.facilitator,
    )
    .await?;
    for a in moved.from.iter().chain([&moved.to]) {
        state.sessions.forget_user(a.id);
    }
    let mut from = Vec::with_capacity(moved.from.len());
    for a in &moved.from {
        from.push(view_one(&state, a).await?);
    }
    Ok(Json(json!({
        "village": moved.village,
        "name": state.regions.name(&moved.village),
        "from": from,
        "to": view_one(&state, &moved.to).await?,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildrenQuery {
    /// A province, regency or district; the provinces when absent.
    #[serde(default)]
    pub code: Option<String>,
}

/// `GET /regions/children?code=`: a region's name and the regions one level down, with
/// their names, from the region table (the console's region pickers; the admin's
/// device table has no villages). Every role but the facilitator.
async fn children(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<ChildrenQuery>,
) -> ApiResult<Json<Value>> {
    if user.role == Role::Facilitator {
        return Err(ApiError::forbidden(
            "console (supervisors, dinsos, analysts, admins)",
        ));
    }
    let rows: Vec<Value> = match q.code.as_deref().filter(|c| !c.is_empty()) {
        None => state
            .regions
            .codes(tepat_core::region::Level::Province)
            .map(|(c, n)| json!({ "code": c, "name": n }))
            .collect(),
        Some(code) if state.regions.contains(code) => state
            .regions
            .children(code)
            .map(|(c, n)| json!({ "code": c, "name": n }))
            .collect(),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Kode wilayah tidak ada di tabel wilayah. / The region code is not in the region table.",
                json!({ "path": "code" }),
            ));
        }
    };
    Ok(Json(json!({
        "code": q.code,
        "name": q.code.as_deref().and_then(|c| state.regions.name(c)),
        "children": rows,
    })))
}
