//! The device's copy of the facilitator's data: the sealed worklist and the current
//! rulebook (kept with older ones still needed, see [`crate::rulebooks`]), loaded
//! after unlock and refreshed from `/api/v1/sync/pull`.

use std::collections::{BTreeMap, BTreeSet};
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
use crate::worklist::{self, Filter, Household, Row, WorkState, Worklist};

/// The sealed full worklist ([`Worklist`]).
const WORKLIST_KEY: &str = "worklist";
/// The sealed [`Row`]s of the list, written with [`WORKLIST_KEY`] in one transaction.
/// A device of an older layout has none: [`load`] writes them from the full list.
const ROWS_KEY: &str = "worklist_rows";
/// The server time of the last completed pull, in clear (no record data), so a pull
/// that brought nothing new does not seal and store the worklist again.
const SYNCED_KEY: &str = "worklist_synced_at";
/// The ranking model the server serves (`GET /model`, JSON text; not personal data).
const MODEL_KEY: &str = "ranking_model";
/// The sealed work states set on the device since the worklist was last stored
/// (No. KK → [`WorkState`]), applied over [`WORKLIST_KEY`] and [`ROWS_KEY`] when they
/// are read. A household's first draft or queued change then seals a few bytes
/// instead of the whole worklist (≈ 136 ms of main thread at a 4x CPU throttle with
/// 1,000 households, docs/benchmarks.md, 2026-11-24). [`save`] folds it into
/// the worklist and empties it in the same transaction.
const STATES_KEY: &str = "worklist_states";
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
    /// A part of the app (a split module, `lazy.rs`) is not on the device and could
    /// not be downloaded: the families stay closed until it can be.
    AppIncomplete,
}

/// The device data in context.
#[derive(Clone, Copy)]
pub struct Data {
    /// The full families; `None` until loaded (after the list's first frame).
    pub worklist: RwSignal<Option<Worklist>, LocalStorage>,
    /// What the list shows and searches, one [`Row`] per household in list order;
    /// loaded before the full families.
    pub rows: RwSignal<Option<Vec<Row>>>,
    /// Server time of the last completed pull (RFC 3339).
    pub synced_at: RwSignal<Option<String>>,
    /// The server's current rulebook (older ones a draft needs: [`rulebooks::open`]).
    pub rulebook: RwSignal<Option<Rc<Rulebook>>, LocalStorage>,
    pub status: RwSignal<SyncStatus>,
    /// What the worklist was last asked to show: kept while the app runs, so the
    /// search, filter and order survive opening a family and coming Back.
    pub filter: RwSignal<Filter>,
    /// The states stored under [`STATES_KEY`], as the device last wrote them or newer.
    states: StoredValue<BTreeMap<String, WorkState>>,
    /// Bumped by every write of [`STATES_KEY`]; a slower, older write is dropped.
    states_gen: StoredValue<u64>,
}

/// Sets the states of `states` on the households and rows they name.
fn apply_states(
    states: &BTreeMap<String, WorkState>,
    households: &mut [Household],
    rows: &mut [Row],
) {
    if states.is_empty() {
        return;
    }
    for h in households {
        if let Some(s) = states.get(&h.no_kk) {
            h.state = *s;
        }
    }
    for r in rows {
        if let Some(s) = states.get(&r.no_kk) {
            r.state = *s;
        }
    }
}

pub fn provide_data() -> Data {
    let data = Data {
        worklist: RwSignal::new_local(None),
        rows: RwSignal::new(None),
        synced_at: RwSignal::new(None),
        rulebook: RwSignal::new_local(None),
        status: RwSignal::new(SyncStatus::Idle),
        filter: RwSignal::new(Filter::default()),
        states: StoredValue::new(BTreeMap::new()),
        states_gen: StoredValue::new(0),
    };
    provide_context(data);
    data
}

pub fn use_data() -> Data {
    use_context::<Data>().unwrap_or_else(provide_data)
}

impl Data {
    /// The worklist's family with No. KK `no_kk()`, for a screen about one family. It
    /// changes with the family only, not with its work state, so saving a change (which
    /// sets the state) does not rebuild the screen's form.
    pub fn family(
        self,
        no_kk: impl Fn() -> String + Send + Sync + 'static,
    ) -> Memo<Option<Keluarga>> {
        Memo::new(move |_| {
            self.worklist.with(|w| {
                w.as_ref()
                    .and_then(|w| w.find(&no_kk()))
                    .map(|h| h.keluarga.clone())
            })
        })
    }

    /// Drops the device data from memory (lock, sign-out).
    pub fn clear(&self) {
        self.worklist.set(None);
        self.rows.set(None);
        self.synced_at.set(None);
        self.filter.set(Filter::default());
        self.states.set_value(BTreeMap::new());
    }

    fn set_list(&self, list: Worklist, rows: Vec<Row>) {
        if self.rows.with_untracked(|r| r.as_ref() != Some(&rows)) {
            self.rows.set(Some(rows));
        }
        self.worklist.set(Some(list));
    }
}

/// Reads the sealed worklist and the rulebook from the device (offline). The list's
/// rows come first, then (after they are painted) the full families, then the
/// rulebook (which only the forms need). A device without rows (older layout, or rows
/// an older app left behind) gets them from the full families.
pub async fn load(data: Data, unlocked: &Unlocked) {
    perf::mark("tepat:load:start");
    data.status.set(SyncStatus::Loading);
    // The rows, the sync time and the states set since, in one transaction.
    let (sealed_rows, synced, sealed_states) =
        match store::cache_get3::<Sealed, String, Sealed>(ROWS_KEY, SYNCED_KEY, STATES_KEY).await {
            Ok(v) => v,
            Err(e) => {
                data.status.set(SyncStatus::StoreFailed(e.0));
                return;
            }
        };
    let states = match sealed_states {
        Some(sealed) => crypto::open_json::<BTreeMap<String, WorkState>>(&unlocked.key, &sealed)
            .await
            .unwrap_or_default(),
        None => BTreeMap::new(),
    };
    data.states.set_value(states.clone());
    perf::mark("tepat:load:read");
    let mut shown = None;
    if let Some(sealed) = sealed_rows
        && let Ok(mut rows) = crypto::open_json::<Vec<Row>>(&unlocked.key, &sealed).await
    {
        apply_states(&states, &mut [], &mut rows);
        data.rows.set(Some(rows.clone()));
        shown = Some(rows);
    }
    perf::mark("tepat:load:opened");
    if synced.is_some() {
        data.synced_at.set(synced.clone());
    }
    if shown.is_some() {
        crate::after_paint().await;
        if data.rows.with_untracked(Option::is_none) {
            // Locked meanwhile ([`Data::clear`]): nothing more is opened.
            return;
        }
    }
    // The families and the rulebook: code the list does not need (a split module).
    match crate::lazy::open_families(data, unlocked.clone(), shown, states, synced).await {
        Ok(opening) => opening.await,
        Err(crate::lazy::LoadError) => data.status.set(SyncStatus::AppIncomplete),
    }
}

/// The second part of [`load`], in the split module `data` (`lazy.rs`): the full
/// families (their rows written again when the device had none or older ones), then
/// the rulebook.
pub(crate) async fn open_families(
    data: Data,
    unlocked: Unlocked,
    shown: Option<Vec<Row>>,
    states: BTreeMap<String, WorkState>,
    synced: Option<String>,
) {
    let mut list = match store::cache_get::<Sealed>(WORKLIST_KEY).await {
        Ok(Some(sealed)) => match crypto::open_json::<Worklist>(&unlocked.key, &sealed).await {
            Ok(list) => list,
            Err(_) => {
                data.status.set(SyncStatus::StoreFailed(
                    "worklist cannot be decrypted".into(),
                ));
                return;
            }
        },
        Ok(None) => Worklist::default(),
        Err(e) => {
            data.status.set(SyncStatus::StoreFailed(e.0));
            return;
        }
    };
    apply_states(&states, &mut list.households, &mut []);
    let rows = worklist::rows(&list);
    if shown.as_ref() != Some(&rows) && !list.households.is_empty() {
        // Older layout, or rows an older app version left behind: store them now.
        if let Ok(sealed) = crypto::seal_json(&unlocked.key, &rows).await {
            let _ = store::cache_put(ROWS_KEY, &sealed).await;
        }
    }
    if synced.is_none() {
        data.synced_at.set(list.synced_at.clone());
    }
    data.set_list(list, rows);
    perf::mark("tepat:load:families");
    if let Ok(shelf) = rulebooks::load().await
        && let Some(json) = shelf.current_json()
        && let Some(rulebook) = crate::lazy::rulebook(json).await
    {
        data.rulebook.set(Some(rulebook));
    }
    data.status.set(SyncStatus::Idle);
    perf::measure("tepat:load", "tepat:load:start", "tepat:load:end");
}

/// Seals and stores the full worklist and its rows, with the states set on the device
/// folded in and [`STATES_KEY`] emptied, in one transaction; returns the rows. States
/// set while it seals stay in [`Data::states`] and are applied to `list` and written
/// again after it.
async fn save(data: Data, unlocked: &Unlocked, list: &mut Worklist) -> Result<Vec<Row>, String> {
    let folded = data.states.get_value();
    apply_states(&folded, &mut list.households, &mut []);
    let rows = worklist::rows(list);
    let sealed = crypto::seal_json(&unlocked.key, &*list)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let sealed_rows = crypto::seal_json(&unlocked.key, &rows)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let sealed_none = crypto::seal_json(&unlocked.key, &BTreeMap::<String, WorkState>::new())
        .await
        .map_err(|e| format!("{e:?}"))?;
    data.states_gen.update_value(|g| *g += 1);
    if let Err(e) = store::cache_put3(
        (WORKLIST_KEY, &sealed),
        (ROWS_KEY, &sealed_rows),
        (STATES_KEY, &sealed_none),
    )
    .await
    {
        // Nothing landed, and the bump above may have stopped a state write that was
        // under way: write the states again, so none is only in memory.
        persist_states(data, unlocked).await;
        return Err(e.0);
    }
    // What was folded in is in the stored list now; what was set meanwhile is not.
    data.states
        .update_value(|m| m.retain(|k, v| folded.get(k) != Some(v)));
    if data.states.with_value(BTreeMap::is_empty) {
        return Ok(rows);
    }
    let mut rows = rows;
    data.states
        .with_value(|m| apply_states(m, &mut list.households, &mut rows));
    persist_states(data, unlocked).await;
    Ok(rows)
}

/// Drops the families outside the account's area ([`Worklist::stale`]) but those with a
/// draft being written, which stay until the draft is sent or discarded (the outbox
/// keeps what was sent without them). True when any was dropped.
fn drop_stale(data: Data, list: &mut Worklist) -> bool {
    if list.stale.is_empty() {
        return false;
    }
    data.states
        .with_value(|m| apply_states(m, &mut list.households, &mut []));
    let before = list.households.len();
    let stale = std::mem::take(&mut list.stale);
    list.households
        .retain(|h| h.state == WorkState::Draft || !stale.contains(&h.no_kk));
    list.stale = stale
        .into_iter()
        .filter(|k| list.households.iter().any(|h| h.no_kk == *k))
        .collect();
    list.households.len() != before
}

/// Seals and stores [`Data::states`]. Of overlapping calls only the newest writes (it
/// holds everything the older ones held).
async fn persist_states(data: Data, unlocked: &Unlocked) {
    data.states_gen.update_value(|g| *g += 1);
    let generation = data.states_gen.get_value();
    let states = data.states.get_value();
    let sealed = match crypto::seal_json(&unlocked.key, &states).await {
        Ok(s) => s,
        Err(e) => {
            data.status.set(SyncStatus::StoreFailed(format!("{e:?}")));
            return;
        }
    };
    if data.states_gen.get_value() != generation {
        return;
    }
    if let Err(e) = store::cache_put(STATES_KEY, &sealed).await {
        data.status.set(SyncStatus::StoreFailed(e.0));
    }
}

/// Pulls every page since the stored cursor, merges, seals and stores it; fetches the
/// rulebook when its version changed. The device copy is untouched on failure, and is
/// not written again when the server sent nothing new (only the sync time is).
pub async fn pull(data: Data, unlocked: &Unlocked) {
    data.status.set(SyncStatus::Pulling);
    match crate::lazy::pull_pages(data, unlocked.clone()).await {
        Ok(pulling) => pulling.await,
        Err(crate::lazy::LoadError) => data.status.set(SyncStatus::AppIncomplete),
    }
}

/// [`pull`]'s work, in the split module `data` (`lazy.rs`): reading families is code
/// the list does not need.
pub(crate) async fn pull_pages(data: Data, unlocked: Unlocked) {
    let unlocked = &unlocked;
    let token = unlocked.session.token.as_str();
    let mut list = data.worklist.get_untracked().unwrap_or_default();
    let mut skipped = 0;
    let mut changed = false;
    // After a reset: the families the new pages carried.
    let mut fresh: Option<BTreeSet<String>> = None;
    let synced_at;
    // The server's model (with the published cut points), as last fetched.
    if crate::routes::score::model_version() != list.model_version
        && let Ok(Some(json)) = store::cache_get::<String>(MODEL_KEY).await
    {
        crate::routes::score::set_model(&json);
    }
    loop {
        let page = match api::pull(token, &list.cursor, PAGE).await {
            Ok(p) => p,
            Err(e) => {
                data.status.set(SyncStatus::Failed(e));
                return;
            }
        };
        if page.reset {
            // The account's villages changed: what follows is the whole new worklist.
            fresh = Some(BTreeSet::new());
        }
        if let Some(f) = &mut fresh {
            f.extend(page.households.iter().map(|h| h.no_kk.clone()));
        }
        let incoming = page
            .households
            .into_iter()
            .filter_map(|h| {
                let parsed = serde_json::from_slice::<Keluarga>(h.keluarga.get().as_bytes()).ok();
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
                    official: h.official,
                    graduation: h.graduation,
                })
            })
            .collect();
        // A newly published ranking run: every family has a new official desil, so the
        // list is pulled again from the start (families merge by version and desil).
        let run = page.ranking.as_ref().map(|r| r.run_id);
        if run != list.ranking_run {
            list.ranking_run = run;
            if !list.cursor.is_empty() && list.cursor != "0" {
                list.cursor = String::new();
                changed = true;
                continue;
            }
        }
        changed |= list.merge(incoming);
        if crate::routes::score::model_version() != page.model_version
            && let Ok(json) = api::model(token).await
            && crate::routes::score::set_model(&json)
        {
            let _ = store::cache_put(MODEL_KEY, &json).await;
        }
        changed |= list.cursor != page.next_cursor || list.model_version != page.model_version;
        list.cursor = page.next_cursor;
        list.model_version = page.model_version;
        if list.rulebook_version != page.rulebook_version
            || data.rulebook.with_untracked(Option::is_none)
        {
            if let Ok(json) = api::rulebook(token).await
                && let Some(rb) = crate::lazy::rulebook(&json).await
            {
                // Older versions stay on the device while a draft or queued item needs them.
                let _ = rulebooks::put(rb.version(), json, true).await;
                data.rulebook.set(Some(rb));
            }
            changed |= list.rulebook_version != page.rulebook_version;
            list.rulebook_version = page.rulebook_version;
        }
        if !page.has_more {
            synced_at = page.server_time;
            break;
        }
    }
    if let Some(fresh) = fresh {
        list.stale = list
            .households
            .iter()
            .filter(|h| !fresh.contains(&h.no_kk))
            .map(|h| h.no_kk.clone())
            .collect();
        changed = true;
    }
    changed |= drop_stale(data, &mut list);
    // Kept in the sealed list too, for an older app version reading this device.
    list.synced_at = Some(synced_at.clone());
    if changed {
        match save(data, unlocked, &mut list).await {
            Ok(rows) => data.set_list(list, rows),
            Err(e) => {
                data.status.set(SyncStatus::StoreFailed(e));
                return;
            }
        }
    } else {
        data.worklist.update_untracked(|w| {
            if let Some(w) = w {
                w.synced_at = Some(synced_at.clone());
            }
        });
    }
    if let Err(e) = store::cache_put(SYNCED_KEY, &synced_at).await {
        data.status.set(SyncStatus::StoreFailed(e.0));
        return;
    }
    data.synced_at.set(Some(synced_at));
    // The current rulebook may have changed: drop the versions nobody needs any more.
    let _ = rulebooks::prune(&unlocked.key).await;
    data.status.set(SyncStatus::Pulled { skipped });
}

/// Sets a household's work state, on screen at once and on the device as one small
/// sealed record ([`STATES_KEY`]), not the whole worklist again. A household already
/// in that state is left alone: the Uji Petik form sets `Draft` on every autosave.
pub async fn set_state(data: Data, unlocked: &Unlocked, no_kk: &str, state: WorkState) {
    let unchanged = data.worklist.with_untracked(|w| {
        w.as_ref()
            .and_then(|w| w.find(no_kk))
            .is_none_or(|h| h.state == state)
    });
    if unchanged {
        return;
    }
    data.states.update_value(|m| {
        m.insert(no_kk.to_owned(), state);
    });
    data.worklist.update(|w| {
        if let Some(h) = w
            .as_mut()
            .and_then(|w| w.households.iter_mut().find(|h| h.no_kk == no_kk))
        {
            h.state = state;
        }
    });
    data.rows.update(|r| {
        if let Some(row) = r
            .as_mut()
            .and_then(|r| r.iter_mut().find(|x| x.no_kk == no_kk))
        {
            row.state = state;
        }
    });
    persist_states(data, unlocked).await;
}
