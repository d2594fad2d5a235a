//! The rulebook registry: every rulebook version the server has ever served, kept as
//! published (table `rulebooks`). The current rulebook is the latest published one.
//!
//! Devices validate offline with the rulebook they downloaded; a push names that version
//! and the server re-validates each item under it and under the current one. So a version,
//! once served, stays servable (`GET /rulebook?version=`) and usable, and never changes.
//!
//! `tepat rulebook add FILE` publishes a new version (it becomes current). The builtin
//! rulebook is registered when the database is opened, if its version is not there yet.
//! A running server notices a newly published version at its next request.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, bail};
use tepat_core::rulebook::{DEFAULT_RULEBOOK_JSON, Rulebook};

use crate::db::{Db, now};

/// One published rulebook, compiled.
#[derive(Debug)]
pub struct Entry {
    pub rulebook: Rulebook,
    /// The JSON text exactly as published.
    pub source: String,
    /// Lowercase hex SHA-256 of `source`.
    pub content_hash: String,
}

impl Entry {
    pub fn version(&self) -> &str {
        self.rulebook.version()
    }
}

/// The rulebooks a server can validate with, by version, and the current one.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The highest `seq` loaded; 0 before the first load.
    pub seq: i64,
    pub current: Arc<Entry>,
    by_version: HashMap<String, Arc<Entry>>,
}

impl Registry {
    /// The builtin rulebook alone (before the database is read).
    pub fn builtin() -> Registry {
        let current = Arc::new(Entry {
            rulebook: Rulebook::builtin().clone(),
            source: DEFAULT_RULEBOOK_JSON.to_owned(),
            content_hash: sha256_hex(DEFAULT_RULEBOOK_JSON),
        });
        let by_version = HashMap::from([(current.version().to_owned(), current.clone())]);
        Registry {
            seq: 0,
            current,
            by_version,
        }
    }

    pub fn get(&self, version: &str) -> Option<&Arc<Entry>> {
        self.by_version.get(version)
    }

    /// Known versions, current first.
    pub fn versions(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.by_version.keys().map(String::as_str).collect();
        v.sort_unstable();
        v.retain(|x| *x != self.current.version());
        v.insert(0, self.current.version());
        v
    }

    /// Reloads from the database when something was published since `self` was loaded.
    /// Rulebooks already compiled are reused. A stored rulebook this build cannot load is
    /// left out (its version is then unknown) and logged; the current one must load.
    pub async fn refresh(&self, db: &Db) -> anyhow::Result<Option<Registry>> {
        let (latest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM rulebooks")
            .fetch_one(&db.pool)
            .await?;
        let latest = latest.unwrap_or(0);
        if latest == self.seq {
            return Ok(None);
        }
        let rows: Vec<(i64, String, String, String)> =
            sqlx::query_as("SELECT seq, version, source, content_hash FROM rulebooks ORDER BY seq")
                .fetch_all(&db.pool)
                .await?;
        let mut by_version = HashMap::new();
        let mut current = None;
        let mut seq = 0;
        for (s, version, source, hash) in rows {
            seq = s;
            let entry = match self.by_version.get(&version) {
                Some(e) if e.content_hash == hash => Some(e.clone()),
                _ => match Rulebook::from_json(&source) {
                    Ok(rulebook) if rulebook.version() == version => Some(Arc::new(Entry {
                        rulebook,
                        source,
                        content_hash: hash,
                    })),
                    Ok(_) => {
                        tracing::error!(seq = s, "stored rulebook's version differs from its row");
                        None
                    }
                    Err(e) => {
                        tracing::error!(seq = s, error = %e, "stored rulebook does not load");
                        None
                    }
                },
            };
            current = entry.clone();
            if let Some(e) = entry {
                by_version.insert(version, e);
            }
        }
        let current = current.context(
            "the current (latest published) rulebook does not load with this build of tepat-core",
        )?;
        Ok(Some(Registry {
            seq,
            current,
            by_version,
        }))
    }
}

/// Registers the builtin rulebook if its version is not stored yet (it then becomes
/// current). Called when the database is opened.
pub async fn register_builtin(db: &Db) -> anyhow::Result<()> {
    let rb = Rulebook::builtin();
    sqlx::query(
        "INSERT INTO rulebooks (version, source, content_hash, published_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (version) DO NOTHING",
    )
    .bind(rb.version())
    .bind(DEFAULT_RULEBOOK_JSON)
    .bind(sha256_hex(DEFAULT_RULEBOOK_JSON))
    .bind(now())
    .execute(&db.pool)
    .await
    .context("registering the builtin rulebook")?;
    Ok(())
}

/// What [`publish`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    /// Stored; it is now the current rulebook.
    New { version: String },
    /// The same version with the same content was already published; nothing changed.
    Unchanged { version: String, current: bool },
}

/// A version string: 1–64 characters of `A–Z a–z 0–9 . _ -`.
pub fn valid_version(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Publishes a rulebook (JSON text): it must load with tepat-core, and its version must
/// be new — a published version never changes.
pub async fn publish(db: &Db, text: &str) -> anyhow::Result<Published> {
    let rulebook = Rulebook::from_json(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = rulebook.version().to_owned();
    if !valid_version(&version) {
        bail!(
            "rulebook version {version:?} must be 1–64 characters of letters, digits, `.`, `_` or `-`"
        );
    }
    let hash = sha256_hex(text);
    let mut tx = db.pool.begin().await?;
    match existing(&mut tx, "rulebooks", &version, &hash).await? {
        Existing::New => {}
        Existing::Other => bail!(
            "rulebook version {version} is already published with other content; a published \
             version never changes: give the new rulebook a new version"
        ),
        Existing::Same { current } => return Ok(Published::Unchanged { current, version }),
    }
    sqlx::query(
        "INSERT INTO rulebooks (version, source, content_hash, published_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&version)
    .bind(text)
    .bind(&hash)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            action: "rulebook_add",
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

/// Whether `version` is already in an append-only registry `table` (`rulebooks`,
/// `program_rules`, `ranking_models`, each ordered by `seq`) with the content `hash`.
pub(crate) enum Existing {
    New,
    /// With this content; `current`: the latest published.
    Same {
        current: bool,
    },
    /// With other content: refused, a published version never changes.
    Other,
}

pub(crate) async fn existing(
    tx: &mut crate::store::Tx<'_>,
    table: &'static str,
    version: &str,
    hash: &str,
) -> Result<Existing, sqlx::Error> {
    let Some(stored) = stored_hash(tx, table, version).await? else {
        return Ok(Existing::New);
    };
    if stored != hash {
        return Ok(Existing::Other);
    }
    let (latest,): (String,) = sqlx::query_as(&format!(
        "SELECT version FROM {table} ORDER BY seq DESC LIMIT 1"
    ))
    .fetch_one(&mut **tx)
    .await?;
    Ok(Existing::Same {
        current: latest == version,
    })
}

/// The content hash `version` was published with in an append-only registry `table`
/// (`rulebooks`, `program_rules`), if it was.
pub(crate) async fn stored_hash(
    tx: &mut crate::store::Tx<'_>,
    table: &'static str,
    version: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT content_hash FROM {table} WHERE version = $1"
    ))
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Published rulebooks, oldest first: (version, published_at, content_hash).
pub async fn list(db: &Db) -> anyhow::Result<Vec<(String, i64, String)>> {
    Ok(
        sqlx::query_as("SELECT version, published_at, content_hash FROM rulebooks ORDER BY seq")
            .fetch_all(&db.pool)
            .await?,
    )
}

pub fn sha256_hex(text: &str) -> String {
    crate::auth::hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
}
