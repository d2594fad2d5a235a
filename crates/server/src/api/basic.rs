//! Health, NIK validation and the region table.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as AxumJson, Router};
use serde::Serialize;
use tepat_core::{IdContext, NikReport, NikRequest, validate_nik};

use crate::auth::MaybeAuth;
use crate::error::ApiResult;
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/validate/nik", post(nik))
        .route("/regions", get(regions))
}

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub rulebook_version: String,
    pub db: &'static str,
}

async fn health(State(state): State<AppState>) -> ApiResult<AxumJson<Health>> {
    // A health check that answers "ok" must have touched the database.
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
    Ok(AxumJson(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        rulebook_version: state.rulebooks().await?.current.version().to_owned(),
        db: state.db.engine.name(),
    }))
}

async fn nik(State(state): State<AppState>, Json(req): Json<NikRequest>) -> Json<NikReport> {
    let ctx = IdContext {
        regions: &state.regions,
        // A NIK's first two digits are its province: its own time zone's date.
        today: state.today_in(&req.nik),
    };
    Json(validate_nik(&req, &ctx))
}

/// `kode,nama` CSV: every province, regency and district, plus — for a signed-in caller —
/// the villages of the districts in their scope.
async fn regions(
    State(state): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (body, etag) = match &user {
        Some(u) if !u.role.is_national() => {
            let districts = crate::scope::districts_of(&state.regions, u);
            let refs: Vec<&str> = districts.iter().map(String::as_str).collect();
            let csv = state.regions.subset_for_districts(&refs).to_csv();
            let tag = crate::state::etag(&csv);
            (csv, tag)
        }
        _ => (
            state.regions_base_csv.clone(),
            state.regions_base_etag.clone(),
        ),
    };
    let cache = if user.is_some() {
        "private, no-cache"
    } else {
        "public, no-cache"
    };
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Authorization"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok((h, body).into_response())
}
