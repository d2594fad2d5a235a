//! Sending the ground check: the evidence and the note, then a change request checked
//! by tepat-core and queued in the outbox.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::event::{
    Applied, ChangeRequest, ConfirmedWarning, EventContext, Evidence, EvidenceKind, apply, seal,
};
use tepat_core::ground_check::ground_check_event;
use tepat_core::{Date, Finding, Keluarga, Severity, ValidationContext};

use super::autosave::Autosave;
use super::ctx::Ctx;
use super::evidence::Photo;
use super::fields::FieldFindings;
use super::summary::jump_to_first_error;
use super::{new_id, now_rfc3339};
use crate::draft::Draft;
use crate::draft_store;
use crate::i18n::{tr, use_lang};
use crate::outbox::{self, use_outbox};
use crate::regions::use_regions;
use crate::session::Unlocked;
use crate::sync::{self, use_data};
use crate::today::today;
use crate::worklist::WorkState;

/// A message for the facilitator (Bahasa Indonesia, English).
type Notice = (&'static str, &'static str);

/// The state of sending.
#[derive(Clone, Copy)]
pub(super) struct Sending {
    notice: RwSignal<Option<Notice>>,
    /// The core's findings on the last refused request.
    refused: RwSignal<Vec<Finding>>,
    busy: RwSignal<bool>,
}

impl Sending {
    pub fn new() -> Sending {
        Sending {
            notice: RwSignal::new(None),
            refused: RwSignal::new(Vec::new()),
            busy: RwSignal::new(false),
        }
    }
}

/// The form's submit handler: the draft as a sealed change request into the outbox,
/// once tepat-core accepts it and every warning is confirmed.
pub(super) fn on_submit(
    ctx: Ctx,
    sending: Sending,
    save: Autosave,
    unlocked: StoredValue<Unlocked, LocalStorage>,
) -> impl Fn(leptos::ev::SubmitEvent) + 'static {
    let regions = use_regions();
    let outbox = use_outbox();
    let data = use_data();
    move |ev| {
        ev.prevent_default();
        sending.notice.set(None);
        let Some(now) = today() else { return };
        let u = unlocked.get_value();
        let d = ctx.draft.get_untracked();
        if !d.invalid.is_empty() {
            sending.notice.set(Some((
                "Perbaiki isian yang ditandai dulu. Layar sudah dipindah ke isian pertama yang salah.",
                "Fix the marked answers first. The screen moved to the first wrong one.",
            )));
            jump_to_first_error();
            return;
        }
        let fam = ctx.base.get_value();
        let req = change_request(&d, &fam, now, &u.session.user.username);
        let checked = ctx.rb.with_value(|rb| {
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
            sending.notice.set(Some((
                "Daftar wilayah belum ada di perangkat. Perbarui daftar tugas saat ada sinyal.",
                "The region list is not on the device yet. Refresh the worklist when online.",
            )));
            return;
        };
        let applied = match result {
            Err(f) => {
                sending.refused.set(f);
                sending.notice.set(Some((
                    "Belum dapat dikirim: perbaiki kesalahan yang ditandai. Layar sudah dipindah ke kesalahan pertama.",
                    "Cannot be sent yet: fix the marked errors. The screen moved to the first one.",
                )));
                jump_to_first_error();
                return;
            }
            Ok(a) => a,
        };
        sending.refused.set(Vec::new());
        let confirmed = warnings(&applied);
        let unconfirmed = confirmed
            .iter()
            .any(|w| !d.confirmed.contains(&format!("{}@{}", w.rule, w.path)));
        if unconfirmed {
            sending.notice.set(Some((
                "Ada peringatan. Periksa lalu centang konfirmasi sebelum mengirim.",
                "There are warnings. Check them, then tick the confirmation before sending.",
            )));
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|doc| doc.get_element_by_id("confirm-warnings"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = el.focus();
            }
            return;
        }
        let req = seal(&ChangeRequest {
            confirmed_warnings: confirmed,
            ..req
        });
        sending.busy.set(true);
        let save = save.clone();
        spawn_local(async move {
            let no_kk = req.no_kk.clone();
            match outbox::enqueue(outbox, &u, req, &rb_version).await {
                Ok(()) => {
                    save.stop();
                    let _ = draft_store::remove(&u.key, &no_kk).await;
                    // Made again from a rejected change: that one is done with.
                    if let Some(old) = d.replaces.clone()
                        && let Ok(discarding) = crate::lazy::discard(outbox, u.clone(), old).await
                    {
                        discarding.await;
                    }
                    sync::set_state(data, &u, &no_kk, WorkState::Waiting).await;
                    sending.busy.set(false);
                    if outbox::sync(outbox, &u).await.is_ok() {
                        sync::set_state(data, &u, &no_kk, WorkState::Synced).await;
                    }
                }
                Err(_) => {
                    sending.busy.set(false);
                    sending.notice.set(Some((
                        "Gagal menyimpan di perangkat.",
                        "Could not save on the device.",
                    )));
                }
            }
        });
    }
}

/// The draft as a change request on `fam` by `author`, unsealed and without confirmed
/// warnings; tepat-core says which event a ground check is.
fn change_request(d: &Draft, fam: &Keluarga, now: Date, author: &str) -> ChangeRequest {
    let (event, reason) = ground_check_event(d.corrections(fam), &d.reason, now);
    ChangeRequest {
        // The draft's one change: sent again, it is the same change.
        id: d.change_id.clone().unwrap_or_else(new_id),
        no_kk: fam.no_kk.clone(),
        base_version: fam.version,
        author: author.to_owned(),
        time: now_rfc3339(),
        reason,
        evidence: evidence(d),
        event,
        confirmed_warnings: Vec::new(),
        hash: None,
    }
}

/// The visit's GPS fix and house photo as evidence.
fn evidence(d: &Draft) -> Vec<Evidence> {
    let mut out = Vec::new();
    if let Some(g) = d.gps {
        out.push(Evidence {
            kind: EvidenceKind::Gps,
            reference: None,
            gps: Some(g),
        });
    }
    if let Some(photo) = &d.photo {
        out.push(Evidence {
            kind: EvidenceKind::Photo,
            reference: Some(format!("device-photo:{photo}")),
            gps: None,
        });
    }
    out
}

/// The warnings left on the applied request, which the facilitator must confirm.
fn warnings(applied: &Applied) -> Vec<ConfirmedWarning> {
    applied
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| ConfirmedWarning {
            rule: f.rule.clone(),
            path: f.path.clone(),
        })
        .collect()
}

/// The form's last section: the photo, the note (the reason for a change), the
/// confirmation of warnings and the send button.
#[component]
pub(super) fn SendSection(ctx: Ctx, sending: Sending) -> impl IntoView {
    let lang = use_lang();
    let draft = ctx.draft;
    let warnings = Memo::new(move |_| ctx.findings.with(|f| Draft::warning_keys(f)));
    let all_confirmed =
        move || warnings.with(|w| draft.with(|d| w.iter().all(|k| d.confirmed.contains(k))));
    // True while no answer differs from the record: sending confirms it as correct.
    let unchanged =
        Memo::new(move |_| draft.with(|d| ctx.base.with_value(|b| d.corrections(b).is_empty())));
    view! {
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
                {move || sending.refused.get().into_iter().map(|f| {
                    let class = if f.is_error() { "finding error" } else { "finding warning" };
                    view! { <li class=class data-rule=f.rule.clone()>{f.message.get(lang.get()).to_owned()}</li> }
                }).collect_view()}
            </ul>
            {move || sending.notice.get().map(|(id, en)| view! { <p class="notice warn" role="alert">{tr(lang.get(), id, en)}</p> })}
            <p><button type="submit" id="submit-uji-petik" disabled=move || sending.busy.get()>
                {move || if unchanged.get() {
                    tr(lang.get(), "Semua data sesuai — kirim", "All answers correct — send")
                } else {
                    tr(lang.get(), "Kirim koreksi ke Kotak Keluar", "Send the corrections to the outbox")
                }}
            </button></p>
        </section>
    }
}
