//! The findings at the top of the form: their counts, and each one linked to its field.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use tepat_core::Lang;
use wasm_bindgen::JsCast;

use super::ctx::Ctx;
use super::sections::block_of;
use crate::draft::{self, field_id};
use crate::i18n::{tr, use_lang};
use crate::routes::score::{PreviewResult, desil_of};

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
        focus_element(el);
    }
}

/// Scrolls `el` to the middle of the screen (clear of the bars) and focuses it.
fn focus_element(el: web_sys::Element) {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"block".into(), &"center".into());
    match js_sys::Reflect::get(&el, &"scrollIntoView".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        Some(f) => {
            let _ = f.call1(&el, &options);
        }
        None => el.scroll_into_view(),
    }
    if let Ok(h) = el.dyn_into::<web_sys::HtmlElement>() {
        let _ = h.focus();
    }
}

/// After the next paint, scrolls to the first error of the form and focuses its input:
/// the first error beside a shown field, in page order; else the first error of the
/// summary (a member's or the family's), else the errors at the end of the form.
pub(super) fn jump_to_first_error() {
    leptos::task::spawn_local(async {
        crate::after_paint().await;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(errors) = doc.query_selector_all("form .findings .finding.error") else {
            return;
        };
        for i in 0..errors.length() {
            let Some(item) = errors
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                continue;
            };
            // Hidden (a question the skip logic does not ask): not where to go.
            if item.offset_parent().is_none() {
                continue;
            }
            let list_id = item.parent_element().map(|l| l.id()).unwrap_or_default();
            let input = (!list_id.is_empty())
                .then(|| {
                    doc.query_selector(&format!("[aria-describedby~=\"{list_id}\"]"))
                        .ok()
                        .flatten()
                })
                .flatten();
            focus_element(input.unwrap_or_else(|| item.into()));
            return;
        }
        if let Ok(Some(link)) = doc.query_selector(".summary .finding.error a") {
            if let Some(href) = link.get_attribute("href") {
                focus(href.trim_start_matches('#'));
            }
            return;
        }
        focus("sec-submit");
    });
}

/// The bar at the bottom of the screen while answering: the desil preview, the
/// findings, the key questions checked, and each block with its findings.
#[component]
pub(super) fn StickyBar(
    ctx: Ctx,
    blocks: Vec<(String, tepat_core::Text)>,
    preview: Memo<PreviewResult>,
) -> impl IntoView {
    let lang = use_lang();
    let per_block = Memo::new(move |_| {
        ctx.findings.with(|all| {
            ctx.rb.with_value(|rb| {
                let mut counts: BTreeMap<String, usize> = BTreeMap::new();
                for f in all {
                    if let Some(b) = block_of(rb, &f.path) {
                        *counts.entry(b).or_default() += 1;
                    }
                }
                counts
            })
        })
    });
    let errors = move || {
        ctx.findings
            .with(|all| all.iter().filter(|f| f.is_error()).count())
    };
    let desil = move || {
        let l = lang.get();
        match preview.with(desil_of) {
            Some(d) => match l {
                Lang::Id => format!("Desil {d}"),
                Lang::En => format!("Desil {d}"),
            },
            None => tr(l, "Desil –", "Desil –").to_owned(),
        }
    };
    let progress = move || {
        let (done, all) = ctx.progress.get();
        match lang.get() {
            Lang::Id => format!("{done}/{all} kunci diperiksa"),
            Lang::En => format!("{done}/{all} key answers checked"),
        }
    };
    let links = blocks
        .into_iter()
        .map(|(id, label)| {
            let target = format!("sec-{id}");
            let href = format!("#{target}");
            let short = id.clone();
            let block = id.clone();
            let count = Memo::new(move |_| per_block.with(|c| c.get(&block).copied().unwrap_or(0)));
            let go = move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                focus(&target);
            };
            let any = move || count.get() > 0;
            view! {
                <a href=href data-block=id.clone() data-count=move || count.get().to_string()
                    class:has-findings=any
                    aria-label=move || format!("{} ({})", label.get(lang.get()), count.get())
                    on:click=go>
                    {short}<span class="count">{move || count.get()}</span>
                </a>
            }
        })
        .collect_view();
    view! {
        <div class="sticky-summary" data-field="sticky-summary">
            <p>
                <strong data-field="sticky-desil" data-desil=move || preview.with(desil_of).map(|d| d.to_string()).unwrap_or_default()>{desil}</strong>
                " · "
                <span data-field="sticky-errors">{move || match lang.get() {
                    Lang::Id => format!("{} kesalahan", errors()),
                    Lang::En => format!("{} errors", errors()),
                }}</span>
                " · "
                <span data-field="key-progress">{progress}</span>
            </p>
            <nav class="blocks" aria-label=move || tr(lang.get(), "Blok kuesioner", "Questionnaire blocks")>{links}</nav>
        </div>
    }
}
