//! One questionnaire variable: its label, input and findings.

use leptos::prelude::*;
use serde_json::Value;
use tepat_core::Lang;
use tepat_core::rulebook::{CodeLabel, VarType, Variable, flag_holds, flag_toggle};
use wasm_bindgen::JsCast;

use super::ctx::Ctx;
use super::evidence::Gps;
use crate::draft::{self, field_id};
use crate::i18n::{tr, use_lang};

/// The findings of one field, beside it.
#[component]
pub(super) fn FieldFindings(ctx: Ctx, key: String) -> impl IntoView {
    let lang = use_lang();
    let id = format!("{}-msg", field_id(&key));
    // This field's findings only: set by the form when they change.
    let mine = ctx.messages(&key);
    view! {
        <ul class="findings" id=id aria-live="polite">
            {move || mine.get().into_iter().map(|f| {
                let class = if f.is_error() { "finding error" } else { "finding warning" };
                view! { <li class=class data-rule=f.rule.clone()>{f.message.get(lang.get()).to_owned()}</li> }
            }).collect_view()}
        </ul>
    }
}

/// What an input of field `key` is bound to.
#[derive(Clone)]
struct Input {
    ctx: Ctx,
    key: String,
    /// The input's HTML id; its findings list is `{id}-msg`.
    id: String,
    ty: VarType,
    /// The field's answer (set by the form when it changes).
    value: RwSignal<Value>,
    /// The field has an error (for `aria-invalid`).
    error: RwSignal<bool>,
}

impl Input {
    fn msg(&self) -> String {
        format!("{}-msg", self.id)
    }
    fn invalid(&self) -> impl Fn() -> String + Copy + 'static {
        let error = self.error;
        move || error.get().to_string()
    }
}

/// One questionnaire variable: its input, shown when the skip logic asks it (or when it
/// holds an answer that must be cleared), with its findings.
#[component]
pub(super) fn FieldInput(ctx: Ctx, v: Variable, member: Option<usize>) -> impl IntoView {
    let lang = use_lang();
    let key = draft::key(member, &v.field);
    let id = field_id(&key);
    // The field's answer, visibility and error state: the closures below run when
    // these change, not on every change anywhere in the form.
    let state = ctx.field(&key, &v.id, member, v.key);
    let visible = state.visible;
    // Shown when the skip logic asks it and it is a key question (or the whole
    // questionnaire is open, or it holds an error or a change that must stay in sight).
    let always = v.key || v.field == "gps";
    let (full, error, changed) = (ctx.full, state.error, state.changed);
    let shown = move || visible.get() && (always || full.get() || error.get() || changed.get());
    let label_text = {
        let v = v.clone();
        move || draft::label(&v, lang.get())
    };
    let codes = ctx
        .rb
        .with_value(|rb| rb.codes_of(&v).map(<[_]>::to_vec))
        .unwrap_or_default();
    let ty = v.var_type;
    let input = Input {
        ctx,
        key: key.clone(),
        id: id.clone(),
        ty,
        value: state.value,
        error: state.error,
    };
    let control = match ty {
        _ if v.field == "gps" => view! { <Gps ctx=ctx id=id.clone()/> }.into_any(),
        VarType::Code => code_select(input, codes),
        VarType::Flags => flag_boxes(input, codes),
        VarType::Date => date_input(input),
        VarType::Integer | VarType::Text => {
            let numeric = ty == VarType::Integer
                || tepat_core::fields::DIGIT_FIELDS.contains(&v.field.as_str());
            text_input(input, numeric)
        }
    };
    let label = if ty == VarType::Flags || v.field == "gps" {
        view! { <p class="label" id=format!("{id}-label")>{label_text}</p> }.into_any()
    } else {
        view! { <label for=id.clone()>{label_text}</label> }.into_any()
    };
    let hint = v
        .relevant_text
        .clone()
        .map(|t| view! { <p class="hint">{move || t.get(lang.get()).to_owned()}</p> });
    let check = v.key.then(|| {
        view! { <RightOrCorrected ctx=ctx key=key.clone() id=id.clone() ty=ty changed=changed right=state.right/> }
    });
    view! {
        <div class="field" class:key=v.key data-var=v.id.clone() style:display=move || if shown() { "block" } else { "none" }>
            {label}
            {hint}
            {control}
            {check}
            <FieldFindings ctx=ctx key=key/>
        </div>
    }
}

/// A key question's answer: the recorded answer is found right ("sesuai"), or is
/// corrected in the input above.
#[component]
fn RightOrCorrected(
    ctx: Ctx,
    key: String,
    id: String,
    ty: VarType,
    changed: RwSignal<bool>,
    right: RwSignal<bool>,
) -> impl IntoView {
    let lang = use_lang();
    let input_id = id.clone();
    let toggle = move |_| {
        ctx.toggle_right(&key);
        // A typed input is not bound to the answer: show the recorded one again.
        if matches!(ty, VarType::Integer | VarType::Text | VarType::Date)
            && let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&input_id))
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            el.set_value(&ctx.base_text(&key));
        }
    };
    let state = move || match (changed.get(), right.get()) {
        (true, _) => ("corrected", tr(lang.get(), "Dikoreksi", "Corrected")),
        (false, true) => ("right", tr(lang.get(), "Sesuai", "Right")),
        (false, false) => ("open", tr(lang.get(), "Belum diperiksa", "Not checked yet")),
    };
    view! {
        <div class="check-row">
            <button type="button" class="secondary sesuai" id=format!("{id}-ok")
                aria-pressed=move || right.get().to_string()
                aria-describedby=format!("{id}-state") on:click=toggle>
                {move || tr(lang.get(), "Sesuai", "Right")}
            </button>
            <span class="check-state" id=format!("{id}-state") data-state=move || state().0>{move || state().1}</span>
        </div>
    }
}

/// A code question: one choice of the list, or none.
fn code_select(input: Input, codes: Vec<CodeLabel>) -> AnyView {
    let lang = use_lang();
    let value = input.value;
    let current = move || value.with(Value::as_i64);
    let options = codes
        .into_iter()
        .map(|c| {
            view! {
                <option value=c.code.to_string() prop:selected=move || current() == Some(c.code)>
                    {move || format!("{} — {}", c.code, if lang.get() == Lang::Id { &c.id } else { &c.en })}
                </option>
            }
        })
        .collect_view();
    let none_selected = move || value.with(Value::is_null);
    let (ctx, key, ty) = (input.ctx, input.key.clone(), input.ty);
    view! {
        <select id=input.id.clone() aria-invalid=input.invalid() aria-describedby=input.msg()
            on:change=move |ev| ctx.set_text(&key, ty, &event_target_value(&ev))>
            <option value="" prop:selected=none_selected>{move || tr(lang.get(), "— belum diisi —", "— not answered —")}</option>
            {options}
        </select>
    }
    .into_any()
}

/// A flags question: one checkbox per code; tepat-core adds the ticked codes up.
fn flag_boxes(input: Input, codes: Vec<CodeLabel>) -> AnyView {
    let lang = use_lang();
    let (ctx, value, id) = (input.ctx, input.value, input.id.clone());
    let boxes = codes
        .into_iter()
        .map(|c| {
            let key = input.key.clone();
            let box_id = format!("{id}-{}", c.code);
            let for_id = box_id.clone();
            view! {
                <label class="check" for=for_id>
                    <input type="checkbox" id=box_id
                        prop:checked=move || flag_holds(value.with(Value::as_i64), c.code)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let next = flag_toggle(value.with_untracked(Value::as_i64), c.code, on);
                            ctx.set(&key, next.map_or(Value::Null, Value::from));
                        }/>
                    {move || if lang.get() == Lang::Id { c.id.clone() } else { c.en.clone() }}
                </label>
            }
        })
        .collect_view();
    view! { <div id=id.clone() role="group" aria-labelledby=format!("{id}-label") aria-describedby=input.msg() tabindex="-1">{boxes}</div> }
        .into_any()
}

/// A date question (the browser's date picker).
fn date_input(input: Input) -> AnyView {
    let start = input.ctx.initial_text(&input.key);
    let (ctx, key, ty) = (input.ctx, input.key.clone(), input.ty);
    view! {
        <input id=input.id.clone() type="date" aria-invalid=input.invalid() aria-describedby=input.msg()
            prop:value=start
            on:input=move |ev| ctx.set_text(&key, ty, &event_target_value(&ev))/>
    }
    .into_any()
}

/// A number or text question, typed; `numeric` asks for the number pad.
fn text_input(input: Input, numeric: bool) -> AnyView {
    let start = input.ctx.initial_text(&input.key);
    let (ctx, key, ty) = (input.ctx, input.key.clone(), input.ty);
    view! {
        <input id=input.id.clone() type="text" autocomplete="off"
            inputmode={if numeric { "numeric" } else { "text" }}
            aria-invalid=input.invalid() aria-describedby=input.msg()
            prop:value=start
            on:input=move |ev| ctx.set_text(&key, ty, &event_target_value(&ev))/>
    }
    .into_any()
}
