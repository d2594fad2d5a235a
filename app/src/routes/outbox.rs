//! Kotak Keluar: pending changes, the last sync, and per-record server results.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Text;

use crate::i18n::{tr, use_lang};
use crate::outbox::{self, ItemState, use_outbox};
use crate::session::{AuthState, use_auth};

fn kind_label(kind: &str) -> Text {
    match kind {
        "member_died" => Text::new("Kematian", "Death"),
        "member_moved_out" => Text::new("Pindah keluar", "Moved out"),
        "member_moved_in" => Text::new("Pindah masuk", "Moved in"),
        "birth" => Text::new("Kelahiran", "Birth"),
        "marriage" => Text::new("Perkawinan", "Marriage"),
        "family_split" => Text::new("Pecah KK", "Household split"),
        "variable_correction" => Text::new("Uji petik", "Ground check"),
        other => Text::new(other, other),
    }
}

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
            <h1>{move || tr(lang.get(), "Kotak Keluar", "Outbox")}</h1>
            <p data-field="last-sync">{move || match ob.last_sync.get() {
                Some(t) => format!("{} {t}", tr(lang.get(), "Sinkron terakhir:", "Last sync:")),
                None => tr(lang.get(), "Belum sinkron pada sesi ini.", "Not synced in this session.").to_owned(),
            }}</p>
            {move || ob.error.get().map(|e| view! { <p class="notice warn" role="alert">{e.message(lang.get())}</p> })}
            <p><button type="button" on:click=sync_now disabled=move || ob.busy.get()>
                {move || tr(lang.get(), "Sinkronkan sekarang", "Sync now")}
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
                        <strong>{kind_label(item.request.event.kind()).get(l).to_owned()}</strong>
                        " · " {item.request.no_kk.clone()}
                        <br/><span class="state">{state}</span>
                        <ul class="findings">
                            {item.findings.iter().map(|f| view! {
                                <li class="finding error">{f.message.get(l).to_owned()}</li>
                            }).collect_view()}
                        </ul>
                    </li>
                }
            }).collect_view()}
        </ul>
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
