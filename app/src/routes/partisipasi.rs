//! Partisipasi: the public page, without an account. A citizen files an usul (a family
//! left out) or a sanggah (an objection to a registered family), or checks a ticket.
//! The reason codes are tepat-core's participation rules; the page shows nothing of a
//! family, only the receipt and the ticket's own steps.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::participation::{Filer, ProposedMember, Rules};
use tepat_core::{GeoPoint, Lang, Level};
use wasm_bindgen::JsCast;

use crate::api::ApiError;
use crate::api::participation::{
    self as api, Receipt, SanggahBody, TicketStatus, UsulBody, Village,
};
use crate::device;
use crate::i18n::{format_time, tr, tx, use_lang};
use crate::regions::use_regions;

/// Which of the page's three forms is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Usul,
    Sanggah,
    Tiket,
}

/// The page.
#[component]
pub fn ParticipationPage() -> impl IntoView {
    let lang = use_lang();
    let tab = RwSignal::new(Tab::Usul);
    let tab_button = move |t: Tab, id: &'static str, en: &'static str| {
        view! {
            <button type="button" class="secondary" data-tab=id
                aria-pressed=move || (tab.get() == t).to_string()
                on:click=move |_| tab.set(t)>{move || tr(lang.get(), id, en)}</button>
        }
    };
    view! {
        <section class="card partisipasi">
            <h1>{tx("Partisipasi masyarakat", "Public participation")}</h1>
            <p>{tx(
                "Usulkan keluarga miskin yang belum terdaftar, sanggah penerima yang tidak layak, atau cek status tiket Anda. Tidak perlu akun.",
                "Propose a poor family that is not in the register, object to a recipient that is not eligible, or check your ticket. No account needed.")}</p>
            <nav class="console-nav" aria-label="Partisipasi">
                {tab_button(Tab::Usul, "Usul", "Proposal")}
                {tab_button(Tab::Sanggah, "Sanggah", "Objection")}
                {tab_button(Tab::Tiket, "Cek tiket", "Check a ticket")}
            </nav>
        </section>
        {move || match tab.get() {
            Tab::Usul => view! { <UsulForm/> }.into_any(),
            Tab::Sanggah => view! { <SanggahForm/> }.into_any(),
            Tab::Tiket => view! { <TicketCheck/> }.into_any(),
        }}
    }
}

/// The filer's own data, as on the KTP.
#[derive(Clone, Copy)]
struct FilerFields {
    nik: RwSignal<String>,
    no_kk: RwSignal<String>,
    name: RwSignal<String>,
    phone: RwSignal<String>,
}

impl FilerFields {
    fn new() -> Self {
        FilerFields {
            nik: RwSignal::new(String::new()),
            no_kk: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            phone: RwSignal::new(String::new()),
        }
    }

    fn get(self) -> Filer {
        Filer {
            nik: self.nik.get_untracked().trim().to_owned(),
            no_kk: self.no_kk.get_untracked().trim().to_owned(),
            name: self.name.get_untracked().trim().to_owned(),
            phone: self.phone.get_untracked().trim().to_owned(),
        }
    }
}

#[component]
fn FilerInputs(f: FilerFields, prefix: &'static str) -> impl IntoView {
    let id = move |n: &str| format!("{prefix}-filer-{n}");
    view! {
        <fieldset>
            <legend>{tx("Data pelapor (sesuai KTP)", "The filer (as on the KTP)")}</legend>
            <label for=id("nik")>{tx("NIK pelapor (16 digit)", "Filer's NIK (16 digits)")}</label>
            <input id=id("nik") type="text" inputmode="numeric" autocomplete="off" maxlength="16" required bind:value=f.nik/>
            <label for=id("kk")>{tx("No. KK pelapor (16 digit)", "Filer's No. KK (16 digits)")}</label>
            <input id=id("kk") type="text" inputmode="numeric" autocomplete="off" maxlength="16" required bind:value=f.no_kk/>
            <label for=id("name")>{tx("Nama pelapor", "Filer's name")}</label>
            <input id=id("name") type="text" autocomplete="name" required bind:value=f.name/>
            <label for=id("phone")>{tx("Nomor HP pelapor", "Filer's phone number")}</label>
            <input id=id("phone") type="tel" inputmode="tel" autocomplete="tel" required bind:value=f.phone/>
        </fieldset>
    }
}

/// Reason checkboxes of a list of the core's participation rules (`usul`, `sanggah`).
#[component]
fn Reasons(list: &'static str, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    let lang = use_lang();
    let reasons = Rules::builtin()
        .source()
        .reasons
        .get(list)
        .cloned()
        .unwrap_or_default();
    let items = reasons
        .into_iter()
        .map(|r| {
            let code = r.id.clone();
            let code2 = r.id.clone();
            let toggle = move |ev: leptos::ev::Event| {
                let on = event_target_checked(&ev);
                let code = code.clone();
                chosen.update(|c| {
                    c.retain(|x| *x != code);
                    if on {
                        c.push(code);
                    }
                });
            };
            view! {
                <label class="check">
                    <input type="checkbox" data-reason=code2 on:change=toggle/>
                    {move || r.label.get(lang.get()).to_owned()}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset>
            <legend>{tx("Alasan (pilih satu atau lebih)", "Reasons (choose one or more)")}</legend>
            {items}
        </fieldset>
    }
}

/// A photo taken with the camera, shrunk on the device, kept as base64 for the filing.
#[component]
fn PhotoInput(
    id: &'static str,
    label_id: &'static str,
    label_en: &'static str,
    photo: RwSignal<Option<String>>,
) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let url = RwSignal::new(None::<String>);
    let pick = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        busy.set(true);
        failed.set(false);
        spawn_local(async move {
            let shrunk = device::shrink_photo(&file).await.ok();
            let encoded = match &shrunk {
                Some(blob) => device::blob_base64(blob).await.ok(),
                None => None,
            };
            match (shrunk, encoded) {
                (Some(blob), Some(b64)) => {
                    photo.set(Some(b64));
                    url.set(web_sys::Url::create_object_url_with_blob(&blob).ok());
                }
                _ => {
                    photo.set(None);
                    failed.set(true);
                }
            }
            busy.set(false);
        });
    };
    view! {
        <label for=id>{move || tr(lang.get(), label_id, label_en)}</label>
        <input id=id type="file" accept="image/*" capture="environment" on:change=pick/>
        {move || busy.get().then(|| view! { <p role="status">{tr(lang.get(), "Memproses foto…", "Processing the photo…")}</p> })}
        {move || failed.get().then(|| view! { <p class="finding error" role="alert">{tr(lang.get(), "Foto tidak dapat dibaca.", "The photo could not be read.")}</p> })}
        {move || url.get().map(|u| view! {
            <img class="photo" src=u data-field=format!("{id}-preview") alt=tr(lang.get(), "Foto rumah", "House photo")/>
        })}
    }
}

/// The house's GPS point, taken with the phone's GPS.
#[component]
fn GpsInput(id: &'static str, gps: RwSignal<Option<GeoPoint>>) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<device::GpsError>);
    let capture = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match device::gps_fix().await {
                Ok(p) => gps.set(Some(p)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <p data-field=format!("{id}-point")>{move || match gps.get() {
            None => tr(lang.get(), "Belum ada titik GPS.", "No GPS point yet.").to_owned(),
            Some(g) => {
                let acc = g.accuracy_m.map(|a| format!(" ± {} m", a.round())).unwrap_or_default();
                format!("{:.6}, {:.6}{acc}", g.lat, g.lon)
            }
        }}</p>
        <button type="button" class="secondary" id=id on:click=capture disabled=move || busy.get()>
            {move || if busy.get() { tr(lang.get(), "Mencari lokasi…", "Locating…") } else { tr(lang.get(), "Ambil lokasi GPS rumah", "Capture the house's GPS location") }}
        </button>
        {move || error.get().map(|e| view! { <p class="finding error" role="alert">{e.message(lang.get())}</p> })}
    }
}

/// What became of a filing: the receipt, or the server's refusal.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Sending,
    Received(Receipt),
    Refused(ApiError),
}

#[component]
fn OutcomeView(outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    let lang = use_lang();
    move || {
        let l = lang.get();
        outcome.get().map(|o| match o {
            Outcome::Sending => view! { <p class="notice" role="status">{tr(l, "Mengirim…", "Sending…")}</p> }.into_any(),
            Outcome::Refused(e) => view! { <p class="finding error" role="alert" data-field="filing-error">{e.message(l)}</p> }.into_any(),
            Outcome::Received(r) => {
                let note = if r.duplicate {
                    tr(l,
                        "Pengajuan yang sama sudah diterima dalam 48 jam terakhir; ini nomor tiketnya.",
                        "The same filing was received in the last 48 hours; this is its ticket.")
                } else {
                    tr(l, "Pengajuan Anda diterima.", "Your filing was received.")
                };
                view! {
                    <section class="card" role="status" data-field="receipt">
                        <h2>{tr(l, "Tanda terima", "Receipt")}</h2>
                        <p>{note}</p>
                        <p>{tr(l, "Nomor tiket:", "Ticket number:")}" "<strong data-field="ticket">{r.ticket.clone()}</strong></p>
                        <p class="muted">{r.message.clone()}</p>
                        <p>{tr(l,
                            "Simpan nomor tiket ini. Status dapat dicek dengan nomor tiket dan NIK pelapor.",
                            "Keep this ticket number. Its status can be checked with the ticket number and the filer's NIK.")}</p>
                    </section>
                }
                .into_any()
            }
        })
    }
}

/// A real village: province, regency and district from the region table on the device,
/// the district's villages from the server.
#[component]
fn VillagePicker(village: RwSignal<String>) -> impl IntoView {
    let lang = use_lang();
    let regions = use_regions();
    let province = RwSignal::new(String::new());
    let regency = RwSignal::new(String::new());
    let district = RwSignal::new(String::new());
    let villages = RwSignal::new(None::<Result<Vec<Village>, ApiError>>);
    let options = move |level: Level, parent: Option<String>| {
        regions.table.with(|t| {
            let Some(t) = t.as_ref() else {
                return Vec::new();
            };
            match parent {
                None => t
                    .codes(level)
                    .map(|(c, n)| (c.to_owned(), n.to_owned()))
                    .collect::<Vec<_>>(),
                Some(p) if p.is_empty() => Vec::new(),
                Some(p) => t
                    .children(&p)
                    .map(|(c, n)| (c.to_owned(), n.to_owned()))
                    .collect(),
            }
        })
    };
    let select = move |id: &'static str,
                       label: (&'static str, &'static str),
                       value: RwSignal<String>,
                       opts: Box<dyn Fn() -> Vec<(String, String)> + Send + Sync>,
                       on_pick: Box<dyn Fn(String) + Send + Sync>| {
        view! {
            <label for=id>{move || tr(lang.get(), label.0, label.1)}</label>
            <select id=id prop:value=move || value.get()
                on:change=move |ev| { let v = event_target_value(&ev); value.set(v.clone()); on_pick(v); }>
                <option value="">{move || tr(lang.get(), "— pilih —", "— choose —")}</option>
                {move || opts().into_iter().map(|(c, n)| view! { <option value=c.clone() selected=move || value.get() == c>{n}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <fieldset>
            <legend>{tx("Alamat keluarga yang diusulkan", "The proposed family's address")}</legend>
            {move || regions.table.with(Option::is_none).then(|| view! {
                <p class="notice warn" role="status">{tr(lang.get(),
                    "Daftar wilayah belum tersedia. Sambungkan perangkat ke internet.",
                    "The region list is not available yet. Connect the device to the internet.")}</p>
            })}
            {select("usul-province", ("Provinsi", "Province"), province,
                Box::new(move || options(Level::Province, None)),
                Box::new(move |_| { regency.set(String::new()); district.set(String::new()); village.set(String::new()); villages.set(None); }))}
            {select("usul-regency", ("Kabupaten/kota", "Regency/city"), regency,
                Box::new(move || options(Level::Regency, Some(province.get()))),
                Box::new(move |_| { district.set(String::new()); village.set(String::new()); villages.set(None); }))}
            {select("usul-district", ("Kecamatan", "District"), district,
                Box::new(move || options(Level::District, Some(regency.get()))),
                Box::new(move |d: String| {
                    village.set(String::new());
                    villages.set(None);
                    if !d.is_empty() {
                        spawn_local(async move { villages.set(Some(api::villages(&d).await)); });
                    }
                }))}
            <label for="usul-village">{tx("Desa/kelurahan", "Village")}</label>
            <select id="usul-village" prop:value=move || village.get()
                on:change=move |ev| village.set(event_target_value(&ev))>
                <option value="">{move || tr(lang.get(), "— pilih —", "— choose —")}</option>
                {move || match villages.get() {
                    Some(Ok(vs)) => vs.into_iter().map(|v| view! { <option value=v.code.clone()>{v.name}</option> }).collect_view().into_any(),
                    _ => ().into_any(),
                }}
            </select>
            {move || match villages.get() {
                Some(Err(e)) => Some(view! { <p class="finding error" role="alert">{e.message(lang.get())}</p> }),
                _ => None,
            }}
        </fieldset>
    }
}

/// A proposed member: name and, when known, NIK.
#[derive(Clone, Copy)]
struct MemberFields {
    key: usize,
    name: RwSignal<String>,
    nik: RwSignal<String>,
}

#[component]
fn UsulForm() -> impl IntoView {
    let lang = use_lang();
    let filer = FilerFields::new();
    let village = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let no_kk = RwSignal::new(String::new());
    let next_key = StoredValue::new(1usize);
    let new_member = move || {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        MemberFields {
            key,
            name: RwSignal::new(String::new()),
            nik: RwSignal::new(String::new()),
        }
    };
    let members = RwSignal::new(vec![new_member()]);
    let reasons = RwSignal::new(Vec::<String>::new());
    let text = RwSignal::new(String::new());
    let photo = RwSignal::new(None::<String>);
    let gps = RwSignal::new(None::<GeoPoint>);
    let outcome = RwSignal::new(None::<Outcome>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let opt = |s: RwSignal<String>| {
            let v = s.get_untracked().trim().to_owned();
            (!v.is_empty()).then_some(v)
        };
        let body = UsulBody {
            filer: filer.get(),
            village: village.get_untracked(),
            address: opt(address),
            no_kk: opt(no_kk),
            members: members
                .get_untracked()
                .into_iter()
                .filter_map(|m| {
                    let name = m.name.get_untracked().trim().to_owned();
                    let nik = opt(m.nik);
                    (!name.is_empty() || nik.is_some()).then_some(ProposedMember { name, nik })
                })
                .collect(),
            reasons: reasons.get_untracked(),
            text: text.get_untracked().trim().to_owned(),
            gps: gps.get_untracked(),
            photo: photo.get_untracked(),
        };
        outcome.set(Some(Outcome::Sending));
        spawn_local(async move {
            outcome.set(Some(match api::file_usul(&body).await {
                Ok(r) => Outcome::Received(r),
                Err(e) => Outcome::Refused(e),
            }));
        });
    };
    let member_rows = move || {
        members
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let name_id = format!("usul-member-{}-name", m.key);
                let nik_id = format!("usul-member-{}-nik", m.key);
                view! {
                    <div class="member-row" data-member=i>
                        <label for=name_id.clone()>{move || format!("{} {}", tr(lang.get(), "Nama anggota", "Member's name"), i + 1)}</label>
                        <input id=name_id type="text" bind:value=m.name/>
                        <label for=nik_id.clone()>{tx("NIK anggota (jika tahu)", "Member's NIK (if known)")}</label>
                        <input id=nik_id type="text" inputmode="numeric" maxlength="16" bind:value=m.nik/>
                        <button type="button" class="secondary" on:click=move |_| members.update(|ms| ms.retain(|x| x.key != m.key))>
                            {tx("Hapus anggota", "Remove member")}</button>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <form class="card" data-form="usul" on:submit=submit>
            <h2>{tx("Usulkan keluarga", "Propose a family")}</h2>
            <FilerInputs f=filer prefix="usul"/>
            <VillagePicker village=village/>
            <label for="usul-address">{tx("Alamat (jalan, RT/RW)", "Address (street, RT/RW)")}</label>
            <input id="usul-address" type="text" bind:value=address/>
            <label for="usul-kk">{tx("No. KK keluarga (jika tahu)", "The family's No. KK (if known)")}</label>
            <input id="usul-kk" type="text" inputmode="numeric" maxlength="16" bind:value=no_kk/>
            <fieldset>
                <legend>{tx("Anggota keluarga (sejauh diketahui)", "Family members (as far as known)")}</legend>
                {member_rows}
                <button type="button" class="secondary" on:click=move |_| { let m = new_member(); members.update(|ms| ms.push(m)); }>
                    {tx("Tambah anggota", "Add a member")}</button>
            </fieldset>
            <Reasons list="usul" chosen=reasons/>
            <label for="usul-text">{tx("Keterangan", "Explanation")}</label>
            <textarea id="usul-text" rows="4" bind:value=text></textarea>
            <PhotoInput id="usul-photo" label_id="Foto rumah (tidak wajib)" label_en="House photo (optional)" photo=photo/>
            <GpsInput id="usul-gps" gps=gps/>
            <p><button type="submit" disabled=move || matches!(outcome.get(), Some(Outcome::Sending))>{tx("Kirim usul", "Send the proposal")}</button></p>
            <OutcomeView outcome=outcome/>
        </form>
    }
}

#[component]
fn SanggahForm() -> impl IntoView {
    let filer = FilerFields::new();
    let no_kk = RwSignal::new(String::new());
    let reasons = RwSignal::new(Vec::<String>::new());
    let text = RwSignal::new(String::new());
    let photo = RwSignal::new(None::<String>);
    let gps = RwSignal::new(None::<GeoPoint>);
    let outcome = RwSignal::new(None::<Outcome>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = SanggahBody {
            filer: filer.get(),
            no_kk: no_kk.get_untracked().trim().to_owned(),
            reasons: reasons.get_untracked(),
            text: text.get_untracked().trim().to_owned(),
            gps: gps.get_untracked(),
            photo: photo.get_untracked(),
        };
        outcome.set(Some(Outcome::Sending));
        spawn_local(async move {
            outcome.set(Some(match api::file_sanggah(&body).await {
                Ok(r) => Outcome::Received(r),
                Err(e) => Outcome::Refused(e),
            }));
        });
    };
    view! {
        <form class="card" data-form="sanggah" on:submit=submit>
            <h2>{tx("Sanggah penerima", "Object to a recipient")}</h2>
            <p class="muted">{tx(
                "Sanggahan hanya untuk keluarga di desa/kelurahan Anda sendiri. Foto rumah dan titik GPS wajib.",
                "An objection is only for a family of your own village. The house photo and GPS point are required.")}</p>
            <FilerInputs f=filer prefix="sanggah"/>
            <label for="sanggah-kk">{tx("No. KK keluarga yang disanggah", "The No. KK of the family objected to")}</label>
            <input id="sanggah-kk" type="text" inputmode="numeric" maxlength="16" required bind:value=no_kk/>
            <Reasons list="sanggah" chosen=reasons/>
            <label for="sanggah-text">{tx("Keterangan", "Explanation")}</label>
            <textarea id="sanggah-text" rows="4" bind:value=text></textarea>
            <PhotoInput id="sanggah-photo" label_id="Foto rumah (wajib)" label_en="House photo (required)" photo=photo/>
            <GpsInput id="sanggah-gps" gps=gps/>
            <p><button type="submit" disabled=move || matches!(outcome.get(), Some(Outcome::Sending))>{tx("Kirim sanggahan", "Send the objection")}</button></p>
            <OutcomeView outcome=outcome/>
        </form>
    }
}

#[component]
fn TicketCheck() -> impl IntoView {
    let lang = use_lang();
    let number = RwSignal::new(String::new());
    let nik = RwSignal::new(String::new());
    let status = RwSignal::new(None::<Option<Result<TicketStatus, ApiError>>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = number.get_untracked().trim().to_owned();
        let k = nik.get_untracked().trim().to_owned();
        status.set(Some(None));
        spawn_local(async move { status.set(Some(Some(api::ticket(&n, &k).await))) });
    };
    view! {
        <form class="card" data-form="tiket" on:submit=submit>
            <h2>{tx("Cek status tiket", "Check a ticket's status")}</h2>
            <label for="tiket-number">{tx("Nomor tiket (contoh 2026-000001)", "Ticket number (e.g. 2026-000001)")}</label>
            <input id="tiket-number" type="text" autocomplete="off" required bind:value=number/>
            <label for="tiket-nik">{tx("NIK pelapor", "The filer's NIK")}</label>
            <input id="tiket-nik" type="text" inputmode="numeric" maxlength="16" required bind:value=nik/>
            <p><button type="submit">{tx("Cek status", "Check the status")}</button></p>
        </form>
        {move || {
            let l = lang.get();
            status.get().map(|s| match s {
                None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="finding error" role="alert" data-field="ticket-error">{e.message(l)}</p> }.into_any(),
                Some(Ok(t)) => ticket_view(l, t),
            })
        }}
    }
}

/// A server label `Indonesia / English` in the user's language.
pub fn label_in(lang: Lang, label: &str) -> String {
    match (label.split_once(" / "), lang) {
        (Some((id, _)), Lang::Id) => id.to_owned(),
        (Some((_, en)), Lang::En) => en.to_owned(),
        (None, _) => label.to_owned(),
    }
}

fn ticket_view(l: Lang, t: TicketStatus) -> AnyView {
    let steps = t
        .steps
        .iter()
        .map(|s| {
            let reason = s
                .reason_label
                .as_deref()
                .map(|r| format!(" — {}", label_in(l, r)));
            view! {
                <li data-action=s.action.clone() data-state=s.state.clone()>
                    <strong>{label_in(l, &s.label)}</strong>{reason}
                    <br/><span class="muted">{format_time(l, &s.at)}" · "{label_in(l, &s.state_label)}</span>
                </li>
            }
        })
        .collect_view();
    let kind = match t.kind.as_str() {
        "usul" => tr(l, "Usul", "Proposal"),
        _ => tr(l, "Sanggah", "Objection"),
    };
    view! {
        <section class="card" data-field="ticket-status" data-state=t.state.clone()>
            <h2>{tr(l, "Tiket", "Ticket")}" "{t.ticket.clone()}</h2>
            <dl class="decoded">
                <dt>{tr(l, "Jenis", "Kind")}</dt><dd>{kind}</dd>
                <dt>{tr(l, "Status", "Status")}</dt><dd data-field="ticket-state">{label_in(l, &t.state_label)}</dd>
                <dt>{tr(l, "Diajukan", "Filed")}</dt><dd>{format_time(l, &t.filed_at)}</dd>
                {t.deadline.clone().map(|d| view! { <dt>{tr(l, "Batas verifikasi", "Verification deadline")}</dt><dd>{d}</dd> })}
                {t.ranking_quarter.clone().map(|q| view! { <dt>{tr(l, "Triwulan pemeringkatan", "Ranking quarter")}</dt><dd>{q}</dd> })}
            </dl>
            <h3>{tr(l, "Langkah", "Steps")}</h3>
            <ol class="steps" data-field="ticket-steps">{steps}</ol>
        </section>
    }
    .into_any()
}
