//! Sync: pull households in scope since a cursor; push change requests (life events,
//! ground-check corrections) idempotently, re-validated with tepat-core.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tepat_core::event::{ChangeRequest, Event, EventContext, apply, content_hash};
use tepat_core::rulebook::Rulebook;
use tepat_core::score::RankingModel;
use tepat_core::{Finding, Keluarga, Severity, Text, ValidationContext};

use crate::audit::NewEntry;
use crate::auth::{Auth, PushAuth, User};
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::{AppState, MAX_BATCH_ITEMS};
use crate::store::{self, Tx, Val};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
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
    let (cond, binds) = scope_sql(&user, "h.village", 3);
    let sql = format!(
        "SELECT h.id, h.village, h.version, h.seq, v.payload FROM {} \
         WHERE h.seq > $1 AND {cond} ORDER BY h.seq LIMIT $2",
        store::HEAD_FROM
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
        rulebook_version: state.rulebooks().await?.current.version().to_owned(),
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
    /// How the item fared under the device's rulebook and under the current one; absent
    /// when it was not validated (replayed id reused, hash mismatch, unknown household).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rulebooks: Option<RulebookChecks>,
}

/// The item validated under the rulebook the device used and under the current one
/// (the same version twice when the device is up to date).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct RulebookChecks {
    pub device: RulebookCheck,
    pub current: RulebookCheck,
}

#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct RulebookCheck {
    pub version: String,
    /// `valid`, `invalid`, or `unknown` (the server has no rulebook of this version).
    pub outcome: String,
    /// The errors under this rulebook (none when valid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Finding>,
}

/// The longest `rulebook_version` a push may name.
pub const MAX_VERSION_LEN: usize = 64;

#[derive(Serialize, Deserialize, Debug)]
pub struct PushResponse {
    pub results: Vec<ItemResult>,
    pub rulebook_version: String,
    pub server_time: String,
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
    // The CPU work of each item (hash, parse, validation under both rulebooks) runs
    // here, concurrently with other pushes, on a snapshot of the heads; the single
    // writer reuses it when the head is still the one it was made on.
    let (items, prepared, seen) = prepare(&state, req.items, req.rulebook_version.clone()).await?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    state.push_group.queue().push(PushJob {
        user,
        session,
        items,
        prepared,
        seen,
        device_version: req.rulebook_version,
        reply,
    });
    // Group commit: whoever holds the writer takes every push waiting by then and
    // stores them in one transaction (one fsync), then answers each. A task of its own,
    // so a client that hangs up cannot leave a push half done.
    let group_state = state.clone();
    tokio::spawn(async move {
        let _writer = group_state.push_group.writer.lock().await;
        let jobs = std::mem::take(&mut *group_state.push_group.queue());
        if !jobs.is_empty() {
            run_group(&group_state, jobs).await;
        }
    });
    answer
        .await
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("the push writer stopped")))?
        .map(Json)
}

/// What an item's check gave before the writer ran: its content hash, and its
/// outcome against the head read then (when the item was made on that head).
pub struct Prepared {
    hash: String,
    applied: Option<PreparedApply>,
}

/// An item applied outside the writer, and what it was applied to.
pub struct PreparedApply {
    /// The head it was applied to (`seq` names the stored version exactly).
    seq: i64,
    version: i64,
    /// The rulebook registry it was checked with (its `seq`) and the device's version.
    registry: i64,
    device: String,
    today: tepat_core::Date,
    fam: Keluarga,
    outcome: Outcome,
    checks: RulebookChecks,
    /// The new version's JSON and hash when the outcome is applied (made here, so the
    /// single writer does not serialize and hash it).
    encoded: Option<store::Encoded>,
}

/// Hashes and applies the items of one push against a snapshot of their heads, on the
/// blocking pool. Merges (which need a second family) are left to the writer.
async fn prepare(
    state: &AppState,
    items: Vec<ChangeRequest>,
    device_version: Option<String>,
) -> ApiResult<(
    Vec<ChangeRequest>,
    Vec<Prepared>,
    HashMap<String, store::Head>,
)> {
    // The registry as last loaded: if a rulebook was published since, the writer sees a
    // newer registry and checks the items itself.
    let registry = state.rulebooks_cached();
    let mut kks: Vec<&str> = items.iter().map(|i| i.no_kk.as_str()).collect();
    kks.sort_unstable();
    kks.dedup();
    let heads = state.push_group.snapshot(state, &kks).await?;
    // The heads as this snapshot saw them, without their JSON: the writer asks the
    // database only which of them moved since (`Batch::prefetch`).
    let seen = heads
        .iter()
        .map(|(k, h)| {
            let meta = store::Head {
                no_kk: h.no_kk.clone(),
                province: h.province.clone(),
                village: h.village.clone(),
                version: h.version,
                seq: h.seq,
                payload: None,
            };
            (k.clone(), meta)
        })
        .collect();
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let current = &registry.current.rulebook;
        let today = state.today();
        let device_version = device_version.as_deref().unwrap_or(current.version());
        let device = Device {
            version: device_version,
            rulebook: registry.get(device_version).map(|e| &e.rulebook),
            registry: registry.seq,
        };
        let prepared = items
            .iter()
            .map(|item| {
                let applied = heads
                    .get(&item.no_kk)
                    .filter(|h| {
                        h.version == i64::from(item.base_version)
                            && !matches!(item.event, Event::FamilyMerge { .. })
                    })
                    .and_then(|h| {
                        let fam = h.keluarga().ok()?;
                        let (outcome, checks) =
                            apply_both(&state, &fam, item, &device, current, today, None);
                        let encoded = outcome
                            .as_ref()
                            .ok()
                            .and_then(|a| store::Encoded::of(&a.keluarga).ok());
                        Some(PreparedApply {
                            seq: h.seq,
                            version: h.version,
                            registry: registry.seq,
                            device: device_version.to_owned(),
                            today,
                            fam,
                            outcome,
                            checks,
                            encoded,
                        })
                    });
                Prepared {
                    hash: content_hash(item),
                    applied,
                }
            })
            .collect();
        (items, prepared, seen)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("checking a push failed: {e}")))
}

/// One push waiting for the writer.
pub struct PushJob {
    /// The caller as `Auth` saw it (possibly from the session cache).
    user: User,
    /// The SHA-256 of the caller's session token, checked again by the writer.
    session: String,
    items: Vec<ChangeRequest>,
    /// One per item.
    prepared: Vec<Prepared>,
    /// The heads `prepare` read (without JSON), by No. KK.
    seen: HashMap<String, store::Head>,
    /// The device's rulebook version; the current one when absent.
    device_version: Option<String>,
    reply: tokio::sync::oneshot::Sender<ApiResult<PushResponse>>,
}

/// Pushes waiting to be written, and the writer's lock; and the pushes waiting for
/// their heads snapshot, and the snapshot reader's lock.
#[derive(Default)]
pub struct PushGroup {
    queue: std::sync::Mutex<Vec<PushJob>>,
    writer: tokio::sync::Mutex<()>,
    snapshots: std::sync::Mutex<Vec<SnapshotWait>>,
    reader: tokio::sync::Mutex<()>,
}

/// A push's households, waiting for a snapshot of their heads.
struct SnapshotWait {
    kks: Vec<String>,
    reply: tokio::sync::oneshot::Sender<Option<HashMap<String, store::Head>>>,
}

impl PushGroup {
    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<PushJob>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn snapshot_queue(&self) -> std::sync::MutexGuard<'_, Vec<SnapshotWait>> {
        self.snapshots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A snapshot of the heads of `kks` (outside any transaction; it may be stale by the
    /// time it is used). Reads are grouped like the writes: whoever holds the reader
    /// takes every push waiting by then and reads all their heads in one query.
    async fn snapshot(
        &self,
        state: &AppState,
        kks: &[&str],
    ) -> ApiResult<HashMap<String, store::Head>> {
        let sqlite = state.db.engine == crate::db::Engine::Sqlite;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.snapshot_queue().push(SnapshotWait {
            kks: kks.iter().map(|k| (*k).to_owned()).collect(),
            reply,
        });
        {
            let _reader = self.reader.lock().await;
            let waiting = std::mem::take(&mut *self.snapshot_queue());
            if !waiting.is_empty() {
                let mut all: Vec<&str> = waiting
                    .iter()
                    .flat_map(|w| w.kks.iter().map(String::as_str))
                    .collect();
                all.sort_unstable();
                all.dedup();
                let mut found = store::heads_snapshot(&state.db.pool, sqlite, &all)
                    .await
                    .ok();
                // How many pushes still want each household (a head is moved to the
                // last one, copied for the others).
                let mut wanted: HashMap<&str, usize> = HashMap::new();
                for k in waiting.iter().flat_map(|w| w.kks.iter()) {
                    *wanted.entry(k.as_str()).or_default() += 1;
                }
                let mut replies = Vec::with_capacity(waiting.len());
                for w in &waiting {
                    // On an error each push reads for itself below (and reports it).
                    let heads = found.as_mut().map(|found| {
                        let mut heads = HashMap::with_capacity(w.kks.len());
                        for k in &w.kks {
                            let left = wanted.get_mut(k.as_str()).map_or(0, |n| {
                                *n -= 1;
                                *n
                            });
                            let head = if left == 0 {
                                found.remove(k)
                            } else {
                                found.get(k).cloned()
                            };
                            if let Some(h) = head {
                                heads.insert(k.clone(), h);
                            }
                        }
                        heads
                    });
                    replies.push(heads);
                }
                for (w, heads) in waiting.into_iter().zip(replies) {
                    let _ = w.reply.send(heads);
                }
            }
        }
        match answer.await {
            Ok(Some(heads)) => Ok(heads),
            // The read failed, or the push that took this one's request went away.
            _ => Ok(store::heads_snapshot(&state.db.pool, sqlite, kks).await?),
        }
    }
}

/// Stores a group of pushes in one transaction, each push in turn exactly as if alone.
/// If the transaction fails, each push is tried again alone, so one push's storage
/// error never fails another's.
async fn run_group(state: &AppState, jobs: Vec<PushJob>) {
    let mut answers = Vec::with_capacity(jobs.len());
    match store_group(state, &jobs, &mut answers).await {
        Ok(()) => {
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(_) => {
            for job in jobs {
                Box::pin(run_group(state, vec![job])).await;
            }
        }
    }
}

/// The transaction of [`run_group`]; fills `answers` (one per job) only when it commits.
async fn store_group(
    state: &AppState,
    jobs: &[PushJob],
    answers: &mut Vec<ApiResult<PushResponse>>,
) -> ApiResult<()> {
    let started = std::time::Instant::now();
    let mut writer = state.db.writer().await?;
    let result = store_group_on(state, &mut writer, jobs, answers, started).await;
    if result.is_err() {
        // A connection that failed a transaction is not trusted with the next one.
        writer.discard();
    }
    result
}

/// [`store_group`] on the writer's connection.
async fn store_group_on(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    jobs: &[PushJob],
    answers: &mut Vec<ApiResult<PushResponse>>,
    started: std::time::Instant,
) -> ApiResult<()> {
    let registry = state.rulebooks().await?;
    let current = &registry.current.rulebook;
    let today = state.today();
    let mut tx = sqlx::Connection::begin(conn).await?;
    store::lock(&mut tx).await?;
    // Everything the group reads, in a few queries: the heads of the households it names
    // and the stored answers of its ids.
    let all: Vec<&ChangeRequest> = jobs.iter().flat_map(|j| j.items.iter()).collect();
    let seen: HashMap<&str, &store::Head> = jobs
        .iter()
        .flat_map(|j| j.seen.iter().map(|(k, h)| (k.as_str(), h)))
        .collect();
    let mut batch = Batch::prefetch(&mut tx, &all, &seen).await?;
    // The callers as they are now: the session still live, the account not disabled,
    // its role and assignments as stored (`Auth` may have used the session cache).
    let mut sessions: Vec<&str> = jobs.iter().map(|j| j.session.as_str()).collect();
    sessions.sort_unstable();
    sessions.dedup();
    let users = crate::auth::users_of_sessions(&mut tx, &sessions).await?;
    let read_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut out = Vec::with_capacity(jobs.len());
    let mut logs = Vec::with_capacity(jobs.len());
    for job in jobs {
        let Some(user) = users.get(&job.session).filter(|u| u.id == job.user.id) else {
            out.push(Err(ApiError::Unauthorized));
            continue;
        };
        if !user.role.can_write() {
            out.push(Err(ApiError::forbidden("push (read-only role)")));
            continue;
        }
        // Scope first, for every item of the push, before anything of it is stored.
        let mut outside = Vec::new();
        for (i, item) in job.items.iter().enumerate() {
            let mut codes = Vec::new();
            if let Some(h) = batch.head(&mut tx, &item.no_kk).await? {
                codes.push(h.village);
            }
            if let Event::FamilyMerge { into_no_kk, .. } = &item.event
                && let Some(h) = batch.head(&mut tx, into_no_kk).await?
            {
                codes.push(h.village);
            }
            if codes.iter().any(|c| !user.can_write(c)) {
                outside.push(json!({ "index": i, "id": item.id }));
            }
        }
        if !outside.is_empty() {
            out.push(Err(ApiError::Forbidden(format!(
                "{} item(s) concern households outside your villages: {}",
                outside.len(),
                Value::Array(outside)
            ))));
            continue;
        }
        let device_version = job.device_version.as_deref().unwrap_or(current.version());
        let device = Device {
            version: device_version,
            rulebook: registry.get(device_version).map(|e| &e.rulebook),
            registry: registry.seq,
        };
        let mut results = Vec::with_capacity(job.items.len());
        let (mut applied, mut queued, mut rejected, mut replayed) = (0, 0, 0, 0);
        for (item, prep) in job.items.iter().zip(&job.prepared) {
            let r = push_one(
                state,
                &mut tx,
                &mut batch,
                user,
                item,
                Some(prep),
                &device,
                current,
                today,
            )
            .await?;
            match (r.1, r.0.status.as_str()) {
                (true, _) => replayed += 1,
                (_, "applied") => applied += 1,
                (_, "pending_review") => queued += 1,
                _ => rejected += 1,
            }
            results.push(r.0);
        }
        logs.push((user.id, results.len(), applied, queued, rejected, replayed));
        out.push(Ok(PushResponse {
            results,
            rulebook_version: current.version().to_owned(),
            server_time: String::new(),
        }));
    }
    let flushing = std::time::Instant::now();
    batch.writes.flush(&mut tx).await?;
    let flush_ms = flushing.elapsed().as_secs_f64() * 1e3;
    let committing = std::time::Instant::now();
    tx.commit().await?;
    // The writer's time for the whole group, and the commit's part of it (its fsync).
    let writer_ms = started.elapsed().as_secs_f64() * 1e3;
    let commit_ms = committing.elapsed().as_secs_f64() * 1e3;
    state.db.wrote(all.len());
    let server_time = rfc3339(now());
    for (user, items, applied, queued, rejected, replayed) in logs {
        tracing::info!(
            user,
            items,
            applied,
            queued,
            rejected,
            replayed,
            group = jobs.len(),
            writer_ms,
            read_ms,
            flush_ms,
            commit_ms,
            "push"
        );
    }
    for p in out.iter_mut().flatten() {
        p.server_time.clone_from(&server_time);
    }
    *answers = out;
    Ok(())
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

/// The rulebook a push says the device validated with; `rulebook` is None when the
/// server does not know that version.
pub struct Device<'a> {
    pub version: &'a str,
    pub rulebook: Option<&'a Rulebook>,
    /// The `seq` of the rulebook registry both were taken from.
    pub registry: i64,
}

/// Applies under one rulebook.
pub fn apply_under(
    state: &AppState,
    fam: &Keluarga,
    item: &ChangeRequest,
    rulebook: &Rulebook,
    today: tepat_core::Date,
    target: Option<&Keluarga>,
) -> Result<tepat_core::event::Applied, Vec<Finding>> {
    apply(fam, item, &ctx(state, rulebook, today, target))
}

type Outcome = Result<tepat_core::event::Applied, Vec<Finding>>;

fn check_of(version: &str, r: &Outcome) -> RulebookCheck {
    RulebookCheck {
        version: version.to_owned(),
        outcome: if r.is_ok() { "valid" } else { "invalid" }.into(),
        errors: r
            .as_ref()
            .err()
            .map(|f| f.iter().filter(|f| f.is_error()).cloned().collect())
            .unwrap_or_default(),
    }
}

/// Applies under the device's rulebook and the current one and reports both; the item
/// passes only when it is valid under both. An unknown device version fails it.
pub fn apply_both(
    state: &AppState,
    fam: &Keluarga,
    item: &ChangeRequest,
    device: &Device<'_>,
    current: &Rulebook,
    today: tepat_core::Date,
    target: Option<&Keluarga>,
) -> (Outcome, RulebookChecks) {
    let now_result = apply_under(state, fam, item, current, today, target);
    let current_check = check_of(current.version(), &now_result);
    match device.rulebook {
        None => {
            let mut errors = vec![finding(
                "sync.rulebook_unknown",
                Severity::Error,
                "rulebook_version",
                "Versi buku aturan di perangkat tidak dikenal server; perbarui aplikasi lalu periksa lagi perubahan ini (buku aturan sekarang: {current}).",
                "The server does not know the device's rulebook version; update the app and check this change again (current rulebook: {current}).",
                &[("current", current.version().to_owned())],
            )];
            errors.extend(current_check.errors.iter().cloned());
            let checks = RulebookChecks {
                device: RulebookCheck {
                    version: device.version.to_owned(),
                    outcome: "unknown".into(),
                    errors: Vec::new(),
                },
                current: current_check,
            };
            (Err(errors), checks)
        }
        Some(d) if d.version() == current.version() => {
            let checks = RulebookChecks {
                device: current_check.clone(),
                current: current_check,
            };
            (now_result, checks)
        }
        Some(d) => {
            let dev_result = apply_under(state, fam, item, d, today, target);
            let checks = RulebookChecks {
                device: check_of(d.version(), &dev_result),
                current: current_check,
            };
            let merged = match (now_result, dev_result) {
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
            };
            (merged, checks)
        }
    }
}

/// Handles one item inside the batch transaction. Returns (result, was_replay).
/// What one push transaction has read and what it will write: heads as the batch left
/// them, answers by change id, and the queued writes (sent by one flush before commit).
pub struct Batch {
    pub heads: HashMap<String, Option<store::Head>>,
    answers: HashMap<String, (String, String)>,
    pub writes: store::Writes,
}

impl Batch {
    /// An empty batch (reads go to the database).
    pub fn new() -> Batch {
        Batch {
            heads: HashMap::new(),
            answers: HashMap::new(),
            writes: store::Writes::default(),
        }
    }

    /// Reads, under the write lock, the heads of the households `items` name and the
    /// stored answers of their ids. `seen` holds heads read earlier (a snapshot): for
    /// those only the ones that moved since come back from the database.
    async fn prefetch(
        tx: &mut Tx<'_>,
        items: &[&ChangeRequest],
        seen: &HashMap<&str, &store::Head>,
    ) -> ApiResult<Batch> {
        let mut kks: Vec<&str> = Vec::with_capacity(items.len());
        for item in items {
            kks.push(&item.no_kk);
            if let Event::FamilyMerge { into_no_kk, .. } = &item.event {
                kks.push(into_no_kk);
            }
        }
        kks.sort_unstable();
        kks.dedup();
        // Without the JSON: the writer mostly reuses what `prepare` parsed, and reads a
        // family's JSON only when it needs it (`Batch::family`).
        let (known, unknown): (Vec<&str>, Vec<&str>) =
            kks.iter().partition(|k| seen.contains_key(*k));
        let pairs: Vec<(&str, i64)> = known.iter().map(|k| (*k, seen[k].seq)).collect();
        let mut moved = store::heads_moved(tx, &pairs).await?;
        let mut found = store::heads_meta(tx, &unknown).await?;
        let mut heads = HashMap::with_capacity(kks.len());
        for k in known {
            let head = moved.remove(k).unwrap_or_else(|| Some(seen[k].clone()));
            heads.insert(k.to_owned(), head);
        }
        for k in unknown {
            heads.insert(k.to_owned(), found.remove(k));
        }
        let mut ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut answers = HashMap::new();
        let sqlite = store::is_sqlite(tx);
        for chunk in ids.chunks(400) {
            let params: Vec<String> = (1..=chunk.len())
                .map(|i| store::placeholder(sqlite, i))
                .collect();
            let sql = format!(
                "SELECT id, content_hash, response FROM change_requests WHERE id IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, hash, response) in q.fetch_all(&mut **tx).await? {
                answers.insert(id, (hash, response));
            }
        }
        Ok(Batch {
            heads,
            answers,
            writes: store::Writes::default(),
        })
    }

    /// The head as this batch left it.
    pub async fn head(&mut self, tx: &mut Tx<'_>, no_kk: &str) -> ApiResult<Option<store::Head>> {
        if let Some(h) = self.heads.get(no_kk) {
            return Ok(h.clone());
        }
        let h = store::head(&mut **tx, no_kk).await?;
        self.heads.insert(no_kk.to_owned(), h.clone());
        Ok(h)
    }

    /// The JSON of a head as this batch left it: in hand, queued in this batch, or read
    /// by its `seq`.
    pub async fn json(&self, tx: &mut Tx<'_>, head: &store::Head) -> ApiResult<String> {
        if let Some(p) = &head.payload {
            return Ok(p.clone());
        }
        if let Some(p) = self.writes.pending_version(&head.no_kk, head.version) {
            return Ok(p.to_owned());
        }
        store::version_json(tx, &head.province, head.seq)
            .await?
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "household head {} points at no version",
                    head.seq
                ))
            })
    }

    /// The family of a head as this batch left it (see [`Batch::json`]).
    pub async fn family(&self, tx: &mut Tx<'_>, head: &store::Head) -> ApiResult<Keluarga> {
        let json = self.json(tx, head).await?;
        serde_json::from_str(&json).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "stored household {} does not parse: {e}",
                head.seq
            ))
        })
    }

    /// A stored version, or one made earlier in this batch.
    async fn version(
        &self,
        tx: &mut Tx<'_>,
        no_kk: &str,
        version: i64,
    ) -> anyhow::Result<Option<Keluarga>> {
        if let Some(p) = self.writes.pending_version(no_kk, version) {
            return Ok(Some(serde_json::from_str(p)?));
        }
        store::version(tx, no_kk, version).await
    }
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::new()
    }
}

#[allow(clippy::too_many_arguments)]
async fn push_one(
    state: &AppState,
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    user: &User,
    item: &ChangeRequest,
    prep: Option<&Prepared>,
    device: &Device<'_>,
    current: &Rulebook,
    today: tepat_core::Date,
) -> ApiResult<(ItemResult, bool)> {
    let hash = prep.map_or_else(|| content_hash(item), |p| p.hash.clone());
    if let Some((stored_hash, response)) = batch.answers.get(&item.id) {
        if *stored_hash == hash {
            let r: ItemResult =
                serde_json::from_str(response).map_err(|e| ApiError::Internal(e.into()))?;
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

    let head = batch.head(tx, &item.no_kk).await?;
    let village = head.as_ref().map(|h| h.village.clone()).unwrap_or_default();
    let mut findings = Vec::new();
    // The same check as `verify_hash`, on the hash computed above.
    if item.hash.as_ref().is_some_and(|sent| *sent != hash) {
        findings.push(finding(
            "sync.hash_mismatch",
            Severity::Error,
            "hash",
            "Isi perubahan tidak sama dengan hash yang dikirim (berubah setelah dikunci).",
            "The change does not match its submitted hash (it changed after sealing).",
            &[],
        ));
    }
    let mut checks = None;
    let mut result = match (&head, findings.is_empty()) {
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
            // The work done before the writer, if it was done on this very head under
            // the same rulebooks and date.
            let reuse = prep.and_then(|p| p.applied.as_ref()).filter(|a| {
                a.seq == h.seq
                    && a.version == h.version
                    && a.registry == device.registry
                    && a.device == device.version
                    && a.today == today
            });
            let loaded;
            let fam = match reuse {
                Some(a) => &a.fam,
                None => {
                    loaded = batch.family(tx, h).await?;
                    &loaded
                }
            };
            // A stale item must still be valid against the version it was made on.
            let stale_errors = if i64::from(item.base_version) < h.version {
                match batch
                    .version(tx, &item.no_kk, i64::from(item.base_version))
                    .await?
                {
                    Some(base) => {
                        let (r, c) = apply_both(state, &base, item, device, current, today, None);
                        checks = Some(c);
                        r.err()
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
                    rulebooks: None,
                }
            } else {
                let target = match &item.event {
                    Event::FamilyMerge { into_no_kk, .. } => {
                        match batch.head(tx, into_no_kk).await? {
                            Some(t) => Some(batch.family(tx, &t).await?),
                            None => None,
                        }
                    }
                    _ => None,
                };
                let fresh;
                let (outcome, encoded) = match reuse {
                    Some(a) if target.is_none() => {
                        checks = Some(a.checks.clone());
                        (&a.outcome, a.encoded.clone())
                    }
                    _ => {
                        let (o, c) =
                            apply_both(state, fam, item, device, current, today, target.as_ref());
                        checks = Some(c);
                        fresh = o;
                        (&fresh, None)
                    }
                };
                match outcome {
                    Err(f) => reject(item, f.clone()),
                    Ok(applied) => {
                        let other_exists = match &applied.other {
                            Some(o) => batch.head(tx, &o.no_kk).await?.is_some(),
                            None => false,
                        };
                        let blocked = split_blocked(user, item, applied, other_exists);
                        let mut findings = applied.findings.clone();
                        for nik in store::niks_elsewhere(tx, &applied.keluarga, Some(fam)).await? {
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
                        } else if item.event.needs_review() || has_warnings {
                            ItemResult {
                                id: item.id.clone(),
                                outcome: "accepted".into(),
                                status: "pending_review".into(),
                                findings,
                                version: None,
                                rulebooks: None,
                            }
                        } else {
                            let version =
                                stage_applied(tx, batch, user, item, fam, applied, encoded).await?;
                            ItemResult {
                                id: item.id.clone(),
                                outcome: "accepted".into(),
                                status: "applied".into(),
                                findings,
                                version: Some(version),
                                rulebooks: None,
                            }
                        }
                    }
                }
            }
        }
    };
    result.rulebooks = checks;
    let review_reasons: Vec<&str> = {
        let mut r = Vec::new();
        if result.outcome == "conflict" {
            r.push("conflict");
        }
        if result.status == "pending_review" && item.event.needs_review() {
            r.push(item.event.kind().name());
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
    let province = store::province_of(&village);
    batch.writes.changes.push([
        Val::Text(item.id.clone()),
        Val::Text(province.clone()),
        Val::Text(village.clone()),
        Val::Text(item.no_kk.clone()),
        Val::Int(user.id),
        Val::Text(item.event.kind().name().to_owned()),
        Val::Int(i64::from(item.base_version)),
        Val::Text(device.version.to_owned()),
        Val::Text(payload),
        Val::Text(hash.clone()),
        Val::Text(result.outcome.clone()),
        Val::Text(result.status.clone()),
        Val::Text(serde_json::to_string(&review_reasons).unwrap_or_else(|_| "[]".into())),
        Val::Text(findings_json),
        Val::OptInt(result.version.map(i64::from)),
        Val::Text(response.clone()),
        Val::Int(now()),
    ]);
    // A repeated id later in the same batch is a replay of this one.
    batch.answers.insert(item.id.clone(), (hash, response));
    if result.status == "pending_review" {
        batch.writes.record(NewEntry {
            user: Some(user),
            action: "queue",
            province: Some(&province),
            household_id: Some(&item.no_kk),
            change_id: Some(&item.id),
            ..NewEntry::default()
        });
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
    let exists = match &applied.other {
        Some(o) => store::head(&mut **tx, &o.no_kk).await?.is_some(),
        None => false,
    };
    Ok(split_blocked(user, item, applied, exists))
}

/// [`other_blocked`] with the existence of the other family already known.
pub fn split_blocked(
    user: &User,
    item: &ChangeRequest,
    applied: &tepat_core::event::Applied,
    other_exists: bool,
) -> Option<Finding> {
    let (Some(other), Event::FamilySplit { .. }) = (&applied.other, &item.event) else {
        return None;
    };
    if other_exists {
        return Some(finding(
            "sync.no_kk_exists",
            Severity::Error,
            "event.new_no_kk",
            "No. KK baru sudah dipakai keluarga lain.",
            "The new No. KK already belongs to another family.",
            &[],
        ));
    }
    if !user.role.is_national() && !user.covers(store::village_of(other)) && !user.role.can_review()
    {
        return Some(finding(
            "sync.region_outside",
            Severity::Error,
            "event.address.village",
            "Alamat keluarga baru di luar wilayah tugas Anda.",
            "The new family's address is outside your area.",
            &[],
        ));
    }
    None
}

fn reject(item: &ChangeRequest, findings: Vec<Finding>) -> ItemResult {
    ItemResult {
        id: item.id.clone(),
        outcome: "rejected".into(),
        status: "rejected".into(),
        findings,
        version: None,
        rulebooks: None,
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
    let mut batch = Batch::new();
    let version = stage_applied(tx, &mut batch, user, item, before, applied, None).await?;
    batch.writes.flush(tx).await?;
    Ok(version)
}

/// [`commit_applied`] into a batch (written at its flush). `encoded` is the new
/// version's JSON and hash when already made (`store::Encoded::of(&applied.keluarga)`).
pub async fn stage_applied(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    user: &User,
    item: &ChangeRequest,
    before: &Keluarga,
    applied: &tepat_core::event::Applied,
    encoded: Option<store::Encoded>,
) -> ApiResult<u32> {
    let encoded = match encoded {
        Some(e) => e,
        None => store::Encoded::of(&applied.keluarga).map_err(|e| ApiError::Internal(e.into()))?,
    };
    let head = batch
        .writes
        .save_encoded(
            tx,
            &applied.keluarga,
            encoded,
            Some(before),
            Some(user.id),
            Some(&item.id),
        )
        .await?;
    batch.heads.insert(head.no_kk.clone(), Some(head));
    let (before_diff, after_diff) = crate::audit::diff_keluarga(before, &applied.keluarga)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let village = store::village_of(&applied.keluarga).to_owned();
    batch.writes.record(NewEntry {
        user: Some(user),
        action: item.event.kind().name(),
        province: Some(&store::province_of(&village)),
        household_id: Some(&applied.keluarga.no_kk),
        change_id: Some(&item.id),
        before: Some(&before_diff.to_string()),
        after: Some(&after_diff.to_string()),
        details: None,
    });
    if let Some(other) = &applied.other {
        let prior = batch.head(tx, &other.no_kk).await?;
        let prior_json = match &prior {
            Some(p) => Some(batch.json(tx, p).await?),
            None => None,
        };
        let prior_family = match &prior_json {
            Some(j) => Some(
                serde_json::from_str::<Keluarga>(j).map_err(|e| ApiError::Internal(e.into()))?,
            ),
            None => None,
        };
        let head = batch
            .writes
            .save(
                tx,
                other,
                prior_family.as_ref(),
                Some(user.id),
                Some(&item.id),
            )
            .await?;
        batch.heads.insert(head.no_kk.clone(), Some(head));
        let other_json = serde_json::to_string(other).map_err(|e| ApiError::Internal(e.into()))?;
        batch.writes.record(NewEntry {
            user: Some(user),
            action: item.event.kind().name(),
            province: Some(store::province_of(store::village_of(other)).as_str()),
            household_id: Some(&other.no_kk),
            change_id: Some(&item.id),
            before: prior_json.as_deref(),
            after: Some(&other_json),
            details: None,
        });
    }
    Ok(applied.keluarga.version)
}
