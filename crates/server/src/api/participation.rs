//! Public participation: the public filing and ticket-status endpoints (no account,
//! rate limited per address and per NIK), and the officials' cases, deliberations and
//! decisions, scoped to their region.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tepat_core::model::GeoPoint;
use tepat_core::participation::{Filer, Filing, Kind, ProposedMember};

use crate::auth::{Auth, ClientAddr};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::participation::{self as p, Decision, NewDeliberation, PUBLIC_MAX_BODY_BYTES};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/public/usul",
            post(file_usul).layer(DefaultBodyLimit::max(PUBLIC_MAX_BODY_BYTES)),
        )
        .route(
            "/public/sanggah",
            post(file_sanggah).layer(DefaultBodyLimit::max(PUBLIC_MAX_BODY_BYTES)),
        )
        .route("/public/tiket/{number}", get(ticket_status))
        .route("/public/desa/{district}", get(villages_of_district))
        .route("/participation", get(list))
        .route("/participation/{id}", get(one))
        .route("/participation/{id}/decision", post(decision))
        .route("/participation/{id}/files/{file}", get(file_bytes))
        .route(
            "/participation/deliberations",
            post(deliberation).layer(DefaultBodyLimit::max(PUBLIC_MAX_BODY_BYTES)),
        )
}

/// `POST /public/usul`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsulBody {
    pub filer: Filer,
    /// The proposed family's village (dotted code).
    pub village: String,
    #[serde(default)]
    pub address: Option<String>,
    /// The proposed family's No. KK, when it has one.
    #[serde(default)]
    pub no_kk: Option<String>,
    pub members: Vec<ProposedMember>,
    pub reasons: Vec<String>,
    pub text: String,
    #[serde(default)]
    pub gps: Option<GeoPoint>,
    /// A house photo (JPEG, PNG or WebP), base64, at most 2 MB.
    #[serde(default)]
    pub photo: Option<String>,
    /// The declined ticket this appeals (the same filer's).
    #[serde(default)]
    pub appeal_of: Option<String>,
}

/// `POST /public/sanggah`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanggahBody {
    pub filer: Filer,
    /// The No. KK of the family objected to.
    pub no_kk: String,
    pub reasons: Vec<String>,
    pub text: String,
    pub gps: Option<GeoPoint>,
    /// The house photo (JPEG, PNG or WebP), base64, at most 2 MB: required.
    pub photo: Option<String>,
    #[serde(default)]
    pub appeal_of: Option<String>,
}

fn limited(state: &AppState, client: &str, nik: Option<&str>) -> ApiResult<()> {
    state
        .take_public_token(client, nik)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

fn photo_of(b64: Option<&str>) -> ApiResult<Option<(Vec<u8>, &'static str)>> {
    b64.map(|b| p::decode_file(b, "photo", false)).transpose()
}

fn filed(f: p::Filed) -> (StatusCode, Json<Value>) {
    let status = if f.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (
        status,
        Json(json!({ "ticket": f.ticket, "duplicate": f.duplicate, "message": f.message })),
    )
}

async fn file_usul(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(b): Json<UsulBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    limited(&state, &client, Some(&b.filer.nik))?;
    let photo = photo_of(b.photo.as_deref())?;
    let filing = Filing {
        kind: Kind::Usul,
        filer: b.filer,
        no_kk: b.no_kk,
        village: Some(b.village),
        address: b.address,
        members: b.members,
        reasons: b.reasons,
        text: b.text,
        gps: b.gps,
        has_photo: photo.is_some(),
    };
    Ok(filed(
        p::file(&state, filing, photo, b.appeal_of.as_deref()).await?,
    ))
}

async fn file_sanggah(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(b): Json<SanggahBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    limited(&state, &client, Some(&b.filer.nik))?;
    let photo = photo_of(b.photo.as_deref())?;
    let filing = Filing {
        kind: Kind::Sanggah,
        filer: b.filer,
        no_kk: Some(b.no_kk),
        village: None,
        address: None,
        members: Vec::new(),
        reasons: b.reasons,
        text: b.text,
        gps: b.gps,
        has_photo: photo.is_some(),
    };
    Ok(filed(
        p::file(&state, filing, photo, b.appeal_of.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    #[serde(default)]
    pub nik: Option<String>,
}

/// `GET /public/tiket/{number}?nik=`: the ticket's own steps; an unknown ticket and a
/// wrong NIK get the same answer.
async fn ticket_status(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(number): Path<String>,
    Query(q): Query<TicketQuery>,
) -> ApiResult<Json<Value>> {
    let nik = q.nik.unwrap_or_default();
    limited(&state, &client, Some(&nik))?;
    let unknown = || {
        ApiError::NotFound("tiket dengan NIK pelapor ini / a ticket with this filer's NIK".into())
    };
    let well_formed = number.len() == 11
        && number.as_bytes()[4] == b'-'
        && number
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit());
    if !well_formed {
        return Err(unknown());
    }
    let case = p::case_by_ticket(&state, &number, &nik)
        .await?
        .ok_or_else(unknown)?;
    let case = p::settle(&state, case).await?;
    Ok(Json(p::public_view(&state, &case).await?))
}

/// `GET /public/desa/{district}`: the villages of a district from the region table, for
/// the public filing form's village picker (names and codes are public; no family).
async fn villages_of_district(
    State(state): State<AppState>,
    Path(district): Path<String>,
) -> ApiResult<Json<Value>> {
    if tepat_core::Level::of(&district) != Some(tepat_core::Level::District)
        || !state.regions.contains(&district)
    {
        return Err(ApiError::NotFound(
            "kecamatan dengan kode ini / a district with this code".into(),
        ));
    }
    let villages: Vec<Value> = state
        .regions
        .children(&district)
        .map(|(code, name)| json!({ "code": code, "name": name }))
        .collect();
    Ok(Json(json!({
        "district": district,
        "name": state.regions.name(&district),
        "villages": villages,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// A state, or `open` (every state not final).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub village: Option<String>,
}

/// `GET /participation?status=&village=`: the cases of the caller's region.
async fn list(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    if !p::may_read(user.role) {
        return Err(ApiError::forbidden(
            "participation (operator desa, koordinator, dinsos)",
        ));
    }
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status
        && s != "open"
        && tepat_core::participation::State::parse(s).is_none()
    {
        return Err(ApiError::bad_request(
            "`status` harus salah satu status pengajuan atau `open`. / `status` must be a case state or `open`.",
            json!({ "path": "status" }),
        ));
    }
    let village = q.village.as_deref().filter(|v| !v.is_empty());
    if let Some(v) = village
        && !user.covers(v)
    {
        return Err(ApiError::forbidden(format!("region {v}")));
    }
    let cases = p::list(&state, &user, village, status, 500).await?;
    let mut out = Vec::with_capacity(cases.len());
    for c in &cases {
        out.push(p::official_view(&state, c).await?);
    }
    Ok(Json(json!({ "cases": out })))
}

/// `GET /participation/{id}`: one case with every step, who, when and why.
async fn one(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if !p::may_read(user.role) {
        return Err(ApiError::forbidden(
            "participation (operator desa, koordinator, dinsos)",
        ));
    }
    let case = p::case_by_id(&state.db.pool, id)
        .await?
        .filter(|c| user.covers(&c.village))
        .ok_or_else(|| ApiError::NotFound("participation case".into()))?;
    let case = p::settle(&state, case).await?;
    Ok(Json(p::official_view(&state, &case).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// An action of the participation rules: `request_visit`, `open_deliberation`,
    /// `agree`, `disagree`, `start_verification`, `verify`, `decline`.
    pub action: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub deliberation_id: Option<i64>,
    #[serde(default)]
    pub facilitator: Option<String>,
}

/// `POST /participation/{id}/decision`.
async fn decision(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<Json<Value>> {
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    if b.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::unprocessable(
            "Catatan paling banyak 2000 karakter. / The note may have at most 2000 characters.",
            json!({ "path": "note" }),
        ));
    }
    let case = p::decide(
        &state,
        &user,
        id,
        Decision {
            action: &b.action,
            reason: b.reason.as_deref(),
            note: b.note.as_deref(),
            deliberation_id: b.deliberation_id,
            facilitator: b.facilitator.as_deref(),
        },
    )
    .await?;
    Ok(Json(p::official_view(&state, &case).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliberationBody {
    pub village: String,
    pub held_on: tepat_core::Date,
    pub participants: i64,
    /// `berita_acara` (the deliberation's record) or `sptjm` (instead of one).
    pub record: String,
    /// The signed document: a photo (JPEG, PNG, WebP) or a PDF, base64, at most 2 MB.
    pub document: String,
}

/// `POST /participation/deliberations`: a village deliberation's record, or an SPTJM.
async fn deliberation(
    State(state): State<AppState>,
    Auth(user): Auth,
    Json(b): Json<DeliberationBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    if user.role != crate::auth::Role::OperatorDesa {
        return Err(ApiError::forbidden("deliberation (operator desa)"));
    }
    if !matches!(b.record.as_str(), "berita_acara" | "sptjm") {
        return Err(ApiError::unprocessable(
            "`record` harus `berita_acara` atau `sptjm`. / `record` must be `berita_acara` or `sptjm`.",
            json!({ "path": "record" }),
        ));
    }
    let document = p::decode_file(&b.document, "document", true)?;
    let id = p::add_deliberation(
        &state,
        &user,
        NewDeliberation {
            village: &b.village,
            held_on: b.held_on,
            participants: b.participants,
            record: &b.record,
            document,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `GET /participation/{id}/files/{file}`: a file of a case in the caller's area (the
/// house photo, a deliberation's berita acara or SPTJM).
async fn file_bytes(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((id, file)): Path<(i64, i64)>,
) -> ApiResult<axum::response::Response> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    if !p::may_read(user.role) {
        return Err(ApiError::forbidden(
            "participation (operator desa, koordinator, dinsos)",
        ));
    }
    p::case_by_id(&state.db.pool, id)
        .await?
        .filter(|c| user.covers(&c.village))
        .ok_or_else(|| ApiError::NotFound("participation case".into()))?;
    let (content_type, bytes) = p::file_of_case(&state, id, file)
        .await?
        .ok_or_else(|| ApiError::NotFound("file of this case".into()))?;
    let value = HeaderValue::from_str(&content_type).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, value),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}
