//! Tidak ditemukan: a member (404 = 6) or the whole family is not found at the visit.

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::event::Event;

use super::{Beside, Footer, Form, MemberSelect, pick, req_date, req_member};
use crate::i18n::tx;

#[component]
pub fn MemberNotFound(keluarga: Keluarga) -> impl IntoView {
    const FIELDS: &[&str] = &["event.nik", "event.date", "event.new_head"];
    let form = Form::new(keluarga, "member_not_found");
    let member = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let new_head = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |fam, out| {
                let nik = req_member(fam, &member.get_untracked(), "event.nik", out);
                let date = req_date(&date.get_untracked(), "event.date", out);
                Some(Event::MemberNotFound {
                    nik: nik?,
                    date: date?,
                    new_head: pick(fam, &new_head.get_untracked()),
                })
            },
            None,
        );
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Anggota tidak ditemukan", "Member not found")}</h3>
            <label for="nf-member">{tx("Anggota yang tidak ditemukan", "Member not found")}</label>
            <MemberSelect form=form id="nf-member" value=member empty=("— pilih —", "— choose —") field="event.nik"/>
            <Beside form=form field="event.nik"/>
            <label for="nf-date">{tx("Tanggal kunjungan", "Date of the visit")}</label>
            <input id="nf-date" type="date" bind:value=date aria-describedby=super::msg_id("event.date")/>
            <Beside form=form field="event.date"/>
            <label for="nf-head">{tx("Kepala keluarga baru (jika kepala tidak ditemukan)", "New head (if the head is not found)")}</label>
            <MemberSelect form=form id="nf-head" value=new_head empty=("— tidak ada —", "— none —") field="event.new_head"/>
            <Beside form=form field="event.new_head"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}

#[component]
pub fn FamilyNotFound(keluarga: Keluarga) -> impl IntoView {
    const FIELDS: &[&str] = &["event.date"];
    let form = Form::new(keluarga, "family_not_found");
    let date = RwSignal::new(String::new());
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
            <label for="fnf-date">{tx("Tanggal kunjungan", "Date of the visit")}</label>
            <input id="fnf-date" type="date" bind:value=date aria-describedby=super::msg_id("event.date")/>
            <Beside form=form field="event.date"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
