//! Perkawinan: a member marries; the partner joins as a new member, or is already a
//! member, or lives elsewhere (only the member's status changes).

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::event::{Event, EventKind};

use super::member::{MemberFields, PersonFields};
use super::{
    Beside, EventDate, Footer, Form, MemberSelect, REQUIRED, input_finding, new_member, pick,
    req_date, req_member,
};
use crate::i18n::tx;

const FIELDS: &[&str] = &[
    "event.nik",
    "event.date",
    "event.partner",
    "event.partner_nik",
];

#[component]
pub fn Marriage(keluarga: Keluarga) -> impl IntoView {
    let index = keluarga.anggota.len();
    let form = Form::new(keluarga, EventKind::Marriage);
    let member = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    // `new`: the partner joins; `member`: already a member; `none`: lives elsewhere.
    let mode = RwSignal::new(String::from("new"));
    let partner = MemberFields::new();
    let partner_member = RwSignal::new(String::new());
    // Made again from a rejected change: its answers.
    if let Some(Event::Marriage {
        nik,
        date: d,
        partner: p,
        partner_nik,
    }) = form.again()
    {
        member.set(form.choice_of(Some(&nik)));
        date.set(d.to_string());
        match (p, partner_nik) {
            (Some(p), _) => partner.fill(&p),
            (None, Some(n)) => {
                mode.set("member".to_owned());
                partner_member.set(form.choice_of(Some(&n)));
            }
            (None, None) => mode.set("none".to_owned()),
        }
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |fam, out| {
                let nik = req_member(fam, &member.get_untracked(), "event.nik", out);
                let date = req_date(&date.get_untracked(), "event.date", out);
                let (partner, partner_nik) = match mode.get_untracked().as_str() {
                    "new" => (
                        Some(new_member(&partner.input(), "event.partner", false, out)?),
                        None,
                    ),
                    "member" => {
                        let p = pick(fam, &partner_member.get_untracked());
                        if p.is_none() {
                            out.push(input_finding(
                                REQUIRED,
                                "event.partner_nik",
                                "Pilih pasangan dari anggota keluarga.",
                                "Choose the partner among the family members.",
                            ));
                        }
                        (None, p)
                    }
                    _ => (None, None),
                };
                Some(Event::Marriage {
                    nik: nik?,
                    date: date?,
                    partner,
                    partner_nik,
                })
            },
            Some((index, "event.partner")),
        );
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Catat perkawinan", "Record a marriage")}</h3>
            <label for="marry-member">{tx("Anggota yang menikah", "Member who married")}</label>
            <MemberSelect form=form id="marry-member" value=member empty=("— pilih —", "— choose —") field="event.nik"/>
            <Beside form=form field="event.nik"/>
            <EventDate form=form id="marry-date" value=date label=("Tanggal perkawinan", "Date of the marriage")/>
            <label for="marry-mode">{tx("Pasangan", "Partner")}</label>
            <select id="marry-mode" bind:value=mode>
                <option value="new">{tx("Orang baru, masuk ke keluarga ini", "A new person, joining this family")}</option>
                <option value="member">{tx("Sudah anggota keluarga ini", "Already a member of this family")}</option>
                <option value="none">{tx("Tinggal di tempat lain", "Lives elsewhere")}</option>
            </select>
            <div style:display=move || if mode.get() == "new" { "block" } else { "none" }>
                <PersonFields form=form m=partner prefix="event.partner" ids="partner" relationship=false skip=&["marital_status"]/>
            </div>
            <div style:display=move || if mode.get() == "member" { "block" } else { "none" }>
                <label for="marry-partner">{tx("Pasangan (anggota keluarga)", "Partner (family member)")}</label>
                <MemberSelect form=form id="marry-partner" value=partner_member empty=("— pilih —", "— choose —") field="event.partner_nik"/>
                <Beside form=form field="event.partner_nik"/>
            </div>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
