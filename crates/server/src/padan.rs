//! Matching (padan) on the server: a Dukcapil or PLN extract is linked with the
//! register in the caller's area by tepat-data's one engine (`tepat_data::padan`), and
//! every finding about a family becomes a review item (a `change_requests` row with its
//! `padan` evidence), in the queue of the koordinator and Dinsos of the family's area.
//!
//! - A finding with a proposed change (Dukcapil records a death, another NIK) carries it
//!   as a tepat-core change request; approving it applies it like any other change.
//! - A finding without one (an unknown or inactive NIK, a name that differs, "indikasi
//!   mampu" from PLN) is approved as followed up: nothing changes in the family.
//! - An item's id is derived from what the finding is about (source, kind, family,
//!   member, source id), so a second run of the same extract creates no duplicates.
//!
//! **Invariant:** matching changes no family; only a reviewer's approval does.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tepat_core::event::{ChangeRequest, content_hash};
use tepat_data::padan::extract::{BadRow, read_dukcapil, read_pln};
use tepat_data::padan::link::Settings;
use tepat_data::padan::register::Register;
use tepat_data::padan::run::{Desil, PadanFinding, match_dukcapil, match_pln};

use crate::auth::{Role, User};
use crate::db::{Db, now, rfc3339};
use crate::transfer::{Format, Identity, What};

/// The system account padan items are submitted by: a name no person can have (`:` is
/// not allowed in usernames), disabled, with no password.
pub const ACCOUNT: &str = "sistem:padan";

/// The extract's source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Dukcapil,
    Pln,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Dukcapil => "dukcapil",
            Source::Pln => "pln",
        }
    }
}

/// Why an import is refused as a whole (a bad row is reported, never refused).
#[derive(Debug, thiserror::Error)]
pub enum PadanError {
    /// A wrong header, or a file that is not UTF-8 CSV: the reader's message.
    #[error("{0}")]
    Extract(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PadanError {
    fn from(e: sqlx::Error) -> PadanError {
        PadanError::Internal(e.into())
    }
}

impl From<PadanError> for crate::error::ApiError {
    fn from(e: PadanError) -> crate::error::ApiError {
        match e {
            PadanError::Extract(m) => {
                crate::error::ApiError::bad_request(m, json!({ "path": "body" }))
            }
            PadanError::Internal(e) => crate::error::ApiError::from(e),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub source: &'static str,
    /// Extract rows read (bad rows excluded).
    pub rows: usize,
    /// Rows that could not be read, with their line (the header is line 1).
    pub bad: Vec<BadRow>,
    /// Families of the area the extract was matched against.
    pub families: usize,
    /// Findings about the area's families.
    pub findings: usize,
    /// Review items created, and findings that already had one (an earlier run).
    pub created: usize,
    pub existing: usize,
    /// Findings by kind (`meninggal`, `nik_tidak_ditemukan`, `indikasi_mampu`, …).
    pub by_kind: BTreeMap<String, usize>,
}

/// Links `csv` (a Dukcapil or PLN extract, docs/data-format.md) with the register in
/// `user`'s area (`None`: the whole register, the CLI) and queues one review item per
/// new finding. PLN findings read each family's desil from the last published ranking
/// run.
pub async fn import(
    db: &Db,
    user: Option<&User>,
    source: Source,
    csv: &[u8],
    today: tepat_core::Date,
) -> Result<ImportReport, PadanError> {
    let settings = Settings::default();
    // The register in scope, as `tepat match` reads it (JSON Lines of `Keluarga`).
    let mut jsonl = Vec::new();
    crate::transfer::export_with(
        db,
        user,
        What::Households,
        Format::Jsonl,
        &Identity::Full,
        &mut jsonl,
    )
    .await?;
    let register = Register::read(&jsonl[..]).map_err(anyhow::Error::from)?;
    drop(jsonl);
    let mut report = ImportReport {
        source: source.name(),
        families: register.families.len(),
        ..Default::default()
    };
    let out = match source {
        Source::Dukcapil => {
            let e = read_dukcapil(csv).map_err(|e| PadanError::Extract(e.to_string()))?;
            report.rows = e.rows.len();
            report.bad = e.bad;
            match_dukcapil(&register, e.rows, &settings)
        }
        Source::Pln => {
            let e = read_pln(csv).map_err(|e| PadanError::Extract(e.to_string()))?;
            report.rows = e.rows.len();
            report.bad = e.bad;
            let desil = published_desil(db).await?;
            match_pln(&register, e.rows, &desil, today, &settings)
        }
    };
    let account = account(db).await?;
    let rulebook = crate::rulebooks::list(db)
        .await?
        .pop()
        .map(|r| r.0)
        .unwrap_or_default();
    let mut tx = db.pool.begin().await?;
    crate::store::lock(&mut tx).await?;
    let at = now();
    for f in &out.findings {
        let Some(head) = crate::store::head(&mut *tx, &f.no_kk).await? else {
            continue;
        };
        if user.is_some_and(|u| !u.covers(&head.village)) {
            continue;
        }
        report.findings += 1;
        *report.by_kind.entry(f.kind.to_owned()).or_default() += 1;
        let id = item_id(source, f);
        let padan = evidence(f);
        let (kind, payload, hash) = match &f.proposed {
            Some(event) => {
                let request = ChangeRequest {
                    id: id.clone(),
                    no_kk: f.no_kk.clone(),
                    base_version: u32::try_from(head.version).map_err(anyhow::Error::from)?,
                    author: ACCOUNT.to_owned(),
                    time: rfc3339(at),
                    reason: f.message.id.clone(),
                    evidence: Vec::new(),
                    event: event.clone(),
                    confirmed_warnings: Vec::new(),
                    hash: None,
                };
                let hash = content_hash(&request);
                (
                    event.kind().name().to_owned(),
                    serde_json::to_string(&request).map_err(anyhow::Error::from)?,
                    hash,
                )
            }
            None => (
                "padan".to_owned(),
                "null".to_owned(),
                crate::rulebooks::sha256_hex(&padan.to_string()),
            ),
        };
        let done = sqlx::query(
            "INSERT INTO change_requests (id, province, village, household_id, user_id, kind, base_version, rulebook_version, \
             payload, content_hash, outcome, status, review_reasons, findings, response, created_at, padan) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'accepted', 'pending_review', $11, '[]', '{}', $12, $13) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(&head.province)
        .bind(&head.village)
        .bind(&f.no_kk)
        .bind(account)
        .bind(&kind)
        .bind(head.version)
        .bind(&rulebook)
        .bind(&payload)
        .bind(&hash)
        .bind(json!(["padan"]).to_string())
        .bind(at)
        .bind(padan.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            report.created += 1;
        } else {
            report.existing += 1;
        }
    }
    let scope = match user {
        Some(u) if !u.role.is_national() => json!(u.regions),
        _ => json!("national"),
    };
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user,
            action: "padan_import",
            details: Some(
                &json!({
                    "source": source.name(), "rows": report.rows, "bad_rows": report.bad.len(),
                    "findings": report.findings, "created": report.created, "scope": scope,
                })
                .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// The review item of a finding: a UUID-shaped id (a change request's id) from the
/// SHA-256 of what the finding is about, so the same finding always has the same item.
pub fn item_id(source: Source, f: &PadanFinding) -> String {
    let key = format!(
        "padan\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        source.name(),
        f.kind,
        f.no_kk,
        f.member_number.map(|m| m.to_string()).unwrap_or_default(),
        f.source_id.as_deref().unwrap_or(""),
        f.register_nik.as_deref().unwrap_or(""),
    );
    let h = Sha256::digest(key.as_bytes());
    let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// What the reviewer sees of a finding: its source and kind, its message, the extract
/// row and the register's side, the match probability and each comparison's weight.
fn evidence(f: &PadanFinding) -> Value {
    json!({
        "source": f.source,
        "kind": f.kind,
        "message": f.message,
        "member_number": f.member_number,
        "source_id": f.source_id,
        "line": f.line,
        "match_probability": f.match_probability,
        "weights": f.weights,
        "evidence": f.evidence,
        "proposed": f.proposed.is_some(),
    })
}

/// Each family's national desil in the last published ranking run (empty before one).
async fn published_desil(db: &Db) -> Result<Desil, PadanError> {
    let mut out = Desil::new();
    if let Some(id) = crate::ranking::published_id(db).await? {
        for r in crate::ranking::results(db, id).await? {
            if let Some(d) = r.desil.and_then(|d| u8::try_from(d).ok()) {
                out.insert(r.no_kk, d);
            }
        }
    }
    Ok(out)
}

/// The system account's id, created on first use.
async fn account(db: &Db) -> Result<i64, PadanError> {
    sqlx::query(
        "INSERT INTO users (username, role, password_hash, created_at, disabled) VALUES ($1, $2, '!', $3, 1) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(ACCOUNT)
    .bind(Role::Analyst.as_str())
    .bind(now())
    .execute(&db.pool)
    .await?;
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
        .bind(ACCOUNT)
        .fetch_one(&db.pool)
        .await?;
    Ok(id)
}
