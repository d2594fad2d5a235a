//! Graduasi: the facilitator records that a PKH family graduates, self-sufficient
//! (mandiri) or natural (alamiah), with the reason. The core checks it (the family
//! receives PKH, no graduation recorded, the reason required and capped) and a
//! koordinator reviews it.

use leptos::prelude::*;
use tepat_core::GraduationKind;
use tepat_core::Keluarga;
use tepat_core::event::{Event, EventKind, GRADUATION_REASON_MAX};

use super::{Beside, EventDate, Footer, Form, msg_id, req_date};
use crate::i18n::tx;

#[component]
pub fn Graduation(keluarga: Keluarga) -> impl IntoView {
    const FIELDS: &[&str] = &["event.date", "event.reason", "event.kind"];
    let form = Form::new(keluarga, EventKind::Graduation);
    let (kind0, date0, reason0) = match form.again() {
        Some(Event::Graduation { kind, date, reason }) => (kind, date.to_string(), reason),
        _ => (GraduationKind::Mandiri, String::new(), String::new()),
    };
    let kind = RwSignal::new(kind0.name().to_owned());
    let date = RwSignal::new(date0);
    let why = RwSignal::new(reason0);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |_, out| {
                let kind = if kind.get_untracked() == GraduationKind::Alamiah.name() {
                    GraduationKind::Alamiah
                } else {
                    GraduationKind::Mandiri
                };
                Some(Event::Graduation {
                    kind,
                    date: req_date(&date.get_untracked(), "event.date", out)?,
                    reason: why.get_untracked(),
                })
            },
            None,
        );
    };
    let max = GRADUATION_REASON_MAX.to_string();
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Graduasi PKH", "PKH graduation")}</h3>
            <p>{tx("Keluarga keluar dari PKH setelah disetujui koordinator.", "The family leaves PKH once the koordinator approves.")}</p>
            <label for="grad-kind">{tx("Jenis graduasi", "Kind of graduation")}</label>
            <select id="grad-kind" bind:value=kind aria-describedby=msg_id("event.kind")>
                <option value="mandiri">{tx("Sejahtera mandiri", "Self-sufficient")}</option>
                <option value="alamiah">{tx("Alamiah", "Natural")}</option>
            </select>
            <EventDate form=form id="grad-date" value=date label=("Tanggal graduasi", "Date of the graduation")/>
            <label for="grad-reason">{tx("Alasan graduasi", "Reason for the graduation")}</label>
            <textarea id="grad-reason" maxlength=max bind:value=why aria-describedby=msg_id("event.reason")></textarea>
            <Beside form=form field="event.reason"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
