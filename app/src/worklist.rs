//! The worklist as plain data: households of the assigned villages, their work state,
//! search and filter. Stored on the device as AES-GCM-sealed records written in one
//! transaction (`kv/worklist`: the full families; `kv/worklist_rows`: the [`Row`]s the
//! list shows and searches; `kv/worklist_states`: work states set since, see
//! `sync.rs`), so no name, NIK or No. KK is ever in clear.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tepat_core::{Keluarga, Lang, Text};

use crate::history::Sent;
use crate::outbox::{Item, ItemState};

/// Where a household stands in the facilitator's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkState {
    NotVisited,
    Draft,
    Waiting,
    /// Accepted by the server and waiting for the supervisor.
    InReview,
    Synced,
    NeedsFix,
    Conflict,
}

impl WorkState {
    pub const ALL: [WorkState; 7] = [
        WorkState::NotVisited,
        WorkState::Draft,
        WorkState::Waiting,
        WorkState::InReview,
        WorkState::Synced,
        WorkState::NeedsFix,
        WorkState::Conflict,
    ];

    pub fn label(self) -> Text {
        match self {
            WorkState::NotVisited => Text::new("Belum dikunjungi", "Not visited"),
            WorkState::Draft => Text::new("Draf", "Draft"),
            WorkState::Waiting => Text::new("Menunggu sinkron", "Waiting to sync"),
            WorkState::InReview => Text::new("Menunggu persetujuan", "Waiting for approval"),
            WorkState::Synced => Text::new("Tersinkron", "Synced"),
            WorkState::NeedsFix => Text::new("Perlu perbaikan", "Needs fixing"),
            WorkState::Conflict => Text::new("Konflik", "Conflict"),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            WorkState::NotVisited => "not_visited",
            WorkState::Draft => "draft",
            WorkState::Waiting => "waiting",
            WorkState::InReview => "in_review",
            WorkState::Synced => "synced",
            WorkState::NeedsFix => "needs_fix",
            WorkState::Conflict => "conflict",
        }
    }

    pub fn from_key(key: &str) -> Option<WorkState> {
        WorkState::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// A family's desil in the last published ranking run (the server's, not a preview).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficialDesil {
    /// The run's quarter, e.g. `2026Q4`.
    pub period: String,
    pub desil: u8,
    #[serde(default)]
    pub desil_province: Option<u8>,
    #[serde(default)]
    pub desil_regency: Option<u8>,
}

/// One household as the server last sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub no_kk: String,
    pub village: String,
    pub version: i64,
    pub seq: i64,
    pub state: WorkState,
    pub keluarga: Keluarga,
    /// Its official desil, when a ranking run was published and ranked it.
    #[serde(default)]
    pub official: Option<OfficialDesil>,
    /// A PKH graduation candidate (calon graduasi) at the official desil, as the
    /// server's core check says (the device computes no rule for it).
    #[serde(default)]
    pub graduation: Option<tepat_core::GraduationKind>,
}

impl Household {
    /// The head's name, or the first member's, or "".
    pub fn head_name(&self) -> &str {
        self.keluarga
            .head()
            .or_else(|| self.keluarga.anggota.first())
            .map_or("", |a| a.name.as_str())
    }

    /// `Jl. … RT 006/RW 001`.
    pub fn address_line(&self) -> String {
        let a = &self.keluarga.address;
        let mut out = a.street.clone().unwrap_or_default();
        if let Some(rt) = &a.rt {
            out.push_str(&format!(" RT {rt}"));
            if let Some(rw) = &a.rw {
                out.push_str(&format!("/RW {rw}"));
            }
        }
        out.trim().to_owned()
    }

    /// Case-insensitive search over member names, NIKs, the No. KK and the address
    /// ([`Row::matches`]).
    pub fn matches(&self, query: &str) -> bool {
        Row::of(self).matches(query)
    }
}

/// The whole worklist on the device.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Worklist {
    pub households: Vec<Household>,
    /// The pull cursor to continue from.
    pub cursor: String,
    pub rulebook_version: String,
    pub model_version: String,
    /// The last published ranking run the list holds the official desil of.
    #[serde(default)]
    pub ranking_run: Option<i64>,
    /// Server time of the last completed pull (RFC 3339).
    pub synced_at: Option<String>,
    /// Families no longer in the account's area (its villages changed) that the device
    /// keeps while a draft for them is being written.
    #[serde(default)]
    pub stale: Vec<String>,
}

impl Worklist {
    /// Inserts or replaces by No. KK, keeping the newer server sequence, then sorts by
    /// village and head name. A household with local work keeps its state. True when
    /// anything was inserted or replaced.
    pub fn merge(&mut self, incoming: Vec<Household>) -> bool {
        let mut changed = false;
        for h in incoming {
            match self.households.iter_mut().find(|x| x.no_kk == h.no_kk) {
                // A newer version, or the same one with a new official desil.
                Some(old)
                    if old.seq < h.seq
                        || (old.seq == h.seq
                            && (old.official != h.official || old.graduation != h.graduation)) =>
                {
                    let state = old.state;
                    *old = Household { state, ..h };
                    changed = true;
                }
                Some(_) => {}
                None => {
                    self.households.push(h);
                    changed = true;
                }
            }
        }
        if !changed {
            return false;
        }
        crate::order::sort_by(&mut self.households, |a, b| {
            (a.village.as_str(), a.head_name()).cmp(&(b.village.as_str(), b.head_name()))
        });
        true
    }

    /// Indices of households matching the query and state filter, in list order.
    pub fn select(&self, query: &str, state: Option<WorkState>) -> Vec<usize> {
        let filter = Filter {
            query: query.to_owned(),
            state,
            ..Filter::default()
        };
        select_rows(&rows(self), &filter, &Overlay::default())
    }

    pub fn count(&self, state: WorkState) -> usize {
        self.households.iter().filter(|h| h.state == state).count()
    }

    pub fn find(&self, no_kk: &str) -> Option<&Household> {
        self.households.iter().find(|h| h.no_kk == no_kk)
    }
}

/// A state's label in `lang`.
pub fn state_label(state: WorkState, lang: Lang) -> String {
    state.label().get(lang).to_owned()
}

/// What the list shows and searches of one household: a small record, sealed apart
/// from the full families (`kv/worklist_rows`), so the list can show before the
/// 1,000+ families are decrypted and parsed (docs/benchmarks.md, 2026-11-24).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub no_kk: String,
    pub village: String,
    pub state: WorkState,
    /// The head's name ([`Household::head_name`]).
    pub head: String,
    /// [`Household::address_line`].
    pub address: String,
    /// Active members.
    pub members: usize,
    /// Every member's name, lowercased, for search.
    pub names: Vec<String>,
    /// Every member's NIK, for search.
    pub niks: Vec<String>,
    /// The last ground check the server knows of (`YYYY-MM-DD`).
    #[serde(default)]
    pub visited: Option<String>,
    /// [`Household::graduation`].
    #[serde(default)]
    pub graduation: Option<tepat_core::GraduationKind>,
}

impl Row {
    pub fn of(h: &Household) -> Row {
        let k = &h.keluarga;
        Row {
            no_kk: h.no_kk.clone(),
            village: h.village.clone(),
            state: h.state,
            head: h.head_name().to_owned(),
            address: h.address_line(),
            members: k.active_members().count(),
            names: k.anggota.iter().map(|m| m.name.to_lowercase()).collect(),
            niks: k.anggota.iter().map(|m| m.nik.clone()).collect(),
            visited: k.ground_checked.map(|d| d.to_string()),
            graduation: h.graduation,
        }
    }

    /// Case-insensitive search over member names, NIKs, the No. KK and the address.
    /// Every whitespace-separated word of `query` must match somewhere.
    pub fn matches(&self, query: &str) -> bool {
        let address = self.address.to_lowercase();
        query.split_whitespace().all(|word| {
            let w = word.to_lowercase();
            self.no_kk.contains(&w)
                || address.contains(&w)
                || self.niks.iter().any(|n| n.contains(&w))
                || self.names.iter().any(|n| n.contains(&w))
        })
    }
}

/// The rows of a worklist, in list order.
pub fn rows(list: &Worklist) -> Vec<Row> {
    list.households.iter().map(Row::of).collect()
}

/// A family's work state, from the one place that knows it: what waits in the outbox
/// first (a conflict, then a refusal, then unsent work), then a draft being written,
/// then the outcome of the last change sent (rejected by the supervisor, in review,
/// applied). Without either, a family is not visited: a stored state of an older app
/// version that nothing on the device backs any more is not shown.
pub fn derive(stored: WorkState, known: Option<&Overlay>, no_kk: &str) -> WorkState {
    let k = known.and_then(|o| o.by_kk.get(no_kk));
    if let Some(q) = k.and_then(|k| k.queued) {
        return q;
    }
    if stored == WorkState::Draft {
        return WorkState::Draft;
    }
    k.and_then(|k| k.sent).unwrap_or(WorkState::NotVisited)
}

/// The outbox and the sent changes, by No. KK, for [`derive`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    by_kk: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Entry {
    queued: Option<WorkState>,
    sent: Option<WorkState>,
    sent_time: String,
}

impl Overlay {
    pub fn new(items: &[Item], sent: &[Sent]) -> Overlay {
        let mut by_kk: BTreeMap<String, Entry> = BTreeMap::new();
        let rank = |s: WorkState| match s {
            WorkState::Conflict => 3,
            WorkState::NeedsFix => 2,
            _ => 1,
        };
        for i in items {
            let state = match i.state {
                ItemState::Pending => WorkState::Waiting,
                ItemState::Rejected | ItemState::Refused => WorkState::NeedsFix,
                ItemState::Conflict => WorkState::Conflict,
            };
            let e = by_kk.entry(i.request.no_kk.clone()).or_default();
            if e.queued.is_none_or(|q| rank(q) < rank(state)) {
                e.queued = Some(state);
            }
        }
        for s in sent.iter().filter(|s| !s.dismissed) {
            let e = by_kk.entry(s.no_kk.clone()).or_default();
            // RFC 3339 times of one device compare as text (all UTC).
            if e.sent.is_some() && e.sent_time.as_str() > s.time.as_str() {
                continue;
            }
            e.sent_time = s.time.clone();
            e.sent = Some(match s.status.as_str() {
                "review_rejected" => WorkState::NeedsFix,
                "pending_review" => WorkState::InReview,
                _ => WorkState::Synced,
            });
        }
        Overlay { by_kk }
    }

    /// When the newest change of `no_kk` this device sent was made (RFC 3339).
    pub fn sent_time(&self, no_kk: &str) -> Option<&str> {
        self.by_kk
            .get(no_kk)
            .filter(|e| e.sent.is_some())
            .map(|e| e.sent_time.as_str())
    }
}

/// How the list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Village, then the head's name (the stored order).
    #[default]
    Name,
    /// Work state (what needs the facilitator first), then the stored order.
    State,
    /// Longest since the last visit first; never visited first of all.
    LastVisit,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Name, Sort::State, Sort::LastVisit];

    pub fn key(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::State => "state",
            Sort::LastVisit => "visit",
        }
    }

    pub fn from_key(key: &str) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or_default()
    }

    pub fn label(self) -> Text {
        match self {
            Sort::Name => Text::new("Nama", "Name"),
            Sort::State => Text::new("Status", "State"),
            Sort::LastVisit => Text::new(
                "Kunjungan terakhir (terlama dulu)",
                "Last visit (oldest first)",
            ),
        }
    }
}

/// What the list is asked to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub query: String,
    pub state: Option<WorkState>,
    /// A village code.
    pub village: Option<String>,
    pub sort: Sort,
    /// Only the graduation candidates (calon graduasi).
    pub graduation: bool,
}

/// The last visit of a row: the server's last ground check or this device's newest
/// change sent, whichever is later (`YYYY-MM-DD`).
pub fn last_visit<'a>(row: &'a Row, overlay: &'a Overlay) -> Option<&'a str> {
    let device = overlay.sent_time(&row.no_kk).and_then(|t| t.get(..10));
    match (row.visited.as_deref(), device) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Indices of `rows` the filter selects, in the filter's order; each row's state is
/// [`derive`]d.
pub fn select_rows(rows: &[Row], filter: &Filter, overlay: &Overlay) -> Vec<usize> {
    let state_of = |r: &Row| derive(r.state, Some(overlay), &r.no_kk);
    let mut out: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            filter.village.as_ref().is_none_or(|v| &r.village == v)
                && filter.state.is_none_or(|s| state_of(r) == s)
                && (!filter.graduation || r.graduation.is_some())
                && r.matches(&filter.query)
        })
        .map(|(i, _)| i)
        .collect();
    match filter.sort {
        Sort::Name => {}
        Sort::State => {
            let urgency = |s: WorkState| match s {
                WorkState::Conflict => 0,
                WorkState::NeedsFix => 1,
                WorkState::Draft => 2,
                WorkState::Waiting => 3,
                WorkState::NotVisited => 4,
                WorkState::InReview => 5,
                WorkState::Synced => 6,
            };
            crate::order::sort_by(&mut out, |&a, &b| {
                urgency(state_of(&rows[a])).cmp(&urgency(state_of(&rows[b])))
            });
        }
        Sort::LastVisit => crate::order::sort_by(&mut out, |&a, &b| {
            last_visit(&rows[a], overlay).cmp(&last_visit(&rows[b], overlay))
        }),
    }
    out
}
