//! The device's copy of the facilitator's data: the sealed worklist and the current
//! rulebook (kept with older ones still needed, see [`crate::rulebooks`]), loaded
//! after unlock and refreshed from `/api/v1/sync/pull`.

use std::rc::Rc;

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::rulebook::Rulebook;

use crate::api::{self, ApiError};
use crate::crypto::{self, Sealed};
use crate::perf;
use crate::rulebooks;
use crate::session::Unlocked;
use crate::store;
use crate::worklist::{Household, WorkState, Worklist};

const WORKLIST_KEY: &str = "worklist";
const PAGE: u32 = 500;

/// What the last load or pull did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    Idle,
    Loading,
    Pulling,
    /// The pull finished; `skipped` records could not be read and were left out.
    Pulled {
        skipped: usize,
    },
    Failed(ApiError),
    /// The device copy could not be read or written.
    StoreFailed(String),
}

/// The device data in context.
#[derive(Clone, Copy)]
pub struct Data {
    pub worklist: RwSignal<Option<Worklist>, LocalStorage>,
    /// The server's current rulebook (older ones a draft needs: [`rulebooks::open`]).
    pub rulebook: RwSignal<Option<Rc<Rulebook>>, LocalStorage>,
    pub status: RwSignal<SyncStatus>,
}

pub fn provide_data() -> Data {
    let data = Data {
        worklist: RwSignal::new_local(None),
        rulebook: RwSignal::new_local(None),
        status: RwSignal::new(SyncStatus::Idle),
    };
    provide_context(data);
    data
}

pub fn use_data() -> Data {
    use_context::<Data>().unwrap_or_else(provide_data)
}

/// Reads the sealed worklist and the rulebook from the device (offline). The worklist
/// comes first: the list can show while the rulebook (which only the forms need) is
/// still being compiled.
pub async fn load(data: Data, unlocked: &Unlocked) {
    perf::mark("tepat:load:start");
    data.status.set(SyncStatus::Loading);
    let stored = store::cache_get::<Sealed>(WORKLIST_KEY).await;
    perf::mark("tepat:load:read");
    let list = match stored {
        Ok(Some(sealed)) => {
            match crypto::open_json_direct::<Worklist>(&unlocked.key, &sealed).await {
                Ok(list) => list,
                Err(_) => {
                    data.status.set(SyncStatus::StoreFailed(
                        "worklist cannot be decrypted".into(),
                    ));
                    return;
                }
            }
        }
        Ok(None) => Worklist::default(),
        Err(e) => {
            data.status.set(SyncStatus::StoreFailed(e.0));
            return;
        }
    };
    perf::mark("tepat:load:opened");
    data.worklist.set(Some(list));
    if let Ok(shelf) = rulebooks::load().await
        && let Some(json) = shelf.current_json()
        && let Ok(rulebook) = Rulebook::from_json(json)
    {
        data.rulebook.set(Some(Rc::new(rulebook)));
    }
    data.status.set(SyncStatus::Idle);
    perf::measure("tepat:load", "tepat:load:start", "tepat:load:end");
}

async fn save(unlocked: &Unlocked, list: &Worklist) -> Result<(), String> {
    let sealed = crypto::seal_json(&unlocked.key, list)
        .await
        .map_err(|e| format!("{e:?}"))?;
    store::cache_put(WORKLIST_KEY, &sealed)
        .await
        .map_err(|e| e.0)
}

/// Pulls every page since the stored cursor, merges, seals and stores it; fetches the
/// rulebook when its version changed. The device copy is untouched on failure.
pub async fn pull(data: Data, unlocked: &Unlocked) {
    data.status.set(SyncStatus::Pulling);
    let token = unlocked.session.token.as_str();
    let mut list = data.worklist.get_untracked().unwrap_or_default();
    let mut skipped = 0;
    loop {
        let page = match api::pull(token, &list.cursor, PAGE).await {
            Ok(p) => p,
            Err(e) => {
                data.status.set(SyncStatus::Failed(e));
                return;
            }
        };
        let incoming = page
            .households
            .into_iter()
            .filter_map(|h| {
                let parsed = serde_json::from_value::<Keluarga>(h.keluarga).ok();
                if parsed.is_none() {
                    skipped += 1;
                }
                Some(Household {
                    no_kk: h.no_kk,
                    village: h.village,
                    version: h.version,
                    seq: h.seq,
                    state: WorkState::NotVisited,
                    keluarga: parsed?,
                })
            })
            .collect();
        list.merge(incoming);
        list.cursor = page.next_cursor;
        list.model_version = page.model_version;
        if list.rulebook_version != page.rulebook_version
            || data.rulebook.with_untracked(Option::is_none)
        {
            if let Ok(json) = api::rulebook(token).await
                && let Ok(rb) = Rulebook::from_json(&json)
            {
                // Older versions stay on the device while a draft or queued item needs them.
                let _ = rulebooks::put(rb.version(), json, true).await;
                data.rulebook.set(Some(Rc::new(rb)));
            }
            list.rulebook_version = page.rulebook_version;
        }
        if !page.has_more {
            list.synced_at = Some(page.server_time);
            break;
        }
    }
    if let Err(e) = save(unlocked, &list).await {
        data.status.set(SyncStatus::StoreFailed(e));
        return;
    }
    data.worklist.set(Some(list));
    // The current rulebook may have changed: drop the versions nobody needs any more.
    let _ = rulebooks::prune(&unlocked.key).await;
    data.status.set(SyncStatus::Pulled { skipped });
}

/// Sets a household's work state and stores the sealed worklist. A household already
/// in that state is left alone: the Uji Petik form sets `Draft` on every autosave, and
/// sealing 1,000 households again each time cost a keystroke ~25 ms under a 4x CPU
/// throttle (docs/benchmarks.md, 2026-11-24 session 3).
pub async fn set_state(data: Data, unlocked: &Unlocked, no_kk: &str, state: WorkState) {
    let unchanged = data.worklist.with_untracked(|w| {
        w.as_ref()
            .and_then(|w| w.find(no_kk))
            .is_none_or(|h| h.state == state)
    });
    if unchanged {
        return;
    }
    let Some(mut list) = data.worklist.get_untracked() else {
        return;
    };
    if let Some(h) = list.households.iter_mut().find(|h| h.no_kk == no_kk) {
        h.state = state;
    }
    if let Err(e) = save(unlocked, &list).await {
        data.status.set(SyncStatus::StoreFailed(e));
    }
    data.worklist.set(Some(list));
}
