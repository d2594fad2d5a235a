//! Tidak ditemukan: a member (404 = 6) or the whole family is not found at the visit.

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::event::{Event, EventKind};

use super::death::{Leave, MemberLeaves};
use super::{EventDate, Footer, Form, req_date};
use crate::i18n::tx;

#[component]
pub fn MemberNotFound(keluarga: Keluarga) -> impl IntoView {
    let leave = Leave {
        kind: EventKind::MemberNotFound,
        title: ("Anggota tidak ditemukan", "Member not found"),
        member: ("Anggota yang tidak ditemukan", "Member not found"),
        date: ("Tanggal kunjungan", "Date of the visit"),
        new_head: (
            "Kepala keluarga baru (jika kepala tidak ditemukan)",
            "New head (if the head is not found)",
        ),
        ids: ["nf-member", "nf-date", "nf-head"],
        event: |nik, date, new_head| Event::MemberNotFound {
            nik,
            date,
            new_head,
        },
    };
    view! { <MemberLeaves keluarga=keluarga leave=leave/> }
}

#[component]
pub fn FamilyNotFound(keluarga: Keluarga) -> impl IntoView {
    const FIELDS: &[&str] = &["event.date"];
    let form = Form::new(keluarga, EventKind::FamilyNotFound);
    let date = RwSignal::new(match form.again() {
        Some(Event::FamilyNotFound { date }) => date.to_string(),
        _ => String::new(),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |_, out| {
                Some(Event::FamilyNotFound {
                    date: req_date(&date.get_untracked(), "event.date", out)?,
                })
            },
            None,
        );
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Keluarga tidak ditemukan di alamat", "Family not found at the address")}</h3>
            <p>{tx("Keluarga ini akan berstatus tidak ditemukan. Catat hanya setelah memastikan dengan tetangga atau ketua RT.", "The family will get the status not found. Record it only after checking with neighbours or the RT head.")}</p>
            <EventDate form=form id="fnf-date" value=date label=("Tanggal kunjungan", "Date of the visit")/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
