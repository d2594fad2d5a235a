//! Household storage: append-only versions plus a head row per household.
//!
//! A household is keyed by its No. KK. Every change inserts a new row in
//! `household_versions` (never updated) and moves the head in `households`.
//! `seq` is the global change order that pull cursors follow; writers first take the
//! `meta.write_lock` row lock so `seq` follows commit order on both engines.

use sqlx::{Any, Transaction};
use tepat_core::Keluarga;

use crate::db::now;

pub type Tx<'a> = Transaction<'a, Any>;

/// The current version of a household.
#[derive(Clone, Debug)]
pub struct Head {
    pub no_kk: String,
    pub province: String,
    pub village: String,
    pub version: i64,
    pub seq: i64,
    pub payload: String,
}

impl Head {
    pub fn keluarga(&self) -> anyhow::Result<Keluarga> {
        serde_json::from_str(&self.payload)
            .map_err(|e| anyhow::anyhow!("stored household {} does not parse: {e}", self.seq))
    }
}

/// Serializes writers (see the module docs). Call first in every writing transaction.
pub async fn lock(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE meta SET value = value WHERE key = 'write_lock'")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn head<'e, E>(exec: E, no_kk: &str) -> Result<Option<Head>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row: Option<(String, String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT id, province, village, version, seq, payload FROM households WHERE id = $1",
    )
    .bind(no_kk)
    .fetch_optional(exec)
    .await?;
    Ok(row.map(|r| Head {
        no_kk: r.0,
        province: r.1,
        village: r.2,
        version: r.3,
        seq: r.4,
        payload: r.5,
    }))
}

/// The village code of a family (its address), dotted.
pub fn village_of(k: &Keluarga) -> &str {
    &k.address.village
}

pub fn province_of(village: &str) -> String {
    village.get(..2).unwrap_or("00").to_owned()
}

/// Active NIKs of `k` that are also active in another household. NIKs already active
/// in `before` (the family's previous version) are not checked again.
pub async fn niks_elsewhere(
    tx: &mut Tx<'_>,
    k: &Keluarga,
    before: Option<&Keluarga>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    for a in k.active_members() {
        if before.is_some_and(|b| b.active_members().any(|x| x.nik == a.nik)) {
            continue;
        }
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT household_id FROM member_niks WHERE nik = $1 AND household_id <> $2 LIMIT 1",
        )
        .bind(&a.nik)
        .bind(&k.no_kk)
        .fetch_optional(&mut **tx)
        .await?;
        if row.is_some() {
            out.push(a.nik.clone());
        }
    }
    Ok(out)
}

/// Stores `k` as the household's next version (its `version` field decides the number)
/// and moves the head. Returns the new `seq`.
pub async fn save(
    tx: &mut Tx<'_>,
    k: &Keluarga,
    user_id: Option<i64>,
    change_id: Option<&str>,
) -> anyhow::Result<i64> {
    let payload = serde_json::to_string(k)?;
    let hash = crate::auth::hex(&<sha2::Sha256 as sha2::Digest>::digest(payload.as_bytes()));
    let village = village_of(k).to_owned();
    let province = province_of(&village);
    let at = now();
    let version = i64::from(k.version);
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO household_versions (province, household_id, version, village, hash, payload, created_at, created_by, change_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
    )
    .bind(&province)
    .bind(&k.no_kk)
    .bind(version)
    .bind(&village)
    .bind(&hash)
    .bind(&payload)
    .bind(at)
    .bind(user_id)
    .bind(change_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO households (province, id, village, version, seq, hash, payload, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET village = excluded.village, version = excluded.version, \
         seq = excluded.seq, hash = excluded.hash, payload = excluded.payload, updated_at = excluded.updated_at",
    )
    .bind(&province)
    .bind(&k.no_kk)
    .bind(&village)
    .bind(version)
    .bind(seq)
    .bind(&hash)
    .bind(&payload)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    // Rewrite the NIK index only when the set of active NIKs changed (most changes,
    // e.g. ground-check corrections, leave it as it is).
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT nik FROM member_niks WHERE household_id = $1")
            .bind(&k.no_kk)
            .fetch_all(&mut **tx)
            .await?;
    let mut stored: Vec<&str> = stored.iter().map(|r| r.0.as_str()).collect();
    let mut active: Vec<&str> = k.active_members().map(|a| a.nik.as_str()).collect();
    stored.sort_unstable();
    active.sort_unstable();
    active.dedup();
    if stored == active {
        return Ok(seq);
    }
    sqlx::query("DELETE FROM member_niks WHERE household_id = $1")
        .bind(&k.no_kk)
        .execute(&mut **tx)
        .await?;
    for a in k.active_members() {
        sqlx::query(
            "INSERT INTO member_niks (nik, household_id, province) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&a.nik)
        .bind(&k.no_kk)
        .bind(&province)
        .execute(&mut **tx)
        .await?;
    }
    Ok(seq)
}

/// Version history of one household: (version, seq, created_at, change_id).
pub async fn history(
    db: &crate::db::Db,
    no_kk: &str,
) -> Result<Vec<(i64, i64, i64, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, seq, created_at, change_id FROM household_versions WHERE household_id = $1 ORDER BY version",
    )
    .bind(no_kk)
    .fetch_all(&db.pool)
    .await
}

/// A stored version of a household.
pub async fn version(
    tx: &mut Tx<'_>,
    no_kk: &str,
    version: i64,
) -> anyhow::Result<Option<Keluarga>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT payload FROM household_versions WHERE household_id = $1 AND version = $2",
    )
    .bind(no_kk)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some((p,)) => Ok(Some(serde_json::from_str(&p)?)),
        None => Ok(None),
    }
}
