//! Uji Petik: the ground check of one family. The rulebook's variables in their
//! sections, skip logic and live validation from tepat-core, a GPS fix and a house
//! photo, a draft saved (sealed) on every change, and a variable-correction change
//! request into the outbox on submit.

use std::collections::BTreeSet;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde_json::Value;
use tepat_core::event::{
    ChangeRequest, ConfirmedWarning, Event, EventContext, Evidence, EvidenceKind, apply,
    correctable, seal,
};
use tepat_core::fields::Scope;
use tepat_core::rulebook::{Rulebook, VarType, Variable, flag_holds, flag_toggle};
use tepat_core::{Finding, Keluarga, Lang, Severity, ValidationContext};
use wasm_bindgen::JsCast;

use crate::device;
use crate::draft::{self, Draft, field_id, read, show};
use crate::draft_store;
use crate::i18n::{tr, use_lang};
use crate::outbox::{self, use_outbox};
use crate::regions::use_regions;
use crate::routes::score::ScorePreview;
use crate::rulebooks::{self, OpenError};
use crate::session::{AuthState, Unlocked, use_auth};
use crate::sync::{self, use_data};
use crate::today::today;
use crate::worklist::WorkState;

/// The visit note sent when the facilitator confirms a record without writing one.
const CONFIRM_REASON: &str = "Uji petik: semua data sesuai";

#[component]
pub fn UjiPetikPage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.get() {
        AuthState::Unlocked(u) => view! { <UjiPetik unlocked=u/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

/// Loads the family, the rulebook and the stored draft, then shows the form.
#[component]
fn UjiPetik(unlocked: Unlocked) -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let params = use_params_map();
    let kk = move || params.with(|p| p.get("kk").unwrap_or_default());
    let family = Memo::new(move |_| {
        data.worklist.with(|w| {
            w.as_ref()
                .and_then(|w| w.find(&kk()))
                .map(|h| h.keluarga.clone())
        })
    });
    // The draft lives here, so a rebuilt form (new rulebook, language) keeps it.
    let draft = RwSignal::new(Draft::default());
    let loaded = RwSignal::new(false);
    let key = unlocked.key.clone();
    Effect::new(move |_| {
        let no_kk = kk();
        let key = key.clone();
        spawn_local(async move {
            let d = draft_store::get(&key, &no_kk).await.ok().flatten();
            draft.set(d.unwrap_or_default());
            loaded.set(true);
        });
    });
    // A draft made with an older rulebook opens with that one: from the device, else
    // fetched from the server once (and kept while the draft needs it). `want` is the
    // version the draft opens with; it changes only when another draft is loaded or the
    // current rulebook changes, not on every answer (so the form is not rebuilt).
    let want = Memo::new(move |_| {
        let current = data
            .rulebook
            .with(|rb| rb.as_ref().map(|rb| rb.version().to_owned()));
        draft.with(|d| d.rulebook_version.clone()).or(current)
    });
    let older = RwSignal::new_local(None::<(String, Result<Rc<Rulebook>, OpenError>)>);
    let retry = RwSignal::new(0u32);
    let token = unlocked.session.token.clone();
    Effect::new(move |_| {
        retry.track();
        let current = data
            .rulebook
            .with(|rb| rb.as_ref().map(|rb| rb.version().to_owned()));
        let (Some(current), Some(version)) = (current, want.get()) else {
            return;
        };
        let have =
            older.with_untracked(|o| o.as_ref().is_some_and(|(v, r)| *v == version && r.is_ok()));
        if version == current || have {
            return;
        }
        let token = token.clone();
        spawn_local(async move {
            let opened = rulebooks::open(&token, &version).await;
            older.set(Some((version, opened)));
        });
    });
    let unlocked = StoredValue::new_local(unlocked);
    let back = move || {
        view! { <p><a href="/tugas">{move || tr(lang.get(), "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p> }
    };
    move || {
        let Some(base) = family.get() else {
            if data.worklist.with(Option::is_none) {
                // Unlocked a moment ago: the families are still being opened.
                return view! { <p class="notice" role="status">{move || tr(lang.get(), "Membuka data…", "Opening data…")}</p> }
                    .into_any();
            }
            return view! {
                <section class="card"><p class="notice" role="status">{move || tr(lang.get(),
                    "Keluarga ini tidak ada di daftar tugas perangkat ini.",
                    "This family is not in this device's worklist.")}</p>{back()}</section>
            }
            .into_any();
        };
        let Some(current) = data.rulebook.get() else {
            return view! {
                <section class="card"><p class="notice" role="status">{move || tr(lang.get(),
                    "Aturan isian belum ada di perangkat. Perbarui daftar tugas saat ada sinyal.",
                    "The rulebook is not on the device yet. Refresh the worklist when online.")}</p>{back()}</section>
            }
            .into_any();
        };
        if !loaded.get() {
            return view! { <p class="notice" role="status">{move || tr(lang.get(), "Membuka draf…", "Opening the draft…")}</p> }
                .into_any();
        }
        if draft.with_untracked(|d| d.no_kk != base.no_kk) {
            let fresh = Draft::new(&base, current.version());
            draft.update_untracked(|d| *d = fresh);
        } else if draft.with_untracked(|d| d.rulebook_version.is_none()) {
            // Stored before drafts carried their version: it is the current one's.
            draft.update_untracked(|d| d.rulebook_version = Some(current.version().to_owned()));
        }
        let version = want.get().unwrap_or_else(|| current.version().to_owned());
        let rb = if version == current.version() {
            current
        } else {
            match older.get() {
                Some((v, Ok(rb))) if v == version => rb,
                Some((v, Err(e))) if v == version => {
                    return view! {
                        <section class="card">
                            <p class="notice warn" role="alert" data-field="rulebook-missing">{move || e.message(lang.get(), &v)}</p>
                            <p><button type="button" on:click=move |_| retry.update(|n| *n += 1)>
                                {move || tr(lang.get(), "Coba lagi", "Try again")}
                            </button></p>
                            {back()}
                        </section>
                    }
                    .into_any();
                }
                _ => {
                    return view! { <p class="notice" role="status">{move || match lang.get() {
                        Lang::Id => format!("Membuka aturan isian versi {version}…"),
                        Lang::En => format!("Opening rulebook version {version}…"),
                    }}</p> }
                    .into_any();
                }
            }
        };
        view! { <Form base=base rb=rb draft=draft unlocked=unlocked.get_value()/> }.into_any()
    }
}

/// Everything a field needs, shared by the whole form.
#[derive(Clone, Copy)]
struct Ctx {
    draft: RwSignal<Draft>,
    base_json: StoredValue<Value>,
    family: Memo<Keluarga>,
    family_json: Memo<Value>,
    findings: Memo<Vec<Finding>>,
    rb: StoredValue<Rc<Rulebook>, LocalStorage>,
    /// Every field's own signals, set by the form's two updaters (see [`Form`]).
    fields: StoredValue<Vec<FieldState>>,
    /// Every message list beside a field, by field key.
    messages: StoredValue<Vec<(String, RwSignal<Vec<Finding>>)>>,
}

/// One field's answer, visibility and error state. The form sets them when they
/// change, so a change re-runs the views of the fields it touches only (not ~500
/// memos on the same sources, whose subscriber bookkeeping alone was quadratic).
#[derive(Clone)]
struct FieldState {
    key: String,
    var_id: String,
    member: Option<usize>,
    value: RwSignal<Value>,
    visible: RwSignal<bool>,
    error: RwSignal<bool>,
}

impl Ctx {
    fn value(&self, key: &str) -> Value {
        self.family_json.with_untracked(|j| read(j, key))
    }
    /// Whether the skip logic asks field `key` (or it holds an answer to clear).
    fn visible(&self, f: &FieldState, family: &Keluarga, value: &Value) -> bool {
        let relevant = today().and_then(|now| {
            self.rb
                .with_value(|rb| rb.is_relevant(&f.var_id, family, f.member, now))
        });
        relevant != Some(false)
            || !value.is_null()
            || self
                .draft
                .with_untracked(|d| d.invalid.contains_key(&f.key))
    }
    fn has_error(findings: &[Finding], key: &str) -> bool {
        findings.iter().any(|f| f.path == key && f.is_error())
    }
    /// Registers a field's signals, set to their current state.
    fn field(&self, key: &str, var_id: &str, member: Option<usize>) -> FieldState {
        let value = self.value(key);
        let mut f = FieldState {
            key: key.to_owned(),
            var_id: var_id.to_owned(),
            member,
            value: RwSignal::new(Value::Null),
            visible: RwSignal::new(true),
            error: RwSignal::new(self.findings.with_untracked(|all| Ctx::has_error(all, key))),
        };
        let visible = self.family.with_untracked(|k| self.visible(&f, k, &value));
        f.visible = RwSignal::new(visible);
        f.value = RwSignal::new(value);
        self.fields.update_value(|all| all.push(f.clone()));
        f
    }
    /// Registers a message list beside field `key`, set to its current findings.
    fn messages(&self, key: &str) -> RwSignal<Vec<Finding>> {
        let mine = self
            .findings
            .with_untracked(|all| draft::of_path(all, key).into_iter().cloned().collect());
        let signal = RwSignal::new(mine);
        self.messages
            .update_value(|all| all.push((key.to_owned(), signal)));
        signal
    }
    /// After a change, right away: each field's findings, error state and answer
    /// (the message beside the field is the budget: issue 7, ≤ 16 ms).
    fn update_now(&self) {
        self.findings.with(|all| {
            self.messages.with_value(|list| {
                for (key, signal) in list {
                    let mine = draft::of_path(all, key);
                    let same = signal.with_untracked(|old| {
                        old.len() == mine.len() && old.iter().zip(&mine).all(|(a, b)| a == *b)
                    });
                    if !same {
                        signal.set(mine.into_iter().cloned().collect());
                    }
                }
            });
            self.fields.with_value(|list| {
                for f in list {
                    let error = Ctx::has_error(all, &f.key);
                    if f.error.get_untracked() != error {
                        f.error.set(error);
                    }
                }
            });
        });
        self.family_json.with(|j| {
            self.fields.with_value(|list| {
                for f in list {
                    let value = read(j, &f.key);
                    if f.value.with_untracked(|old| *old != value) {
                        f.value.set(value);
                    }
                }
            });
        });
    }
    /// After the next paint: each field's visibility (skip logic over every variable).
    fn update_late(&self) {
        self.family.with_untracked(|k| {
            self.fields.with_value(|list| {
                for f in list {
                    let visible = f.value.with_untracked(|v| self.visible(f, k, v));
                    if f.visible.get_untracked() != visible {
                        f.visible.set(visible);
                    }
                }
            });
        });
    }
    /// The text a typed input starts with. Typed inputs are written only by the user,
    /// so they are not bound to the (trimmed, parsed) value while typing.
    fn initial_text(&self, key: &str) -> String {
        self.draft
            .with_untracked(|d| d.invalid.get(key).cloned())
            .unwrap_or_else(|| show(&self.family_json.with_untracked(|j| read(j, key))))
    }
    fn set_text(&self, key: &str, ty: VarType, text: &str) {
        self.base_json
            .with_value(|b| self.draft.update(|d| d.set_text(b, key, ty, text)));
    }
    fn set(&self, key: &str, value: Value) {
        self.base_json
            .with_value(|b| self.draft.update(|d| d.set(b, key, value)));
    }
}

fn now_rfc3339() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

fn new_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default()
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

#[component]
fn Form(
    base: Keluarga,
    rb: Rc<Rulebook>,
    draft: RwSignal<Draft>,
    unlocked: Unlocked,
) -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let regions = use_regions();
    let outbox = use_outbox();
    let no_kk = base.no_kk.clone();
    let rb_version = rb.version().to_owned();
    let older_version = {
        let v = rb_version.clone();
        move || {
            data.rulebook
                .with(|c| c.as_ref().is_some_and(|c| c.version() != v))
        }
    };
    let base_json = StoredValue::new(tepat_core::to_tree(&base).unwrap_or(Value::Null));
    let base = StoredValue::new(base);
    let rb = StoredValue::new_local(rb);
    let family = Memo::new(move |_| {
        draft.with(|d| base.with_value(|b| d.family(b).unwrap_or_else(|_| b.clone())))
    });
    let family_json =
        Memo::new(move |_| family.with(|k| tepat_core::to_tree(k).unwrap_or_default()));
    let findings = Memo::new(move |_| {
        let Some(now) = today() else {
            return Vec::new();
        };
        regions.table.with(|table| {
            let Some(table) = table.as_ref() else {
                return Vec::new();
            };
            rb.with_value(|rb| {
                let ctx = ValidationContext {
                    rulebook: rb,
                    regions: table,
                    today: now,
                };
                draft.with(|d| base.with_value(|b| d.findings(b, &ctx)))
            })
        })
    });
    let ctx = Ctx {
        draft,
        base_json,
        family,
        family_json,
        findings,
        rb,
        fields: StoredValue::new(Vec::new()),
        messages: StoredValue::new(Vec::new()),
    };
    let unlocked = StoredValue::new_local(unlocked);

    // A change updates the fields in two steps: at once what the facilitator looks at
    // (the messages beside the fields and in the summary, error states, answers), and
    // after the next paint what can follow a frame later (visibility of the other
    // questions, the score preview).
    Effect::new(move |_| ctx.update_now());
    let family_late = RwSignal::new(family.get_untracked());
    let late = StoredValue::new(0u64);
    Effect::new(move |first: Option<()>| {
        family.track();
        draft.track();
        if first.is_none() {
            return;
        }
        late.update_value(|g| *g += 1);
        let mine = late.get_value();
        spawn_local(async move {
            crate::after_paint().await;
            // Newer change meanwhile (it runs this again), or the form is gone.
            if late.try_get_value() != Some(mine) {
                return;
            }
            ctx.update_late();
            if let Some(k) = family.try_get_untracked() {
                family_late.try_set(k);
            }
        });
    });

    // Autosave: every change is sealed and stored. Saves run one at a time, the newest
    // draft last (each is a read-modify-write of the one record of all drafts).
    let submitted = RwSignal::new(false);
    // The same fact outside the reactive graph: a save that ends after the form is gone
    // must still see that the draft was submitted.
    let sent = Rc::new(std::cell::Cell::new(false));
    let sent_by_submit = sent.clone();
    let saved = RwSignal::new(None::<String>);
    let save_error = RwSignal::new(false);
    // Every change of the draft is a generation; `saved_gen` is the newest one stored.
    // While they differ the status says the draft is being saved, not that it is saved.
    let generation = RwSignal::new(0u64);
    let saved_gen = RwSignal::new(0u64);
    // (a save is running, the draft to save next with its generation)
    let queue = Rc::new(std::cell::RefCell::new((false, None::<(u64, Draft)>)));
    Effect::new(move |first: Option<()>| {
        let d = draft.get();
        if first.is_none() {
            return;
        }
        generation.update(|g| *g += 1);
        let mine = generation.get_untracked();
        let u = unlocked.get_value();
        let queue = queue.clone();
        let sent = sent.clone();
        spawn_local(async move {
            // Sealing and storing (~25 ms of main thread under a 4x throttle) come after
            // the change is painted; a newer change meanwhile saves instead of this one
            // (the form may be gone: this one is still saved).
            crate::after_paint().await;
            if generation.try_get_untracked().is_some_and(|g| g != mine) {
                return;
            }
            {
                let mut q = queue.borrow_mut();
                q.1 = Some((mine, d));
                if q.0 {
                    // The running save stores it when done.
                    return;
                }
                q.0 = true;
            }
            loop {
                let next = queue.borrow_mut().1.take();
                let Some((gen_of_d, mut d)) = next else {
                    queue.borrow_mut().0 = false;
                    break;
                };
                d.updated = now_rfc3339();
                match draft_store::save(&u.key, &d).await {
                    // Submitted meanwhile: the draft must not come back.
                    Ok(()) if sent.get() => {
                        let _ = draft_store::remove(&u.key, &d.no_kk).await;
                    }
                    Ok(()) => {
                        save_error.try_set(false);
                        saved.try_set(Some(d.updated.clone()));
                        saved_gen.try_set(gen_of_d);
                        let state = data.worklist.with_untracked(|w| {
                            w.as_ref().and_then(|w| w.find(&d.no_kk)).map(|h| h.state)
                        });
                        if matches!(state, Some(WorkState::NotVisited | WorkState::Synced)) {
                            sync::set_state(data, &u, &d.no_kk, WorkState::Draft).await;
                        }
                    }
                    Err(_) => {
                        save_error.try_set(true);
                    }
                }
            }
        });
    });

    // Field paths rendered, for the summary links.
    let mut rendered = BTreeSet::new();
    let sections = rb.with_value(|rb| {
        rb.source()
            .sections
            .iter()
            .map(|s| {
                let vars: Vec<Variable> = rb
                    .variables()
                    .iter()
                    .filter(|v| v.section == s.id)
                    .cloned()
                    .collect();
                let member_section = vars.iter().any(|v| {
                    tepat_core::fields::field(&v.field).is_some_and(|f| f.scope() == Scope::Anggota)
                });
                let body = if member_section {
                    base.with_value(|b| {
                        b.anggota
                            .iter()
                            .enumerate()
                            .filter(|(_, a)| a.is_active())
                            .map(|(i, a)| {
                                let fields = vars
                                    .iter()
                                    .filter(|v| correctable(&v.field, true))
                                    .map(|v| {
                                        rendered.insert(draft::key(Some(i), &v.field));
                                        view! { <FieldInput ctx=ctx v=v.clone() member=Some(i)/> }
                                    })
                                    .collect_view();
                                let nik_id = format!("nik-{i}");
                                let nik_key = draft::key(Some(i), "nik");
                                view! {
                                    <fieldset class="member" id=format!("member-{i}") tabindex="-1">
                                        <legend>{a.name.clone()}</legend>
                                        <label for=nik_id.clone()>"NIK"</label>
                                        <input id=nik_id type="text" inputmode="numeric" readonly value=a.nik.clone()
                                            aria-describedby=format!("{}-msg", field_id(&nik_key))/>
                                        <FieldFindings ctx=ctx key=nik_key/>
                                        {fields}
                                    </fieldset>
                                }
                            })
                            .collect_view()
                            .into_any()
                    })
                } else {
                    vars.iter()
                        .filter(|v| correctable(&v.field, false))
                        .map(|v| {
                            rendered.insert(draft::key(None, &v.field));
                            view! { <FieldInput ctx=ctx v=v.clone() member=None/> }
                        })
                        .collect_view()
                        .into_any()
                };
                let label = s.label.clone();
                view! {
                    <section class="card section" id=format!("sec-{}", s.id) tabindex="-1">
                        <h2>{move || label.get(lang.get()).to_owned()}</h2>
                        {body}
                    </section>
                }
            })
            .collect_view()
    });
    let rendered = StoredValue::new(rendered);

    let notice = RwSignal::new(None::<(&'static str, &'static str)>);
    let submit_findings = RwSignal::new(Vec::<Finding>::new());
    let busy = RwSignal::new(false);
    let warnings = Memo::new(move |_| findings.with(|f| Draft::warning_keys(f)));
    let all_confirmed =
        move || warnings.with(|w| draft.with(|d| w.iter().all(|k| d.confirmed.contains(k))));

    // True while no answer differs from the record: sending confirms it as correct.
    let unchanged = Memo::new(move |_| draft.with(|d| d.corrections(&base.get_value()).is_empty()));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let Some(now) = today() else { return };
        let u = unlocked.get_value();
        let d = draft.get_untracked();
        if !d.invalid.is_empty() {
            notice.set(Some((
                "Perbaiki isian yang ditandai dulu.",
                "Fix the marked answers first.",
            )));
            return;
        }
        let fam = base.get_value();
        let mut evidence = Vec::new();
        if let Some(g) = d.gps {
            evidence.push(Evidence {
                kind: EvidenceKind::Gps,
                reference: None,
                gps: Some(g),
            });
        }
        if let Some(photo) = &d.photo {
            evidence.push(Evidence {
                kind: EvidenceKind::Photo,
                reference: Some(format!("device-photo:{photo}")),
                gps: None,
            });
        }
        // No changed answer: the visit confirms the record as it is (data sesuai).
        let corrections = d.corrections(&fam);
        let (event, reason) = if corrections.is_empty() {
            let reason = if d.reason.trim().is_empty() {
                CONFIRM_REASON.to_owned()
            } else {
                d.reason.clone()
            };
            (Event::GroundCheckConfirmed { date: now }, reason)
        } else {
            (
                Event::VariableCorrection {
                    corrections,
                    visited: Some(now),
                },
                d.reason.clone(),
            )
        };
        let req = ChangeRequest {
            id: new_id(),
            no_kk: fam.no_kk.clone(),
            base_version: fam.version,
            author: u.session.user.username.clone(),
            time: now_rfc3339(),
            reason,
            evidence,
            event,
            confirmed_warnings: Vec::new(),
            hash: None,
        };
        let checked = rb.with_value(|rb| {
            regions.table.with_untracked(|table| {
                let table = table.as_ref()?;
                let ctx = EventContext::new(ValidationContext {
                    rulebook: rb,
                    regions: table,
                    today: now,
                });
                Some((apply(&fam, &req, &ctx), rb.version().to_owned()))
            })
        });
        let Some((result, rb_version)) = checked else {
            notice.set(Some((
                "Daftar wilayah belum ada di perangkat. Perbarui daftar tugas saat ada sinyal.",
                "The region list is not on the device yet. Refresh the worklist when online.",
            )));
            return;
        };
        let applied = match result {
            Err(f) => {
                submit_findings.set(f);
                notice.set(Some((
                    "Belum dapat dikirim: perbaiki kesalahan di bawah.",
                    "Cannot be sent yet: fix the errors below.",
                )));
                return;
            }
            Ok(a) => a,
        };
        submit_findings.set(Vec::new());
        let confirmed: Vec<ConfirmedWarning> = applied
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| ConfirmedWarning {
                rule: f.rule.clone(),
                path: f.path.clone(),
            })
            .collect();
        let unconfirmed = confirmed
            .iter()
            .any(|w| !d.confirmed.contains(&format!("{}@{}", w.rule, w.path)));
        if unconfirmed {
            notice.set(Some((
                "Ada peringatan. Periksa lalu centang konfirmasi sebelum mengirim.",
                "There are warnings. Check them, then tick the confirmation before sending.",
            )));
            return;
        }
        let req = seal(&ChangeRequest {
            confirmed_warnings: confirmed,
            ..req
        });
        busy.set(true);
        let no_kk = fam.no_kk.clone();
        let sent = sent_by_submit.clone();
        spawn_local(async move {
            match outbox::enqueue(outbox, &u, req, &rb_version).await {
                Ok(()) => {
                    // Stop autosave from writing the draft back: no new save starts, and
                    // a save still running sees `sent` when it ends and removes what it
                    // wrote (set before the removal below, so a save that ends while the
                    // removal awaits cannot leave the draft behind).
                    generation.try_update(|g| *g += 1);
                    sent.set(true);
                    submitted.try_set(true);
                    let _ = draft_store::remove(&u.key, &no_kk).await;
                    sync::set_state(data, &u, &no_kk, WorkState::Waiting).await;
                    busy.set(false);
                    if outbox::sync(outbox, &u).await.is_ok() {
                        sync::set_state(data, &u, &no_kk, WorkState::Synced).await;
                    }
                }
                Err(_) => {
                    busy.set(false);
                    notice.set(Some((
                        "Gagal menyimpan di perangkat.",
                        "Could not save on the device.",
                    )));
                }
            }
        });
    };

    let summary = move || {
        let l = lang.get();
        let all = findings.get();
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
    };

    let status = move || {
        let l = lang.get();
        if save_error.get() {
            return view! { <p class="notice warn" role="status" data-field="draft-status">{tr(l, "Draf gagal disimpan di perangkat.", "The draft could not be saved on the device.")}</p> }.into_any();
        }
        if !submitted.get() && generation.get() != saved_gen.get() {
            return view! { <p class="notice" role="status" data-field="draft-status" data-saved="false">{tr(l, "Menyimpan draf di perangkat…", "Saving the draft on the device…")}</p> }.into_any();
        }
        match saved.get() {
            Some(t) => view! { <p class="notice" role="status" data-field="draft-status" data-saved="true">{tr(l, "Draf tersimpan di perangkat ", "Draft saved on the device ")}{t}</p> }.into_any(),
            None => view! { <p class="notice" role="status" data-field="draft-status">{tr(l, "Perubahan disimpan otomatis sebagai draf.", "Changes are saved automatically as a draft.")}</p> }.into_any(),
        }
    };

    let preview = Signal::derive(move || Some(family_late.get()));
    let href_household = format!("/keluarga/{no_kk}");
    let href_household2 = href_household.clone();

    view! {
        {move || submitted.get().then(|| view! {
            <section class="card">
                <p class="ok" role="status">{move || tr(lang.get(), "Uji petik dikirim ke Kotak Keluar.", "The ground check is in the outbox.")}</p>
                <p><a href=href_household2.clone()>{move || tr(lang.get(), "Kembali ke keluarga", "Back to the family")}</a></p>
            </section>
        })}
        <div style:display=move || if submitted.get() { "none" } else { "block" }>
            <section class="card">
                <h1>{move || tr(lang.get(), "Uji Petik", "Ground check")}</h1>
                <label for="no-kk">{move || tr(lang.get(), "No. KK", "Family card no.")}</label>
                <input id="no-kk" type="text" inputmode="numeric" readonly value=no_kk.clone()/>
                <p data-field="rulebook-version" data-version=rb_version.clone()>
                    {move || tr(lang.get(), "Aturan isian versi ", "Rulebook version ")}{rb_version.clone()}
                    {move || older_version().then(|| tr(lang.get(),
                        " — versi saat draf dibuat; aturan isian sudah diperbarui.",
                        " — the version the draft was made with; the rulebook has been updated since."))}
                </p>
                {status}
                <nav aria-label=move || tr(lang.get(), "Ringkasan temuan", "Summary of findings") class="summary-box">
                    {summary}
                </nav>
                <p><a href=href_household.clone()>{move || tr(lang.get(), "Kembali ke keluarga", "Back to the family")}</a></p>
            </section>
            <form on:submit=submit novalidate>
                {sections}
                <section class="card" id="sec-submit">
                    <h2>{move || tr(lang.get(), "Bukti dan pengiriman", "Evidence and sending")}</h2>
                    <Photo ctx=ctx/>
                    <label for="f-reason">{move || if unchanged.get() {
                        tr(lang.get(), "Catatan kunjungan (boleh kosong)", "Visit note (optional)")
                    } else {
                        tr(lang.get(), "Alasan perubahan", "Reason for the change")
                    }}</label>
                    <textarea id="f-reason" rows="2"
                        prop:value=draft.with_untracked(|d| d.reason.clone())
                        on:input=move |ev| { let t = event_target_value(&ev); draft.update(|d| d.reason = t); }></textarea>
                    <FieldFindings ctx=ctx key="reason".to_owned()/>
                    {move || (!warnings.with(Vec::is_empty)).then(|| view! {
                        <label class="check">
                            <input type="checkbox" id="confirm-warnings"
                                prop:checked=all_confirmed
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let w = warnings.get_untracked();
                                    draft.update(|d| d.confirmed = if on { w } else { Vec::new() });
                                }/>
                            {move || tr(lang.get(),
                                "Saya sudah memeriksa semua peringatan dan datanya benar.",
                                "I checked every warning and the data is right.")}
                        </label>
                    })}
                    <ul class="findings" aria-live="polite">
                        {move || submit_findings.get().into_iter().map(|f| {
                            let class = if f.is_error() { "finding error" } else { "finding warning" };
                            view! { <li class=class data-rule=f.rule.clone()>{f.message.get(lang.get()).to_owned()}</li> }
                        }).collect_view()}
                    </ul>
                    {move || notice.get().map(|(id, en)| view! { <p class="notice warn" role="alert">{tr(lang.get(), id, en)}</p> })}
                    <p><button type="submit" id="submit-uji-petik" disabled=move || busy.get()>
                        {move || if unchanged.get() {
                            tr(lang.get(), "Semua data sesuai — kirim", "All answers correct — send")
                        } else {
                            tr(lang.get(), "Kirim koreksi ke Kotak Keluar", "Send the corrections to the outbox")
                        }}
                    </button></p>
                </section>
            </form>
            <ScorePreview keluarga=preview/>
        </div>
    }
}

/// The findings of one field, beside it.
#[component]
fn FieldFindings(ctx: Ctx, key: String) -> impl IntoView {
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

/// One questionnaire variable: its input, shown when the skip logic asks it (or when it
/// holds an answer that must be cleared), with its findings.
#[component]
fn FieldInput(ctx: Ctx, v: Variable, member: Option<usize>) -> impl IntoView {
    let lang = use_lang();
    let key = draft::key(member, &v.field);
    let id = field_id(&key);
    let msg = format!("{id}-msg");
    let var_id = v.id.clone();
    // The field's answer, visibility and error state: the closures below run when
    // these change, not on every change anywhere in the form.
    let state = ctx.field(&key, &var_id, member);
    let value = state.value;
    let visible = state.visible;
    let has_error = state.error;
    let invalid = move || has_error.get().to_string();
    let label_text = {
        let v = v.clone();
        move || draft::label(&v, lang.get())
    };
    let codes = ctx
        .rb
        .with_value(|rb| rb.codes_of(&v).map(<[_]>::to_vec))
        .unwrap_or_default();
    let ty = v.var_type;
    let input = match ty {
        _ if v.field == "gps" => view! { <Gps ctx=ctx id=id.clone()/> }.into_any(),
        VarType::Code => {
            let current = move || value.with(Value::as_i64);
            let key3 = key.clone();
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
            view! {
                <select id=id.clone() aria-invalid=invalid aria-describedby=msg.clone()
                    on:change=move |ev| ctx.set_text(&key3, ty, &event_target_value(&ev))>
                    <option value="" prop:selected=none_selected>{move || tr(lang.get(), "— belum diisi —", "— not answered —")}</option>
                    {options}
                </select>
            }
            .into_any()
        }
        VarType::Flags => {
            let boxes = codes
                .into_iter()
                .map(|c| {
                    let key = key.clone();
                    let key2 = key.clone();
                    let box_id = format!("{id}-{}", c.code);
                    let for_id = box_id.clone();
                    view! {
                        <label class="check" for=for_id>
                            <input type="checkbox" id=box_id
                                prop:checked=move || flag_holds(value.with(Value::as_i64), c.code)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let next = flag_toggle(value.with_untracked(Value::as_i64), c.code, on);
                                    ctx.set(&key2, next.map_or(Value::Null, Value::from));
                                }/>
                            {move || if lang.get() == Lang::Id { c.id.clone() } else { c.en.clone() }}
                        </label>
                    }
                })
                .collect_view();
            view! { <div id=id.clone() role="group" aria-labelledby=format!("{id}-label") aria-describedby=msg.clone() tabindex="-1">{boxes}</div> }
                .into_any()
        }
        VarType::Date => {
            let start = ctx.initial_text(&key);
            let key3 = key.clone();
            view! {
                <input id=id.clone() type="date" aria-invalid=invalid aria-describedby=msg.clone()
                    prop:value=start
                    on:input=move |ev| ctx.set_text(&key3, ty, &event_target_value(&ev))/>
            }
            .into_any()
        }
        VarType::Integer | VarType::Text => {
            let numeric = ty == VarType::Integer
                || ["address.rt", "address.rw", "housing.pln_customer_id"]
                    .contains(&v.field.as_str());
            let start = ctx.initial_text(&key);
            let key3 = key.clone();
            view! {
                <input id=id.clone() type="text" autocomplete="off"
                    inputmode={if numeric { "numeric" } else { "text" }}
                    aria-invalid=invalid aria-describedby=msg.clone()
                    prop:value=start
                    on:input=move |ev| ctx.set_text(&key3, ty, &event_target_value(&ev))/>
            }
            .into_any()
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
    view! {
        <div class="field" data-var=v.id.clone() style:display=move || if visible.get() { "block" } else { "none" }>
            {label}
            {hint}
            {input}
            <FieldFindings ctx=ctx key=key.clone()/>
        </div>
    }
}

/// The family's GPS point: capture with the phone's GPS, shown with its accuracy.
#[component]
fn Gps(ctx: Ctx, id: String) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<device::GpsError>);
    let capture = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match device::gps_fix().await {
                Ok(p) => {
                    ctx.set("gps", tepat_core::to_tree(&p).unwrap_or(Value::Null));
                    ctx.draft.update(|d| d.gps = Some(p));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let current = move || {
        let l = lang.get();
        let g = ctx.family.with(|k| k.gps);
        match g {
            None => tr(l, "Belum ada titik GPS.", "No GPS point yet.").to_owned(),
            Some(g) => {
                let acc = g
                    .accuracy_m
                    .map(|a| format!(" ± {} m", a.round()))
                    .unwrap_or_default();
                format!("{:.6}, {:.6}{acc}", g.lat, g.lon)
            }
        }
    };
    view! {
        <p data-field="gps">{current}</p>
        <button type="button" class="secondary" id=id on:click=capture disabled=move || busy.get()>
            {move || if busy.get() { tr(lang.get(), "Mencari lokasi…", "Locating…") } else { tr(lang.get(), "Ambil lokasi GPS", "Capture GPS location") }}
        </button>
        {move || error.get().map(|e| view! { <p class="finding error" role="alert">{e.message(lang.get())}</p> })}
    }
}

/// The optional house photo: taken with the camera, shrunk and stored on the device.
#[component]
fn Photo(ctx: Ctx) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let url = RwSignal::new(None::<String>);
    let show_photo = move |id: String| {
        spawn_local(async move {
            if let Ok(Some(blob)) = draft_store::get_photo(&id).await
                && let Ok(u) = web_sys::Url::create_object_url_with_blob(&blob)
            {
                url.set(Some(u));
            }
        });
    };
    if let Some(id) = ctx.draft.with_untracked(|d| d.photo.clone()) {
        show_photo(id);
    }
    let pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        busy.set(true);
        failed.set(false);
        spawn_local(async move {
            let id = new_id();
            let stored = match device::shrink_photo(&file).await {
                Ok(jpeg) => draft_store::put_photo(&id, &jpeg).await.is_ok(),
                Err(_) => false,
            };
            if stored {
                let old = ctx.draft.with_untracked(|d| d.photo.clone());
                ctx.draft.update(|d| d.photo = Some(id.clone()));
                if let Some(old) = old {
                    let _ = draft_store::delete_photo(&old).await;
                }
                show_photo(id);
            } else {
                failed.set(true);
            }
            busy.set(false);
        });
    };
    view! {
        <label for="f-photo">{move || tr(lang.get(), "Foto rumah (tidak wajib)", "House photo (optional)")}</label>
        <input id="f-photo" type="file" accept="image/*" capture="environment" on:change=pick/>
        {move || busy.get().then(|| view! { <p role="status">{tr(lang.get(), "Memproses foto…", "Processing the photo…")}</p> })}
        {move || failed.get().then(|| view! { <p class="finding error" role="alert">{tr(lang.get(), "Foto tidak dapat dibaca atau disimpan.", "The photo could not be read or stored.")}</p> })}
        {move || url.get().map(|u| view! {
            <img class="photo" src=u data-field="photo" alt=tr(lang.get(), "Foto rumah", "House photo")/>
        })}
    }
}
