//! The rulebooks on the device, by version. A new rulebook on the server does not
//! strand offline work: a draft opens, is checked and is queued under the rulebook it
//! was made with, and an outbox item is pushed under the one it was checked with. So
//! the device keeps every version a draft or an outbox item still needs, plus the
//! server's current one, and drops the rest.
//!
//! They are one record (`kv/rulebooks` in the cache database, the [`Shelf`]): rulebook
//! JSON as the server published it, keyed by version, and which one is current.
//! Rulebooks hold no personal data, so they are not sealed. Every change of the record
//! is one read-write transaction ([`store::cache_update`]).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use tepat_core::Lang;
use tepat_core::rulebook::Rulebook;

use crate::api::{self, ApiError};
use crate::draft_store;
use crate::outbox;
use crate::store::{self, StoreError};

/// The cache key of the [`Shelf`].
pub const SHELF_KEY: &str = "rulebooks";
/// Where the device kept its only rulebook before it kept them by version.
pub const LEGACY_KEY: &str = "rulebook";

/// The rulebooks on the device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shelf {
    /// The server's current version at the last pull.
    pub current: Option<String>,
    /// Rulebook JSON exactly as published, by version.
    pub json: BTreeMap<String, String>,
}

/// The record the device kept before ([`LEGACY_KEY`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Legacy {
    pub version: String,
    pub json: String,
}

impl Shelf {
    /// Stores `json` as `version`; with `current`, it becomes the current one.
    pub fn put(&mut self, version: &str, json: String, current: bool) {
        self.json.insert(version.to_owned(), json);
        if current {
            self.current = Some(version.to_owned());
        }
    }

    pub fn get(&self, version: &str) -> Option<&str> {
        self.json.get(version).map(String::as_str)
    }

    /// The current rulebook's JSON.
    pub fn current_json(&self) -> Option<&str> {
        self.get(self.current.as_deref()?)
    }

    /// The versions on the shelf.
    pub fn versions(&self) -> Vec<&str> {
        self.json.keys().map(String::as_str).collect()
    }

    /// Drops every version that is neither current nor `needed`; returns the dropped ones.
    pub fn prune(&mut self, needed: &BTreeSet<String>) -> Vec<String> {
        let keep = |v: &String| self.current.as_ref() == Some(v) || needed.contains(v);
        let dropped: Vec<String> = self.json.keys().filter(|v| !keep(v)).cloned().collect();
        for v in &dropped {
            self.json.remove(v);
        }
        dropped
    }

    /// The shelf of a device that kept one rulebook ([`Legacy`]): it is the current one.
    pub fn from_legacy(old: Legacy) -> Shelf {
        let mut shelf = Shelf::default();
        let Legacy { version, json } = old;
        shelf.put(&version, json, true);
        shelf
    }
}

/// The shelf as stored; a device that kept one rulebook ([`LEGACY_KEY`]) has it moved
/// onto the shelf as the current one.
pub async fn load() -> Result<Shelf, StoreError> {
    if let Some(shelf) = store::cache_get::<Shelf>(SHELF_KEY).await? {
        return Ok(shelf);
    }
    let Some(old) = store::cache_get::<Legacy>(LEGACY_KEY).await? else {
        return Ok(Shelf::default());
    };
    let moved = Shelf::from_legacy(old);
    let keep = moved.clone();
    store::cache_update::<Shelf>(SHELF_KEY, move |now| Some(now.unwrap_or(keep))).await?;
    store::cache_delete(LEGACY_KEY).await?;
    Ok(moved)
}

/// Puts `json` as `version` on the stored shelf (as the current one with `current`).
pub async fn put(version: &str, json: String, current: bool) -> Result<(), StoreError> {
    let version = version.to_owned();
    store::cache_update::<Shelf>(SHELF_KEY, move |shelf| {
        let mut shelf = shelf.unwrap_or_default();
        shelf.put(&version, json, current);
        Some(shelf)
    })
    .await
}

/// The versions the device's drafts and outbox items still need. A draft without a
/// version needs the current one, which is always kept.
pub async fn needed(key: &web_sys::CryptoKey) -> Result<BTreeSet<String>, StoreError> {
    /// What a draft says about its rulebook.
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(default)]
        rulebook_version: Option<String>,
    }
    let mut needed = outbox::rulebook_versions().await?;
    for draft in draft_store::all_as::<Version>(key).await?.values() {
        if let Some(v) = &draft.rulebook_version {
            needed.insert(v.clone());
        }
    }
    Ok(needed)
}

/// Drops the stored rulebooks nobody needs any more; returns the dropped versions.
/// Nothing is dropped when the drafts or the outbox cannot be read.
pub async fn prune(key: &web_sys::CryptoKey) -> Result<Vec<String>, StoreError> {
    let needed = needed(key).await?;
    let mut dropped = Vec::new();
    let out = &mut dropped;
    store::cache_update::<Shelf>(SHELF_KEY, move |shelf| {
        let mut shelf = shelf?;
        *out = shelf.prune(&needed);
        Some(shelf)
    })
    .await?;
    Ok(dropped)
}

/// Why a rulebook version could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Not on the device, and the server cannot be reached now.
    Offline,
    /// The server does not have this version.
    Unknown,
    /// This app cannot load it (or the server's answer was not that version).
    Unreadable,
    /// The server answered with another error.
    Server(ApiError),
    Store(StoreError),
}

impl OpenError {
    /// A sentence for the user, in their language.
    pub fn message(&self, lang: Lang, version: &str) -> String {
        match self {
            OpenError::Offline => match lang {
                Lang::Id => format!(
                    "Draf ini dibuat dengan aturan isian versi {version}, yang belum ada di perangkat. Sambungkan ke internet sekali agar aturan itu diunduh; draf tetap tersimpan."
                ),
                Lang::En => format!(
                    "This draft was made with rulebook version {version}, which is not on the device. Go online once so it is downloaded; the draft stays saved."
                ),
            },
            OpenError::Unknown => match lang {
                Lang::Id => format!(
                    "Server tidak mengenal aturan isian versi {version} yang dipakai draf ini."
                ),
                Lang::En => {
                    format!("The server does not know rulebook version {version} of this draft.")
                }
            },
            OpenError::Unreadable => match lang {
                Lang::Id => format!(
                    "Aturan isian versi {version} tidak dapat dibaca oleh aplikasi ini. Perbarui aplikasi."
                ),
                Lang::En => format!(
                    "Rulebook version {version} cannot be read by this app. Update the app."
                ),
            },
            OpenError::Server(e) => e.message(lang),
            OpenError::Store(e) => e.message(lang),
        }
    }
}

/// Compiles `json` as rulebook `version`.
async fn compile(json: &str, version: &str) -> Result<Rc<Rulebook>, OpenError> {
    match crate::lazy::rulebook(json).await {
        Some(rb) if rb.version() == version => Ok(rb),
        _ => Err(OpenError::Unreadable),
    }
}

/// The rulebook `version`: from the device, else from the server (then kept on the
/// device, not as the current one).
pub async fn open(token: &str, version: &str) -> Result<Rc<Rulebook>, OpenError> {
    let shelf = load().await.map_err(OpenError::Store)?;
    if let Some(json) = shelf.get(version) {
        return compile(json, version).await;
    }
    let json = match api::rulebook_version(token, version).await {
        Ok(json) => json,
        Err(ApiError::Network) => return Err(OpenError::Offline),
        Err(ApiError::Server { status: 404, .. }) => return Err(OpenError::Unknown),
        Err(e) => return Err(OpenError::Server(e)),
    };
    let rb = compile(&json, version).await?;
    put(version, json, false).await.map_err(OpenError::Store)?;
    Ok(rb)
}
