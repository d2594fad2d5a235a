//! The questionnaire's sections: the family's questions, and the members' questions
//! once per active member.

use std::collections::BTreeSet;

use leptos::prelude::*;
use tepat_core::event::correctable;
use tepat_core::fields::Scope;
use tepat_core::rulebook::{Rulebook, Variable};
use tepat_core::{Keluarga, Text};

use super::ctx::Ctx;
use super::fields::{FieldFindings, FieldInput};
use crate::draft::{self, field_id};
use crate::i18n::use_lang;

/// One section of the form, as plain data.
pub(super) struct Section {
    id: String,
    label: Text,
    /// The correctable variables of the section.
    vars: Vec<Variable>,
    /// `None` for a family section; the active members (index, name, NIK) for a
    /// member section.
    members: Option<Vec<(usize, String, String)>>,
}

/// The rulebook's sections for `base`: a section holding a member variable asks its
/// questions of every active member.
pub(super) fn layout(rb: &Rulebook, base: &Keluarga) -> Vec<Section> {
    rb.source()
        .sections
        .iter()
        .map(|s| {
            let vars: Vec<&Variable> = rb
                .variables()
                .iter()
                .filter(|v| v.section == s.id)
                .collect();
            let member_section = vars.iter().any(|v| {
                tepat_core::fields::field(&v.field).is_some_and(|f| f.scope() == Scope::Anggota)
            });
            let members = member_section.then(|| {
                base.anggota
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.is_active())
                    .map(|(i, a)| (i, a.name.clone(), a.nik.clone()))
                    .collect()
            });
            Section {
                id: s.id.clone(),
                label: s.label.clone(),
                vars: vars
                    .into_iter()
                    .filter(|v| correctable(&v.field, member_section))
                    .cloned()
                    .collect(),
                members,
            }
        })
        .collect()
}

/// The blocks of the form (section id and label), in order, for the block navigation.
pub(super) fn blocks(sections: &[Section]) -> Vec<(String, Text)> {
    sections
        .iter()
        .map(|s| (s.id.clone(), s.label.clone()))
        .collect()
}

/// The block (section id) a finding's path belongs to: a member's answers are in the
/// members' block, a family field in its variable's block (`housing.floor` → `III`),
/// anything else about the family in block I. `None` for the note and the event.
pub(super) fn block_of(rb: &Rulebook, path: &str) -> Option<String> {
    if path == "reason" || path.starts_with("event") {
        return None;
    }
    let (member, field) = draft::split_key(path);
    let head = field.split(['.', '[']).next().unwrap_or(field);
    let vars = rb.variables();
    let exact = vars.iter().find(|v| v.field == field);
    let by_head = || {
        vars.iter()
            .find(|v| v.field.split('.').next() == Some(head) && v.field.contains('.'))
    };
    if member.is_some() || head == "anggota" {
        // Member answers: the section of the member variables.
        let member_var = vars.iter().find(|v| {
            tepat_core::fields::field(&v.field).is_some_and(|f| f.scope() == Scope::Anggota)
        });
        return member_var.map(|v| v.section.clone());
    }
    exact
        .or_else(by_head)
        .map(|v| v.section.clone())
        .or_else(|| rb.source().sections.first().map(|s| s.id.clone()))
}

/// The field paths the sections render, for the summary's links.
pub(super) fn rendered(sections: &[Section]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in sections {
        match &s.members {
            None => out.extend(s.vars.iter().map(|v| draft::key(None, &v.field))),
            Some(members) => {
                for (i, ..) in members {
                    out.extend(s.vars.iter().map(|v| draft::key(Some(*i), &v.field)));
                }
            }
        }
    }
    out
}

/// Every section of the form.
pub(super) fn sections_view(ctx: Ctx, sections: Vec<Section>) -> impl IntoView {
    let lang = use_lang();
    sections
        .into_iter()
        .map(|s| {
            let body = match s.members {
                None => s
                    .vars
                    .iter()
                    .map(|v| view! { <FieldInput ctx=ctx v=v.clone() member=None/> })
                    .collect_view()
                    .into_any(),
                Some(members) => members
                    .into_iter()
                    .map(|(index, name, nik)| {
                        view! { <Member ctx=ctx index=index name=name nik=nik vars=s.vars.clone()/> }
                    })
                    .collect_view()
                    .into_any(),
            };
            let label = s.label;
            view! {
                <section class="card section" id=format!("sec-{}", s.id) tabindex="-1">
                    <h2>{move || label.get(lang.get()).to_owned()}</h2>
                    {body}
                </section>
            }
        })
        .collect_view()
}

/// One member's block of a member section: the NIK (read-only) and the questions.
#[component]
fn Member(ctx: Ctx, index: usize, name: String, nik: String, vars: Vec<Variable>) -> impl IntoView {
    let nik_id = format!("nik-{index}");
    let nik_key = draft::key(Some(index), "nik");
    let fields = vars
        .into_iter()
        .map(|v| view! { <FieldInput ctx=ctx v=v member=Some(index)/> })
        .collect_view();
    view! {
        <fieldset class="member" id=format!("member-{index}") tabindex="-1">
            <legend>{name}</legend>
            <label for=nik_id.clone()>"NIK"</label>
            <input id=nik_id type="text" inputmode="numeric" readonly value=nik
                aria-describedby=format!("{}-msg", field_id(&nik_key))/>
            <FieldFindings ctx=ctx key=nik_key/>
            {fields}
        </fieldset>
    }
}
