//! Kasus: the public's usul and sanggah in the official's area (operator desa,
//! koordinator, Dinsos), one case's page with every step (who, when, why), and the steps
//! the role may take. Which steps a role may take from which state is tepat-core's
//! participation rules; the server decides again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use tepat_core::Lang;
use tepat_core::participation::{Action, Rules, State};
use wasm_bindgen::JsCast;

use super::{ConsoleNav, ForRoles, region_name, use_unlocked};
use crate::api::ApiError;
use crate::api::participation::{self as api, Case, DecisionBody, DeliberationBody};
use crate::device;
use crate::i18n::{format_time, tr, tx, use_lang};
use crate::routes::partisipasi::label_in;

/// The roles that read the cases of their area.
pub fn reads_cases(role: &str) -> bool {
    matches!(
        role,
        "operator_desa" | "supervisor" | "dinsos_admin" | "admin"
    )
}

/// The list: `/kasus`.
#[component]
pub fn CasesPage() -> impl IntoView {
    view! {
        <ForRoles allowed=reads_cases>
            <CaseList/>
        </ForRoles>
    }
}

/// One case: `/kasus/:id`.
#[component]
pub fn CasePage() -> impl IntoView {
    view! {
        <ForRoles allowed=reads_cases>
            <OneCase/>
        </ForRoles>
    }
}

fn kind_label(l: Lang, kind: &str) -> &'static str {
    match kind {
        "usul" => tr(l, "Usul", "Proposal"),
        _ => tr(l, "Sanggah", "Objection"),
    }
}

fn target_label(l: Lang, target: &str) -> &'static str {
    match target {
        "new_family" => tr(l, "Keluarga baru", "New family"),
        "ground_check" => tr(
            l,
            "Uji petik keluarga terdaftar",
            "Ground check of a registered family",
        ),
        _ => tr(
            l,
            "Keberatan atas keluarga terdaftar",
            "Objection to a registered family",
        ),
    }
}

#[component]
fn CaseList() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let status = RwSignal::new("open".to_owned());
    let cases = RwSignal::new(None::<Result<Vec<Case>, ApiError>>);
    Effect::new(move |_| {
        let s = status.get();
        cases.set(None);
        spawn_local(async move { cases.set(Some(api::cases(&token.get_value(), &s).await)) });
    });
    let rows = move || {
        let l = lang.get();
        match cases.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
            Some(Ok(cs)) if cs.is_empty() => view! {
                <p class="notice" data-field="no-cases">{tr(l, "Tidak ada pengajuan.", "No cases.")}</p>
            }
            .into_any(),
            Some(Ok(cs)) => {
                let items = cs
                    .into_iter()
                    .map(|c| {
                        let deadline = c.deadline.clone().map(|d| {
                            format!("{} {d}", tr(l, "· batas verifikasi", "· verification deadline"))
                        });
                        view! {
                            <li class="queue-row" data-ticket=c.ticket.clone() data-state=c.state.clone()>
                                <a class="row" href=format!("/kasus/{}", c.id)>
                                    <strong>{c.ticket.clone()}</strong>" · "{kind_label(l, &c.kind)}" · "{region_name(&c.village)}
                                    <br/><span data-field="state">{label_in(l, &c.state_label)}</span>
                                    <span class="muted">" · "{format_time(l, &c.filed_at)}" "{deadline}</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="queue" data-field="cases">{items}</ul> }.into_any()
            }
        }
    };
    view! {
        <div class="console">
            <section class="card">
                <h1>{tx("Usul dan sanggah", "Proposals and objections")}</h1>
                <label for="kasus-status">{tx("Status", "Status")}</label>
                <select id="kasus-status" on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="open" selected=true>{tx("Masih berjalan", "Open")}</option>
                    <option value="">{tx("Semua", "All")}</option>
                    {State::ALL.into_iter().map(|s| {
                        let label = Rules::builtin().state_label(s);
                        view! { <option value=s.as_str()>{move || label.get(lang.get()).to_owned()}</option> }
                    }).collect_view()}
                </select>
                <ConsoleNav/>
            </section>
            <section class="card">{rows}</section>
        </div>
    }
    .into_any()
}

/// The actions `role` may take on a case in `state`, by the core's rules.
fn actions_for(role: &str, state: &str) -> Vec<Action> {
    let Some(state) = State::parse(state) else {
        return Vec::new();
    };
    Rules::builtin()
        .source()
        .actions
        .iter()
        .filter(|a| a.from.contains(&state) && a.roles.iter().any(|r| r == role))
        .cloned()
        .collect()
}

#[component]
fn OneCase() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let role = u.session.user.role.clone();
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    let Some(id) = id else {
        return view! { <p class="finding error" role="alert">{tx("Nomor kasus tidak sah.", "Not a case number.")}</p> }.into_any();
    };
    let case = RwSignal::new(None::<Result<Case, ApiError>>);
    // The deliberation record saved on this page, for the agree/disagree step.
    let recorded = RwSignal::new(None::<i64>);
    spawn_local(async move { case.set(Some(api::case(&token.get_value(), id).await)) });
    let body = move || {
        let l = lang.get();
        match case.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }
                .into_any(),
            Some(Err(e)) => {
                view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any()
            }
            Some(Ok(c)) => {
                let actions = actions_for(&role, &c.state);
                let may_record = role == "operator_desa" && actions.iter().any(|a| a.needs_record);
                view! {
                    <CaseDetails c=c.clone() token=token/>
                    {may_record.then(|| view! { <DeliberationForm village=c.village.clone() token=token recorded=recorded/> })}
                    {(!actions.is_empty()).then(|| view! { <DecisionForm id=c.id actions=actions token=token case=case recorded=recorded/> })}
                }
                .into_any()
            }
        }
    };
    view! {
        <div class="console">
            <p><a href="/kasus">{tx("← Semua usul dan sanggah", "← All proposals and objections")}</a></p>
            {body}
        </div>
    }
    .into_any()
}

fn text_of(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(|x| x.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[component]
fn CaseDetails(c: Case, token: StoredValue<String>) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let rules = Rules::builtin();
    let list = c.kind.clone();
    let reasons = c
        .filing
        .get("reasons")
        .and_then(|r| r.as_array())
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r.as_str())
                .map(|code| {
                    rules
                        .reason(&list, code)
                        .map(|r| r.label.get(l).to_owned())
                        .unwrap_or_else(|| code.to_owned())
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let filer = c.filing.get("filer").cloned().unwrap_or_default();
    let members = c
        .filing
        .get("members")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    let members_view = (!members.is_empty()).then(|| {
        let rows = members
            .iter()
            .map(|m| {
                view! { <li>{text_of(m, "name").unwrap_or_default()}" "{text_of(m, "nik").map(|n| format!("({n})"))}</li> }
            })
            .collect_view();
        view! { <dt>{tr(l, "Anggota", "Members")}</dt><dd><ul data-field="members">{rows}</ul></dd> }
    });
    let expired = (c.state == "expired").then(|| {
        view! {
            <p class="notice warn" role="status" data-field="expired">{tr(l,
                "Batas waktu verifikasi Dinas Sosial sudah lewat: kasus ini dianggap tidak layak dan ditutup.",
                "The social office's verification window has passed: the case is deemed not eligible and closed.")}</p>
        }
    });
    let files = c
        .files
        .iter()
        .map(|f| {
            let url = RwSignal::new(None::<Result<String, ApiError>>);
            let (case_id, file_id) = (c.id, f.id);
            let show = move |_| {
                spawn_local(async move {
                    url.set(Some(api::file_url(&token.get_value(), case_id, file_id).await))
                });
            };
            let purpose = match f.purpose.as_str() {
                "house_photo" => tr(l, "Foto rumah", "House photo"),
                "berita_acara" => tr(l, "Berita acara musyawarah", "Deliberation record (berita acara)"),
                _ => tr(l, "SPTJM", "Statement of responsibility (SPTJM)"),
            };
            let is_image = f.content_type.starts_with("image/");
            view! {
                <li data-file=f.purpose.clone()>
                    {purpose}" ("{f.content_type.clone()}", "{f.bytes / 1024}" KB) "
                    <button type="button" class="secondary" on:click=show>{tr(l, "Lihat", "View")}</button>
                    {move || match url.get() {
                        Some(Ok(u)) if is_image => view! { <img class="photo" src=u alt=purpose/> }.into_any(),
                        Some(Ok(u)) => view! { <a href=u target="_blank">{tr(l, "Buka dokumen", "Open the document")}</a> }.into_any(),
                        Some(Err(e)) => view! { <span class="finding error">{e.message(l)}</span> }.into_any(),
                        None => ().into_any(),
                    }}
                </li>
            }
        })
        .collect_view();
    let steps = c
        .steps
        .iter()
        .map(|s| {
            let who = match &s.username {
                Some(u) => format!("{u} ({})", s.role),
                None => s.role.clone(),
            };
            let why = s.reason_label.as_deref().map(|r| label_in(l, r));
            view! {
                <li data-action=s.action.clone() data-state=s.state.clone()>
                    <strong>{label_in(l, &s.label)}</strong>
                    <br/><span class="muted" data-field="step-who">{format_time(l, &s.at)}" · "{who}</span>
                    {why.map(|w| view! { <br/><span data-field="step-reason">{w}</span> })}
                    {s.note.clone().map(|n| view! { <br/><span data-field="step-note">{n}</span> })}
                    {s.deliberation_id.map(|d| view! { <br/><span class="muted">{tr(l, "Catatan musyawarah no.", "Deliberation record no.")}" "{d}</span> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" data-field="case" data-ticket=c.ticket.clone() data-state=c.state.clone()>
            <h1>{kind_label(l, &c.kind)}" "{c.ticket.clone()}</h1>
            {expired}
            <dl class="decoded">
                <dt>{tr(l, "Status", "Status")}</dt><dd data-field="case-state">{label_in(l, &c.state_label)}</dd>
                <dt>{tr(l, "Sasaran", "Target")}</dt><dd>{target_label(l, &c.target)}</dd>
                <dt>{tr(l, "Desa/kelurahan", "Village")}</dt><dd>{region_name(&c.village)}</dd>
                {c.no_kk.clone().map(|k| view! { <dt>{tr(l, "No. KK", "No. KK")}</dt><dd data-field="no-kk">{k}</dd> })}
                {c.deadline.clone().map(|d| view! { <dt>{tr(l, "Batas verifikasi", "Verification deadline")}</dt><dd data-field="deadline">{d}</dd> })}
                {c.visit.clone().map(|v| view! { <dt>{tr(l, "Kunjungan diminta kepada", "Visit asked of")}</dt><dd data-field="visit">{v.facilitator}</dd> })}
                {c.appeal_of.clone().map(|a| view! { <dt>{tr(l, "Banding atas tiket", "Appeal of ticket")}</dt><dd>{a}</dd> })}
                <dt>{tr(l, "Pelapor", "Filer")}</dt>
                <dd data-field="filer">{text_of(&filer, "name").unwrap_or_default()}" · "{text_of(&filer, "phone").unwrap_or_default()}</dd>
                {text_of(&c.filing, "address").map(|a| view! { <dt>{tr(l, "Alamat", "Address")}</dt><dd>{a}</dd> })}
                {members_view}
                <dt>{tr(l, "Alasan", "Reasons")}</dt><dd data-field="reasons">{reasons}</dd>
                <dt>{tr(l, "Keterangan", "Explanation")}</dt><dd data-field="text">{text_of(&c.filing, "text").unwrap_or_default()}</dd>
            </dl>
            {(!c.files.is_empty()).then(|| view! { <h2>{tr(l, "Berkas", "Files")}</h2><ul data-field="files">{files}</ul> })}
            <h2>{tr(l, "Langkah", "Steps")}</h2>
            <ol class="steps" data-field="steps">{steps}</ol>
        </section>
    }
}

/// The record of a village deliberation (berita acara) or an SPTJM; its id goes with
/// the agree/disagree decision.
#[component]
fn DeliberationForm(
    village: String,
    token: StoredValue<String>,
    recorded: RwSignal<Option<i64>>,
) -> impl IntoView {
    let lang = use_lang();
    let held_on = RwSignal::new(String::new());
    let participants = RwSignal::new(String::new());
    let record = RwSignal::new("berita_acara".to_owned());
    let document = RwSignal::new(None::<String>);
    let reading = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<i64, ApiError>>);
    let village = StoredValue::new(village);
    let pick = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        reading.set(true);
        spawn_local(async move {
            // A photo is shrunk on the device; a PDF goes as it is.
            let blob: web_sys::Blob = if file.type_().starts_with("image/") {
                match device::shrink_photo(&file).await {
                    Ok(b) => b,
                    Err(_) => file.into(),
                }
            } else {
                file.into()
            };
            document.set(device::blob_base64(&blob).await.ok());
            reading.set(false);
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = lang.get_untracked();
        let Ok(participants) = participants.get_untracked().trim().parse::<i64>() else {
            result.set(Some(Err(ApiError::Server {
                status: 0,
                code: "participants".into(),
                message: tr(
                    l,
                    "Jumlah peserta harus angka.",
                    "The number of participants must be a number.",
                )
                .into(),
            })));
            return;
        };
        let Some(doc) = document.get_untracked() else {
            result.set(Some(Err(ApiError::Server {
                status: 0,
                code: "document".into(),
                message: tr(
                    l,
                    "Lampirkan foto atau PDF dokumen yang ditandatangani.",
                    "Attach a photo or PDF of the signed document.",
                )
                .into(),
            })));
            return;
        };
        let body = DeliberationBody {
            village: village.get_value(),
            held_on: held_on.get_untracked(),
            participants,
            record: record.get_untracked(),
            document: doc,
        };
        spawn_local(async move {
            let r = api::add_deliberation(&token.get_value(), &body).await;
            if let Ok(id) = &r {
                recorded.set(Some(*id));
            }
            result.set(Some(r));
        });
    };
    view! {
        <form class="card" data-form="deliberation" on:submit=submit>
            <h2>{tx("Catat musyawarah desa/kelurahan", "Record the village deliberation")}</h2>
            <label for="delib-date">{tx("Tanggal musyawarah", "Date of the deliberation")}</label>
            <input id="delib-date" type="date" required bind:value=held_on/>
            <label for="delib-participants">{tx("Jumlah peserta", "Number of participants")}</label>
            <input id="delib-participants" type="number" min="1" inputmode="numeric" required bind:value=participants/>
            <label for="delib-record">{tx("Dokumen", "Document")}</label>
            <select id="delib-record" on:change=move |ev| record.set(event_target_value(&ev))>
                <option value="berita_acara" selected=true>{tx("Berita acara (ditandatangani kepala desa/lurah)", "Berita acara (signed by the village head)")}</option>
                <option value="sptjm">{tx("SPTJM (pengganti musyawarah)", "SPTJM (instead of a deliberation)")}</option>
            </select>
            <label for="delib-document">{tx("Foto atau PDF dokumen", "Photo or PDF of the document")}</label>
            <input id="delib-document" type="file" accept="image/*,application/pdf" on:change=pick/>
            {move || reading.get().then(|| view! { <p role="status">{tr(lang.get(), "Membaca berkas…", "Reading the file…")}</p> })}
            <p><button type="submit" disabled=move || reading.get()>{tx("Simpan catatan musyawarah", "Save the deliberation record")}</button></p>
            {move || result.get().map(|r| match r {
                Ok(id) => view! { <p class="notice" role="status" data-field="deliberation-id" data-id=id>{format!("{} {id}", tr(lang.get(), "Catatan musyawarah tersimpan, no.", "Deliberation record saved, no."))}</p> }.into_any(),
                Err(e) => view! { <p class="finding error" role="alert">{e.message(lang.get())}</p> }.into_any(),
            })}
        </form>
    }
}

/// The step the role takes now, with what the step needs (a reason of its list, a
/// deliberation record, a facilitator).
#[component]
fn DecisionForm(
    id: i64,
    actions: Vec<Action>,
    token: StoredValue<String>,
    case: RwSignal<Option<Result<Case, ApiError>>>,
    recorded: RwSignal<Option<i64>>,
) -> impl IntoView {
    let lang = use_lang();
    let actions = StoredValue::new(actions);
    let chosen = RwSignal::new(
        actions
            .with_value(|a| a.first().map(|a| a.id.clone()))
            .unwrap_or_default(),
    );
    let current = move || {
        let c = chosen.get();
        actions.with_value(|a| a.iter().find(|x| x.id == c).cloned())
    };
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let facilitator = RwSignal::new(String::new());
    let deliberation = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(d) = recorded.get() {
            deliberation.set(d.to_string());
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(a) = current() else { return };
        let opt = |s: RwSignal<String>| {
            let v = s.get_untracked().trim().to_owned();
            (!v.is_empty()).then_some(v)
        };
        let body = DecisionBody {
            action: a.id.clone(),
            reason: a.reasons.as_ref().and_then(|_| opt(reason)),
            note: opt(note),
            deliberation_id: a
                .needs_record
                .then(|| deliberation.get_untracked().trim().parse().ok())
                .flatten(),
            facilitator: (a.id == "request_visit")
                .then(|| opt(facilitator))
                .flatten(),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::decide(&token.get_value(), id, &body).await {
                Ok(c) => case.set(Some(Ok(c))),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let options = move || {
        let l = lang.get();
        actions.with_value(|a| {
            a.iter()
                .map(|x| view! { <option value=x.id.clone()>{x.label.get(l).to_owned()}</option> })
                .collect_view()
        })
    };
    let extra = move || {
        let l = lang.get();
        let a = current()?;
        let reasons = a.reasons.as_ref().map(|list| {
            let rs = Rules::builtin().source().reasons.get(list).cloned().unwrap_or_default();
            reason.set(String::new());
            view! {
                <label for="decision-reason">{tr(l, "Alasan", "Reason")}</label>
                <select id="decision-reason" required on:change=move |ev| reason.set(event_target_value(&ev))>
                    <option value="">{tr(l, "— pilih —", "— choose —")}</option>
                    {rs.into_iter().map(|r| view! { <option value=r.id.clone()>{r.label.get(l).to_owned()}</option> }).collect_view()}
                </select>
            }
        });
        let record = a.needs_record.then(|| view! {
            <label for="decision-deliberation">{tr(l, "No. catatan musyawarah (berita acara/SPTJM)", "Deliberation record no. (berita acara/SPTJM)")}</label>
            <input id="decision-deliberation" type="number" min="1" inputmode="numeric" required bind:value=deliberation/>
        });
        let visit = (a.id == "request_visit").then(|| view! {
            <label for="decision-facilitator">{tr(l, "Nama pengguna pendamping desa ini", "Username of a facilitator of this village")}</label>
            <input id="decision-facilitator" type="text" autocomplete="off" required bind:value=facilitator/>
        });
        Some(view! { {reasons}{record}{visit} })
    };
    view! {
        <form class="card" data-form="decision" on:submit=submit>
            <h2>{tx("Tindakan", "Action")}</h2>
            <label for="decision-action">{tx("Langkah berikutnya", "Next step")}</label>
            <select id="decision-action" on:change=move |ev| chosen.set(event_target_value(&ev))>{options}</select>
            {extra}
            <label for="decision-note">{tx("Catatan (tidak wajib)", "Note (optional)")}</label>
            <textarea id="decision-note" rows="3" bind:value=note></textarea>
            <p><button type="submit" disabled=move || busy.get()>{tx("Simpan langkah", "Save the step")}</button></p>
            {move || error.get().map(|e| view! { <p class="finding error" role="alert" data-field="decision-error">{e.message(lang.get())}</p> })}
        </form>
    }
}
