//! Meninggal (404 = 2): who died, when, and the new head when the head died. The same
//! form, with other words, records a member not found at the visit (404 = 6).

use leptos::prelude::*;
use tepat_core::event::{Event, EventKind};
use tepat_core::{Date, Keluarga};

use super::{Beside, EventDate, Footer, Form, MemberSelect, pick, req_date, req_member};
use crate::i18n::tx;
use crate::today::today;

const FIELDS: &[&str] = &["event.nik", "event.date", "event.new_head"];

/// The words and element ids of a "member leaves the family" form (Bahasa Indonesia,
/// English).
pub struct Leave {
    pub kind: EventKind,
    pub title: (&'static str, &'static str),
    pub member: (&'static str, &'static str),
    pub date: (&'static str, &'static str),
    pub new_head: (&'static str, &'static str),
    pub ids: [&'static str; 3],
    /// The event from the member's NIK, the date and the new head.
    pub event: fn(String, Date, Option<String>) -> Event,
}

#[component]
pub fn Death(keluarga: Keluarga) -> impl IntoView {
    let leave = Leave {
        kind: EventKind::MemberDied,
        title: ("Catat kematian", "Record a death"),
        member: ("Anggota yang meninggal", "Member who died"),
        date: ("Tanggal meninggal", "Date of death"),
        new_head: (
            "Kepala keluarga baru (jika kepala meninggal)",
            "New head (if the head died)",
        ),
        ids: ["died-member", "died-date", "died-head"],
        event: |nik, date, new_head| Event::MemberDied {
            nik,
            date,
            new_head,
        },
    };
    view! { <MemberLeaves keluarga=keluarga leave=leave/> }
}

/// A member leaves the family: who, when, and the new head when the head leaves.
#[component]
pub fn MemberLeaves(keluarga: Keluarga, leave: Leave) -> impl IntoView {
    let form = Form::new(keluarga, leave.kind);
    // Made again from a rejected change: its answers.
    let (was_member, was_date, was_head) = match form.again() {
        Some(
            Event::MemberDied {
                nik,
                date,
                new_head,
            }
            | Event::MemberNotFound {
                nik,
                date,
                new_head,
            },
        ) => (
            form.choice_of(Some(&nik)),
            date.to_string(),
            form.choice_of(new_head.as_deref()),
        ),
        _ => Default::default(),
    };
    let member = RwSignal::new(was_member);
    let date = RwSignal::new(was_date);
    let new_head = RwSignal::new(was_head);
    let make = leave.event;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |fam, out| {
                let nik = req_member(fam, &member.get_untracked(), "event.nik", out);
                let date = req_date(&date.get_untracked(), "event.date", out);
                let heir = pick(fam, &new_head.get_untracked());
                // Something is missing (the date, the note): the core's errors (a new
                // head) show now too, in the same round, today standing in for the date.
                let incomplete =
                    date.is_none() || form.reason.with_untracked(|r| r.trim().is_empty());
                if let (Some(nik), true, Some(now)) = (&nik, incomplete, today()) {
                    let stand_ins: &[&str] = if date.is_none() { &["event.date"] } else { &[] };
                    let probe = make(nik.clone(), date.unwrap_or(now), heir.clone());
                    out.extend(form.errors_so_far(probe, stand_ins));
                }
                Some(make(nik?, date?, heir))
            },
            None,
        );
    };
    let [member_id, date_id, head_id] = leave.ids;
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx(leave.title.0, leave.title.1)}</h3>
            <label for=member_id>{tx(leave.member.0, leave.member.1)}</label>
            <MemberSelect form=form id=member_id value=member empty=("— pilih —", "— choose —") field="event.nik"/>
            <Beside form=form field="event.nik"/>
            <EventDate form=form id=date_id value=date label=leave.date/>
            <label for=head_id>{tx(leave.new_head.0, leave.new_head.1)}</label>
            <MemberSelect form=form id=head_id value=new_head empty=("— tidak ada —", "— none —") field="event.new_head" except=member/>
            <Beside form=form field="event.new_head"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
