//! Pindah (404 = 3 within Indonesia, 4 abroad): who moved, when, where to (a region of
//! the device's Kemendagri table, down to the village where the table has it), and the
//! new head when the head moved.

use leptos::prelude::*;
use tepat_core::event::{Destination, Event, EventKind};
use tepat_core::{Finding, Keluarga, Level};

use super::{
    Beside, EventDate, Footer, Form, MemberSelect, REQUIRED, input_finding, pick, req_date,
    req_member,
};
use crate::i18n::{tr, tx, use_lang};
use crate::regions::use_regions;

const FIELDS: &[&str] = &[
    "event.nik",
    "event.date",
    "event.destination",
    "event.new_head",
];

/// The deepest region chosen in the cascade (province, regency, district, village).
pub fn deepest(levels: &[String]) -> Option<&str> {
    levels
        .iter()
        .take_while(|c| !c.trim().is_empty())
        .last()
        .map(|c| c.trim())
}

/// The codes of `region` and the regions above it, province first (`32`, `32.04`,
/// `32.04.10`, `32.04.10.2001`).
pub fn region_levels(region: &str) -> Vec<String> {
    let parts: Vec<&str> = region.split('.').collect();
    (1..=parts.len().min(4))
        .map(|n| parts[..n].join("."))
        .collect()
}

/// The destination of the typed answers: `abroad` or a region code, with a finding at
/// `event.destination.region` when no region is chosen.
pub fn destination(
    abroad: bool,
    country: &str,
    levels: &[String],
    out: &mut Vec<Finding>,
) -> Option<Destination> {
    if abroad {
        let c = country.trim();
        return Some(Destination::Abroad {
            country: (!c.is_empty()).then(|| c.to_owned()),
        });
    }
    match deepest(levels) {
        Some(code) => Some(Destination::Domestic {
            region: code.to_owned(),
        }),
        None => {
            out.push(input_finding(
                REQUIRED,
                "event.destination.region",
                "Pilih wilayah tujuan (paling sedikit provinsi).",
                "Choose the destination region (at least the province).",
            ));
            None
        }
    }
}

#[component]
pub fn MoveOut(keluarga: Keluarga) -> impl IntoView {
    let lang = use_lang();
    let regions = use_regions();
    let form = Form::new(keluarga, EventKind::MemberMovedOut);
    let member = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let new_head = RwSignal::new(String::new());
    let abroad = RwSignal::new(String::from("domestic"));
    let country = RwSignal::new(String::new());
    // Province, regency, district, village.
    let levels: [RwSignal<String>; 4] = std::array::from_fn(|_| RwSignal::new(String::new()));
    // Made again from a rejected change: its answers.
    if let Some(Event::MemberMovedOut {
        nik,
        date: d,
        destination,
        new_head: h,
    }) = form.again()
    {
        member.set(form.choice_of(Some(&nik)));
        date.set(d.to_string());
        new_head.set(form.choice_of(h.as_deref()));
        match destination {
            Destination::Abroad { country: c } => {
                abroad.set("abroad".to_owned());
                country.set(c.unwrap_or_default());
            }
            Destination::Domestic { region } => {
                for (level, code) in levels.iter().zip(region_levels(&region)) {
                    level.set(code);
                }
            }
        }
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |fam, out| {
                let nik = req_member(fam, &member.get_untracked(), "event.nik", out);
                let date = req_date(&date.get_untracked(), "event.date", out);
                let chosen: Vec<String> = levels.iter().map(|l| l.get_untracked()).collect();
                let dest = destination(
                    abroad.get_untracked() == "abroad",
                    &country.get_untracked(),
                    &chosen,
                    out,
                );
                Some(Event::MemberMovedOut {
                    nik: nik?,
                    date: date?,
                    destination: dest?,
                    new_head: pick(fam, &new_head.get_untracked()),
                })
            },
            None,
        );
    };
    // One cascade step: the children of the level above (provinces at the top).
    let step = move |i: usize| {
        let (label_id, label_en) = [
            ("Provinsi tujuan", "Destination province"),
            ("Kabupaten/kota tujuan", "Destination regency/city"),
            ("Kecamatan tujuan", "Destination district"),
            (
                "Desa/kelurahan tujuan (jika ada di daftar)",
                "Destination village (if listed)",
            ),
        ][i];
        let id = [
            "dest-province",
            "dest-regency",
            "dest-district",
            "dest-village",
        ][i];
        let value = levels[i];
        let options = move || {
            let parent = if i == 0 {
                None
            } else {
                Some(levels[i - 1].get())
            };
            let current = value.get();
            regions.table.with(|t| {
                let Some(t) = t.as_ref() else { return Vec::new() };
                let list: Vec<(String, String)> = match &parent {
                    None => t.codes(Level::Province).map(|(c, n)| (c.to_owned(), n.to_owned())).collect(),
                    Some(p) if p.is_empty() => Vec::new(),
                    Some(p) => t.children(p).map(|(c, n)| (c.to_owned(), n.to_owned())).collect(),
                };
                list.into_iter()
                    .map(|(code, name)| {
                        let selected = code == current;
                        view! { <option value=code.clone() selected=selected>{name}" ("{code.clone()}")"</option> }
                    })
                    .collect::<Vec<_>>()
            })
        };
        let hidden = move || i > 0 && levels[i - 1].with(String::is_empty);
        view! {
            <div class="field" style:display=move || if hidden() { "none" } else { "block" }>
                <label for=id>{move || tr(lang.get(), label_id, label_en)}</label>
                <select id=id
                    on:change=move |ev| {
                        value.set(event_target_value(&ev));
                        // A new choice clears the levels below it.
                        for l in &levels[i + 1..] { l.set(String::new()); }
                    }
                    aria-describedby=super::msg_id("event.destination")>
                    <option value="" selected=move || value.with(String::is_empty)>{tx("— pilih —", "— choose —")}</option>
                    {options}
                </select>
            </div>
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>{tx("Catat pindah keluar", "Record a move out")}</h3>
            <label for="move-member">{tx("Anggota yang pindah", "Member who moved")}</label>
            <MemberSelect form=form id="move-member" value=member empty=("— pilih —", "— choose —") field="event.nik"/>
            <Beside form=form field="event.nik"/>
            <EventDate form=form id="move-date" value=date label=("Tanggal pindah", "Date of the move")/>
            <label for="move-where">{tx("Pindah ke", "Moved to")}</label>
            <select id="move-where" bind:value=abroad>
                <option value="domestic">{tx("Dalam negeri (Indonesia)", "Within Indonesia")}</option>
                <option value="abroad">{tx("Luar negeri", "Abroad")}</option>
            </select>
            <div style:display=move || if abroad.get() == "abroad" { "none" } else { "block" }>
                {step(0)}{step(1)}{step(2)}{step(3)}
            </div>
            <div style:display=move || if abroad.get() == "abroad" { "block" } else { "none" }>
                <label for="move-country">{tx("Negara tujuan (jika diketahui)", "Destination country (if known)")}</label>
                <input id="move-country" type="text" bind:value=country/>
            </div>
            <Beside form=form field="event.destination"/>
            <label for="move-head">{tx("Kepala keluarga baru (jika kepala pindah)", "New head (if the head moved)")}</label>
            <MemberSelect form=form id="move-head" value=new_head empty=("— tidak ada —", "— none —") field="event.new_head"/>
            <Beside form=form field="event.new_head"/>
            <Footer form=form fields=FIELDS/>
        </form>
    }
}
