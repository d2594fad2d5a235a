//! The program-rules registry: every programs file (desil ranges, components, amounts
//! per period, exclusions, graduation) ever published, kept as published (table
//! `program_rules`), like the rulebooks ([`crate::rulebooks`]).
//!
//! A determination uses the version in force for its run's period ([`in_force`]): the
//! latest `effective_date` on or before the period's first day, the latest published
//! among equals; the determination records that version, so it always says which rules
//! made it. `tepat programs publish FILE` and `POST /programs` publish a version; the
//! builtin rules are registered when the database is opened. **Invariant:** no program
//! rule lives here; tepat-core's loader checks every file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tepat_core::Text;
use tepat_core::score::ProgramRules;

use crate::auth::User;
use crate::db::{Db, now};
use crate::rulebooks::{Existing, Published, existing, sha256_hex, valid_version};

/// Why a programs file is refused. Bahasa Indonesia first, then English.
#[derive(Debug, thiserror::Error)]
pub enum ProgramsError {
    #[error("Aturan program tidak dapat dimuat: {0} / The program rules failed to load: {0}")]
    Invalid(String),
    #[error(
        "Versi aturan program {0:?} harus 1–64 huruf, angka, `.`, `_` atau `-`. / Program rules version {0:?} must be 1–64 letters, digits, `.`, `_` or `-`."
    )]
    BadVersion(String),
    #[error(
        "Aturan program versi {0} sudah diterbitkan dengan isi lain; versi terbitan tidak pernah berubah: beri versi baru. / Program rules version {0} is already published with other content; a published version never changes: give the new rules a new version."
    )]
    Duplicate(String),
    #[error(
        "Tidak ada aturan program yang berlaku pada {0} (semua berlaku sesudahnya). / No program rules are in force on {0} (all take effect later)."
    )]
    NoneInForce(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ProgramsError {
    fn from(e: sqlx::Error) -> ProgramsError {
        ProgramsError::Internal(e.into())
    }
}

impl From<ProgramsError> for crate::error::ApiError {
    fn from(e: ProgramsError) -> crate::error::ApiError {
        use crate::error::ApiError;
        match e {
            ProgramsError::Invalid(_) | ProgramsError::BadVersion(_) => {
                ApiError::unprocessable(e.to_string(), serde_json::Value::Null)
            }
            ProgramsError::Duplicate(_) | ProgramsError::NoneInForce(_) => ApiError::Conflict {
                message: e.to_string(),
                details: serde_json::Value::Null,
            },
            ProgramsError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// Compiled rules by content hash: a stored file is compiled once per process.
fn compiled(hash: &str, source: &str) -> Result<Arc<ProgramRules>, ProgramsError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ProgramRules>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(hash).cloned()) {
        return Ok(r);
    }
    let rules = Arc::new(
        ProgramRules::from_json(source).map_err(|e| ProgramsError::Invalid(e.to_string()))?,
    );
    if let Ok(mut c) = cache.lock() {
        c.insert(hash.to_owned(), rules.clone());
    }
    Ok(rules)
}

/// Registers the builtin program rules if their version is not stored yet. Called
/// when the database is opened.
pub async fn register_builtin(db: &Db) -> anyhow::Result<()> {
    let rules = ProgramRules::builtin();
    let text = ProgramRules::builtin_json();
    sqlx::query(
        "INSERT INTO program_rules (version, effective_date, source, content_hash, published_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING",
    )
    .bind(rules.version())
    .bind(rules.source().effective_date.to_string())
    .bind(text)
    .bind(sha256_hex(text))
    .bind(now())
    .execute(&db.pool)
    .await
    .map_err(|e| anyhow::anyhow!("registering the builtin program rules: {e}"))?;
    Ok(())
}

/// Publishes a programs file (JSON text): it must load with tepat-core, and its
/// version must be new, or already published with exactly this content.
pub async fn publish(db: &Db, user: Option<&User>, text: &str) -> Result<Published, ProgramsError> {
    let rules = ProgramRules::from_json(text).map_err(|e| ProgramsError::Invalid(e.to_string()))?;
    let version = rules.version().to_owned();
    if !valid_version(&version) {
        return Err(ProgramsError::BadVersion(version));
    }
    let hash = sha256_hex(text);
    let mut tx = db.pool.begin().await?;
    match existing(&mut tx, "program_rules", &version, &hash).await? {
        Existing::New => {}
        Existing::Other => return Err(ProgramsError::Duplicate(version)),
        Existing::Same { current } => return Ok(Published::Unchanged { current, version }),
    }
    let effective = rules.source().effective_date.to_string();
    sqlx::query(
        "INSERT INTO program_rules (version, effective_date, source, content_hash, published_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&version)
    .bind(&effective)
    .bind(text)
    .bind(&hash)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user,
            action: "programs_publish",
            details: Some(
                &serde_json::json!({
                    "version": version, "effective_date": effective, "content_hash": hash,
                })
                .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Published::New { version })
}

/// A published program-rules version.
#[derive(Clone, Debug, Serialize)]
pub struct Version {
    pub version: String,
    pub effective_date: String,
    pub label: Text,
    pub published_at: String,
    pub content_hash: String,
    /// The version shipped in this build of tepat-core.
    pub builtin: bool,
}

/// Published versions, oldest published first.
pub async fn list(db: &Db) -> Result<Vec<Version>, ProgramsError> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT version, effective_date, source, content_hash, published_at FROM program_rules ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await?;
    let builtin = ProgramRules::builtin().version();
    let mut out = Vec::with_capacity(rows.len());
    for (version, effective_date, source, hash, at) in rows {
        let label = match compiled(&hash, &source) {
            Ok(r) => r.source().label.clone(),
            Err(e) => {
                tracing::error!(version = %version, error = %e, "stored program rules do not load");
                Text::new("(tidak dapat dimuat)", "(does not load)")
            }
        };
        out.push(Version {
            builtin: version == builtin,
            version,
            effective_date,
            label,
            published_at: crate::db::rfc3339(at),
            content_hash: hash,
        });
    }
    Ok(out)
}

/// The version in force on `date` (`YYYY-MM-DD`).
pub async fn in_force(db: &Db, date: &str) -> Result<Arc<ProgramRules>, ProgramsError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT source, content_hash FROM program_rules WHERE effective_date <= $1 \
         ORDER BY effective_date DESC, seq DESC LIMIT 1",
    )
    .bind(date)
    .fetch_optional(&db.pool)
    .await?;
    let (source, hash) = row.ok_or_else(|| ProgramsError::NoneInForce(date.to_owned()))?;
    compiled(&hash, &source)
}

/// A published version by its version string.
pub async fn get(db: &Db, version: &str) -> Result<Arc<ProgramRules>, ProgramsError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT source, content_hash FROM program_rules WHERE version = $1")
            .bind(version)
            .fetch_optional(&db.pool)
            .await?;
    let (source, hash) = row.ok_or_else(|| {
        ProgramsError::Internal(anyhow::anyhow!("program rules {version} are not stored"))
    })?;
    compiled(&hash, &source)
}
