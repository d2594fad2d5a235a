//! Gabung KK: this family joins another family of the facilitator's worklist. The
//! target is searched by No. KK, head name or address among the other active families;
//! every active member is listed with their relationship (409) to the target's head.
//! The core's `apply` is given the target (its current version on the device) and
//! decides; findings about the merged family (`other.*`) are shown beside the members.

use leptos::prelude::*;
use tepat_core::event::{Event, EventKind, MemberRole};
use tepat_core::{FamilyStatus, Finding, Keluarga};

use super::{
    Beside, CodeSelect, EventDate, Footer, Form, REQUIRED, input_finding, member_roles, req_date,
};
use crate::i18n::tx;
use crate::worklist::Worklist;

const FIELDS: &[&str] = &["event.into_no_kk", "event.date", "event.members", "other"];

/// At most this many matching families are offered at once.
pub const SHOWN: usize = 30;

/// The families `own` may merge into, matching `query` (as the worklist search does):
/// the other active families of the worklist, as indices in list order.
pub fn candidates(list: &Worklist, own: &str, query: &str) -> Vec<usize> {
    list.select(query, None)
        .into_iter()
        .filter(|&i| {
            let h = &list.households[i];
            h.no_kk != own && h.keluarga.status == FamilyStatus::Active
        })
        .collect()
}

/// Every listed member as a role: `(index choice, relationship code)` in family order;
/// a member without a relationship gives a finding at `event.members[k].relationship`.
pub fn roles(fam: &Keluarga, rows: &[(usize, String)], out: &mut Vec<Finding>) -> Vec<MemberRole> {
    member_roles(
        fam,
        rows,
        out,
        (
            "Pilih hubungan anggota ini dengan kepala keluarga tujuan.",
            "Choose this member's relationship to the head of the family joined.",
        ),
    )
}

#[component]
pub fn Merge(keluarga: Keluarga) -> impl IntoView {
    let own = keluarga.no_kk.clone();
    let form = Form::new(keluarga, EventKind::FamilyMerge);
    let query = RwSignal::new(String::new());
    let into = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    // Made again from a rejected change: its answers.
    let mut joining = Vec::new();
    if let Some(Event::FamilyMerge {
        into_no_kk,
        date: d,
        members,
    }) = form.again()
    {
        query.set(into_no_kk.clone());
        into.set(into_no_kk);
        date.set(d.to_string());
        joining = members;
    }
    let rows: Vec<(usize, String, RwSignal<String>)> = form
        .members()
        .into_iter()
        .map(|(i, name)| {
            let role = super::role_in(&form, &joining, i).unwrap_or_default();
            (i, name, RwSignal::new(role))
        })
        .collect();
    let rows = StoredValue::new(rows);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let into_kk = into.get_untracked();
        let target = form.household(&into_kk);
        form.submit_into(
            |fam, out| {
                if into_kk.is_empty() {
                    out.push(input_finding(
                        REQUIRED,
                        "event.into_no_kk",
                        "Pilih keluarga tujuan.",
                        "Choose the family to join.",
                    ));
                }
                let date = req_date(&date.get_untracked(), "event.date", out);
                let listed: Vec<(usize, String)> = rows.with_value(|r| {
                    r.iter()
                        .map(|(i, _, rel)| (*i, rel.get_untracked()))
                        .collect()
                });
                let members = roles(fam, &listed, out);
                Some(Event::FamilyMerge {
                    into_no_kk: into_kk.clone(),
                    date: date?,
                    members,
                })
            },
            None,
            target,
        );
    };
    // The matching families: No. KK, head, address.
    let options = move || {
        let q = query.get();
        let chosen = into.get();
        let found = form.families(|list| {
            candidates(list, &own, &q)
                .into_iter()
                .take(SHOWN)
                .map(|i| {
                    let h = &list.households[i];
                    (
                        h.no_kk.clone(),
                        format!("{} — {} — {}", h.no_kk, h.head_name(), h.address_line()),
                    )
                })
                .collect::<Vec<_>>()
        });
        found
            .into_iter()
            .map(|(kk, label)| {
                let selected = kk == chosen;
                view! { <option value=kk selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let list = rows.with_value(|r| {
        r.iter()
            .enumerate()
            .map(|(k, (i, name, rel))| {
                let rel_id = format!("merge-rel-{i}");
                view! {
                    <div class="field">
                        <label for=rel_id.clone()>{tx("Hubungan dengan kepala keluarga tujuan", "Relationship to the head of the family joined")}{format!(" — {name}")}</label>
                        <CodeSelect form=form id=rel_id codes="relationship" value=*rel field=format!("event.members[{k}]")/>
                    </div>
                }
            })
            .collect_view()
    });
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Catat gabung KK", "Record a household merge")}</h3>
            <label for="merge-search">{tx("Cari keluarga tujuan (No. KK, nama kepala, alamat)", "Find the family to join (No. KK, head's name, address)")}</label>
            <input id="merge-search" type="search" autocomplete="off" bind:value=query/>
            <label for="merge-into">{tx("Keluarga tujuan", "Family to join")}</label>
            <select id="merge-into" bind:value=into aria-describedby=super::msg_id("event.into_no_kk")>
                <option value="">{tx("— pilih —", "— choose —")}</option>
                {options}
            </select>
            <Beside form=form field="event.into_no_kk"/>
            <EventDate form=form id="merge-date" value=date label=("Tanggal gabung KK", "Date of the merge")/>
            <fieldset>
                <legend>{tx("Anggota yang bergabung", "Members joining")}</legend>
                {list}
            </fieldset>
            <Beside form=form field="event.members"/>
            <Beside form=form field="other"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
