//! The worklist as plain data: households of the assigned villages, their work state,
//! search and filter. Stored on the device as AES-GCM-sealed records written in one
//! transaction (`kv/worklist`: the full families; `kv/worklist_rows`: the [`Row`]s the
//! list shows and searches; `kv/worklist_states`: work states set since, see
//! `sync.rs`), so no name, NIK or No. KK is ever in clear.

use serde::{Deserialize, Serialize};
use tepat_core::{Keluarga, Lang, Text};

/// Where a household stands in the facilitator's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkState {
    NotVisited,
    Draft,
    Waiting,
    Synced,
    NeedsFix,
    Conflict,
}

impl WorkState {
    pub const ALL: [WorkState; 6] = [
        WorkState::NotVisited,
        WorkState::Draft,
        WorkState::Waiting,
        WorkState::Synced,
        WorkState::NeedsFix,
        WorkState::Conflict,
    ];

    pub fn label(self) -> Text {
        match self {
            WorkState::NotVisited => Text::new("Belum dikunjungi", "Not visited"),
            WorkState::Draft => Text::new("Draf", "Draft"),
            WorkState::Waiting => Text::new("Menunggu sinkron", "Waiting to sync"),
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
            WorkState::Synced => "synced",
            WorkState::NeedsFix => "needs_fix",
            WorkState::Conflict => "conflict",
        }
    }

    pub fn from_key(key: &str) -> Option<WorkState> {
        WorkState::ALL.into_iter().find(|s| s.key() == key)
    }
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
    /// Server time of the last completed pull (RFC 3339).
    pub synced_at: Option<String>,
}

impl Worklist {
    /// Inserts or replaces by No. KK, keeping the newer server sequence, then sorts by
    /// village and head name. A household with local work keeps its state. True when
    /// anything was inserted or replaced.
    pub fn merge(&mut self, incoming: Vec<Household>) -> bool {
        let mut changed = false;
        for h in incoming {
            match self.households.iter_mut().find(|x| x.no_kk == h.no_kk) {
                Some(old) if old.seq < h.seq => {
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
        select_rows(&rows(self), query, state)
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

/// Indices of `rows` matching the query and state filter, in list order.
pub fn select_rows(rows: &[Row], query: &str, state: Option<WorkState>) -> Vec<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| state.is_none_or(|s| r.state == s) && r.matches(query))
        .map(|(i, _)| i)
        .collect()
}
