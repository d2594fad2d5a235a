//! Public participation cases (usul, sanggah): filing with a gapless ticket number per
//! year, the steps officials take, the deliberation record and the files. Every rule
//! (filing checks, who may take which step from which state, the window, the quarter) is
//! tepat-core's `participation::Rules`; this module looks up the facts, stores and audits.

use serde::Serialize;
use serde_json::{Value, json};
use tepat_core::Date;
use tepat_core::participation::{
    CaseFacts, FilerFamily, Filing, FilingFacts, Kind, Refusal, Request, Rules, State, Target,
    TargetFamily,
};

use crate::audit::{self, NewEntry};
use crate::auth::{Role, User};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{self, Tx};

/// The largest file accepted (house photo, berita acara, SPTJM).
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;
/// The body cap of the public filing endpoints: a 2 MB file in base64 and the form.
pub const PUBLIC_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The role name the participation rules know a caller by.
pub fn role_name(role: Role) -> &'static str {
    role.as_str()
}

/// Roles that may read participation cases (the filer's data): officials of a region.
pub fn may_read(role: Role) -> bool {
    matches!(
        role,
        Role::OperatorDesa | Role::Supervisor | Role::DinsosAdmin | Role::Admin
    )
}

/// A file's type by its first bytes: JPEG, PNG, WebP, or (when `pdf`) PDF.
pub fn file_type(bytes: &[u8], pdf: bool) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if pdf && bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// A file sent as base64 in a JSON field: decoded, at most [`MAX_FILE_BYTES`], of an
/// accepted type.
pub fn decode_file(b64: &str, path: &str, pdf: bool) -> ApiResult<(Vec<u8>, &'static str)> {
    use base64::Engine;
    if b64.len() > MAX_FILE_BYTES / 3 * 4 + 8 {
        return Err(file_too_large(path));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| {
            ApiError::unprocessable(
                "Berkas harus dikirim sebagai base64. / The file must be sent as base64.",
                json!({ "path": path }),
            )
        })?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(file_too_large(path));
    }
    let Some(kind) = file_type(&bytes, pdf) else {
        return Err(ApiError::unprocessable(
            if pdf {
                "Berkas harus foto JPEG, PNG atau WebP, atau PDF. / The file must be a JPEG, PNG or WebP photo, or a PDF."
            } else {
                "Berkas harus foto JPEG, PNG atau WebP. / The file must be a JPEG, PNG or WebP photo."
            },
            json!({ "path": path }),
        ));
    };
    Ok((bytes, kind))
}

fn file_too_large(path: &str) -> ApiError {
    ApiError::PayloadTooLarge {
        message: format!(
            "Berkas terlalu besar (maks. {} MB). / The file is too large (max {} MB).",
            MAX_FILE_BYTES >> 20,
            MAX_FILE_BYTES >> 20
        ),
        details: json!({ "path": path, "max_bytes": MAX_FILE_BYTES }),
    }
}

fn refusal_json(r: &Refusal) -> Value {
    json!({ "code": r.code, "path": r.path, "message": format!("{} / {}", r.message.id, r.message.en) })
}

/// Refused filing checks as 422, every refusal listed.
fn refused_filing(refusals: &[Refusal]) -> ApiError {
    let first = refusals
        .first()
        .map(|r| format!("{} / {}", r.message.id, r.message.en))
        .unwrap_or_default();
    ApiError::unprocessable(
        first,
        json!({ "refusals": refusals.iter().map(refusal_json).collect::<Vec<_>>() }),
    )
}

/// A refused step: the wrong role 403; a closed case, a skipped step or a passed
/// window 409; a missing record or reason 422.
fn refused_step(r: &Refusal) -> ApiError {
    let message = format!("{} / {}", r.message.id, r.message.en);
    let details = json!({ "refusal": r.code, "path": r.path });
    match r.code.as_str() {
        "action.role" => ApiError::Forbidden(format!("{} ({})", r.message.en, r.code)),
        "action.decided" | "action.state" | "action.expired" | "appeal.state" | "appeal.used" => {
            ApiError::Conflict { message, details }
        }
        _ => ApiError::Unprocessable { message, details },
    }
}

/// The answer to a filing.
#[derive(Serialize, Debug)]
pub struct Filed {
    pub ticket: String,
    /// The same filer, target and kind within the duplicate window: the first ticket.
    pub duplicate: bool,
    pub message: String,
}

/// The registered family a NIK is an active member of.
async fn family_of_member(state: &AppState, nik: &str) -> ApiResult<Option<FilerFamily>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT household_id FROM member_niks WHERE nik = $1")
            .bind(nik)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some((kk,)) = row else { return Ok(None) };
    let Some(head) = store::head(&state.db.pool, &kk).await? else {
        return Ok(None);
    };
    let k = head.keluarga().map_err(ApiError::Internal)?;
    let member = k.active_members().any(|a| a.nik == nik);
    let active = k.status == tepat_core::FamilyStatus::Active && !head_deleted(state, &kk).await?;
    Ok((member && active).then_some(FilerFamily {
        no_kk: kk,
        village: head.village,
    }))
}

async fn head_deleted(state: &AppState, no_kk: &str) -> ApiResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT deleted FROM households WHERE id = $1")
        .bind(no_kk)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.is_none_or(|r| r.0 != 0))
}

async fn target_family(state: &AppState, no_kk: &str) -> ApiResult<Option<TargetFamily>> {
    let Some(head) = store::head(&state.db.pool, no_kk).await? else {
        return Ok(None);
    };
    let k = head.keluarga().map_err(ApiError::Internal)?;
    let active =
        k.status == tepat_core::FamilyStatus::Active && !head_deleted(state, no_kk).await?;
    Ok(Some(TargetFamily {
        village: head.village,
        active,
    }))
}

/// One stored case, as the server reads it.
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub id: i64,
    pub ticket: String,
    pub kind: Kind,
    pub target: String,
    pub no_kk: Option<String>,
    pub village: String,
    pub state: State,
    pub filer_nik: String,
    pub filing: String,
    pub appeal_of: Option<i64>,
    pub agreed_on: Option<Date>,
    pub visit_user_id: Option<i64>,
    pub visit_requested_at: Option<i64>,
    pub ranking_quarter: Option<String>,
    pub created_at: i64,
    /// An usul of a new family: the `new_family` change that registers the family (or,
    /// while it waits for review, is to register it). Its approval sets `no_kk`.
    pub family_change_id: Option<String>,
}

impl CaseRow {
    pub fn facts(&self) -> CaseFacts {
        CaseFacts {
            kind: self.kind,
            state: self.state,
            agreed_on: self.agreed_on,
        }
    }
}

const CASE_COLUMNS: &str = "id, ticket, kind, target, no_kk, village, state, filer_nik, filing, appeal_of, agreed_on, visit_user_id, visit_requested_at, ranking_quarter, created_at, family_change_id";

type RawCase = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
);

fn to_case(r: RawCase) -> ApiResult<CaseRow> {
    let bad = |what: &str| ApiError::Internal(anyhow::anyhow!("stored case {}: {what}", r.0));
    Ok(CaseRow {
        id: r.0,
        ticket: r.1,
        kind: Kind::parse(&r.2).ok_or_else(|| bad("kind"))?,
        target: r.3,
        no_kk: r.4,
        village: r.5,
        state: State::parse(&r.6).ok_or_else(|| bad("state"))?,
        filer_nik: r.7,
        filing: r.8,
        appeal_of: r.9,
        agreed_on: r.10.as_deref().and_then(|d| Date::parse(d).ok()),
        visit_user_id: r.11,
        visit_requested_at: r.12,
        ranking_quarter: r.13,
        created_at: r.14,
        family_change_id: r.15,
    })
}

pub async fn case_by_id<'e, E>(exec: E, id: i64) -> ApiResult<Option<CaseRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<RawCase> = sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM participation_cases WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await?;
    row.map(to_case).transpose()
}

/// The case of `ticket` filed by `nik`; `None` for an unknown ticket and a wrong NIK alike.
pub async fn case_by_ticket(
    state: &AppState,
    ticket: &str,
    nik: &str,
) -> ApiResult<Option<CaseRow>> {
    let row: Option<RawCase> = sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM participation_cases WHERE ticket = $1 AND filer_nik = $2"
    ))
    .bind(ticket)
    .bind(nik)
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(to_case).transpose()
}

/// Who takes a step: an account, the public (the filer) or the system.
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    User(&'a User),
    Public,
    System,
}

impl Actor<'_> {
    fn role(&self) -> &str {
        match self {
            Actor::User(u) => role_name(u.role),
            Actor::Public => "public",
            Actor::System => "system",
        }
    }
    fn user(&self) -> Option<&User> {
        match self {
            Actor::User(u) => Some(u),
            _ => None,
        }
    }
}

/// One step to store.
pub struct Step<'a> {
    pub case_id: i64,
    pub ticket: &'a str,
    pub village: &'a str,
    pub action: &'a str,
    pub from: Option<State>,
    pub to: State,
    pub actor: Actor<'a>,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub deliberation_id: Option<i64>,
    pub at: i64,
}

/// Stores a step and its audit entry (no personal value in either).
pub async fn record_step(tx: &mut Tx<'_>, s: Step<'_>) -> Result<(), sqlx::Error> {
    let user = s.actor.user();
    sqlx::query(
        "INSERT INTO participation_transitions (case_id, action, from_state, to_state, role, user_id, username, reason, note, deliberation_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(s.case_id)
    .bind(s.action)
    .bind(s.from.map(State::as_str))
    .bind(s.to.as_str())
    .bind(s.actor.role())
    .bind(user.map(|u| u.id))
    .bind(user.map(|u| u.username.clone()))
    .bind(s.reason)
    .bind(s.note)
    .bind(s.deliberation_id)
    .bind(s.at)
    .execute(&mut **tx)
    .await?;
    let details = json!({
        "case_id": s.case_id, "ticket": s.ticket, "village": s.village,
        "from": s.from.map(State::as_str), "to": s.to.as_str(), "role": s.actor.role(),
        "reason": s.reason, "deliberation_id": s.deliberation_id,
    })
    .to_string();
    audit::record(
        &mut **tx,
        NewEntry {
            user,
            action: &format!("participation.{}", s.action),
            province: s.village.get(..2),
            details: Some(&details),
            ..NewEntry::default()
        },
    )
    .await
}

/// Files an usul or a sanggah: checks it with the core against the register, then in
/// one transaction takes the year's next ticket number, returns the first ticket for a
/// duplicate within the window (giving the number back), or stores the case, its photo
/// and its first steps (`file`, then `check`).
pub async fn file(
    state: &AppState,
    filing: Filing,
    photo: Option<(Vec<u8>, &'static str)>,
    appeal_of: Option<&str>,
) -> ApiResult<Filed> {
    let rules = Rules::builtin();
    let today = state.today_in(&filing.filer.nik);
    let filer_family = match filing.kind {
        Kind::Sanggah => family_of_member(state, &filing.filer.nik).await?,
        Kind::Usul => None,
    };
    let target = match filing.no_kk.as_deref() {
        Some(kk) if kk.len() == 16 && kk.bytes().all(|b| b.is_ascii_digit()) => {
            target_family(state, kk).await?
        }
        _ => None,
    };
    let facts = FilingFacts {
        regions: &state.regions,
        today,
        filer_family: filer_family.as_ref(),
        target: target.as_ref(),
    };
    let outcome = rules
        .check_filing(&filing, &facts)
        .map_err(|r| refused_filing(&r))?;
    let appeal_id = match appeal_of {
        None => None,
        Some(ticket) => {
            let first = case_by_ticket(state, ticket, &filing.filer.nik)
                .await?
                .filter(|c| c.kind == filing.kind)
                .ok_or_else(|| ApiError::NotFound("tiket / ticket (appeal_of)".into()))?;
            let (appeals,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM participation_cases WHERE appeal_of = $1")
                    .bind(first.id)
                    .fetch_one(&state.db.pool)
                    .await?;
            rules
                .check_appeal(
                    rules.state_on(&first.facts(), today),
                    first.appeal_of.is_some(),
                    u32::try_from(appeals).unwrap_or(u32::MAX),
                )
                .map_err(|r| refused_step(&r))?;
            Some(first.id)
        }
    };
    // An appeal is its own case: it never matches the case it appeals as a duplicate.
    let duplicate_key = match appeal_id {
        Some(first) => format!("{}:appeal:{first}", outcome.duplicate_key),
        None => outcome.duplicate_key.clone(),
    };
    let now = state.now();
    let year = state.today_in(&outcome.village).year();
    let filing_json = serde_json::to_string(&filing).map_err(|e| ApiError::Internal(e.into()))?;
    let mut tx = state.db.pool.begin().await?;
    // The counter first: the transaction's first statement writes, so filings queue here
    // (a row lock on PostgreSQL, the write lock on SQLite) and the duplicate check below
    // sees every filing committed before.
    let (number,): (i64,) = sqlx::query_as(
        "INSERT INTO participation_counters (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = participation_counters.last + 1 RETURNING last",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *tx)
    .await?;
    let dup: Option<(String,)> = sqlx::query_as(
        "SELECT ticket FROM participation_cases WHERE duplicate_key = $1 AND created_at > $2 ORDER BY id LIMIT 1",
    )
    .bind(&duplicate_key)
    .bind(now - rules.duplicate_secs())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((ticket,)) = dup {
        tx.rollback().await?;
        return Ok(Filed {
            ticket,
            duplicate: true,
            message: "Pengajuan yang sama sudah diterima; ini nomor tiketnya. / The same filing was already received; this is its ticket.".into(),
        });
    }
    let ticket = format!("{year}-{number:06}");
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO participation_cases (ticket, kind, target, no_kk, village, province, state, filer_nik, duplicate_key, filing, rules_version, appeal_of, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(&ticket)
    .bind(filing.kind.as_str())
    .bind(outcome.target.as_str())
    .bind(outcome.target.no_kk())
    .bind(&outcome.village)
    .bind(store::province_of(&outcome.village))
    .bind(State::Checked.as_str())
    .bind(&filing.filer.nik)
    .bind(&duplicate_key)
    .bind(&filing_json)
    .bind(rules.version())
    .bind(appeal_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if let Some((bytes, content_type)) = &photo {
        store_file(
            &mut tx,
            Some(id),
            None,
            "house_photo",
            bytes,
            content_type,
            now,
        )
        .await?;
    }
    for (action, from, to, actor) in [
        ("file", None, State::Filed, Actor::Public),
        ("check", Some(State::Filed), State::Checked, Actor::System),
    ] {
        record_step(
            &mut tx,
            Step {
                case_id: id,
                ticket: &ticket,
                village: &outcome.village,
                action,
                from,
                to,
                actor,
                reason: None,
                note: None,
                deliberation_id: None,
                at: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(ticket = %ticket, kind = filing.kind.as_str(), target = outcome.target.as_str(), "participation filing");
    Ok(Filed {
        ticket,
        duplicate: false,
        message: "Pengajuan diterima. Simpan nomor tiket untuk melihat statusnya. / The filing was received. Keep the ticket number to check its status.".into(),
    })
}

async fn store_file(
    tx: &mut Tx<'_>,
    case_id: Option<i64>,
    deliberation_id: Option<i64>,
    purpose: &str,
    bytes: &[u8],
    content_type: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sha = crate::auth::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes));
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO participation_attachments (case_id, deliberation_id, purpose, content_type, size, sha256, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(case_id)
    .bind(deliberation_id)
    .bind(purpose)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(sha)
    .bind(bytes.to_vec())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// A deliberation (musdes/muskel) with its berita acara, or an SPTJM.
pub struct NewDeliberation<'a> {
    pub village: &'a str,
    pub held_on: Date,
    pub participants: i64,
    pub record: &'a str,
    pub document: (Vec<u8>, &'static str),
}

/// Stores a deliberation record of a village in the operator's scope; its id.
pub async fn add_deliberation(
    state: &AppState,
    user: &User,
    d: NewDeliberation<'_>,
) -> ApiResult<i64> {
    if user.role != Role::OperatorDesa {
        return Err(ApiError::forbidden("deliberation (operator desa)"));
    }
    if !user.covers(d.village)
        || tepat_core::Level::of(d.village) != Some(tepat_core::Level::Village)
    {
        return Err(ApiError::forbidden(format!("region {}", d.village)));
    }
    if d.held_on > state.today_in(d.village) {
        return Err(ApiError::unprocessable(
            "Tanggal musyawarah tidak boleh di masa depan. / The deliberation date cannot be in the future.",
            json!({ "path": "held_on" }),
        ));
    }
    if !(1..=100_000).contains(&d.participants) {
        return Err(ApiError::unprocessable(
            "Jumlah peserta harus 1–100000. / The number of participants must be 1–100000.",
            json!({ "path": "participants" }),
        ));
    }
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO participation_deliberations (village, held_on, participants, record, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(d.village)
    .bind(d.held_on.to_string())
    .bind(d.participants)
    .bind(d.record)
    .bind(user.id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    store_file(
        &mut tx,
        None,
        Some(id),
        d.record,
        &d.document.0,
        d.document.1,
        now,
    )
    .await?;
    let details = json!({ "deliberation_id": id, "village": d.village, "record": d.record, "participants": d.participants }).to_string();
    audit::record(
        &mut *tx,
        NewEntry {
            user: Some(user),
            action: "participation.deliberation",
            province: d.village.get(..2),
            details: Some(&details),
            ..NewEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A step an official asks for.
pub struct Decision<'a> {
    pub action: &'a str,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub deliberation_id: Option<i64>,
    /// `request_visit`: the facilitator (username) of the case's village to visit.
    pub facilitator: Option<&'a str>,
}

/// Takes a step on a case: the core decides; the state moves only from the state it was
/// decided on (of two officials acting at once, the second is told it was decided).
/// A step refused because the window passed records the case's expiry first.
pub async fn decide(state: &AppState, user: &User, id: i64, d: Decision<'_>) -> ApiResult<CaseRow> {
    if !may_read(user.role) {
        return Err(ApiError::forbidden(
            "participation (operator desa, koordinator, dinsos)",
        ));
    }
    let case = case_by_id(&state.db.pool, id)
        .await?
        .filter(|c| user.covers(&c.village))
        .ok_or_else(|| ApiError::NotFound("participation case".into()))?;
    let rules = Rules::builtin();
    let today = state.today_in(&case.village);
    let has_record = match d.deliberation_id {
        None => false,
        Some(did) => {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT village FROM participation_deliberations WHERE id = $1")
                    .bind(did)
                    .fetch_optional(&state.db.pool)
                    .await?;
            if row.is_none_or(|r| r.0 != case.village) {
                return Err(ApiError::unprocessable(
                    "Berita acara/SPTJM tidak ditemukan untuk desa ini. / No berita acara or SPTJM of this village has that id.",
                    json!({ "path": "deliberation_id" }),
                ));
            }
            true
        }
    };
    let request = Request {
        action: d.action,
        role: role_name(user.role),
        reason: d.reason,
        has_record,
    };
    let decided = match rules.decide(&case.facts(), request, today) {
        Ok(decided) => decided,
        Err(r) => {
            if r.code == "action.expired" && case.state != State::Expired {
                expire(state, &case).await?;
            }
            return Err(refused_step(&r));
        }
    };
    let visit_user = match d.action {
        "request_visit" => {
            let name = d.facilitator.ok_or_else(|| {
                ApiError::unprocessable(
                    "Pilih pendamping yang akan berkunjung. / Choose the facilitator to visit.",
                    json!({ "path": "facilitator" }),
                )
            })?;
            Some(facilitator_of(state, name, &case.village).await?)
        }
        _ => None,
    };
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    let agreed_on =
        (decided.to == State::Agreed && decided.from != State::Agreed).then(|| today.to_string());
    let quarter = (decided.to == State::Verified && decided.from != State::Verified)
        .then(|| rules.ranking_quarter(today));
    let moved = sqlx::query(
        "UPDATE participation_cases SET state = $1, updated_at = $2, \
         agreed_on = COALESCE($3, agreed_on), ranking_quarter = COALESCE($4, ranking_quarter), \
         visit_user_id = COALESCE($5, visit_user_id), visit_requested_at = COALESCE($6, visit_requested_at) \
         WHERE id = $7 AND state = $8",
    )
    .bind(decided.to.as_str())
    .bind(now)
    .bind(agreed_on)
    .bind(quarter)
    .bind(visit_user)
    .bind(visit_user.map(|_| now))
    .bind(case.id)
    .bind(decided.from.as_str())
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(ApiError::Conflict {
            message: "Pengajuan ini baru saja diputuskan oleh petugas lain; muat ulang. / This case was just decided by another official; reload it.".into(),
            details: json!({ "refusal": "action.decided" }),
        });
    }
    record_step(
        &mut tx,
        Step {
            case_id: case.id,
            ticket: &case.ticket,
            village: &case.village,
            action: d.action,
            from: Some(decided.from),
            to: decided.to,
            actor: Actor::User(user),
            reason: d.reason,
            note: d.note,
            deliberation_id: d.deliberation_id,
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    case_by_id(&state.db.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("participation case".into()))
}

/// The case as it stands today: when its window passed since it was stored, the
/// expiry is recorded first (as the system), so that its steps say so.
pub async fn settle(state: &AppState, case: CaseRow) -> ApiResult<CaseRow> {
    let today = state.today_in(&case.village);
    if case.state == State::Expired
        || Rules::builtin().state_on(&case.facts(), today) != State::Expired
    {
        return Ok(case);
    }
    expire(state, &case).await?;
    Ok(case_by_id(&state.db.pool, case.id).await?.unwrap_or(case))
}

/// Records that a case's window passed (as the system), unless already recorded.
pub async fn expire(state: &AppState, case: &CaseRow) -> ApiResult<()> {
    let system = Request {
        action: "expire",
        role: "system",
        reason: None,
        has_record: false,
    };
    let Ok(decided) = Rules::builtin().decide(&case.facts(), system, state.today_in(&case.village))
    else {
        return Ok(());
    };
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE participation_cases SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(decided.to.as_str())
    .bind(now)
    .bind(case.id)
    .bind(decided.from.as_str())
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 1 {
        record_step(
            &mut tx,
            Step {
                case_id: case.id,
                ticket: &case.ticket,
                village: &case.village,
                action: "expire",
                from: Some(decided.from),
                to: decided.to,
                actor: Actor::System,
                reason: None,
                note: None,
                deliberation_id: None,
                at: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The id of the facilitator `username`, assigned the village.
async fn facilitator_of(state: &AppState, username: &str, village: &str) -> ApiResult<i64> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT u.id FROM users u JOIN assignments a ON a.user_id = u.id \
         WHERE u.username = $1 AND u.role = 'facilitator' AND u.disabled = 0 AND a.region = $2",
    )
    .bind(username)
    .bind(village)
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(|r| r.0).ok_or_else(|| {
        ApiError::unprocessable(
            "Pendamping ini tidak bertugas di desa pengajuan. / This facilitator is not assigned the case's village.",
            json!({ "path": "facilitator" }),
        )
    })
}

/// One step as shown.
#[derive(Serialize, Debug)]
pub struct StepView {
    pub action: String,
    pub label: String,
    pub state: String,
    pub state_label: String,
    pub at: String,
    /// The role that took it (`public`, `system`, `operator_desa`, `dinsos_admin`, …).
    pub role: String,
    /// The account (officials' view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliberation_id: Option<i64>,
}

/// The steps of a case, oldest first; `official` adds who and the note.
pub async fn steps(state: &AppState, case_id: i64, official: bool) -> ApiResult<Vec<StepView>> {
    let rules = Rules::builtin();
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT action, to_state, role, username, reason, note, deliberation_id, at FROM participation_transitions WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&state.db.pool)
    .await?;
    let label = |t: tepat_core::Text| format!("{} / {}", t.id, t.en);
    Ok(rows
        .into_iter()
        .map(|(action, to, role, username, reason, note, did, at)| {
            let a = rules.action(&action);
            let list = a.and_then(|a| a.reasons.clone());
            StepView {
                label: a.map_or_else(|| action.clone(), |a| label(a.label.clone())),
                state_label: State::parse(&to)
                    .map_or_else(|| to.clone(), |s| label(rules.state_label(s))),
                reason_label: reason
                    .as_deref()
                    .zip(list.as_deref())
                    .and_then(|(r, l)| rules.reason(l, r))
                    .map(|r| label(r.label.clone())),
                action,
                state: to,
                at: rfc3339(at),
                role,
                username: username.filter(|_| official),
                reason,
                note: note.filter(|_| official),
                deliberation_id: did.filter(|_| official),
            }
        })
        .collect())
}

/// A case as officials see it.
pub async fn official_view(state: &AppState, c: &CaseRow) -> ApiResult<Value> {
    let rules = Rules::builtin();
    let today = state.today_in(&c.village);
    let effective = rules.state_on(&c.facts(), today);
    let filing: Value =
        serde_json::from_str(&c.filing).map_err(|e| ApiError::Internal(e.into()))?;
    let visit: Option<(String,)> = match c.visit_user_id {
        Some(uid) => {
            sqlx::query_as("SELECT username FROM users WHERE id = $1")
                .bind(uid)
                .fetch_optional(&state.db.pool)
                .await?
        }
        None => None,
    };
    let appeal_ticket: Option<(String,)> = match c.appeal_of {
        Some(aid) => {
            sqlx::query_as("SELECT ticket FROM participation_cases WHERE id = $1")
                .bind(aid)
                .fetch_optional(&state.db.pool)
                .await?
        }
        None => None,
    };
    let files: Vec<(i64, String, String, i64)> = sqlx::query_as(FILES_OF_CASE)
        .bind(c.id)
        .fetch_all(&state.db.pool)
        .await?;
    let label = rules.state_label(effective);
    Ok(json!({
        "files": files.into_iter().map(|(id, purpose, content_type, size)| json!({
            "id": id, "purpose": purpose, "content_type": content_type, "bytes": size,
        })).collect::<Vec<_>>(),
        "id": c.id,
        "ticket": c.ticket,
        "kind": c.kind.as_str(),
        "target": c.target,
        "no_kk": c.no_kk,
        "village": c.village,
        "state": effective.as_str(),
        "state_label": format!("{} / {}", label.id, label.en),
        "open": !rules.is_final(effective),
        "filed_at": rfc3339(c.created_at),
        "deadline": rules.deadline(&c.facts()).map(|d| d.to_string()),
        "ranking_quarter": c.ranking_quarter,
        "new_family": new_family_view(c),
        "appeal_of": appeal_ticket.map(|t| t.0),
        "visit": visit.map(|v| json!({ "facilitator": v.0, "requested_at": c.visit_requested_at.map(rfc3339) })),
        "filing": filing,
        "steps": steps(state, c.id, true).await?,
    }))
}

/// An usul of a new family: the change that registers the family (waiting for review or
/// approved) and whether the family is registered (the case's `no_kk` is then its No. KK).
fn new_family_view(c: &CaseRow) -> Option<Value> {
    (c.target == Target::NewFamily.as_str()).then(|| {
        json!({
            "change_id": c.family_change_id,
            "registered": c.no_kk.is_some(),
        })
    })
}

/// The files of a case: its own (the house photo) and the records of the deliberations
/// its steps name.
const FILES_OF_CASE: &str = "SELECT id, purpose, content_type, size FROM participation_attachments \
     WHERE case_id = $1 OR deliberation_id IN \
     (SELECT deliberation_id FROM participation_transitions WHERE case_id = $1 AND deliberation_id IS NOT NULL) \
     ORDER BY id";

/// One file of a case (see [`FILES_OF_CASE`]): its type and bytes.
pub async fn file_of_case(
    state: &AppState,
    case_id: i64,
    file_id: i64,
) -> ApiResult<Option<(String, Vec<u8>)>> {
    let listed: Vec<(i64, String, String, i64)> = sqlx::query_as(FILES_OF_CASE)
        .bind(case_id)
        .fetch_all(&state.db.pool)
        .await?;
    if !listed.iter().any(|f| f.0 == file_id) {
        return Ok(None);
    }
    let row: Option<(String, Vec<u8>)> =
        sqlx::query_as("SELECT content_type, bytes FROM participation_attachments WHERE id = $1")
            .bind(file_id)
            .fetch_optional(&state.db.pool)
            .await?;
    Ok(row)
}

/// The status a filer sees: the ticket's own steps, nothing about a family.
pub async fn public_view(state: &AppState, c: &CaseRow) -> ApiResult<Value> {
    let rules = Rules::builtin();
    let effective = rules.state_on(&c.facts(), state.today_in(&c.village));
    let label = rules.state_label(effective);
    Ok(json!({
        "ticket": c.ticket,
        "kind": c.kind.as_str(),
        "state": effective.as_str(),
        "state_label": format!("{} / {}", label.id, label.en),
        "open": !rules.is_final(effective),
        "filed_at": rfc3339(c.created_at),
        "deadline": rules.deadline(&c.facts()).map(|d| d.to_string()),
        "ranking_quarter": c.ranking_quarter,
        "family_registered": (c.target == Target::NewFamily.as_str()).then_some(c.no_kk.is_some()),
        "steps": steps(state, c.id, false).await?,
    }))
}

/// The cases in the caller's scope, newest first (at most `limit`), optionally of one
/// village and one state (`open`: every state that is not final), by the state on today.
pub async fn list(
    state: &AppState,
    user: &User,
    village: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<CaseRow>> {
    let (cond, binds) = crate::api::sync::scope_sql(user, "village", 3);
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM participation_cases WHERE ($1 = '' OR village = $1) AND {cond} ORDER BY id DESC LIMIT $2"
    );
    let mut q = sqlx::query_as::<_, RawCase>(&sql)
        .bind(village.unwrap_or(""))
        .bind(limit);
    for b in &binds {
        q = q.bind(b);
    }
    let rules = Rules::builtin();
    let mut out = Vec::new();
    for raw in q.fetch_all(&state.db.pool).await? {
        let c = settle(state, to_case(raw)?).await?;
        let effective = rules.state_on(&c.facts(), state.today_in(&c.village));
        let keep = match status {
            None => true,
            Some("open") => !rules.is_final(effective),
            Some(s) => effective.as_str() == s,
        };
        if keep {
            out.push(c);
        }
    }
    Ok(out)
}

/// Open visit requests for a facilitator: the family (or, for a new family, the
/// proposed address) marked usul or sanggah on the worklist; a verified usul of a new
/// family stays on it until its family is sent (`new_family`, naming `case_id`), and comes
/// back when a reviewer rejects that.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Visit {
    pub case_id: i64,
    pub ticket: String,
    /// `usul` or `sanggah`.
    pub kind: String,
    /// `new_family`, `ground_check` or `objection`.
    pub target: String,
    #[serde(default)]
    pub no_kk: Option<String>,
    pub village: String,
    /// A new family's address and members' names as the filing gives them.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
    pub requested_at: String,
}

pub async fn visits_of(state: &AppState, user: &User) -> ApiResult<Vec<Visit>> {
    if user.role != Role::Facilitator {
        return Ok(Vec::new());
    }
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, ticket, kind, target, no_kk, village, filing, visit_requested_at FROM participation_cases \
         WHERE visit_user_id = $1 AND (state IN ('checked', 'deliberation') \
         OR (target = 'new_family' AND state = 'verified' AND no_kk IS NULL AND family_change_id IS NULL)) ORDER BY id",
    )
    .bind(user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::new();
    for (id, ticket, kind, target, no_kk, village, filing, at) in rows {
        if !user.covers(&village) {
            continue;
        }
        let f: Filing = serde_json::from_str(&filing).map_err(|e| ApiError::Internal(e.into()))?;
        let new_family = target == Target::NewFamily.as_str();
        out.push(Visit {
            case_id: id,
            ticket,
            kind,
            target,
            no_kk,
            village,
            address: f.address.filter(|_| new_family),
            members: if new_family {
                f.members.into_iter().map(|m| m.name).collect()
            } else {
                Vec::new()
            },
            requested_at: at.map(rfc3339).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Marks the verified cases whose quarter a published ranking run of `period` covers as
/// entered in that ranking (as the system), in the publishing transaction. An usul of a
/// new family waits until the family has a register version the run ranked.
pub async fn enter_ranking(
    tx: &mut Tx<'_>,
    run_id: i64,
    period: &str,
    now: i64,
) -> Result<usize, sqlx::Error> {
    type Row = (i64, String, String, Option<String>, String);
    let rules = Rules::builtin();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, ticket, village, no_kk, kind FROM participation_cases WHERE state = 'verified' AND ranking_quarter <= $1",
    )
    .bind(period)
    .fetch_all(&mut **tx)
    .await?;
    let mut entered = 0;
    for (id, ticket, village, no_kk, kind) in rows {
        let Some(no_kk) = no_kk else { continue };
        let facts = CaseFacts {
            kind: Kind::parse(&kind).unwrap_or(Kind::Usul),
            state: State::Verified,
            agreed_on: None,
        };
        let system = Request {
            action: "enter_ranking",
            role: "system",
            reason: None,
            has_record: false,
        };
        let Ok(decided) = rules.decide(&facts, system, crate::state::today_at(now, &village))
        else {
            continue;
        };
        let ranked: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM ranking_results WHERE province = $1 AND run_id = $2 AND household_id = $3",
        )
        .bind(store::province_of(&village))
        .bind(run_id)
        .bind(&no_kk)
        .fetch_optional(&mut **tx)
        .await?;
        if ranked.is_none() {
            continue;
        }
        sqlx::query("UPDATE participation_cases SET state = $1, updated_at = $2 WHERE id = $3 AND state = 'verified'")
            .bind(decided.to.as_str())
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let note = format!("{period} (run {run_id})");
        record_step(
            tx,
            Step {
                case_id: id,
                ticket: &ticket,
                village: &village,
                action: "enter_ranking",
                from: Some(decided.from),
                to: decided.to,
                actor: Actor::System,
                reason: None,
                note: Some(&note),
                deliberation_id: None,
                at: now,
            },
        )
        .await?;
        entered += 1;
    }
    Ok(entered)
}
