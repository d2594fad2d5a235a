//! The rulebook's member questions for a new person (moving in, newborn, new spouse):
//! which are asked is decided by tepat-core ([`new_member_questions`]): the member
//! variables the rulebook's skip logic asks of that person (age, sex and earlier
//! answers), without the identity and presence fields the event forms ask themselves.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::Value;
use tepat_core::event::new_member_questions;
use tepat_core::rulebook::{VarType, Variable, flag_holds, flag_toggle};
use tepat_core::{Anggota, Date, Lang};

use super::{Beside, Form, beside, elsewhere, msg_id, with_answers};
use crate::draft::label;
use crate::i18n::{tx, use_lang};
use crate::today::today;

/// The person as typed so far, when sex and birth date are there (relevance needs them).
fn provisional(
    sex: &str,
    birth: &str,
    relationship: &str,
    answers: &BTreeMap<String, Value>,
) -> Option<Anggota> {
    let sex = sex
        .trim()
        .parse::<u8>()
        .ok()
        .and_then(tepat_core::Sex::from_code)?;
    let birth = Date::parse(birth.trim()).ok()?;
    let rel = relationship.trim().parse::<u8>().unwrap_or(0);
    Some(with_answers(Anggota::new("", "", sex, birth, rel), answers))
}

/// The questions for a new person, below its identity fields.
#[component]
pub fn Questions(
    form: Form,
    sex: RwSignal<String>,
    birth: RwSignal<String>,
    relationship: RwSignal<String>,
    answers: RwSignal<BTreeMap<String, Value>>,
    prefix: &'static str,
    ids: &'static str,
    skip: &'static [&'static str],
) -> impl IntoView {
    let lang = use_lang();
    let list = Memo::new(move |_| {
        let person =
            answers.with(|a| provisional(&sex.get(), &birth.get(), &relationship.get(), a))?;
        let now = today()?;
        let fam = form.fam.get_value();
        form.rulebook().with(|rb| {
            rb.as_deref()
                .map(|rb| new_member_questions(rb, &fam, &person, skip, now))
        })
    });
    let fields = move || {
        list.get()
            .unwrap_or_default()
            .into_iter()
            .map(|v| format!("{prefix}.{}", v.field))
            .collect::<Vec<_>>()
    };
    // Findings about this person that no input shows (a question no longer asked, a
    // field the form does not have).
    let stray = move || {
        let l = lang.get();
        let mut known = fields();
        for f in ["nik", "name", "sex", "birth_date", "relationship"] {
            known.push(format!("{prefix}.{f}"));
        }
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        form.findings
            .with(|all| elsewhere(&beside(all, &[prefix]), &known))
            .into_iter()
            .map(|f| {
                let class = if f.is_error() { "finding error" } else { "finding warning" };
                view! { <li class=class data-rule=f.rule.clone() data-path=f.path.clone()>{f.message.get(l).to_owned()}</li> }
            })
            .collect_view()
    };
    view! {
        {move || list.with(Option::is_none).then(|| view! {
            <p class="notice">{tx("Isi jenis kelamin dan tanggal lahir; pertanyaan lain menyusul sesuai umur.", "Enter sex and birth date; the other questions follow by age.")}</p>
        })}
        <For each=move || list.get().unwrap_or_default() key=|v| v.id.clone() let:v>
            <Question form=form v=v answers=answers prefix=prefix ids=ids/>
        </For>
        <ul class="findings" aria-live="polite">{stray}</ul>
    }
}

#[component]
fn Question(
    form: Form,
    v: Variable,
    answers: RwSignal<BTreeMap<String, Value>>,
    prefix: &'static str,
    ids: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    let path = format!("{prefix}.{}", v.field);
    let id = format!("{ids}-q-{}", v.id);
    let field = v.field.clone();
    let current = {
        let field = field.clone();
        move || answers.with(|a| a.get(&field).and_then(Value::as_i64))
    };
    let set = {
        let field = field.clone();
        move |value: Option<i64>| {
            answers.update(|a| match value {
                Some(n) => {
                    a.insert(field.clone(), Value::from(n));
                }
                None => {
                    a.remove(&field);
                }
            })
        }
    };
    let codes: Vec<(i64, String, String)> = form.rulebook().with_untracked(|rb| {
        rb.as_deref()
            .and_then(|rb| rb.codes_of(&v))
            .map(|c| {
                c.iter()
                    .map(|c| (c.code, c.id.clone(), c.en.clone()))
                    .collect()
            })
            .unwrap_or_default()
    });
    let code_text = move |l: Lang, (code, id, en): &(i64, String, String)| {
        format!("{code} {}", if l == Lang::Id { id } else { en })
    };
    let v2 = v.clone();
    let title = move || label(&v2, lang.get());
    let input = match v.var_type {
        VarType::Flags => {
            let boxes = codes
                .iter()
                .map(|c| {
                    let code = c.0;
                    let c = c.clone();
                    let current = current.clone();
                    let set = set.clone();
                    let cur2 = current.clone();
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || flag_holds(current(), code)
                                on:change=move |ev| set(flag_toggle(cur2(), code, event_target_checked(&ev)))/>
                            {move || code_text(lang.get(), &c)}
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset id=id.clone() aria-describedby=msg_id(&path)>
                    <legend>{title}</legend>
                    {boxes}
                </fieldset>
            }
            .into_any()
        }
        VarType::Integer => {
            let current = current.clone();
            let set = set.clone();
            view! {
                <label for=id.clone()>{title}</label>
                <input id=id.clone() type="number" inputmode="numeric"
                    prop:value=move || current().map(|n| n.to_string()).unwrap_or_default()
                    on:change=move |ev| set(event_target_value(&ev).trim().parse::<i64>().ok())
                    aria-describedby=msg_id(&path)/>
            }
            .into_any()
        }
        _ => {
            let current = current.clone();
            let set = set.clone();
            let options = codes
                .iter()
                .map(|c| {
                    let code = c.0;
                    let c = c.clone();
                    let current = current.clone();
                    view! { <option value=code.to_string() selected=move || current() == Some(code)>{move || code_text(lang.get(), &c)}</option> }
                })
                .collect_view();
            view! {
                <label for=id.clone()>{title}</label>
                <select id=id.clone() on:change=move |ev| set(event_target_value(&ev).trim().parse::<i64>().ok())
                    aria-describedby=msg_id(&path)>
                    <option value="">{tx("— pilih —", "— choose —")}</option>
                    {options}
                </select>
            }
            .into_any()
        }
    };
    view! {
        <div class="field" data-var=v.id.clone()>
            {input}
            <Beside form=form field=path.clone()/>
        </div>
    }
}
