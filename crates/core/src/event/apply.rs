//! [`apply`]: the envelope check, one function per event kind, the closing of an
//! emptied family and the validation of the result.

use super::correct::correct;
use super::findings::Out;
use super::{Applied, ChangeRequest, Correction, Destination, Event, EventContext, MemberRole};
use crate::codes::{marital, presence, relationship as rel};
use crate::date::Date;
use crate::finding::Finding;
use crate::model::{Anggota, Code, FamilyStatus, Graduated, GraduationKind, Keluarga};
use crate::region::Level;
use crate::score::ProgramRules;
use crate::validate::validate_into;

/// Applies a change request to a family. See the module documentation.
pub fn apply(
    fam: &Keluarga,
    req: &ChangeRequest,
    ctx: &EventContext,
) -> Result<Applied, Vec<Finding>> {
    let mut out = Out::default();
    if matches!(req.event, Event::NewFamily { .. }) {
        // A new family is registered from no family (`apply_new_family`), never onto one.
        out.error("event.new_family_existing", "event", []);
        return Err(out.findings);
    }
    check_envelope(&mut out, Some(fam), req);
    if out.has_errors() {
        return Err(out.findings);
    }
    let mut next = fam.clone();
    let other = apply_event(&mut out, fam, &mut next, &req.event, ctx);
    close_when_empty(&mut out, &mut next, &req.event);
    if out.has_errors() {
        return Err(out.findings);
    }
    refresh_count(&mut next);
    next.version = fam.version.saturating_add(1);
    finish(out, fam, next, other, &req.event, ctx)
}

/// The request's own fields, and the family it is about: active, at the base version.
/// Without a family (a new family), the base version must be 0.
pub(super) fn check_envelope(out: &mut Out, fam: Option<&Keluarga>, req: &ChangeRequest) {
    if !is_uuid(&req.id) {
        out.error(
            "event.id",
            "id",
            [("id", req.id.chars().take(40).collect())],
        );
    }
    if fam.is_some_and(|f| req.no_kk != f.no_kk) {
        out.error("event.no_kk", "no_kk", []);
    }
    let current = fam.map_or(0, |f| f.version);
    if req.base_version != current {
        let rule = if fam.is_some() {
            "event.base_version"
        } else {
            "event.new_family_base"
        };
        out.error(
            rule,
            "base_version",
            [
                ("base", req.base_version.to_string()),
                ("current", current.to_string()),
            ],
        );
    }
    if req.author.trim().is_empty() {
        out.error("event.author", "author", []);
    }
    if !is_rfc3339(&req.time) {
        out.error("event.time", "time", []);
    }
    if req.reason.trim().is_empty() {
        out.error("event.reason", "reason", []);
    }
    if let Some(fam) = fam
        && fam.status != FamilyStatus::Active
    {
        out.error(
            "event.not_active_family",
            "status",
            [("status", status_name(fam.status))],
        );
    }
}

/// Applies the event to `next` (a copy of `fam`), one function per kind. Gives the
/// other family of a split (the new one) or a merge (the target's next version).
fn apply_event(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    event: &Event,
    ctx: &EventContext,
) -> Option<Keluarga> {
    let today = ctx.validation.today;
    match event {
        Event::MemberDied {
            nik,
            date,
            new_head,
        } => died(out, fam, next, today, nik, *date, new_head.as_deref()),
        Event::MemberMovedOut {
            nik,
            date,
            destination,
            new_head,
        } => moved_out(
            out,
            fam,
            next,
            ctx,
            nik,
            *date,
            destination,
            new_head.as_deref(),
        ),
        Event::MemberMovedIn { anggota, date, .. } => moved_in(out, next, today, anggota, *date),
        Event::Birth { anggota } => birth(out, next, today, anggota),
        Event::Marriage {
            nik,
            date,
            partner,
            partner_nik,
        } => marriage(
            out,
            fam,
            next,
            today,
            nik,
            *date,
            partner.as_ref(),
            partner_nik.as_deref(),
        ),
        Event::FamilySplit { .. } => return Some(split(out, fam, next, today, event)),
        Event::FamilyMerge {
            into_no_kk,
            date,
            members,
        } => return merge(out, fam, next, ctx, into_no_kk, *date, members),
        Event::VariableCorrection {
            corrections,
            visited,
        } => variable_correction(out, fam, next, today, corrections, *visited),
        Event::GroundCheckConfirmed { date } => ground_check_confirmed(out, fam, next, ctx, *date),
        Event::MemberNotFound {
            nik,
            date,
            new_head,
        } => member_not_found(out, fam, next, today, nik, *date, new_head.as_deref()),
        Event::FamilyNotFound { date } => {
            check_date(out, *date, None, today, "event.date");
            next.status = FamilyStatus::NotFound;
        }
        Event::Graduation { kind, date, reason } => {
            graduation(out, fam, next, today, *kind, *date, reason);
        }
        // Refused in `apply` before this is reached.
        Event::NewFamily { .. } => out.error("event.new_family_existing", "event", []),
    }
    None
}

/// The longest graduation reason, in characters.
pub const GRADUATION_REASON_MAX: usize = 500;

/// Graduasi: only a family that receives PKH (the program rules' `receiving`) and has
/// no graduation recorded; the reason is required and capped.
fn graduation(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    today: Date,
    kind: GraduationKind,
    date: Date,
    reason: &str,
) {
    check_date(out, date, None, today, "event.date");
    let reason = reason.trim();
    if reason.is_empty() {
        out.error("event.graduation_reason", "event.reason", []);
    }
    let chars = reason.chars().count();
    if chars > GRADUATION_REASON_MAX {
        out.error(
            "event.graduation_reason_long",
            "event.reason",
            [
                ("max", GRADUATION_REASON_MAX.to_string()),
                ("length", chars.to_string()),
            ],
        );
    }
    if let Some(g) = &fam.pkh.graduated {
        out.error(
            "event.already_graduated",
            "pkh.graduated",
            [("date", g.date.to_string())],
        );
    } else if !ProgramRules::builtin().receives_pkh(fam, today) {
        out.error("event.graduation_not_kpm", "assets.programs.pkh", []);
    }
    next.pkh.graduated = Some(Graduated {
        kind,
        date,
        reason: reason.to_owned(),
    });
}

/// Meninggal: 404 = 2 on the date; the surviving partner of a head–spouse couple is
/// widowed (408 = 4).
fn died(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    today: Date,
    nik: &str,
    date: Date,
    new_head: Option<&str>,
) {
    let Some(i) = dated_member(out, fam, nik, date, today) else {
        return;
    };
    replace_head(out, next, i, new_head, Leaves::Died);
    let dead = &mut next.anggota[i];
    dead.presence = presence::DIED;
    dead.presence_date = Some(date);
    let role = fam.anggota[i].relationship;
    for (j, a) in next.anggota.iter_mut().enumerate() {
        let was = fam.anggota[j].relationship;
        let partner = match role {
            rel::HEAD => was == rel::SPOUSE,
            rel::SPOUSE => {
                was == rel::HEAD
                    && fam
                        .anggota
                        .iter()
                        .filter(|m| m.is_active() && m.relationship == rel::SPOUSE)
                        .count()
                        == 1
            }
            _ => false,
        };
        if j != i && a.is_active() && partner && a.marital_status == Some(marital::MARRIED) {
            a.marital_status = Some(marital::WIDOWED);
        }
    }
}

/// Pindah: 404 = 3 to a known region, or 4 abroad.
#[allow(clippy::too_many_arguments)]
fn moved_out(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    ctx: &EventContext,
    nik: &str,
    date: Date,
    destination: &Destination,
    new_head: Option<&str>,
) {
    let Some(i) = dated_member(out, fam, nik, date, ctx.validation.today) else {
        return;
    };
    let (code, to) = match destination {
        Destination::Domestic { region } => {
            if Level::of(region).is_none() || !ctx.validation.regions.contains(region) {
                out.error(
                    "event.destination",
                    "event.destination.region",
                    [("region", region.chars().take(20).collect())],
                );
            }
            (presence::MOVED_DOMESTIC, Some(region.clone()))
        }
        Destination::Abroad { .. } => (presence::MOVED_ABROAD, None),
    };
    replace_head(out, next, i, new_head, Leaves::Moved);
    let m = &mut next.anggota[i];
    m.presence = code;
    m.presence_date = Some(date);
    m.moved_to = to;
}

/// Pindah masuk: a new member (404 = 5), never as head.
fn moved_in(out: &mut Out, next: &mut Keluarga, today: Date, anggota: &Anggota, date: Date) {
    check_date(out, date, Some(anggota.birth_date), today, "event.date");
    if anggota.relationship == rel::HEAD {
        out.error("event.head_joins", "event.anggota.relationship", []);
    }
    add_member(out, next, anggota, "event.anggota.nik");
}

/// Kelahiran: a new member (404 = 5) as child, grandchild or other; late when recorded
/// a year or more after the birth.
fn birth(out: &mut Out, next: &mut Keluarga, today: Date, anggota: &Anggota) {
    let birth = anggota.birth_date;
    check_date(out, birth, None, today, "event.anggota.birth_date");
    if !matches!(
        anggota.relationship,
        rel::CHILD | rel::GRANDCHILD | rel::OTHER
    ) {
        out.error(
            "event.birth_relationship",
            "event.anggota.relationship",
            [("relationship", anggota.relationship.to_string())],
        );
    }
    if birth.age_on(today) >= 1 {
        out.warning(
            "event.birth_late",
            "event.anggota.birth_date",
            [("birth", birth.to_string())],
        );
    }
    add_member(out, next, anggota, "event.anggota.nik");
}

/// Perkawinan: the member becomes married (408 = 2); a new partner joins, or a
/// member partner is married too.
#[allow(clippy::too_many_arguments)]
fn marriage(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    today: Date,
    nik: &str,
    date: Date,
    partner: Option<&Anggota>,
    partner_nik: Option<&str>,
) {
    let Some(i) = dated_member(out, fam, nik, date, today) else {
        return;
    };
    if fam.anggota[i].marital_status == Some(marital::MARRIED) {
        out.error(
            "event.already_married",
            &member_path(i, "marital_status"),
            [],
        );
    }
    next.anggota[i].marital_status = Some(marital::MARRIED);
    let is_head = fam.anggota[i].relationship == rel::HEAD;
    match (partner, partner_nik) {
        (Some(_), Some(_)) => {
            out.error("event.partner_conflict", "event.partner", []);
        }
        (Some(p), None) => {
            let mut p = p.clone();
            p.relationship = if is_head {
                rel::SPOUSE
            } else {
                rel::CHILD_IN_LAW
            };
            p.marital_status = Some(marital::MARRIED);
            check_date(out, date, Some(p.birth_date), today, "event.date");
            add_member(out, next, &p, "event.partner.nik");
        }
        (None, Some(pn)) => match active_index(fam, pn) {
            Some(j) if j == i => out.error("event.partner_self", "event.partner_nik", []),
            Some(j) => {
                next.anggota[j].marital_status = Some(marital::MARRIED);
                if is_head {
                    next.anggota[j].relationship = rel::SPOUSE;
                } else if fam.anggota[j].relationship == rel::HEAD {
                    next.anggota[i].relationship = rel::SPOUSE;
                }
            }
            None => out.error("event.member_unknown", "event.partner_nik", []),
        },
        (None, None) => {}
    }
}

/// Pecah KK: the new family (version 1), and in the old one the leaving members moved
/// (404 = 3) to the new family's village. Gives the new family.
fn split(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    today: Date,
    event: &Event,
) -> Keluarga {
    let Event::FamilySplit {
        new_no_kk,
        date,
        members,
        address,
        housing,
        assets,
        remaining_head,
    } = event
    else {
        unreachable!("split is called with a family split")
    };
    check_date(out, *date, None, today, "event.date");
    if new_no_kk == &fam.no_kk {
        out.error("event.split_same_kk", "event.new_no_kk", []);
    }
    if members.is_empty() {
        out.error("event.split_empty", "event.members", []);
    }
    let leaving = roles(out, fam, members, "event.members");
    let new_address = address.clone().unwrap_or_else(|| fam.address.clone());
    let mut new_family = Keluarga {
        no_kk: new_no_kk.clone(),
        version: 1,
        rulebook_version: None,
        status: FamilyStatus::Active,
        origin_kk: Some(fam.no_kk.clone()),
        merged_into: None,
        ground_checked: None,
        urban_rural: if address.is_some() {
            None
        } else {
            fam.urban_rural
        },
        gps: if address.is_some() { None } else { fam.gps },
        address: new_address,
        member_count: Some(leaving.len() as u16),
        housing: housing.clone().unwrap_or_else(|| fam.housing.clone()),
        assets: assets.clone().unwrap_or_else(|| fam.assets.clone()),
        anggota: Vec::with_capacity(leaving.len()),
        pkh: Default::default(),
    };
    for (n, &(i, relationship)) in leaving.iter().enumerate() {
        let mut a = fam.anggota[i].clone();
        a.relationship = relationship;
        a.number = Some(n as u16 + 1);
        a.presence = presence::LIVES_WITH_FAMILY;
        a.presence_date = None;
        a.moved_to = None;
        new_family.anggota.push(a);
    }
    // The old family: who leaves becomes "moved" to the new family's village.
    let head_leaves = leaving
        .iter()
        .any(|&(i, _)| fam.anggota[i].relationship == rel::HEAD);
    for &(i, _) in &leaving {
        let m = &mut next.anggota[i];
        m.presence = presence::MOVED_DOMESTIC;
        m.presence_date = Some(*date);
        m.moved_to = Some(new_family.address.village.clone());
    }
    let remaining = next.active_members().count();
    if remaining == 0 {
        next.status = FamilyStatus::Split;
    } else if head_leaves {
        match remaining_head.as_deref() {
            None => out.error("event.new_head_required", "event.remaining_head", []),
            Some(nik) => match active_index(next, nik) {
                Some(j) => next.anggota[j].relationship = rel::HEAD,
                None => out.error("event.new_head_unknown", "event.remaining_head", []),
            },
        }
    }
    new_family
}

/// Gabung KK: every active member joins the target family (404 = 5 there, 404 = 3
/// here) and this family becomes `merged`. Gives the target's next version.
fn merge(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    ctx: &EventContext,
    into_no_kk: &str,
    date: Date,
    members: &[MemberRole],
) -> Option<Keluarga> {
    check_date(out, date, None, ctx.validation.today, "event.date");
    if into_no_kk == fam.no_kk {
        out.error("event.merge_self", "event.into_no_kk", []);
    }
    let target = ctx.target.filter(|t| t.no_kk == into_no_kk);
    let joining = roles(out, fam, members, "event.members");
    for (i, a) in fam.anggota.iter().enumerate() {
        if a.is_active() && !joining.iter().any(|&(j, _)| j == i) {
            out.error(
                "event.merge_member_missing",
                "event.members",
                [("number", a.number.unwrap_or(i as u16 + 1).to_string())],
            );
        }
    }
    let mut other = None;
    match target {
        None => out.error(
            "event.merge_target",
            "event.into_no_kk",
            [("into", into_no_kk.chars().take(16).collect())],
        ),
        Some(t) if t.status != FamilyStatus::Active => out.error(
            "event.not_active_family",
            "event.into_no_kk",
            [("status", status_name(t.status))],
        ),
        Some(t) => {
            let mut merged = t.clone();
            merged.version = t.version.saturating_add(1);
            for &(i, relationship) in &joining {
                let mut a = fam.anggota[i].clone();
                a.relationship = relationship;
                a.presence = presence::NEW_MEMBER;
                a.presence_date = None;
                a.moved_to = None;
                a.number = Some(next_number(&merged));
                merged.anggota.push(a);
            }
            refresh_count(&mut merged);
            other = Some(merged);
        }
    }
    let village = target.map(|t| t.address.village.clone());
    for &(i, _) in &joining {
        let m = &mut next.anggota[i];
        m.presence = presence::MOVED_DOMESTIC;
        m.presence_date = Some(date);
        m.moved_to = village.clone();
    }
    next.status = FamilyStatus::Merged;
    next.merged_into = Some(into_no_kk.to_owned());
    other
}

/// Uji petik, koreksi: the corrected family; `visited` becomes `ground_checked`.
fn variable_correction(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    today: Date,
    corrections: &[Correction],
    visited: Option<Date>,
) {
    if corrections.is_empty() {
        out.error("event.correction_empty", "event.corrections", []);
    }
    if let Some(date) = visited {
        check_date(out, date, None, today, "event.visited");
    }
    if let Some(corrected) = correct(out, fam, corrections) {
        *next = corrected;
    }
    if visited.is_some() {
        next.ground_checked = visited;
    }
}

/// Uji petik, data sesuai: only a record without errors; `date` becomes
/// `ground_checked`.
fn ground_check_confirmed(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    ctx: &EventContext,
    date: Date,
) {
    check_date(out, date, None, ctx.validation.today, "event.date");
    let mut found = Vec::new();
    validate_into(fam, &ctx.validation, &mut found);
    let errors = found.iter().filter(|f| f.is_error()).count();
    if errors > 0 {
        out.error(
            "event.confirm_with_errors",
            "event",
            [("count", errors.to_string())],
        );
    }
    next.ground_checked = Some(date);
}

/// Anggota tidak ditemukan: 404 = 6.
fn member_not_found(
    out: &mut Out,
    fam: &Keluarga,
    next: &mut Keluarga,
    today: Date,
    nik: &str,
    date: Date,
    new_head: Option<&str>,
) {
    let Some(i) = member(out, fam, nik) else {
        return;
    };
    check_date(out, date, None, today, "event.date");
    replace_head(out, next, i, new_head, Leaves::NotFound);
    // The rulebook asks a presence date only for 404 = 2–4; the visit date stays in
    // the event.
    next.anggota[i].presence = presence::NOT_FOUND;
}

/// The last active member leaves: the family record closes (moved, not found, ended);
/// any other event may not leave an active family without members.
fn close_when_empty(out: &mut Out, next: &mut Keluarga, event: &Event) {
    if next.status != FamilyStatus::Active || next.active_members().next().is_some() {
        return;
    }
    match event {
        Event::MemberMovedOut { .. } => next.status = FamilyStatus::Moved,
        Event::MemberNotFound { .. } => next.status = FamilyStatus::NotFound,
        Event::MemberDied { .. } => next.status = FamilyStatus::Ended,
        _ => out.error("event.last_member", "event.nik", []),
    }
}

/// Stamps the rulebook version and validates the result with the core's validation;
/// blocks only on errors the event introduced. A family the event closes (split to
/// nothing, merged, not found) is not re-validated: no rule about its members applies
/// any more.
fn finish(
    out: Out,
    fam: &Keluarga,
    mut next: Keluarga,
    mut other: Option<Keluarga>,
    event: &Event,
    ctx: &EventContext,
) -> Result<Applied, Vec<Finding>> {
    let version = ctx.validation.rulebook.version().to_owned();
    next.rulebook_version = Some(version.clone());
    if let Some(o) = other.as_mut() {
        o.rulebook_version = Some(version);
    }
    let validate = |k: &Keluarga| {
        let mut v = Vec::new();
        validate_into(k, &ctx.validation, &mut v);
        v
    };
    let mut findings = out.findings;
    let (before, after) = if next.status == FamilyStatus::Active {
        (validate(fam), validate(&next))
    } else {
        (Vec::new(), Vec::new())
    };
    let mut new_errors = Vec::new();
    for f in after {
        if f.is_error() && !before.iter().any(|b| same_finding(b, &f)) {
            new_errors.push(f);
        } else {
            findings.push(f);
        }
    }
    if let Some(o) = &other {
        let before_other = match (event, ctx.target) {
            (Event::FamilyMerge { .. }, Some(t)) => validate(t),
            _ => Vec::new(),
        };
        for mut f in validate(o) {
            let introduced = f.is_error() && !before_other.iter().any(|b| same_finding(b, &f));
            f.path = if f.path.is_empty() {
                "other".to_owned()
            } else {
                format!("other.{}", f.path)
            };
            if introduced {
                new_errors.push(f);
            } else {
                findings.push(f);
            }
        }
    }
    if !new_errors.is_empty() {
        new_errors.extend(
            findings
                .into_iter()
                .filter(|f| f.rule.starts_with("event.")),
        );
        return Err(new_errors);
    }
    Ok(Applied {
        keluarga: next,
        other,
        findings,
    })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with a real date and time.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return false;
    }
    if Date::parse(&s[..10]).is_err() || !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let two = |i: usize| -> Option<u8> {
        let (x, y) = (b.get(i)?, b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| (x - b'0') * 10 + (y - b'0'))
    };
    let (Some(h), Some(m), Some(sec)) = (two(11), two(14), two(17)) else {
        return false;
    };
    if b[13] != b':' || b[16] != b':' || h > 23 || m > 59 || sec > 60 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && b[i + 3] == b':'
                && two(i + 1).is_some_and(|x| x <= 23)
                && two(i + 4).is_some_and(|x| x <= 59)
        }
        _ => false,
    }
}

/// Index of the active member with this NIK.
pub(super) fn active_index(fam: &Keluarga, nik: &str) -> Option<usize> {
    fam.anggota
        .iter()
        .position(|a| a.is_active() && a.nik == nik)
}

fn member_path(i: usize, field: &str) -> String {
    format!("anggota[{i}].{field}")
}

pub(super) fn check_date(out: &mut Out, date: Date, birth: Option<Date>, today: Date, path: &str) {
    if date > today {
        out.error("event.date_future", path, [("date", date.to_string())]);
    }
    if let Some(b) = birth
        && date < b
    {
        out.error(
            "event.date_before_birth",
            path,
            [("date", date.to_string()), ("birth", b.to_string())],
        );
    }
}

fn status_name(s: FamilyStatus) -> String {
    crate::to_tree(&s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The next free 401 number.
fn next_number(fam: &Keluarga) -> u16 {
    let max = fam.anggota.iter().filter_map(|a| a.number).max();
    max.unwrap_or(fam.anggota.len() as u16).saturating_add(1)
}

fn refresh_count(fam: &mut Keluarga) {
    if fam.member_count.is_some() {
        fam.member_count = Some(fam.active_members().count() as u16);
    }
}

/// The head leaves while others stay: `new_head` must name another active member,
/// who becomes head (409 = 1). Other relationships are left as recorded.
/// Why a member leaves the family: the words of the finding when the head leaves.
#[derive(Clone, Copy)]
enum Leaves {
    Died,
    Moved,
    NotFound,
}

fn replace_head(
    out: &mut Out,
    fam: &mut Keluarga,
    leaving: usize,
    new_head: Option<&str>,
    why: Leaves,
) {
    let others_remain = fam
        .anggota
        .iter()
        .enumerate()
        .any(|(i, a)| i != leaving && a.is_active());
    if fam.anggota[leaving].relationship != rel::HEAD || !others_remain {
        return;
    }
    let Some(nik) = new_head else {
        let words = match why {
            Leaves::Died => "event.new_head_required.died",
            Leaves::Moved => "event.new_head_required",
            Leaves::NotFound => "event.new_head_required.not_found",
        };
        out.error_worded("event.new_head_required", words, "event.new_head", []);
        return;
    };
    match active_index(fam, nik) {
        Some(j) if j != leaving => fam.anggota[j].relationship = rel::HEAD,
        _ => out.error("event.new_head_unknown", "event.new_head", []),
    }
}

pub(super) fn same_finding(a: &Finding, b: &Finding) -> bool {
    a.rule == b.rule && a.path == b.path && a.values == b.values
}

/// The active member with this NIK, or a finding.
fn member(out: &mut Out, fam: &Keluarga, nik: &str) -> Option<usize> {
    let found = active_index(fam, nik);
    if found.is_none() {
        out.error("event.member_unknown", "event.nik", []);
    }
    found
}

/// The active member with this NIK, with the event date checked against today and
/// the member's birth date; or a finding.
fn dated_member(
    out: &mut Out,
    fam: &Keluarga,
    nik: &str,
    date: Date,
    today: Date,
) -> Option<usize> {
    let i = member(out, fam, nik)?;
    check_date(
        out,
        date,
        Some(fam.anggota[i].birth_date),
        today,
        "event.date",
    );
    Some(i)
}

/// Resolves a list of members with roles; each must be an active member, once.
fn roles(out: &mut Out, fam: &Keluarga, members: &[MemberRole], path: &str) -> Vec<(usize, Code)> {
    let mut res: Vec<(usize, Code)> = Vec::with_capacity(members.len());
    for (k, m) in members.iter().enumerate() {
        let p = format!("{path}[{k}].nik");
        match active_index(fam, &m.nik) {
            None => out.error("event.member_unknown", &p, []),
            Some(i) if res.iter().any(|&(j, _)| j == i) => {
                out.error("event.member_repeated", &p, [])
            }
            Some(i) => res.push((i, m.relationship)),
        }
    }
    res
}

/// Adds a new member (404 = 5) with the next 401 number.
fn add_member(out: &mut Out, fam: &mut Keluarga, a: &Anggota, path: &str) {
    if fam.anggota.iter().any(|m| m.is_active() && m.nik == a.nik) {
        out.error("event.nik_exists", path, []);
    }
    let mut a = a.clone();
    a.presence = presence::NEW_MEMBER;
    a.presence_date = None;
    a.moved_to = None;
    a.number = Some(next_number(fam));
    fam.anggota.push(a);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_accepts_utc_offsets_and_fractions_only() {
        for ok in [
            "2026-11-23T08:15:00Z",
            "2026-11-23T08:15:00.123Z",
            "2026-11-23T08:15:00+07:00",
            "2026-11-23t08:15:00-09:30",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-11-23",
            "2026-11-23T08:15:00",
            "2026-02-30T08:15:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T08:15:00+0700",
            "2026-11-23T08:15:00.Z",
            "2026-11-23T08:15:00Zjunk",
            "२०२६-11-23T08:15:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("0b9c1f4e-7a2d-4e5f-8c3b-9d1e2f3a4b5c"));
        assert!(is_uuid("0B9C1F4E-7A2D-4E5F-8C3B-9D1E2F3A4B5C"));
        assert!(!is_uuid("0b9c1f4e7a2d4e5f8c3b9d1e2f3a4b5c"));
        assert!(!is_uuid("0b9c1f4e-7a2d-4e5f-8c3b-9d1e2f3a4b5g"));
    }
}
