//! Drafts and photos on the device, in their own IndexedDB database (`tepat-drafts`),
//! apart from the cache (which the server can give again) and the outbox (submitted
//! work). Every draft lives in one AES-GCM-sealed record, so no name, NIK or No. KK is
//! in clear; photos are JPEG blobs under a random id.

use std::collections::BTreeMap;

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;

use crate::crypto::{self, Sealed};
use crate::draft::Draft;
use crate::session::Unlocked;
use crate::store::StoreError;

/// The drafts database.
pub const DRAFTS_DB: &str = "tepat-drafts";
/// Key-value store holding the sealed draft map under [`DRAFTS_KEY`].
pub const DRAFTS: &str = "drafts";
/// Photo blobs by id.
pub const PHOTOS: &str = "photos";
const DRAFTS_KEY: &str = "all";

async fn open_db() -> Result<Database, StoreError> {
    let db = Database::open(DRAFTS_DB)
        .with_version(1u32)
        .with_on_upgrade_needed(|_event, db| {
            for name in [DRAFTS, PHOTOS] {
                if !db.object_store_names().any(|n| n == name) {
                    db.create_object_store(name).build()?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(db)
}

/// Every draft on the device, by No. KK (empty when none or unreadable with this key).
pub async fn all(key: &web_sys::CryptoKey) -> Result<BTreeMap<String, Draft>, StoreError> {
    all_as(key).await
}

/// The part of each draft that `T` reads, by No. KK: the screens that only count the
/// drafts or read their rulebook versions do not carry the whole draft's reader.
pub async fn all_as<T: serde::de::DeserializeOwned>(
    key: &web_sys::CryptoKey,
) -> Result<BTreeMap<String, T>, StoreError> {
    let db = open_db().await?;
    let sealed: Option<Sealed> = {
        let tx = db.transaction(DRAFTS).build()?;
        let store = tx.object_store(DRAFTS)?;
        store.get(DRAFTS_KEY.to_owned()).serde()?.await?
    };
    db.close();
    match sealed {
        None => Ok(BTreeMap::new()),
        Some(s) => crypto::open_json(key, &s)
            .await
            .map_err(|e| StoreError(format!("{e:?}"))),
    }
}

async fn put_all(
    key: &web_sys::CryptoKey,
    drafts: &BTreeMap<String, Draft>,
) -> Result<(), StoreError> {
    let sealed = crypto::seal_json(key, drafts)
        .await
        .map_err(|e| StoreError(format!("{e:?}")))?;
    let db = open_db().await?;
    {
        let tx = db
            .transaction(DRAFTS)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(DRAFTS)?;
        store
            .put(&sealed)
            .with_key(DRAFTS_KEY.to_owned())
            .serde()?
            .await?;
        tx.commit().await?;
    }
    db.close();
    Ok(())
}

/// The draft of one family.
pub async fn get(key: &web_sys::CryptoKey, no_kk: &str) -> Result<Option<Draft>, StoreError> {
    Ok(all(key).await?.remove(no_kk))
}

/// One read-modify-write of the drafts record at a time. A save or removal reads the
/// sealed record, changes it and writes it back across awaits (sealing is async), so two
/// of them interleaved (the autosave of one family and the submit of another, say) would
/// write back a stale copy and lose the other's change. Each waits its turn here.
mod turn {
    use std::cell::RefCell;
    use std::task::{Poll, Waker};

    thread_local! {
        static BUSY: RefCell<(bool, Vec<Waker>)> = const { RefCell::new((false, Vec::new())) };
    }

    /// Held while a read-modify-write runs; dropping it lets the next one go.
    pub struct Turn(());

    pub async fn take() -> Turn {
        std::future::poll_fn(|cx| {
            BUSY.with(|b| {
                let mut b = b.borrow_mut();
                if b.0 {
                    b.1.push(cx.waker().clone());
                    Poll::Pending
                } else {
                    b.0 = true;
                    Poll::Ready(Turn(()))
                }
            })
        })
        .await
    }

    impl Drop for Turn {
        fn drop(&mut self) {
            // Wake every waiter: one takes the turn, the others wait again (a waiter
            // that was dropped meanwhile cannot strand the rest).
            let waiting = BUSY.with(|b| {
                let mut b = b.borrow_mut();
                b.0 = false;
                std::mem::take(&mut b.1)
            });
            for w in waiting {
                w.wake();
            }
        }
    }
}

/// Saves (replaces) the draft of its family.
pub async fn save(key: &web_sys::CryptoKey, draft: &Draft) -> Result<(), StoreError> {
    let _turn = turn::take().await;
    let mut drafts = all(key).await?;
    drafts.insert(draft.no_kk.clone(), draft.clone());
    put_all(key, &drafts).await
}

/// The draft of one family that is still to be sent. A stored draft whose change is
/// already in the outbox or was acknowledged is what a send cut short left behind (the
/// change was queued, the draft not yet removed): it is removed, not shown again, so
/// the same change is never sent twice.
pub async fn live(unlocked: &Unlocked, no_kk: &str) -> Result<Option<Draft>, StoreError> {
    let Some(d) = get(&unlocked.key, no_kk).await? else {
        return Ok(None);
    };
    let Some(id) = d.change_id.as_deref() else {
        return Ok(Some(d));
    };
    if !crate::outbox::made(unlocked, id).await {
        return Ok(Some(d));
    }
    let _turn = turn::take().await;
    let mut drafts = all(&unlocked.key).await?;
    // Only that change's draft: one saved meanwhile under another id stays.
    if drafts.get(no_kk).and_then(|d| d.change_id.as_deref()) == Some(id) {
        drafts.remove(no_kk);
        put_all(&unlocked.key, &drafts).await?;
    }
    Ok(None)
}

/// Forgets the draft of a family (after submission).
pub async fn remove(key: &web_sys::CryptoKey, no_kk: &str) -> Result<(), StoreError> {
    let _turn = turn::take().await;
    let mut drafts = all(key).await?;
    if drafts.remove(no_kk).is_some() {
        put_all(key, &drafts).await?;
    }
    Ok(())
}

/// Stores a photo blob under `id`.
pub async fn put_photo(id: &str, blob: &Blob) -> Result<(), StoreError> {
    let db = open_db().await?;
    {
        let tx = db
            .transaction(PHOTOS)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(PHOTOS)?;
        store
            .put(JsValue::from(blob.clone()))
            .with_key(id.to_owned())
            .await?;
        tx.commit().await?;
    }
    db.close();
    Ok(())
}

/// The photo stored under `id`.
pub async fn get_photo(id: &str) -> Result<Option<Blob>, StoreError> {
    let db = open_db().await?;
    let value: Option<JsValue> = {
        let tx = db.transaction(PHOTOS).build()?;
        let store = tx.object_store(PHOTOS)?;
        store.get(id.to_owned()).await?
    };
    db.close();
    Ok(value.and_then(|v| v.dyn_into::<Blob>().ok()))
}

/// Deletes the photo stored under `id`.
pub async fn delete_photo(id: &str) -> Result<(), StoreError> {
    let db = open_db().await?;
    {
        let tx = db
            .transaction(PHOTOS)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(PHOTOS)?;
        store.delete(id.to_owned()).await?;
        tx.commit().await?;
    }
    db.close();
    Ok(())
}
