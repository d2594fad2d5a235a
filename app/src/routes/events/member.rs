//! A new member (404 = 5): moving in from elsewhere, or a newborn. The fields of a new
//! person are shared with the marriage form (a new spouse).

use leptos::prelude::*;
use tepat_core::Keluarga;
use tepat_core::event::{Event, EventKind};

use std::collections::BTreeMap;

use serde_json::Value;

use super::questions::Questions;
use super::{Beside, CodeSelect, EventDate, Footer, Form, MemberInput, new_member, req_date};
use crate::i18n::{tr, tx, use_lang};

/// The typed answers of a new person, one signal per input.
#[derive(Clone, Copy)]
pub struct MemberFields {
    pub nik: RwSignal<String>,
    pub name: RwSignal<String>,
    pub sex: RwSignal<String>,
    pub birth_date: RwSignal<String>,
    pub relationship: RwSignal<String>,
    /// The rulebook's other member questions, by model field.
    pub answers: RwSignal<BTreeMap<String, Value>>,
}

impl MemberFields {
    pub fn new() -> MemberFields {
        MemberFields {
            nik: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            sex: RwSignal::new(String::new()),
            birth_date: RwSignal::new(String::new()),
            relationship: RwSignal::new(String::new()),
            answers: RwSignal::new(BTreeMap::new()),
        }
    }

    /// The fields filled in with `a` (a person of a rejected change made again): the
    /// identity as typed, the other answers by model field.
    pub fn fill(&self, a: &tepat_core::Anggota) {
        self.nik.set(a.nik.clone());
        self.name.set(a.name.clone());
        self.sex.set(a.sex.code().to_string());
        self.birth_date.set(a.birth_date.to_string());
        self.relationship.set(a.relationship.to_string());
        let mut answers = BTreeMap::new();
        if let Ok(Value::Object(tree)) = serde_json::to_value(a) {
            flatten("", &tree, &mut answers);
        }
        for own in [
            "nik",
            "name",
            "sex",
            "birth_date",
            "relationship",
            "presence",
        ] {
            answers.remove(own);
        }
        self.answers.set(answers);
    }

    pub fn input(&self) -> MemberInput {
        MemberInput {
            nik: self.nik.get_untracked(),
            name: self.name.get_untracked(),
            sex: self.sex.get_untracked(),
            birth_date: self.birth_date.get_untracked(),
            relationship: self.relationship.get_untracked(),
            answers: self.answers.get_untracked(),
        }
    }
}

/// The integer answers of a JSON object by dotted field (`disability.seeing`).
fn flatten(prefix: &str, tree: &serde_json::Map<String, Value>, out: &mut BTreeMap<String, Value>) {
    for (k, v) in tree {
        let field = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten(&field, inner, out),
            Value::Number(n) if n.is_i64() => {
                out.insert(field, v.clone());
            }
            _ => {}
        }
    }
}

impl Default for MemberFields {
    fn default() -> Self {
        MemberFields::new()
    }
}

/// The inputs of a new person; findings at `prefix.<field>` appear beside them.
/// `ids` prefixes the HTML ids; `relationship` says whether the form asks it (a new
/// spouse's is set by the core); `skip` lists member fields the event sets itself.
#[component]
pub fn PersonFields(
    form: Form,
    m: MemberFields,
    prefix: &'static str,
    ids: &'static str,
    relationship: bool,
    skip: &'static [&'static str],
) -> impl IntoView {
    let p = |f: &str| format!("{prefix}.{f}");
    let i = |f: &str| format!("{ids}-{f}");
    view! {
        <label for=i("nik")>"NIK"</label>
        <input id=i("nik") type="text" inputmode="numeric" autocomplete="off" maxlength="16"
            bind:value=m.nik aria-describedby=super::msg_id(&p("nik"))/>
        <Beside form=form field=p("nik")/>
        <label for=i("name")>{tx("Nama lengkap", "Full name")}</label>
        <input id=i("name") type="text" autocomplete="off" bind:value=m.name aria-describedby=super::msg_id(&p("name"))/>
        <Beside form=form field=p("name")/>
        <label for=i("sex")>{tx("Jenis kelamin", "Sex")}</label>
        <select id=i("sex") bind:value=m.sex aria-describedby=super::msg_id(&p("sex"))>
            <option value="">{tx("— pilih —", "— choose —")}</option>
            <option value="1">{tx("1 Laki-laki", "1 Male")}</option>
            <option value="2">{tx("2 Perempuan", "2 Female")}</option>
        </select>
        <Beside form=form field=p("sex")/>
        <label for=i("birth")>{tx("Tanggal lahir", "Date of birth")}</label>
        <input id=i("birth") type="date" bind:value=m.birth_date aria-describedby=super::msg_id(&p("birth_date"))/>
        <Beside form=form field=p("birth_date")/>
        {relationship.then(|| view! {
            <label for=i("rel")>{tx("Hubungan dengan kepala keluarga", "Relationship to the head")}</label>
            <CodeSelect form=form id=i("rel") codes="relationship" value=m.relationship field=p("relationship")/>
            <Beside form=form field=p("relationship")/>
        })}
        <Questions form=form sex=m.sex birth=m.birth_date relationship=m.relationship
            answers=m.answers prefix=prefix ids=ids skip=skip/>
    }
}

/// Pindah masuk (`birth` = false) or kelahiran (`birth` = true).
#[component]
pub fn NewMember(keluarga: Keluarga, birth: bool) -> impl IntoView {
    let lang = use_lang();
    let index = keluarga.anggota.len();
    let form = Form::new(
        keluarga,
        if birth {
            EventKind::Birth
        } else {
            EventKind::MemberMovedIn
        },
    );
    let m = MemberFields::new();
    let date = RwSignal::new(String::new());
    let from_kk = RwSignal::new(String::new());
    // Made again from a rejected change: its answers.
    match form.again() {
        Some(Event::Birth { anggota }) => m.fill(&anggota),
        Some(Event::MemberMovedIn {
            anggota,
            date: d,
            from_kk: kk,
        }) => {
            m.fill(&anggota);
            date.set(d.to_string());
            from_kk.set(kk.unwrap_or_default());
        }
        _ => {}
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            |_, out| {
                let anggota = new_member(&m.input(), "event.anggota", true, out);
                if birth {
                    return Some(Event::Birth { anggota: anggota? });
                }
                let date = req_date(&date.get_untracked(), "event.date", out);
                let kk = from_kk.get_untracked().trim().to_owned();
                Some(Event::MemberMovedIn {
                    anggota: anggota?,
                    date: date?,
                    from_kk: (!kk.is_empty()).then_some(kk),
                })
            },
            Some((index, "event.anggota")),
        );
    };
    const BIRTH: &[&str] = &["event.anggota"];
    const MOVED_IN: &[&str] = &["event.anggota", "event.date", "event.from_kk"];
    view! {
        <form on:submit=submit novalidate>
            <h3>{move || if birth { tr(lang.get(), "Catat kelahiran", "Record a birth") } else { tr(lang.get(), "Catat anggota pindah masuk", "Record a member moving in") }}</h3>
            <PersonFields form=form m=m prefix="event.anggota" ids=if birth { "birth" } else { "movein" } relationship=true skip=&[]/>
            {(!birth).then(|| view! {
                <EventDate form=form id="movein-date" value=date label=("Tanggal pindah masuk", "Date of moving in")/>
                <label for="movein-kk">{tx("No. KK asal (jika diketahui)", "Previous No. KK (if known)")}</label>
                <input id="movein-kk" type="text" inputmode="numeric" maxlength="16" autocomplete="off" bind:value=from_kk aria-describedby=super::msg_id("event.from_kk")/>
                <Beside form=form field="event.from_kk"/>
            })}
            <Footer form=form fields=if birth { BIRTH } else { MOVED_IN }/>
        </form>
    }
}
