//! Impor and Ekspor: a DTSEN extract uploaded into the caller's regency (Dinsos) or any
//! region (admin), with the upload's progress, the server's checking, and the rejects
//! by line (downloadable as CSV); and the export of the area's households or change log
//! (every console role; the server scopes it and keeps it in the audit log).

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;
use wasm_bindgen::JsCast;

use super::{ForRoles, region_name, use_unlocked};
use crate::api::ApiError;
use crate::api::transfer::{ImportReport, Phase, Reject, export, import};
use crate::i18n::{tr, use_lang};

fn importer(role: &str) -> bool {
    matches!(role, "dinsos_admin" | "admin")
}

fn exporter(role: &str) -> bool {
    role != "facilitator"
}

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <ForRoles allowed=importer>
            <Import/>
        </ForRoles>
    }
}

#[component]
pub fn ExportPage() -> impl IntoView {
    view! {
        <ForRoles allowed=exporter>
            <Export/>
        </ForRoles>
    }
}

/// Where an import stands on the screen.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Idle,
    Running(Phase),
    Done(ImportReport),
    Failed(ApiError),
    /// The chosen file cannot be sent (none, empty).
    Refused(&'static str, &'static str),
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The rejects as CSV: line, reason code and the reason in both languages.
pub fn rejects_csv(rejects: &[Reject]) -> String {
    let mut out = String::from("baris_line,alasan_reason,keterangan,message\n");
    for r in rejects {
        let fields = [
            r.line.to_string(),
            r.reason.clone(),
            r.message.id.clone(),
            r.message.en.clone(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Hands `text` to the browser as a file download named `name`.
pub(crate) fn download(name: &str, mime: &str, text: &str) -> Result<(), ()> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(|_| ())?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ())?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or(())?;
    let a = doc.create_element("a").map_err(|_| ())?;
    a.set_attribute("href", &url).map_err(|_| ())?;
    a.set_attribute("download", name).map_err(|_| ())?;
    let a: web_sys::HtmlElement = a.dyn_into().map_err(|_| ())?;
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
        a.click();
        let _ = body.remove_child(&a);
    }
    // The download has its own copy; the URL can go once the click has been handled.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
    Ok(())
}

/// The regencies a Dinsos account covers (from its districts or villages).
fn regencies(user: &crate::api::UserView) -> Vec<String> {
    let mut codes: Vec<String> = user
        .districts
        .iter()
        .chain(&user.villages)
        .filter_map(|c| c.get(..5).map(str::to_owned))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

fn reason_label(lang: Lang, reason: &str) -> &'static str {
    match reason {
        "parse" => tr(lang, "Tidak terbaca", "Unreadable"),
        "invalid" => tr(lang, "Tidak valid", "Not valid"),
        "outside_region" => tr(lang, "Di luar wilayah", "Outside the region"),
        "duplicate_no_kk" => tr(lang, "No. KK ganda", "Duplicate No. KK"),
        "duplicate_nik" => tr(lang, "NIK ganda", "Duplicate NIK"),
        "exists" => tr(lang, "Sudah ada", "Already there"),
        _ => tr(lang, "Ditolak", "Rejected"),
    }
}

#[component]
fn Import() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = u.session.token.clone();
    let user = u.session.user.clone();
    let national = user.role == "admin";
    let choices = regencies(&user);
    let region = RwSignal::new(choices.first().cloned().unwrap_or_default());
    let step = RwSignal::new(Step::Idle);
    let file_input = NodeRef::<html::Input>::new();
    let busy = move || matches!(step.get(), Step::Running(_));

    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(file) = file_input
            .get()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            step.set(Step::Refused(
                "Pilih berkas ekstrak DTSEN (JSONL atau CSV) dahulu.",
                "Choose a DTSEN extract (JSONL or CSV) first.",
            ));
            return;
        };
        if file.size() == 0.0 {
            step.set(Step::Refused(
                "Berkas ini kosong; tidak ada yang diimpor.",
                "This file is empty; nothing was imported.",
            ));
            return;
        }
        let region = region.get_untracked().trim().to_owned();
        if region.is_empty() {
            step.set(Step::Refused(
                "Isi kode wilayah tujuan impor.",
                "Enter the region code to import into.",
            ));
            return;
        }
        let token = token.clone();
        step.set(Step::Running(Phase::Uploading {
            sent: 0.0,
            total: file.size(),
        }));
        spawn_local(async move {
            let result = import(&token, &region, &file, move |p| step.set(Step::Running(p))).await;
            step.set(match result {
                Ok(r) => Step::Done(r),
                Err(e) => Step::Failed(e),
            });
        });
    };

    let region_field = if national {
        view! {
            <label for="import-region">{move || tr(lang.get(), "Kode wilayah tujuan (mis. 32.01)", "Region code to import into (e.g. 32.01)")}</label>
            <input id="import-region" type="text" inputmode="decimal" autocomplete="off"
                prop:value=move || region.get()
                on:input=move |e| region.set(event_target_value(&e))/>
            <p class="muted" data-field="import-region-name">{move || {
                let code = region.get();
                let name = region_name(code.trim());
                (name != code.trim()).then_some(name)
            }}</p>
        }
        .into_any()
    } else if choices.len() > 1 {
        let options = choices
            .iter()
            .map(|c| view! { <option value=c.clone()>{region_name(c)}" ("{c.clone()}")"</option> })
            .collect_view();
        view! {
            <label for="import-region">{move || tr(lang.get(), "Kabupaten/kota tujuan", "Regency to import into")}</label>
            <select id="import-region" on:change=move |e| region.set(event_target_value(&e))>{options}</select>
        }
        .into_any()
    } else {
        let code = region.get_untracked();
        let name = region_name(&code);
        view! {
            <p data-field="import-region">{move || tr(lang.get(), "Diimpor ke", "Imported into")}": "{name.clone()}" ("{code.clone()}")"</p>
        }
        .into_any()
    };

    let status = move || {
        let l = lang.get();
        match step.get() {
            Step::Idle => ().into_any(),
            Step::Refused(id, en) => view! {
                <p class="finding error" role="alert" data-field="import-error">{tr(l, id, en)}</p>
            }
            .into_any(),
            Step::Running(Phase::Uploading { sent, total }) => {
                let pct = if total > 0.0 {
                    (sent * 100.0 / total).floor()
                } else {
                    0.0
                };
                view! {
                    <div role="status" data-field="import-status" data-phase="uploading">
                        <p>{match l {
                            Lang::Id => format!("Mengunggah… {pct} %"),
                            Lang::En => format!("Uploading… {pct} %"),
                        }}</p>
                        <progress data-field="import-progress" max=total value=sent>{format!("{pct} %")}</progress>
                    </div>
                }
                .into_any()
            }
            Step::Running(Phase::Checking) => view! {
                <div role="status" data-field="import-status" data-phase="checking">
                    <p>{tr(l,
                        "Memeriksa… server memeriksa setiap baris dengan aturan DTSEN.",
                        "Checking… the server checks every line against the DTSEN rules.")}</p>
                    <progress data-field="import-progress"></progress>
                </div>
            }
            .into_any(),
            Step::Failed(e) => {
                let msg = match &e {
                    ApiError::Network => tr(l,
                        "Unggahan terputus sebelum server menjawab. Berkas tetap di perangkat: periksa sinyal, lalu unggah lagi (keluarga yang sudah masuk ditolak sebagai \"sudah ada\", tidak tercatat dua kali).",
                        "The upload was cut off before the server answered. The file stays on the device: check the signal, then upload it again (families already in are rejected as \"already there\", never recorded twice).").to_owned(),
                    e => e.message(l),
                };
                view! {
                    <p class="finding error" role="alert" data-field="import-error" data-phase="failed">{msg}</p>
                }
                .into_any()
            }
            Step::Done(r) => view! { <ImportResult report=r/> }.into_any(),
        }
    };

    view! {
        <div class="console">
            <section class="card">
                <h1>{move || tr(lang.get(), "Impor data DTSEN", "Import DTSEN data")}</h1>
                <p>{move || tr(lang.get(),
                    "Unggah ekstrak DTSEN: JSONL (satu keluarga per baris) atau CSV (satu anggota per baris, kolom sesuai format impor). Setiap baris diperiksa; baris yang ditolak disebutkan dengan nomor barisnya, baris yang baik diimpor.",
                    "Upload a DTSEN extract: JSONL (one family per line) or CSV (one member per row, columns as the import format says). Every line is checked; rejected lines are listed by number, good lines are imported.")}</p>
                <form on:submit=start>
                    {region_field}
                    <label for="import-file">{move || tr(lang.get(), "Berkas ekstrak (.jsonl atau .csv)", "Extract file (.jsonl or .csv)")}</label>
                    <input id="import-file" type="file" accept=".jsonl,.ndjson,.json,.csv,text/csv,application/x-ndjson"
                        node_ref=file_input
                        on:change=move |_| if !busy() { step.set(Step::Idle) }/>
                    <p>
                        <button type="submit" disabled=busy>{move || tr(lang.get(), "Unggah dan periksa", "Upload and check")}</button>
                    </p>
                </form>
                {status}
                <p><a href="/ekspor">{move || tr(lang.get(), "Ekspor data wilayah", "Export the area's data")}</a></p>
            </section>
        </div>
    }
    .into_any()
}

/// The answer of an import: the counts, the rejects by line, their CSV.
#[component]
fn ImportResult(report: ImportReport) -> impl IntoView {
    let lang = use_lang();
    let csv = rejects_csv(&report.rejected);
    let any = !report.rejected.is_empty();
    let failed = RwSignal::new(false);
    let save = move |_| {
        failed.set(download("penolakan-impor.csv", "text/csv;charset=utf-8", &csv).is_err())
    };
    let rejected = report.rejected.len();
    let rows = report
        .rejected
        .into_iter()
        .map(|r| {
            let message = r.message.clone();
            let reason = r.reason.clone();
            view! {
                <tr data-line=r.line data-reason=r.reason.clone()>
                    <td data-field="line">{r.line}</td>
                    <td>{move || reason_label(lang.get(), &reason)}</td>
                    <td data-field="message">{move || message.get(lang.get()).to_owned()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div data-field="import-status" data-phase="done">
            <h2>{move || tr(lang.get(), "Hasil impor", "Import result")}</h2>
            <dl class="decoded">
                <dt>{move || tr(lang.get(), "Baris dibaca", "Lines read")}</dt>
                <dd data-field="import-lines">{report.lines}</dd>
                <dt>{move || tr(lang.get(), "Diimpor", "Imported")}</dt>
                <dd data-field="import-imported">{report.imported}</dd>
                <dt>{move || tr(lang.get(), "Ditolak", "Rejected")}</dt>
                <dd data-field="import-rejected">{rejected}</dd>
            </dl>
            {any.then(|| view! {
                <div class="table-scroll">
                    <table class="members" data-field="rejects">
                        <thead><tr>
                            <th>{move || tr(lang.get(), "Baris", "Line")}</th>
                            <th>{move || tr(lang.get(), "Alasan", "Reason")}</th>
                            <th>{move || tr(lang.get(), "Keterangan", "Details")}</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p><button type="button" class="secondary" on:click=save>
                    {move || tr(lang.get(), "Unduh penolakan (CSV)", "Download the rejects (CSV)")}
                </button></p>
            })}
            {move || failed.get().then(|| view! {
                <p class="finding error" role="alert">{tr(lang.get(),
                    "Peramban tidak dapat menyimpan berkas.", "The browser could not save the file.")}</p>
            })}
        </div>
    }
}

#[component]
fn Export() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = u.session.token.clone();
    let role = u.session.user.role.clone();
    let what = RwSignal::new("households".to_owned());
    let format = RwSignal::new("csv".to_owned());
    let state = RwSignal::new(None::<Result<usize, ApiError>>);
    let busy = RwSignal::new(false);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (w, f) = (what.get_untracked(), format.get_untracked());
        let token = token.clone();
        busy.set(true);
        state.set(None);
        spawn_local(async move {
            let result = export(&token, &w, &f).await.and_then(|text| {
                let header = usize::from(f == "csv");
                let lines = text.lines().count().saturating_sub(header);
                let mime = if f == "csv" {
                    "text/csv;charset=utf-8"
                } else {
                    "application/x-ndjson"
                };
                let name = format!(
                    "tepat-{}.{f}",
                    if w == "changes" {
                        "perubahan"
                    } else {
                        "keluarga"
                    }
                );
                download(&name, mime, &text).map_err(|_| ApiError::Decode)?;
                Ok(lines)
            });
            state.set(Some(result));
            busy.set(false);
        });
    };
    let area = move || {
        let l = lang.get();
        if role == "analyst" || role == "admin" {
            tr(l, "seluruh Indonesia", "all of Indonesia").to_owned()
        } else {
            tr(l, "wilayah akun Anda", "your account's area").to_owned()
        }
    };
    let import_link = importer(&u.session.user.role).then(|| {
        view! { <p><a href="/impor">{move || tr(lang.get(), "Impor data DTSEN", "Import DTSEN data")}</a></p> }
    });
    view! {
        <div class="console">
            <section class="card">
                <h1>{move || tr(lang.get(), "Ekspor data", "Export data")}</h1>
                <p>{move || match lang.get() {
                    Lang::Id => format!("Data {} sebagai berkas. Setiap ekspor tercatat di log audit.", area()),
                    Lang::En => format!("The data of {} as a file. Every export is kept in the audit log.", area()),
                }}</p>
                <form on:submit=run>
                    <label for="export-what">{move || tr(lang.get(), "Data", "Data")}</label>
                    <select id="export-what" on:change=move |e| what.set(event_target_value(&e))>
                        <option value="households">{move || tr(lang.get(), "Keluarga (satu baris per anggota di CSV)", "Households (one row per member in CSV)")}</option>
                        <option value="changes">{move || tr(lang.get(), "Log perubahan", "Change log")}</option>
                    </select>
                    <label for="export-format">{move || tr(lang.get(), "Format", "Format")}</label>
                    <select id="export-format" on:change=move |e| format.set(event_target_value(&e))>
                        <option value="csv">"CSV"</option>
                        <option value="jsonl">"JSONL"</option>
                    </select>
                    <p><button type="submit" disabled=move || busy.get()>{move || tr(lang.get(), "Unduh", "Download")}</button></p>
                </form>
                {move || busy.get().then(|| view! {
                    <p class="notice" role="status">{tr(lang.get(), "Menyiapkan berkas…", "Preparing the file…")}</p>
                })}
                {move || state.get().map(|r| {
                    let l = lang.get();
                    match r {
                        Ok(n) => view! {
                            <p class="notice" role="status" data-field="export-done">{match l {
                                Lang::Id => format!("Berkas diunduh: {n} baris data."),
                                Lang::En => format!("File downloaded: {n} data lines."),
                            }}</p>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
                    }
                })}
                {import_link}
            </section>
        </div>
    }
    .into_any()
}
