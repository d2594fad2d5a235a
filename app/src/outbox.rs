//! Kotak Keluar: change requests waiting for the server, in their own database
//! (`tepat-outbox`), sealed with the PIN key. An item leaves the device only when the
//! server has accepted it; rejected and conflicting items stay with their findings.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tepat_core::Finding;
use tepat_core::event::ChangeRequest;

use crate::api::{self, ApiError};
use crate::crypto::{self, Sealed};
use crate::session::Unlocked;
use crate::store;

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Pending,
    Rejected,
    Conflict,
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
}

/// An item as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: String,
    pub state: ItemState,
    pub findings: Vec<Finding>,
    pub request: ChangeRequest,
}

/// The outbox in context: its items, the last sync and the sync in progress.
#[derive(Clone, Copy)]
pub struct Outbox {
    pub items: RwSignal<Vec<Item>, LocalStorage>,
    pub last_sync: RwSignal<Option<String>>,
    pub error: RwSignal<Option<ApiError>>,
    pub busy: RwSignal<bool>,
    /// Accepted by the server during this session: (kind, outcome status).
    pub accepted: RwSignal<Vec<(String, String)>>,
}

pub fn provide_outbox() -> Outbox {
    let o = Outbox {
        items: RwSignal::new_local(Vec::new()),
        last_sync: RwSignal::new(None),
        error: RwSignal::new(None),
        busy: RwSignal::new(false),
        accepted: RwSignal::new(Vec::new()),
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

/// Queues a sealed (hashed) change request.
pub async fn enqueue(
    outbox: Outbox,
    unlocked: &Unlocked,
    req: ChangeRequest,
    rulebook_version: &str,
) -> Result<(), String> {
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
    };
    store::outbox_put(&stored.id, &stored)
        .await
        .map_err(|e| e.0)?;
    load(outbox, unlocked).await;
    Ok(())
}

/// Reads and opens every item.
pub async fn load(outbox: Outbox, unlocked: &Unlocked) {
    let Ok(mut stored) = store::outbox_all::<Stored>().await else {
        return;
    };
    stored.sort_by(|a, b| a.created.cmp(&b.created));
    let mut items = Vec::new();
    for s in stored {
        if let Ok(request) = crypto::open_json::<ChangeRequest>(&unlocked.key, &s.request).await {
            items.push(Item {
                id: s.id,
                state: s.state,
                findings: s.findings,
                request,
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
    let result = push_pending(outbox, unlocked).await;
    outbox.busy.set(false);
    outbox.error.set(result.clone().err());
    load(outbox, unlocked).await;
    result
}

async fn push_pending(outbox: Outbox, unlocked: &Unlocked) -> Result<(), ApiError> {
    let stored = store::outbox_all::<Stored>()
        .await
        .map_err(|_| ApiError::Decode)?;
    let pending: Vec<&Stored> = stored
        .iter()
        .filter(|s| s.state == ItemState::Pending)
        .collect();
    if !pending.is_empty() {
        let mut requests = Vec::new();
        for s in &pending {
            if let Ok(r) = crypto::open_json::<ChangeRequest>(&unlocked.key, &s.request).await {
                requests.push(r);
            }
        }
        let version = pending[0].rulebook_version.clone();
        let results = api::push(&unlocked.session.token, &version, &requests).await?;
        for r in results {
            let Some(s) = stored.iter().find(|s| s.id == r.id) else {
                continue;
            };
            let kind = requests
                .iter()
                .find(|q| q.id == r.id)
                .map(|q| q.event.kind().to_owned())
                .unwrap_or_default();
            match r.outcome.as_str() {
                "accepted" => {
                    // Acknowledged: only now may the device forget it.
                    let _ = store::outbox_delete(&r.id).await;
                    outbox.accepted.update(|a| a.push((kind, r.status.clone())));
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
    }
    outbox.last_sync.set(Some(now_rfc3339()));
    Ok(())
}
