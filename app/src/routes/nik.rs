//! Cek NIK: a NIK field validated live, on every input, by `tepat_core::validate_nik`.

use leptos::prelude::*;
use tepat_core::{IdContext, NikReport, NikRequest, Severity, validate_nik};

use crate::i18n::{format_date, tr, use_lang};
use crate::regions::{RegionSource, use_regions};
use crate::today::today;

/// The screen: label, numeric field, findings and, when valid, what the NIK says.
#[component]
pub fn NikCheck() -> impl IntoView {
    let lang = use_lang();
    let regions = use_regions();
    let (nik, set_nik) = signal(String::new());

    // The report for the current input; `None` while the field is empty or there is no table.
    let report = Memo::new(move |_| {
        let text = nik.get();
        if text.is_empty() {
            return None;
        }
        let today = today()?;
        regions.table.with(|table| {
            let table = table.as_ref()?;
            let ctx = IdContext {
                regions: table,
                today,
            };
            Some(validate_nik(
                &NikRequest {
                    nik: text,
                    ..NikRequest::default()
                },
                &ctx,
            ))
        })
    });

    view! {
        <section class="card">
            <h1>{move || tr(lang.get(), "Cek NIK", "Check a NIK")}</h1>
            <RegionStatus source=regions.source/>
            <label for="nik">{move || tr(lang.get(), "NIK (16 digit)", "NIK (16 digits)")}</label>
            <input id="nik" name="nik" type="text" inputmode="numeric" autocomplete="off"
                spellcheck="false" aria-describedby="nik-result"
                aria-invalid=move || report.with(|r| r.as_ref().map(|r| (!r.valid).to_string()))
                prop:value=nik
                on:input=move |ev| set_nik.set(event_target_value(&ev))/>
            <div id="nik-result" aria-live="polite">
                {move || report.get().map(|r| view! { <NikResult report=r/> })}
            </div>
        </section>
    }
}

#[component]
fn RegionStatus(source: RwSignal<RegionSource>) -> impl IntoView {
    let lang = use_lang();
    move || {
        let l = lang.get();
        let (class, text) = match source.get() {
            RegionSource::Loading => (
                "notice",
                tr(l, "Memuat daftar wilayah…", "Loading the region list…"),
            ),
            RegionSource::Missing => (
                "notice warn",
                tr(
                    l,
                    "Daftar wilayah belum tersedia. Sambungkan perangkat ke internet sekali agar NIK dapat diperiksa tanpa sinyal.",
                    "The region list is not available yet. Connect the device to the internet once so NIKs can be checked offline.",
                ),
            ),
            RegionSource::Cache | RegionSource::Network => return None,
        };
        Some(view! { <p class=class role="status">{text}</p> })
    }
}

/// The findings of one report, and the decoded NIK when it is valid.
#[component]
pub fn NikResult(report: NikReport) -> impl IntoView {
    let lang = use_lang();
    let NikReport {
        valid,
        findings,
        info,
    } = report;
    view! {
        {move || valid.then(|| view! {
            <p class="ok" role="status">{tr(lang.get(), "Format NIK benar (ini tidak berarti NIK terdaftar di Dukcapil).", "The NIK is well formed (this does not mean it is registered with Dukcapil).")}</p>
        })}
        <ul class="findings">
            {findings.into_iter().map(|f| {
                let class = match f.severity {
                    Severity::Error => "finding error",
                    Severity::Warning => "finding warning",
                };
                let rule = f.rule.clone();
                view! {
                    <li class=class data-rule=rule>{move || f.message.get(lang.get()).to_owned()}</li>
                }
            }).collect_view()}
        </ul>
        {info.map(|info| view! {
            <dl class="decoded">
                <dt>{move || tr(lang.get(), "Tanggal lahir", "Birth date")}</dt>
                <dd data-field="birth_date">{move || format_date(lang.get(), info.birth_date)}</dd>
                <dt>{move || tr(lang.get(), "Jenis kelamin", "Sex")}</dt>
                <dd data-field="sex">{move || info.sex.label().get(lang.get()).to_owned()}</dd>
                <dt>{move || tr(lang.get(), "Kecamatan penerbit", "Issuing district")}</dt>
                <dd data-field="district">{format!("{}, {} ({})", info.district.name, info.province.name, info.district.code)}</dd>
            </dl>
        })}
    }
}
