//! Household storage: append-only versions plus a head row per household.
//!
//! A household is keyed by its No. KK. Every change inserts a new row in
//! `household_versions` (never updated) and moves the head in `households`. The head
//! holds no copy of the household JSON: its `seq` points at its version row, and reads
//! join the two ([`HEAD_COLUMNS`], [`HEAD_FROM`]), so each change writes its JSON once.
//! `seq` is the global change order that pull cursors follow; writers first take the
//! `meta.write_lock` row lock so `seq` follows commit order on both engines.

use std::collections::HashMap;

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
    /// The household JSON; `None` when the head was read without it ([`heads_meta`], or
    /// a head just queued in [`Writes`]): [`version_json`] reads it by `seq`.
    pub payload: Option<String>,
}

impl Head {
    /// The household JSON; an error for a head read without it.
    pub fn json(&self) -> anyhow::Result<&str> {
        self.payload
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("household {} was read without its JSON", self.seq))
    }

    pub fn keluarga(&self) -> anyhow::Result<Keluarga> {
        serde_json::from_str(self.json()?)
            .map_err(|e| anyhow::anyhow!("stored household {} does not parse: {e}", self.seq))
    }
}

/// The columns of a [`Head`], in its order, for a query `FROM` [`HEAD_FROM`].
pub const HEAD_COLUMNS: &str = "h.id, h.province, h.village, h.version, h.seq, v.payload";

/// The head (`h`) joined with its version row (`v`), which holds the household JSON.
pub const HEAD_FROM: &str =
    "households h JOIN household_versions v ON v.province = h.province AND v.seq = h.seq";

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
    let sql = format!("SELECT {HEAD_COLUMNS} FROM {HEAD_FROM} WHERE h.id = $1");
    let row: Option<(String, String, String, i64, i64, String)> = sqlx::query_as(&sql)
        .bind(no_kk)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(|r| Head {
        no_kk: r.0,
        province: r.1,
        village: r.2,
        version: r.3,
        seq: r.4,
        payload: Some(r.5),
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
/// and moves the head, at once. Batches use [`Writes`] instead.
pub async fn save(
    tx: &mut Tx<'_>,
    k: &Keluarga,
    user_id: Option<i64>,
    change_id: Option<&str>,
) -> anyhow::Result<()> {
    let mut w = Writes::default();
    w.save(tx, k, None, user_id, change_id).await?;
    w.flush(tx).await?;
    Ok(())
}

/// A bind value of a batched row.
#[derive(Clone, Debug)]
pub enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    OptFloat(Option<f64>),
}

/// Rows for one multi-row `INSERT`, sent in chunks by [`Rows::flush`].
#[derive(Debug)]
pub struct Rows {
    /// `INSERT INTO t (a, b) VALUES`
    head: &'static str,
    /// Appended after the values, e.g. `RETURNING …` or `ON CONFLICT …`.
    tail: &'static str,
    cols: usize,
    vals: Vec<Val>,
}

/// Rows per statement: far below SQLite's and PostgreSQL's bind limits.
const CHUNK_ROWS: usize = 400;

/// Whether the transaction talks to SQLite.
pub fn is_sqlite(tx: &Tx<'_>) -> bool {
    tx.backend_name().eq_ignore_ascii_case("sqlite")
}

/// The `i`-th (1-based) bind placeholder. SQLite gets anonymous `?`: with numbered ones,
/// binding looks every name up in a list, which is quadratic in long multi-row statements.
pub fn placeholder(sqlite: bool, i: usize) -> String {
    if sqlite {
        "?".to_owned()
    } else {
        format!("${i}")
    }
}

impl Rows {
    pub fn new(head: &'static str, cols: usize, tail: &'static str) -> Rows {
        Rows {
            head,
            tail,
            cols,
            vals: Vec::new(),
        }
    }

    pub fn push(&mut self, row: impl IntoIterator<Item = Val>) {
        let before = self.vals.len();
        self.vals.extend(row);
        debug_assert_eq!(self.vals.len() - before, self.cols);
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    /// Inserts every row (in order) and returns what `tail`'s `RETURNING` gave.
    pub async fn flush(&mut self, tx: &mut Tx<'_>) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        let vals = std::mem::take(&mut self.vals);
        let sqlite = is_sqlite(tx);
        let mut out = Vec::new();
        for chunk in vals.chunks(self.cols * CHUNK_ROWS) {
            let sql = self.statement(sqlite, chunk.len());
            let q = bind_all(sqlx::query(&sql), chunk);
            out.extend(q.fetch_all(&mut **tx).await?);
        }
        Ok(out)
    }
}

impl Rows {
    /// Runs every chunk (as [`Rows::flush`], for statements without `RETURNING`) and
    /// returns how many rows they changed.
    pub async fn flush_count(&mut self, tx: &mut Tx<'_>) -> Result<u64, sqlx::Error> {
        let vals = std::mem::take(&mut self.vals);
        let sqlite = is_sqlite(tx);
        let mut n = 0;
        for chunk in vals.chunks(self.cols * CHUNK_ROWS) {
            let sql = self.statement(sqlite, chunk.len());
            n += bind_all(sqlx::query(&sql), chunk)
                .execute(&mut **tx)
                .await?
                .rows_affected();
        }
        Ok(n)
    }

    /// The statement for `n` values.
    fn statement(&self, sqlite: bool, n: usize) -> String {
        let mut sql = String::with_capacity(self.head.len() + self.tail.len() + n * 6);
        sql.push_str(self.head);
        for i in 0..n {
            if i % self.cols == 0 {
                sql.push_str(if i == 0 { " (" } else { "), (" });
            } else {
                sql.push_str(", ");
            }
            sql.push_str(&placeholder(sqlite, i + 1));
        }
        sql.push_str(") ");
        sql.push_str(self.tail);
        sql
    }
}

/// `q` with `vals` bound in order.
fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    vals: &'q [Val],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for v in vals {
        q = match v {
            Val::Text(t) => q.bind(t.as_str()),
            Val::OptText(t) => q.bind(t.as_deref()),
            Val::Int(n) => q.bind(*n),
            Val::OptInt(n) => q.bind(*n),
            Val::OptFloat(x) => q.bind(*x),
        };
    }
    q
}

/// A family's stored JSON and its SHA-256 (hex), made before it is queued.
#[derive(Clone, Debug)]
pub struct Encoded {
    pub json: String,
    pub hash: String,
}

impl Encoded {
    pub fn of(k: &Keluarga) -> serde_json::Result<Encoded> {
        let json = serde_json::to_string(k)?;
        let hash = crate::auth::hex(&<sha2::Sha256 as sha2::Digest>::digest(json.as_bytes()));
        Ok(Encoded { json, hash })
    }
}

/// What the core's scoring says of a version when it is written, stored with it
/// (migration 0008): the desil under the ranking model, the active members (the
/// dashboard's persons per region), and the graduation flag of the program rules
/// (`alamiah` when any program the family receives graduates naturally, else `mandiri`
/// when self-sufficient), which the dashboard's graduation chart counts. The dashboard's
/// desil distribution is the published ranking run's, not this column; the prediction is
/// still made because the graduation flag needs its desil.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scored {
    /// `None` when the model cannot score the family.
    pub desil: Option<i64>,
    pub persons: i64,
    pub graduation: Option<&'static str>,
}

impl Scored {
    pub fn of(k: &Keluarga, today: tepat_core::Date) -> Scored {
        use tepat_core::score::{GraduationKind, ProgramRules, RankingModel};
        let persons = k.active_members().count() as i64;
        let Ok(p) = RankingModel::builtin().predict(k, today) else {
            return Scored {
                desil: None,
                persons,
                graduation: None,
            };
        };
        let g = ProgramRules::builtin().graduation(k, p.desil, today);
        let kinds: Vec<GraduationKind> = g.programs.iter().filter_map(|p| p.kind).collect();
        let graduation = if kinds.contains(&GraduationKind::Alamiah) {
            Some("alamiah")
        } else if kinds.contains(&GraduationKind::Mandiri) {
            Some("mandiri")
        } else {
            None
        };
        Scored {
            desil: Some(i64::from(p.desil)),
            persons,
            graduation,
        }
    }
}

/// A version waiting in [`Writes`].
#[derive(Debug)]
struct NewVersion {
    province: String,
    no_kk: String,
    version: i64,
    payload: String,
}

/// The writes of one transaction, batched: household versions (and their heads), audit
/// entries and change requests go to the database in multi-row statements at
/// [`Writes::flush`], which must run before the commit. The NIK index is written at once
/// (reads in the same transaction see it).
#[derive(Debug)]
pub struct Writes {
    versions: Vec<NewVersion>,
    version_rows: Rows,
    pub audit: Rows,
    pub changes: Rows,
}

impl Default for Writes {
    fn default() -> Writes {
        Writes {
            versions: Vec::new(),
            // No `RETURNING seq`: the heads take their `seq` from the inserted rows in
            // SQL ([`Writes::flush`]), so no row comes back to the writer per version.
            version_rows: Rows::new(
                "INSERT INTO household_versions (province, household_id, version, village, hash, payload, created_at, created_by, change_id, \
                 desil, persons, graduation) VALUES",
                12,
                "",
            ),
            audit: Rows::new(
                "INSERT INTO audit_log (at, user_id, username, action, province, household_id, change_id, before, after, details) VALUES",
                10,
                "",
            ),
            changes: Rows::new(
                "INSERT INTO change_requests (id, province, village, household_id, user_id, kind, base_version, rulebook_version, \
                 payload, content_hash, outcome, status, review_reasons, findings, result_version, response, created_at) VALUES",
                17,
                "",
            ),
        }
    }
}

impl Writes {
    /// Queues `k` as the household's next version (its `version` field decides the
    /// number) and updates the NIK index when the active NIKs differ from `before`'s
    /// (the household's current version; `None` reads the index). Returns the head.
    pub async fn save(
        &mut self,
        tx: &mut Tx<'_>,
        k: &Keluarga,
        before: Option<&Keluarga>,
        user_id: Option<i64>,
        change_id: Option<&str>,
    ) -> anyhow::Result<Head> {
        let encoded = Encoded::of(k)?;
        self.save_encoded(tx, k, encoded, before, user_id, change_id)
            .await
    }

    /// [`Writes::save`] with `k`'s JSON and hash already made ([`Encoded::of`]).
    pub async fn save_encoded(
        &mut self,
        tx: &mut Tx<'_>,
        k: &Keluarga,
        encoded: Encoded,
        before: Option<&Keluarga>,
        user_id: Option<i64>,
        change_id: Option<&str>,
    ) -> anyhow::Result<Head> {
        let Encoded {
            json: payload,
            hash,
        } = encoded;
        let village = village_of(k).to_owned();
        let province = province_of(&village);
        let at = now();
        let version = i64::from(k.version);
        let scored = Scored::of(k, crate::state::today_at(at, &village));
        self.version_rows.push([
            Val::Text(province.clone()),
            Val::Text(k.no_kk.clone()),
            Val::Int(version),
            Val::Text(village.clone()),
            Val::Text(hash),
            Val::Text(payload.clone()),
            Val::Int(at),
            Val::OptInt(user_id),
            Val::OptText(change_id.map(str::to_owned)),
            Val::OptInt(scored.desil),
            Val::Int(scored.persons),
            Val::OptText(scored.graduation.map(str::to_owned)),
        ]);
        self.versions.push(NewVersion {
            province: province.clone(),
            no_kk: k.no_kk.clone(),
            version,
            payload,
        });
        // Rewrite the NIK index only when the set of active NIKs changed (most changes,
        // e.g. ground-check corrections, leave it as it is). The index always holds the
        // head's active NIKs, so the previous version tells what is stored.
        let mut active: Vec<&str> = k.active_members().map(|a| a.nik.as_str()).collect();
        active.sort_unstable();
        active.dedup();
        let stored: Vec<String> = match before {
            Some(b) => b.active_members().map(|a| a.nik.clone()).collect(),
            None => sqlx::query_as::<_, (String,)>(
                "SELECT nik FROM member_niks WHERE household_id = $1",
            )
            .bind(&k.no_kk)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect(),
        };
        let mut stored: Vec<&str> = stored.iter().map(String::as_str).collect();
        stored.sort_unstable();
        stored.dedup();
        if stored != active {
            sqlx::query("DELETE FROM member_niks WHERE household_id = $1")
                .bind(&k.no_kk)
                .execute(&mut **tx)
                .await?;
            let mut rows = Rows::new(
                "INSERT INTO member_niks (province, nik, household_id) VALUES",
                3,
                "ON CONFLICT DO NOTHING",
            );
            for nik in active {
                rows.push([
                    Val::Text(province.clone()),
                    Val::Text(nik.to_owned()),
                    Val::Text(k.no_kk.clone()),
                ]);
            }
            rows.flush(tx).await?;
        }
        Ok(Head {
            no_kk: k.no_kk.clone(),
            province,
            village,
            version,
            // Assigned at flush; heads handed out here are for reading within the batch
            // (the JSON through `pending_version`).
            seq: 0,
            payload: None,
        })
    }

    /// Queues an audit entry (written at the flush like [`crate::audit::record`]).
    pub fn record(&mut self, entry: crate::audit::NewEntry<'_>) {
        let opt = |x: Option<&str>| Val::OptText(x.map(str::to_owned));
        self.audit.push([
            Val::Int(now()),
            Val::OptInt(entry.user.map(|u| u.id)),
            Val::Text(entry.username().to_owned()),
            Val::Text(entry.action.to_owned()),
            opt(entry.province),
            opt(entry.household_id),
            opt(entry.change_id),
            opt(entry.before),
            opt(entry.after),
            opt(entry.details),
        ]);
    }

    /// A version queued here and not yet flushed.
    pub fn pending_version(&self, no_kk: &str, version: i64) -> Option<&str> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.no_kk == no_kk && v.version == version)
            .map(|v| v.payload.as_str())
    }

    /// Sends everything queued: versions, then the heads (pointing at the versions just
    /// inserted), audit entries and change requests.
    pub async fn flush(&mut self, tx: &mut Tx<'_>) -> anyhow::Result<()> {
        if !self.version_rows.is_empty() {
            self.version_rows.flush(tx).await?;
            // One head row per household: its last version in this batch. Its `seq` and
            // the rest are read back from that version row by the database itself (the
            // `(household_id, version)` key), instead of returning every new row's `seq`.
            let mut last: HashMap<&str, (&str, i64)> = HashMap::new();
            for v in &self.versions {
                let e = last
                    .entry(v.no_kk.as_str())
                    .or_insert((v.province.as_str(), v.version));
                if v.version > e.1 {
                    *e = (v.province.as_str(), v.version);
                }
            }
            let mut heads = Rows::new(HEADS_FROM_VERSIONS, 3, HEADS_UPSERT);
            let mut order: Vec<(&str, (&str, i64))> = last.into_iter().collect();
            order.sort_unstable();
            for (no_kk, (province, version)) in order {
                heads.push([
                    Val::Text(province.to_owned()),
                    Val::Text(no_kk.to_owned()),
                    Val::Int(version),
                ]);
            }
            let moved = heads.flush_count(tx).await?;
            if moved != heads_expected(&self.versions) {
                anyhow::bail!(
                    "moving the household heads touched {moved} rows, expected one per household"
                );
            }
            self.versions.clear();
        }
        self.audit.flush(tx).await?;
        self.changes.flush(tx).await?;
        Ok(())
    }
}

/// How many heads [`Writes::flush`] moves: one per household among `versions`.
fn heads_expected(versions: &[NewVersion]) -> u64 {
    let mut kks: Vec<&str> = versions.iter().map(|v| v.no_kk.as_str()).collect();
    kks.sort_unstable();
    kks.dedup();
    kks.len() as u64
}

/// The heads of the listed `(province, household_id, version)` triples, made from their
/// version rows (followed by the triples as `(?, ?, ?), …` and [`HEADS_UPSERT`]). The
/// list is the outer loop: each triple finds its row by the table's unique key
/// (SQLite's is `(household_id, version)`, PostgreSQL's leads with `province`; an `IN
/// (VALUES …)` condition would scan the whole table in SQLite).
const HEADS_FROM_VERSIONS: &str = "INSERT INTO households (province, id, village, version, seq, hash, updated_at) \
     SELECT v.province, v.household_id, v.village, v.version, v.seq, v.hash, v.created_at \
     FROM (VALUES";

/// Closes [`HEADS_FROM_VERSIONS`]'s list; an existing head moves to the new version.
const HEADS_UPSERT: &str = ") s JOIN household_versions v \
     ON v.province = s.column1 AND v.household_id = s.column2 AND v.version = s.column3 \
     WHERE true ON CONFLICT (id) DO UPDATE SET village = excluded.village, version = excluded.version, \
     seq = excluded.seq, hash = excluded.hash, updated_at = excluded.updated_at";

/// Heads of the given households, one query per few hundred; missing ones are absent.
pub async fn heads(tx: &mut Tx<'_>, ids: &[&str]) -> Result<HashMap<String, Head>, sqlx::Error> {
    let sqlite = is_sqlite(tx);
    heads_with(tx, sqlite, ids, true).await
}

/// [`heads`] without the household JSON (`payload` is `None`; see [`version_json`]).
pub async fn heads_meta(
    tx: &mut Tx<'_>,
    ids: &[&str],
) -> Result<HashMap<String, Head>, sqlx::Error> {
    let sqlite = is_sqlite(tx);
    heads_with(tx, sqlite, ids, false).await
}

/// Of the households `seen` as `(No. KK, seq)`, those whose head is no longer at that
/// `seq`: their head now, or `None` when they have none. Households still where they
/// were seen are absent. A head only ever moves to a new version row, whose `seq` is
/// new (no other statement changes a head), so an equal `seq` is an equal head.
pub async fn heads_moved(
    tx: &mut Tx<'_>,
    seen: &[(&str, i64)],
) -> Result<HashMap<String, Option<Head>>, sqlx::Error> {
    let sqlite = is_sqlite(tx);
    let mut out = HashMap::new();
    for chunk in seen.chunks(CHUNK_ROWS) {
        let mut sql =
            String::from("SELECT s.column1, h.province, h.village, h.version, h.seq FROM (VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&placeholder(sqlite, 2 * i + 1));
            sql.push_str(", ");
            sql.push_str(&placeholder(sqlite, 2 * i + 2));
            sql.push(')');
        }
        sql.push_str(
            ") s LEFT JOIN households h ON h.id = s.column1 WHERE h.seq IS NULL OR h.seq <> s.column2",
        );
        let mut q = sqlx::query_as::<
            _,
            (
                String,
                Option<String>,
                Option<String>,
                Option<i64>,
                Option<i64>,
            ),
        >(&sql);
        for (id, seq) in chunk {
            q = q.bind(*id).bind(*seq);
        }
        for (id, province, village, version, seq) in q.fetch_all(&mut **tx).await? {
            let head = match (province, village, version, seq) {
                (Some(province), Some(village), Some(version), Some(seq)) => Some(Head {
                    no_kk: id.clone(),
                    province,
                    village,
                    version,
                    seq,
                    payload: None,
                }),
                _ => None,
            };
            out.insert(id, head);
        }
    }
    Ok(out)
}

/// The JSON of the household version numbered `seq` (a head's pointer).
pub async fn version_json(
    tx: &mut Tx<'_>,
    province: &str,
    seq: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT payload FROM household_versions WHERE province = $1 AND seq = $2")
            .bind(province)
            .bind(seq)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|r| r.0))
}

/// [`heads`] read outside a transaction (a snapshot that may be stale by the time it
/// is used: callers check the version again under the write lock).
pub async fn heads_snapshot(
    pool: &sqlx::AnyPool,
    sqlite: bool,
    ids: &[&str],
) -> Result<HashMap<String, Head>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    heads_with(&mut conn, sqlite, ids, true).await
}

async fn heads_with(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    ids: &[&str],
    with_json: bool,
) -> Result<HashMap<String, Head>, sqlx::Error> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK_ROWS) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| placeholder(sqlite, i)).collect();
        let sql = if with_json {
            format!(
                "SELECT {HEAD_COLUMNS} FROM {HEAD_FROM} WHERE h.id IN ({})",
                params.join(", ")
            )
        } else {
            format!(
                "SELECT id, province, village, version, seq, '' FROM households WHERE id IN ({})",
                params.join(", ")
            )
        };
        let mut q = sqlx::query_as::<_, (String, String, String, i64, i64, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.insert(
                r.0.clone(),
                Head {
                    no_kk: r.0,
                    province: r.1,
                    village: r.2,
                    version: r.3,
                    seq: r.4,
                    payload: with_json.then_some(r.5),
                },
            );
        }
    }
    Ok(out)
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
