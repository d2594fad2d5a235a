//! Peristiwa: a death recorded as a typed change request, checked by
//! `tepat_core::event::apply` before it may be queued in the outbox.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::event::{ChangeRequest, Event, EventContext, apply, seal};
use tepat_core::{Date, Finding, ValidationContext};

use crate::i18n::{tr, use_lang};
use crate::outbox::{self, use_outbox};
use crate::regions::use_regions;
use crate::session::{AuthState, use_auth};
use crate::sync::{self, use_data};
use crate::today::today;
use crate::worklist::WorkState;
use tepat_core::Keluarga;

fn new_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default()
}

#[component]
pub fn RecordDeath(keluarga: Keluarga) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let data = use_data();
    let regions = use_regions();
    let outbox = use_outbox();
    let fam = StoredValue::new(keluarga.clone());
    let members: Vec<(usize, String)> = keluarga
        .anggota
        .iter()
        .enumerate()
        .filter(|(_, a)| a.is_active())
        .map(|(i, a)| (i, a.name.clone()))
        .collect();
    let member = RwSignal::new(String::new());
    let new_head = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let findings = RwSignal::new(Vec::<Finding>::new());
    let notice = RwSignal::new(None::<&'static str>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let AuthState::Unlocked(u) = auth.get_untracked() else {
            return;
        };
        let l = lang.get_untracked();
        let fam = fam.get_value();
        let pick = |s: &str| {
            s.parse::<usize>()
                .ok()
                .and_then(|i| fam.anggota.get(i))
                .map(|a| a.nik.clone())
        };
        let Some(nik) = pick(&member.get_untracked()) else {
            notice.set(Some(tr(
                l,
                "Pilih anggota yang meninggal.",
                "Choose the member who died.",
            )));
            return;
        };
        let Ok(died) = Date::parse(&date.get_untracked()) else {
            notice.set(Some(tr(
                l,
                "Isi tanggal meninggal.",
                "Enter the date of death.",
            )));
            return;
        };
        let Some(now) = today() else { return };
        let req = ChangeRequest {
            id: new_id(),
            no_kk: fam.no_kk.clone(),
            base_version: fam.version,
            author: u.session.user.username.clone(),
            time: js_sys::Date::new_0().to_iso_string().into(),
            reason: reason.get_untracked(),
            evidence: Vec::new(),
            event: Event::MemberDied {
                nik,
                date: died,
                new_head: pick(&new_head.get_untracked()),
            },
            hash: None,
        };
        let checked = data.rulebook.with_untracked(|rb| {
            regions.table.with_untracked(|table| {
                let (rb, table) = (rb.as_deref()?, table.as_ref()?);
                let ctx = EventContext::new(ValidationContext {
                    rulebook: rb,
                    regions: table,
                    today: now,
                });
                Some((apply(&fam, &req, &ctx).map(|_| ()), rb.version().to_owned()))
            })
        });
        let Some((result, rb_version)) = checked else {
            notice.set(Some(tr(l,
                "Aturan isian atau daftar wilayah belum ada di perangkat. Perbarui daftar tugas saat ada sinyal.",
                "The rulebook or region list is not on the device yet. Refresh the worklist when online.")));
            return;
        };
        match result {
            Err(f) => findings.set(f),
            Ok(()) => {
                findings.set(Vec::new());
                let sealed = seal(&req);
                spawn_local(async move {
                    match outbox::enqueue(outbox, &u, sealed, &rb_version).await {
                        Ok(()) => {
                            sync::set_state(data, &u, &fam.no_kk, WorkState::Waiting).await;
                            notice.set(Some(tr(
                                lang.get_untracked(),
                                "Kematian dicatat dan menunggu di Kotak Keluar.",
                                "The death is recorded and waits in the outbox.",
                            )));
                            if outbox::sync(outbox, &u).await.is_ok() {
                                sync::set_state(data, &u, &fam.no_kk, WorkState::Synced).await;
                            }
                        }
                        Err(_) => notice.set(Some(tr(
                            lang.get_untracked(),
                            "Gagal menyimpan di perangkat.",
                            "Could not save on the device.",
                        ))),
                    }
                });
            }
        }
    };
    let options = move || {
        members
            .iter()
            .map(|(i, name)| view! { <option value=i.to_string()>{name.clone()}</option> })
            .collect_view()
    };
    let options2 = options.clone();
    view! {
        <section class="card">
            <h2>{move || tr(lang.get(), "Catat kematian", "Record a death")}</h2>
            <form on:submit=submit>
                <label for="died-member">{move || tr(lang.get(), "Anggota yang meninggal", "Member who died")}</label>
                <select id="died-member" bind:value=member>
                    <option value="">{move || tr(lang.get(), "— pilih —", "— choose —")}</option>
                    {options}
                </select>
                <label for="died-date">{move || tr(lang.get(), "Tanggal meninggal", "Date of death")}</label>
                <input id="died-date" type="date" bind:value=date/>
                <label for="died-head">{move || tr(lang.get(), "Kepala keluarga baru (jika kepala meninggal)", "New head (if the head died)")}</label>
                <select id="died-head" bind:value=new_head>
                    <option value="">{move || tr(lang.get(), "— tidak ada —", "— none —")}</option>
                    {options2}
                </select>
                <label for="died-reason">{move || tr(lang.get(), "Keterangan", "Note")}</label>
                <input id="died-reason" type="text" bind:value=reason/>
                <ul class="findings" aria-live="polite">
                    {move || findings.get().into_iter().map(|f| view! {
                        <li class="finding error" data-rule=f.rule.clone()>{f.message.get(lang.get()).to_owned()}</li>
                    }).collect_view()}
                </ul>
                {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
                <p><button type="submit">{move || tr(lang.get(), "Simpan ke Kotak Keluar", "Save to the outbox")}</button></p>
            </form>
        </section>
    }
}
