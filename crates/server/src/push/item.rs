//! One item of a push inside the writer's transaction: replay, checks against the head,
//! the decision (rejected, conflict, queued for review, applied) and its stored answer.

use tepat_core::event::{Applied, ChangeRequest, Event, content_hash};
use tepat_core::rulebook::Rulebook;
use tepat_core::{Date, Finding, Keluarga, Severity};

use super::apply::{Device, apply_both};
use super::batch::{Batch, stage_applied};
use super::prepare::Prepared;
use super::{ItemResult, RulebookChecks, finding, reject};
use crate::audit::NewEntry;
use crate::auth::User;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, today_at};
use crate::store::{self, Tx, Val};

/// What every item of one push is checked with: the caller as stored now, the
/// device's and the current rulebook, and the instant (each family's "today" is the
/// date then in its province's time zone).
pub struct ItemContext<'a> {
    pub state: &'a AppState,
    pub user: &'a User,
    pub device: &'a Device<'a>,
    pub current: &'a Rulebook,
    pub now: i64,
}

impl ItemContext<'_> {
    /// "Today" for the family whose head is `h`.
    fn today(&self, h: &store::Head) -> Date {
        today_at(self.now, &h.province)
    }
}

/// Handles one item inside the batch transaction. Returns (result, was_replay).
pub async fn push_one(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    cx: &ItemContext<'_>,
    item: &ChangeRequest,
    prep: Option<&Prepared>,
) -> ApiResult<(ItemResult, bool)> {
    let hash = prep.map_or_else(|| content_hash(item), |p| p.hash.clone());
    if let Some(answer) = replay(batch, item, &hash)? {
        return Ok(answer);
    }
    let head = batch.head(tx, &item.no_kk).await?;
    let new_family = matches!(item.event, Event::NewFamily { .. });
    // A new family is in its case's village (the scope check read the case).
    let village = if new_family {
        super::new_family::case_of(tx, item)
            .await?
            .map(|c| c.village)
            .unwrap_or_default()
    } else {
        head.as_ref().map(|h| h.village.clone()).unwrap_or_default()
    };
    // The same check as `verify_hash`, on the hash computed above.
    let (mut result, checks) = if item.hash.as_ref().is_some_and(|sent| *sent != hash) {
        let mismatch = finding(
            "sync.hash_mismatch",
            Severity::Error,
            "hash",
            "Isi perubahan tidak sama dengan hash yang dikirim (berubah setelah dikunci).",
            "The change does not match its submitted hash (it changed after sealing).",
            &[],
        );
        (reject(item, vec![mismatch]), None)
    } else if new_family {
        super::new_family::check_new_family(tx, batch, cx, item).await?
    } else if let Some(h) = &head {
        check_on_head(tx, batch, cx, item, prep, h).await?
    } else {
        let unknown = finding(
            "sync.household_unknown",
            Severity::Error,
            "no_kk",
            "Keluarga dengan No. KK ini tidak ada di server.",
            "No family with this No. KK exists on the server.",
            &[],
        );
        (reject(item, vec![unknown]), None)
    };
    result.rulebooks = checks;
    record_answer(batch, cx, item, &village, hash, &result)?;
    Ok((result, false))
}

/// An id this batch or the database already answered: the same answer again when the
/// content is the same, else a rejection (the id belongs to another request).
fn replay(
    batch: &Batch,
    item: &ChangeRequest,
    hash: &str,
) -> ApiResult<Option<(ItemResult, bool)>> {
    let Some((stored_hash, response)) = batch.answers.get(&item.id) else {
        return Ok(None);
    };
    if stored_hash == hash {
        let r: ItemResult =
            serde_json::from_str(response).map_err(|e| ApiError::Internal(e.into()))?;
        return Ok(Some((r, true)));
    }
    let reused = finding(
        "sync.id_reused",
        Severity::Error,
        "id",
        "ID perubahan ini sudah dipakai untuk perubahan lain; buat ID baru.",
        "This change id was already used for a different change; make a new id.",
        &[],
    );
    Ok(Some((reject(item, vec![reused]), false)))
}

/// The item against the household's head: a stale item is checked against its base
/// version and becomes a conflict; a current one is applied (or its outcome from
/// before the writer reused) and decided.
async fn check_on_head(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    cx: &ItemContext<'_>,
    item: &ChangeRequest,
    prep: Option<&Prepared>,
    h: &store::Head,
) -> ApiResult<(ItemResult, Option<RulebookChecks>)> {
    // The work done before the writer, if it was done on this very head under the same
    // rulebooks and date.
    let today = cx.today(h);
    let reuse = prep.and_then(|p| p.applied.as_ref()).filter(|a| {
        a.seq == h.seq
            && a.version == h.version
            && a.registry == cx.device.registry
            && a.device == cx.device.version
            && a.today == today
    });
    let loaded;
    let fam = match reuse {
        Some(a) => &a.fam,
        None => {
            loaded = batch.family(tx, h).await?;
            &loaded
        }
    };
    if i64::from(item.base_version) < h.version {
        return stale(tx, batch, cx, item, h).await;
    }
    let target = merge_target(tx, batch, item).await?;
    let fresh;
    let (outcome, checks, encoded) = match reuse {
        Some(a) if target.is_none() => (&a.outcome, a.checks.clone(), a.encoded.clone()),
        _ => {
            let (o, c) = apply_both(
                cx.state,
                fam,
                item,
                cx.device,
                cx.current,
                today,
                target.as_ref(),
            );
            fresh = o;
            (&fresh, c, None)
        }
    };
    let result = match outcome {
        Err(f) => reject(item, f.clone()),
        Ok(applied) => decide(tx, batch, cx, item, fam, applied, encoded).await?,
    };
    Ok((result, Some(checks)))
}

/// An item made on an older version: it must still be valid against that version;
/// then it is kept as a conflict for the supervisor.
async fn stale(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    cx: &ItemContext<'_>,
    item: &ChangeRequest,
    h: &store::Head,
) -> ApiResult<(ItemResult, Option<RulebookChecks>)> {
    let (errors, checks) = match batch
        .version(tx, &item.no_kk, i64::from(item.base_version))
        .await?
    {
        Some(base) => {
            let (r, c) = apply_both(
                cx.state,
                &base,
                item,
                cx.device,
                cx.current,
                cx.today(h),
                None,
            );
            (r.err(), Some(c))
        }
        None => (None, None),
    };
    if let Some(errors) = errors.filter(|e| {
        e.iter()
            .any(|f| f.is_error() && f.rule != "event.base_version")
    }) {
        return Ok((reject(item, errors), checks));
    }
    let conflict = ItemResult {
        id: item.id.clone(),
        outcome: "conflict".into(),
        status: "pending_review".into(),
        findings: vec![finding(
            "sync.conflict",
            Severity::Warning,
            "base_version",
            "Keluarga ini sudah diubah sejak versi {base} (sekarang versi {current}); perubahan Anda disimpan dan diteruskan ke koordinator.",
            "This family changed since version {base} (now version {current}); your change is kept and sent to the supervisor.",
            &[
                ("base", item.base_version.to_string()),
                ("current", h.version.to_string()),
            ],
        )],
        version: None,
        rulebooks: None,
    };
    Ok((conflict, checks))
}

/// The family a merge joins, as this batch left it.
async fn merge_target(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    item: &ChangeRequest,
) -> ApiResult<Option<Keluarga>> {
    let Event::FamilyMerge { into_no_kk, .. } = &item.event else {
        return Ok(None);
    };
    match batch.head(tx, into_no_kk).await? {
        Some(t) => Ok(Some(batch.family(tx, &t).await?)),
        None => Ok(None),
    }
}

/// A valid item: refused when a split's new family is not allowed, queued for review
/// when its kind needs review or it carries warnings, else applied in this batch.
async fn decide(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    cx: &ItemContext<'_>,
    item: &ChangeRequest,
    fam: &Keluarga,
    applied: &Applied,
    encoded: Option<store::Encoded>,
) -> ApiResult<ItemResult> {
    let other_exists = match &applied.other {
        Some(o) => batch.head(tx, &o.no_kk).await?.is_some(),
        None => false,
    };
    let blocked = split_blocked(cx.user, item, applied, other_exists);
    let mut findings = applied.findings.clone();
    findings.extend(nik_warnings(tx, applied, fam).await?);
    if let Some(f) = blocked {
        return Ok(reject(item, vec![f]));
    }
    let has_warnings = findings.iter().any(|f| f.severity == Severity::Warning);
    if item.event.needs_review() || has_warnings {
        return Ok(ItemResult {
            id: item.id.clone(),
            outcome: "accepted".into(),
            status: "pending_review".into(),
            findings,
            version: None,
            rulebooks: None,
        });
    }
    let version = stage_applied(tx, batch, cx.user, item, fam, applied, encoded).await?;
    Ok(ItemResult {
        id: item.id.clone(),
        outcome: "accepted".into(),
        status: "applied".into(),
        findings,
        version: Some(version),
        rulebooks: None,
    })
}

/// A warning for each NIK of the new version that is still active in another family.
async fn nik_warnings(
    tx: &mut Tx<'_>,
    applied: &Applied,
    fam: &Keluarga,
) -> ApiResult<Vec<Finding>> {
    let mut out = Vec::new();
    for nik in store::niks_elsewhere(tx, &applied.keluarga, Some(fam)).await? {
        let path = applied
            .keluarga
            .anggota
            .iter()
            .position(|a| a.nik == nik)
            .map(|i| format!("anggota[{i}].nik"))
            .unwrap_or_default();
        out.push(finding(
            "sync.nik_in_other_family",
            Severity::Warning,
            &path,
            "NIK ini masih aktif di keluarga lain; koordinator akan memeriksa.",
            "This NIK is still active in another family; the supervisor will check.",
            &[],
        ));
    }
    Ok(out)
}

/// Why an item waits for the supervisor: a conflict, its kind, confirmed warnings.
fn review_reasons<'a>(item: &'a ChangeRequest, result: &ItemResult) -> Vec<&'a str> {
    let mut r = Vec::new();
    if result.outcome == "conflict" {
        r.push("conflict");
    }
    if result.status == "pending_review" && item.event.needs_review() {
        r.push(item.event.kind().name());
    }
    if result.status == "pending_review"
        && result
            .findings
            .iter()
            .any(|f| f.severity == Severity::Warning && f.rule != "sync.conflict")
    {
        r.push("confirmed_warnings");
    }
    r
}

/// The most bytes of a rejected item's body that are stored (16 KiB).
pub const REJECTED_BODY_CAP: usize = 16 * 1024;

/// Queues the item's row (its answer, replayed for the same id) and, when it waits
/// for review, the audit entry.
fn record_answer(
    batch: &mut Batch,
    cx: &ItemContext<'_>,
    item: &ChangeRequest,
    village: &str,
    hash: String,
    result: &ItemResult,
) -> ApiResult<()> {
    let mut payload = serde_json::to_string(item).map_err(|e| ApiError::Internal(e.into()))?;
    if result.outcome == "rejected" && payload.len() > REJECTED_BODY_CAP {
        // A rejected body is kept only up to the cap: beyond it, its size and hash (the
        // findings and the answer, replayed for the same id, are kept in full).
        payload = serde_json::json!({
            "omitted": true,
            "bytes": payload.len(),
            "content_hash": hash,
        })
        .to_string();
    }
    let response = serde_json::to_string(result).map_err(|e| ApiError::Internal(e.into()))?;
    let findings_json =
        serde_json::to_string(&result.findings).map_err(|e| ApiError::Internal(e.into()))?;
    let reasons =
        serde_json::to_string(&review_reasons(item, result)).unwrap_or_else(|_| "[]".into());
    let province = store::province_of(village);
    batch.stored.0 += 1;
    batch.stored.1 += (payload.len() + response.len() + findings_json.len()) as i64;
    batch.writes.changes.push([
        Val::Text(item.id.clone()),
        Val::Text(province.clone()),
        Val::Text(village.to_owned()),
        Val::Text(item.no_kk.clone()),
        Val::Int(cx.user.id),
        Val::Text(item.event.kind().name().to_owned()),
        Val::Int(i64::from(item.base_version)),
        Val::Text(cx.device.version.to_owned()),
        Val::Text(payload),
        Val::Text(hash.clone()),
        Val::Text(result.outcome.clone()),
        Val::Text(result.status.clone()),
        Val::Text(reasons),
        Val::Text(findings_json),
        Val::OptInt(result.version.map(i64::from)),
        Val::Text(response.clone()),
        Val::Int(now()),
    ]);
    // A repeated id later in the same batch is a replay of this one.
    batch.answers.insert(item.id.clone(), (hash, response));
    if result.status == "pending_review" {
        batch.writes.record(NewEntry {
            user: Some(cx.user),
            action: "queue",
            province: Some(&province),
            household_id: Some(&item.no_kk),
            change_id: Some(&item.id),
            ..NewEntry::default()
        });
    }
    Ok(())
}

/// A split's new family must not exist yet and must lie in the caller's area.
pub async fn other_blocked(
    tx: &mut Tx<'_>,
    user: &User,
    item: &ChangeRequest,
    applied: &Applied,
) -> ApiResult<Option<Finding>> {
    let exists = match &applied.other {
        Some(o) => store::head(&mut **tx, &o.no_kk).await?.is_some(),
        None => false,
    };
    Ok(split_blocked(user, item, applied, exists))
}

/// [`other_blocked`] with the existence of the other family already known.
pub fn split_blocked(
    user: &User,
    item: &ChangeRequest,
    applied: &Applied,
    other_exists: bool,
) -> Option<Finding> {
    let (Some(other), Event::FamilySplit { .. }) = (&applied.other, &item.event) else {
        return None;
    };
    if other_exists {
        return Some(finding(
            "sync.no_kk_exists",
            Severity::Error,
            "event.new_no_kk",
            "No. KK baru sudah dipakai keluarga lain.",
            "The new No. KK already belongs to another family.",
            &[],
        ));
    }
    // Every role, reviewers too: a koordinator's split cannot create a family outside
    // its district, nor Dinsos's outside its regency.
    if !user.covers(store::village_of(other)) {
        return Some(finding(
            "sync.region_outside",
            Severity::Error,
            "event.address.village",
            "Alamat keluarga baru di luar wilayah tugas Anda.",
            "The new family's address is outside your area.",
            &[],
        ));
    }
    None
}
