//! The review queue for koordinator (a district) and Dinsos (a regency): the list of
//! waiting changes with filters and their age against the review SLA, one change's page
//! (the family as it is and as it would be, the findings, the evidence, the submission,
//! and for a conflict the three versions), and one decision for several changes.
//!
//! What a change does to a family is the core's `event::apply` of the frozen request,
//! as the approval itself applies it; nothing here decides a rule.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tepat_core::event::{ChangeRequest, Event, EventKind, EvidenceKind, content_hash};
use tepat_core::region::Level;
use tepat_core::{GeoPoint, Keluarga};

use crate::auth::{Auth, User};
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::AppState;
use crate::store;
use crate::validation::{BulkDecision, Valid, Verdict};

/// The statuses the review queue lists, as the condition of the partial index
/// `change_requests_review` (migration 0006): a query must repeat it word for word for
/// SQLite to use that index.
pub const REVIEW_STATUSES: &str = "c.status IN ('pending_review', 'approved', 'review_rejected')";

/// The review SLA when the `meta` row `review_sla_days` is missing or unreadable.
pub const DEFAULT_SLA_DAYS: i64 = 7;

/// The queue filter values besides the event kinds' wire names.
pub const KIND_CONFLICT: &str = "conflict";
pub const KIND_WARNING: &str = "warning";
/// Items made by matching (padan) with Dukcapil or PLN.
pub const KIND_PADAN: &str = "padan";

const ITEM_COLUMNS: &str = "c.id, c.household_id, c.village, c.kind, c.outcome, c.status, c.review_reasons, c.findings, \
     c.base_version, h.version, u.username, c.created_at, c.content_hash, c.payload, c.review_note, \
     c.rulebook_version, r.username, c.reviewed_at, c.padan";

const ITEM_FROM: &str = "change_requests c JOIN users u ON u.id = c.user_id \
     LEFT JOIN households h ON h.id = c.household_id LEFT JOIN users r ON r.id = c.reviewed_by";

/// The review queue's query: `$1` the status, `$2` the limit, `cond` the caller's scope
/// over `c.village` and the filters (binds from `$3`).
fn queue_sql(cond: &str) -> String {
    format!(
        "SELECT {ITEM_COLUMNS} FROM {ITEM_FROM} \
         WHERE c.status = $1 AND {REVIEW_STATUSES} AND {cond} ORDER BY c.created_at, c.id LIMIT $2"
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/review", get(queue))
        .route("/review/decide", post(decide))
        .route("/review/{id}", get(item))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `pending_review` (default), `approved`, `review_rejected`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
    /// An event kind's wire name (`member_died`, …), `conflict` or `warning`.
    #[serde(default)]
    pub kind: Option<String>,
    /// A village code (dotted).
    #[serde(default)]
    pub village: Option<String>,
    /// The submitting facilitator's username.
    #[serde(default)]
    pub facilitator: Option<String>,
    /// Only changes waiting at least this many days.
    #[serde(default)]
    pub min_age_days: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
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
    /// The rulebook version the device checked the change with.
    pub rulebook_version: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// Whole days since it was submitted.
    pub age_days: i64,
    /// An item made by matching (padan): the finding's source, kind, message, the
    /// extract row and the register's side, the match probability and weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padan: Option<Value>,
    /// Waiting longer than the review SLA (only for changes still waiting).
    pub overdue: bool,
}

type ItemRow = (
    (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<i64>,
    ),
    (
        Option<i64>,
        String,
        i64,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
    ),
);

/// The row of [`ITEM_COLUMNS`] as read (sqlx reads tuples of at most 16 columns, so
/// the row is read as two).
fn read_row(row: &sqlx::any::AnyRow) -> Result<ItemRow, sqlx::Error> {
    use sqlx::Row;
    Ok((
        (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
            row.try_get(5)?,
            row.try_get(6)?,
            row.try_get(7)?,
            row.try_get(8)?,
        ),
        (
            row.try_get(9)?,
            row.try_get(10)?,
            row.try_get(11)?,
            row.try_get(12)?,
            row.try_get(13)?,
            row.try_get(14)?,
            row.try_get(15)?,
            row.try_get(16)?,
            row.try_get(17)?,
            row.try_get(18)?,
        ),
    ))
}

fn to_item(r: ItemRow, at: i64, sla_days: i64) -> QueueItem {
    let (a, b) = r;
    let age_secs = (at - b.2).max(0);
    QueueItem {
        id: a.0,
        no_kk: a.1,
        village: a.2,
        kind: a.3,
        outcome: a.4,
        overdue: a.5 == "pending_review" && age_secs > sla_days * 86_400,
        status: a.5,
        reasons: serde_json::from_str(&a.6).unwrap_or_default(),
        findings: serde_json::from_str(&a.7).unwrap_or(Value::Null),
        base_version: a.8,
        current_version: b.0,
        submitted_by: b.1,
        submitted_at: rfc3339(b.2),
        content_hash: b.3,
        request: serde_json::from_str(&b.4).unwrap_or(Value::Null),
        review_note: b.5,
        rulebook_version: b.6,
        reviewed_by: b.7,
        reviewed_at: b.8.map(rfc3339),
        age_days: age_secs / 86_400,
        padan: b.9.and_then(|p| serde_json::from_str(&p).ok()),
    }
}

/// The review SLA in days, from the `meta` row `review_sla_days` (data, default 7).
pub async fn sla_days(state: &AppState) -> ApiResult<i64> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM meta WHERE key = 'review_sla_days'")
            .fetch_optional(&state.db.pool)
            .await?;
    Ok(row
        .and_then(|r| r.0.trim().parse::<i64>().ok())
        .filter(|d| (1..=365).contains(d))
        .unwrap_or(DEFAULT_SLA_DAYS))
}

fn require_reviewer(user: &User) -> ApiResult<()> {
    if user.role.can_review() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "review queue (supervisors and dinsos admins)",
        ))
    }
}

/// The filters as SQL conditions with their binds, numbered from `first`.
fn filter_sql(
    state: &AppState,
    q: &QueueQuery,
    first: usize,
    at: i64,
) -> ApiResult<(Vec<String>, Vec<Bind>)> {
    let mut conds = Vec::new();
    let mut binds = Vec::new();
    let mut next = first;
    if let Some(kind) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        match kind {
            KIND_CONFLICT => conds.push("c.outcome = 'conflict'".to_owned()),
            KIND_WARNING => conds.push("c.review_reasons LIKE '%confirmed_warnings%'".to_owned()),
            KIND_PADAN => conds.push("c.padan IS NOT NULL".to_owned()),
            k if EventKind::from_name(k).is_some() => {
                conds.push(format!("c.kind = ${next}"));
                binds.push(Bind::Text(k.to_owned()));
                next += 1;
            }
            _ => {
                return Err(ApiError::bad_request(
                    "`kind` harus jenis peristiwa (mis. member_died), conflict, warning atau padan. / `kind` must be an event kind (e.g. member_died), conflict, warning or padan.",
                    json!({ "path": "kind" }),
                ));
            }
        }
    }
    if let Some(v) = q.village.as_deref().filter(|v| !v.is_empty()) {
        if Level::of(v) != Some(Level::Village) || !state.regions.contains(v) {
            return Err(ApiError::bad_request(
                "`village` harus kode desa/kelurahan yang ada (mis. 32.01.01.2001). / `village` must be an existing village code (e.g. 32.01.01.2001).",
                json!({ "path": "village" }),
            ));
        }
        conds.push(format!("c.village = ${next}"));
        binds.push(Bind::Text(v.to_owned()));
        next += 1;
    }
    if let Some(f) = q.facilitator.as_deref().filter(|f| !f.is_empty()) {
        conds.push(format!("u.username = ${next}"));
        binds.push(Bind::Text(f.to_owned()));
        next += 1;
    }
    if let Some(days) = q.min_age_days.as_deref().filter(|d| !d.is_empty()) {
        let days = match days.parse::<i64>() {
            Ok(d) if (0..=3650).contains(&d) => d,
            _ => {
                return Err(ApiError::bad_request(
                    "`min_age_days` harus 0–3650. / `min_age_days` must be 0–3650.",
                    json!({ "path": "min_age_days" }),
                ));
            }
        };
        conds.push(format!("c.created_at <= ${next}"));
        binds.push(Bind::Int(at - days * 86_400));
    }
    Ok((conds, binds))
}

enum Bind {
    Text(String),
    Int(i64),
}

/// `GET /review`: the changes in the caller's area, oldest first, with their age
/// against the review SLA.
async fn queue(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&user)?;
    let status = q.status.clone().unwrap_or_else(|| "pending_review".into());
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
    let at = now();
    let (scope, scope_binds) = crate::api::sync::scope_sql(&user, "c.village", 3);
    let (filters, filter_binds) = filter_sql(&state, &q, 3 + scope_binds.len(), at)?;
    let mut cond = scope;
    for f in &filters {
        cond.push_str(" AND ");
        cond.push_str(f);
    }
    let sql = queue_sql(&cond);
    let mut query = sqlx::query(&sql).bind(&status).bind(limit);
    for b in &scope_binds {
        query = query.bind(b);
    }
    for b in &filter_binds {
        query = match b {
            Bind::Text(t) => query.bind(t),
            Bind::Int(n) => query.bind(*n),
        };
    }
    let rows = query.fetch_all(&state.db.pool).await?;
    let sla = sla_days(&state).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let item = to_item(read_row(row)?, at, sla);
        if user.covers(&item.village) {
            items.push(item);
        }
    }
    // Who submitted the waiting changes of the area: the facilitator filter's choices
    // (people: matching's system account has its own filter, `kind=padan`).
    let sql = format!(
        "SELECT DISTINCT u.username FROM change_requests c JOIN users u ON u.id = c.user_id \
         WHERE c.status = $1 AND {REVIEW_STATUSES} AND {} AND u.username <> '{}' ORDER BY u.username",
        crate::api::sync::scope_sql(&user, "c.village", 2).0,
        crate::padan::ACCOUNT
    );
    let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(&status);
    for b in &scope_binds {
        query = query.bind(b);
    }
    let facilitators: Vec<String> = query
        .fetch_all(&state.db.pool)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect();
    let overdue = items.iter().filter(|i| i.overdue).count();
    Ok(Json(json!({
        "items": items,
        "sla_days": sla,
        "overdue": overdue,
        "facilitators": facilitators,
    })))
}

/// One changed leaf between two versions of a family: its path in the JSON format
/// (`anggota[1].presence`, `housing.floor`) and both values.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// Every leaf that differs between `before` and `after` (objects key by key, arrays
/// element by element; an array whose length changed is compared by element too, the
/// missing side read as null). The version number is left out.
pub fn changes(before: &Value, after: &Value) -> Vec<Change> {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
        if a == b {
            return;
        }
        let null = Value::Null;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(
                        &p,
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                for i in 0..x.len().max(y.len()) {
                    walk(
                        &format!("{path}[{i}]"),
                        x.get(i).unwrap_or(&null),
                        y.get(i).unwrap_or(&null),
                        out,
                    );
                }
            }
            (Value::Object(x), Value::Null) if !x.is_empty() => {
                walk(path, a, &Value::Object(Default::default()), out)
            }
            (Value::Null, Value::Object(y)) if !y.is_empty() => {
                walk(path, &Value::Object(Default::default()), b, out)
            }
            _ => out.push(Change {
                path: path.to_owned(),
                before: a.clone(),
                after: b.clone(),
            }),
        }
    }
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out.retain(|c| c.path != "version");
    out
}

fn changes_of(before: &Keluarga, after: &Keluarga) -> Vec<Change> {
    match (serde_json::to_value(before), serde_json::to_value(after)) {
        (Ok(a), Ok(b)) => changes(&a, &b),
        _ => Vec::new(),
    }
}

/// The photo ids a request names as evidence (`device-photo:ID`).
pub fn photo_ids(request: &ChangeRequest) -> Vec<String> {
    request
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Photo)
        .filter_map(|e| e.reference.as_deref()?.strip_prefix(PHOTO_PREFIX))
        .filter(|id| crate::api::evidence::valid_photo_id(id))
        .map(str::to_owned)
        .collect()
}

/// How a request's evidence names a photo the device took.
pub const PHOTO_PREFIX: &str = "device-photo:";

/// The family a merge joins (the context's target), as it is now.
async fn merge_target(
    tx: &mut store::Tx<'_>,
    request: &ChangeRequest,
) -> ApiResult<Option<Keluarga>> {
    match &request.event {
        Event::FamilyMerge { into_no_kk, .. } => match store::head(&mut **tx, into_no_kk).await? {
            Some(t) => Ok(Some(t.keluarga()?)),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// `GET /review/{id}`: one change's page.
async fn item(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&user)?;
    let at = now();
    let sql = format!("SELECT {ITEM_COLUMNS} FROM {ITEM_FROM} WHERE c.id = $1");
    let row = sqlx::query(&sql)
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ApiError::NotFound("change request".into()))?;
    let sla = sla_days(&state).await?;
    let item = to_item(read_row(&row)?, at, sla);
    user.require_review(&item.village, "change request")?;
    if item.request.is_null() && item.padan.is_some() {
        return padan_item(&state, item, sla).await;
    }
    let request: ChangeRequest = serde_json::from_value(item.request.clone())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("frozen request: {e}")))?;
    let hash_ok = content_hash(&request) == item.content_hash;
    // A read: the transaction only gives one snapshot of the family and its versions.
    let mut tx = state.db.pool.begin().await?;
    let head = store::head(&mut *tx, &item.no_kk).await?;
    let current = match &head {
        Some(h) => Some(h.keluarga()?),
        None => None,
    };
    let registry = state.rulebooks().await?;
    let rb = &registry.current.rulebook;
    let today = state.today_in(&item.no_kk);
    let target = merge_target(&mut tx, &request).await?;
    // As the approval would apply it: the frozen event on the current version.
    let (proposed, apply_findings) = match &current {
        Some(fam) => {
            let mut rebased = request.clone();
            rebased.base_version = fam.version;
            match crate::push::apply_under(&state, fam, &rebased, rb, today, target.as_ref()) {
                Ok(a) => (Some(a.keluarga), a.findings),
                Err(f) => (None, f),
            }
        }
        // A new family: the family its approval would register, version 1.
        None if matches!(request.event, Event::NewFamily { .. }) => {
            let mut batch = crate::push::Batch::new();
            let (kk_registered, niks) =
                crate::push::register_facts(&mut tx, &mut batch, &request).await?;
            let register = tepat_core::event::RegisterFacts {
                kk_registered,
                niks_registered: &niks,
            };
            let today = state.today_in(&item.village);
            match crate::push::apply_new_under(&state, &request, rb, today, &register) {
                Ok(a) => (Some(a.keluarga), a.findings),
                Err(f) => (None, f),
            }
        }
        None => (None, Vec::new()),
    };
    // A change that makes the head leave and names no new head (a Dukcapil death of
    // the head): the members the reviewer may name, each one with whom it applies.
    let new_head_candidates: Vec<String> = match (&current, &proposed) {
        (Some(fam), None) => fam
            .active_members()
            .filter(|a| {
                request.event.naming_new_head(&a.nik).is_some_and(|event| {
                    let mut named = request.clone();
                    named.base_version = fam.version;
                    named.event = event;
                    crate::push::apply_under(&state, fam, &named, rb, today, target.as_ref())
                        .is_ok()
                })
            })
            .map(|a| a.nik.clone())
            .collect(),
        _ => Vec::new(),
    };
    let changed = match (&current, &proposed) {
        (Some(c), Some(p)) => changes_of(c, p),
        _ => Vec::new(),
    };
    // A conflict: the version the device saw, what changed on the server since, and
    // what the device wants (its event on the version it saw).
    let conflict = if item.outcome == "conflict" {
        let base = store::version(&mut tx, &item.no_kk, i64::from(request.base_version)).await?;
        let wanted = base.as_ref().and_then(|b| {
            let device_rb = registry
                .get(&item.rulebook_version)
                .map_or(rb, |e| &e.rulebook);
            crate::push::apply_under(&state, b, &request, device_rb, today, target.as_ref())
                .ok()
                .map(|a| a.keluarga)
        });
        let since: Vec<(i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT v.version, v.created_at, u.username, v.change_id FROM household_versions v \
             LEFT JOIN users u ON u.id = v.created_by WHERE v.household_id = $1 AND v.version > $2 ORDER BY v.version",
        )
        .bind(&item.no_kk)
        .bind(i64::from(request.base_version))
        .fetch_all(&mut *tx)
        .await?;
        Some(json!({
            "base_version": request.base_version,
            "base": base,
            "server_changes": match (&base, &current) {
                (Some(b), Some(c)) => changes_of(b, c),
                _ => Vec::new(),
            },
            "device_changes": match (&base, &wanted) {
                (Some(b), Some(w)) => changes_of(b, w),
                _ => Vec::new(),
            },
            "wanted": wanted,
            "versions_since": since.into_iter().map(|(version, created, by, change)| json!({
                "version": version, "at": rfc3339(created), "by": by, "change_id": change,
            })).collect::<Vec<_>>(),
        }))
    } else {
        None
    };
    tx.commit().await?;
    // The evidence: photos the submitter uploaded, and the GPS point with its distance
    // from the family's last known point.
    let mut photos = Vec::new();
    for pid in photo_ids(&request) {
        let stored = crate::api::evidence::photo_exists(&state, &pid, &item.submitted_by).await?;
        photos.push(json!({
            "id": pid,
            "uploaded": stored,
            "url": stored.then(|| format!("/api/v1/review/{}/photos/{pid}", item.id)),
        }));
    }
    let last_known: Option<GeoPoint> = current.as_ref().and_then(|k| k.gps);
    let gps: Vec<Value> = request
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Gps)
        .filter_map(|e| e.gps)
        .map(|p| {
            json!({
                "point": p,
                "last_known": last_known,
                "distance_m": last_known.map(|l| (l.distance_m(&p) * 10.0).round() / 10.0),
            })
        })
        .collect();
    let village_name = state.regions.name(&item.village).map(str::to_owned);
    Ok(Json(json!({
        "item": item,
        "sla_days": sla,
        "village_name": village_name,
        "current": current,
        "proposed": proposed,
        "applies": proposed.is_some(),
        "apply_findings": apply_findings,
        "new_head_candidates": new_head_candidates,
        "changes": changed,
        "evidence": { "photos": photos, "gps": gps },
        "submission": {
            "by": item.submitted_by,
            "at": item.submitted_at,
            "device_time": request.time,
            "author": request.author,
            "reason": request.reason,
            "rulebook_version": item.rulebook_version,
            "content_hash": item.content_hash,
            "hash_ok": hash_ok,
        },
        "conflict": conflict,
    })))
}

/// The page of a padan item without a proposed change: the family as it is, which an
/// approval (followed up) leaves as it is, and the finding.
async fn padan_item(state: &AppState, item: QueueItem, sla: i64) -> ApiResult<Json<Value>> {
    let current = match store::head(&state.db.pool, &item.no_kk).await? {
        Some(h) => Some(h.keluarga()?),
        None => None,
    };
    let village_name = state.regions.name(&item.village).map(str::to_owned);
    let reason = item
        .padan
        .as_ref()
        .and_then(|p| p.pointer("/message/id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(Json(json!({
        "sla_days": sla,
        "village_name": village_name,
        "proposed": current,
        "current": current,
        "applies": current.is_some(),
        "apply_findings": [],
        "changes": [],
        "evidence": { "photos": [], "gps": [] },
        "submission": {
            "by": item.submitted_by,
            "at": item.submitted_at,
            "device_time": item.submitted_at,
            "author": item.submitted_by,
            "reason": reason,
            "rulebook_version": item.rulebook_version,
            "content_hash": item.content_hash,
            "hash_ok": true,
        },
        "conflict": null,
        "item": item,
    })))
}

/// `POST /review/decide {ids, decision, reason}`: one decision for several changes,
/// each decided on its own (its own transaction), answered item by item.
async fn decide(
    State(state): State<AppState>,
    Auth(user): Auth,
    Valid(d): Valid<BulkDecision>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&user)?;
    d.check_reason()?;
    let mut ids = d.ids.clone();
    ids.dedup();
    let mut results = Vec::with_capacity(ids.len());
    let mut done = 0;
    for id in &ids {
        let r = match d.decision {
            Verdict::Approve => {
                crate::api::review::approve_change(&state, &user, id, &d.reason, None, None).await
            }
            Verdict::Reject => {
                crate::api::review::reject_change(&state, &user, id, &d.reason, None).await
            }
        };
        match r {
            Ok(v) => {
                done += 1;
                results.push(json!({ "id": id, "ok": true, "result": v }));
            }
            Err(e @ (ApiError::Internal(_) | ApiError::StorageFull)) => return Err(e),
            Err(e) => results.push(json!({ "id": id, "ok": false, "error": e.to_json() })),
        }
    }
    Ok(Json(json!({
        "decision": d.decision,
        "done": done,
        "failed": results.len() - done,
        "results": results,
    })))
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

    #[test]
    fn changes_list_every_changed_leaf_by_path() {
        let a = json!({"version": 1, "housing": {"floor": 2, "wall": 1}, "anggota": [{"nik": "x", "presence": 1}, {"nik": "y"}]});
        let b = json!({"version": 2, "housing": {"floor": 8, "wall": 1}, "anggota": [{"nik": "x", "presence": 2}, {"nik": "y"}, {"nik": "z"}]});
        let c = changes(&a, &b);
        let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            ["anggota[0].presence", "anggota[2].nik", "housing.floor"]
        );
        assert_eq!(c[0].before, json!(1));
        assert_eq!(c[0].after, json!(2));
        assert_eq!(c[1].before, Value::Null);
        assert!(changes(&a, &a).is_empty());
    }
}
