//! A `new_family` item: a family not in the register, registered by a visit for a
//! verified usul. Its scope is the case's village (there is no household to look up);
//! the case must be an usul of a new family, verified by Dinsos, without a family
//! registered or waiting for review; the family's address must be the case's village.

use tepat_core::event::{ChangeRequest, Event, RegisterFacts};
use tepat_core::participation::{Kind, Rules, State, Target};
use tepat_core::{Date, Finding, Severity};

use super::apply::apply_new_both;
use super::batch::Batch;
use super::item::ItemContext;
use super::{ItemResult, RulebookChecks, finding, reject};
use crate::error::ApiResult;
use crate::participation::{CaseRow, case_by_id};
use crate::state::today_at;
use crate::store::{self, Tx};

/// The case a `new_family` item names, when it exists.
pub async fn case_of(tx: &mut Tx<'_>, item: &ChangeRequest) -> ApiResult<Option<CaseRow>> {
    let Event::NewFamily { case_id, .. } = &item.event else {
        return Ok(None);
    };
    match i64::try_from(*case_id) {
        Ok(id) => case_by_id(&mut **tx, id).await,
        Err(_) => Ok(None),
    }
}

/// Why a new family may not be registered for `case` (named by `change_id`, the change
/// registering it, or none at push) with its address in `village`, or `None`.
pub fn case_refusal(
    case: &CaseRow,
    village: &str,
    change_id: Option<&str>,
    today: Date,
) -> Option<Finding> {
    if case.kind != Kind::Usul || case.target != Target::NewFamily.as_str() {
        return Some(finding(
            "sync.case_not_new_family",
            Severity::Error,
            "event.case_id",
            "Pengajuan ini bukan usul keluarga yang belum terdaftar; keluarga baru hanya dicatat untuk usul seperti itu.",
            "This case is not an usul of a family left out of the register; a new family is recorded only for such an usul.",
            &[],
        ));
    }
    let state = Rules::builtin().state_on(&case.facts(), today);
    if state != State::Verified {
        return Some(finding(
            "sync.case_not_verified",
            Severity::Error,
            "event.case_id",
            "Usul ini belum diverifikasi Dinas Sosial (status: {state}); keluarga baru dicatat setelah verifikasi.",
            "This usul is not verified by Dinsos (state: {state}); a new family is recorded after verification.",
            &[("state", state.as_str().to_owned())],
        ));
    }
    let own = change_id.is_some() && case.family_change_id.as_deref() == change_id;
    if case.no_kk.is_some() || (case.family_change_id.is_some() && !own) {
        return Some(finding(
            "sync.case_has_family",
            Severity::Error,
            "event.case_id",
            "Keluarga untuk usul ini sudah dikirim atau sudah terdaftar.",
            "A family for this usul was already sent or is already registered.",
            &[],
        ));
    }
    if village != case.village {
        return Some(finding(
            "sync.case_village",
            Severity::Error,
            "event.address.village",
            "Alamat keluarga baru harus di desa/kelurahan usul.",
            "The new family's address must be in the usul's village.",
            &[],
        ));
    }
    None
}

/// What the register says of a new family: its No. KK registered, and its members'
/// NIKs that are active members of a registered family.
pub async fn register_facts(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    item: &ChangeRequest,
) -> ApiResult<(bool, Vec<String>)> {
    let kk_registered = batch.head(tx, &item.no_kk).await?.is_some();
    let mut niks = Vec::new();
    if let Event::NewFamily { anggota, .. } = &item.event {
        for a in anggota {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT household_id FROM member_niks WHERE nik = $1 LIMIT 1")
                    .bind(&a.nik)
                    .fetch_optional(&mut **tx)
                    .await?;
            if row.is_some() {
                niks.push(a.nik.clone());
            }
        }
    }
    Ok((kk_registered, niks))
}

/// Checks a `new_family` item (already in the caller's scope by its case) and, when
/// valid, queues it for review and marks the case as having its family sent.
pub(super) async fn check_new_family(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    cx: &ItemContext<'_>,
    item: &ChangeRequest,
) -> ApiResult<(ItemResult, Option<RulebookChecks>)> {
    let Event::NewFamily { address, .. } = &item.event else {
        return Ok((reject(item, Vec::new()), None));
    };
    let Some(case) = case_of(tx, item).await? else {
        return Ok((reject(item, vec![unknown_case()]), None));
    };
    let today = today_at(cx.now, &store::province_of(&case.village));
    if let Some(f) = case_refusal(&case, &address.village, None, today) {
        return Ok((reject(item, vec![f]), None));
    }
    let (kk_registered, niks) = register_facts(tx, batch, item).await?;
    let register = RegisterFacts {
        kk_registered,
        niks_registered: &niks,
    };
    let (outcome, checks) = apply_new_both(cx.state, item, cx.device, cx.current, today, &register);
    let applied = match outcome {
        Err(f) => return Ok((reject(item, f), Some(checks))),
        Ok(a) => a,
    };
    // The case's family is now on its way: a second one is refused until a reviewer
    // rejects this one.
    sqlx::query(
        "UPDATE participation_cases SET family_change_id = $1 WHERE id = $2 AND family_change_id IS NULL",
    )
    .bind(&item.id)
    .bind(case.id)
    .execute(&mut **tx)
    .await?;
    let result = ItemResult {
        id: item.id.clone(),
        outcome: "accepted".into(),
        status: "pending_review".into(),
        findings: applied.findings,
        version: None,
        rulebooks: None,
    };
    Ok((result, Some(checks)))
}

/// The answer for a case that does not exist (the scope check answers it first; this
/// is for a case gone since).
pub fn unknown_case() -> Finding {
    finding(
        "sync.case_unknown",
        Severity::Error,
        "event.case_id",
        "Usul dengan nomor ini tidak ada di wilayah tugas Anda.",
        "No usul with this id exists in your area.",
        &[],
    )
}
