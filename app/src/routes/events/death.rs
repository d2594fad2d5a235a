//! Meninggal (404 = 2): who died, when, and the new head when the head died.

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::event::Event;

use super::{Beside, Footer, Form, MemberSelect, pick, req_date, req_member};
use crate::i18n::tx;

const FIELDS: &[&str] = &["event.nik", "event.date", "event.new_head"];

#[component]
pub fn Death(keluarga: Keluarga) -> impl IntoView {
    let form = Form::new(keluarga, "member_died");
    let member = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let new_head = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |fam, out| {
                let nik = req_member(fam, &member.get_untracked(), "event.nik", out);
                let date = req_date(&date.get_untracked(), "event.date", out);
                Some(Event::MemberDied {
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
            <h3>{tx("Catat kematian", "Record a death")}</h3>
            <label for="died-member">{tx("Anggota yang meninggal", "Member who died")}</label>
            <MemberSelect form=form id="died-member" value=member empty=("— pilih —", "— choose —") field="event.nik"/>
            <Beside form=form field="event.nik"/>
            <label for="died-date">{tx("Tanggal meninggal", "Date of death")}</label>
            <input id="died-date" type="date" bind:value=date aria-describedby=super::msg_id("event.date")/>
            <Beside form=form field="event.date"/>
            <label for="died-head">{tx("Kepala keluarga baru (jika kepala meninggal)", "New head (if the head died)")}</label>
            <MemberSelect form=form id="died-head" value=new_head empty=("— tidak ada —", "— none —") field="event.new_head"/>
            <Beside form=form field="event.new_head"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
