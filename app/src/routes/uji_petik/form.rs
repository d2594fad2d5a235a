//! The form's shell: its state, autosave and the parts in their order.

use std::rc::Rc;

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::rulebook::Rulebook;

use super::autosave::{Autosave, DraftStatus};
use super::ctx::Ctx;
use super::sections::{self, sections_view};
use super::send::{SendSection, Sending, on_submit};
use super::summary::{StickyBar, Summary};
use crate::draft::Draft;
use crate::i18n::{tr, use_lang};
use crate::routes::score::{ScoreCard, preview_of};
use crate::session::Unlocked;
use crate::sync::use_data;

/// The ground check of `base` with rulebook `rb`, editing `draft`.
#[component]
pub(super) fn Form(
    base: Keluarga,
    rb: Rc<Rulebook>,
    draft: RwSignal<Draft>,
    unlocked: Unlocked,
) -> impl IntoView {
    let lang = use_lang();
    let no_kk = base.no_kk.clone();
    let rb_version = rb.version().to_owned();
    let layout = sections::layout(&rb, &base);
    let ctx = Ctx::new(base, rb, draft);
    let unlocked = StoredValue::new_local(unlocked);
    let family_late = ctx.follow_changes();
    let save = Autosave::start(draft, unlocked);
    // Field paths rendered, for the summary links.
    let rendered = StoredValue::new(sections::rendered(&layout));
    let blocks = sections::blocks(&layout);
    let sections = sections_view(ctx, layout);
    ctx.count_progress();
    let sending = Sending::new();
    let submit = on_submit(ctx, sending, save.clone(), unlocked);
    let submitted = save.submitted;
    let preview = preview_of(Signal::derive(move || Some(family_late.get())));
    let full = ctx.full;
    let href_household = format!("/keluarga/{no_kk}");
    let href_household2 = href_household.clone();

    view! {
        {move || submitted.get().then(|| view! {
            <section class="card">
                <p class="ok" role="status">{move || tr(lang.get(), "Uji petik dikirim ke Kotak Keluar.", "The ground check is in the outbox.")}</p>
                <p><a href=href_household2.clone()>{move || tr(lang.get(), "Kembali ke keluarga", "Back to the family")}</a></p>
            </section>
        })}
        <div style:display=move || if submitted.get() { "none" } else { "block" }>
            <section class="card">
                <h1>{move || tr(lang.get(), "Uji Petik", "Ground check")}</h1>
                <label for="no-kk">{move || tr(lang.get(), "No. KK", "Family card no.")}</label>
                <input id="no-kk" type="text" inputmode="numeric" readonly value=no_kk.clone()/>
                <RulebookVersion version=rb_version/>
                <DraftStatus save=save/>
                <p class="muted">{move || if full.get() {
                    tr(lang.get(), "Seluruh kuesioner ditampilkan.", "The whole questionnaire is shown.")
                } else {
                    tr(lang.get(),
                        "Ditampilkan: variabel kunci. Periksa tiap jawaban: tekan \u{201c}Sesuai\u{201d} atau ubah jawabannya.",
                        "Shown: the key variables. Check each answer: tap \u{201c}Right\u{201d} or change the answer.")
                }}</p>
                <p><button type="button" class="secondary" id="toggle-full" aria-pressed=move || full.get().to_string()
                    on:click=move |_| full.update(|f| *f = !*f)>
                    {move || if full.get() {
                        tr(lang.get(), "Tampilkan variabel kunci saja", "Show the key variables only")
                    } else {
                        tr(lang.get(), "Tampilkan seluruh kuesioner", "Show the whole questionnaire")
                    }}
                </button></p>
                <nav aria-label=move || tr(lang.get(), "Ringkasan temuan", "Summary of findings") class="summary-box">
                    <Summary ctx=ctx rendered=rendered/>
                </nav>
                <p><a href=href_household.clone()>{move || tr(lang.get(), "Kembali ke keluarga", "Back to the family")}</a></p>
            </section>
            <form on:submit=submit novalidate>
                {sections}
                <SendSection ctx=ctx sending=sending/>
            </form>
            <ScoreCard result=preview/>
            <StickyBar ctx=ctx blocks=blocks preview=preview/>
        </div>
    }
}

/// The rulebook version the form checks with, and whether the device has a newer one.
#[component]
fn RulebookVersion(version: String) -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let older = {
        let v = version.clone();
        move || {
            data.rulebook
                .with(|c| c.as_ref().is_some_and(|c| c.version() != v))
        }
    };
    view! {
        <p data-field="rulebook-version" data-version=version.clone()>
            {move || tr(lang.get(), "Aturan isian versi ", "Rulebook version ")}{version.clone()}
            {move || older().then(|| tr(lang.get(),
                " — versi saat draf dibuat; aturan isian sudah diperbarui.",
                " — the version the draft was made with; the rulebook has been updated since."))}
        </p>
    }
}
