//! Each item's CPU work before the writer: its hash, and its outcome against a
//! snapshot of its head.

use std::collections::HashMap;

use tepat_core::Keluarga;
use tepat_core::event::{ChangeRequest, Event, content_hash};

use super::RulebookChecks;
use super::apply::{Device, Outcome, apply_both};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, today_at};
use crate::store;

/// What an item's check gave before the writer ran: its content hash, and its
/// outcome against the head read then (when the item was made on that head).
pub struct Prepared {
    pub(super) hash: String,
    pub(super) applied: Option<PreparedApply>,
}

/// An item applied outside the writer, and what it was applied to.
pub struct PreparedApply {
    /// The head it was applied to (`seq` names the stored version exactly).
    pub(super) seq: i64,
    pub(super) version: i64,
    /// The rulebook registry it was checked with (its `seq`) and the device's version.
    pub(super) registry: i64,
    pub(super) device: String,
    pub(super) today: tepat_core::Date,
    pub(super) fam: Keluarga,
    pub(super) outcome: Outcome,
    pub(super) checks: RulebookChecks,
    /// The new version's JSON and hash when the outcome is applied (made here, so the
    /// single writer does not serialize and hash it).
    pub(super) encoded: Option<store::Encoded>,
}

/// Hashes and applies the items of one push against a snapshot of their heads, on the
/// blocking pool. Merges (which need a second family) and new families (checked against
/// their case and the register) are left to the writer.
pub(super) async fn prepare(
    state: &AppState,
    items: Vec<ChangeRequest>,
    device_version: Option<String>,
) -> ApiResult<(
    Vec<ChangeRequest>,
    Vec<Prepared>,
    HashMap<String, store::Head>,
)> {
    // The registry as last loaded: if a rulebook was published since, the writer sees a
    // newer registry and checks the items itself.
    let registry = state.rulebooks_cached();
    let mut kks: Vec<&str> = items.iter().map(|i| i.no_kk.as_str()).collect();
    kks.sort_unstable();
    kks.dedup();
    let heads = state.push_group.snapshot(state, &kks).await?;
    // The heads as this snapshot saw them, without their JSON: the writer asks the
    // database only which of them moved since (`Batch::prefetch`).
    let seen = heads
        .iter()
        .map(|(k, h)| {
            let meta = store::Head {
                no_kk: h.no_kk.clone(),
                province: h.province.clone(),
                village: h.village.clone(),
                version: h.version,
                seq: h.seq,
                payload: None,
            };
            (k.clone(), meta)
        })
        .collect();
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let current = &registry.current.rulebook;
        let now = state.now();
        let device_version = device_version.as_deref().unwrap_or(current.version());
        let device = Device {
            version: device_version,
            rulebook: registry.get(device_version).map(|e| &e.rulebook),
            registry: registry.seq,
        };
        let prepared = items
            .iter()
            .map(|item| {
                let applied = heads
                    .get(&item.no_kk)
                    .filter(|h| {
                        h.version == i64::from(item.base_version)
                            && !matches!(
                                item.event,
                                Event::FamilyMerge { .. } | Event::NewFamily { .. }
                            )
                    })
                    .and_then(|h| {
                        let fam = h.keluarga().ok()?;
                        let today = today_at(now, &h.province);
                        let (outcome, checks) =
                            apply_both(&state, &fam, item, &device, current, today, None);
                        let encoded = outcome
                            .as_ref()
                            .ok()
                            .and_then(|a| store::Encoded::of(&a.keluarga).ok());
                        Some(PreparedApply {
                            seq: h.seq,
                            version: h.version,
                            registry: registry.seq,
                            device: device_version.to_owned(),
                            today,
                            fam,
                            outcome,
                            checks,
                            encoded,
                        })
                    });
                Prepared {
                    hash: content_hash(item),
                    applied,
                }
            })
            .collect();
        (items, prepared, seen)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("checking a push failed: {e}")))
}
