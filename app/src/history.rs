//! A household's history: the server's version list (cached for offline use) and the
//! changes this device made to it (queued in the outbox, or sent and acknowledged).
//!
//! Stored as one AES-GCM-sealed record (`kv/history` in the cache database): No. KKs
//! and change ids are personal enough to stay out of clear text, like the worklist.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tepat_core::Text;

use crate::crypto::{self, Sealed};
use crate::outbox::{Item, ItemState};
use crate::session::Unlocked;
use crate::store;

const KEY: &str = "history";
/// Acknowledged changes kept on the device (the newest).
pub const SENT_KEPT: usize = 500;

/// One stored version of a household, as `GET /api/v1/household` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub version: i64,
    pub seq: i64,
    /// RFC 3339, server time.
    pub created_at: String,
    /// The change request that made it; absent for imported versions.
    #[serde(default)]
    pub change_id: Option<String>,
}

/// A change this device sent and the server acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub id: String,
    pub no_kk: String,
    /// The event kind (`birth`, …).
    pub kind: String,
    /// When the facilitator made it (RFC 3339, device time).
    pub time: String,
    /// `applied` or `pending_review`.
    pub status: String,
    /// The version it produced, when applied.
    #[serde(default)]
    pub version: Option<u32>,
}

/// Everything the history record holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Log {
    /// Server versions by No. KK, as last fetched.
    pub versions: BTreeMap<String, Vec<Version>>,
    /// Acknowledged changes of this device, oldest first.
    pub sent: Vec<Sent>,
}

impl Log {
    /// Adds acknowledged changes (a replayed id replaces its entry), keeping the newest
    /// [`SENT_KEPT`].
    pub fn add_sent(&mut self, sent: Vec<Sent>) {
        for s in sent {
            self.sent.retain(|x| x.id != s.id);
            self.sent.push(s);
        }
        let extra = self.sent.len().saturating_sub(SENT_KEPT);
        self.sent.drain(..extra);
    }
}

/// Where one of this device's changes stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    /// In the outbox, not yet sent.
    Waiting,
    Rejected,
    Conflict,
    /// Acknowledged, waiting for the supervisor.
    InReview,
    /// Acknowledged and applied.
    Applied,
}

impl DeviceState {
    pub fn label(self) -> Text {
        match self {
            DeviceState::Waiting => Text::new("menunggu sinkron", "waiting to sync"),
            DeviceState::Rejected => Text::new("ditolak server", "rejected by the server"),
            DeviceState::Conflict => Text::new("konflik", "conflict"),
            DeviceState::InReview => Text::new(
                "terkirim, menunggu persetujuan koordinator",
                "sent, waiting for the supervisor",
            ),
            DeviceState::Applied => Text::new("terkirim dan diterapkan", "sent and applied"),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            DeviceState::Waiting => "waiting",
            DeviceState::Rejected => "rejected",
            DeviceState::Conflict => "conflict",
            DeviceState::InReview => "in_review",
            DeviceState::Applied => "applied",
        }
    }
}

/// One of this device's changes to a household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceChange {
    pub id: String,
    pub kind: String,
    pub time: String,
    pub state: DeviceState,
    pub version: Option<u32>,
}

/// This device's changes to `no_kk`, newest first: what waits in the outbox and what
/// the server acknowledged. An id in both (acknowledged, then queued again by a
/// replay) counts as the outbox's.
pub fn device_changes(no_kk: &str, queued: &[Item], sent: &[Sent]) -> Vec<DeviceChange> {
    let mut out: Vec<DeviceChange> = queued
        .iter()
        .filter(|i| i.request.no_kk == no_kk)
        .map(|i| DeviceChange {
            id: i.id.clone(),
            kind: i.request.kind().to_owned(),
            time: i.request.time.clone(),
            state: match i.state {
                ItemState::Pending => DeviceState::Waiting,
                ItemState::Rejected => DeviceState::Rejected,
                ItemState::Conflict => DeviceState::Conflict,
            },
            version: None,
        })
        .collect();
    for s in sent.iter().filter(|s| s.no_kk == no_kk) {
        if out.iter().any(|c| c.id == s.id) {
            continue;
        }
        out.push(DeviceChange {
            id: s.id.clone(),
            kind: s.kind.clone(),
            time: s.time.clone(),
            state: if s.status == "applied" {
                DeviceState::Applied
            } else {
                DeviceState::InReview
            },
            version: s.version,
        });
    }
    // RFC 3339 times of one device compare as text (all UTC from `toISOString`).
    crate::order::sort_by(&mut out, |a, b| {
        b.time.cmp(&a.time).then_with(|| b.id.cmp(&a.id))
    });
    out
}

/// The kind of the change that made a version, when this device sent it.
pub fn version_kind<'a>(v: &Version, sent: &'a [Sent]) -> Option<&'a str> {
    let id = v.change_id.as_deref()?;
    sent.iter().find(|s| s.id == id).map(|s| s.kind.as_str())
}

/// `2026-11-23T08:15:07Z` as `2026-11-23 08:15 UTC` (the server's clock is UTC).
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) if rfc3339.ends_with('Z') => format!("{d} {t} UTC"),
        (Some(d), Some(t)) => format!("{d} {t}"),
        _ => rfc3339.to_owned(),
    }
}

/// Reads the sealed history; empty when there is none or it cannot be opened.
pub async fn load(unlocked: &Unlocked) -> Log {
    match store::cache_get::<Sealed>(KEY).await {
        Ok(Some(sealed)) => crypto::open_json(&unlocked.key, &sealed)
            .await
            .unwrap_or_default(),
        _ => Log::default(),
    }
}

async fn save(unlocked: &Unlocked, log: &Log) -> Result<(), String> {
    let sealed = crypto::seal_json(&unlocked.key, log)
        .await
        .map_err(|e| format!("{e:?}"))?;
    store::cache_put(KEY, &sealed).await.map_err(|e| e.0)
}

/// Stores a household's server versions; returns the whole log.
pub async fn put_versions(unlocked: &Unlocked, no_kk: &str, versions: Vec<Version>) -> Log {
    let mut log = load(unlocked).await;
    log.versions.insert(no_kk.to_owned(), versions);
    // A failed write costs only the offline copy; the page shows what it fetched.
    let _ = save(unlocked, &log).await;
    log
}

/// Records acknowledged changes.
pub async fn record_sent(unlocked: &Unlocked, sent: Vec<Sent>) {
    if sent.is_empty() {
        return;
    }
    let mut log = load(unlocked).await;
    log.add_sent(sent);
    let _ = save(unlocked, &log).await;
}
