//! A household's history: the server's version list (cached for offline use) and the
//! changes this device made to it (queued in the outbox, or sent and acknowledged).
//!
//! Stored as one AES-GCM-sealed record (`kv/history` in the cache database): No. KKs
//! and change ids are personal enough to stay out of clear text, like the worklist.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tepat_core::region::TimeZone;
use tepat_core::{Date, Lang, Text};

use crate::crypto::{self, Sealed};
use crate::outbox::{Item, ItemState};
use crate::session::Unlocked;
use crate::store;

const KEY: &str = "history";
/// Acknowledged changes kept on the device (the newest).
pub const SENT_KEPT: usize = 500;
/// Acknowledged changes the outbox page lists (the newest).
pub const SENT_SHOWN: usize = 100;

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
    /// `applied` or `pending_review` as the server acknowledged it; `approved` or
    /// `review_rejected` once the supervisor decided ([`crate::api::outcomes`]).
    pub status: String,
    /// The version it produced, when applied.
    #[serde(default)]
    pub version: Option<u32>,
    /// Who reviewed it (username), once reviewed.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// When it was reviewed (RFC 3339, server time).
    #[serde(default)]
    pub decided_at: Option<String>,
    /// The reviewer's note.
    #[serde(default)]
    pub note: Option<String>,
    /// Put aside by the facilitator after a rejection: it no longer marks the family.
    #[serde(default)]
    pub dismissed: bool,
    /// The request as it was pushed (its JSON), kept while the supervisor may still
    /// reject it and after a rejection, so "Ubah" can open it again; dropped once it
    /// is approved or put aside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl Sent {
    /// Still waiting for a decision the server may have made since.
    pub fn awaits_review(&self) -> bool {
        self.status == "pending_review"
    }

    /// Where it stands.
    pub fn state(&self) -> DeviceState {
        match self.status.as_str() {
            "applied" => DeviceState::Applied,
            "approved" => DeviceState::Approved,
            "review_rejected" => DeviceState::ReviewRejected,
            _ => DeviceState::InReview,
        }
    }
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
    /// Approved by the supervisor and applied.
    Approved,
    /// Rejected by the supervisor.
    ReviewRejected,
    /// Refused for the account's role or area: it can only be discarded.
    Refused,
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
            DeviceState::Approved => Text::new("disetujui", "approved"),
            DeviceState::ReviewRejected => Text::new("ditolak", "rejected"),
            DeviceState::Refused => Text::new(
                "ditolak: akun ini tidak boleh mengirim perubahan ini",
                "refused: this account may not send this change",
            ),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            DeviceState::Waiting => "waiting",
            DeviceState::Rejected => "rejected",
            DeviceState::Conflict => "conflict",
            DeviceState::InReview => "in_review",
            DeviceState::Applied => "applied",
            DeviceState::Approved => "approved",
            DeviceState::ReviewRejected => "review_rejected",
            DeviceState::Refused => "refused",
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
    /// The review decision: who, when (RFC 3339) and the note.
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

impl From<&Sent> for DeviceChange {
    fn from(s: &Sent) -> DeviceChange {
        DeviceChange {
            id: s.id.clone(),
            kind: s.kind.clone(),
            time: s.time.clone(),
            state: s.state(),
            version: s.version,
            decided_by: s.decided_by.clone(),
            decided_at: s.decided_at.clone(),
            note: s.note.clone(),
        }
    }
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
                ItemState::Refused => DeviceState::Refused,
            },
            version: None,
            decided_by: None,
            decided_at: None,
            note: None,
        })
        .collect();
    for s in sent.iter().filter(|s| s.no_kk == no_kk) {
        if out.iter().any(|c| c.id == s.id) {
            continue;
        }
        out.push(DeviceChange::from(s));
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

/// An RFC 3339 time (`2026-12-05T20:38:07Z`, `2026-12-06T03:38:07+07:00`, fractions
/// allowed) in `zone`, as people read it: `6 Des 2026 03.38 WIB` (English:
/// `6 Dec 2026 03:38 WIB`). Every time the app shows goes through here; a text that is
/// not such a time is shown as it is.
pub fn local_time(rfc3339: &str, zone: TimeZone, lang: Lang) -> String {
    let Some(secs) = unix_seconds(rfc3339) else {
        return rfc3339.to_owned();
    };
    let local = secs + i64::from(zone.offset_minutes()) * 60;
    let Some(date) = Date::from_days_since_epoch(local.div_euclid(86_400)) else {
        return rfc3339.to_owned();
    };
    let minutes = local.rem_euclid(86_400) / 60;
    const ID: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
    ];
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (months, sep) = match lang {
        Lang::Id => (ID, '.'),
        Lang::En => (EN, ':'),
    };
    format!(
        "{} {} {} {:02}{sep}{:02} {}",
        date.day(),
        months[usize::from(date.month() - 1)],
        date.year(),
        minutes / 60,
        minutes % 60,
        zone.abbrev()
    )
}

/// Seconds since 1970-01-01 UTC of an RFC 3339 time, `None` when it is not one.
fn unix_seconds(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let date = Date::parse(t.get(..10)?).ok()?;
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut rest = t.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 60 + om) * 60
        }
        _ => return None,
    };
    Some(date.days_since_epoch() * 86_400 + h * 3600 + m * 60 + sec - offset)
}

/// The zone of a signed-in user's work: the province of the first assigned village or
/// district; WIB for national accounts.
pub fn user_zone(user: &crate::api::UserView) -> TimeZone {
    user.villages
        .first()
        .or(user.districts.first())
        .map_or(TimeZone::Wib, |c| tepat_core::region::time_zone_of(c))
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

/// Records acknowledged changes; true once they are stored (or there were none).
pub async fn record_sent(unlocked: &Unlocked, sent: Vec<Sent>) -> bool {
    if sent.is_empty() {
        return true;
    }
    let mut log = load(unlocked).await;
    log.add_sent(sent);
    save(unlocked, &log).await.is_ok()
}

/// Records the server's answers about sent changes ([`crate::api::outcomes`]) and adds
/// `decided` (conflicts the supervisor decided, leaving the outbox).
pub async fn record_outcomes(
    unlocked: &Unlocked,
    outcomes: &[crate::api::Outcome],
    decided: Vec<Sent>,
) {
    let mut log = load(unlocked).await;
    let mut changed = !decided.is_empty();
    for s in &mut log.sent {
        let Some(o) = outcomes.iter().find(|o| o.id == s.id) else {
            continue;
        };
        if s.status != o.status || s.note != o.note || s.decided_by != o.decided_by {
            s.status.clone_from(&o.status);
            s.version = o.version.or(s.version);
            s.decided_by.clone_from(&o.decided_by);
            s.decided_at.clone_from(&o.decided_at);
            s.note.clone_from(&o.note);
            if s.state() != DeviceState::ReviewRejected {
                s.request = None;
            }
            changed = true;
        }
    }
    log.add_sent(decided);
    if changed {
        let _ = save(unlocked, &log).await;
    }
}

/// Puts a sent change aside ([`Sent::dismissed`]).
pub async fn dismiss(unlocked: &Unlocked, id: &str) {
    let mut log = load(unlocked).await;
    if let Some(s) = log.sent.iter_mut().find(|s| s.id == id) {
        s.dismissed = true;
        s.request = None;
        let _ = save(unlocked, &log).await;
    }
}
