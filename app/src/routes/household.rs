//! Keluarga: one household of the worklist, its members with ages and relations.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tepat_core::Lang;
use tepat_core::rulebook::Rulebook;

use crate::i18n::{tr, use_lang};
use crate::regions::use_regions;
use crate::routes::score::ScorePreview;
use crate::session::{AuthState, use_auth};
use crate::sync::use_data;
use crate::today::today;
use crate::worklist::state_label;

/// The label of `code` in the rulebook's code list of variable `var`, or the code itself.
fn code_label(rb: Option<&Rulebook>, var: &str, code: i64, lang: Lang) -> String {
    rb.and_then(|rb| {
        let v = rb.variable(var)?;
        let label = rb.codes_of(v)?.iter().find(|c| c.code == code)?;
        Some(match lang {
            Lang::Id => label.id.clone(),
            Lang::En => label.en.clone(),
        })
    })
    .unwrap_or_else(|| code.to_string())
}

#[component]
pub fn HouseholdPage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.get() {
        AuthState::Unlocked(_) => view! { <Household/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

#[component]
fn Household() -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let regions = use_regions();
    let params = use_params_map();
    let kk = move || params.with(|p| p.get("kk").unwrap_or_default());
    // The form depends on the family only, not on its work state, so saving a change
    // (which updates the state) does not rebuild the form and lose its messages.
    let family = data.family(kk);
    let form = move || {
        family
            .get()
            .map(|k| view! { <crate::routes::events::RecordEvent keluarga=k/> })
    };
    let uji_petik = move || format!("/keluarga/{}/uji-petik", kk());
    let draft_label = move || {
        let draft = data.worklist.with(|w| {
            w.as_ref()
                .and_then(|w| w.find(&kk()))
                .is_some_and(|h| h.state == crate::worklist::WorkState::Draft)
        });
        match (draft, lang.get()) {
            (true, l) => tr(
                l,
                "Lanjutkan draf Uji Petik",
                "Continue the ground-check draft",
            ),
            (false, l) => tr(l, "Uji Petik (cek lapangan)", "Ground check"),
        }
    };
    let preview = Signal::derive(move || family.get());
    let card = move || {
        let l = lang.get();
        let Some(h) = data
            .worklist
            .with(|w| w.as_ref().and_then(|w| w.find(&kk()).cloned()))
        else {
            if data.worklist.with(Option::is_none) {
                // Unlocked a moment ago: the families are still being opened.
                return view! {
                    <p class="notice" role="status">{tr(l, "Membuka data…", "Opening data…")}</p>
                }
                .into_any();
            }
            return view! {
                <section class="card"><p class="notice" role="status">{tr(l,
                    "Keluarga ini tidak ada di daftar tugas perangkat ini.",
                    "This family is not in this device's worklist.")}</p>
                <p><a href="/tugas">{tr(l, "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p></section>
            }
            .into_any();
        };
        let now = today();
        let village = regions
            .table
            .with(|t| {
                t.as_ref()
                    .and_then(|t| t.name(&h.village))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| h.village.clone());
        let members = data.rulebook.with(|rb| {
            let rb = rb.as_deref();
            h.keluarga
                .anggota
                .iter()
                .map(|m| {
                    let age = now.map(|d| m.age_on(d).to_string()).unwrap_or_default();
                    let rel = code_label(rb, "409", i64::from(m.relationship), l);
                    let presence = (!m.is_active())
                        .then(|| code_label(rb, "404", i64::from(m.presence), l));
                    view! {
                        <tr>
                            <td><strong>{m.name.clone()}</strong><br/><span class="nik">{m.nik.clone()}</span>
                                {presence.map(|p| view! { <br/><em>{p}</em> })}</td>
                            <td>{rel}</td>
                            <td>{m.sex.label().get(l).to_owned()}</td>
                            <td>{age}</td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        });
        view! {
            <section class="card">
                <h1>{h.head_name().to_owned()}</h1>
                <dl class="decoded">
                    <dt>{tr(l, "No. KK", "Family card no.")}</dt><dd data-field="no_kk">{h.no_kk.clone()}</dd>
                    <dt>{tr(l, "Alamat", "Address")}</dt><dd>{h.address_line()}</dd>
                    <dt>{tr(l, "Desa/kelurahan", "Village")}</dt><dd>{village}</dd>
                    <dt>{tr(l, "Status", "State")}</dt><dd>{state_label(h.state, l)}</dd>
                    <dt>{tr(l, "Versi", "Version")}</dt><dd>{h.version}</dd>
                    <dt>{tr(l, "Uji petik terakhir", "Last ground check")}</dt>
                    <dd data-field="ground-checked">{match h.keluarga.ground_checked {
                        Some(d) => d.to_string(),
                        None => tr(l, "belum pernah", "never").to_owned(),
                    }}</dd>
                </dl>
            </section>
            <section class="card">
                <h2>{tr(l, "Anggota keluarga", "Family members")}</h2>
                <table class="members">
                    <thead><tr>
                        <th scope="col">{tr(l, "Nama / NIK", "Name / NIK")}</th>
                        <th scope="col">{tr(l, "Hubungan", "Relationship")}</th>
                        <th scope="col">{tr(l, "Jenis kelamin", "Sex")}</th>
                        <th scope="col">{tr(l, "Umur", "Age")}</th>
                    </tr></thead>
                    <tbody>{members}</tbody>
                </table>
                <p><a href="/tugas">{tr(l, "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p>
            </section>
        }
        .into_any()
    };
    view! {
        {card}
        <p><a class="button" data-field="uji-petik" href=uji_petik>{draft_label}</a></p>
        <ScorePreview keluarga=preview/>
        {form}
        {move || view! { <crate::routes::history::History no_kk=kk()/> }}
    }
}
