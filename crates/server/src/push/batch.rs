//! What one push transaction has read and the writes it queues; storing an applied
//! change with its audit entries.

use std::collections::HashMap;

use tepat_core::Keluarga;
use tepat_core::event::{Applied, ChangeRequest, Event};

use crate::audit::NewEntry;
use crate::auth::User;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, Tx};

/// What one push transaction has read and what it will write: heads as the batch left
/// them, answers by change id, and the queued writes (sent by one flush before commit).
pub struct Batch {
    pub heads: HashMap<String, Option<store::Head>>,
    pub(super) answers: HashMap<String, (String, String)>,
    pub writes: store::Writes,
    /// Change rows queued so far and their stored bytes (against the daily cap).
    pub(super) stored: (i64, i64),
}

impl Batch {
    /// An empty batch (reads go to the database).
    pub fn new() -> Batch {
        Batch {
            heads: HashMap::new(),
            answers: HashMap::new(),
            writes: store::Writes::default(),
            stored: (0, 0),
        }
    }

    /// Reads, under the write lock, the heads of the households `items` name and the
    /// stored answers of their ids. `seen` holds heads read earlier (a snapshot): for
    /// those only the ones that moved since come back from the database.
    pub(super) async fn prefetch(
        tx: &mut Tx<'_>,
        items: &[&ChangeRequest],
        seen: &HashMap<&str, &store::Head>,
    ) -> ApiResult<Batch> {
        let mut kks: Vec<&str> = Vec::with_capacity(items.len());
        for item in items {
            kks.push(&item.no_kk);
            if let Event::FamilyMerge { into_no_kk, .. } = &item.event {
                kks.push(into_no_kk);
            }
        }
        kks.sort_unstable();
        kks.dedup();
        // Without the JSON: the writer mostly reuses what `prepare` parsed, and reads a
        // family's JSON only when it needs it (`Batch::family`).
        let (known, unknown): (Vec<&str>, Vec<&str>) =
            kks.iter().partition(|k| seen.contains_key(*k));
        let pairs: Vec<(&str, i64)> = known.iter().map(|k| (*k, seen[k].seq)).collect();
        let mut moved = store::heads_moved(tx, &pairs).await?;
        let mut found = store::heads_meta(tx, &unknown).await?;
        let mut heads = HashMap::with_capacity(kks.len());
        for k in known {
            let head = moved.remove(k).unwrap_or_else(|| Some(seen[k].clone()));
            heads.insert(k.to_owned(), head);
        }
        for k in unknown {
            heads.insert(k.to_owned(), found.remove(k));
        }
        let mut ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut answers = HashMap::new();
        let sqlite = store::is_sqlite(tx);
        for chunk in ids.chunks(400) {
            let params: Vec<String> = (1..=chunk.len())
                .map(|i| store::placeholder(sqlite, i))
                .collect();
            let sql = format!(
                "SELECT id, content_hash, response FROM change_requests WHERE id IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, hash, response) in q.fetch_all(&mut **tx).await? {
                answers.insert(id, (hash, response));
            }
        }
        Ok(Batch {
            heads,
            answers,
            writes: store::Writes::default(),
            stored: (0, 0),
        })
    }

    /// The head as this batch left it.
    pub async fn head(&mut self, tx: &mut Tx<'_>, no_kk: &str) -> ApiResult<Option<store::Head>> {
        if let Some(h) = self.heads.get(no_kk) {
            return Ok(h.clone());
        }
        let h = store::head(&mut **tx, no_kk).await?;
        self.heads.insert(no_kk.to_owned(), h.clone());
        Ok(h)
    }

    /// The JSON of a head as this batch left it: in hand, queued in this batch, or read
    /// by its `seq`.
    pub async fn json(&self, tx: &mut Tx<'_>, head: &store::Head) -> ApiResult<String> {
        if let Some(p) = &head.payload {
            return Ok(p.clone());
        }
        if let Some(p) = self.writes.pending_version(&head.no_kk, head.version) {
            return Ok(p.to_owned());
        }
        store::version_json(tx, &head.province, head.seq)
            .await?
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "household head {} points at no version",
                    head.seq
                ))
            })
    }

    /// The family of a head as this batch left it (see [`Batch::json`]).
    pub async fn family(&self, tx: &mut Tx<'_>, head: &store::Head) -> ApiResult<Keluarga> {
        let json = self.json(tx, head).await?;
        serde_json::from_str(&json).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "stored household {} does not parse: {e}",
                head.seq
            ))
        })
    }

    /// A stored version, or one made earlier in this batch.
    pub(super) async fn version(
        &self,
        tx: &mut Tx<'_>,
        no_kk: &str,
        version: i64,
    ) -> anyhow::Result<Option<Keluarga>> {
        if let Some(p) = self.writes.pending_version(no_kk, version) {
            return Ok(Some(serde_json::from_str(p)?));
        }
        store::version(tx, no_kk, version).await
    }
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::new()
    }
}

/// Stores an applied change (and the other family of a split or merge) with audit entries.
/// Returns the family's new version.
pub async fn commit_applied(
    tx: &mut Tx<'_>,
    user: &User,
    item: &ChangeRequest,
    before: &Keluarga,
    applied: &Applied,
) -> ApiResult<u32> {
    let mut batch = Batch::new();
    let version = stage_applied(tx, &mut batch, user, item, before, applied, None).await?;
    batch.writes.flush(tx).await?;
    Ok(version)
}

/// Stores a new family's first version (a `new_family` change approved) with its audit
/// entry. Returns its version (1).
pub async fn commit_new_family(
    tx: &mut Tx<'_>,
    user: &User,
    item: &ChangeRequest,
    applied: &Applied,
) -> ApiResult<u32> {
    let mut batch = Batch::new();
    let k = &applied.keluarga;
    batch
        .writes
        .save(tx, k, None, Some(user.id), Some(&item.id))
        .await?;
    let after = serde_json::to_string(k).map_err(|e| ApiError::Internal(e.into()))?;
    let village = store::village_of(k).to_owned();
    batch.writes.record(NewEntry {
        user: Some(user),
        action: item.event.kind().name(),
        province: Some(&store::province_of(&village)),
        household_id: Some(&k.no_kk),
        change_id: Some(&item.id),
        before: None,
        after: Some(&after),
        details: None,
        subject: None,
    });
    batch.writes.flush(tx).await?;
    Ok(k.version)
}

/// [`commit_applied`] into a batch (written at its flush). `encoded` is the new
/// version's JSON and hash when already made (`store::Encoded::of(&applied.keluarga)`).
pub async fn stage_applied(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    user: &User,
    item: &ChangeRequest,
    before: &Keluarga,
    applied: &Applied,
    encoded: Option<store::Encoded>,
) -> ApiResult<u32> {
    let encoded = match encoded {
        Some(e) => e,
        None => store::Encoded::of(&applied.keluarga).map_err(|e| ApiError::Internal(e.into()))?,
    };
    let head = batch
        .writes
        .save_encoded(
            tx,
            &applied.keluarga,
            encoded,
            Some(before),
            Some(user.id),
            Some(&item.id),
        )
        .await?;
    batch.heads.insert(head.no_kk.clone(), Some(head));
    let (before_diff, after_diff) = crate::audit::diff_keluarga(before, &applied.keluarga)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let village = store::village_of(&applied.keluarga).to_owned();
    batch.writes.record(NewEntry {
        user: Some(user),
        action: item.event.kind().name(),
        province: Some(&store::province_of(&village)),
        household_id: Some(&applied.keluarga.no_kk),
        change_id: Some(&item.id),
        before: Some(&before_diff.to_string()),
        after: Some(&after_diff.to_string()),
        details: None,
        subject: None,
    });
    if let Some(other) = &applied.other {
        let prior = batch.head(tx, &other.no_kk).await?;
        let prior_json = match &prior {
            Some(p) => Some(batch.json(tx, p).await?),
            None => None,
        };
        let prior_family = match &prior_json {
            Some(j) => Some(
                serde_json::from_str::<Keluarga>(j).map_err(|e| ApiError::Internal(e.into()))?,
            ),
            None => None,
        };
        let head = batch
            .writes
            .save(
                tx,
                other,
                prior_family.as_ref(),
                Some(user.id),
                Some(&item.id),
            )
            .await?;
        batch.heads.insert(head.no_kk.clone(), Some(head));
        let other_json = serde_json::to_string(other).map_err(|e| ApiError::Internal(e.into()))?;
        batch.writes.record(NewEntry {
            user: Some(user),
            action: item.event.kind().name(),
            province: Some(store::province_of(store::village_of(other)).as_str()),
            household_id: Some(&other.no_kk),
            change_id: Some(&item.id),
            before: prior_json.as_deref(),
            after: Some(&other_json),
            details: None,
            subject: None,
        });
    }
    Ok(applied.keluarga.version)
}
