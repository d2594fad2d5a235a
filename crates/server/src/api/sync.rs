//! Sync: pull households in scope since a cursor; push change requests (life events,
//! ground-check corrections) idempotently, re-validated with tepat-core. The push
//! handler checks the request's shape and hands it to the pipeline in [`crate::push`].

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tepat_core::event::ChangeRequest;
use tepat_core::score::{GraduationKind, RankingModel};

use crate::auth::{Auth, PushAuth, User};
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::push::PushResponse;
use crate::state::{AppState, MAX_BATCH_ITEMS};
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
        .route("/sync/outcomes", post(outcomes))
        .route("/rulebook", get(rulebook))
        .route("/model", get(model))
        .route("/household", get(household))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulebookQuery {
    /// A published version; the current rulebook when absent.
    #[serde(default)]
    pub version: Option<String>,
}

/// `GET /rulebook[?version=]`: a published rulebook's JSON exactly as published.
async fn rulebook(
    State(state): State<AppState>,
    Query(q): Query<RulebookQuery>,
) -> ApiResult<Response> {
    let registry = state.rulebooks().await?;
    let entry = match q.version.as_deref() {
        None => registry.current.clone(),
        Some(v) => registry.get(v).cloned().ok_or_else(|| {
            ApiError::NotFound("rulebook version (see `tepat rulebook list`)".into())
        })?,
    };
    let etag = format!("\"{}\"", &entry.content_hash[..32]);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::ETAG,
                HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.into()))?,
            ),
        ],
        entry.source.clone(),
    )
        .into_response())
}

/// `GET /model`: the ranking model devices score with: the last published ranking
/// run's (the run's model with its cut points), else the built-in model.
async fn model(State(state): State<AppState>) -> ApiResult<Response> {
    let body = match state.ranking().await? {
        Some(p) => p.model_json.clone(),
        None => RankingModel::builtin_json().to_owned(),
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// Pull

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct PulledHousehold {
    pub no_kk: String,
    pub village: String,
    pub version: i64,
    pub seq: i64,
    pub keluarga: Box<RawValue>,
    /// The family's official desil from the last published ranking run; absent before
    /// the first publication and for a family the run did not rank (new since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official: Option<OfficialDesil>,
    /// The family is a PKH graduation candidate (calon graduasi) at its official desil,
    /// as the core's `graduation_candidate` says: `alamiah` (natural: no PKH component
    /// left, or the desil above PKH's range) or `mandiri` (meets the self-sufficiency
    /// indicators). Absent otherwise, without an official desil, and once a graduation
    /// is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graduation: Option<GraduationKind>,
}

/// A family's desil in a published ranking run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct OfficialDesil {
    /// The run's quarter, e.g. `2026Q4`.
    pub period: String,
    pub desil: i64,
    #[serde(default)]
    pub desil_province: Option<i64>,
    #[serde(default)]
    pub desil_regency: Option<i64>,
}

/// The last published ranking run, as a pull names it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PulledRanking {
    pub run_id: i64,
    pub period: String,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct PullResponse {
    pub households: Vec<PulledHousehold>,
    /// Pass back as `cursor` to continue; stable across restarts. It names the scope it
    /// was made for (`SEQ-TAG`).
    pub next_cursor: String,
    /// The cursor was made for another scope (an assignment changed): this page starts
    /// again from the beginning. The device replaces its list with what follows,
    /// keeping only the families it still has unsent work for.
    #[serde(default)]
    pub reset: bool,
    pub has_more: bool,
    pub rulebook_version: String,
    /// The model devices score with (`GET /model`): the published run's, else the
    /// built-in one.
    pub model_version: String,
    /// The last published ranking run; when it changes, a device pulls again from the
    /// start to get every family's new official desil.
    #[serde(default)]
    pub ranking: Option<PulledRanking>,
    /// Visits an operator desa asked this facilitator to make for a participation case
    /// (usul or sanggah), open ones only, in every page.
    #[serde(default)]
    pub visits: Vec<crate::participation::Visit>,
    pub server_time: String,
}

fn parse_num(v: Option<&str>, field: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
    let Some(text) = v else { return Ok(default) };
    match text.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            format!(
                "`{field}` harus bilangan bulat {min}–{max}. / `{field}` must be an integer {min}–{max}."
            ),
            json!({ "path": field }),
        )),
    }
}

/// A SQL condition restricting `village` to the user's scope, with its bind values.
pub fn scope_sql(user: &User, column: &str, first_param: usize) -> (String, Vec<String>) {
    if user.role.is_national() {
        return ("1 = 1".into(), vec![]);
    }
    if user.regions.is_empty() {
        return ("1 = 0".into(), vec![]);
    }
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    for (i, r) in user.regions.iter().enumerate() {
        let p = first_param + i;
        if r.len() == 13 {
            parts.push(format!("{column} = ${p}"));
            binds.push(r.clone());
        } else {
            parts.push(format!("{column} LIKE ${p}"));
            binds.push(format!("{r}.%"));
        }
    }
    (format!("({})", parts.join(" OR ")), binds)
}

/// The caller's scope (role and assigned regions) as a short tag, carried in the pull
/// cursor so that a cursor made for another scope is noticed.
fn scope_tag(user: &User) -> String {
    use sha2::Digest;
    let text = format!("{}:{}", user.role.as_str(), user.regions.join(","));
    crate::auth::hex(&sha2::Sha256::digest(text.as_bytes()))[..12].to_owned()
}

/// A pull cursor: `SEQ` or `SEQ-TAG`. Returns the sequence to continue from and whether
/// the cursor was made for another scope (then the pull starts again at 0). A cursor
/// without a tag is taken as it is (devices from before tags).
fn parse_cursor(text: Option<&str>, tag: &str) -> ApiResult<(i64, bool)> {
    let (seq, cursor_tag) = match text {
        Some(t) => match t.split_once('-') {
            Some((seq, cursor_tag)) => (Some(seq), Some(cursor_tag)),
            None => (Some(t), None),
        },
        None => (None, None),
    };
    let seq = parse_num(seq, "cursor", 0, 0, i64::MAX)?;
    match cursor_tag {
        Some(t) if t != tag => Ok((0, true)),
        _ => Ok((seq, false)),
    }
}

async fn pull(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<PullQuery>,
) -> ApiResult<crate::json::Json<PullResponse>> {
    let tag = scope_tag(&user);
    let (cursor, reset) = parse_cursor(q.cursor.as_deref(), &tag)?;
    let limit = parse_num(q.limit.as_deref(), "limit", 500, 1, 2000)?;
    // Bounded: beyond the gate's slots a pull waits briefly, then answers 503.
    let _slot = state.heavy_reads.enter().await?;
    let published = state.ranking().await?;
    let (cond, binds) = scope_sql(&user, "h.village", 4);
    let sql = format!(
        "SELECT h.id, h.village, h.version, h.seq, v.payload, r.desil, r.desil_province, r.desil_regency, d.graduation FROM {} \
         LEFT JOIN ranking_results r ON r.province = h.province AND r.run_id = $3 AND r.household_id = h.id \
         LEFT JOIN determination_results d ON d.province = h.province AND d.run_id = $3 \
         AND d.program = '{}' AND d.household_id = h.id \
         WHERE h.seq > $1 AND {cond} ORDER BY h.seq LIMIT $2",
        store::HEAD_FROM,
        tepat_core::score::GRADUATION_PROGRAM,
    );
    type Row = (
        String,
        String,
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let mut query = sqlx::query_as::<_, Row>(&sql)
        .bind(cursor)
        .bind(limit + 1)
        .bind(published.as_ref().map_or(0, |p| p.run_id));
    for b in &binds {
        query = query.bind(b);
    }
    let mut rows = query.fetch_all(&state.db.pool).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = rows.last().map_or(cursor, |r| r.3);
    let households = rows
        .into_iter()
        .map(
            |(
                no_kk,
                village,
                version,
                seq,
                payload,
                desil,
                desil_province,
                desil_regency,
                candidate,
            )| {
                let stored = |e: serde_json::Error| {
                    ApiError::Internal(anyhow::anyhow!("stored household seq {seq}: {e}"))
                };
                // The published determination's candidate, until a graduation is recorded.
                let graduation = match candidate.as_deref() {
                    _ if published.is_none() => None,
                    Some("alamiah") => Some(GraduationKind::Alamiah),
                    Some("mandiri") => Some(GraduationKind::Mandiri),
                    _ => None,
                };
                let graduation = match graduation {
                    Some(kind) if !graduation_recorded(&payload).map_err(stored)? => Some(kind),
                    _ => None,
                };
                // The stored JSON goes out as it is: checked, never rebuilt as a tree.
                let keluarga = RawValue::from_string(payload).map_err(stored)?;
                Ok(PulledHousehold {
                    graduation,
                    no_kk,
                    village,
                    version,
                    seq,
                    keluarga,
                    official: published
                        .as_ref()
                        .zip(desil)
                        .map(|(p, desil)| OfficialDesil {
                            period: p.period.clone(),
                            desil,
                            desil_province,
                            desil_regency,
                        }),
                })
            },
        )
        .collect::<ApiResult<Vec<_>>>()?;
    tracing::info!(
        user = user.id,
        count = households.len(),
        cursor,
        reset,
        "pull"
    );
    Ok(Json(PullResponse {
        households,
        next_cursor: format!("{next}-{tag}"),
        reset,
        has_more,
        rulebook_version: state.rulebooks().await?.current.version().to_owned(),
        model_version: published
            .as_ref()
            .map_or_else(|| RankingModel::builtin().version(), |p| p.model.version())
            .to_owned(),
        ranking: published.as_ref().map(|p| PulledRanking {
            run_id: p.run_id,
            period: p.period.clone(),
        }),
        visits: crate::participation::visits_of(&state, &user).await?,
        server_time: rfc3339(now()),
    }))
}

// ---------------------------------------------------------------------------
// One household, with its version history

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdQuery {
    pub no_kk: String,
}

async fn household(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<HouseholdQuery>,
) -> ApiResult<Json<Value>> {
    let head = store::head(&state.db.pool, &q.no_kk)
        .await?
        .ok_or_else(|| ApiError::NotFound("household".into()))?;
    user.require_read(&head.village)?;
    let history = store::history(&state.db, &q.no_kk).await?;
    let keluarga: Value =
        serde_json::from_str(head.json()?).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(json!({
        "no_kk": head.no_kk,
        "village": head.village,
        "version": head.version,
        "keluarga": keluarga,
        "history": history.into_iter().map(|(v, seq, at, change)| json!({
            "version": v, "seq": seq, "created_at": rfc3339(at), "change_id": change
        })).collect::<Vec<_>>(),
    })))
}

// ---------------------------------------------------------------------------
// Push

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The rulebook version the device validated with; the current one when absent
    /// (`null` is refused, as the OpenAPI document says).
    #[serde(default, deserialize_with = "crate::json::not_null")]
    pub rulebook_version: Option<String>,
    pub items: Vec<ChangeRequest>,
}

/// The longest `rulebook_version` a push may name.
pub const MAX_VERSION_LEN: usize = 64;

async fn push(
    State(state): State<AppState>,
    // May come from the session cache: the writer checks the session again in its
    // transaction, so a revoked session or a changed scope counts at once.
    PushAuth { user, session }: PushAuth,
    Json(req): Json<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    if !user.role.can_write() {
        return Err(ApiError::forbidden("push (read-only role)"));
    }
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    if req.items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::PayloadTooLarge {
            message: format!(
                "Terlalu banyak perubahan dalam satu kiriman (maks. {MAX_BATCH_ITEMS}). / Too many items in one push (max {MAX_BATCH_ITEMS})."
            ),
            details: json!({ "path": "items", "max_items": MAX_BATCH_ITEMS, "found": req.items.len() }),
        });
    }
    // An unknown version is answered per item (rejected, `sync.rulebook_unknown`).
    if req
        .rulebook_version
        .as_ref()
        .is_some_and(|v| v.is_empty() || v.len() > MAX_VERSION_LEN)
    {
        return Err(ApiError::unprocessable(
            format!(
                "rulebook_version harus 1–{MAX_VERSION_LEN} karakter. / rulebook_version must have 1–{MAX_VERSION_LEN} characters."
            ),
            json!({ "path": "rulebook_version" }),
        ));
    }
    for (i, item) in req.items.iter().enumerate() {
        if item.id.len() > 64 {
            return Err(ApiError::unprocessable(
                "id terlalu panjang (UUID). / id too long (expected a UUID).",
                json!({ "path": format!("items[{i}].id") }),
            ));
        }
    }
    crate::push::submit(&state, user, session, req.items, req.rulebook_version)
        .await
        .map(Json)
}

// ---------------------------------------------------------------------------
// Outcomes of the caller's own changes

/// The most ids one outcomes request may name.
pub const MAX_OUTCOME_IDS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomesRequest {
    /// Ids of change requests the caller pushed.
    pub ids: Vec<String>,
}

/// Where one of the caller's changes stands now, and who decided it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Outcome {
    pub id: String,
    pub no_kk: String,
    pub kind: String,
    /// `applied`, `pending_review`, `approved`, `review_rejected` or `rejected`.
    pub status: String,
    /// The household version it made, when applied or approved.
    pub version: Option<i64>,
    /// The reviewer's username, once reviewed.
    pub decided_by: Option<String>,
    /// When it was reviewed (RFC 3339).
    pub decided_at: Option<String>,
    /// The reviewer's note (the reason given with the decision).
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct OutcomesResponse {
    /// One per known id the caller pushed; unknown ids and other users' are left out.
    pub outcomes: Vec<Outcome>,
}

type OutcomeRow = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// `POST /sync/outcomes {ids}`: the current status of the caller's own pushed changes,
/// with the review decision (who, when, the note) once there is one. A device asks for
/// the changes it sent, so it learns what the supervisor decided.
async fn outcomes(
    State(state): State<AppState>,
    Auth(user): Auth,
    Json(req): Json<OutcomesRequest>,
) -> ApiResult<Json<OutcomesResponse>> {
    if req.ids.len() > MAX_OUTCOME_IDS {
        return Err(ApiError::PayloadTooLarge {
            message: format!(
                "Terlalu banyak id dalam satu permintaan (maks. {MAX_OUTCOME_IDS}). / Too many ids in one request (max {MAX_OUTCOME_IDS})."
            ),
            details: json!({ "path": "ids", "max_items": MAX_OUTCOME_IDS, "found": req.ids.len() }),
        });
    }
    if let Some(i) = req
        .ids
        .iter()
        .position(|id| id.is_empty() || id.chars().count() > 64)
    {
        return Err(ApiError::unprocessable(
            "id harus 1–64 karakter (UUID). / id must have 1–64 characters (a UUID).",
            json!({ "path": format!("ids[{i}]") }),
        ));
    }
    let mut ids = req.ids;
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT c.id, c.household_id, c.kind, c.status, c.result_version, u.username, c.reviewed_at, c.review_note \
             FROM change_requests c LEFT JOIN users u ON u.id = c.reviewed_by \
             WHERE c.user_id = $1 AND c.id IN ({}) ORDER BY c.id",
            marks.join(", ")
        );
        let mut query = sqlx::query_as::<_, OutcomeRow>(&sql).bind(user.id);
        for id in chunk {
            query = query.bind(id);
        }
        for (id, no_kk, kind, status, version, by, at, note) in
            query.fetch_all(&state.db.pool).await?
        {
            let reviewed = matches!(status.as_str(), "approved" | "review_rejected");
            out.push(Outcome {
                id,
                no_kk,
                kind,
                status,
                version,
                decided_by: by.filter(|_| reviewed),
                decided_at: at.filter(|_| reviewed).map(rfc3339),
                note: note.filter(|n| reviewed && !n.is_empty()),
            });
        }
    }
    Ok(Json(OutcomesResponse { outcomes: out }))
}

/// Whether the stored family JSON records a graduation (`pkh.graduated`), read without
/// building the whole family.
fn graduation_recorded(payload: &str) -> Result<bool, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Family {
        #[serde(default)]
        pkh: Option<Pkh>,
    }
    #[derive(serde::Deserialize)]
    struct Pkh {
        #[serde(default)]
        graduated: Option<serde::de::IgnoredAny>,
    }
    let f: Family = serde_json::from_str(payload)?;
    Ok(f.pkh.is_some_and(|p| p.graduated.is_some()))
}
