//! Pecah KK: members leave for a new family card, each with their relationship in the
//! new family; when the head leaves and others stay, the remaining family's new head.
//! The new family keeps the old address and dwelling (the core's default).

use leptos::prelude::*;
use tepat_core::event::{Event, EventKind, MemberRole};
use tepat_core::{Finding, Keluarga};

use super::{
    Beside, CodeSelect, EventDate, Footer, Form, MemberSelect, REQUIRED, input_finding,
    member_roles, pick, req_date,
};
use crate::i18n::tx;

const FIELDS: &[&str] = &[
    "event.new_no_kk",
    "other.no_kk",
    "event.date",
    "event.members",
    "event.remaining_head",
];

/// The leaving members as roles: `(index choice, relationship code)` of every ticked
/// member, in family order; a ticked member without a relationship gives a finding.
pub fn roles(
    fam: &Keluarga,
    ticked: &[(usize, String)],
    out: &mut Vec<Finding>,
) -> Vec<MemberRole> {
    member_roles(
        fam,
        ticked,
        out,
        (
            "Pilih hubungan anggota ini dengan kepala keluarga di KK baru.",
            "Choose this member's relationship to the head in the new family.",
        ),
    )
}

#[component]
pub fn Split(keluarga: Keluarga) -> impl IntoView {
    let form = Form::new(keluarga, EventKind::FamilySplit);
    let new_kk = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let remaining_head = RwSignal::new(String::new());
    // Made again from a rejected change: its answers.
    let mut leaving = Vec::new();
    if let Some(Event::FamilySplit {
        new_no_kk,
        date: d,
        members,
        remaining_head: h,
        ..
    }) = form.again()
    {
        new_kk.set(new_no_kk);
        date.set(d.to_string());
        remaining_head.set(form.choice_of(h.as_deref()));
        leaving = members;
    }
    let rows: Vec<(usize, String, RwSignal<bool>, RwSignal<String>)> = form
        .members()
        .into_iter()
        .map(|(i, name)| {
            let role = super::role_in(&form, &leaving, i);
            (
                i,
                name,
                RwSignal::new(role.is_some()),
                RwSignal::new(role.unwrap_or_default()),
            )
        })
        .collect();
    let rows = StoredValue::new(rows);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |fam, out| {
                let kk = new_kk.get_untracked().trim().to_owned();
                if kk.is_empty() {
                    out.push(input_finding(
                        REQUIRED,
                        "event.new_no_kk",
                        "Isi No. KK baru.",
                        "Enter the new No. KK.",
                    ));
                }
                let date = req_date(&date.get_untracked(), "event.date", out);
                let ticked: Vec<(usize, String)> = rows.with_value(|r| {
                    r.iter()
                        .filter(|(_, _, on, _)| on.get_untracked())
                        .map(|(i, _, _, rel)| (*i, rel.get_untracked()))
                        .collect()
                });
                let members = roles(fam, &ticked, out);
                Some(Event::FamilySplit {
                    new_no_kk: kk,
                    date: date?,
                    members,
                    address: None,
                    housing: None,
                    assets: None,
                    remaining_head: pick(fam, &remaining_head.get_untracked()),
                })
            },
            None,
        );
    };
    let list = rows.with_value(|r| {
        r.iter()
            .enumerate()
            .map(|(k, (i, name, on, rel))| {
                let (on, rel) = (*on, *rel);
                let check_id = format!("split-member-{i}");
                let check_for = check_id.clone();
                let rel_id = format!("split-rel-{i}");
                let rel_for = rel_id.clone();
                let name = name.clone();
                view! {
                    <div class="field">
                        <label class="check" for=check_for>
                            <input type="checkbox" id=check_id prop:checked=move || on.get()
                                on:change=move |ev| on.set(event_target_checked(&ev))/>
                            {name.clone()}
                        </label>
                        <div style:display=move || if on.get() { "block" } else { "none" }>
                            <label for=rel_for>{tx("Hubungan di KK baru", "Relationship in the new family")}{format!(" — {name}")}</label>
                            <CodeSelect form=form id=rel_id codes="relationship" value=rel field=format!("event.members[{k}]")/>
                        </div>
                    </div>
                }
            })
            .collect_view()
    });
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Catat pecah KK", "Record a household split")}</h3>
            <label for="split-kk">{tx("No. KK baru", "New No. KK")}</label>
            <input id="split-kk" type="text" inputmode="numeric" maxlength="16" autocomplete="off"
                bind:value=new_kk aria-describedby=super::msg_id("event.new_no_kk")/>
            <Beside form=form field="event.new_no_kk"/>
            <Beside form=form field="other.no_kk"/>
            <EventDate form=form id="split-date" value=date label=("Tanggal pecah KK", "Date of the split")/>
            <fieldset>
                <legend>{tx("Anggota yang pindah ke KK baru", "Members moving to the new family")}</legend>
                {list}
            </fieldset>
            <Beside form=form field="event.members"/>
            <label for="split-head">{tx("Kepala keluarga baru di KK lama (jika kepala pindah)", "New head of the old family (if the head leaves)")}</label>
            <MemberSelect form=form id="split-head" value=remaining_head empty=("— tidak ada —", "— none —") field="event.remaining_head"/>
            <Beside form=form field="event.remaining_head"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
