//! The supervisor's review queue (new members, deaths, moves, splits/merges, conflicts,
//! confirmed warnings) and the audit log queries.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tepat_core::event::{ChangeRequest, content_hash};

use crate::auth::{Auth, User};
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::AppState;
use crate::store;
use crate::validation::{Decision, Valid};

/// The statuses the review queue lists, as the condition of the partial index
/// `change_requests_review` (migration 0006): a query must repeat it word for word for
/// SQLite to use that index.
pub const REVIEW_STATUSES: &str = "c.status IN ('pending_review', 'approved', 'review_rejected')";

/// The review queue's query: `$1` the status, `$2` the limit, `cond` the caller's scope
/// over `c.village` (binds from `$3`).
fn queue_sql(cond: &str) -> String {
    format!(
        "SELECT c.id, c.household_id, c.village, c.kind, c.outcome, c.status, c.review_reasons, c.findings, \
         c.base_version, h.version, u.username, c.created_at, c.content_hash, c.payload, c.review_note \
         FROM change_requests c JOIN users u ON u.id = c.user_id LEFT JOIN households h ON h.id = c.household_id \
         WHERE c.status = $1 AND {REVIEW_STATUSES} AND {cond} ORDER BY c.created_at, c.id LIMIT $2"
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/review", get(queue))
        .route("/review/{id}/approve", post(approve))
        .route("/review/{id}/reject", post(reject))
        .route("/audit", get(audit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `pending_review` (default), `approved`, `review_rejected`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct QueueItem {
    pub id: String,
    pub no_kk: String,
    pub village: String,
    pub kind: String,
    pub outcome: String,
    pub status: String,
    /// Why it is queued: event kinds, `conflict`, `confirmed_warnings`.
    pub reasons: Vec<String>,
    pub findings: Value,
    pub base_version: Option<i64>,
    pub current_version: Option<i64>,
    pub submitted_by: String,
    pub submitted_at: String,
    pub content_hash: String,
    /// The frozen change request, exactly as submitted.
    pub request: Value,
    pub review_note: Option<String>,
}

type QueueRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    String,
    String,
    Option<String>,
);

async fn queue(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Value>> {
    if !user.role.can_review() {
        return Err(ApiError::forbidden(
            "review queue (supervisors and dinsos admins)",
        ));
    }
    let status = q.status.unwrap_or_else(|| "pending_review".into());
    if !["pending_review", "approved", "review_rejected"].contains(&status.as_str()) {
        return Err(ApiError::bad_request(
            "`status` harus pending_review, approved atau review_rejected. / `status` must be pending_review, approved or review_rejected.",
            json!({ "path": "status" }),
        ));
    }
    let limit = match q.limit.as_deref().map(str::parse::<i64>) {
        None => 200,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        _ => {
            return Err(ApiError::bad_request(
                "`limit` harus 1–1000. / `limit` must be 1–1000.",
                json!({ "path": "limit" }),
            ));
        }
    };
    let (cond, binds) = crate::api::sync::scope_sql(&user, "c.village", 3);
    let sql = queue_sql(&cond);
    let mut query = sqlx::query_as::<_, QueueRow>(&sql)
        .bind(&status)
        .bind(limit);
    for b in &binds {
        query = query.bind(b);
    }
    let rows: Vec<QueueRow> = query.fetch_all(&state.db.pool).await?;
    let items: Vec<QueueItem> = rows
        .into_iter()
        .filter(|r| user.covers(&r.2))
        .map(|r| QueueItem {
            id: r.0,
            no_kk: r.1,
            village: r.2,
            kind: r.3,
            outcome: r.4,
            status: r.5,
            reasons: serde_json::from_str(&r.6).unwrap_or_default(),
            findings: serde_json::from_str(&r.7).unwrap_or(Value::Null),
            base_version: r.8,
            current_version: r.9,
            submitted_by: r.10,
            submitted_at: rfc3339(r.11),
            content_hash: r.12,
            request: serde_json::from_str(&r.13).unwrap_or(Value::Null),
            review_note: r.14,
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// Loads a queued request and checks scope and state. Returns (village, payload, hash).
async fn load_pending(
    tx: &mut store::Tx<'_>,
    user: &User,
    id: &str,
) -> ApiResult<(String, String, String)> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT village, status, payload, content_hash FROM change_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let (village, status, payload, hash) =
        row.ok_or_else(|| ApiError::NotFound("change request".into()))?;
    user.require_review(&village)?;
    if status != "pending_review" {
        return Err(ApiError::Conflict {
            message: "Perubahan ini sudah ditinjau. / This change was already reviewed.".into(),
            details: json!({ "status": status }),
        });
    }
    Ok((village, payload, hash))
}

async fn approve(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    Valid(d): Valid<Decision>,
) -> ApiResult<Json<Value>> {
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    let (_village, payload, stored_hash) = load_pending(&mut tx, &user, &id).await?;
    let submitted: ChangeRequest = serde_json::from_str(&payload)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("frozen request: {e}")))?;
    // Frozen: the approval applies exactly what was submitted.
    if content_hash(&submitted) != stored_hash {
        return Err(ApiError::Conflict {
            message: "Isi perubahan tidak cocok dengan hash saat dikirim; tidak diterapkan. / The stored change no longer matches its submission hash; not applied.".into(),
            details: json!({ "content_hash": stored_hash }),
        });
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
    let applied = crate::push::apply_under(&state, &fam, &rebased, rb, state.today_in(&head.province), target.as_ref())
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
    .bind(d.reason.trim())
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
            details: Some(&json!({ "reason": d.reason.trim(), "version": version }).to_string()),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(
        json!({ "id": id, "status": "approved", "version": version, "findings": applied.findings }),
    ))
}

async fn reject(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    Valid(d): Valid<Decision>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    let (village, _payload, _hash) = load_pending(&mut tx, &user, &id).await?;
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
    .bind(d.reason.trim())
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
            details: Some(&json!({ "reason": d.reason.trim() }).to_string()),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({ "id": id, "status": "review_rejected" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    pub no_kk: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// `?no_kk=` (a household in the caller's scope) or `?user=` (admins; anyone for themself).
async fn audit(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let entries = match (q.no_kk, q.user) {
        (Some(no_kk), None) => {
            let head = store::head(&state.db.pool, &no_kk)
                .await?
                .ok_or_else(|| ApiError::NotFound("household".into()))?;
            if !user.can_read(&head.village) {
                return Err(ApiError::forbidden(format!("region {}", head.village)));
            }
            crate::audit::by_household(&state.db, &no_kk, 1000).await?
        }
        (None, Some(name)) => {
            if name != user.username && user.role != crate::auth::Role::Admin {
                return Err(ApiError::forbidden(
                    "another user's audit trail (admins only)",
                ));
            }
            crate::audit::by_user(&state.db, &name, 1000).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "Beri tepat satu dari `no_kk` atau `user`. / Give exactly one of `no_kk` or `user`.",
                json!({ "path": "no_kk" }),
            ));
        }
    };
    Ok(Json(json!({ "entries": entries })))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue is read through the partial index of migration 0006 (which only holds
    /// changes that went to review), for a national and for a scoped caller.
    #[tokio::test]
    async fn review_queue_uses_its_partial_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let scoped: &[&str] = &["32.01.%", "32.01.01.2001"];
        for (cond, binds) in [
            ("1 = 1", &[][..]),
            ("(c.village LIKE $3 OR c.village = $4)", scoped),
        ] {
            let sql = format!("EXPLAIN QUERY PLAN {}", queue_sql(cond));
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql)
                .bind("pending_review")
                .bind(10_i64);
            for b in binds {
                q = q.bind(*b);
            }
            let plan = q.fetch_all(&db.pool).await.unwrap();
            let plan: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
            assert!(
                plan.iter()
                    .any(|d| d.contains("c USING INDEX change_requests_review")),
                "{cond}: {plan:?}"
            );
        }
        db.pool.close().await;
    }
}
