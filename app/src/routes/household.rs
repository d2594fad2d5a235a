//! Keluarga: one household of the worklist, its members with ages and relations.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tepat_core::Lang;
use tepat_core::rulebook::Rulebook;

use crate::i18n::{tr, use_lang};
use crate::outbox::use_outbox;
use crate::regions::use_regions;
use crate::routes::score::ScorePreview;
use crate::session::{AuthState, use_auth};
use crate::sync::use_data;
use crate::today::today;
use crate::worklist::{WorkState, derive, state_label};

/// The label of `code` in the rulebook's code list of variable `var`, or the code itself.
fn code_label(rb: Option<&Rulebook>, field: &str, code: i64, lang: Lang) -> String {
    rb.and_then(|rb| {
        let label = rb.codes_of_field(field)?.iter().find(|c| c.code == code)?;
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
    let params = use_params_map();
    move || match auth.get() {
        // Only a facilitator's device holds families; every other role reads a family
        // in the console, from the server, in its own scope.
        AuthState::Unlocked(u) if u.session.user.role != "facilitator" => {
            let kk = params.with(|p| p.get("kk").unwrap_or_default());
            let path = format!("/riwayat?no_kk={kk}");
            view! { <leptos_router::components::Redirect path=path/> }.into_any()
        }
        AuthState::Unlocked(u) => view! { <Household unlocked=u/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

/// Shows `children` only to an account that may push changes; others get a plain
/// sentence instead of a form they could not send.
#[component]
pub fn WritersOnly(children: ChildrenFn) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    move || {
        let role = match auth.get() {
            AuthState::Unlocked(u) if !u.session.user.may_write() => u.session.user.role,
            _ => return children().into_any(),
        };
        let role = if role == "analyst" {
            "analis".to_owned()
        } else {
            role
        };
        view! {
            <p class="notice" role="status" data-field="read-only">{move || match lang.get() {
                Lang::Id => format!("Akun ini (peran {role}) hanya dapat membaca data: perubahan keluarga dicatat oleh pendamping."),
                Lang::En => format!("This account (role {role}) can only read: changes to a family are recorded by the facilitator."),
            }}</p>
        }
        .into_any()
    }
}

#[component]
fn Household(unlocked: crate::session::Unlocked) -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let outbox = use_outbox();
    let overlay = outbox.overlay();
    let regions = use_regions();
    let params = use_params_map();
    let kk = move || params.with(|p| p.get("kk").unwrap_or_default());
    // Known on this device: the rest of the page is about a family the list holds.
    let known = Memo::new(move |_| {
        data.worklist
            .with(|w| w.as_ref().map(|w| w.find(&kk()).is_some()))
    });
    // The form depends on the family only, not on its work state, so saving a change
    // (which updates the state) does not rebuild the form and lose its messages.
    let family = data.family(kk);
    let form = move || {
        family
            .get()
            .map(|k| view! { <crate::routes::events::RecordEvent keluarga=k/> })
    };
    let uji_petik = move || format!("/keluarga/{}/uji-petik", kk());
    // Whether a draft of the family waits on the device, read from the stored drafts
    // (`None` until read): the work state says "draft" from the first autosave until
    // the send is through, which a send cut short never reaches.
    let has_draft = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        let no_kk = kk();
        let u = unlocked.clone();
        leptos::task::spawn_local(async move {
            let live = crate::draft_store::live(&u, &no_kk)
                .await
                .ok()
                .flatten()
                .is_some_and(|d| !d.is_empty());
            has_draft.try_set(Some(live));
            let stale = data.worklist.with_untracked(|w| {
                w.as_ref()
                    .and_then(|w| w.find(&no_kk))
                    .is_some_and(|h| h.state == WorkState::Draft)
            });
            if !live && stale {
                // No draft any more: the outbox and the sent changes say where it stands.
                crate::sync::set_state(data, &u, &no_kk, WorkState::Waiting).await;
            }
        });
    });
    let draft_flag = move || has_draft.get().map(|d| if d { "yes" } else { "no" });
    let draft_label = move || match (has_draft.get() == Some(true), lang.get()) {
        (true, l) => tr(
            l,
            "Lanjutkan draf Uji Petik",
            "Continue the ground-check draft",
        ),
        (false, l) => tr(l, "Uji Petik (cek lapangan)", "Ground check"),
    };
    let preview = Signal::derive(move || family.get());
    // The official desil (the published ranking run's, from the server) beside the
    // preview the device computes from the family as it holds it: two numbers, each
    // named for what it is.
    let preview_result = crate::routes::score::preview_of(preview);
    let official = move || {
        let l = lang.get();
        let official = data.worklist.with(|w| {
            w.as_ref()
                .and_then(|w| w.find(&kk()))
                .and_then(|h| h.official.clone())
        });
        let preview_desil = preview_result.with(crate::routes::score::desil_of);
        let (label, value) = match official {
            Some(o) => (
                format!(
                    "{} {}",
                    tr(l, "Desil resmi (triwulan", "Official desil (quarter"),
                    o.period
                ) + ")",
                o.desil.to_string(),
            ),
            None => (
                tr(l, "Desil resmi", "Official desil").to_owned(),
                tr(
                    l,
                    "belum ada (belum diperingkat dalam pemeringkatan yang diterbitkan)",
                    "none yet (not ranked in a published ranking)",
                )
                .to_owned(),
            ),
        };
        view! {
            <section class="card">
                <dl class="decoded">
                    <dt>{label}</dt>
                    <dd data-field="official-desil">{value}</dd>
                    <dt>{tr(l, "Desil pratinjau (dihitung di perangkat, bukan hasil resmi)",
                        "Preview desil (computed on this device, not official)")}</dt>
                    <dd data-field="preview-desil">{preview_desil.map_or_else(|| "–".to_owned(), |d| d.to_string())}</dd>
                </dl>
            </section>
        }
    };
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
                <section class="card" data-field="not-found">
                    <h1>{tr(l, "Keluarga tidak ditemukan", "Family not found")}</h1>
                    <p class="notice" role="status">{tr(l,
                        "Keluarga tidak ditemukan di daftar tugas perangkat ini. Periksa No. KK, atau perbarui daftar tugas saat ada sinyal.",
                        "The family is not found in this device's worklist. Check the No. KK, or refresh the worklist when online.")}</p>
                    <p><a class="button" href="/tugas">{tr(l, "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p>
                </section>
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
                    // A member who died or left holds no role in the family any more: the
                    // relationship cell says what happened instead ("Meninggal").
                    let presence = (!m.is_active())
                        .then(|| code_label(rb, "presence", i64::from(m.presence), l));
                    let rel = match &presence {
                        Some(p) => p.clone(),
                        None => code_label(rb, "relationship", i64::from(m.relationship), l),
                    };
                    // On a phone each row is a card; the labels name its cells there.
                    view! {
                        <tr>
                            <td><strong>{m.name.clone()}</strong><br/><span class="nik">{m.nik.clone()}</span>
                                {presence.map(|p| view! { <br/><em>{p}</em> })}</td>
                            <td data-label=tr(l, "Hubungan", "Relationship")>{rel}</td>
                            <td data-label=tr(l, "Jenis kelamin", "Sex")>{m.sex.label().get(l).to_owned()}</td>
                            <td data-label=tr(l, "Umur", "Age")>{age}</td>
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
                    <dt>{tr(l, "Status", "State")}</dt><dd data-field="state">{
                        let no_kk = h.no_kk.clone();
                        move || state_label(overlay.with(|o| derive(h.state, Some(o), &no_kk)), lang.get())
                    }</dd>
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
                <table class="members member-cards">
                    <thead><tr>
                        <th scope="col">{tr(l, "Nama / NIK", "Name / NIK")}</th>
                        <th scope="col">{tr(l, "Hubungan", "Relationship")}</th>
                        <th scope="col">{tr(l, "Jenis kelamin", "Sex")}</th>
                        <th scope="col">{tr(l, "Umur", "Age")}</th>
                    </tr></thead>
                    <tbody>{members}</tbody>
                </table>
                <p><a class="button secondary" href="/tugas">{tr(l, "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p>
            </section>
        }
        .into_any()
    };
    // Only a family the device holds gets the ground check, the score, the forms and
    // the history: an unknown No. KK gets the sentence above and nothing to act on.
    let rest = move || {
        (known.get() == Some(true)).then(|| {
            view! {
                <WritersOnly>
                    <p><a class="button" data-field="uji-petik" data-draft=draft_flag href=uji_petik>{draft_label}</a></p>
                </WritersOnly>
                {official}
                <ScorePreview keluarga=preview/>
                <WritersOnly>{form}</WritersOnly>
                {move || view! { <crate::routes::history::History no_kk=kk()/> }}
            }
        })
    };
    view! {
        {card}
        {rest}
    }
}
