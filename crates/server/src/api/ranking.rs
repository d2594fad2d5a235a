//! The quarterly ranking run from the console: start (admin), follow its progress,
//! publish (admin). Runs hold national figures only (counts, cut points), no family:
//! every console role reads them; a facilitator is refused. See [`crate::ranking`].

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Auth, Role, User};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::ranking::{self, Run, RunRequest};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ranking/runs", post(start).get(list))
        .route("/ranking/runs/{id}", get(one))
        .route("/ranking/runs/{id}/publish", post(publish))
}

fn require_admin(user: &User) -> ApiResult<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "ranking runs are started and published by an admin",
        ))
    }
}

fn require_console(user: &User) -> ApiResult<()> {
    if user.role == Role::Facilitator {
        Err(ApiError::forbidden(
            "console (supervisors, dinsos, analysts, admins)",
        ))
    } else {
        Ok(())
    }
}

fn run_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>().map_err(|_| {
        ApiError::bad_request(
            "Nomor pemeringkatan harus bilangan bulat. / The ranking run id must be an integer.",
            json!({ "path": "id" }),
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The quarter, e.g. `2026Q4`; the current one when absent.
    #[serde(default)]
    pub period: Option<String>,
    /// A ranking model (`tepat-pmt/1` JSON) for a trial run, published or not.
    #[serde(default)]
    pub model: Option<Value>,
    /// A published model version (`GET /models`); the latest published when neither
    /// this nor `model` is given.
    #[serde(default)]
    pub model_version: Option<String>,
    /// Province and regency cut points need this many persons (default 1,000).
    #[serde(default)]
    pub min_persons: Option<u64>,
}

/// `POST /ranking/runs`: checks and records the run, answers 202 with it, and runs it
/// in the background (follow it with `GET /ranking/runs/{id}`).
async fn start(
    State(state): State<AppState>,
    Auth(user): Auth,
    Json(body): Json<StartBody>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    require_admin(&user)?;
    let req = RunRequest {
        period: body.period,
        model: body.model.map(|m| m.to_string()),
        model_version: body.model_version,
        min_persons: body.min_persons,
    };
    let started = ranking::start(&state.db, Some(&user), req, state.now()).await?;
    let id = started.id;
    let db = state.db.clone();
    let today = ranking::utc_date(state.now());
    tokio::spawn(async move {
        if let Err(e) = ranking::execute(&db, started, today, None).await {
            tracing::warn!(run = id, error = %e, "ranking run failed");
            if let ranking::RankingError::Internal(e) = &e
                && e.chain().any(crate::error::is_disk_full)
            {
                db.write_failed_full();
            }
        }
    });
    let run = ranking::get(&state.db, id, state.now())
        .await?
        .ok_or_else(|| ApiError::NotFound("ranking run".into()))?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

async fn list(State(state): State<AppState>, Auth(user): Auth) -> ApiResult<Json<Value>> {
    require_console(&user)?;
    let now = state.now();
    let runs = ranking::list(&state.db, now).await?;
    let published = ranking::published_id(&state.db).await?;
    Ok(Json(json!({
        "runs": runs,
        "published": published,
        "current_period": ranking::period_of(ranking::utc_date(now)),
    })))
}

async fn one(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Run>> {
    require_console(&user)?;
    let id = run_id(&id)?;
    ranking::get(&state.db, id, state.now())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("ranking run".into()))
}

async fn publish(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Run>> {
    require_admin(&user)?;
    let id = run_id(&id)?;
    Ok(Json(
        ranking::publish(&state.db, Some(&user), id, state.now()).await?,
    ))
}
