//! The supervisor's decisions on the review queue (new members, deaths, moves,
//! splits/merges, conflicts, confirmed warnings) and the audit log queries. The queue
//! itself (the list, an item's page, decisions on several items) is `api::queue`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tepat_core::event::{ChangeRequest, content_hash};

use crate::auth::{Auth, User};
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::AppState;
use crate::store;
use crate::validation::{Approval, Decision, Valid};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/review/{id}/approve", post(approve))
        .route("/review/{id}/reject", post(reject))
        .route("/audit", get(audit))
}

/// A queued request as a decision reads it.
struct Pending {
    village: String,
    payload: String,
    hash: String,
    /// Set when an admin overrode four eyes on its own change: the reason it gave.
    overridden: Option<String>,
}

/// Loads a queued request and checks role, scope, four eyes and state.
async fn load_pending(
    tx: &mut store::Tx<'_>,
    user: &User,
    id: &str,
    override_reason: Option<&str>,
) -> ApiResult<Pending> {
    // The role first, so that a role that cannot review learns nothing of the change.
    if !user.role.can_review() {
        return Err(ApiError::forbidden("review (koordinator, dinsos, admin)"));
    }
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT village, status, payload, content_hash, user_id FROM change_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let (village, status, payload, hash, submitter) =
        row.ok_or_else(|| ApiError::NotFound("change request".into()))?;
    user.require_review(&village, "change request")?;
    let overridden = four_eyes(user, submitter, override_reason)?;
    if status != "pending_review" {
        return Err(already_reviewed(tx, id, &status).await?);
    }
    Ok(Pending {
        village,
        payload,
        hash,
        overridden,
    })
}

/// Four eyes: the reviewer is never the submitter. Only an admin may decide on a change
/// it submitted, and only with an explicit reason, which the audit entry records
/// (returned here). Someone else's change needs no reason beyond the decision's.
fn four_eyes(
    user: &User,
    submitter: i64,
    override_reason: Option<&str>,
) -> ApiResult<Option<String>> {
    if submitter != user.id {
        return Ok(None);
    }
    match override_reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) if user.role == crate::auth::Role::Admin => Ok(Some(reason.to_owned())),
        _ => Err(ApiError::OwnChange),
    }
}

/// The answer to a decision on a change that is no longer waiting: who reviewed it and
/// when, so the second of two reviewers acting at once knows what happened.
async fn already_reviewed(tx: &mut store::Tx<'_>, id: &str, status: &str) -> ApiResult<ApiError> {
    let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT u.username, c.reviewed_at FROM change_requests c LEFT JOIN users u ON u.id = c.reviewed_by WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let (by, at) = row.unwrap_or((None, None));
    let at = at.map(rfc3339);
    let message = match (&by, &at) {
        (Some(by), Some(at)) => format!(
            "Perubahan ini sudah ditinjau oleh {by} pada {at}. / This change was already reviewed by {by} at {at}."
        ),
        _ => {
            "Perubahan ini tidak menunggu tinjauan. / This change is not waiting for review.".into()
        }
    };
    Ok(ApiError::Conflict {
        message,
        details: json!({ "status": status, "reviewed_by": by, "reviewed_at": at }),
    })
}

async fn approve(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    Valid(d): Valid<Approval>,
) -> ApiResult<Json<Value>> {
    approve_change(
        &state,
        &user,
        &id,
        &d.reason,
        d.override_reason.as_deref(),
        d.new_head.as_deref(),
    )
    .await
    .map(Json)
}

/// Approves one queued change: applies exactly the submitted request to the family's
/// current version. An approval that no longer applies is answered with the findings.
/// `override_reason`: an admin approving its own change (four eyes) says why.
/// `new_head`: the member who becomes head, for a change that makes the head leave and
/// names none (see [`tepat_core::event::Event::naming_new_head`]).
pub async fn approve_change(
    state: &AppState,
    user: &User,
    id: &str,
    reason: &str,
    override_reason: Option<&str>,
    new_head: Option<&str>,
) -> ApiResult<Value> {
    let (user, id) = (user.clone(), id.to_owned());
    let reason = reason.trim();
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    let Pending {
        payload,
        hash: stored_hash,
        overridden,
        ..
    } = load_pending(&mut tx, &user, &id, override_reason).await?;
    if payload == "null" {
        // A padan finding without a proposed change: approved as followed up.
        return followed_up(tx, &user, &id, reason, overridden).await;
    }
    let submitted: ChangeRequest = serde_json::from_str(&payload)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("frozen request: {e}")))?;
    // Frozen: the approval applies exactly what was submitted.
    if content_hash(&submitted) != stored_hash {
        return Err(ApiError::Conflict {
            message: "Isi perubahan tidak cocok dengan hash saat dikirim; tidak diterapkan. / The stored change no longer matches its submission hash; not applied.".into(),
            details: json!({ "content_hash": stored_hash }),
        });
    }
    if let tepat_core::event::Event::NewFamily { .. } = &submitted.event {
        let version =
            approve_new_family(state, &mut tx, &user, &id, &submitted, reason, overridden).await?;
        tx.commit().await?;
        return Ok(
            json!({ "id": id, "status": "approved", "version": version.0, "findings": version.1 }),
        );
    }
    let head = store::head(&mut *tx, &submitted.no_kk)
        .await?
        .ok_or_else(|| ApiError::NotFound("household".into()))?;
    let fam = head.keluarga()?;
    // The supervisor decides on the event; it applies to the current version.
    let mut rebased = submitted.clone();
    rebased.base_version = fam.version;
    let target = match &submitted.event {
        tepat_core::event::Event::FamilyMerge { into_no_kk, .. } => {
            match store::head(&mut *tx, into_no_kk).await? {
                Some(t) => Some(t.keluarga()?),
                None => None,
            }
        }
        _ => None,
    };
    let registry = state.rulebooks().await?;
    let rb = &registry.current.rulebook;
    let today = state.today_in(&head.province);
    if let Some(nik) = new_head {
        // Only a change that makes the head leave and names none takes one: as
        // submitted it does not apply for want of a new head.
        let wanted = crate::push::apply_under(state, &fam, &rebased, rb, today, target.as_ref())
            .is_err_and(|f| f.iter().any(|f| f.rule == "event.new_head_required"));
        rebased.event = submitted
            .event
            .naming_new_head(nik)
            .filter(|_| wanted)
            .ok_or_else(|| ApiError::Unprocessable {
                message: "Perubahan ini tidak memerlukan kepala keluarga baru; kirim tanpa `new_head`. / This change needs no new head of family; send it without `new_head`.".into(),
                details: json!({ "field": "new_head" }),
            })?;
    }
    let applied = crate::push::apply_under(state, &fam, &rebased, rb, today, target.as_ref())
        .map_err(|findings| ApiError::Conflict {
            message: "Perubahan tidak dapat diterapkan pada versi keluarga saat ini; tolak dengan alasan. / The change cannot be applied to the family's current version; reject it with a reason.".into(),
            details: json!({ "findings": findings, "current_version": fam.version }),
        })?;
    if let Some(f) = crate::push::other_blocked(&mut tx, &user, &submitted, &applied).await? {
        return Err(ApiError::Conflict {
            message: "Perubahan tidak dapat diterapkan; tolak dengan alasan. / The change cannot be applied; reject it with a reason.".into(),
            details: json!({ "findings": [f] }),
        });
    }
    let version = crate::push::commit_applied(&mut tx, &user, &submitted, &fam, &applied).await?;
    sqlx::query(
        "UPDATE change_requests SET status = 'approved', result_version = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4 WHERE id = $5",
    )
    .bind(i64::from(version))
    .bind(user.id)
    .bind(now())
    .bind(reason)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: Some(&user),
            action: "approve",
            province: Some(&head.province),
            household_id: Some(&head.no_kk),
            change_id: Some(&id),
            details: Some(
                &json!({ "reason": reason, "version": version, "four_eyes_override": overridden,
                    "new_head_named": new_head.is_some() })
                .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "id": id, "status": "approved", "version": version, "findings": applied.findings }))
}

/// Approves a `new_family` change: the case must still be a verified usul of a new
/// family whose family this change is to register, the No. KK and the NIKs still not in
/// the register. Creates the family at version 1, links it to the case (its `no_kk`) and
/// records the case's `register_family` step. Gives the version and the findings.
async fn approve_new_family(
    state: &AppState,
    tx: &mut store::Tx<'_>,
    user: &User,
    id: &str,
    submitted: &ChangeRequest,
    reason: &str,
    overridden: Option<String>,
) -> ApiResult<(u32, Vec<tepat_core::Finding>)> {
    use tepat_core::participation::{Request, Rules};
    let tepat_core::event::Event::NewFamily { address, .. } = &submitted.event else {
        return Err(ApiError::Internal(anyhow::anyhow!("not a new family")));
    };
    let cannot = |findings: Vec<tepat_core::Finding>| {
        ApiError::Conflict {
        message: "Keluarga baru tidak dapat didaftarkan; tolak dengan alasan. / The new family cannot be registered; reject it with a reason.".into(),
        details: json!({ "findings": findings }),
    }
    };
    let case = crate::push::case_of(tx, submitted)
        .await?
        .ok_or_else(|| cannot(vec![crate::push::unknown_case()]))?;
    let today = state.today_in(&case.village);
    if let Some(f) = crate::push::case_refusal(&case, &address.village, Some(id), today) {
        return Err(cannot(vec![f]));
    }
    let mut batch = crate::push::Batch::new();
    let (kk_registered, niks) = crate::push::register_facts(tx, &mut batch, submitted).await?;
    let register = tepat_core::event::RegisterFacts {
        kk_registered,
        niks_registered: &niks,
    };
    let registry = state.rulebooks().await?;
    let applied = crate::push::apply_new_under(
        state,
        submitted,
        &registry.current.rulebook,
        today,
        &register,
    )
    .map_err(cannot)?;
    // Taken only here, by approving the family: "review" is no account's role, so the
    // case decision endpoint cannot take it.
    let step = Request {
        action: "register_family",
        role: "review",
        reason: None,
        has_record: false,
    };
    let decided = Rules::builtin()
        .decide(&case.facts(), step, today)
        .map_err(|r| {
            cannot(vec![crate::push::finding(
                &r.code,
                tepat_core::Severity::Error,
                &r.path,
                &r.message.id,
                &r.message.en,
                &[],
            )])
        })?;
    let version = crate::push::commit_new_family(tx, user, submitted, &applied).await?;
    let at = now();
    sqlx::query(
        "UPDATE change_requests SET status = 'approved', result_version = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4 WHERE id = $5",
    )
    .bind(i64::from(version))
    .bind(user.id)
    .bind(at)
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE participation_cases SET no_kk = $1, family_change_id = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(&submitted.no_kk)
    .bind(id)
    .bind(at)
    .bind(case.id)
    .execute(&mut **tx)
    .await?;
    crate::participation::record_step(
        tx,
        crate::participation::Step {
            case_id: case.id,
            ticket: &case.ticket,
            village: &case.village,
            action: "register_family",
            from: Some(decided.from),
            to: decided.to,
            actor: crate::participation::Actor::User(user),
            reason: None,
            note: Some(id),
            deliberation_id: None,
            at,
        },
    )
    .await?;
    let province = store::province_of(&case.village);
    crate::audit::record(
        &mut **tx,
        crate::audit::NewEntry {
            user: Some(user),
            action: "approve",
            province: Some(&province),
            household_id: Some(&submitted.no_kk),
            change_id: Some(id),
            details: Some(
                &json!({ "reason": reason, "version": version, "four_eyes_override": overridden, "case_id": case.id })
                    .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    Ok((version, applied.findings))
}

/// Approves a queued item that proposes no change (a padan finding to follow up): the
/// family stays as it is, the decision and its reason are recorded.
async fn followed_up(
    mut tx: store::Tx<'_>,
    user: &User,
    id: &str,
    reason: &str,
    overridden: Option<String>,
) -> ApiResult<Value> {
    let (no_kk, province): (String, String) =
        sqlx::query_as("SELECT household_id, province FROM change_requests WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "UPDATE change_requests SET status = 'approved', reviewed_by = $1, reviewed_at = $2, review_note = $3 WHERE id = $4",
    )
    .bind(user.id)
    .bind(now())
    .bind(reason)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: Some(user),
            action: "approve",
            province: Some(&province),
            household_id: Some(&no_kk),
            change_id: Some(id),
            details: Some(
                &json!({ "reason": reason, "followed_up": true, "four_eyes_override": overridden })
                    .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "id": id, "status": "approved", "version": null, "findings": [] }))
}

async fn reject(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    Valid(d): Valid<Decision>,
) -> ApiResult<Json<Value>> {
    reject_change(&state, &user, &id, &d.reason, d.override_reason.as_deref())
        .await
        .map(Json)
}

/// Rejects one queued change with the reviewer's reason (checked by the caller);
/// `override_reason` as for [`approve_change`].
pub async fn reject_change(
    state: &AppState,
    user: &User,
    id: &str,
    reason: &str,
    override_reason: Option<&str>,
) -> ApiResult<Value> {
    let (user, id) = (user.clone(), id.to_owned());
    let reason = reason.trim();
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    let Pending {
        village,
        overridden,
        ..
    } = load_pending(&mut tx, &user, &id, override_reason).await?;
    let (no_kk,): (String,) =
        sqlx::query_as("SELECT household_id FROM change_requests WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "UPDATE change_requests SET status = 'review_rejected', reviewed_by = $1, reviewed_at = $2, review_note = $3 WHERE id = $4",
    )
    .bind(user.id)
    .bind(now())
    .bind(reason)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    // A rejected new family frees its usul for another visit's registration.
    sqlx::query(
        "UPDATE participation_cases SET family_change_id = NULL WHERE family_change_id = $1",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: Some(&user),
            action: "reject",
            province: Some(&store::province_of(&village)),
            household_id: Some(&no_kk),
            change_id: Some(&id),
            details: Some(
                &json!({ "reason": reason, "four_eyes_override": overridden }).to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "id": id, "status": "review_rejected" }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    pub no_kk: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// `?no_kk=` (a household in the caller's scope: its audit entries and its versions) or
/// `?user=` (the admin any account, Dinsos the accounts it manages, anyone itself: what
/// the account did and what was done to it).
async fn audit(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    match (q.no_kk, q.user) {
        (Some(no_kk), None) => {
            let head = store::head(&state.db.pool, &no_kk)
                .await?
                .ok_or_else(|| ApiError::NotFound("household".into()))?;
            user.require_read(&head.village)?;
            let entries = crate::audit::by_household(&state.db, &no_kk, 1000).await?;
            let versions = store::history(&state.db, &no_kk).await?;
            Ok(Json(json!({
                "no_kk": no_kk,
                "village": head.village,
                "village_name": state.regions.name(&head.village),
                "version": head.version,
                "versions": versions.into_iter().map(|(v, seq, at, change)| json!({
                    "version": v, "seq": seq, "created_at": rfc3339(at), "change_id": change
                })).collect::<Vec<_>>(),
                "entries": entries,
            })))
        }
        (None, Some(name)) => {
            if name != user.username {
                let target = crate::accounts::find(&state.db, &name).await?;
                let allowed = match (&target, user.role) {
                    (_, crate::auth::Role::Admin) => true,
                    (Some(t), crate::auth::Role::DinsosAdmin) => {
                        crate::accounts::manages(Some(&user), t.role, &t.regions)
                    }
                    _ => false,
                };
                if !allowed {
                    return Err(ApiError::forbidden(
                        "another user's audit trail (admins; dinsos for its regency's accounts)",
                    ));
                }
                if target.is_none() {
                    return Err(ApiError::NotFound("account".into()));
                }
            }
            let entries = crate::audit::by_user(&state.db, &name, 1000).await?;
            Ok(Json(json!({ "user": name, "entries": entries })))
        }
        _ => Err(ApiError::bad_request(
            "Beri tepat satu dari `no_kk` atau `user`. / Give exactly one of `no_kk` or `user`.",
            json!({ "path": "no_kk" }),
        )),
    }
}
