//! Kotak Keluar: pending changes, the last sync, and per-record server results.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{tr, tx, use_lang};
use crate::outbox::{self, ItemState, use_outbox};
use crate::routes::events::kind_label;
use crate::session::{AuthState, use_auth};
use crate::storage::{self, Estimate, format_bytes};

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
    let sync_now = move |_| {
        if let AuthState::Unlocked(u) = auth.get_untracked() {
            spawn_local(async move {
                let _ = outbox::sync(ob, &u).await;
            });
        }
    };
    view! {
        <section class="card">
            <h1>{tx("Kotak Keluar", "Outbox")}</h1>
            <p data-field="last-sync">{move || match ob.last_sync.get() {
                Some(t) => format!("{} {t}", tr(lang.get(), "Sinkron terakhir:", "Last sync:")),
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
        <ul class="worklist">
            {move || ob.items.get().into_iter().map(|item| {
                let l = lang.get();
                let state = match item.state {
                    ItemState::Pending => tr(l, "Menunggu", "Waiting"),
                    ItemState::Rejected => tr(l, "Ditolak — perbaiki lalu kirim ulang", "Rejected — fix and resend"),
                    ItemState::Conflict => tr(l, "Konflik — diteruskan ke koordinator", "Conflict — sent to the supervisor"),
                };
                view! {
                    <li class="row card" data-id=item.id.clone()>
                        <strong>{kind_label(item.request.kind()).get(l).to_owned()}</strong>
                        " · " {item.request.no_kk.clone()}
                        <br/><span class="state">{state}</span>
                        <br/><small data-field="rulebook">{tr(l, "Aturan isian versi ", "Rulebook version ")}{item.rulebook_version.clone()}</small>
                        <ul class="findings">
                            {item.findings.iter().map(|f| view! {
                                <li class="finding error">{f.message.get(l).to_owned()}</li>
                            }).collect_view()}
                        </ul>
                    </li>
                }
            }).collect_view()}
        </ul>
        <StorageInfo/>
        {move || (!ob.accepted.with(Vec::is_empty)).then(|| view! {
            <section class="card">
                <h2>{tr(lang.get(), "Diterima server", "Accepted by the server")}</h2>
                <ul data-field="accepted">
                    {ob.accepted.get().into_iter().map(|(kind, status)| {
                        let l = lang.get();
                        let s = if status == "pending_review" { tr(l, "menunggu persetujuan koordinator", "waiting for the supervisor") } else { tr(l, "diterapkan", "applied") };
                        view! { <li>{kind_label(&kind).get(l).to_owned()}" — "{s}</li> }
                    }).collect_view()}
                </ul>
            </section>
        })}
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
