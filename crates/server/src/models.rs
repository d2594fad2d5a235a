//! The ranking-model registry: every ranking model (`tepat-pmt/1`, for instance one
//! fitted by `tepat model fit`) ever published, kept as published (table
//! `ranking_models`), like the rulebooks ([`crate::rulebooks`]) and the program rules
//! ([`crate::programs`]).
//!
//! `tepat model publish FILE` and `POST /models` publish a version; the builtin model is
//! registered when the database is opened. A ranking run uses the version it is given,
//! or else the latest published ([`for_run`]); the run records the version, and devices
//! receive the model (with the run's cut points) when that run is published.
//! **Invariant:** no scoring rule lives here; tepat-core's loader checks every file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tepat_core::Text;
use tepat_core::score::RankingModel;

use crate::auth::User;
use crate::db::{Db, now};
use crate::rulebooks::{Published, sha256_hex, stored_hash, valid_version};

/// Why a model is refused. Bahasa Indonesia first, then English.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("Model pemeringkatan tidak dapat dimuat: {0} / The ranking model failed to load: {0}")]
    Invalid(String),
    #[error(
        "Versi model {0:?} harus 1–64 huruf, angka, `.`, `_` atau `-`. / Model version {0:?} must be 1–64 letters, digits, `.`, `_` or `-`."
    )]
    BadVersion(String),
    #[error(
        "Model versi {0} sudah diterbitkan dengan isi lain; versi terbitan tidak pernah berubah: beri versi baru. / Model version {0} is already published with other content; a published version never changes: give the new model a new version."
    )]
    Duplicate(String),
    #[error(
        "Model versi {0} belum diterbitkan (`tepat model publish`). / Model version {0} is not published (`tepat model publish`)."
    )]
    Unknown(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ModelsError {
    fn from(e: sqlx::Error) -> ModelsError {
        ModelsError::Internal(e.into())
    }
}

impl From<ModelsError> for crate::error::ApiError {
    fn from(e: ModelsError) -> crate::error::ApiError {
        use crate::error::ApiError;
        match e {
            ModelsError::Invalid(_) | ModelsError::BadVersion(_) | ModelsError::Unknown(_) => {
                ApiError::unprocessable(e.to_string(), serde_json::json!({ "path": "model" }))
            }
            ModelsError::Duplicate(_) => ApiError::Conflict {
                message: e.to_string(),
                details: serde_json::Value::Null,
            },
            ModelsError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// Compiled models by content hash: a stored file is compiled once per process.
fn compiled(hash: &str, source: &str) -> Result<Arc<RankingModel>, ModelsError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<RankingModel>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(m) = cache.lock().ok().and_then(|c| c.get(hash).cloned()) {
        return Ok(m);
    }
    let model =
        Arc::new(RankingModel::from_json(source).map_err(|e| ModelsError::Invalid(e.to_string()))?);
    if let Ok(mut c) = cache.lock() {
        c.insert(hash.to_owned(), model.clone());
    }
    Ok(model)
}

/// Registers the builtin model if its version is not stored yet. Called when the
/// database is opened.
pub async fn register_builtin(db: &Db) -> anyhow::Result<()> {
    let text = RankingModel::builtin_json();
    sqlx::query(
        "INSERT INTO ranking_models (version, source, content_hash, published_at, published_by) \
         VALUES ($1, $2, $3, $4, 'builtin') ON CONFLICT (version) DO NOTHING",
    )
    .bind(RankingModel::builtin().version())
    .bind(text)
    .bind(sha256_hex(text))
    .bind(now())
    .execute(&db.pool)
    .await
    .map_err(|e| anyhow::anyhow!("registering the builtin ranking model: {e}"))?;
    Ok(())
}

/// Publishes a model (JSON text): it must load with tepat-core, and its version must be
/// new, or already published with exactly this content. `user` is `None` for the CLI.
pub async fn publish(db: &Db, user: Option<&User>, text: &str) -> Result<Published, ModelsError> {
    let model = RankingModel::from_json(text).map_err(|e| ModelsError::Invalid(e.to_string()))?;
    let version = model.version().to_owned();
    if !valid_version(&version) {
        return Err(ModelsError::BadVersion(version));
    }
    let hash = sha256_hex(text);
    let mut tx = db.pool.begin().await?;
    if let Some(stored) = stored_hash(&mut tx, "ranking_models", &version).await? {
        if stored != hash {
            return Err(ModelsError::Duplicate(version));
        }
        let (latest,): (String,) =
            sqlx::query_as("SELECT version FROM ranking_models ORDER BY seq DESC LIMIT 1")
                .fetch_one(&mut *tx)
                .await?;
        return Ok(Published::Unchanged {
            current: latest == version,
            version,
        });
    }
    sqlx::query(
        "INSERT INTO ranking_models (version, source, content_hash, published_at, published_by) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&version)
    .bind(text)
    .bind(&hash)
    .bind(now())
    .bind(user.map_or("cli", |u| u.username.as_str()))
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user,
            action: "model_publish",
            details: Some(
                &serde_json::json!({ "version": version, "content_hash": hash }).to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Published::New { version })
}

/// A published model version.
#[derive(Clone, Debug, Serialize)]
pub struct Version {
    pub version: String,
    pub label: Text,
    pub effective_date: String,
    pub published_at: String,
    pub published_by: String,
    pub content_hash: String,
    /// Whether it carries the record of a fit on survey data (`tepat model fit`).
    pub fitted: bool,
    /// The version shipped in this build of tepat-core.
    pub builtin: bool,
    /// The latest published: the one a ranking run uses when given none.
    pub latest: bool,
}

/// Published versions, oldest published first.
pub async fn list(db: &Db) -> Result<Vec<Version>, ModelsError> {
    let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT version, source, content_hash, published_at, published_by FROM ranking_models ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await?;
    let builtin = RankingModel::builtin().version();
    let last = rows.len().saturating_sub(1);
    let mut out = Vec::with_capacity(rows.len());
    for (i, (version, source, hash, at, by)) in rows.into_iter().enumerate() {
        let (label, effective_date, fitted) = match compiled(&hash, &source) {
            Ok(m) => (
                m.label().clone(),
                m.effective_date().to_string(),
                m.source().fit.is_some(),
            ),
            Err(e) => {
                tracing::error!(version = %version, error = %e, "a stored ranking model does not load");
                (
                    Text::new("(tidak dapat dimuat)", "(does not load)"),
                    String::new(),
                    false,
                )
            }
        };
        out.push(Version {
            builtin: version == builtin,
            latest: i == last,
            version,
            label,
            effective_date,
            published_at: crate::db::rfc3339(at),
            published_by: by,
            content_hash: hash,
            fitted,
        });
    }
    Ok(out)
}

/// A published version's JSON text, exactly as published.
pub async fn source(db: &Db, version: &str) -> Result<String, ModelsError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT source FROM ranking_models WHERE version = $1")
            .bind(version)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|r| r.0)
        .ok_or_else(|| ModelsError::Unknown(version.to_owned()))
}

/// The model a ranking run uses: the published `version`, or the latest published.
pub async fn for_run(db: &Db, version: Option<&str>) -> Result<Arc<RankingModel>, ModelsError> {
    let row: Option<(String, String)> = match version {
        Some(v) => {
            sqlx::query_as("SELECT source, content_hash FROM ranking_models WHERE version = $1")
                .bind(v)
                .fetch_optional(&db.pool)
                .await?
        }
        None => {
            sqlx::query_as(
                "SELECT source, content_hash FROM ranking_models ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(&db.pool)
            .await?
        }
    };
    match row {
        Some((source, hash)) => compiled(&hash, &source),
        None => Err(ModelsError::Unknown(
            version
                .unwrap_or(RankingModel::builtin().version())
                .to_owned(),
        )),
    }
}
