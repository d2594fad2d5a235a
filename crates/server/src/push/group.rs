//! The writer's queue: pushes wait here and are stored in groups, one transaction
//! each (group commit); and the grouped snapshot reads of `prepare`.

use std::collections::HashMap;

use serde_json::{Value, json};
use tepat_core::event::{ChangeRequest, Event};

use super::PushResponse;
use super::apply::Device;
use super::batch::Batch;
use super::item::{ItemContext, push_one};
use super::prepare::Prepared;
use crate::auth::User;
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;

/// One push waiting for the writer.
pub struct PushJob {
    /// The caller as `Auth` saw it (possibly from the session cache).
    pub(super) user: User,
    /// The SHA-256 of the caller's session token, checked again by the writer.
    pub(super) session: String,
    pub(super) items: Vec<ChangeRequest>,
    /// One per item.
    pub(super) prepared: Vec<Prepared>,
    /// The heads `prepare` read (without JSON), by No. KK.
    pub(super) seen: HashMap<String, store::Head>,
    /// The device's rulebook version; the current one when absent.
    pub(super) device_version: Option<String>,
    pub(super) reply: tokio::sync::oneshot::Sender<ApiResult<PushResponse>>,
}

/// Pushes waiting to be written, and the writer's lock; and the pushes waiting for
/// their heads snapshot, and the snapshot reader's lock.
#[derive(Default)]
pub struct PushGroup {
    queue: std::sync::Mutex<Vec<PushJob>>,
    pub(super) writer: tokio::sync::Mutex<()>,
    snapshots: std::sync::Mutex<Vec<SnapshotWait>>,
    reader: tokio::sync::Mutex<()>,
}

/// A push's households, waiting for a snapshot of their heads.
struct SnapshotWait {
    kks: Vec<String>,
    reply: tokio::sync::oneshot::Sender<Option<HashMap<String, store::Head>>>,
}

impl PushGroup {
    pub(super) fn queue(&self) -> std::sync::MutexGuard<'_, Vec<PushJob>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn snapshot_queue(&self) -> std::sync::MutexGuard<'_, Vec<SnapshotWait>> {
        self.snapshots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A snapshot of the heads of `kks` (outside any transaction; it may be stale by the
    /// time it is used). Reads are grouped like the writes: whoever holds the reader
    /// takes every push waiting by then and reads all their heads in one query.
    pub(super) async fn snapshot(
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
pub(super) async fn run_group(state: &AppState, jobs: Vec<PushJob>) {
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

/// An account's stored pushes today: before the group, and what the group adds.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    items: i64,
    bytes: i64,
    new_items: i64,
    new_bytes: i64,
}

/// Seconds in the day the daily push cap counts by: Western Indonesia's (WIB, UTC+7).
const CAP_DAY_OFFSET: i64 = 7 * 3600;

/// The day (days since 1970-01-01, WIB) of the instant `now` (Unix seconds).
fn cap_day(now: i64) -> i64 {
    (now + CAP_DAY_OFFSET).div_euclid(86_400)
}

/// Seconds from `now` until the next cap day begins.
fn until_next_day(now: i64) -> u64 {
    (86_400 - (now + CAP_DAY_OFFSET).rem_euclid(86_400)) as u64
}

/// What the account's pushes stored on `day`: (change rows, bytes).
async fn stored_today(tx: &mut store::Tx<'_>, user_id: i64, day: i64) -> ApiResult<(i64, i64)> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT items, bytes FROM push_usage WHERE user_id = $1 AND day = $2")
            .bind(user_id)
            .bind(day)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.unwrap_or((0, 0)))
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
    // The instant each family's "today" is judged at (in its province's zone).
    let instant = state.now();
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
    // What each account stored today before this group, and what the group adds.
    let day = cap_day(instant);
    let mut usage: HashMap<i64, Usage> = HashMap::new();
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
        // Scope first, for every item of the push, before anything of it is stored. A
        // No. KK the server does not know is refused exactly like one outside the area
        // (the same answer, no region named): the answer is no oracle of existence or
        // location.
        let mut outside = Vec::new();
        for (i, item) in job.items.iter().enumerate() {
            let mut codes = Vec::new();
            if let Event::NewFamily { .. } = &item.event {
                // A new family has no household yet: its scope is its case's village, and
                // an unknown case is answered like one outside the area.
                let case = super::new_family::case_of(&mut tx, item).await?;
                codes.push(case.map(|c| c.village));
            } else {
                codes.push(batch.head(&mut tx, &item.no_kk).await?.map(|h| h.village));
            }
            if let Event::FamilyMerge { into_no_kk, .. } = &item.event {
                codes.push(batch.head(&mut tx, into_no_kk).await?.map(|h| h.village));
            }
            if codes
                .iter()
                .any(|c| c.as_ref().is_none_or(|c| !user.can_write(c)))
            {
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
        let cx = ItemContext {
            state,
            user,
            device: &device,
            current,
            now: instant,
        };
        // The account's daily cap: a push whose new items (replays store nothing) would
        // pass the item cap, or that comes when the stored bytes are past theirs, is
        // refused whole; its replays are answered again once it is let through.
        let fresh = job
            .items
            .iter()
            .filter(|i| !batch.answers.contains_key(&i.id))
            .count() as i64;
        let used = match usage.get(&user.id) {
            Some(u) => *u,
            None => {
                let (items, bytes) = stored_today(&mut tx, user.id, day).await?;
                let u = Usage {
                    items,
                    bytes,
                    ..Usage::default()
                };
                usage.insert(user.id, u);
                u
            }
        };
        let (items_today, bytes_today) = (used.items + used.new_items, used.bytes + used.new_bytes);
        let settings = &state.settings;
        if fresh > 0
            && (items_today + fresh > settings.push_items_per_day
                || bytes_today >= settings.push_bytes_per_day)
        {
            out.push(Err(ApiError::DailyCap {
                retry_after_secs: until_next_day(instant),
            }));
            continue;
        }
        let before = batch.stored;
        let mut results = Vec::with_capacity(job.items.len());
        let (mut applied, mut queued, mut rejected, mut replayed) = (0, 0, 0, 0);
        for (item, prep) in job.items.iter().zip(&job.prepared) {
            let r = push_one(&mut tx, &mut batch, &cx, item, Some(prep)).await?;
            match (r.1, r.0.status.as_str()) {
                (true, _) => replayed += 1,
                (_, "applied") => applied += 1,
                (_, "pending_review") => queued += 1,
                _ => rejected += 1,
            }
            results.push(r.0);
        }
        if let Some(u) = usage.get_mut(&user.id) {
            u.new_items += batch.stored.0 - before.0;
            u.new_bytes += batch.stored.1 - before.1;
        }
        logs.push((user.id, results.len(), applied, queued, rejected, replayed));
        out.push(Ok(PushResponse {
            results,
            rulebook_version: current.version().to_owned(),
            server_time: String::new(),
        }));
    }
    for (
        user_id,
        Usage {
            new_items: items,
            new_bytes: bytes,
            ..
        },
    ) in usage
    {
        if items > 0 {
            sqlx::query(
                "INSERT INTO push_usage (user_id, day, items, bytes) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, day) DO UPDATE SET items = push_usage.items + excluded.items, \
                 bytes = push_usage.bytes + excluded.bytes",
            )
            .bind(user_id)
            .bind(day)
            .bind(items)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
        }
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
