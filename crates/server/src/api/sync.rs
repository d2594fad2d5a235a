//! Sync: pull households in scope since a cursor; push change requests (life events,
//! ground-check corrections) idempotently, re-validated with tepat-core.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tepat_core::event::{ChangeRequest, Event, EventContext, apply, content_hash, verify_hash};
use tepat_core::rulebook::Rulebook;
use tepat_core::score::RankingModel;
use tepat_core::{Finding, Keluarga, Severity, Text, ValidationContext};

use crate::auth::{Auth, User};
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::{AppState, MAX_BATCH_ITEMS};
use crate::store::{self, Tx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
        .route("/rulebook", get(rulebook))
        .route("/model", get(model))
        .route("/household", get(household))
}

/// The rulebooks the server can validate with, by version (the current one first).
pub fn rulebook_for(version: &str) -> Option<&'static Rulebook> {
    let current = Rulebook::builtin();
    (current.version() == version).then_some(current)
}

pub fn current_rulebook() -> &'static Rulebook {
    Rulebook::builtin()
}

async fn rulebook() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        tepat_core::rulebook::DEFAULT_RULEBOOK_JSON,
    )
}

async fn model() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        RankingModel::builtin_json(),
    )
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
    pub keluarga: Value,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct PullResponse {
    pub households: Vec<PulledHousehold>,
    /// Pass back as `cursor` to continue; stable across restarts.
    pub next_cursor: String,
    pub has_more: bool,
    pub rulebook_version: String,
    pub model_version: String,
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

async fn pull(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<PullQuery>,
) -> ApiResult<crate::json::Json<PullResponse>> {
    let cursor = parse_num(q.cursor.as_deref(), "cursor", 0, 0, i64::MAX)?;
    let limit = parse_num(q.limit.as_deref(), "limit", 500, 1, 2000)?;
    let (cond, binds) = scope_sql(&user, "village", 3);
    let sql = format!(
        "SELECT id, village, version, seq, payload FROM households WHERE seq > $1 AND {cond} ORDER BY seq LIMIT $2"
    );
    let mut query = sqlx::query_as::<_, (String, String, i64, i64, String)>(&sql)
        .bind(cursor)
        .bind(limit + 1);
    for b in &binds {
        query = query.bind(b);
    }
    let mut rows = query.fetch_all(&state.db.pool).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = rows.last().map_or(cursor, |r| r.3);
    let households = rows
        .into_iter()
        .map(|(no_kk, village, version, seq, payload)| {
            let keluarga = serde_json::from_str(&payload).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("stored household seq {seq}: {e}"))
            })?;
            Ok(PulledHousehold {
                no_kk,
                village,
                version,
                seq,
                keluarga,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    tracing::info!(user = user.id, count = households.len(), cursor, "pull");
    Ok(Json(PullResponse {
        households,
        next_cursor: next.to_string(),
        has_more,
        rulebook_version: current_rulebook().version().to_owned(),
        model_version: RankingModel::builtin().version().to_owned(),
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
    if !user.can_read(&head.village) {
        return Err(ApiError::forbidden(format!("region {}", head.village)));
    }
    let history = store::history(&state.db, &q.no_kk).await?;
    let keluarga: Value =
        serde_json::from_str(&head.payload).map_err(|e| ApiError::Internal(e.into()))?;
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
    /// The rulebook version the device validated with; the current one when absent.
    #[serde(default)]
    pub rulebook_version: Option<String>,
    pub items: Vec<ChangeRequest>,
}

/// The per-item result; a replay returns exactly this again.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct ItemResult {
    pub id: String,
    /// `accepted`, `rejected` or `conflict`.
    pub outcome: String,
    /// `applied` (a new version exists), `pending_review` (in the supervisor's queue)
    /// or `rejected`.
    pub status: String,
    pub findings: Vec<Finding>,
    /// The household version the change produced, when applied.
    pub version: Option<u32>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct PushResponse {
    pub results: Vec<ItemResult>,
    pub rulebook_version: String,
    pub server_time: String,
}

/// Kinds a supervisor reviews before they change the register.
pub fn needs_review(event: &Event) -> bool {
    match event {
        Event::MemberDied { .. }
        | Event::MemberMovedOut { .. }
        | Event::MemberMovedIn { .. }
        | Event::Birth { .. }
        | Event::FamilySplit { .. }
        | Event::FamilyMerge { .. } => true,
        Event::Marriage { partner, .. } => partner.is_some(),
        _ => false,
    }
}

pub fn finding(
    rule: &str,
    severity: Severity,
    path: &str,
    id: &str,
    en: &str,
    vals: &[(&str, String)],
) -> Finding {
    let values = vals
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Finding::new(rule, severity, path, &Text::new(id, en), values)
}

async fn push(
    State(state): State<AppState>,
    Auth(user): Auth,
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
    let current = current_rulebook();
    let device = match req.rulebook_version.as_deref() {
        None => current,
        Some(v) => rulebook_for(v).ok_or_else(|| {
            ApiError::unprocessable(
                "Versi buku aturan perangkat tidak dikenal; perbarui aplikasi. / Unknown device rulebook version; update the app.",
                json!({ "path": "rulebook_version", "known": [current.version()] }),
            )
        })?,
    };
    for (i, item) in req.items.iter().enumerate() {
        if item.id.len() > 64 {
            return Err(ApiError::unprocessable(
                "id terlalu panjang (UUID). / id too long (expected a UUID).",
                json!({ "path": format!("items[{i}].id") }),
            ));
        }
    }
    // Scope first, for every item, before anything is stored.
    let mut outside = Vec::new();
    for (i, item) in req.items.iter().enumerate() {
        let mut codes = Vec::new();
        if let Some(h) = store::head(&state.db.pool, &item.no_kk).await? {
            codes.push(h.village);
        }
        if let Event::FamilyMerge { into_no_kk, .. } = &item.event
            && let Some(h) = store::head(&state.db.pool, into_no_kk).await?
        {
            codes.push(h.village);
        }
        if codes.iter().any(|c| !user.can_write(c)) {
            outside.push(json!({ "index": i, "id": item.id }));
        }
    }
    if !outside.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "{} item(s) concern households outside your villages: {}",
            outside.len(),
            Value::Array(outside)
        )));
    }

    let today = state.today();
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    let mut results = Vec::with_capacity(req.items.len());
    let (mut applied, mut queued, mut rejected, mut replayed) = (0, 0, 0, 0);
    for item in &req.items {
        let r = push_one(&state, &mut tx, &user, item, device, current, today).await?;
        match (r.1, r.0.status.as_str()) {
            (true, _) => replayed += 1,
            (_, "applied") => applied += 1,
            (_, "pending_review") => queued += 1,
            _ => rejected += 1,
        }
        results.push(r.0);
    }
    tx.commit().await?;
    tracing::info!(
        user = user.id,
        items = results.len(),
        applied,
        queued,
        rejected,
        replayed,
        "push"
    );
    Ok(Json(PushResponse {
        results,
        rulebook_version: current.version().to_owned(),
        server_time: rfc3339(now()),
    }))
}

fn ctx<'a>(
    state: &'a AppState,
    rb: &'a Rulebook,
    today: tepat_core::Date,
    target: Option<&'a Keluarga>,
) -> EventContext<'a> {
    EventContext {
        validation: ValidationContext {
            rulebook: rb,
            regions: &state.regions,
            today,
        },
        target,
    }
}

/// Applies under the current rulebook and, if different, the device's; errors from either block.
pub fn apply_both(
    state: &AppState,
    fam: &Keluarga,
    item: &ChangeRequest,
    device: &Rulebook,
    current: &Rulebook,
    today: tepat_core::Date,
    target: Option<&Keluarga>,
) -> Result<tepat_core::event::Applied, Vec<Finding>> {
    let now_result = apply(fam, item, &ctx(state, current, today, target));
    if device.version() == current.version() {
        return now_result;
    }
    let dev_result = apply(fam, item, &ctx(state, device, today, target));
    match (now_result, dev_result) {
        (Ok(a), Ok(_)) => Ok(a),
        (Err(mut e), Err(d)) => {
            for f in d {
                if !e.contains(&f) {
                    e.push(f);
                }
            }
            Err(e)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
    }
}

/// Handles one item inside the batch transaction. Returns (result, was_replay).
async fn push_one(
    state: &AppState,
    tx: &mut Tx<'_>,
    user: &User,
    item: &ChangeRequest,
    device: &Rulebook,
    current: &Rulebook,
    today: tepat_core::Date,
) -> ApiResult<(ItemResult, bool)> {
    let hash = content_hash(item);
    let existing: Option<(String, String)> =
        sqlx::query_as("SELECT content_hash, response FROM change_requests WHERE id = $1")
            .bind(&item.id)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some((stored_hash, response)) = existing {
        if stored_hash == hash {
            let r: ItemResult =
                serde_json::from_str(&response).map_err(|e| ApiError::Internal(e.into()))?;
            return Ok((r, true));
        }
        // Not stored: the id belongs to another request.
        return Ok((
            reject(
                item,
                vec![finding(
                    "sync.id_reused",
                    Severity::Error,
                    "id",
                    "ID perubahan ini sudah dipakai untuk perubahan lain; buat ID baru.",
                    "This change id was already used for a different change; make a new id.",
                    &[],
                )],
            ),
            false,
        ));
    }

    let head = store::head(&mut **tx, &item.no_kk).await?;
    let village = head.as_ref().map(|h| h.village.clone()).unwrap_or_default();
    let mut findings = Vec::new();
    if item.hash.is_some() && verify_hash(item).is_err() {
        findings.push(finding(
            "sync.hash_mismatch",
            Severity::Error,
            "hash",
            "Isi perubahan tidak sama dengan hash yang dikirim (berubah setelah dikunci).",
            "The change does not match its submitted hash (it changed after sealing).",
            &[],
        ));
    }
    let result = match (&head, findings.is_empty()) {
        (_, false) => reject(item, findings),
        (None, true) => reject(
            item,
            vec![finding(
                "sync.household_unknown",
                Severity::Error,
                "no_kk",
                "Keluarga dengan No. KK ini tidak ada di server.",
                "No family with this No. KK exists on the server.",
                &[],
            )],
        ),
        (Some(h), true) => {
            let fam = h.keluarga()?;
            // A stale item must still be valid against the version it was made on.
            let stale_errors = if i64::from(item.base_version) < h.version {
                match store::version(tx, &item.no_kk, i64::from(item.base_version)).await? {
                    Some(base) => {
                        apply_both(state, &base, item, device, current, today, None).err()
                    }
                    None => None,
                }
            } else {
                None
            };
            if let Some(errors) = stale_errors.filter(|e| {
                e.iter()
                    .any(|f| f.is_error() && f.rule != "event.base_version")
            }) {
                reject(item, errors)
            } else if i64::from(item.base_version) < h.version {
                ItemResult {
                    id: item.id.clone(),
                    outcome: "conflict".into(),
                    status: "pending_review".into(),
                    findings: vec![finding(
                        "sync.conflict",
                        Severity::Warning,
                        "base_version",
                        "Keluarga ini sudah diubah sejak versi {base} (sekarang versi {current}); perubahan Anda disimpan dan diteruskan ke koordinator.",
                        "This family changed since version {base} (now version {current}); your change is kept and sent to the supervisor.",
                        &[
                            ("base", item.base_version.to_string()),
                            ("current", h.version.to_string()),
                        ],
                    )],
                    version: None,
                }
            } else {
                let target = match &item.event {
                    Event::FamilyMerge { into_no_kk, .. } => {
                        match store::head(&mut **tx, into_no_kk).await? {
                            Some(t) => Some(t.keluarga()?),
                            None => None,
                        }
                    }
                    _ => None,
                };
                match apply_both(state, &fam, item, device, current, today, target.as_ref()) {
                    Err(f) => reject(item, f),
                    Ok(applied) => {
                        let blocked = other_blocked(tx, user, item, &applied).await?;
                        let mut findings = applied.findings.clone();
                        for nik in store::niks_elsewhere(tx, &applied.keluarga, Some(&fam)).await? {
                            let path = applied
                                .keluarga
                                .anggota
                                .iter()
                                .position(|a| a.nik == nik)
                                .map(|i| format!("anggota[{i}].nik"))
                                .unwrap_or_default();
                            findings.push(finding(
                                "sync.nik_in_other_family",
                                Severity::Warning,
                                &path,
                                "NIK ini masih aktif di keluarga lain; koordinator akan memeriksa.",
                                "This NIK is still active in another family; the supervisor will check.",
                                &[],
                            ));
                        }
                        let has_warnings = findings.iter().any(|f| f.severity == Severity::Warning);
                        if let Some(f) = blocked {
                            reject(item, vec![f])
                        } else if needs_review(&item.event) || has_warnings {
                            ItemResult {
                                id: item.id.clone(),
                                outcome: "accepted".into(),
                                status: "pending_review".into(),
                                findings,
                                version: None,
                            }
                        } else {
                            let version = commit_applied(tx, user, item, &fam, &applied).await?;
                            ItemResult {
                                id: item.id.clone(),
                                outcome: "accepted".into(),
                                status: "applied".into(),
                                findings,
                                version: Some(version),
                            }
                        }
                    }
                }
            }
        }
    };
    let review_reasons: Vec<&str> = {
        let mut r = Vec::new();
        if result.outcome == "conflict" {
            r.push("conflict");
        }
        if result.status == "pending_review" && needs_review(&item.event) {
            r.push(item.event.kind());
        }
        if result.status == "pending_review"
            && result
                .findings
                .iter()
                .any(|f| f.severity == Severity::Warning && f.rule != "sync.conflict")
        {
            r.push("confirmed_warnings");
        }
        r
    };
    let payload = serde_json::to_string(item).map_err(|e| ApiError::Internal(e.into()))?;
    let response = serde_json::to_string(&result).map_err(|e| ApiError::Internal(e.into()))?;
    let findings_json =
        serde_json::to_string(&result.findings).map_err(|e| ApiError::Internal(e.into()))?;
    sqlx::query(
        "INSERT INTO change_requests (id, province, village, household_id, user_id, kind, base_version, rulebook_version, \
         payload, content_hash, outcome, status, review_reasons, findings, result_version, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&item.id)
    .bind(store::province_of(&village))
    .bind(&village)
    .bind(&item.no_kk)
    .bind(user.id)
    .bind(item.event.kind())
    .bind(i64::from(item.base_version))
    .bind(device.version())
    .bind(payload)
    .bind(&hash)
    .bind(&result.outcome)
    .bind(&result.status)
    .bind(serde_json::to_string(&review_reasons).unwrap_or_else(|_| "[]".into()))
    .bind(findings_json)
    .bind(result.version.map(i64::from))
    .bind(response)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    if result.status == "pending_review" {
        crate::audit::record(
            &mut **tx,
            Some(user),
            "queue",
            Some(&store::province_of(&village)),
            Some(&item.no_kk),
            Some(&item.id),
            None,
            None,
        )
        .await?;
    }
    Ok((result, false))
}

/// A split's new family must not exist yet and must lie in the caller's area.
pub async fn other_blocked(
    tx: &mut Tx<'_>,
    user: &User,
    item: &ChangeRequest,
    applied: &tepat_core::event::Applied,
) -> ApiResult<Option<Finding>> {
    let (Some(other), Event::FamilySplit { .. }) = (&applied.other, &item.event) else {
        return Ok(None);
    };
    if store::head(&mut **tx, &other.no_kk).await?.is_some() {
        return Ok(Some(finding(
            "sync.no_kk_exists",
            Severity::Error,
            "event.new_no_kk",
            "No. KK baru sudah dipakai keluarga lain.",
            "The new No. KK already belongs to another family.",
            &[],
        )));
    }
    if !user.role.is_national() && !user.covers(store::village_of(other)) && !user.role.can_review()
    {
        return Ok(Some(finding(
            "sync.region_outside",
            Severity::Error,
            "event.address.village",
            "Alamat keluarga baru di luar wilayah tugas Anda.",
            "The new family's address is outside your area.",
            &[],
        )));
    }
    Ok(None)
}

fn reject(item: &ChangeRequest, findings: Vec<Finding>) -> ItemResult {
    ItemResult {
        id: item.id.clone(),
        outcome: "rejected".into(),
        status: "rejected".into(),
        findings,
        version: None,
    }
}

/// Stores an applied change (and the other family of a split or merge) with audit entries.
/// Returns the family's new version.
pub async fn commit_applied(
    tx: &mut Tx<'_>,
    user: &User,
    item: &ChangeRequest,
    before: &Keluarga,
    applied: &tepat_core::event::Applied,
) -> ApiResult<u32> {
    store::save(tx, &applied.keluarga, Some(user.id), Some(&item.id)).await?;
    let to_value = |k: &Keluarga| serde_json::to_value(k).map_err(|e| ApiError::Internal(e.into()));
    let (before_diff, after_diff) =
        crate::audit::diff(&to_value(before)?, &to_value(&applied.keluarga)?);
    let before_json = before_diff.to_string();
    let after_json = after_diff.to_string();
    let village = store::village_of(&applied.keluarga).to_owned();
    crate::audit::record(
        &mut **tx,
        Some(user),
        item.event.kind(),
        Some(&store::province_of(&village)),
        Some(&applied.keluarga.no_kk),
        Some(&item.id),
        Some(&before_json),
        Some(&after_json),
    )
    .await?;
    if let Some(other) = &applied.other {
        let prior = store::head(&mut **tx, &other.no_kk).await?;
        store::save(tx, other, Some(user.id), Some(&item.id)).await?;
        let other_json = serde_json::to_string(other).map_err(|e| ApiError::Internal(e.into()))?;
        crate::audit::record(
            &mut **tx,
            Some(user),
            item.event.kind(),
            Some(&store::province_of(store::village_of(other))),
            Some(&other.no_kk),
            Some(&item.id),
            prior.as_ref().map(|p| p.payload.as_str()),
            Some(&other_json),
        )
        .await?;
    }
    Ok(applied.keluarga.version)
}
