//! Uji Petik: the ground check of one family. The rulebook's variables in their
//! sections, skip logic and live validation from tepat-core, a GPS fix and a house
//! photo, a draft saved (sealed) on every change, and a variable-correction change
//! request into the outbox on submit.
//!
//! This file loads what the form needs (the family, the draft, the rulebook it was made
//! with); [`form`] is the form's shell, which holds the parts: [`ctx`] (the state every
//! field shares), [`sections`] (the family's and the members' questions), [`fields`]
//! (one question's input), [`summary`] (the findings at the top), [`autosave`] (the
//! sealed draft), [`evidence`] (GPS and photo) and [`send`] (the change request).

mod autosave;
mod ctx;
mod evidence;
mod fields;
mod form;
mod sections;
mod send;
mod summary;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use tepat_core::Lang;
use tepat_core::event::ChangeRequest;
use tepat_core::rulebook::Rulebook;

use crate::draft::Draft;
use crate::draft_store;
use crate::i18n::{tr, use_lang};
use crate::rulebooks::{self, OpenError};
use crate::session::{AuthState, Unlocked, use_auth};
use crate::sync::use_data;
use form::Form;

#[component]
pub fn UjiPetikPage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.get() {
        AuthState::Unlocked(u) => view! { <UjiPetik unlocked=u/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

/// Loads the family, the rulebook and the stored draft, then shows the form.
#[component]
fn UjiPetik(unlocked: Unlocked) -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let params = use_params_map();
    let kk = move || params.with(|p| p.get("kk").unwrap_or_default());
    let family = data.family(kk);
    // The draft lives here, so a rebuilt form (new rulebook, language) keeps it.
    let draft = RwSignal::new(Draft::default());
    let loaded = RwSignal::new(false);
    // "Ubah" on a rejected ground check (`?ubah=ID`): the form opens with that change's
    // answers, unless a draft of the family is already in progress.
    let query = use_query_map();
    let redo = RwSignal::new(None::<ChangeRequest>);
    let opened = unlocked.clone();
    Effect::new(move |_| {
        let no_kk = kk();
        let again = query.with(|q| q.get("ubah"));
        let opened = opened.clone();
        spawn_local(async move {
            let d = draft_store::live(&opened, &no_kk).await.ok().flatten();
            let fresh = d.as_ref().is_none_or(Draft::is_empty);
            let req = match again {
                Some(id) if fresh => crate::outbox::request_json(&opened, &id)
                    .await
                    .and_then(|json| serde_json::from_str::<ChangeRequest>(&json).ok())
                    .filter(|r| r.no_kk == no_kk),
                _ => None,
            };
            redo.set(req);
            draft.set(d.unwrap_or_default());
            loaded.set(true);
        });
    });
    // A draft made with an older rulebook opens with that one: from the device, else
    // fetched from the server once (and kept while the draft needs it). `want` is the
    // version the draft opens with; it changes only when another draft is loaded or the
    // current rulebook changes, not on every answer (so the form is not rebuilt).
    let want = Memo::new(move |_| {
        let current = data
            .rulebook
            .with(|rb| rb.as_ref().map(|rb| rb.version().to_owned()));
        draft.with(|d| d.rulebook_version.clone()).or(current)
    });
    let older = RwSignal::new_local(None::<(String, Result<Rc<Rulebook>, OpenError>)>);
    let retry = RwSignal::new(0u32);
    let token = unlocked.session.token.clone();
    Effect::new(move |_| {
        retry.track();
        let current = data
            .rulebook
            .with(|rb| rb.as_ref().map(|rb| rb.version().to_owned()));
        let (Some(current), Some(version)) = (current, want.get()) else {
            return;
        };
        let have =
            older.with_untracked(|o| o.as_ref().is_some_and(|(v, r)| *v == version && r.is_ok()));
        if version == current || have {
            return;
        }
        let token = token.clone();
        spawn_local(async move {
            let opened = rulebooks::open(&token, &version).await;
            older.set(Some((version, opened)));
        });
    });
    let unlocked = StoredValue::new_local(unlocked);
    let back = move || {
        view! { <p><a href="/tugas">{move || tr(lang.get(), "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p> }
    };
    move || {
        let Some(base) = family.get() else {
            if data.worklist.with(Option::is_none) {
                // Unlocked a moment ago: the families are still being opened.
                return view! { <p class="notice" role="status">{move || tr(lang.get(), "Membuka data…", "Opening data…")}</p> }
                    .into_any();
            }
            return view! {
                <section class="card"><p class="notice" role="status">{move || tr(lang.get(),
                    "Keluarga ini tidak ada di daftar tugas perangkat ini.",
                    "This family is not in this device's worklist.")}</p>{back()}</section>
            }
            .into_any();
        };
        let Some(current) = data.rulebook.get() else {
            return view! {
                <section class="card"><p class="notice" role="status">{move || tr(lang.get(),
                    "Aturan isian belum ada di perangkat. Perbarui daftar tugas saat ada sinyal.",
                    "The rulebook is not on the device yet. Refresh the worklist when online.")}</p>{back()}</section>
            }
            .into_any();
        };
        if !loaded.get() {
            return view! { <p class="notice" role="status">{move || tr(lang.get(), "Membuka draf…", "Opening the draft…")}</p> }
                .into_any();
        }
        if let Some(again) = redo.get_untracked()
            && let Some(d) = Draft::redo(&again, &base, current.version()).map(with_change_id)
        {
            redo.update_untracked(|r| *r = None);
            draft.update_untracked(|old| *old = d.clone());
            let key = unlocked.with_value(|u| u.key.clone());
            spawn_local(async move {
                let _ = draft_store::save(&key, &d).await;
            });
        } else if draft.with_untracked(|d| d.no_kk != base.no_kk) {
            let fresh = with_change_id(Draft::new(&base, current.version()));
            draft.update_untracked(|d| *d = fresh);
        } else {
            draft.update_untracked(|d| {
                // Stored before drafts carried their version: it is the current one's.
                if d.rulebook_version.is_none() {
                    d.rulebook_version = Some(current.version().to_owned());
                }
                // Stored before drafts carried their change's id: it gets one now.
                if d.change_id.is_none() {
                    d.change_id = Some(new_id());
                }
            });
        }
        let version = want.get().unwrap_or_else(|| current.version().to_owned());
        let rb = if version == current.version() {
            current
        } else {
            match older.get() {
                Some((v, Ok(rb))) if v == version => rb,
                Some((v, Err(e))) if v == version => {
                    return view! {
                        <section class="card">
                            <p class="notice warn" role="alert" data-field="rulebook-missing">{move || e.message(lang.get(), &v)}</p>
                            <p><button type="button" on:click=move |_| retry.update(|n| *n += 1)>
                                {move || tr(lang.get(), "Coba lagi", "Try again")}
                            </button></p>
                            {back()}
                        </section>
                    }
                    .into_any();
                }
                _ => {
                    return view! { <p class="notice" role="status">{move || match lang.get() {
                        Lang::Id => format!("Membuka aturan isian versi {version}…"),
                        Lang::En => format!("Opening rulebook version {version}…"),
                    }}</p> }
                    .into_any();
                }
            }
        };
        view! { <Form base=base rb=rb draft=draft unlocked=unlocked.get_value()/> }.into_any()
    }
}

/// Device time now (RFC 3339).
fn now_rfc3339() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

/// `d` with the id of the change it becomes, fixed from here on.
fn with_change_id(mut d: Draft) -> Draft {
    d.change_id = Some(new_id());
    d
}

/// A new random id (UUID v4) from the browser.
fn new_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default()
}
