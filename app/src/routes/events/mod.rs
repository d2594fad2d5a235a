//! Catat peristiwa: life events (death, move out, move in, birth, marriage, family
//! split, family merge, member or family not found), each recorded as a typed
//! [`tepat_core::event::ChangeRequest`] and checked by [`tepat_core::event::apply`]
//! before it may be queued in the outbox.
//!
//! **Invariant:** the forms only turn typed input into an [`Event`]. Whether the event
//! fits the family is decided by the core; its findings are shown beside the fields.
//! The only checks here are about input that cannot become an event at all (an empty
//! date, no member chosen), reported as `input.*` findings at the event's own paths.

pub mod death;
pub mod graduation;
pub mod marriage;
pub mod member;
pub mod merge;
pub mod move_out;
pub mod not_found;
pub mod photo;
pub mod questions;
pub mod split;

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use tepat_core::event::{
    ChangeRequest, ConfirmedWarning, Correction, Event, EventContext, EventKind, apply,
    apply_corrections, seal,
};
use tepat_core::rulebook::Rulebook;
use tepat_core::{Anggota, Date, Finding, Keluarga, Lang, Severity, Sex, Text, ValidationContext};

use crate::i18n::{tr, tx, use_lang};
use crate::outbox::{self, Outbox, use_outbox};
use crate::regions::{Regions, use_regions};
use crate::session::{Auth, AuthState, use_auth};
use crate::sync::{self, Data, use_data};
use crate::today::today;
use crate::worklist::WorkState;

/// The name of an event kind (the JSON `type` tag) for people: the core's
/// [`EventKind::label`], or the tag itself for a kind this version does not know.
pub fn kind_label(kind: &str) -> Text {
    EventKind::from_name(kind).map_or_else(|| Text::new(kind, kind), EventKind::label)
}

/// What a form says once its event is queued.
fn done_text(kind: EventKind) -> (&'static str, &'static str) {
    match kind {
        EventKind::MemberDied => (
            "Kematian dicatat dan menunggu di Kotak Keluar.",
            "The death is recorded and waits in the outbox.",
        ),
        EventKind::MemberMovedOut => (
            "Kepindahan dicatat dan menunggu di Kotak Keluar.",
            "The move is recorded and waits in the outbox.",
        ),
        EventKind::MemberMovedIn => (
            "Anggota pindah masuk dicatat dan menunggu di Kotak Keluar.",
            "The member moving in is recorded and waits in the outbox.",
        ),
        EventKind::Birth => (
            "Kelahiran dicatat dan menunggu di Kotak Keluar.",
            "The birth is recorded and waits in the outbox.",
        ),
        EventKind::Marriage => (
            "Perkawinan dicatat dan menunggu di Kotak Keluar.",
            "The marriage is recorded and waits in the outbox.",
        ),
        EventKind::FamilySplit => (
            "Pecah KK dicatat dan menunggu di Kotak Keluar.",
            "The household split is recorded and waits in the outbox.",
        ),
        EventKind::FamilyMerge => (
            "Gabung KK dicatat dan menunggu di Kotak Keluar.",
            "The household merge is recorded and waits in the outbox.",
        ),
        EventKind::Graduation => (
            "Graduasi dicatat dan menunggu di Kotak Keluar.",
            "The graduation is recorded and waits in the outbox.",
        ),
        _ => (
            "Peristiwa dicatat dan menunggu di Kotak Keluar.",
            "The event is recorded and waits in the outbox.",
        ),
    }
}

// ---------------------------------------------------------------------------
// Input to event: plain functions, tested in app/tests/events.rs

/// Rule id of the local "required" finding.
pub const REQUIRED: &str = "input.required";
/// Rule id of the local "not a date" finding.
pub const NOT_A_DATE: &str = "input.date";

/// A local finding about input that cannot become an event.
pub fn input_finding(rule: &str, path: &str, id: &str, en: &str) -> Finding {
    Finding::new(
        rule,
        Severity::Error,
        path,
        &Text::new(id, en),
        BTreeMap::new(),
    )
}

/// A required date (`YYYY-MM-DD`, as `<input type=date>` gives it).
pub fn req_date(s: &str, path: &str, out: &mut Vec<Finding>) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() {
        out.push(input_finding(
            REQUIRED,
            path,
            "Isi tanggal.",
            "Enter the date.",
        ));
        return None;
    }
    match Date::parse(s) {
        Ok(d) => Some(d),
        Err(_) => {
            out.push(input_finding(
                NOT_A_DATE,
                path,
                "Tanggal tidak sah; isi tahun-bulan-hari, mis. 2026-11-23.",
                "Not a valid date; enter year-month-day, e.g. 2026-11-23.",
            ));
            None
        }
    }
}

/// Chosen members with their relationship (409) in the family they join: `(index
/// choice, relationship code)` rows in family order. A row without a relationship gives
/// a finding at `event.members[k].relationship` with the `missing` message (id, en).
pub fn member_roles(
    fam: &Keluarga,
    rows: &[(usize, String)],
    out: &mut Vec<Finding>,
    missing: (&str, &str),
) -> Vec<tepat_core::event::MemberRole> {
    let mut roles = Vec::new();
    for (k, (i, rel)) in rows.iter().enumerate() {
        let Some(nik) = pick(fam, &i.to_string()) else {
            continue;
        };
        match rel.trim().parse::<u8>() {
            Ok(relationship) => roles.push(tepat_core::event::MemberRole { nik, relationship }),
            Err(_) => out.push(input_finding(
                REQUIRED,
                &format!("event.members[{k}].relationship"),
                missing.0,
                missing.1,
            )),
        }
    }
    roles
}

/// The relationship (as a `<select>` value) that `roles`, a rejected split's or merge's
/// members made again, gives the member at `index`; `None` when it lists them not.
pub fn role_in(
    form: &Form,
    roles: &[tepat_core::event::MemberRole],
    index: usize,
) -> Option<String> {
    let nik = form
        .fam
        .with_value(|f| f.anggota.get(index).map(|a| a.nik.clone()))?;
    roles
        .iter()
        .find(|r| r.nik == nik)
        .map(|r| r.relationship.to_string())
}

/// The NIK of the member at index `choice` (a `<select>` value), if any.
pub fn pick(fam: &Keluarga, choice: &str) -> Option<String> {
    choice
        .parse::<usize>()
        .ok()
        .and_then(|i| fam.anggota.get(i))
        .map(|a| a.nik.clone())
}

/// The NIK of the chosen member, or a finding at `path`.
pub fn req_member(
    fam: &Keluarga,
    choice: &str,
    path: &str,
    out: &mut Vec<Finding>,
) -> Option<String> {
    let nik = pick(fam, choice);
    if nik.is_none() {
        out.push(input_finding(
            REQUIRED,
            path,
            "Pilih anggota keluarga.",
            "Choose a family member.",
        ));
    }
    nik
}

/// The typed answers about a new member (moved in, newborn, new spouse).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberInput {
    pub nik: String,
    pub name: String,
    /// 405 code as text: `1` or `2`.
    pub sex: String,
    pub birth_date: String,
    /// 409 code as text.
    pub relationship: String,
    /// The rulebook's other member questions, by model field (`disability.seeing`).
    pub answers: BTreeMap<String, Value>,
}

/// Turns the typed answers into a member, with `input.*` findings at `prefix.<field>`
/// for what is missing. The NIK and name are passed on as typed (trimmed): the core
/// checks them. `relationship` is required only when `with_relationship`.
pub fn new_member(
    input: &MemberInput,
    prefix: &str,
    with_relationship: bool,
    out: &mut Vec<Finding>,
) -> Option<Anggota> {
    let before = out.len();
    let at = |f: &str| format!("{prefix}.{f}");
    let sex = input.sex.trim().parse::<u8>().ok().and_then(Sex::from_code);
    if sex.is_none() {
        out.push(input_finding(
            REQUIRED,
            &at("sex"),
            "Pilih jenis kelamin.",
            "Choose the sex.",
        ));
    }
    let birth = req_date(&input.birth_date, &at("birth_date"), out);
    let relationship = input.relationship.trim().parse::<u8>().ok();
    if with_relationship && relationship.is_none() {
        out.push(input_finding(
            REQUIRED,
            &at("relationship"),
            "Pilih hubungan dengan kepala keluarga.",
            "Choose the relationship to the head.",
        ));
    }
    if out.len() > before {
        return None;
    }
    let a = Anggota::new(
        input.nik.trim(),
        input.name.trim(),
        sex?,
        birth?,
        relationship.unwrap_or(0),
    );
    Some(with_answers(a, &input.answers))
}

/// The member with the answers set by the core's [`apply_corrections`] (the same
/// path handling and deserialization as a ground-check correction). When an answer
/// does not fit the model, none is set: the core then reports the questions as
/// unanswered when the event is checked.
pub fn with_answers(a: Anggota, answers: &BTreeMap<String, Value>) -> Anggota {
    if answers.is_empty() {
        return a;
    }
    // The person joins a scratch family under a NIK no real member has, so the
    // corrections address exactly them, whatever NIK was typed.
    const SCRATCH: &str = "\u{0}new";
    let mut person = a.clone();
    person.nik = SCRATCH.to_owned();
    person.presence = tepat_core::codes::presence::LIVES_WITH_FAMILY;
    let scratch = Keluarga {
        anggota: vec![person],
        ..Keluarga::default()
    };
    let corrections: Vec<Correction> = answers
        .iter()
        .map(|(field, value)| Correction {
            nik: Some(SCRATCH.to_owned()),
            field: field.clone(),
            value: value.clone(),
        })
        .collect();
    match apply_corrections(&scratch, &corrections)
        .ok()
        .and_then(|k| k.anggota.into_iter().next())
    {
        Some(mut answered) => {
            answered.nik = a.nik;
            answered.presence = a.presence;
            answered
        }
        None => a,
    }
}

/// The change request around `event`, before sealing.
pub fn request(
    fam: &Keluarga,
    id: String,
    author: &str,
    time: String,
    reason: &str,
    event: Event,
) -> ChangeRequest {
    ChangeRequest {
        id,
        no_kk: fam.no_kk.clone(),
        base_version: fam.version,
        author: author.to_owned(),
        time,
        reason: reason.trim().to_owned(),
        evidence: Vec::new(),
        confirmed_warnings: Vec::new(),
        event,
        hash: None,
    }
}

/// What the core said about a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Errors: nothing may be queued.
    Refused(Vec<Finding>),
    /// Valid, with warnings the facilitator has not confirmed yet.
    Confirm(Vec<Finding>),
    /// Valid (warnings confirmed): the sealed request, carrying the confirmed warnings.
    Ready(Box<ChangeRequest>),
}

/// A warning's key for confirmation: `rule@path`.
pub fn warning_key(f: &Finding) -> String {
    format!("{}@{}", f.rule, f.path)
}

/// Applies `req` with the core and decides whether it may be queued. Warnings
/// (the event's and the family's) must all be in `confirmed` (as [`warning_key`]s).
pub fn decide(
    fam: &Keluarga,
    req: ChangeRequest,
    ctx: &EventContext,
    confirmed: &[String],
) -> Decision {
    match apply(fam, &req, ctx) {
        Err(findings) => Decision::Refused(findings),
        Ok(applied) => {
            let warnings: Vec<Finding> = applied
                .findings
                .into_iter()
                .filter(|f| f.severity == Severity::Warning)
                .collect();
            if warnings
                .iter()
                .any(|w| !confirmed.contains(&warning_key(w)))
            {
                return Decision::Confirm(warnings);
            }
            let confirmed_warnings = warnings
                .iter()
                .map(|f| ConfirmedWarning {
                    rule: f.rule.clone(),
                    path: f.path.clone(),
                })
                .collect();
            Decision::Ready(Box::new(seal(&ChangeRequest {
                confirmed_warnings,
                ..req
            })))
        }
    }
}

/// Rewrites the paths of findings about the member added at `index` of the family
/// (`anggota[index].nik`, as the core's validation of the next version names it) to
/// the form's prefix (`event.anggota.nik`), so they appear beside the typed fields.
pub fn new_member_paths(findings: Vec<Finding>, index: usize, prefix: &str) -> Vec<Finding> {
    let from = format!("anggota[{index}]");
    findings
        .into_iter()
        .map(|mut f| {
            if let Some(rest) = f.path.strip_prefix(&from)
                && (rest.is_empty() || rest.starts_with('.'))
            {
                f.path = format!("{prefix}{rest}");
            }
            f
        })
        .collect()
}

/// True when `path` is `field` or lies under it (`field.x`, `field[2]`).
pub fn under(path: &str, field: &str) -> bool {
    path.strip_prefix(field)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The findings shown beside a field: those under any of `fields`.
pub fn beside(findings: &[Finding], fields: &[&str]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| fields.iter().any(|p| under(&f.path, p)))
        .cloned()
        .collect()
}

/// The findings no field of the form shows (the envelope, the rest of the family).
pub fn elsewhere(findings: &[Finding], fields: &[&str]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| !fields.iter().any(|p| under(&f.path, p)))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------
// The shared form state and its pieces

/// One open event form: the contexts it needs, its findings and messages.
#[derive(Clone, Copy)]
pub struct Form {
    lang: RwSignal<Lang>,
    auth: Auth,
    data: Data,
    regions: Regions,
    outbox: Outbox,
    pub fam: StoredValue<Keluarga>,
    /// What is shown: the core's findings (paths rewritten for new members) and `input.*`.
    pub findings: RwSignal<Vec<Finding>>,
    /// Warnings to confirm, as `rule@path` of the core's paths.
    warnings: RwSignal<Vec<String>>,
    confirmed: RwSignal<Vec<String>>,
    notice: RwSignal<Option<((&'static str, &'static str), bool)>>,
    pub reason: RwSignal<String>,
    /// The photo evidence taken in the form (its id on the device).
    pub photo: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    kind: EventKind,
    /// The rejected change this form makes again ("Ubah"), when it is one of its kind.
    again: StoredValue<Option<ChangeRequest>>,
}

/// The rejected change the household page was opened to make again (`?ubah=ID`), for
/// the form of its kind to start from. Each form takes it once.
#[derive(Clone, Copy)]
pub struct Redo(pub StoredValue<Option<ChangeRequest>>);

impl Form {
    pub fn new(keluarga: Keluarga, kind: EventKind) -> Form {
        let again = use_context::<Redo>()
            .and_then(|Redo(r)| {
                let mine = r.with_value(|r| r.as_ref().is_some_and(|r| r.event.kind() == kind));
                if mine {
                    r.try_update_value(Option::take).flatten()
                } else {
                    None
                }
            })
            .filter(|r| r.no_kk == keluarga.no_kk);
        let reason = again.as_ref().map(|r| r.reason.clone()).unwrap_or_default();
        let photo = again.as_ref().and_then(|r| {
            r.evidence.iter().find_map(|e| {
                e.reference
                    .as_deref()?
                    .strip_prefix(crate::evidence::PHOTO_PREFIX)
                    .map(str::to_owned)
            })
        });
        Form {
            lang: use_lang(),
            auth: use_auth(),
            data: use_data(),
            regions: use_regions(),
            outbox: use_outbox(),
            fam: StoredValue::new(keluarga),
            findings: RwSignal::new(Vec::new()),
            warnings: RwSignal::new(Vec::new()),
            confirmed: RwSignal::new(Vec::new()),
            notice: RwSignal::new(None),
            reason: RwSignal::new(reason),
            photo: RwSignal::new(photo),
            busy: RwSignal::new(false),
            kind,
            again: StoredValue::new(again),
        }
    }

    /// The event of the rejected change this form makes again, to fill the fields from.
    pub fn again(&self) -> Option<Event> {
        self.again
            .with_value(|r| r.as_ref().map(|r| r.event.clone()))
    }

    /// The `<select>` value of the member with `nik` (its place in the family), or "".
    pub fn choice_of(&self, nik: Option<&str>) -> String {
        let Some(nik) = nik else { return String::new() };
        self.fam
            .with_value(|f| f.anggota.iter().position(|a| a.nik == nik))
            .map(|i| i.to_string())
            .unwrap_or_default()
    }

    /// The rulebook on the device.
    pub fn rulebook(&self) -> RwSignal<Option<std::rc::Rc<Rulebook>>, LocalStorage> {
        self.data.rulebook
    }

    /// Active members as `(index, name)` for a `<select>`.
    pub fn members(&self) -> Vec<(usize, String)> {
        self.fam.with_value(|k| {
            k.anggota
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_active())
                .map(|(i, a)| (i, a.name.clone()))
                .collect()
        })
    }

    /// The rulebook's code list of the model field `field` as `(code, label)`.
    pub fn codes(&self, field: &str) -> Vec<(i64, String)> {
        let l = self.lang.get_untracked();
        self.data.rulebook.with_untracked(|rb| {
            let Some(rb): Option<&Rulebook> = rb.as_deref() else {
                return Vec::new();
            };
            rb.codes_of_field(field)
                .map(|codes| {
                    codes
                        .iter()
                        .map(|c| {
                            (
                                c.code,
                                if l == Lang::Id {
                                    c.id.clone()
                                } else {
                                    c.en.clone()
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Reads the worklist on the device (empty when none).
    pub fn families<T>(&self, f: impl FnOnce(&crate::worklist::Worklist) -> T) -> T
    where
        T: Default,
    {
        self.data
            .worklist
            .with(|w| w.as_ref().map(f).unwrap_or_default())
    }

    /// The current version (on the device) of the worklist family `no_kk`.
    pub fn household(&self, no_kk: &str) -> Option<Keluarga> {
        self.data.worklist.with_untracked(|w| {
            w.as_ref()
                .and_then(|w| w.find(no_kk))
                .map(|h| h.keluarga.clone())
        })
    }

    /// The core's errors on `event`, an event made of the input so far with stand-ins
    /// for what is missing (at the paths `stand_ins`): what the complete form would be
    /// refused for too, so that every error shows in one round. Findings at the
    /// stand-ins' paths and at the note (the form reports those itself) are left out.
    pub fn errors_so_far(&self, event: Event, stand_ins: &[&str]) -> Vec<Finding> {
        let Some(now) = today() else {
            return Vec::new();
        };
        let fam = self.fam.get_value();
        let req = request(
            &fam,
            new_id(),
            "-",
            js_sys::Date::new_0().to_iso_string().into(),
            "-",
            event,
        );
        let refused = self.data.rulebook.with_untracked(|rb| {
            self.regions.table.with_untracked(|table| {
                let (rb, table) = (rb.as_deref()?, table.as_ref()?);
                let ctx = EventContext::new(ValidationContext {
                    rulebook: rb,
                    regions: table,
                    today: now,
                });
                apply(&fam, &req, &ctx).err()
            })
        });
        refused
            .unwrap_or_default()
            .into_iter()
            .filter(|f| {
                f.is_error()
                    && !under(&f.path, "reason")
                    && !stand_ins.iter().any(|p| under(&f.path, p))
            })
            .collect()
    }

    /// Builds the event with `build`, lets the core decide, and queues a valid request.
    /// `remap` names a new member's index and the form prefix of its fields.
    pub fn submit(
        self,
        build: impl FnOnce(&Keluarga, &mut Vec<Finding>) -> Option<Event>,
        remap: Option<(usize, &'static str)>,
    ) {
        self.submit_into(build, remap, None);
    }

    /// [`Form::submit`] with the family merged into (`target`, for a merge).
    pub fn submit_into(
        self,
        build: impl FnOnce(&Keluarga, &mut Vec<Finding>) -> Option<Event>,
        remap: Option<(usize, &'static str)>,
        target: Option<Keluarga>,
    ) {
        self.notice.set(None);
        let AuthState::Unlocked(u) = self.auth.get_untracked() else {
            return;
        };
        let fam = self.fam.get_value();
        let mut input = Vec::new();
        let event = build(&fam, &mut input);
        if self.reason.with_untracked(|r| r.trim().is_empty()) {
            input.push(input_finding(
                REQUIRED,
                "reason",
                "Isi keterangan (alasan perubahan).",
                "Enter a note (the reason for the change).",
            ));
        }
        let Some(event) = event.filter(|_| input.is_empty()) else {
            self.findings.set(input);
            self.notice.set(Some((
                (
                    "Belum dapat disimpan: lengkapi isian yang ditandai.",
                    "Cannot be saved yet: complete the marked fields.",
                ),
                false,
            )));
            return;
        };
        let Some(now) = today() else { return };
        let mut req = request(
            &fam,
            new_id(),
            &u.session.user.username,
            js_sys::Date::new_0().to_iso_string().into(),
            &self.reason.get_untracked(),
            event,
        );
        req.evidence = photo::evidence(self.photo.get_untracked());
        let confirmed = self.confirmed.get_untracked();
        let decided = self.data.rulebook.with_untracked(|rb| {
            self.regions.table.with_untracked(|table| {
                let (rb, table) = (rb.as_deref()?, table.as_ref()?);
                let ctx = EventContext {
                    target: target.as_ref(),
                    ..EventContext::new(ValidationContext {
                        rulebook: rb,
                        regions: table,
                        today: now,
                    })
                };
                Some((decide(&fam, req, &ctx, &confirmed), rb.version().to_owned()))
            })
        });
        let Some((decision, rb_version)) = decided else {
            self.notice.set(Some((
                (
                    "Aturan isian atau daftar wilayah belum ada di perangkat. Perbarui daftar tugas saat ada sinyal.",
                    "The rulebook or region list is not on the device yet. Refresh the worklist when online.",
                ),
                false,
            )));
            return;
        };
        let shown = |f: Vec<Finding>| match remap {
            Some((index, prefix)) => new_member_paths(f, index, prefix),
            None => f,
        };
        match decision {
            Decision::Refused(f) => {
                self.warnings.set(Vec::new());
                self.findings.set(shown(f));
                self.notice.set(Some((
                    (
                        "Belum dapat disimpan: perbaiki kesalahan yang ditandai.",
                        "Cannot be saved yet: fix the marked errors.",
                    ),
                    false,
                )));
            }
            Decision::Confirm(w) => {
                self.warnings.set(w.iter().map(warning_key).collect());
                self.findings.set(shown(w));
                self.notice.set(Some((
                    (
                        "Ada peringatan. Periksa lalu centang konfirmasi sebelum menyimpan.",
                        "There are warnings. Check them, then tick the confirmation before saving.",
                    ),
                    false,
                )));
            }
            Decision::Ready(sealed) => {
                self.findings.set(Vec::new());
                self.warnings.set(Vec::new());
                self.busy.set(true);
                let form = self;
                spawn_local(async move {
                    let no_kk = sealed.no_kk.clone();
                    let result = outbox::enqueue(form.outbox, &u, *sealed, &rb_version).await;
                    match result {
                        Ok(()) => {
                            // The button stays disabled: saving again would queue the
                            // same event twice. Another event opens a fresh form.
                            form.confirmed.set(Vec::new());
                            // Made again from a rejected change: that one is done with.
                            let old = form.again.with_value(|r| r.as_ref().map(|r| r.id.clone()));
                            if let Some(old) = old
                                && let Ok(discarding) =
                                    crate::lazy::discard(form.outbox, u.clone(), old).await
                            {
                                discarding.await;
                            }
                            sync::set_state(form.data, &u, &no_kk, WorkState::Waiting).await;
                            form.notice.set(Some((done_text(form.kind), true)));
                            if outbox::sync(form.outbox, &u).await.is_ok() {
                                sync::set_state(form.data, &u, &no_kk, WorkState::Synced).await;
                            }
                        }
                        Err(_) => {
                            form.busy.set(false);
                            form.notice.set(Some((
                                (
                                    "Gagal menyimpan di perangkat.",
                                    "Could not save on the device.",
                                ),
                                false,
                            )));
                        }
                    }
                });
            }
        }
    }
}

fn new_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default()
}

/// The HTML id of the findings list of a field (`f-event-date-msg`).
pub fn msg_id(field: &str) -> String {
    let mut id = String::from("f-");
    for c in field.chars() {
        id.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    id.push_str("-msg");
    id
}

fn finding_item(f: Finding, lang: Lang) -> impl IntoView {
    let class = if f.is_error() {
        "finding error"
    } else {
        "finding warning"
    };
    view! { <li class=class data-rule=f.rule.clone() data-path=f.path.clone()>{f.message.get(lang).to_owned()}</li> }
}

/// The findings of one field (at `field` or under it), beside it.
#[component]
pub fn Beside(form: Form, #[prop(into)] field: String) -> impl IntoView {
    let id = msg_id(&field);
    view! {
        <ul class="findings" id=id aria-live="polite">
            {move || {
                let l = form.lang.get();
                form.findings.with(|all| beside(all, &[field.as_str()])).into_iter().map(|f| finding_item(f, l)).collect_view()
            }}
        </ul>
    }
}

/// The event's date (`event.date`): its label, a date input and its findings.
#[component]
pub fn EventDate(
    form: Form,
    id: &'static str,
    value: RwSignal<String>,
    label: (&'static str, &'static str),
) -> impl IntoView {
    view! {
        <label for=id>{tx(label.0, label.1)}</label>
        <input id=id type="date" bind:value=value aria-describedby=msg_id("event.date")/>
        <Beside form=form field="event.date"/>
    }
}

/// A `<select>` of the family's active members, with an empty first choice; without
/// the member chosen in `except` (the one who leaves cannot become the new head).
#[component]
pub fn MemberSelect(
    form: Form,
    id: &'static str,
    value: RwSignal<String>,
    empty: (&'static str, &'static str),
    field: &'static str,
    #[prop(optional)] except: Option<RwSignal<String>>,
) -> impl IntoView {
    let options = move || {
        let left = except.map(|e| e.get()).unwrap_or_default();
        form.members()
            .into_iter()
            .filter(|(i, _)| i.to_string() != left)
            .map(|(i, name)| {
                let v = i.to_string();
                let selected = v == value.get_untracked();
                view! { <option value=v selected=selected>{name}</option> }
            })
            .collect_view()
    };
    view! {
        <select id=id bind:value=value aria-describedby=msg_id(field)>
            <option value="">{tx(empty.0, empty.1)}</option>
            {options}
        </select>
    }
}

/// A `<select>` of a rulebook code list.
#[component]
pub fn CodeSelect(
    form: Form,
    #[prop(into)] id: String,
    /// The model field whose code list is offered (`relationship`).
    codes: &'static str,
    value: RwSignal<String>,
    #[prop(into)] field: String,
) -> impl IntoView {
    let lang = form.lang;
    let options = move || {
        // Re-read when the language changes: labels are in both languages.
        lang.track();
        form.codes(codes)
            .into_iter()
            .map(|(code, label)| view! { <option value=code.to_string() selected=move || value.get() == code.to_string()>{format!("{code} {label}")}</option> })
            .collect_view()
    };
    view! {
        <select id=id bind:value=value aria-describedby=msg_id(&field)>
            <option value="">{tx("— pilih —", "— choose —")}</option>
            {options}
        </select>
    }
}

/// The end of every event form: the note (reason), findings no field shows, the
/// confirmation of warnings, the outcome and the save button.
#[component]
pub fn Footer(form: Form, fields: &'static [&'static str]) -> impl IntoView {
    let lang = form.lang;
    let id = format!("{}-reason", form.kind.name());
    let id2 = id.clone();
    view! {
        <photo::EventPhoto form=form/>
        <label for=id>{tx("Keterangan", "Note")}</label>
        <input id=id2 type="text" bind:value=form.reason aria-describedby=msg_id("reason")/>
        <Beside form=form field="reason"/>
        <ul class="findings" aria-live="polite">
            {move || {
                let l = lang.get();
                form.findings.with(|all| {
                    let mut known: Vec<&str> = fields.to_vec();
                    known.push("reason");
                    elsewhere(all, &known)
                }).into_iter().map(|f| finding_item(f, l)).collect_view()
            }}
        </ul>
        {move || (!form.warnings.with(Vec::is_empty)).then(|| view! {
            <label class="check">
                <input type="checkbox"
                    prop:checked=move || form.warnings.with(|w| form.confirmed.with(|c| w.iter().all(|k| c.contains(k))))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        form.confirmed.set(if on { form.warnings.get_untracked() } else { Vec::new() });
                    }/>
                {tx("Saya sudah memeriksa semua peringatan dan datanya benar.", "I checked every warning and the data is right.")}
            </label>
        })}
        {move || form.notice.get().map(|((id, en), ok)| {
            let class = if ok { "notice" } else { "notice warn" };
            view! { <p class=class role="status">{tr(lang.get(), id, en)}</p> }
        })}
        <p><button type="submit" disabled=move || form.busy.get()>
            {tx("Simpan ke Kotak Keluar", "Save to the outbox")}
        </button></p>
    }
}

/// Brings the event form into view (a change opened again from the outbox).
fn focus_events() {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("event-kind"))
    {
        el.scroll_into_view();
    }
}

/// "Catat peristiwa": the event chooser of the household page and the chosen form.
#[component]
pub fn RecordEvent(keluarga: Keluarga) -> impl IntoView {
    let lang = use_lang();
    let chosen = RwSignal::new(String::new());
    // "Ubah" on a rejected life event (`?ubah=ID`): its form opens filled in.
    let redo = StoredValue::new(None::<ChangeRequest>);
    provide_context(Redo(redo));
    let again = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("ubah"));
    if let (Some(id), AuthState::Unlocked(u)) = (again, use_auth().get_untracked()) {
        let no_kk = keluarga.no_kk.clone();
        spawn_local(async move {
            let req = outbox::request_json(&u, &id)
                .await
                .and_then(|json| serde_json::from_str::<ChangeRequest>(&json).ok())
                .filter(|r| r.no_kk == no_kk && !r.event.kind().is_ground_check());
            if let Some(req) = req {
                let kind = req.event.kind();
                redo.set_value(Some(req));
                chosen.set(kind.name().to_owned());
                focus_events();
            }
        });
    }
    let fam = StoredValue::new(keluarga);
    let form = move || {
        let k = fam.get_value();
        let Some(kind) = EventKind::from_name(&chosen.get()) else {
            return ().into_any();
        };
        match kind {
            EventKind::MemberDied => view! { <death::Death keluarga=k/> }.into_any(),
            EventKind::MemberMovedOut => view! { <move_out::MoveOut keluarga=k/> }.into_any(),
            EventKind::MemberMovedIn => {
                view! { <member::NewMember keluarga=k birth=false/> }.into_any()
            }
            EventKind::Birth => view! { <member::NewMember keluarga=k birth=true/> }.into_any(),
            EventKind::Marriage => view! { <marriage::Marriage keluarga=k/> }.into_any(),
            EventKind::FamilySplit => view! { <split::Split keluarga=k/> }.into_any(),
            EventKind::FamilyMerge => view! { <merge::Merge keluarga=k/> }.into_any(),
            EventKind::MemberNotFound => {
                view! { <not_found::MemberNotFound keluarga=k/> }.into_any()
            }
            EventKind::FamilyNotFound => {
                view! { <not_found::FamilyNotFound keluarga=k/> }.into_any()
            }
            EventKind::Graduation => view! { <graduation::Graduation keluarga=k/> }.into_any(),
            // Recorded from the ground-check form, not offered here.
            EventKind::VariableCorrection | EventKind::GroundCheckConfirmed => ().into_any(),
            // A new family is registered from a verified usul, never on a family.
            EventKind::NewFamily => ().into_any(),
        }
    };
    view! {
        <section class="card" data-field="events">
            <h2>{tx("Catat peristiwa", "Record an event")}</h2>
            <label for="event-kind">{tx("Jenis peristiwa", "Kind of event")}</label>
            <select id="event-kind" bind:value=chosen>
                <option value="">{tx("— pilih —", "— choose —")}</option>
                {EventKind::ALL.into_iter().filter(|k| !k.is_ground_check() && !k.is_registration()).map(|k| view! {
                    <option value=k.name()>{move || k.label().get(lang.get()).to_owned()}</option>
                }).collect_view()}
            </select>
            {form}
        </section>
    }
}
