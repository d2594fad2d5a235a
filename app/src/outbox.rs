//! Kotak Keluar: change requests waiting for the server, in their own database
//! (`tepat-outbox`), sealed with the PIN key. An item leaves the device only when the
//! server has accepted it; rejected and conflicting items stay with their findings
//! until they are sent again or discarded. What the server accepted is kept in the
//! history log ([`crate::history::Sent`]) with the supervisor's decision once there is one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tepat_core::Finding;
use tepat_core::event::ChangeRequest;

use crate::api::{self, ApiError};
use crate::crypto::{self, Sealed};
use crate::history;
use crate::session::Unlocked;
use crate::store;

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Pending,
    Rejected,
    /// Kept for the supervisor: the family changed after the version it was made on.
    Conflict,
    /// The server refused it for the account's role or area (403): it cannot be sent.
    Refused,
}

/// An item as stored: the request sealed, its state and the server's findings in clear
/// (findings never carry names or NIKs).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    id: String,
    created: String,
    state: ItemState,
    findings: Vec<Finding>,
    rulebook_version: String,
    request: Sealed,
    /// Refused because the account's role may not push (not for the family's area).
    #[serde(default)]
    refused_for_role: bool,
}

/// An item as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: String,
    pub state: ItemState,
    pub findings: Vec<Finding>,
    /// The rulebook version the device checked it under; it is pushed under this one.
    pub rulebook_version: String,
    pub request: Summary,
    /// [`ItemState::Refused`] for the account's role rather than the family's area.
    pub refused_for_role: bool,
}

impl Item {
    /// The state's name in the page (`data-state`, the CSS class).
    pub fn state_key(&self) -> &'static str {
        match self.state {
            ItemState::Pending => "waiting",
            ItemState::Rejected => "needs_fix",
            ItemState::Conflict => "conflict",
            ItemState::Refused => "refused",
        }
    }
}

/// What the outbox shows of a queued change request, read from its sealed JSON
/// without the typed [`ChangeRequest`]: the outbox and the sync are in the app shell,
/// and reading every event type is code only the forms need (they are split modules,
/// `lazy.rs`). The request itself is pushed as it was sealed, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Summary {
    pub id: String,
    pub no_kk: String,
    pub time: String,
    event: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
struct EventKind {
    #[serde(rename = "type")]
    kind: String,
}

impl Summary {
    /// The event's type (`member_died`, `birth`, …: [`tepat_core::event::Event::kind`]).
    pub fn kind(&self) -> &str {
        &self.event.kind
    }

    /// The summary of a typed request, as [`load`] reads it from the request's JSON.
    pub fn of(req: &ChangeRequest) -> Summary {
        Summary {
            id: req.id.clone(),
            no_kk: req.no_kk.clone(),
            time: req.time.clone(),
            event: EventKind {
                kind: req.event.kind().name().to_owned(),
            },
        }
    }
}

/// The outbox in context: its items, the last sync and the sync in progress.
#[derive(Clone, Copy)]
pub struct Outbox {
    pub items: RwSignal<Vec<Item>, LocalStorage>,
    pub last_sync: RwSignal<Option<String>>,
    pub error: RwSignal<Option<ApiError>>,
    pub busy: RwSignal<bool>,
    /// Changes the server accepted, oldest first, with their review outcome (the
    /// sealed history log, so it survives a reload).
    pub sent: RwSignal<Vec<history::Sent>>,
}

impl Outbox {
    /// The outbox and the sent changes by family, from which each family's work state
    /// is derived ([`crate::worklist::derive`]).
    pub fn overlay(self) -> Memo<crate::worklist::Overlay> {
        Memo::new(move |_| {
            self.items
                .with(|i| self.sent.with(|s| crate::worklist::Overlay::new(i, s)))
        })
    }
}

pub fn provide_outbox() -> Outbox {
    let o = Outbox {
        items: RwSignal::new_local(Vec::new()),
        last_sync: RwSignal::new(None),
        error: RwSignal::new(None),
        busy: RwSignal::new(false),
        sent: RwSignal::new(Vec::new()),
    };
    provide_context(o);
    o
}

pub fn use_outbox() -> Outbox {
    use_context::<Outbox>().unwrap_or_else(provide_outbox)
}

fn now_rfc3339() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

/// Queues a sealed (hashed) change request. An account that may not push queues
/// nothing.
pub async fn enqueue(
    outbox: Outbox,
    unlocked: &Unlocked,
    req: ChangeRequest,
    rulebook_version: &str,
) -> Result<(), String> {
    if !unlocked.session.user.may_write() {
        return Err("read-only account".into());
    }
    let sealed = crypto::seal_json(&unlocked.key, &req)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let stored = Stored {
        id: req.id.clone(),
        created: now_rfc3339(),
        state: ItemState::Pending,
        findings: Vec::new(),
        rulebook_version: rulebook_version.to_owned(),
        request: sealed,
        refused_for_role: false,
    };
    store::outbox_put(&stored.id, &stored)
        .await
        .map_err(|e| e.0)?;
    load(outbox, unlocked).await;
    Ok(())
}

/// Whether the change `id` was made on this device: it waits in the outbox (in any
/// state) or the server acknowledged it.
pub async fn made(unlocked: &Unlocked, id: &str) -> bool {
    let queued = store::outbox_all::<Stored>()
        .await
        .is_ok_and(|all| all.iter().any(|s| s.id == id));
    queued
        || history::load(unlocked)
            .await
            .sent
            .iter()
            .any(|s| s.id == id)
}

/// The rulebook versions the stored items were checked under (each is pushed under
/// its own, so the device keeps those rulebooks).
pub async fn rulebook_versions() -> Result<std::collections::BTreeSet<String>, store::StoreError> {
    Ok(store::outbox_all::<Stored>()
        .await?
        .into_iter()
        .map(|s| s.rulebook_version)
        .collect())
}

/// Reads and opens every item, and the changes the server accepted.
pub async fn load(outbox: Outbox, unlocked: &Unlocked) {
    outbox.sent.set(history::load(unlocked).await.sent);
    let Ok(mut stored) = store::outbox_all::<Stored>().await else {
        return;
    };
    crate::order::sort_by(&mut stored, |a, b| a.created.cmp(&b.created));
    let mut items = Vec::new();
    for s in stored {
        if let Ok(request) = crypto::open_json::<Summary>(&unlocked.key, &s.request).await {
            items.push(Item {
                id: s.id,
                state: s.state,
                findings: s.findings,
                rulebook_version: s.rulebook_version,
                request,
                refused_for_role: s.refused_for_role,
            });
        }
    }
    outbox.items.set(items);
}

/// Pushes every pending item in one batch. Accepted items are deleted; rejected and
/// conflicting ones stay with the server's findings. Retrying is harmless: the server
/// answers a replayed client UUID with the same result.
pub async fn sync(outbox: Outbox, unlocked: &Unlocked) -> Result<(), ApiError> {
    if outbox.busy.get_untracked() {
        return Ok(());
    }
    outbox.busy.set(true);
    let mut result = push_pending(outbox, unlocked).await;
    if result.is_ok() {
        // Code only a sync needs (a split module, `lazy.rs`); without it the outcomes
        // wait for the next sync.
        if let Ok(fetching) = crate::lazy::fetch_outcomes(unlocked.clone()).await {
            result = fetching.await;
        }
    }
    outbox.busy.set(false);
    outbox.error.set(result.clone().err());
    load(outbox, unlocked).await;
    // Acknowledged items may have been the last to need an older rulebook.
    let _ = crate::rulebooks::prune(&unlocked.key).await;
    result
}

async fn push_pending(outbox: Outbox, unlocked: &Unlocked) -> Result<(), ApiError> {
    let stored = store::outbox_all::<Stored>()
        .await
        .map_err(|_| ApiError::Decode)?;
    // Each item goes with the rulebook version it was checked under: one batch per version.
    let mut versions: Vec<&str> = stored
        .iter()
        .filter(|s| s.state == ItemState::Pending)
        .map(|s| s.rulebook_version.as_str())
        .collect();
    crate::order::sort_by(&mut versions, |a, b| a.cmp(b));
    versions.dedup();
    for version in versions {
        let mut requests = Vec::new();
        let mut bodies = Vec::new();
        for s in stored
            .iter()
            .filter(|s| s.state == ItemState::Pending && s.rulebook_version == version)
        {
            if let Ok(plain) = crypto::open(&unlocked.key, &s.request).await
                && let Ok(summary) = serde_json::from_slice::<Summary>(&plain)
                && let Ok(body) = serde_json::from_slice::<Box<RawValue>>(&plain)
            {
                requests.push(summary);
                bodies.push(body);
            }
        }
        if requests.is_empty() {
            continue;
        }
        // The photos the changes name go first: a change never arrives without them.
        let pushed = match crate::evidence::upload_photos(&unlocked.session.token, &bodies).await {
            Ok(()) => api::push(&unlocked.session.token, version, &bodies).await,
            Err(e) => Err(e),
        };
        let results = match pushed {
            Ok(r) => r,
            Err(ApiError::Server { status: 403, .. }) => {
                // Not this account's to send (its role, or a family outside its area).
                // The server refuses the whole push, so each item goes alone: those
                // refused alone say so and wait to be discarded (sending again cannot
                // help); the others are answered as usual.
                let mut answered = Vec::new();
                // Whether the account may push at all, as the server says now.
                let for_role =
                    match crate::lazy::refused_for_role(unlocked.session.token.clone()).await {
                        Ok(asking) => asking.await,
                        Err(crate::lazy::LoadError) => false,
                    };
                for (q, body) in requests.iter().zip(&bodies) {
                    match api::push(&unlocked.session.token, version, std::slice::from_ref(body))
                        .await
                    {
                        Ok(mut r) => answered.append(&mut r),
                        Err(ApiError::Server { status: 403, .. }) => {
                            if let Some(s) = stored.iter().find(|s| s.id == q.id) {
                                let mut refused = s.clone();
                                refused.state = ItemState::Refused;
                                refused.refused_for_role = for_role;
                                let _ = store::outbox_put(&refused.id, &refused).await;
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                answered
            }
            // What earlier batches acknowledged is recorded already.
            Err(e) => return Err(e),
        };
        let (mut sent, mut acknowledged) = (Vec::new(), Vec::new());
        for r in results {
            let Some(s) = stored.iter().find(|s| s.id == r.id) else {
                continue;
            };
            let request = requests.iter().find(|q| q.id == r.id);
            let body = requests
                .iter()
                .position(|q| q.id == r.id)
                .map(|i| bodies[i].get().to_owned());
            let kind = request.map(|q| q.kind().to_owned()).unwrap_or_default();
            match r.outcome.as_str() {
                "accepted" => {
                    // Acknowledged: forgotten once its history entry is written (below).
                    acknowledged.push(r.id.clone());
                    if let Some(q) = request {
                        sent.push(history::Sent {
                            id: q.id.clone(),
                            no_kk: q.no_kk.clone(),
                            kind,
                            time: q.time.clone(),
                            status: r.status.clone(),
                            version: r.version,
                            decided_by: None,
                            decided_at: None,
                            note: None,
                            dismissed: false,
                            // Kept while the supervisor may still reject it ("Ubah").
                            request: body.filter(|_| r.status == "pending_review"),
                        });
                    }
                }
                other => {
                    let mut updated = s.clone();
                    updated.state = if other == "conflict" {
                        ItemState::Conflict
                    } else {
                        ItemState::Rejected
                    };
                    updated.findings = r.findings;
                    let _ = store::outbox_put(&updated.id, &updated).await;
                }
            }
        }
        // The history entry first, then the outbox entry: a crash in between leaves the
        // change in both (sent again, it is a replay), never in neither.
        if history::record_sent(unlocked, sent).await {
            for id in acknowledged {
                let _ = store::outbox_delete(&id).await;
            }
        }
    }
    outbox.last_sync.set(Some(now_rfc3339()));
    Ok(())
}

/// Asks the server what became of the changes still waiting for the supervisor (sent
/// ones in review, and conflicts kept in the outbox) and records each decision: a
/// decided conflict leaves the outbox for the history log.
pub(crate) async fn fetch_outcomes(unlocked: &Unlocked) -> Result<(), ApiError> {
    let log = history::load(unlocked).await;
    let stored = store::outbox_all::<Stored>()
        .await
        .map_err(|_| ApiError::Decode)?;
    let conflicts: Vec<&Stored> = stored
        .iter()
        .filter(|s| s.state == ItemState::Conflict)
        .collect();
    let ids: Vec<&str> = log
        .sent
        .iter()
        .filter(|s| s.awaits_review())
        .map(|s| s.id.as_str())
        .chain(conflicts.iter().map(|s| s.id.as_str()))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut decided = Vec::new();
    for chunk in ids.chunks(api::MAX_OUTCOME_IDS) {
        decided.extend(api::outcomes(&unlocked.session.token, chunk).await?);
    }
    let mut moved = Vec::new();
    for s in conflicts {
        let Some(o) = decided
            .iter()
            .find(|o| o.id == s.id && o.status != "pending_review")
        else {
            continue;
        };
        if let Ok(plain) = crypto::open(&unlocked.key, &s.request).await
            && let Ok(q) = serde_json::from_slice::<Summary>(&plain)
        {
            let rejected = o.status == "review_rejected";
            moved.push(history::Sent {
                id: q.id.clone(),
                no_kk: q.no_kk.clone(),
                kind: q.kind().to_owned(),
                time: q.time.clone(),
                status: o.status.clone(),
                version: o.version,
                decided_by: o.decided_by.clone(),
                decided_at: o.decided_at.clone(),
                note: o.note.clone(),
                dismissed: false,
                request: rejected.then(|| String::from_utf8_lossy(&plain).into_owned()),
            });
        }
    }
    history::record_outcomes(unlocked, &decided, moved.clone()).await;
    // Only once the decision is recorded may the device forget the item.
    for m in moved {
        let _ = store::outbox_delete(&m.id).await;
    }
    Ok(())
}

/// The JSON of a change this device made, as it was frozen: from the outbox, else from
/// the sent changes the supervisor may still reject or has rejected ([`history::Sent::request`]).
pub async fn request_json(unlocked: &Unlocked, id: &str) -> Option<String> {
    if let Ok(stored) = store::outbox_all::<Stored>().await
        && let Some(s) = stored.iter().find(|s| s.id == id)
    {
        let plain = crypto::open(&unlocked.key, &s.request).await.ok()?;
        return String::from_utf8(plain).ok();
    }
    history::load(unlocked)
        .await
        .sent
        .into_iter()
        .find(|s| s.id == id)
        .and_then(|s| s.request)
}

/// Removes an item from the outbox (a rejected, refused or conflicting one the
/// facilitator gave up, after a confirmation), or puts a change the supervisor rejected
/// aside, so it no longer marks the family. Called through `lazy::discard`.
pub(crate) async fn discard(outbox: Outbox, unlocked: &Unlocked, id: &str) {
    if outbox
        .items
        .with_untracked(|i| i.iter().any(|i| i.id == id))
    {
        let _ = store::outbox_delete(id).await;
    } else {
        history::dismiss(unlocked, id).await;
    }
    load(outbox, unlocked).await;
    let _ = crate::rulebooks::prune(&unlocked.key).await;
}

/// Keeps syncing automatically: when the device comes back online, and after a failed
/// attempt with exponential backoff (15 s doubling up to 10 min) while items wait.
pub fn auto_sync(outbox: Outbox, current: impl Fn() -> Option<Unlocked> + Clone + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let Some(window) = web_sys::window() else {
        return;
    };
    let on_online = {
        let current = current.clone();
        Closure::<dyn Fn()>::new(move || {
            if let Some(u) = current() {
                leptos::task::spawn_local(async move {
                    let _ = sync(outbox, &u).await;
                });
            }
        })
    };
    let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    on_online.forget();

    leptos::task::spawn_local(async move {
        let mut delay_ms: i32 = 15_000;
        loop {
            sleep(delay_ms).await;
            // Unsent work, or a decision the supervisor may have made meanwhile.
            let pending = outbox.items.with_untracked(|i| {
                i.iter()
                    .any(|i| matches!(i.state, ItemState::Pending | ItemState::Conflict))
            }) || outbox
                .sent
                .with_untracked(|s| s.iter().any(history::Sent::awaits_review));
            let Some(u) = current() else {
                delay_ms = 15_000;
                continue;
            };
            if !pending {
                delay_ms = 15_000;
                continue;
            }
            delay_ms = match sync(outbox, &u).await {
                Ok(()) => 15_000,
                Err(_) => (delay_ms.saturating_mul(2)).min(600_000),
            };
        }
    });
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
