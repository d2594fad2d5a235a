//! Autosave: every change of the draft is sealed and stored on the device, and the
//! status line says whether it is.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::now_rfc3339;
use crate::draft::Draft;
use crate::draft_store;
use crate::i18n::{tr, use_lang};
use crate::session::Unlocked;
use crate::sync::{self, Data, use_data};
use crate::worklist::WorkState;

/// The saving of one form's draft.
#[derive(Clone)]
pub(super) struct Autosave {
    /// Every change of the draft is a generation; `saved_gen` is the newest one stored.
    /// While they differ the status says the draft is being saved, not that it is saved.
    generation: RwSignal<u64>,
    saved_gen: RwSignal<u64>,
    /// Device time of the last save.
    saved: RwSignal<Option<(String, tepat_core::region::TimeZone)>>,
    error: RwSignal<bool>,
    /// The draft went to the outbox: the form shows that it did.
    pub submitted: RwSignal<bool>,
    /// The same fact outside the reactive graph: a save that ends after the form is gone
    /// must still see that the draft was submitted.
    sent: Rc<Cell<bool>>,
    data: Data,
}

/// (a save is running, the draft to save next with its generation)
type Queue = Rc<RefCell<(bool, Option<(u64, Draft)>)>>;

impl Autosave {
    /// Saves `draft` after every change. Saves run one at a time, the newest draft last
    /// (each is a read-modify-write of the one record of all drafts).
    pub fn start(
        draft: RwSignal<Draft>,
        unlocked: StoredValue<Unlocked, LocalStorage>,
    ) -> Autosave {
        let save = Autosave {
            generation: RwSignal::new(0),
            saved_gen: RwSignal::new(0),
            saved: RwSignal::new(None),
            error: RwSignal::new(false),
            submitted: RwSignal::new(false),
            sent: Rc::new(Cell::new(false)),
            data: use_data(),
        };
        let queue: Queue = Rc::new(RefCell::new((false, None)));
        let this = save.clone();
        Effect::new(move |first: Option<()>| {
            let d = draft.get();
            if first.is_none() {
                return;
            }
            this.generation.update(|g| *g += 1);
            let mine = this.generation.get_untracked();
            let this = this.clone();
            let queue = queue.clone();
            let u = unlocked.get_value();
            spawn_local(async move {
                // Sealing and storing (~25 ms of main thread under a 4x throttle) come after
                // the change is painted; a newer change meanwhile saves instead of this one
                // (the form may be gone: this one is still saved).
                crate::after_paint().await;
                if this
                    .generation
                    .try_get_untracked()
                    .is_some_and(|g| g != mine)
                {
                    return;
                }
                {
                    let mut q = queue.borrow_mut();
                    q.1 = Some((mine, d));
                    if q.0 {
                        // The running save stores it when done.
                        return;
                    }
                    q.0 = true;
                }
                this.drain(&queue, &u).await;
            });
        });
        save
    }

    /// Stores the queued drafts until none is left.
    async fn drain(&self, queue: &Queue, u: &Unlocked) {
        let data = self.data;
        loop {
            let next = queue.borrow_mut().1.take();
            let Some((gen_of_d, mut d)) = next else {
                queue.borrow_mut().0 = false;
                break;
            };
            d.updated = now_rfc3339();
            match draft_store::save(&u.key, &d).await {
                // Submitted meanwhile: the draft must not come back.
                Ok(()) if self.sent.get() => {
                    let _ = draft_store::remove(&u.key, &d.no_kk).await;
                }
                Ok(()) => {
                    self.error.try_set(false);
                    self.saved.try_set(Some((
                        d.updated.clone(),
                        tepat_core::region::time_zone_of(&d.no_kk),
                    )));
                    self.saved_gen.try_set(gen_of_d);
                    let state = data.worklist.with_untracked(|w| {
                        w.as_ref().and_then(|w| w.find(&d.no_kk)).map(|h| h.state)
                    });
                    if matches!(state, Some(WorkState::NotVisited | WorkState::Synced)) {
                        sync::set_state(data, u, &d.no_kk, WorkState::Draft).await;
                    }
                }
                Err(_) => {
                    self.error.try_set(true);
                }
            }
        }
    }

    /// The draft is in the outbox: autosave must not write it back. No new save starts,
    /// and a save still running sees `sent` when it ends and removes what it wrote. Call
    /// it before removing the stored draft, so a save that ends while the removal awaits
    /// cannot leave the draft behind.
    pub fn stop(&self) {
        self.generation.try_update(|g| *g += 1);
        self.sent.set(true);
        self.submitted.try_set(true);
    }
}

/// Whether the draft is saved on the device.
#[component]
pub(super) fn DraftStatus(save: Autosave) -> impl IntoView {
    let lang = use_lang();
    move || {
        let l = lang.get();
        if save.error.get() {
            return view! { <p class="notice warn" role="status" data-field="draft-status">{tr(l, "Draf gagal disimpan di perangkat.", "The draft could not be saved on the device.")}</p> }.into_any();
        }
        if !save.submitted.get() && save.generation.get() != save.saved_gen.get() {
            return view! { <p class="notice" role="status" data-field="draft-status" data-saved="false">{tr(l, "Menyimpan draf di perangkat…", "Saving the draft on the device…")}</p> }.into_any();
        }
        match save.saved.get() {
            Some((t, zone)) => view! { <p class="notice" role="status" data-field="draft-status" data-saved="true">{tr(l, "Draf tersimpan di perangkat ", "Draft saved on the device ")}{crate::history::local_time(&t, zone, l)}</p> }.into_any(),
            None => view! { <p class="notice" role="status" data-field="draft-status">{tr(l, "Perubahan disimpan otomatis sebagai draf.", "Changes are saved automatically as a draft.")}</p> }.into_any(),
        }
    }
}
