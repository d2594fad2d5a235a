//! The push pipeline: a device's change requests from the handler's checked request
//! to the stored answers.
//!
//! 1. `prepare` hashes and applies each item (under the device's and the current
//!    rulebook) on the blocking pool, against a snapshot of the heads, in parallel with
//!    other pushes.
//! 2. The push waits in the `group` queue as a [`PushJob`]. Whoever holds the writer
//!    takes every push waiting by then and stores them in one transaction (group
//!    commit, one fsync); a failed group is retried push by push.
//! 3. In that transaction each `item` is handled in turn: a replayed id gets its
//!    stored answer, a stale one becomes a conflict, a valid one is queued for review
//!    or applied; the outcome prepared before the writer is reused when the head, the
//!    rulebooks and the date are still the ones it was made with.
//!    A `new_family` item (`new_family`) has no household: it is scoped by its case's
//!    village and checked against the case and the register.
//! 4. The `batch` holds what the transaction read and the writes it queues; one flush
//!    sends them before the commit.
//!
//! **Invariant:** no rule lives here: whether an event is valid and whether its kind
//! needs review is decided by tepat-core (`event::apply`, `Event::needs_review`).

mod apply;
mod batch;
mod group;
mod item;
mod new_family;
mod prepare;

use serde::{Deserialize, Serialize};
use tepat_core::event::ChangeRequest;
use tepat_core::{Finding, Severity, Text};

use crate::auth::User;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use apply::{Device, apply_both, apply_new_under, apply_under};
pub use batch::{Batch, commit_applied, commit_new_family, stage_applied};
pub use group::{PushGroup, PushJob};
pub use item::{REJECTED_BODY_CAP, other_blocked, split_blocked};
pub use new_family::{case_of, case_refusal, register_facts, unknown_case};

/// Checks and stores the items of one push (already checked for size and shape by the
/// handler) and answers each. `device_version` is the rulebook version the device
/// validated with; the current one when absent.
pub async fn submit(
    state: &AppState,
    user: User,
    session: String,
    items: Vec<ChangeRequest>,
    device_version: Option<String>,
) -> ApiResult<PushResponse> {
    // The CPU work of each item (hash, parse, validation under both rulebooks) runs
    // here, concurrently with other pushes, on a snapshot of the heads; the single
    // writer reuses it when the head is still the one it was made on.
    let (items, prepared, seen) = prepare::prepare(state, items, device_version.clone()).await?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    state.push_group.queue().push(PushJob {
        user,
        session,
        items,
        prepared,
        seen,
        device_version,
        reply,
    });
    // Group commit: whoever holds the writer takes every push waiting by then and
    // stores them in one transaction (one fsync), then answers each. A task of its own,
    // so a client that hangs up cannot leave a push half done.
    let group_state = state.clone();
    tokio::spawn(async move {
        let _writer = group_state.push_group.writer.lock().await;
        let jobs = std::mem::take(&mut *group_state.push_group.queue());
        if !jobs.is_empty() {
            group::run_group(&group_state, jobs).await;
        }
    });
    answer
        .await
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("the push writer stopped")))?
}

/// The per-item result; a replay returns exactly this again.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct ItemResult {
    pub id: String,
    /// `accepted`, `rejected` or `conflict`.
    pub outcome: String,
    /// `applied` (a new version exists), `pending_review` (in the supervisor's queue)
    /// or `rejected`.
    pub status: String,
    pub findings: Vec<Finding>,
    /// The household version the change produced, when applied.
    pub version: Option<u32>,
    /// How the item fared under the device's rulebook and under the current one; absent
    /// when it was not validated (replayed id reused, hash mismatch, unknown household).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rulebooks: Option<RulebookChecks>,
}

/// The item validated under the rulebook the device used and under the current one
/// (the same version twice when the device is up to date).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct RulebookChecks {
    pub device: RulebookCheck,
    pub current: RulebookCheck,
}

#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct RulebookCheck {
    pub version: String,
    /// `valid`, `invalid`, or `unknown` (the server has no rulebook of this version).
    pub outcome: String,
    /// The errors under this rulebook (none when valid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Finding>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct PushResponse {
    pub results: Vec<ItemResult>,
    pub rulebook_version: String,
    pub server_time: String,
}

pub fn finding(
    rule: &str,
    severity: Severity,
    path: &str,
    id: &str,
    en: &str,
    vals: &[(&str, String)],
) -> Finding {
    let values = vals
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Finding::new(rule, severity, path, &Text::new(id, en), values)
}

/// A rejected item with its findings.
fn reject(item: &ChangeRequest, findings: Vec<Finding>) -> ItemResult {
    ItemResult {
        id: item.id.clone(),
        outcome: "rejected".into(),
        status: "rejected".into(),
        findings,
        version: None,
        rulebooks: None,
    }
}
