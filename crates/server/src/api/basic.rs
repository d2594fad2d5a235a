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

/// `GET /health`: nothing about any family or account, and cheap (one small query).
#[derive(Serialize)]
pub struct Health {
    /// `ok`, or `degraded`: the last write failed on a full disk (until a write
    /// succeeds again), or the database does not answer.
    pub status: &'static str,
    pub version: &'static str,
    /// The current rulebook; absent when the database does not answer.
    pub rulebook_version: Option<String>,
    /// The database engine: `sqlite` or `postgres`.
    pub db: &'static str,
    pub database: DatabaseHealth,
}

#[derive(Serialize)]
pub struct DatabaseHealth {
    pub engine: &'static str,
    /// Whether the database answered this check.
    pub reachable: bool,
    /// Whether writes succeed: `false` from a write that failed on a full disk until a
    /// write succeeds again.
    pub writable: bool,
    /// Since when writes fail on a full disk (RFC 3339), when they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_since: Option<String>,
    /// The newest migration applied, and the newest this server carries.
    pub migration: Option<i64>,
    pub migration_expected: Option<i64>,
    /// Free bytes on the data folder's file system (SQLite); `null` on PostgreSQL,
    /// whose disk is the database server's.
    pub free_bytes: Option<u64>,
}

async fn health(State(state): State<AppState>) -> Response {
    let db = &state.db;
    // One query: it touches the database and reads the applied migration.
    let migration = db.migration_version().await;
    let reachable = migration.is_ok();
    let full_since = db.full_since();
    let rulebook_version = if reachable {
        state
            .rulebooks()
            .await
            .ok()
            .map(|r| r.current.version().to_owned())
    } else {
        None
    };
    let degraded = !reachable || full_since.is_some();
    let body = Health {
        status: if degraded { "degraded" } else { "ok" },
        version: env!("CARGO_PKG_VERSION"),
        rulebook_version,
        db: db.engine.name(),
        database: DatabaseHealth {
            engine: db.engine.name(),
            reachable,
            writable: reachable && full_since.is_none(),
            full_since: full_since.map(crate::db::rfc3339),
            migration: migration.ok().flatten(),
            migration_expected: db.migration_expected(),
            free_bytes: db.free_bytes(),
        },
    };
    // Unreachable: 503, so a balancer stops sending; a full disk still serves reads.
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, AxumJson(body)).into_response()
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
