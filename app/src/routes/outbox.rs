//! Kotak Keluar: pending changes, the last sync, and per-record server results.

use leptos::prelude::*;
use leptos::task::spawn_local;

use tepat_core::Lang;
use tepat_core::region::{TimeZone, time_zone_of};

use crate::history::{self, DeviceChange, DeviceState, local_time, user_zone};
use crate::i18n::{tr, tx, use_lang};
use crate::outbox::{self, ItemState, use_outbox};
use crate::routes::events::kind_label;
use crate::routes::history::outcome_text;
use crate::session::{AuthState, use_auth};
use crate::storage::{self, Estimate, format_bytes};
use crate::sync::use_data;

#[component]
pub fn OutboxPage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.get() {
        AuthState::Unlocked(_) => view! { <OutboxList/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

#[component]
fn OutboxList() -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let ob = use_outbox();
    let data = use_data();
    let sync_now = move |_| {
        if let AuthState::Unlocked(u) = auth.get_untracked() {
            spawn_local(async move {
                let _ = outbox::sync(ob, &u).await;
            });
        }
    };
    let (zone, may_write) = match auth.get_untracked() {
        AuthState::Unlocked(u) => (user_zone(&u.session.user), u.session.user.may_write()),
        _ => (TimeZone::Wib, true),
    };
    // The item whose discarding waits for a confirmation.
    let confirm = RwSignal::new(None::<String>);
    let discard = move |id: String| {
        if let AuthState::Unlocked(u) = auth.get_untracked() {
            spawn_local(async move {
                if let Ok(discarding) = crate::lazy::discard(ob, u, id).await {
                    discarding.await;
                }
                confirm.set(None);
            });
        }
    };
    // The family's name from the worklist (the head's), else nothing.
    let name_of = move |no_kk: &str| {
        data.rows.with(|r| {
            r.as_ref()
                .and_then(|r| r.iter().find(|r| r.no_kk == no_kk))
                .map(|r| r.head.clone())
        })
    };
    // `edit`: where the change opens again to be fixed and sent ("Ubah").
    let actions = move |id: String, no_kk: String, edit: Option<String>, l: Lang| {
        let asking = {
            let id = id.clone();
            move || confirm.get().as_deref() == Some(id.as_str())
        };
        let ask = {
            let id = id.clone();
            move |_| confirm.set(Some(id.clone()))
        };
        view! {
            <p class="actions">
                {edit.map(|href| view! {
                    <a class="button" data-field="edit" href=href>{tr(l, "Ubah lalu kirim lagi", "Edit and send again")}</a>
                    " "
                })}
                <a class="button secondary" href=format!("/keluarga/{no_kk}")>{tr(l, "Buka keluarga", "Open the family")}</a>
                " "
                <button type="button" class="secondary" on:click=ask>{tr(l, "Buang", "Discard")}</button>
            </p>
            {move || asking().then(|| {
                let id = id.clone();
                view! {
                    <div class="notice warn" role="alert" data-field="confirm-discard">
                        <p>{tr(l,
                            "Buang perubahan ini dari perangkat? Isinya hilang dan tidak dapat dikirim lagi.",
                            "Discard this change from the device? Its content is lost and cannot be sent again.")}</p>
                        <button type="button" on:click=move |_| discard(id.clone())>{tr(l, "Ya, buang", "Yes, discard")}</button>
                        " "
                        <button type="button" class="secondary" on:click=move |_| confirm.set(None)>{tr(l, "Batal", "Cancel")}</button>
                    </div>
                }
            })}
        }
    };
    view! {
        <section class="card">
            <h1>{tx("Kotak Keluar", "Outbox")}</h1>
            <p data-field="last-sync">{move || match ob.last_sync.get() {
                Some(t) => format!("{} {}", tr(lang.get(), "Sinkron terakhir:", "Last sync:"), local_time(&t, zone, lang.get())),
                None => tr(lang.get(), "Belum sinkron pada sesi ini.", "Not synced in this session.").to_owned(),
            }}</p>
            {move || ob.error.get().map(|e| view! { <p class="notice warn" role="alert">{e.message(lang.get())}</p> })}
            <p><button type="button" on:click=sync_now disabled=move || ob.busy.get()>
                {tx("Sinkronkan sekarang", "Sync now")}
            </button></p>
            <p role="status" data-field="pending">{move || {
                let n = ob.items.with(|i| i.iter().filter(|i| i.state == ItemState::Pending).count());
                match lang.get() {
                    tepat_core::Lang::Id => format!("{n} perubahan menunggu"),
                    tepat_core::Lang::En => format!("{n} changes waiting"),
                }
            }}</p>
        </section>
        <ul class="worklist outbox">
            {move || ob.items.get().into_iter().map(|item| {
                let l = lang.get();
                let no_kk = item.request.no_kk.clone();
                let zone = time_zone_of(&no_kk);
                let state = match item.state {
                    ItemState::Pending => tr(l, "Menunggu sinkron", "Waiting to sync"),
                    ItemState::Rejected => tr(l, "Ditolak server — buka keluarga untuk memperbaiki, lalu catat lagi; atau buang", "Rejected by the server — open the family to fix it and record it again, or discard it"),
                    ItemState::Conflict => tr(l, "Konflik — keluarga berubah sejak versi ini; diteruskan ke koordinator", "Conflict — the family changed since this version; sent to the supervisor"),
                    ItemState::Refused if item.refused_for_role || !may_write => tr(l,
                        "Ditolak: akun ini hanya dapat membaca data dan tidak boleh mengirim perubahan. Buang item ini.",
                        "Refused: this account can only read and may not send changes. Discard this item."),
                    ItemState::Refused => tr(l,
                        "Ditolak: keluarga ini di luar wilayah tugas akun ini (desanya mungkin dipindahkan ke pendamping lain). Buang item ini.",
                        "Refused: this family is outside this account's assigned area (its village may have moved to another facilitator). Discard this item."),
                };
                let edit = (item.state == ItemState::Rejected)
                    .then(|| edit_href(&no_kk, item.request.kind(), &item.id));
                let acts = (item.state != ItemState::Pending)
                    .then(|| actions(item.id.clone(), no_kk.clone(), edit, l));
                view! {
                    <li class="row card" data-id=item.id.clone() data-state=item.state_key()>
                        <strong>{kind_label(item.request.kind()).get(l).to_owned()}</strong>
                        " · " <span data-field="family">{name_of(&no_kk).unwrap_or_default()}</span>
                        <br/><small>{tr(l, "No. KK ", "Family card ")}{no_kk.clone()}" · "{local_time(&item.request.time, zone, l)}</small>
                        <br/><span class=format!("state {}", item.state_key())>{state}</span>
                        <br/><small data-field="rulebook">{tr(l, "Aturan isian versi ", "Rulebook version ")}{item.rulebook_version.clone()}</small>
                        <ul class="findings">
                            {item.findings.iter().map(|f| view! {
                                <li class="finding error">{f.message.get(l).to_owned()}</li>
                            }).collect_view()}
                        </ul>
                        {acts}
                    </li>
                }
            }).collect_view()}
        </ul>
        {move || (!ob.sent.with(Vec::is_empty)).then(|| view! {
            <section class="card">
                <h2>{tr(lang.get(), "Sudah diterima server", "Accepted by the server")}</h2>
                <ul class="worklist outbox" data-field="accepted">
                    {ob.sent.get().into_iter().rev().filter(|s| !s.dismissed).map(|s| {
                        let l = lang.get();
                        let zone = time_zone_of(&s.no_kk);
                        let change = DeviceChange::from(&s);
                        let rejected = change.state == DeviceState::ReviewRejected;
                        view! {
                            <li class="row card" data-id=s.id.clone() data-state=change.state.key()>
                                <strong>{kind_label(&s.kind).get(l).to_owned()}</strong>
                                " · " <span data-field="family">{name_of(&s.no_kk).unwrap_or_default()}</span>
                                <br/><small>{tr(l, "No. KK ", "Family card ")}{s.no_kk.clone()}" · "{local_time(&s.time, zone, l)}</small>
                                <br/><span class=format!("state {}", change.state.key()) data-field="outcome">{outcome_text(&change, zone, l)}</span>
                                {rejected.then(|| {
                            let edit = s.request.is_some().then(|| edit_href(&s.no_kk, &s.kind, &s.id));
                            actions(s.id.clone(), s.no_kk.clone(), edit, l)
                        })}
                            </li>
                        }
                    }).take(history::SENT_SHOWN).collect_view()}
                </ul>
            </section>
        })}
        <StorageInfo/>
    }
}

/// Where a rejected change `id` of kind `kind` opens again: the ground-check form for a
/// ground check, else the household page's form of its event, filled in from it.
fn edit_href(no_kk: &str, kind: &str, id: &str) -> String {
    match kind {
        "variable_correction" | "ground_check_confirmed" => {
            format!("/keluarga/{no_kk}/uji-petik?ubah={id}")
        }
        _ => format!("/keluarga/{no_kk}?ubah={id}"),
    }
}

/// How much of the browser's storage the app uses, and whether it is kept.
#[component]
fn StorageInfo() -> impl IntoView {
    let lang = use_lang();
    let estimate = RwSignal::new(None::<Estimate>);
    let persisted = RwSignal::new(None::<bool>);
    let read = move || {
        spawn_local(async move {
            estimate.set(storage::estimate().await);
            persisted.set(storage::persisted().await);
        })
    };
    read();
    let ask = move |_| {
        spawn_local(async move {
            let _ = storage::persist().await;
            read();
        })
    };
    view! {
        <section class="card" data-field="storage">
            <h2>{tx("Penyimpanan perangkat", "Device storage")}</h2>
            <p data-field="storage-estimate">{move || {
                let l = lang.get();
                match estimate.get() {
                    Some(e) => {
                        let (used, quota) = (format_bytes(l, e.usage), format_bytes(l, e.quota));
                        let pct = format!("{:.1}", e.percent());
                        match l {
                            tepat_core::Lang::Id => format!("Terpakai {used} dari {quota} ({} %)", pct.replace('.', ",")),
                            tepat_core::Lang::En => format!("Used {used} of {quota} ({pct} %)"),
                        }
                    }
                    None => tr(l, "Perkiraan penyimpanan tidak tersedia di peramban ini.", "This browser gives no storage estimate.").to_owned(),
                }
            }}</p>
            <p data-field="storage-persisted">{move || match persisted.get() {
                Some(true) => tr(lang.get(),
                    "Penyimpanan tetap: peramban tidak akan menghapus data ini sendiri.",
                    "Persistent storage: the browser will not delete this data by itself."),
                Some(false) => tr(lang.get(),
                    "Penyimpanan belum tetap: jika memori penuh, peramban dapat menghapus data yang belum terkirim. Pasang aplikasi ke layar utama.",
                    "Storage is not persistent: when space runs out the browser may delete unsent data. Install the app to the home screen."),
                None => tr(lang.get(), "Status penyimpanan tetap tidak diketahui.", "Persistence is unknown."),
            }}</p>
            {move || (persisted.get() == Some(false)).then(|| view! {
                <p><button type="button" class="secondary" on:click=ask>
                    {tx("Minta penyimpanan tetap", "Ask for persistent storage")}
                </button></p>
            })}
        </section>
    }
}
