//! On-device storage in IndexedDB.
//!
//! Two databases: `tepat-cache` holds what the server can give again (region table,
//! worklist); `tepat-outbox` holds unsynced work and is cleared only by server
//! acknowledgement. Both use one key-value object store per kind of record.

use indexed_db_futures::database::Database;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tepat_core::Lang;

use crate::i18n::tr;

/// The cache database: everything here can be fetched from the server again.
pub const CACHE_DB: &str = "tepat-cache";
/// The key-value store of the cache database.
pub const KV: &str = "kv";

/// A storage failure. The browser's own text is kept for diagnosis; it never holds record data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl StoreError {
    pub fn message(&self, lang: Lang) -> String {
        format!(
            "{} ({})",
            tr(
                lang,
                "Penyimpanan perangkat tidak dapat dipakai",
                "Device storage cannot be used"
            ),
            self.0
        )
    }
}

impl<E: std::fmt::Display> From<E> for StoreError {
    fn from(e: E) -> Self {
        StoreError(e.to_string())
    }
}

async fn open_cache() -> Result<Database, StoreError> {
    let db = Database::open(CACHE_DB)
        .with_version(1u32)
        .with_on_upgrade_needed(|_event, db| {
            if !db.object_store_names().any(|n| n == KV) {
                db.create_object_store(KV).build()?;
            }
            Ok(())
        })
        .await?;
    Ok(db)
}

/// Reads `key` from the cache, `None` if absent.
pub async fn cache_get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, StoreError> {
    let db = open_cache().await?;
    let value: Option<T> = {
        let tx = db.transaction(KV).build()?;
        let store = tx.object_store(KV)?;
        store.get(key).serde()?.await?
    };
    db.close();
    Ok(value)
}

/// Runs `work` on the cache's key-value store in one read-write transaction and commits:
/// everything `work` writes lands together, or nothing does.
async fn cache_write<R>(
    work: impl AsyncFnOnce(&ObjectStore<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let db = open_cache().await?;
    let out = {
        let tx = db
            .transaction(KV)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(KV)?;
        let out = work(&store).await?;
        tx.commit().await?;
        out
    };
    db.close();
    Ok(out)
}

/// Writes `value` under `key` in the cache.
pub async fn cache_put<T: Serialize>(key: &str, value: &T) -> Result<(), StoreError> {
    cache_write(async |store| {
        store.put(value).with_key(key.to_owned()).serde()?.await?;
        Ok(())
    })
    .await
}

/// Reads three keys of the cache in one transaction.
pub async fn cache_get3<A: DeserializeOwned, B: DeserializeOwned, C: DeserializeOwned>(
    a: &str,
    b: &str,
    c: &str,
) -> Result<(Option<A>, Option<B>, Option<C>), StoreError> {
    let db = open_cache().await?;
    let values = {
        let tx = db.transaction(KV).build()?;
        let store = tx.object_store(KV)?;
        let first: Option<A> = store.get(a).serde()?.await?;
        let second: Option<B> = store.get(b).serde()?.await?;
        let third: Option<C> = store.get(c).serde()?.await?;
        (first, second, third)
    };
    db.close();
    Ok(values)
}

/// Writes three keys of the cache in one transaction: all land or none does.
pub async fn cache_put3<A: Serialize, B: Serialize, C: Serialize>(
    a: (&str, &A),
    b: (&str, &B),
    c: (&str, &C),
) -> Result<(), StoreError> {
    cache_write(async |store| {
        store.put(a.1).with_key(a.0.to_owned()).serde()?.await?;
        store.put(b.1).with_key(b.0.to_owned()).serde()?.await?;
        store.put(c.1).with_key(c.0.to_owned()).serde()?.await?;
        Ok(())
    })
    .await
}

/// Reads `key`, passes it to `change` and writes what it returns (deletes the key on
/// `None`), all in one read-write transaction: two updates of the same key never lose
/// each other's change.
pub async fn cache_update<T: Serialize + DeserializeOwned>(
    key: &str,
    change: impl FnOnce(Option<T>) -> Option<T>,
) -> Result<(), StoreError> {
    cache_write(async |store| {
        let old: Option<T> = store.get(key).serde()?.await?;
        match change(old) {
            Some(new) => {
                store.put(&new).with_key(key.to_owned()).serde()?.await?;
            }
            None => store.delete(key.to_owned()).await?,
        }
        Ok(())
    })
    .await
}

/// The outbox database: unsynced work only, deleted record by record on server acknowledgement.
pub const OUTBOX_DB: &str = "tepat-outbox";
/// The queued change requests, keyed by client UUID.
pub const OUTBOX: &str = "items";

async fn open_outbox() -> Result<Database, StoreError> {
    let db = Database::open(OUTBOX_DB)
        .with_version(1u32)
        .with_on_upgrade_needed(|_event, db| {
            if !db.object_store_names().any(|n| n == OUTBOX) {
                db.create_object_store(OUTBOX).build()?;
            }
            Ok(())
        })
        .await?;
    Ok(db)
}

/// How many items wait in the outbox.
pub async fn outbox_count() -> Result<u32, StoreError> {
    let db = open_outbox().await?;
    let n = {
        let tx = db.transaction(OUTBOX).build()?;
        let store = tx.object_store(OUTBOX)?;
        store.count().await?
    };
    db.close();
    Ok(n)
}

/// Removes a key from the cache.
pub async fn cache_delete(key: &str) -> Result<(), StoreError> {
    let db = open_cache().await?;
    {
        let tx = db
            .transaction(KV)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(KV)?;
        store.delete(key.to_owned()).await?;
        tx.commit().await?;
    }
    db.close();
    Ok(())
}

/// Deletes the cache database only ("Lupa PIN?"): the outbox and the drafts stay,
/// sealed, for the same account's next sign-in.
pub async fn wipe_cache() -> Result<(), StoreError> {
    Database::delete_by_name(CACHE_DB)?.await?;
    Ok(())
}

/// Deletes every Tepat database on the device (sign-out, after the outbox is empty).
pub async fn wipe_all() -> Result<(), StoreError> {
    for name in [CACHE_DB, OUTBOX_DB, crate::draft_store::DRAFTS_DB] {
        Database::delete_by_name(name)?.await?;
    }
    Ok(())
}

/// Puts (inserts or replaces) an outbox item under its client UUID.
pub async fn outbox_put<T: Serialize>(id: &str, value: &T) -> Result<(), StoreError> {
    let db = open_outbox().await?;
    {
        let tx = db
            .transaction(OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(OUTBOX)?;
        store.put(value).with_key(id.to_owned()).serde()?.await?;
        tx.commit().await?;
    }
    db.close();
    Ok(())
}

/// Every outbox item.
pub async fn outbox_all<T: DeserializeOwned>() -> Result<Vec<T>, StoreError> {
    let db = open_outbox().await?;
    let items: Vec<T> = {
        let tx = db.transaction(OUTBOX).build()?;
        let store = tx.object_store(OUTBOX)?;
        store
            .get_all()
            .serde()?
            .await?
            .collect::<Result<Vec<T>, _>>()?
    };
    db.close();
    Ok(items)
}

/// Deletes an item the server has acknowledged.
pub async fn outbox_delete(id: &str) -> Result<(), StoreError> {
    let db = open_outbox().await?;
    {
        let tx = db
            .transaction(OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(OUTBOX)?;
        store.delete(id.to_owned()).await?;
        tx.commit().await?;
    }
    db.close();
    Ok(())
}
