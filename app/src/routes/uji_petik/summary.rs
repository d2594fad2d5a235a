//! The findings at the top of the form: their counts, and each one linked to its field.

use std::collections::BTreeSet;

use leptos::prelude::*;
use tepat_core::Lang;
use wasm_bindgen::JsCast;

use super::ctx::Ctx;
use crate::draft::{self, field_id};
use crate::i18n::use_lang;

/// Every finding on the corrected family, each a link to where it points.
#[component]
pub(super) fn Summary(ctx: Ctx, rendered: StoredValue<BTreeSet<String>>) -> impl IntoView {
    let lang = use_lang();
    move || {
        let l = lang.get();
        let all = ctx.findings.get();
        let (errors, warns) =
            all.iter().fold(
                (0, 0),
                |(e, w), f| if f.is_error() { (e + 1, w) } else { (e, w + 1) },
            );
        let items = all
            .into_iter()
            .map(|f| {
                let text = f.message.get(l).to_owned();
                let class = if f.is_error() { "finding error" } else { "finding warning" };
                let link = rendered.with_value(|r| target(&f.path, r));
                let item = match link {
                    Some(id) => {
                        let href = format!("#{id}");
                        view! { <a href=href on:click=move |ev: leptos::ev::MouseEvent| { ev.prevent_default(); focus(&id); }>{text}</a> }.into_any()
                    }
                    None => view! { <span>{text}</span> }.into_any(),
                };
                view! { <li class=class data-rule=f.rule.clone() data-path=f.path.clone()>{item}</li> }
            })
            .collect_view();
        let counts = match l {
            Lang::Id => format!("{errors} kesalahan, {warns} peringatan"),
            Lang::En => format!("{errors} errors, {warns} warnings"),
        };
        view! {
            <p data-field="finding-count">{counts}</p>
            <ul class="findings summary">{items}</ul>
        }
    }
}

/// Where a finding's summary link points: its field, else the member's block, else
/// the section holding the field.
fn target(path: &str, rendered: &BTreeSet<String>) -> Option<String> {
    if rendered.contains(path) {
        return Some(field_id(path));
    }
    match draft::split_key(path) {
        (Some(i), "nik") => Some(format!("nik-{i}")),
        (Some(i), _) => Some(format!("member-{i}")),
        (None, "reason") => Some("f-reason".into()),
        (None, p) if p.starts_with("anggota") || p == "member_count" => Some("sec-IV".into()),
        (None, p) if p.starts_with("gps") => Some(field_id("gps")),
        _ => None,
    }
}

/// Scrolls to the element `id` and focuses it.
fn focus(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        el.scroll_into_view();
        if let Ok(h) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = h.focus();
        }
    }
}
